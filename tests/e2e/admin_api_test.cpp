// The admin REST API at /api/v1 over HTTPS (DESIGN §2, §3): API keys, sites, members and their
// grants, group role bindings and naming rules fed by real IdP group traffic (idp-compat.md
// §2.1 Okta group push, §2.2 Entra groups; R-42, R-43, R-44, R-55), roles sent on the User
// (§3.1, R-46), the last-owner rule through the API and through SCIM, the audit trail, and
// SCIM tokens made in the API.
//
// Accounts are SCIM Users; the owner's grant and the API keys of the set-up are written
// straight into the store (as fixture.hpp does for SCIM tokens), everything under test goes
// over HTTPS. Scopes on the wire are "org" and "site:<site id>"; site_roles are keyed by id.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "e2e/fixture.hpp"

#include "scimd/core/access.hpp"
#include "scimd/core/clock.hpp"
#include "scimd/store/repositories.hpp"
#include "scimd/util/crypto.hpp"

namespace scimd::test {
namespace {

namespace json = boost::json;
using Ids = std::vector<std::string>;
using Lines = std::vector<std::string>;

// The wire constants, spelled out rather than taken from the code under test.
inline constexpr const char* kApi = "/api/v1";
inline constexpr const char* kGroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group";
inline constexpr const char* kAccessSchema =
    "urn:scimd:params:scim:schemas:extension:access:2.0:User";
/// An id that names nothing in any organization.
inline constexpr const char* kUnknownId = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

/// A JSON number as int64 (the API writes some counts unsigned, totals signed).
std::int64_t num(const json::value& v) { return v.to_number<std::int64_t>(); }

/// A member of a JSON object as text: the string, "" when absent or null, else its JSON.
std::string text(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) {
        return {};
    }
    if (v->is_string()) {
        return std::string(v->get_string());
    }
    return json::serialize(*v);
}

Lines sorted(Lines v) {
    std::sort(v.begin(), v.end());
    return v;
}

/// "site:<id>", the scope of a site as the API writes it.
std::string site_scope(const std::string& site_id) { return "site:" + site_id; }

class Admin : public ServerFixture {
protected:
    /// An account (a SCIM User) and one API key of it.
    struct Account {
        std::string id;
        std::string key;     ///< the API key's secret
        std::string key_id;  ///< the API key's id
        /// Who the audit trail says acted with the key.
        std::string actor() const { return "api_key:" + key_id; }
    };

    void SetUp() override {
        ServerFixture::SetUp();
        if (!app_) {
            return;  // skipped (no PostgreSQL) or failed
        }
        // The organization's one owner, as `scimd org create --owner` would leave it.
        owner_ = make_account("owner@acme.example");
        ASSERT_FALSE(owner_.id.empty());
        put_grant(owner_.id, core::Role::kOwner);
    }

    // --- set-up through the store -------------------------------------------------------

    /// An API key of `user_id` written into the store; returns {id, secret}.
    std::pair<std::string, std::string> make_api_key(const std::string& user_id,
                                                     std::optional<std::string> expires = {}) {
        const std::string secret = "scimdk_" + util::base64url(util::random_bytes(32));
        core::ApiKey k;
        k.id = util::uuid_v4();
        k.org_id = org_id_;
        k.user_id = user_id;
        k.name = "test";
        k.hash = util::sha256_hex(secret);
        k.created = "2026-01-01T00:00:00.000Z";
        k.expires = std::move(expires);
        store::SqlApiKeyRepository(app_->database()).insert(k, core::Audit{});
        return {k.id, secret};
    }

    /// A SCIM User named `user_name` with an API key (no access yet).
    Account make_account(const std::string& user_name) {
        Account a;
        a.id = create_user(user_name);
        if (a.id.empty()) {
            return a;
        }
        auto [key_id, secret] = make_api_key(a.id);
        a.key_id = std::move(key_id);
        a.key = std::move(secret);
        return a;
    }

    /// A manual grant written into the store (set-up, not under test); site_id "" = org.
    void put_grant(const std::string& user_id,
                   core::Role role,
                   const std::string& site_id = "",
                   std::optional<std::string> expires = {}) {
        core::Grant g;
        g.id = util::uuid_v4();
        g.org_id = org_id_;
        g.user_id = user_id;
        g.site_id = site_id;
        g.role = role;
        g.source = core::GrantSource::kManual;
        g.expires = std::move(expires);
        g.created = "2026-01-01T00:00:00.000Z";
        g.created_by = "test";
        store::SqlAccessRepository(app_->database()).put_grant(g, core::Audit{});
    }

    // --- the admin API ------------------------------------------------------------------

    /// One admin API request with `key` as the bearer API key; `path` follows /api/v1.
    HttpResponse call(const std::string& key,
                      const std::string& method,
                      const std::string& path,
                      const std::string& body = "") {
        std::vector<std::pair<std::string, std::string>> headers{
            {"Authorization", "Bearer " + key}};
        if (!body.empty()) {
            headers.emplace_back("Content-Type", "application/json");
        }
        return client().request(method, std::string(kApi) + path, body, headers);
    }
    HttpResponse call(const std::string& key,
                      const std::string& method,
                      const std::string& path,
                      const json::object& body) {
        return call(key, method, path, json::serialize(body));
    }

    /// An admin API error: the status, a JSON body {"code", "message"} with the code, a
    /// message, and optionally a text the message must mention.
    static void expect_api_error(const HttpResponse& res,
                                 int status,
                                 const std::string& code,
                                 const std::string& mentions = "") {
        EXPECT_EQ(res.status, status) << res.body;
        EXPECT_EQ(res.header("content-type").rfind("application/json", 0), 0U)
            << "Content-Type: " << res.header("content-type");
        json::value v;
        try {
            v = res.json();
        } catch (const std::exception& e) {
            ADD_FAILURE() << "error body is not JSON: " << e.what() << ": " << res.body;
            return;
        }
        ASSERT_TRUE(v.is_object()) << res.body;
        const json::object& o = v.as_object();
        EXPECT_EQ(text(o, "code"), code) << res.body;
        const std::string message = text(o, "message");
        EXPECT_FALSE(message.empty()) << res.body;
        if (!mentions.empty()) {
            EXPECT_NE(message.find(mentions), std::string::npos)
                << "the message should mention " << mentions << ": " << res.body;
        }
    }

    /// 401 "unauthenticated" with a Bearer challenge.
    static void expect_unauthenticated(const HttpResponse& res) {
        expect_api_error(res, 401, "unauthenticated");
        EXPECT_EQ(res.header("www-authenticate").rfind("Bearer", 0), 0U)
            << "WWW-Authenticate: " << res.header("www-authenticate");
    }

    /// A grant went through: 200 or 201 with the member's JSON.
    static ::testing::AssertionResult granted(const HttpResponse& res) {
        if (res.status != 200 && res.status != 201) {
            return ::testing::AssertionFailure() << "status " << res.status << ": " << res.body;
        }
        return ::testing::AssertionSuccess();
    }

    /// POST /members/{uid}/grants as `by`.
    HttpResponse grant(const Account& by,
                       const std::string& uid,
                       const std::string& scope,
                       const std::string& role,
                       std::optional<std::string> expires_at = {}) {
        json::object body{{"scope", scope}, {"role", role}};
        if (expires_at) {
            body["expires_at"] = *expires_at;
        }
        return call(by.key, "POST", "/members/" + uid + "/grants", body);
    }

    /// Creates a site as the owner and returns its id.
    std::string make_site(const std::string& name) {
        auto res = call(owner_.key, "POST", "/sites",
                        json::object{{"name", name}, {"url", "https://" + name + ".example"}});
        EXPECT_EQ(res.status, 201) << res.body;
        if (res.status != 201) {
            return {};
        }
        return std::string(res.json().at("id").as_string());
    }

    /// The names of the organization's sites (read by the owner), sorted.
    Lines site_names() {
        auto res = call(owner_.key, "GET", "/sites");
        EXPECT_EQ(res.status, 200) << res.body;
        if (res.status != 200) {
            return {"<error>"};
        }
        Lines names;
        const json::value body = res.json();  // a range-for over a temporary's part dangles
        for (const json::value& s : body.at("sites").as_array()) {
            names.emplace_back(s.at("name").as_string());
        }
        return sorted(std::move(names));
    }

    /// GET /members/{uid} read by `who`.
    json::object member_as(const Account& who, const std::string& uid) {
        auto res = call(who.key, "GET", "/members/" + uid);
        EXPECT_EQ(res.status, 200) << res.body;
        if (res.status != 200) {
            return {};
        }
        return res.json().as_object();
    }
    /// GET /members/{uid} read by the owner.
    json::object member(const std::string& uid) { return member_as(owner_, uid); }

    /// A member's effective organization role; "" for none.
    static std::string org_role(const json::object& m) {
        const json::value* a = m.if_contains("access");
        if (a == nullptr || !a->is_object()) {
            return "<no access object>";
        }
        return text(a->get_object(), "org_role");
    }

    /// A member's site roles above what the organization role gives: site id → role.
    static std::map<std::string, std::string> site_roles(const json::object& m) {
        std::map<std::string, std::string> out;
        const json::value* a = m.if_contains("access");
        if (a == nullptr || !a->is_object()) {
            return out;
        }
        const json::value* s = a->get_object().if_contains("site_roles");
        if (s == nullptr || !s->is_object()) {
            return out;
        }
        for (const auto& kv : s->get_object()) {
            out[std::string(kv.key())] = text(s->get_object(), kv.key());
        }
        return out;
    }

    /// One grant as a line: "<scope> <role> <source>[ <group>]", "[ expires <t>]".
    static std::string grant_line(const json::object& g) {
        std::string line = text(g, "scope") + " " + text(g, "role") + " " + text(g, "source");
        if (!text(g, "group").empty()) {
            line += " " + text(g, "group");
        }
        if (!text(g, "expires_at").empty()) {
            line += " expires " + text(g, "expires_at");
        }
        return line;
    }

    /// A member's grants as lines, sorted.
    static Lines grants_of(const json::object& m) {
        Lines out;
        const json::value* g = m.if_contains("grants");
        if (g == nullptr || !g->is_array()) {
            return {"<no grants array>"};
        }
        for (const json::value& x : g->get_array()) {
            out.push_back(grant_line(x.as_object()));
        }
        return sorted(std::move(out));
    }

    /// A member's "why": "<scope> <role> <- <source>[ <group> (<binding>)]" for each grant
    /// behind each effective role, sorted.
    static Lines why_of(const json::object& m) {
        Lines out;
        const json::value* w = m.if_contains("why");
        if (w == nullptr || !w->is_array()) {
            return {"<no why array>"};
        }
        for (const json::value& entry : w->get_array()) {
            const json::object& e = entry.as_object();
            for (const json::value& b : e.at("because").as_array()) {
                const json::object& g = b.as_object();
                std::string line =
                    text(e, "scope") + " " + text(e, "role") + " <- " + text(g, "source");
                if (!text(g, "group").empty()) {
                    line += " " + text(g, "group") + " (" + text(g, "binding") + ")";
                }
                out.push_back(std::move(line));
            }
        }
        return sorted(std::move(out));
    }

    /// No effective access at all.
    static ::testing::AssertionResult no_access(const json::object& m) {
        if (!org_role(m).empty() || !site_roles(m).empty()) {
            return ::testing::AssertionFailure() << "has access: " << json::serialize(m);
        }
        return ::testing::AssertionSuccess();
    }

    /// A group's bindings as "<scope> <role> <origin>", sorted, from {"roles": [...]}.
    static Lines bindings_in(const json::object& body) {
        Lines out;
        for (const json::value& r : body.at("roles").as_array()) {
            const json::object& o = r.as_object();
            out.push_back(text(o, "scope") + " " + text(o, "role") + " " + text(o, "origin"));
        }
        return sorted(std::move(out));
    }

    /// GET /groups/{gid}/roles read by the owner, as bindings_in lines.
    Lines bindings_of(const std::string& gid) {
        auto res = call(owner_.key, "GET", "/groups/" + gid + "/roles");
        EXPECT_EQ(res.status, 200) << res.body;
        if (res.status != 200) {
            return {"<error>"};
        }
        return bindings_in(res.json().as_object());
    }

    /// PUT /groups/{gid}/roles with [{"scope", "role"}, …] as `by`.
    HttpResponse bind(const Account& by,
                      const std::string& gid,
                      const std::vector<std::pair<std::string, std::string>>& roles) {
        json::array list;
        for (const auto& [scope, role] : roles) {
            list.emplace_back(json::object{{"scope", scope}, {"role", role}});
        }
        return call(by.key, "PUT", "/groups/" + gid + "/roles",
                    json::object{{"roles", std::move(list)}});
    }

    /// GET /members<query> as `who`: the ids listed, sorted; "total" must be their number.
    Ids listed(const Account& who, const std::string& query = "") {
        auto res = call(who.key, "GET", "/members" + query);
        EXPECT_EQ(res.status, 200) << query << ": " << res.body;
        if (res.status != 200) {
            return {"<error>"};
        }
        const json::object o = res.json().as_object();
        Ids ids;
        for (const json::value& m : o.at("members").as_array()) {
            ids.emplace_back(m.at("id").as_string());
        }
        EXPECT_EQ(num(o.at("total")), static_cast<std::int64_t>(ids.size())) << query;
        EXPECT_EQ(num(o.at("count")), static_cast<std::int64_t>(ids.size())) << query;
        return sorted(std::move(ids));
    }

    /// One page of GET /audit read by the owner.
    struct AuditPage {
        std::int64_t total = -1;
        std::int64_t start = -1;
        std::vector<json::object> events;
    };
    AuditPage audit(const std::string& query) {
        AuditPage p;
        auto res = call(owner_.key, "GET", "/audit" + query);
        EXPECT_EQ(res.status, 200) << query << ": " << res.body;
        if (res.status != 200) {
            return p;
        }
        const json::object o = res.json().as_object();
        p.total = num(o.at("total"));
        p.start = num(o.at("start"));
        for (const json::value& e : o.at("events").as_array()) {
            p.events.push_back(e.as_object());
        }
        EXPECT_EQ(num(o.at("count")), static_cast<std::int64_t>(p.events.size())) << query;
        return p;
    }
    static Lines actions(const AuditPage& p) {
        Lines out;
        for (const auto& e : p.events) {
            out.push_back(text(e, "action"));
        }
        return out;
    }

    // --- SCIM, as the IdP ---------------------------------------------------------------

    /// Okta's deactivate / reactivate: a path-less replace (idp-compat.md §2.1).
    HttpResponse set_active(const std::string& uid, bool active) {
        return client().patch(
            "/scim/v2/Users/" + uid,
            patch_body(json::array{
                json::object{{"op", "replace"}, {"value", json::object{{"active", active}}}}}));
    }

    /// Whether the SCIM User is active (read over SCIM).
    bool scim_active(const std::string& uid) {
        auto res = client().get("/scim/v2/Users/" + uid);
        EXPECT_EQ(res.status, 200) << res.body;
        return res.status == 200 && res.json().at("active") == json::value(true);
    }

    HttpResponse patch_user(const std::string& uid, json::array ops) {
        return client().patch("/scim/v2/Users/" + uid, patch_body(std::move(ops)));
    }

    /// Creates a SCIM group with members (Users or Groups) and returns its id.
    std::string create_group(const std::string& name, const Ids& members = {}) {
        json::array refs;
        for (const std::string& id : members) {
            refs.emplace_back(json::object{{"value", id}});
        }
        auto res = client().post(
            "/scim/v2/Groups", json::serialize(json::object{{"schemas", json::array{kGroupSchema}},
                                                            {"displayName", name},
                                                            {"members", std::move(refs)}}));
        EXPECT_EQ(res.status, 201) << res.body;
        if (res.status != 201) {
            return {};
        }
        return std::string(res.json().at("id").as_string());
    }

    HttpResponse patch_group(const std::string& gid, json::array ops) {
        return client().patch("/scim/v2/Groups/" + gid, patch_body(std::move(ops)));
    }

    /// The member ids of a group, sorted (read over SCIM).
    Ids members_of(const std::string& gid) {
        auto res = client().get("/scim/v2/Groups/" + gid);
        EXPECT_EQ(res.status, 200) << res.body;
        Ids ids;
        if (res.status != 200) {
            return {"<error>"};
        }
        const json::object g = res.json().as_object();
        if (const json::value* m = g.if_contains("members"); m && m->is_array()) {
            for (const json::value& x : m->as_array()) {
                ids.emplace_back(x.at("value").as_string());
            }
        }
        return sorted(std::move(ids));
    }

    /// A user with `userName` and extra attributes, created over SCIM.
    std::string create_scim_user(const std::string& user_name, json::object extra = {}) {
        extra["schemas"] = json::array{kUserSchema, kAccessSchema};
        extra["userName"] = user_name;
        return create_user(extra);
    }

    Account owner_;
};

// 1. API keys: none, not a bearer, never issued, a SCIM token, expired, revoked in the API,
//    and the key of a deactivated or deleted account → 401 "unauthenticated".
TEST_P(Admin, ApiKeysAuthenticateActiveAccountsOnly) {
    auto me = call(owner_.key, "GET", "/me");
    ASSERT_EQ(me.status, 200) << me.body;
    EXPECT_EQ(me.header("content-type").rfind("application/json", 0), 0U);
    const json::object who = me.json().as_object();
    EXPECT_EQ(text(who, "organization"), org_id_);
    EXPECT_EQ(text(who, "account"), owner_.id);
    EXPECT_EQ(text(who, "userName"), "owner@acme.example");
    EXPECT_EQ(org_role(who), "owner");

    auto anonymous = make_client("");
    expect_unauthenticated(anonymous->request("GET", "/api/v1/me"));
    expect_unauthenticated(anonymous->request("GET", "/api/v1/members"));
    expect_unauthenticated(
        client().request("GET", "/api/v1/me", "", {{"Authorization", "Basic dXNlcjpwYXNz"}}));
    expect_unauthenticated(call("scimdk_this-key-was-never-issued", "GET", "/me"));
    // A SCIM token is for the IdP, not an API key.
    expect_unauthenticated(call(token_, "GET", "/me"));
    // Expired.
    const std::string expired = make_api_key(owner_.id, "2020-01-01T00:00:00.000Z").second;
    expect_unauthenticated(call(expired, "GET", "/me"));

    // A key made in the API works until it is revoked in the API.
    auto made = call(owner_.key, "POST", "/api-keys", json::object{{"name", "ci"}});
    ASSERT_EQ(made.status, 201) << made.body;
    const json::object key = made.json().as_object();
    const std::string secret = text(key, "secret");
    const std::string key_id = text(key, "id");
    EXPECT_EQ(secret.rfind("scimdk_", 0), 0U) << secret;
    EXPECT_EQ(text(key, "name"), "ci");
    auto with_new = call(secret, "GET", "/me");
    ASSERT_EQ(with_new.status, 200) << with_new.body;
    EXPECT_EQ(text(with_new.json().as_object(), "account"), owner_.id);
    auto keys = call(owner_.key, "GET", "/api-keys");
    ASSERT_EQ(keys.status, 200) << keys.body;
    EXPECT_EQ(keys.body.find(secret), std::string::npos) << "a secret is shown once";
    bool listed_key = false;
    const json::value key_list = keys.json();
    for (const json::value& k : key_list.at("api_keys").as_array()) {
        if (text(k.as_object(), "id") == key_id) {
            listed_key = true;
            EXPECT_EQ(text(k.as_object(), "account"), owner_.id);
            EXPECT_EQ(text(k.as_object(), "revoked"), "");
        }
    }
    EXPECT_TRUE(listed_key) << keys.body;
    EXPECT_EQ(call(owner_.key, "DELETE", "/api-keys/" + key_id).status, 204);
    expect_unauthenticated(call(secret, "GET", "/me"));
    expect_api_error(call(owner_.key, "DELETE", "/api-keys/" + key_id), 404, "not_found");
    EXPECT_EQ(call(owner_.key, "GET", "/me").status, 200);

    // The key of an account the IdP deactivates stops working at once (R-51); once the
    // account is deleted its keys are gone.
    const Account plain = make_account("plain@acme.example");
    put_grant(plain.id, core::Role::kUser);
    ASSERT_EQ(call(plain.key, "GET", "/me").status, 200);
    ASSERT_EQ(set_active(plain.id, false).status, 200);
    expect_unauthenticated(call(plain.key, "GET", "/me"));
    expect_unauthenticated(call(plain.key, "GET", "/sites"));
    ASSERT_EQ(client().del("/scim/v2/Users/" + plain.id).status, 204);
    expect_unauthenticated(call(plain.key, "GET", "/me"));
}

// 2. Sites: create, list, rename, delete by an owner; names unique case-insensitively. A plain
//    user's key is refused with 403 "forbidden", and each refusal is an access.refused event.
TEST_P(Admin, SitesAreManagedByOwnersAndRefusalsAreAudited) {
    auto created = call(owner_.key, "POST", "/sites",
                        json::object{{"name", "shop"}, {"url", "https://shop.example"}});
    ASSERT_EQ(created.status, 201) << created.body;
    const json::object site = created.json().as_object();
    const std::string id = text(site, "id");
    ASSERT_FALSE(id.empty());
    EXPECT_EQ(text(site, "name"), "shop");
    EXPECT_EQ(text(site, "url"), "https://shop.example");
    EXPECT_FALSE(text(site, "created").empty());
    EXPECT_EQ(site_names(), Lines{"shop"});

    expect_api_error(call(owner_.key, "POST", "/sites", json::object{{"name", "SHOP"}}), 409,
                     "already_exists");
    expect_api_error(call(owner_.key, "POST", "/sites", json::object{{"name", "a:b"}}), 400,
                     "invalid_value");
    expect_api_error(call(owner_.key, "POST", "/sites", json::object{}), 400, "missing_field",
                     "name");
    EXPECT_EQ(site_names(), Lines{"shop"});

    auto renamed = call(owner_.key, "PATCH", "/sites/" + id, json::object{{"name", "store"}});
    ASSERT_EQ(renamed.status, 200) << renamed.body;
    EXPECT_EQ(text(renamed.json().as_object(), "id"), id);
    EXPECT_EQ(text(renamed.json().as_object(), "name"), "store");
    EXPECT_EQ(site_names(), Lines{"store"});
    expect_api_error(
        call(owner_.key, "PATCH", std::string("/sites/") + kUnknownId, json::object{{"name", "x"}}),
        404, "not_found");

    // A plain user (organization role user) manages no sites.
    const Account plain = make_account("plain@acme.example");
    put_grant(plain.id, core::Role::kUser);
    expect_api_error(call(plain.key, "POST", "/sites", json::object{{"name", "blog"}}), 403,
                     "forbidden");
    expect_api_error(call(plain.key, "PATCH", "/sites/" + id, json::object{{"name", "mine"}}), 403,
                     "forbidden");
    expect_api_error(call(plain.key, "DELETE", "/sites/" + id), 403, "forbidden");
    EXPECT_EQ(site_names(), Lines{"store"});

    const AuditPage refused = audit("?action=access.refused");
    EXPECT_EQ(refused.total, 3);
    Lines targets;
    for (const auto& e : refused.events) {
        EXPECT_EQ(text(e, "actor"), plain.actor());
        EXPECT_EQ(text(e, "target_type"), "request");
        const json::value* after = e.if_contains("after");
        ASSERT_TRUE(after != nullptr && after->is_object()) << json::serialize(e);
        EXPECT_FALSE(text(after->as_object(), "reason").empty()) << json::serialize(e);
        targets.push_back(text(e, "target"));
    }
    EXPECT_EQ(targets, (Lines{"POST /api/v1/sites", "PATCH /api/v1/sites/" + id,
                              "DELETE /api/v1/sites/" + id}));

    EXPECT_EQ(call(owner_.key, "DELETE", "/sites/" + id).status, 204);
    EXPECT_TRUE(site_names().empty());
    expect_api_error(call(owner_.key, "DELETE", "/sites/" + id), 404, "not_found");

    // The owner's changes, and only those, under the owner's key.
    EXPECT_EQ(actions(audit("?actor=" + url_encode(owner_.actor()))),
              (Lines{"site.created", "site.renamed", "site.deleted"}));
}

// 3. Okta group push (idp-compat.md §2.1 steps 2-5) into a group an admin bound to "org user"
//    and "site shop admin": each member gets the group's roles, with "why" naming the group;
//    deactivation suspends them (R-55); removal by filter takes them away at once (R-43).
TEST_P(Admin, OktaGroupPushGivesTheBoundRoles_R43_R44_R55) {
    const std::string shop = make_site("shop");
    ASSERT_FALSE(shop.empty());
    const std::string ana = create_user(json::object{{"schemas", json::array{kUserSchema}},
                                                     {"userName", "ana.li@corp.example"},
                                                     {"externalId", "00u1204"}});
    const std::string bo = create_user(json::object{{"schemas", json::array{kUserSchema}},
                                                    {"userName", "bo.k@corp.example"},
                                                    {"externalId", "00u1209"}});
    const std::string cy = create_user(json::object{{"schemas", json::array{kUserSchema}},
                                                    {"userName", "cy.ng@corp.example"},
                                                    {"externalId", "00u7781"}});
    ASSERT_FALSE(ana.empty() || bo.empty() || cy.empty());
    const auto ref = [](const std::string& id, const char* display) {
        return json::object{{"value", id}, {"display", display}};
    };

    // 2. Create, with members [].
    auto created = client().post(
        "/scim/v2/Groups",
        R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Finance","members":[]})");
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string gid(created.json().at("id").as_string());

    // The admin binds the group (the site named, as an admin would type it).
    auto bound = bind(owner_, gid, {{"org", "user"}, {"site:shop", "admin"}});
    ASSERT_EQ(bound.status, 200) << bound.body;
    EXPECT_EQ(bindings_in(bound.json().as_object()),
              sorted({"org user manual", site_scope(shop) + " admin manual"}));
    EXPECT_EQ(bindings_of(gid), sorted({"org user manual", site_scope(shop) + " admin manual"}));
    const Lines group_grants =
        sorted({"org user scim_group " + gid, site_scope(shop) + " admin scim_group " + gid});
    const std::map<std::string, std::string> shop_admin{{shop, "admin"}};
    EXPECT_TRUE(no_access(member(cy)));

    // 3. Membership delta: cy joins; then one request removes cy by filter and adds ana.
    ASSERT_EQ(patch_group(gid, json::array{json::object{
                                   {"op", "add"},
                                   {"path", "members"},
                                   {"value", json::array{ref(cy, "cy.ng@corp.example")}}}})
                  .status,
              204);
    {
        const json::object m = member(cy);
        EXPECT_EQ(org_role(m), "user");
        EXPECT_EQ(site_roles(m), shop_admin);
        EXPECT_EQ(grants_of(m), group_grants);
    }
    ASSERT_EQ(
        patch_group(
            gid, json::array{json::object{{"op", "remove"},
                                          {"path", "members[value eq \"" + cy + "\"]"}},
                             json::object{{"op", "add"},
                                          {"path", "members"},
                                          {"value", json::array{ref(ana, "ana.li@corp.example")}}}})
            .status,
        204);
    {
        const json::object m = member(cy);
        EXPECT_TRUE(no_access(m));
        EXPECT_EQ(grants_of(m), Lines{});
    }
    EXPECT_EQ(org_role(member(ana)), "user");

    // 4. "Push now": the full membership (R-44).
    ASSERT_EQ(patch_group(gid, json::array{json::object{
                                   {"op", "replace"},
                                   {"path", "members"},
                                   {"value", json::array{ref(ana, "ana.li@corp.example"),
                                                         ref(bo, "bo.k@corp.example")}}}})
                  .status,
              204);
    EXPECT_EQ(members_of(gid), sorted({ana, bo}));
    EXPECT_EQ(grants_of(member(bo)), group_grants);

    // 5. Rename, path-less with the id inside, sent twice: the bindings follow the group id.
    const json::array okta_rename{json::object{
        {"op", "replace"}, {"value", json::object{{"id", gid}, {"displayName", "Finance EMEA"}}}}};
    ASSERT_EQ(patch_group(gid, okta_rename).status, 204);
    ASSERT_EQ(patch_group(gid, okta_rename).status, 204);
    EXPECT_EQ(bindings_of(gid), sorted({"org user manual", site_scope(shop) + " admin manual"}));
    {
        const json::object m = member(ana);
        EXPECT_EQ(org_role(m), "user");
        EXPECT_EQ(site_roles(m), shop_admin);
        EXPECT_EQ(grants_of(m), group_grants);
        EXPECT_EQ(why_of(m),
                  sorted({"org user <- scim_group " + gid + " (manual)",
                          site_scope(shop) + " admin <- scim_group " + gid + " (manual)"}));
        for (const json::value& g : m.at("grants").as_array()) {
            EXPECT_EQ(text(g.as_object(), "binding"), "manual") << json::serialize(g);
        }
    }

    // R-55: Okta deactivates bo and leaves the membership: no access while inactive, back on
    // reactivation.
    ASSERT_EQ(set_active(bo, false).status, 200);
    EXPECT_EQ(members_of(gid), sorted({ana, bo}));
    {
        const json::object m = member(bo);
        EXPECT_TRUE(no_access(m));
        EXPECT_EQ(why_of(m), Lines{});
    }
    ASSERT_EQ(set_active(bo, true).status, 200);
    EXPECT_EQ(org_role(member(bo)), "user");
    EXPECT_EQ(site_roles(member(bo)), shop_admin);

    // Unassigning ana removes her from the group, and her access, at once.
    ASSERT_EQ(
        patch_group(gid, json::array{json::object{{"op", "remove"},
                                                  {"path", "members[value eq \"" + ana + "\"]"}}})
            .status,
        204);
    {
        const json::object m = member(ana);
        EXPECT_TRUE(no_access(m));
        EXPECT_EQ(grants_of(m), Lines{});
    }
    EXPECT_EQ(org_role(member(bo)), "user");
    EXPECT_EQ(listed(owner_, "?source=scim_group"), Ids{bo});
}

// 4. Entra group sync (idp-compat.md §2.2): a bound group created empty, Add members, Remove
//    with a value array (R-42: only that member loses access), rename; a naming rule made in
//    the API binds by name and follows renames; nested groups pass roles on; a site created
//    later is what a rule was waiting for.
TEST_P(Admin, EntraGroupSyncNamingRulesAndNestedGroups_R42) {
    const std::string shop = make_site("shop");
    ASSERT_FALSE(shop.empty());
    const std::string u1 = create_scim_user("ana.li@contoso.example");
    const std::string u2 = create_scim_user("bo.kim@contoso.example");
    const std::string u3 = create_scim_user("cy.ng@contoso.example");
    const std::string u4 = create_scim_user("di.oz@contoso.example");
    const std::string u5 = create_scim_user("ed.po@contoso.example");
    ASSERT_FALSE(u1.empty() || u2.empty() || u3.empty() || u4.empty() || u5.empty());

    // Created empty, with Entra's AD schema URN and meta.
    auto created = client().post("/scim/v2/Groups", R"({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
                    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
        "externalId": "5b1e9a3c-8f2d-4e7a-b0c4-11aa22bb33cc",
        "displayName": "Finance",
        "meta": {"resourceType": "Group"}})");
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string gid(created.json().at("id").as_string());
    ASSERT_EQ(bind(owner_, gid, {{"org", "viewer"}}).status, 200);

    // Add members, "$ref": null.
    json::array added;
    for (const std::string& u : {u1, u2}) {
        added.emplace_back(json::object{{"$ref", nullptr}, {"value", u}});
    }
    ASSERT_EQ(patch_group(gid, json::array{json::object{
                                   {"op", "Add"}, {"path", "members"}, {"value", added}}})
                  .status,
              204);
    EXPECT_EQ(org_role(member(u1)), "viewer");
    EXPECT_EQ(org_role(member(u2)), "viewer");

    // Remove members, default dialect: a value array; only u2 loses access (R-42).
    ASSERT_EQ(patch_group(gid, json::array{json::object{
                                   {"op", "Remove"},
                                   {"path", "members"},
                                   {"value", json::array{json::object{{"value", u2}}}}}})
                  .status,
              204);
    EXPECT_TRUE(no_access(member(u2)));
    EXPECT_EQ(org_role(member(u1)), "viewer");

    // Rename: the manual binding is keyed by the group id and stays.
    ASSERT_EQ(patch_group(gid, json::array{json::object{{"op", "Replace"},
                                                        {"path", "displayName"},
                                                        {"value", "Finance & Treasury"}}})
                  .status,
              204);
    EXPECT_EQ(bindings_of(gid), Lines{"org viewer manual"});
    EXPECT_EQ(grants_of(member(u1)), Lines{"org viewer scim_group " + gid});

    // A naming rule: site-<site>-<role>.
    auto rule = call(
        owner_.key, "POST", "/naming-rules",
        json::object{
            {"pattern", "^site-([^-]+)-(admin|user|viewer)$"}, {"role", "$2"}, {"site", "$1"}});
    ASSERT_EQ(rule.status, 201) << rule.body;
    const std::string rule_id = text(rule.json().as_object(), "id");
    ASSERT_FALSE(rule_id.empty());
    auto rules = call(owner_.key, "GET", "/naming-rules");
    ASSERT_EQ(rules.status, 200) << rules.body;
    ASSERT_EQ(rules.json().at("rules").as_array().size(), 1U) << rules.body;
    EXPECT_EQ(text(rules.json().at("rules").at(0).as_object(), "pattern"),
              "^site-([^-]+)-(admin|user|viewer)$");
    // The rule matches nothing yet; the manual binding is untouched.
    EXPECT_EQ(bindings_of(gid), Lines{"org viewer manual"});

    // Entra creates "site-shop-viewer" and adds u3: the rule binds it to shop, viewer.
    auto g2_created = client().post("/scim/v2/Groups", R"({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "externalId": "0c7d1e55-3a61-4d0e-8f2b-7e9a1b2c3d4e",
        "displayName": "site-shop-viewer"})");
    ASSERT_EQ(g2_created.status, 201) << g2_created.body;
    const std::string g2(g2_created.json().at("id").as_string());
    EXPECT_EQ(bindings_of(g2), Lines{site_scope(shop) + " viewer rule:" + rule_id});
    ASSERT_EQ(patch_group(g2, json::array{json::object{
                                  {"op", "Add"},
                                  {"path", "members"},
                                  {"value", json::array{json::object{{"value", u3}}}}}})
                  .status,
              204);
    {
        const json::object m = member(u3);
        EXPECT_EQ(org_role(m), "");
        EXPECT_EQ(site_roles(m), (std::map<std::string, std::string>{{shop, "viewer"}}));
        EXPECT_EQ(why_of(m), Lines{site_scope(shop) + " viewer <- scim_group " + g2 +
                                   " (rule:" + rule_id + ")"});
    }

    // Renamed by Entra to site-shop-admin: the member becomes shop admin.
    ASSERT_EQ(patch_group(g2, json::array{json::object{{"op", "Replace"},
                                                       {"path", "displayName"},
                                                       {"value", "site-shop-admin"}}})
                  .status,
              204);
    EXPECT_EQ(bindings_of(g2), Lines{site_scope(shop) + " admin rule:" + rule_id});
    EXPECT_EQ(site_roles(member(u3)), (std::map<std::string, std::string>{{shop, "admin"}}));
    // Renamed to a name no rule matches: the rule's binding goes.
    ASSERT_EQ(patch_group(g2, json::array{json::object{
                                  {"op", "Replace"}, {"path", "displayName"}, {"value", "Shop"}}})
                  .status,
              204);
    EXPECT_EQ(bindings_of(g2), Lines{});
    EXPECT_TRUE(no_access(member(u3)));

    // A group named for a site that does not exist yet binds nothing until the site exists.
    const std::string g3 = create_group("site-blog-user", {u5});
    ASSERT_FALSE(g3.empty());
    EXPECT_TRUE(no_access(member(u5)));
    const std::string blog = make_site("blog");
    ASSERT_FALSE(blog.empty());
    EXPECT_EQ(bindings_of(g3), Lines{site_scope(blog) + " user rule:" + rule_id});
    EXPECT_EQ(site_roles(member(u5)), (std::map<std::string, std::string>{{blog, "user"}}));

    // Nested groups: u4 in A, A in B, B bound to org user → u4 is an org user through B.
    const std::string a = create_group("Analysts", {u4});
    ASSERT_FALSE(a.empty());
    const std::string b = create_group("Analytics", {a});
    ASSERT_FALSE(b.empty());
    ASSERT_EQ(bind(owner_, b, {{"org", "user"}}).status, 200);
    {
        const json::object m = member(u4);
        EXPECT_EQ(org_role(m), "user");
        EXPECT_EQ(grants_of(m), Lines{"org user scim_group " + b});
        EXPECT_EQ(why_of(m), Lines{"org user <- scim_group " + b + " (manual)"});
    }
    // A leaves B: u4's access goes with it.
    ASSERT_EQ(patch_group(
                  b, json::array{json::object{{"op", "Remove"},
                                              {"path", "members"},
                                              {"value", json::array{json::object{{"value", a}}}}}})
                  .status,
              204);
    EXPECT_TRUE(no_access(member(u4)));
    EXPECT_EQ(members_of(a), Ids{u4});
}

// 5. DESIGN §2 rule 2 through the API: an org admin neither makes nor touches an owner; an
//    owner makes owners; a site admin manages site access on their own site only; nobody
//    grants above their own level.
TEST_P(Admin, NobodyGrantsAboveTheirOwnLevel) {
    const std::string shop = make_site("shop");
    const std::string blog = make_site("blog");
    ASSERT_FALSE(shop.empty() || blog.empty());
    const Account admin = make_account("admin@acme.example");
    put_grant(admin.id, core::Role::kAdmin);
    const Account site_admin = make_account("shop.admin@acme.example");
    put_grant(site_admin.id, core::Role::kAdmin, shop);
    const Account org_user = make_account("user@acme.example");
    put_grant(org_user.id, core::Role::kUser);
    const std::string x = create_scim_user("x@acme.example");
    const std::string y = create_scim_user("y@acme.example");
    ASSERT_FALSE(x.empty() || y.empty());

    // The org admin cannot make an owner, nor change or remove the owner.
    expect_api_error(grant(admin, x, "org", "owner"), 403, "forbidden");
    EXPECT_EQ(grants_of(member(x)), Lines{});
    expect_api_error(grant(admin, owner_.id, "org", "viewer"), 403, "forbidden");
    expect_api_error(grant(admin, owner_.id, "site:shop", "viewer"), 403, "forbidden");
    expect_api_error(call(admin.key, "DELETE", "/members/" + owner_.id + "/grants?scope=org"), 403,
                     "forbidden");
    expect_api_error(call(admin.key, "DELETE", "/members/" + owner_.id), 403, "forbidden");
    EXPECT_EQ(grants_of(member(owner_.id)), Lines{"org owner manual"});
    // …but manages everyone else, up to its own level.
    ASSERT_TRUE(granted(grant(admin, x, "org", "admin")));
    ASSERT_TRUE(granted(grant(admin, y, "site:blog", "admin")));
    EXPECT_EQ(org_role(member(x)), "admin");
    EXPECT_EQ(site_roles(member(y)), (std::map<std::string, std::string>{{blog, "admin"}}));
    // A group binding never grants owner, whoever asks; site admins bind nothing.
    const std::string gid = create_group("Everyone", {y});
    ASSERT_FALSE(gid.empty());
    expect_api_error(bind(admin, gid, {{"org", "owner"}}), 400, "invalid_value");
    expect_api_error(bind(owner_, gid, {{"org", "owner"}}), 400, "invalid_value");
    expect_api_error(bind(site_admin, gid, {{"site:shop", "viewer"}}), 403, "forbidden");
    EXPECT_EQ(bindings_of(gid), Lines{});

    // An owner makes another owner.
    ASSERT_TRUE(granted(grant(owner_, admin.id, "org", "owner")));
    EXPECT_EQ(org_role(member(admin.id)), "owner");
    EXPECT_EQ(grants_of(member(admin.id)), Lines{"org owner manual"});

    // The site admin of shop: site roles on shop, up to admin.
    ASSERT_TRUE(granted(grant(site_admin, y, "site:shop", "user")));
    EXPECT_EQ(site_roles(member(y)),
              (std::map<std::string, std::string>{{shop, "user"}, {blog, "admin"}}));
    ASSERT_TRUE(granted(grant(site_admin, y, "site:" + shop, "admin")));
    EXPECT_EQ(site_roles(member(y)),
              (std::map<std::string, std::string>{{shop, "admin"}, {blog, "admin"}}));
    // …not on another site, not at the organization, not for an owner, and never owner.
    expect_api_error(grant(site_admin, x, "site:blog", "viewer"), 403, "forbidden");
    expect_api_error(grant(site_admin, y, "org", "viewer"), 403, "forbidden");
    expect_api_error(grant(site_admin, owner_.id, "site:shop", "user"), 403, "forbidden");
    expect_api_error(grant(site_admin, y, "site:shop", "owner"), 400, "invalid_value");
    expect_api_error(call(site_admin.key, "DELETE", "/members/" + y + "/sites/blog"), 403,
                     "forbidden");
    expect_api_error(call(site_admin.key, "DELETE", "/members/" + y), 403, "forbidden");
    EXPECT_EQ(grants_of(member(y)),
              sorted({site_scope(shop) + " admin manual", site_scope(blog) + " admin manual"}));
    // It removes access on its own site.
    EXPECT_EQ(call(site_admin.key, "DELETE", "/members/" + y + "/sites/shop").status, 204);
    EXPECT_EQ(grants_of(member(y)), Lines{site_scope(blog) + " admin manual"});

    // An organization user grants nothing, not even below its own level.
    expect_api_error(grant(org_user, y, "org", "viewer"), 403, "forbidden");
    expect_api_error(grant(org_user, y, "site:shop", "viewer"), 403, "forbidden");
    EXPECT_EQ(grants_of(member(y)), Lines{site_scope(blog) + " admin manual"});
}

// 6. DESIGN §2 rule 3 (R-73): the last active owner is not revoked, downgraded, removed,
//    deactivated or deleted, by the API or by SCIM, and nothing changes; with a second owner,
//    the first can be deactivated, and the second is then the last.
TEST_P(Admin, LastActiveOwnerStaysThroughApiAndScim_R73) {
    expect_api_error(call(owner_.key, "DELETE", "/members/" + owner_.id + "/grants?scope=org"), 409,
                     "conflict");
    expect_api_error(grant(owner_, owner_.id, "org", "admin"), 409, "conflict");
    expect_api_error(call(owner_.key, "DELETE", "/members/" + owner_.id), 409, "conflict");
    EXPECT_EQ(grants_of(member(owner_.id)), Lines{"org owner manual"});

    // SCIM deactivation in each IdP's form: Okta OIN (path-less), Entra ("False"), Okta AIW
    // (PUT); then SCIM DELETE.
    expect_scim_error(set_active(owner_.id, false), 409);
    expect_scim_error(
        patch_user(owner_.id, json::array{json::object{
                                  {"op", "Replace"}, {"path", "active"}, {"value", "False"}}}),
        409);
    expect_scim_error(
        client().put("/scim/v2/Users/" + owner_.id,
                     json::serialize(json::object{{"schemas", json::array{kUserSchema}},
                                                  {"userName", "owner@acme.example"},
                                                  {"active", false}})),
        409);
    expect_scim_error(client().del("/scim/v2/Users/" + owner_.id), 409);
    EXPECT_TRUE(scim_active(owner_.id));
    auto me = call(owner_.key, "GET", "/me");
    ASSERT_EQ(me.status, 200) << me.body;
    EXPECT_EQ(org_role(me.json().as_object()), "owner");

    // A second owner; then the first can be deactivated.
    const Account second = make_account("second@acme.example");
    ASSERT_FALSE(second.id.empty());
    ASSERT_TRUE(granted(grant(owner_, second.id, "org", "owner")));
    auto off = set_active(owner_.id, false);
    ASSERT_EQ(off.status, 200) << off.body;
    EXPECT_EQ(off.json().at("active"), json::value(false));
    expect_unauthenticated(call(owner_.key, "GET", "/me"));
    // The deactivated owner keeps its grant for reactivation (DESIGN §2 rule 5).
    {
        const json::object m = member_as(second, owner_.id);
        EXPECT_EQ(grants_of(m), Lines{"org owner manual"});
        EXPECT_TRUE(no_access(m));
    }

    // The second owner is now the last active one.
    expect_scim_error(set_active(second.id, false), 409);
    expect_scim_error(client().del("/scim/v2/Users/" + second.id), 409);
    expect_api_error(call(second.key, "DELETE", "/members/" + second.id), 409, "conflict");
    expect_api_error(call(second.key, "DELETE", "/members/" + second.id + "/grants?scope=org"), 409,
                     "conflict");
    EXPECT_TRUE(scim_active(second.id));

    // Reactivated, the first counts again, and the second may step down.
    ASSERT_EQ(set_active(owner_.id, true).status, 200);
    EXPECT_EQ(org_role(member(owner_.id)), "owner");
    EXPECT_EQ(call(second.key, "DELETE", "/members/" + second.id + "/grants?scope=org").status,
              204);
    EXPECT_EQ(org_role(member(second.id)), "");
}

// 7. Temporary access: expires_at in the future is kept (normalized to UTC milliseconds) and
//    listed; in the past or not a time → 400; an expired grant counts for nothing.
TEST_P(Admin, TemporaryGrantsCarryTheirExpiry) {
    const std::string shop = make_site("shop");
    ASSERT_FALSE(shop.empty());
    const std::string x = create_scim_user("x@acme.example");
    const std::string y = create_scim_user("y@acme.example");
    ASSERT_FALSE(x.empty() || y.empty());

    auto res = grant(owner_, x, "org", "viewer", "2099-01-31T00:00:00Z");
    ASSERT_TRUE(granted(res));
    EXPECT_EQ(grants_of(res.json().as_object()),
              Lines{"org viewer manual expires 2099-01-31T00:00:00.000Z"});
    ASSERT_TRUE(granted(grant(owner_, x, "site:shop", "admin", "2099-06-30T02:00:00+02:00")));
    {
        const json::object m = member(x);
        EXPECT_EQ(grants_of(m),
                  sorted({"org viewer manual expires 2099-01-31T00:00:00.000Z",
                          site_scope(shop) + " admin manual expires 2099-06-30T00:00:00.000Z"}));
        for (const json::value& g : m.at("grants").as_array()) {
            EXPECT_EQ(g.at("expired"), json::value(false)) << json::serialize(g);
        }
        EXPECT_EQ(org_role(m), "viewer");
        EXPECT_EQ(site_roles(m), (std::map<std::string, std::string>{{shop, "admin"}}));
    }

    // In the past, or not a time: refused, nothing changes.
    expect_api_error(grant(owner_, x, "org", "user", "2020-01-01T00:00:00Z"), 400, "invalid_value");
    expect_api_error(grant(owner_, y, "org", "user", "2020-01-01T00:00:00Z"), 400, "invalid_value");
    expect_api_error(grant(owner_, y, "org", "user", "next tuesday"), 400, "invalid_value");
    EXPECT_EQ(grants_of(member(y)), Lines{});
    EXPECT_EQ(org_role(member(x)), "viewer");

    // Granting again without expires_at makes it permanent.
    ASSERT_TRUE(granted(grant(owner_, x, "org", "viewer")));
    EXPECT_EQ(grants_of(member(x)),
              sorted({"org viewer manual",
                      site_scope(shop) + " admin manual expires 2099-06-30T00:00:00.000Z"}));

    // A grant whose time has passed is listed as expired and gives nothing.
    put_grant(y, core::Role::kAdmin, shop, "2020-01-01T00:00:00.000Z");
    {
        const json::object m = member(y);
        ASSERT_EQ(m.at("grants").as_array().size(), 1U) << json::serialize(m);
        EXPECT_EQ(m.at("grants").at(0).at("expired"), json::value(true));
        EXPECT_TRUE(no_access(m));
        EXPECT_EQ(why_of(m), Lines{});
    }
    EXPECT_EQ(listed(owner_, "?site=shop&role=admin"), sorted({owner_.id, x}));
    EXPECT_EQ(listed(owner_, "?source=manual"), sorted({owner_.id, x}));
}

// 8. Roles sent on the User (idp-compat.md §3.1 patterns B and C, R-46): core `roles` values
//    and the access extension's `roles` become scim_roles grants; a replace replaces only
//    those; Entra's stringified JSON values work; unknown sites and owner are refused.
TEST_P(Admin, RolesSentOnTheUserBecomeScimRolesGrants_R46) {
    const std::string shop = make_site("shop");
    const std::string blog = make_site("blog");
    ASSERT_FALSE(shop.empty() || blog.empty());

    // /Schemas offers this organization's values.
    auto schema = client().get(std::string("/scim/v2/Schemas/") + kAccessSchema);
    ASSERT_EQ(schema.status, 200) << schema.body;
    Lines canonical;
    const json::value schema_body = schema.json();
    for (const json::value& attr : schema_body.at("attributes").as_array()) {
        if (text(attr.as_object(), "name") == "roles") {
            for (const json::value& v : attr.at("canonicalValues").as_array()) {
                canonical.emplace_back(v.as_string());
            }
        }
    }
    for (const char* value : {"org:admin", "org:user", "org:viewer", "site:shop:admin",
                              "site:shop:viewer", "site:blog:user"}) {
        EXPECT_TRUE(std::find(canonical.begin(), canonical.end(), value) != canonical.end())
            << value << " is not among " << json::serialize(schema_body);
    }
    EXPECT_TRUE(std::find(canonical.begin(), canonical.end(), "org:owner") == canonical.end());

    // POST with both forms.
    const std::string u = create_scim_user(
        "ana.li@corp.example",
        json::object{{"roles", json::array{json::object{{"value", "site:shop:viewer"}}}},
                     {kAccessSchema, json::object{{"roles", json::array{"org:user"}}}}});
    ASSERT_FALSE(u.empty());
    {
        const json::object m = member(u);
        EXPECT_EQ(grants_of(m),
                  sorted({"org user scim_roles", site_scope(shop) + " viewer scim_roles"}));
        EXPECT_EQ(org_role(m), "user");
        EXPECT_EQ(text(m, "sources"), R"(["scim_roles"])");
    }

    // A manual grant made in the API…
    ASSERT_TRUE(granted(grant(owner_, u, "site:blog", "admin")));
    // …survives a PATCH that replaces both role attributes.
    auto replaced = patch_user(
        u, json::array{
               json::object{{"op", "replace"},
                            {"path", "roles"},
                            {"value", json::array{json::object{{"value", "site:shop:admin"}}}}},
               json::object{{"op", "replace"},
                            {"path", std::string(kAccessSchema) + ":roles"},
                            {"value", json::array{"org:viewer"}}}});
    ASSERT_EQ(replaced.status, 200) << replaced.body;
    {
        const json::object m = member(u);
        EXPECT_EQ(grants_of(m),
                  sorted({"org viewer scim_roles", site_scope(shop) + " admin scim_roles",
                          site_scope(blog) + " admin manual"}));
        EXPECT_EQ(org_role(m), "viewer");
        EXPECT_EQ(site_roles(m),
                  (std::map<std::string, std::string>{{shop, "admin"}, {blog, "admin"}}));
    }
    // Removing the role attributes removes only the scim_roles grants.
    ASSERT_EQ(
        patch_user(u, json::array{json::object{{"op", "remove"}, {"path", "roles"}},
                                  json::object{{"op", "remove"},
                                               {"path", std::string(kAccessSchema) + ":roles"}}})
            .status,
        200);
    EXPECT_EQ(grants_of(member(u)), Lines{site_scope(blog) + " admin manual"});

    // Entra: POST with a WindowsAzureActiveDirectoryRole element, then AppRoleAssignmentsComplex
    // adds a value that is JSON text.
    const std::string v = create_user(
        json::object{{"schemas", json::array{kUserSchema}},
                     {"userName", "bo.kim@contoso.example"},
                     {"roles", json::array{json::object{{"primary", false},
                                                        {"type", "WindowsAzureActiveDirectoryRole"},
                                                        {"display", "Viewer"},
                                                        {"value", "org:viewer"}}}}});
    ASSERT_FALSE(v.empty());
    EXPECT_EQ(grants_of(member(v)), Lines{"org viewer scim_roles"});
    auto entra_add = patch_user(
        v,
        json::array{json::object{
            {"op", "Add"},
            {"path", "roles"},
            {"value",
             json::array{json::object{
                 {"value",
                  R"({"id":"0b6c6d1e-0000-4a5e-9b1c-2f6a8a9d0c11","value":"site:shop:admin","displayName":"Shop admin"})"}}}}}});
    ASSERT_EQ(entra_add.status, 200) << entra_add.body;
    EXPECT_EQ(grants_of(member(v)),
              sorted({"org viewer scim_roles", site_scope(shop) + " admin scim_roles"}));

    // An unknown site: 400 invalidValue naming it, and no account.
    auto nope = client().post(
        "/scim/v2/Users", json::serialize(json::object{
                              {"schemas", json::array{kUserSchema}},
                              {"userName", "cy.ng@corp.example"},
                              {"roles", json::array{json::object{{"value", "site:nope:admin"}}}}}));
    expect_scim_error(nope, 400, "invalidValue");
    EXPECT_NE(nope.body.find("nope"), std::string::npos) << nope.body;
    auto cy = client().get(users_filter(R"(userName eq "cy.ng@corp.example")"));
    ASSERT_EQ(cy.status, 200) << cy.body;
    EXPECT_EQ(cy.json().at("totalResults"), 0);

    // Owner never comes through SCIM (DESIGN §2 rule 1): POST, PATCH, JSON text.
    expect_scim_error(
        client().post("/scim/v2/Users",
                      json::serialize(json::object{
                          {"schemas", json::array{kUserSchema, kAccessSchema}},
                          {"userName", "di.oz@corp.example"},
                          {kAccessSchema, json::object{{"roles", json::array{"org:owner"}}}}})),
        400, "invalidValue");
    expect_scim_error(
        patch_user(v, json::array{json::object{
                          {"op", "add"},
                          {"path", "roles"},
                          {"value", json::array{json::object{{"value", "org:owner"}}}}}}),
        400, "invalidValue");
    expect_scim_error(
        patch_user(v, json::array{json::object{
                          {"op", "Add"},
                          {"path", "roles"},
                          {"value", json::array{json::object{
                                        {"value", R"({"id":"x","value":"org:owner"})"}}}}}}),
        400, "invalidValue");
    expect_scim_error(
        patch_user(v, json::array{json::object{
                          {"op", "add"},
                          {"path", "roles"},
                          {"value", json::array{json::object{{"value", "site:shop:superuser"}}}}}}),
        400, "invalidValue");
    EXPECT_EQ(grants_of(member(v)),
              sorted({"org viewer scim_roles", site_scope(shop) + " admin scim_roles"}));
}

// 9. GET /members filters (role, site, source, active) and paging; a site admin sees only the
//    members with access to their site.
TEST_P(Admin, MembersListFiltersAndSiteAdminsSeeTheirSite) {
    const std::string shop = make_site("shop");
    const std::string blog = make_site("blog");
    ASSERT_FALSE(shop.empty() || blog.empty());
    const Account a = make_account("a@acme.example");  // org user
    put_grant(a.id, core::Role::kUser);
    const Account b = make_account("b@acme.example");  // site admin of shop
    put_grant(b.id, core::Role::kAdmin, shop);
    const std::string c = create_scim_user(  // blog viewer, from SCIM roles
        "c@acme.example",
        json::object{{"roles", json::array{json::object{{"value", "site:blog:viewer"}}}}});
    const std::string d = create_scim_user("d@acme.example");  // org viewer, deactivated
    const std::string e = create_scim_user("e@acme.example");  // no access
    ASSERT_FALSE(a.id.empty() || b.id.empty() || c.empty() || d.empty() || e.empty());
    put_grant(d, core::Role::kViewer);
    ASSERT_EQ(set_active(d, false).status, 200);
    const std::string o = owner_.id;

    EXPECT_EQ(listed(owner_), sorted({o, a.id, b.id, c, d, e}));
    EXPECT_EQ(listed(owner_, "?role=owner"), Ids{o});
    EXPECT_EQ(listed(owner_, "?role=user"), Ids{a.id});
    EXPECT_EQ(listed(owner_, "?site=shop"), sorted({o, a.id, b.id}));
    EXPECT_EQ(listed(owner_, "?site=" + shop + "&role=admin"), sorted({o, b.id}));
    EXPECT_EQ(listed(owner_, "?site=blog&role=viewer"), Ids{c});
    EXPECT_EQ(listed(owner_, "?source=scim_roles"), Ids{c});
    EXPECT_EQ(listed(owner_, "?source=manual"), sorted({o, a.id, b.id, d}));
    EXPECT_EQ(listed(owner_, "?active=false"), Ids{d});
    EXPECT_EQ(listed(owner_, "?active=true"), sorted({o, a.id, b.id, c, e}));
    EXPECT_EQ(listed(owner_, "?source=manual&active=true"), sorted({o, a.id, b.id}));
    expect_api_error(call(owner_.key, "GET", "/members?role=boss"), 400, "invalid_value");
    expect_api_error(call(owner_.key, "GET", "/members?source=ldap"), 400, "invalid_value");
    expect_api_error(call(owner_.key, "GET", "/members?site=nope"), 404, "not_found");

    // Paging: unfiltered and filtered.
    Ids pages;
    for (const char* q : {"?start=1&count=4", "?start=5&count=4"}) {
        auto res = call(owner_.key, "GET", std::string("/members") + q);
        ASSERT_EQ(res.status, 200) << res.body;
        const json::object page = res.json().as_object();
        EXPECT_EQ(num(page.at("total")), 6) << q;
        for (const json::value& m : page.at("members").as_array()) {
            pages.emplace_back(m.at("id").as_string());
        }
    }
    EXPECT_EQ(sorted(pages), sorted({o, a.id, b.id, c, d, e}));
    {
        auto res = call(owner_.key, "GET", "/members?active=true&start=2&count=2");
        ASSERT_EQ(res.status, 200) << res.body;
        const json::object page = res.json().as_object();
        EXPECT_EQ(num(page.at("total")), 5);
        EXPECT_EQ(page.at("members").as_array().size(), 2U);
    }

    // The site admin of shop sees who has access to shop: the owner and the org user (their
    // organization role reaches every site) and itself; not c (blog only), d (inactive), e.
    EXPECT_EQ(listed(b), sorted({o, a.id, b.id}));
    EXPECT_EQ(listed(b, "?active=false"), Ids{});
    auto hidden = call(b.key, "GET", "/members/" + c);
    expect_api_error(hidden, 404, "not_found");
    expect_api_error(call(b.key, "GET", "/members/" + e), 404, "not_found");
    auto shown = call(b.key, "GET", "/members/" + a.id);
    ASSERT_EQ(shown.status, 200) << shown.body;
    EXPECT_EQ(org_role(shown.json().as_object()), "user");

    // An organization user without a site to administer reads no members.
    expect_api_error(call(a.key, "GET", "/members"), 403, "forbidden");
}

// 10. The audit trail: by action, target and actor; from/to; paging with start/count/total.
TEST_P(Admin, AuditTrailAnswersByActionTargetActorAndTime) {
    const std::string uid = create_scim_user("ana.li@corp.example");
    ASSERT_FALSE(uid.empty());
    // Audit times have millisecond resolution: a few milliseconds apart is apart.
    const auto tick = [] { std::this_thread::sleep_for(std::chrono::milliseconds(5)); };
    const auto stamp = [] { return core::format_time(std::chrono::system_clock::now()); };

    ASSERT_FALSE(make_site("shop").empty());
    tick();
    const std::string t1 = stamp();
    tick();
    ASSERT_TRUE(granted(grant(owner_, uid, "org", "viewer")));
    ASSERT_TRUE(granted(grant(owner_, uid, "org", "user")));
    ASSERT_EQ(call(owner_.key, "DELETE", "/members/" + uid + "/grants?scope=org").status, 204);
    tick();
    const std::string t2 = stamp();
    tick();
    ASSERT_FALSE(make_site("blog").empty());

    // By action: the set-up's owner grant (system) and the one made with the owner's key.
    const AuditPage added = audit("?action=grant.added");
    EXPECT_EQ(added.total, 2);
    Lines who;
    for (const auto& e : added.events) {
        EXPECT_EQ(text(e, "action"), "grant.added");
        who.push_back(text(e, "actor") + " " + text(e, "target"));
    }
    EXPECT_EQ(who, (Lines{"system " + owner_.id, owner_.actor() + " " + uid}));
    ASSERT_EQ(added.events.size(), 2U);
    const json::value* after = added.events[1].if_contains("after");
    ASSERT_TRUE(after != nullptr && after->is_object()) << json::serialize(added.events[1]);
    EXPECT_EQ(text(after->as_object(), "role"), "viewer");
    EXPECT_EQ(text(after->as_object(), "scope"), "org");
    EXPECT_EQ(text(after->as_object(), "source"), "manual");

    // By target: the account's story, oldest first.
    const AuditPage story = audit("?target=" + uid);
    EXPECT_EQ(actions(story),
              (Lines{"account.created", "grant.added", "grant.changed", "grant.revoked"}));
    ASSERT_FALSE(story.events.empty());
    EXPECT_EQ(text(story.events[0], "actor"), "scim_token:" + last_token_id_);

    // By actor: what the owner's key did.
    const std::string by_owner = "?actor=" + url_encode(owner_.actor());
    EXPECT_EQ(actions(audit(by_owner)), (Lines{"site.created", "grant.added", "grant.changed",
                                               "grant.revoked", "site.created"}));
    // Time windows: [from, to).
    EXPECT_EQ(actions(audit(by_owner + "&from=" + url_encode(t1) + "&to=" + url_encode(t2))),
              (Lines{"grant.added", "grant.changed", "grant.revoked"}));
    EXPECT_EQ(actions(audit(by_owner + "&to=" + url_encode(t1))), Lines{"site.created"});
    EXPECT_EQ(actions(audit(by_owner + "&from=" + url_encode(t2))), Lines{"site.created"});
    EXPECT_EQ(audit("?from=2200-01-01T00:00:00Z").total, 0);
    expect_api_error(call(owner_.key, "GET", "/audit?from=yesterday"), 400, "invalid_value");

    // Paging: start is 1-based, count a page size, total the whole.
    const AuditPage all = audit("");
    ASSERT_GE(all.total, 8);
    ASSERT_EQ(static_cast<std::int64_t>(all.events.size()), all.total);
    const AuditPage first = audit("?start=1&count=2");
    const AuditPage second = audit("?start=2&count=2");
    const AuditPage last = audit("?start=" + std::to_string(all.total) + "&count=10");
    const AuditPage beyond = audit("?start=" + std::to_string(all.total + 1) + "&count=10");
    for (const AuditPage* p : {&first, &second, &last, &beyond}) {
        EXPECT_EQ(p->total, all.total);
    }
    EXPECT_EQ(second.start, 2);
    ASSERT_EQ(first.events.size(), 2U);
    ASSERT_EQ(second.events.size(), 2U);
    EXPECT_EQ(first.events[0].at("seq"), all.events[0].at("seq"));
    EXPECT_EQ(first.events[1].at("seq"), second.events[0].at("seq"));
    EXPECT_EQ(second.events[1].at("seq"), all.events[2].at("seq"));
    ASSERT_EQ(last.events.size(), 1U);
    EXPECT_EQ(last.events[0].at("seq"), all.events.back().at("seq"));
    EXPECT_TRUE(beyond.events.empty());

    // Only owners and admins read it.
    const Account plain = make_account("plain@acme.example");
    put_grant(plain.id, core::Role::kUser);
    expect_api_error(call(plain.key, "GET", "/audit"), 403, "forbidden");
}

// 11a. Bodies with unknown fields are refused with 400 "unknown_field" naming the field, and
//      nothing changes; missing and malformed fields have their own codes.
TEST_P(Admin, UnknownFieldsAreRefusedByName) {
    const std::string x = create_scim_user("x@acme.example");
    ASSERT_FALSE(x.empty());
    expect_api_error(
        call(owner_.key, "POST", "/sites", json::object{{"name", "shop"}, {"colour", "red"}}), 400,
        "unknown_field", "colour");
    EXPECT_EQ(site_names(), Lines{});
    const std::string shop = make_site("shop");
    ASSERT_FALSE(shop.empty());
    expect_api_error(call(owner_.key, "PATCH", "/sites/" + shop,
                          json::object{{"name", "store"}, {"link", "https://x.example"}}),
                     400, "unknown_field", "link");
    EXPECT_EQ(site_names(), Lines{"shop"});

    // A typo of expires_at must not become a permanent grant.
    expect_api_error(
        call(owner_.key, "POST", "/members/" + x + "/grants",
             json::object{
                 {"scope", "org"}, {"role", "user"}, {"expire_at", "2099-01-01T00:00:00Z"}}),
        400, "unknown_field", "expire_at");
    EXPECT_EQ(grants_of(member(x)), Lines{});
    expect_api_error(
        call(owner_.key, "POST", "/members/" + x + "/grants", json::object{{"scope", "org"}}), 400,
        "missing_field", "role");

    expect_api_error(call(owner_.key, "POST", "/naming-rules",
                          json::object{{"pattern", "^x$"}, {"role", "user"}, {"scope", "org"}}),
                     400, "unknown_field", "scope");
    auto rules = call(owner_.key, "GET", "/naming-rules");
    ASSERT_EQ(rules.status, 200) << rules.body;
    EXPECT_TRUE(rules.json().at("rules").as_array().empty()) << rules.body;

    const std::string gid = create_group("Finance", {x});
    ASSERT_FALSE(gid.empty());
    expect_api_error(call(owner_.key, "PUT", "/groups/" + gid + "/roles",
                          json::object{{"roles", json::array{json::object{{"scope", "org"},
                                                                          {"role", "user"},
                                                                          {"origin", "manual"}}}}}),
                     400, "unknown_field", "origin");
    expect_api_error(call(owner_.key, "PUT", "/groups/" + gid + "/roles",
                          json::object{{"roles", json::array{}}, {"group", gid}}),
                     400, "unknown_field", "group");
    EXPECT_EQ(bindings_of(gid), Lines{});
    EXPECT_TRUE(no_access(member(x)));

    expect_api_error(call(owner_.key, "POST", "/scim-tokens",
                          json::object{{"name", "Okta"}, {"expires_in", 30}}),
                     400, "unknown_field", "expires_in");
    // A key always belongs to the account that makes it.
    expect_api_error(
        call(owner_.key, "POST", "/api-keys", json::object{{"name", "theirs"}, {"account", x}}),
        400, "unknown_field", "account");
    expect_api_error(call(owner_.key, "POST", "/sites", std::string("{\"name\":")), 400,
                     "invalid_json");
}

// 11b. A SCIM token made in the API serves SCIM until it is revoked in the API; its secret is
//      shown once.
TEST_P(Admin, ScimTokensMadeInTheApiServeScimUntilRevoked) {
    auto made = call(owner_.key, "POST", "/scim-tokens",
                     json::object{{"name", "Okta"}, {"expires_in_days", 30}});
    ASSERT_EQ(made.status, 201) << made.body;
    const json::object t = made.json().as_object();
    const std::string secret = text(t, "secret");
    const std::string tid = text(t, "id");
    ASSERT_FALSE(secret.empty() || tid.empty()) << made.body;
    EXPECT_EQ(text(t, "name"), "Okta");
    EXPECT_FALSE(text(t, "expires").empty()) << made.body;

    auto idp = make_client(secret);
    auto users = idp->get("/scim/v2/Users?startIndex=1&count=2");
    ASSERT_EQ(users.status, 200) << users.body;
    EXPECT_EQ(users.json().at("totalResults"), 1);  // the owner

    auto list = call(owner_.key, "GET", "/scim-tokens");
    ASSERT_EQ(list.status, 200) << list.body;
    EXPECT_EQ(list.body.find(secret), std::string::npos) << "a secret is shown once";
    bool found = false;
    const json::value tokens = list.json();
    for (const json::value& x : tokens.at("tokens").as_array()) {
        if (text(x.as_object(), "id") == tid) {
            found = true;
            EXPECT_EQ(text(x.as_object(), "name"), "Okta");
            EXPECT_EQ(text(x.as_object(), "revoked"), "");
            EXPECT_FALSE(x.as_object().contains("secret"));
        }
    }
    EXPECT_TRUE(found) << list.body;

    EXPECT_EQ(call(owner_.key, "DELETE", "/scim-tokens/" + tid).status, 204);
    expect_scim_error(idp->get("/scim/v2/Users"), 401);
    expect_api_error(call(owner_.key, "DELETE", "/scim-tokens/" + tid), 404, "not_found");
    EXPECT_EQ(client().get("/scim/v2/Users").status, 200);  // the fixture's token is untouched

    // Audited; organization owners and admins only; sane expiry.
    EXPECT_EQ(actions(audit("?target=" + tid)), (Lines{"token.created", "token.revoked"}));
    const Account plain = make_account("plain@acme.example");
    put_grant(plain.id, core::Role::kUser);
    expect_api_error(call(plain.key, "POST", "/scim-tokens", json::object{{"name", "mine"}}), 403,
                     "forbidden");
    expect_api_error(call(owner_.key, "POST", "/scim-tokens",
                          json::object{{"name", "Okta"}, {"expires_in_days", 0}}),
                     400, "invalid_value");
}

// The cases below probe the edges of DESIGN §2 rules 2 and 3 where an owner could be reached
// sideways: through a deactivated owner, an owner's API key, or an expiry.

// Rule 2: "Only an owner can make or remove an owner" holds for a deactivated owner too, whose
// effective access is empty while it is inactive.
TEST_P(Admin, AdminCannotRemoveADeactivatedOwner) {
    const Account second = make_account("second@acme.example");
    put_grant(second.id, core::Role::kOwner);
    const Account admin = make_account("admin@acme.example");
    put_grant(admin.id, core::Role::kAdmin);
    ASSERT_EQ(set_active(second.id, false).status, 200);

    expect_api_error(grant(admin, second.id, "org", "viewer"), 403, "forbidden");
    expect_api_error(call(admin.key, "DELETE", "/members/" + second.id), 403, "forbidden");
    EXPECT_EQ(client().get("/scim/v2/Users/" + second.id).status, 200);
    EXPECT_EQ(grants_of(member(second.id)), Lines{"org owner manual"});
}

// Rule 2: "An org admin manages everyone but owners", an owner's API keys included.
TEST_P(Admin, AdminCannotRevokeAnOwnersApiKey) {
    const Account admin = make_account("admin@acme.example");
    put_grant(admin.id, core::Role::kAdmin);
    expect_api_error(call(admin.key, "DELETE", "/api-keys/" + owner_.key_id), 403, "forbidden");
    EXPECT_EQ(call(owner_.key, "GET", "/me").status, 200);
    // Its own key, and a plain member's, it may revoke.
    const Account plain = make_account("plain@acme.example");
    EXPECT_EQ(call(admin.key, "DELETE", "/api-keys/" + plain.key_id).status, 204);
    expect_unauthenticated(call(plain.key, "GET", "/me"));
}

// Rule 3: the last active owner's grant cannot be given an expiry either, or the organization
// loses its last owner when the time comes.
TEST_P(Admin, LastOwnerCannotMakeTheirOwnershipExpire) {
    expect_api_error(grant(owner_, owner_.id, "org", "owner", "2099-01-01T00:00:00Z"), 409,
                     "conflict");
    EXPECT_EQ(grants_of(member(owner_.id)), Lines{"org owner manual"});
}

// DESIGN §2 rule 7 through SCIM: a create over the plan's seat limit is a 403 SCIM error
// that says so, and nothing is created; an unlimited plan takes it.
TEST_P(Admin, SeatLimitRefusesScimCreates) {
    store::SqlOrganizationRepository orgs(app_->database());
    core::Plan plan = orgs.find(org_id_)->plan;
    plan.seat_limit = 1;  // the owner holds it
    ASSERT_TRUE(orgs.update_plan(org_id_, plan, core::Audit{}));
    const auto refused = client().post("/scim/v2/Users",
                                       R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
                              "userName":"late@acme.example"})");
    expect_scim_error(refused, 403);
    EXPECT_NE(refused.body.find("user limit reached: 1 of 1 seats used"), std::string::npos)
        << refused.body;
    const auto list =
        client().get("/scim/v2/Users?filter=" + url_encode(R"(userName eq "late@acme.example")"));
    EXPECT_EQ(list.json().at("totalResults"), 0);
    plan.seat_limit.reset();
    ASSERT_TRUE(orgs.update_plan(org_id_, plan, core::Audit{}));
    EXPECT_FALSE(create_scim_user("late@acme.example").empty());
}

// The access review: members not signed in for N days (the host application records
// sign-ins), temporary grants about to expire, and the owners and admins.
TEST_P(Admin, AccessReviewListsWhatDeservesASecondLook) {
    const std::string x = create_scim_user("x@acme.example");
    ASSERT_FALSE(x.empty());
    ASSERT_EQ(call(owner_.key, "POST", "/members/" + owner_.id + "/sign-ins", "{}").status, 204);
    EXPECT_EQ(call(owner_.key, "POST", "/members/nobody/sign-ins", "{}").status, 404);
    const auto soon = core::format_time(std::chrono::system_clock::now() + std::chrono::hours(72));
    ASSERT_TRUE(granted(grant(owner_, x, "org", "admin", soon)));
    const auto res = call(owner_.key, "GET", "/access-review?inactive_days=30&expiring_days=7");
    ASSERT_EQ(res.status, 200) << res.body;
    const json::object r = res.json().as_object();
    std::vector<std::string> idle, privileged;
    for (const auto& m : r.at("not_signed_in").as_array()) {
        idle.emplace_back(m.at("id").as_string());
    }
    for (const auto& m : r.at("owners_and_admins").as_array()) {
        privileged.emplace_back(m.at("id").as_string());
    }
    EXPECT_EQ(idle, std::vector<std::string>{x}) << "the owner signed in just now";
    EXPECT_EQ(sorted(privileged), sorted({owner_.id, x}));
    ASSERT_EQ(r.at("expiring_grants").as_array().size(), 1U) << res.body;
    EXPECT_EQ(r.at("expiring_grants").as_array()[0].at("member"), json::value(x));
    // A three-day grant is not "expiring within one day".
    const auto narrow = call(owner_.key, "GET", "/access-review?expiring_days=1");
    EXPECT_TRUE(narrow.json().at("expiring_grants").as_array().empty());
    expect_api_error(call(owner_.key, "GET", "/access-review?inactive_days=0"), 400,
                     "invalid_value");
    const Account plain = make_account("plain@acme.example");
    put_grant(plain.id, core::Role::kUser);
    expect_api_error(call(plain.key, "GET", "/access-review"), 403, "forbidden");
}

INSTANTIATE_TEST_SUITE_P(Backends, Admin, ::testing::Values(Db::kSqlite, Db::kPostgres), db_name);

}  // namespace
}  // namespace scimd::test
