// Invitations over the admin REST API at /api/v1 (DESIGN §1 Invitation): an owner, an admin
// or a site admin invites a person by email to the organization or one site with a role; the
// invitation mail goes through the outbox to the file transport (one .eml per mail under the
// fixture's mail_dir_); the person looks the link up and accepts it through the public
// endpoints, without an API key, and becomes a member with a grant of source "invitation".
// Duplicates, existing members, resends, cancellations, expiry, site admins, the seat limit,
// the personal mailbox policy and deactivated accounts are covered.
//
// Set-up that is not under test (the owner's grant, API keys, plans, an already expired
// invitation) is written straight into the store, as admin_api_test.cpp does; everything under
// test goes over HTTPS. Mail is delivered with app_->deliver_mail() rather than waiting for
// the background thread.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "e2e/fixture.hpp"

#include "scimd/core/access.hpp"
#include "scimd/core/clock.hpp"
#include "scimd/core/mail.hpp"
#include "scimd/core/records.hpp"
#include "scimd/store/repositories.hpp"
#include "scimd/util/crypto.hpp"

namespace scimd::test {
namespace {

namespace json = boost::json;
using Ids = std::vector<std::string>;
using Lines = std::vector<std::string>;

// The wire constants, spelled out rather than taken from the code under test.
inline constexpr const char* kApi = "/api/v1";
inline constexpr const char* kLinkPrefix = "https://localhost:0/invitations/accept?token=";

/// A JSON number as int64.
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

/// A time `hours` from now as the server writes times (comparable as text).
std::string hours_from_now(int hours) {
    return core::format_time(std::chrono::system_clock::now() + std::chrono::hours(hours));
}

class Invitations : public ServerFixture {
protected:
    /// An account (a SCIM User) and one API key of it.
    struct Account {
        std::string id;
        std::string key;     ///< the API key's secret
        std::string key_id;  ///< the API key's id
        /// Who the audit trail says acted with the key.
        std::string actor() const { return "api_key:" + key_id; }
    };

    /// An invitation as made: its id, its link and the link's secret, and the JSON answer.
    struct Invite {
        std::string id;
        std::string link;
        std::string token;
        json::object body;
    };

    void SetUp() override {
        ServerFixture::SetUp();
        if (!app_) {
            return;  // skipped (no PostgreSQL) or failed
        }
        anonymous_ = make_client("");
        // The organization's one owner, with a display name the mail and lookup show.
        owner_ = make_account("olivia@corp.example", "Olivia Owner");
        ASSERT_FALSE(owner_.id.empty());
        put_grant(owner_.id, core::Role::kOwner);
    }

    void TearDown() override {
        anonymous_.reset();
        ServerFixture::TearDown();
    }

    // --- set-up through the store -------------------------------------------------------

    /// An API key of `user_id` written into the store; returns {id, secret}.
    std::pair<std::string, std::string> make_api_key(const std::string& user_id) {
        const std::string secret = "scimdk_" + util::base64url(util::random_bytes(32));
        core::ApiKey k;
        k.id = util::uuid_v4();
        k.org_id = org_id_;
        k.user_id = user_id;
        k.name = "test";
        k.hash = util::sha256_hex(secret);
        k.created = "2026-01-01T00:00:00.000Z";
        store::SqlApiKeyRepository(app_->database()).insert(k, core::Audit{});
        return {k.id, secret};
    }

    /// An API key for an existing account.
    Account with_key(const std::string& user_id) {
        Account a;
        a.id = user_id;
        auto [key_id, secret] = make_api_key(user_id);
        a.key_id = std::move(key_id);
        a.key = std::move(secret);
        return a;
    }

    /// A SCIM User named `user_name` (and `display_name`, if given) with an API key.
    Account make_account(const std::string& user_name, const std::string& display_name = "") {
        json::object body{{"schemas", json::array{kUserSchema}}, {"userName", user_name}};
        if (!display_name.empty()) {
            body["displayName"] = display_name;
        }
        const std::string id = create_user(body);
        if (id.empty()) {
            return Account{};
        }
        return with_key(id);
    }

    /// A manual grant written into the store; site_id "" = org.
    void put_grant(const std::string& user_id, core::Role role, const std::string& site_id = "") {
        core::Grant g;
        g.id = util::uuid_v4();
        g.org_id = org_id_;
        g.user_id = user_id;
        g.site_id = site_id;
        g.role = role;
        g.source = core::GrantSource::kManual;
        g.created = "2026-01-01T00:00:00.000Z";
        g.created_by = "test";
        store::SqlAccessRepository(app_->database()).put_grant(g, core::Audit{});
    }

    /// Changes the organization's plan as an operator would.
    void set_seat_limit(std::optional<long long> limit) {
        store::SqlOrganizationRepository orgs(app_->database());
        const auto org = orgs.find(org_id_);
        ASSERT_TRUE(org.has_value());
        core::Plan plan = org->plan;
        plan.seat_limit = limit;
        ASSERT_TRUE(orgs.update_plan(org_id_, plan, core::Audit{}));
    }
    void set_domain_policy(const std::string& policy) {
        store::SqlOrganizationRepository orgs(app_->database());
        const auto org = orgs.find(org_id_);
        ASSERT_TRUE(org.has_value());
        core::Plan plan = org->plan;
        plan.unverified_domain_policy = policy;
        ASSERT_TRUE(orgs.update_plan(org_id_, plan, core::Audit{}));
    }

    /// An org-scope "user" invitation of `email` by the owner that expired a day ago, with a
    /// link secret of our own, written through the store (the plan's shortest validity is a
    /// day, too long to wait for).
    Invite stored_expired_invitation(const std::string& email) {
        Invite out;
        out.token = util::new_secret("scimdi_");
        out.link = kLinkPrefix + out.token;
        const auto now_tp = std::chrono::system_clock::now();
        core::Invitation inv;
        inv.id = util::uuid_v4();
        inv.org_id = org_id_;
        inv.email = email;
        inv.site_id = "";
        inv.role = "user";
        inv.status = "pending";
        inv.token_hash = util::sha256_hex(out.token);
        inv.created_by = owner_.actor();
        inv.inviter = "Olivia Owner";
        inv.created_at = core::format_time(now_tp - std::chrono::hours(24 * 8));
        inv.expires_at = core::format_time(now_tp - std::chrono::hours(24));
        core::OutboxMail mail;
        mail.id = util::uuid_v4();
        mail.org_id = org_id_;
        mail.kind = "invitation";
        mail.ref_id = inv.id;
        mail.recipient = email;
        mail.subject = "Olivia Owner invited you to acme";
        mail.body = "Accept the invitation here:\n" + out.link + "\n";
        mail.status = "sent";  // it went out a week ago
        mail.next_attempt_at = inv.created_at;
        mail.created_at = inv.created_at;
        store::SqlUserRepository users(app_->database());
        store::SqlInvitationRepository repo(app_->database(), users);
        const auto made = repo.create(inv, mail, core::Audit{});
        EXPECT_TRUE(made.second);
        out.id = made.first.id;
        EXPECT_EQ(out.id, inv.id);
        return out;
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

    /// POST /invitations as `by`.
    HttpResponse invite(const Account& by,
                        const std::string& email,
                        const std::string& role,
                        const std::string& scope = "org") {
        return call(by.key, "POST", "/invitations",
                    json::object{{"email", email}, {"scope", scope}, {"role", role}});
    }

    /// The secret of an invitation link ("" if it has none).
    static std::string token_of(const std::string& link) {
        const std::size_t at = link.find("?token=");
        return at == std::string::npos ? std::string() : link.substr(at + 7);
    }

    /// POST /invitations as `by`, which must answer 201 with a link.
    Invite invite_ok(const Account& by,
                     const std::string& email,
                     const std::string& role,
                     const std::string& scope = "org") {
        Invite out;
        const HttpResponse res = invite(by, email, role, scope);
        EXPECT_EQ(res.status, 201) << email << " " << scope << " " << role << ": " << res.body;
        if (res.status != 201) {
            return out;
        }
        out.body = res.json().as_object();
        out.id = text(out.body, "id");
        out.link = text(out.body, "link");
        out.token = token_of(out.link);
        EXPECT_FALSE(out.id.empty()) << res.body;
        EXPECT_EQ(out.link.rfind(kLinkPrefix, 0), 0U) << res.body;
        EXPECT_GT(out.token.size(), 20U) << res.body;
        return out;
    }

    /// How many invitations the organization has, whatever their status (read by the owner).
    std::size_t invitation_count() {
        const auto res = call(owner_.key, "GET", "/invitations");
        EXPECT_EQ(res.status, 200) << res.body;
        return res.status == 200 ? res.json().at("invitations").as_array().size() : 0;
    }

    /// GET /invitations/{id} read by the owner.
    json::object invitation_of(const std::string& id) {
        const HttpResponse res = call(owner_.key, "GET", "/invitations/" + id);
        EXPECT_EQ(res.status, 200) << res.body;
        if (res.status != 200) {
            return {};
        }
        return res.json().as_object();
    }

    /// GET /invitations<query> as `who`: the ids, in the order given (newest first).
    Ids invitation_ids_as(const Account& who, const std::string& query = "") {
        const HttpResponse res = call(who.key, "GET", "/invitations" + query);
        EXPECT_EQ(res.status, 200) << query << ": " << res.body;
        if (res.status != 200) {
            return {"<error>"};
        }
        const json::value body = res.json();
        Ids ids;
        for (const json::value& i : body.at("invitations").as_array()) {
            ids.emplace_back(i.at("id").as_string());
        }
        return ids;
    }
    Ids invitation_ids(const std::string& query = "") { return invitation_ids_as(owner_, query); }

    // --- the public endpoints, without an API key ---------------------------------------

    HttpResponse open_link(const std::string& what, const json::object& body) {
        return anonymous_->request("POST", std::string(kApi) + "/public/invitations/" + what,
                                   json::serialize(body), {{"Content-Type", "application/json"}});
    }
    HttpResponse look_up(const std::string& token) {
        return open_link("lookup", json::object{{"token", token}});
    }
    HttpResponse accept_link(const std::string& token, const std::string& name = "") {
        json::object body{{"token", token}};
        if (!name.empty()) {
            body["name"] = name;
        }
        return open_link("accept", body);
    }
    /// Accepts and returns the member's id ("" with a test failure if refused).
    std::string accepted(const std::string& token, const std::string& name = "") {
        const HttpResponse res = accept_link(token, name);
        EXPECT_EQ(res.status, 200) << res.body;
        if (res.status != 200) {
            return {};
        }
        return text(res.json().as_object(), "member");
    }

    // --- members and access -------------------------------------------------------------

    /// GET /members/{uid} read by the owner.
    json::object member_of(const std::string& uid) {
        const HttpResponse res = call(owner_.key, "GET", "/members/" + uid);
        EXPECT_EQ(res.status, 200) << res.body;
        if (res.status != 200) {
            return {};
        }
        return res.json().as_object();
    }

    /// A member's (or /me's) effective organization role; "" for none.
    static std::string org_role(const json::object& m) {
        const json::value* a = m.if_contains("access");
        if (a == nullptr || !a->is_object()) {
            return "<no access object>";
        }
        return text(a->get_object(), "org_role");
    }

    /// A member's (or /me's) site roles: site id → role.
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

    /// A member's grants as "<scope> <role> <source>", sorted.
    static Lines grants_of(const json::object& m) {
        Lines out;
        const json::value* g = m.if_contains("grants");
        if (g == nullptr || !g->is_array()) {
            return {"<no grants array>"};
        }
        for (const json::value& x : g->get_array()) {
            const json::object& o = x.as_object();
            out.push_back(text(o, "scope") + " " + text(o, "role") + " " + text(o, "source"));
        }
        return sorted(std::move(out));
    }

    /// GET /members<query> read by the owner: the ids, sorted.
    Ids member_ids(const std::string& query = "") {
        const HttpResponse res = call(owner_.key, "GET", "/members" + query);
        EXPECT_EQ(res.status, 200) << query << ": " << res.body;
        if (res.status != 200) {
            return {"<error>"};
        }
        const json::value body = res.json();
        Ids ids;
        for (const json::value& m : body.at("members").as_array()) {
            ids.emplace_back(m.at("id").as_string());
        }
        return sorted(std::move(ids));
    }

    static bool has(const Ids& ids, const std::string& id) {
        return std::find(ids.begin(), ids.end(), id) != ids.end();
    }

    /// GET /me with `key`.
    json::object me(const std::string& key) {
        const HttpResponse res = call(key, "GET", "/me");
        EXPECT_EQ(res.status, 200) << res.body;
        if (res.status != 200) {
            return {};
        }
        return res.json().as_object();
    }

    /// Creates a site as the owner and returns its id.
    std::string make_site(const std::string& name) {
        const HttpResponse res =
            call(owner_.key, "POST", "/sites",
                 json::object{{"name", name}, {"url", "https://" + name + ".example"}});
        EXPECT_EQ(res.status, 201) << res.body;
        if (res.status != 201) {
            return {};
        }
        return std::string(res.json().at("id").as_string());
    }

    // --- the audit trail ----------------------------------------------------------------

    /// GET /audit<query> read by the owner: the events, oldest first.
    std::vector<json::object> audit_events(const std::string& query) {
        std::vector<json::object> out;
        const HttpResponse res = call(owner_.key, "GET", "/audit" + query);
        EXPECT_EQ(res.status, 200) << query << ": " << res.body;
        if (res.status != 200) {
            return out;
        }
        const json::value body = res.json();
        for (const json::value& e : body.at("events").as_array()) {
            out.push_back(e.as_object());
        }
        return out;
    }
    Lines audit_actions(const std::string& query) {
        Lines out;
        for (const json::object& e : audit_events(query)) {
            out.push_back(text(e, "action"));
        }
        return out;
    }

    // --- SCIM, as the IdP ---------------------------------------------------------------

    /// Okta's deactivate / reactivate: a path-less replace.
    HttpResponse set_active(const std::string& uid, bool active) {
        return client().patch(
            "/scim/v2/Users/" + uid,
            patch_body(json::array{
                json::object{{"op", "replace"}, {"value", json::object{{"active", active}}}}}));
    }

    /// GET /scim/v2/Users/{uid}.
    json::object scim_user(const std::string& uid) {
        const HttpResponse res = client().get("/scim/v2/Users/" + uid);
        EXPECT_EQ(res.status, 200) << res.body;
        if (res.status != 200) {
            return {};
        }
        return res.json().as_object();
    }

    /// How many Users have this userName (over SCIM).
    std::int64_t users_named(const std::string& user_name) {
        const HttpResponse res = client().get(users_filter("userName eq \"" + user_name + "\""));
        EXPECT_EQ(res.status, 200) << res.body;
        if (res.status != 200) {
            return -1;
        }
        return num(res.json().at("totalResults"));
    }

    // --- the mail drop ------------------------------------------------------------------

    /// The .eml files the file transport wrote, by name.
    std::vector<std::filesystem::path> mail_files() const {
        namespace fs = std::filesystem;
        std::vector<fs::path> out;
        std::error_code ec;
        if (!fs::is_directory(mail_dir_, ec)) {
            return out;
        }
        for (fs::directory_iterator it(mail_dir_, ec), end; !ec && it != end; it.increment(ec)) {
            if (it->path().extension() == ".eml") {
                out.push_back(it->path());
            }
        }
        std::sort(out.begin(), out.end());
        return out;
    }

    static std::string slurp(const std::filesystem::path& p) {
        std::ifstream in(p, std::ios::binary);
        std::ostringstream s;
        s << in.rdbuf();
        return s.str();
    }

    /// The texts of the mails that contain `needle`.
    std::vector<std::string> mails_containing(const std::string& needle) const {
        std::vector<std::string> out;
        for (const auto& p : mail_files()) {
            std::string eml = slurp(p);
            if (eml.find(needle) != std::string::npos) {
                out.push_back(std::move(eml));
            }
        }
        return out;
    }

    std::unique_ptr<HttpClient> anonymous_;  ///< no Authorization header at all
    Account owner_;
};

// 1. The lifecycle: the owner invites ana to the organization as a user; the mail names the
//    organization, the role, the inviter and the expiry and carries the link; ana looks the
//    link up and accepts it without an API key, and is a member with an org user grant of
//    source "invitation"; the link then is used; the audit trail has it all.
TEST_P(Invitations, InvitedPersonGetsTheMailAndJoins) {
    const std::string week_minus_a_day = hours_from_now(24 * 6);
    const std::string week_plus_a_day = hours_from_now(24 * 8);
    const Invite inv = invite_ok(owner_, "ana@corp.example", "user");
    ASSERT_FALSE(inv.id.empty());
    EXPECT_EQ(text(inv.body, "email"), "ana@corp.example");
    EXPECT_EQ(text(inv.body, "scope"), "org");
    EXPECT_EQ(text(inv.body, "role"), "user");
    EXPECT_EQ(text(inv.body, "status"), "pending");
    EXPECT_EQ(text(inv.body, "invited_by"), "Olivia Owner");
    EXPECT_EQ(text(inv.body, "created_by"), owner_.actor());
    EXPECT_FALSE(text(inv.body, "created_at").empty());
    ASSERT_TRUE(inv.body.contains("resent_count"));
    EXPECT_EQ(num(inv.body.at("resent_count")), 0);
    EXPECT_EQ(text(inv.body, "accepted_at"), "");
    EXPECT_EQ(text(inv.body, "accepted_by"), "");
    EXPECT_EQ(text(inv.body, "cancelled_at"), "");
    EXPECT_FALSE(inv.body.contains("already_invited"));
    EXPECT_FALSE(inv.body.contains("site"));
    // The plan's default: a week.
    const std::string expires_at = text(inv.body, "expires_at");
    EXPECT_GT(expires_at, week_minus_a_day);
    EXPECT_LT(expires_at, week_plus_a_day);

    // One mail, to ana, that says who invited her to what, as what, until when, and how.
    app_->deliver_mail();
    const auto files = mail_files();
    ASSERT_EQ(files.size(), 1U);
    std::string eml = slurp(files[0]);
    EXPECT_NE(eml.find("To: ana@corp.example"), std::string::npos) << eml;
    const std::size_t link_at = eml.find(inv.link);
    ASSERT_NE(link_at, std::string::npos) << "the mail carries the link: " << eml;
    eml.erase(link_at, inv.link.size());  // what follows must not come from the random secret
    for (const std::string& part :
         std::vector<std::string>{"acme", "user", "Olivia Owner", expires_at.substr(0, 10)}) {
        EXPECT_NE(eml.find(part), std::string::npos) << "the mail should name " << part << ":\n"
                                                     << eml;
    }
    {
        const json::object now_sent = invitation_of(inv.id);
        ASSERT_TRUE(now_sent.contains("mail")) << json::serialize(now_sent);
        ASSERT_TRUE(now_sent.at("mail").is_object()) << json::serialize(now_sent);
        const json::object& m = now_sent.at("mail").as_object();
        EXPECT_EQ(text(m, "status"), "sent") << json::serialize(now_sent);
        EXPECT_GE(num(m.at("attempts")), 1);
        EXPECT_FALSE(text(m, "sent_at").empty()) << json::serialize(now_sent);
        // The secret is shown once, in the answer to the create.
        EXPECT_FALSE(now_sent.contains("link"));
        EXPECT_EQ(json::serialize(now_sent).find(inv.token), std::string::npos);
    }
    EXPECT_EQ(invitation_ids(), Ids{inv.id});
    EXPECT_EQ(invitation_ids("?status=pending"), Ids{inv.id});

    // The page behind the link shows what the invitation is, without an API key.
    const HttpResponse looked = look_up(inv.token);
    ASSERT_EQ(looked.status, 200) << looked.body;
    {
        const json::object l = looked.json().as_object();
        EXPECT_EQ(text(l, "organization"), "acme");
        EXPECT_EQ(text(l, "email"), "ana@corp.example");
        EXPECT_EQ(text(l, "role"), "user");
        EXPECT_EQ(text(l, "invited_by"), "Olivia Owner");
        EXPECT_EQ(text(l, "expires_at"), expires_at);
        EXPECT_EQ(text(l, "status"), "pending");
        ASSERT_TRUE(l.contains("site")) << looked.body;
        EXPECT_TRUE(l.at("site").is_null()) << looked.body;
    }

    // Accepting makes the account, named as ana asked, with the invited role.
    const HttpResponse joined = accept_link(inv.token, "Ana Li");
    ASSERT_EQ(joined.status, 200) << joined.body;
    const json::object j = joined.json().as_object();
    const std::string uid = text(j, "member");
    ASSERT_FALSE(uid.empty()) << joined.body;
    EXPECT_EQ(text(j, "organization"), org_id_);
    EXPECT_EQ(text(j, "email"), "ana@corp.example");
    EXPECT_EQ(text(j, "scope"), "org");
    EXPECT_EQ(text(j, "role"), "user");

    const json::object m = member_of(uid);
    EXPECT_EQ(org_role(m), "user");
    EXPECT_EQ(grants_of(m), Lines{"org user invitation"});
    EXPECT_EQ(member_ids(), sorted({owner_.id, uid}));
    const json::object user = scim_user(uid);
    EXPECT_EQ(text(user, "userName"), "ana@corp.example");
    EXPECT_EQ(text(user, "displayName"), "Ana Li");
    ASSERT_TRUE(user.contains("active")) << json::serialize(user);
    EXPECT_EQ(user.at("active"), json::value(true));

    // The link is used now.
    expect_api_error(accept_link(inv.token, "Ana Again"), 409, "already_used");
    expect_api_error(look_up(inv.token), 409, "already_used");
    EXPECT_EQ(users_named("ana@corp.example"), 1);
    const json::object done = invitation_of(inv.id);
    EXPECT_EQ(text(done, "status"), "accepted");
    EXPECT_EQ(text(done, "accepted_by"), uid);
    EXPECT_FALSE(text(done, "accepted_at").empty());
    EXPECT_EQ(invitation_ids("?status=accepted"), Ids{inv.id});
    EXPECT_EQ(invitation_ids("?status=pending"), Ids{});

    // The audit trail: the invitation's story, and the account's.
    const auto story = audit_events("?target=" + inv.id);
    Lines story_actions;
    for (const auto& e : story) {
        story_actions.push_back(text(e, "action"));
    }
    EXPECT_EQ(story_actions, (Lines{"invitation.created", "invitation.accepted"}));
    ASSERT_FALSE(story.empty());
    EXPECT_EQ(text(story[0], "actor"), owner_.actor());
    EXPECT_EQ(sorted(audit_actions("?target=" + uid)), (Lines{"account.created", "grant.added"}));
    bool grant_audited = false;
    for (const auto& e : audit_events("?action=grant.added")) {
        if (text(e, "target") != uid) {
            continue;
        }
        grant_audited = true;
        const json::value* after = e.if_contains("after");
        ASSERT_TRUE(after != nullptr && after->is_object()) << json::serialize(e);
        EXPECT_EQ(text(after->as_object(), "source"), "invitation") << json::serialize(e);
        EXPECT_EQ(text(after->as_object(), "role"), "user") << json::serialize(e);
    }
    EXPECT_TRUE(grant_audited);
    EXPECT_EQ(audit_actions("?action=invitation.accepted").size(), 1U);
}

// 2. Inviting someone already invited (same email and scope, pending) answers that invitation
//    and sends no second mail; another scope is another invitation; a person who is already
//    an active member (by userName or by email, in any case) is not invited.
TEST_P(Invitations, DuplicatesAndMembersAreNotInvitedTwice) {
    const Invite first = invite_ok(owner_, "dana@corp.example", "user");
    ASSERT_FALSE(first.id.empty());
    const HttpResponse again = invite(owner_, "dana@corp.example", "user");
    ASSERT_EQ(again.status, 200) << again.body;
    {
        const json::object o = again.json().as_object();
        EXPECT_EQ(text(o, "id"), first.id);
        ASSERT_TRUE(o.contains("already_invited")) << again.body;
        EXPECT_EQ(o.at("already_invited"), json::value(true));
        EXPECT_FALSE(o.contains("link")) << "no new secret for an existing invitation";
        EXPECT_EQ(text(o, "status"), "pending");
    }
    app_->deliver_mail();
    EXPECT_EQ(mail_files().size(), 1U);
    EXPECT_EQ(invitation_ids("?email=" + url_encode("dana@corp.example")), Ids{first.id});
    // The first link still works.
    EXPECT_EQ(look_up(first.token).status, 200);

    // Another scope is another invitation; the list is newest first.
    const std::string shop = make_site("shop");
    ASSERT_FALSE(shop.empty());
    const Invite to_shop = invite_ok(owner_, "dana@corp.example", "viewer", "site:" + shop);
    ASSERT_FALSE(to_shop.id.empty());
    EXPECT_NE(to_shop.id, first.id);
    EXPECT_EQ(invitation_ids("?email=" + url_encode("dana@corp.example")),
              (Ids{to_shop.id, first.id}));

    // Active members are refused: by userName, in another case, and by a secondary email.
    const Account mia = make_account("mia@corp.example");
    ASSERT_FALSE(mia.id.empty());
    expect_api_error(invite(owner_, "mia@corp.example", "user"), 409, "already_member");
    expect_api_error(invite(owner_, "Mia@Corp.Example", "viewer"), 409, "already_member");
    expect_api_error(invite(owner_, "olivia@corp.example", "user"), 409, "already_member");
    const std::string nora = create_user(json::object{
        {"schemas", json::array{kUserSchema}},
        {"userName", "nora"},
        {"emails",
         json::array{json::object{{"value", "nora.work@corp.example"}, {"type", "work"}}}}});
    ASSERT_FALSE(nora.empty());
    expect_api_error(invite(owner_, "nora.work@corp.example", "user"), 409, "already_member");
    EXPECT_EQ(invitation_ids(), (Ids{to_shop.id, first.id}));
    app_->deliver_mail();
    EXPECT_EQ(mail_files().size(), 2U);
}

// 3. A resend makes a new link and a new mail, and the old link stops working; a cancel makes
//    the link answer 410 cancelled, and a cancelled invitation is neither resent nor cancelled
//    again.
TEST_P(Invitations, ResendReplacesTheLinkAndCancelEndsIt) {
    const Invite inv = invite_ok(owner_, "ben@corp.example", "viewer");
    ASSERT_FALSE(inv.id.empty());
    app_->deliver_mail();
    ASSERT_EQ(mail_files().size(), 1U);

    const HttpResponse resent = call(owner_.key, "POST", "/invitations/" + inv.id + "/resend");
    ASSERT_EQ(resent.status, 200) << resent.body;
    const json::object r = resent.json().as_object();
    EXPECT_EQ(text(r, "id"), inv.id);
    EXPECT_EQ(text(r, "status"), "pending");
    EXPECT_EQ(num(r.at("resent_count")), 1);
    EXPECT_GE(text(r, "expires_at"), text(inv.body, "expires_at"));
    const std::string new_link = text(r, "link");
    const std::string new_token = token_of(new_link);
    EXPECT_EQ(new_link.rfind(kLinkPrefix, 0), 0U) << resent.body;
    ASSERT_FALSE(new_token.empty()) << resent.body;
    EXPECT_NE(new_token, inv.token);

    expect_api_error(look_up(inv.token), 404, "invalid_link");
    expect_api_error(accept_link(inv.token), 404, "invalid_link");
    const HttpResponse looked = look_up(new_token);
    ASSERT_EQ(looked.status, 200) << looked.body;
    EXPECT_EQ(text(looked.json().as_object(), "email"), "ben@corp.example");
    EXPECT_EQ(text(looked.json().as_object(), "role"), "viewer");

    // A second mail, with the new link; the first mail had the old one.
    app_->deliver_mail();
    EXPECT_EQ(mail_files().size(), 2U);
    EXPECT_EQ(mails_containing(new_link).size(), 1U);
    EXPECT_EQ(mails_containing(inv.link).size(), 1U);
    {
        const json::object now = invitation_of(inv.id);
        EXPECT_EQ(num(now.at("resent_count")), 1);
        ASSERT_TRUE(now.contains("mail") && now.at("mail").is_object()) << json::serialize(now);
        EXPECT_EQ(text(now.at("mail").as_object(), "status"), "sent");
    }

    // Cancelled: the link says so, whichever way it is used.
    const HttpResponse cancelled = call(owner_.key, "DELETE", "/invitations/" + inv.id);
    EXPECT_EQ(cancelled.status, 204) << cancelled.body;
    expect_api_error(look_up(new_token), 410, "cancelled");
    expect_api_error(accept_link(new_token, "Ben"), 410, "cancelled");
    EXPECT_EQ(users_named("ben@corp.example"), 0);
    const json::object after = invitation_of(inv.id);
    EXPECT_EQ(text(after, "status"), "cancelled");
    EXPECT_FALSE(text(after, "cancelled_at").empty());
    EXPECT_EQ(invitation_ids("?status=cancelled"), Ids{inv.id});
    EXPECT_EQ(invitation_ids("?status=pending"), Ids{});
    expect_api_error(call(owner_.key, "DELETE", "/invitations/" + inv.id), 409, "not_pending");
    expect_api_error(call(owner_.key, "POST", "/invitations/" + inv.id + "/resend"), 409,
                     "not_pending");
    expect_api_error(look_up(new_token), 410, "cancelled");  // still cancelled
    EXPECT_EQ(audit_actions("?target=" + inv.id),
              (Lines{"invitation.created", "invitation.resent", "invitation.cancelled"}));

    // A cancelled invitation doesn't stand in the way of a new one.
    const Invite fresh = invite_ok(owner_, "ben@corp.example", "viewer");
    ASSERT_FALSE(fresh.id.empty());
    EXPECT_NE(fresh.id, inv.id);
    EXPECT_FALSE(fresh.body.contains("already_invited"));
    expect_api_error(call(owner_.key, "DELETE",
                          std::string("/invitations/") + "7c9e6679-7425-40de-944b-e07fc1f90ae7"),
                     404, "not_found");
}

// 4. An invitation past its expiry is "expired" (computed, no job needed): its link answers
//    410 and says to ask for a resend; a resend makes it pending again with a working link.
TEST_P(Invitations, ExpiredLinksAskForAResendWhichRevivesThem) {
    const Invite old = stored_expired_invitation("lena@corp.example");
    ASSERT_FALSE(old.id.empty());

    expect_api_error(look_up(old.token), 410, "expired", "resend");
    expect_api_error(accept_link(old.token, "Lena"), 410, "expired", "resend");
    EXPECT_EQ(users_named("lena@corp.example"), 0);
    EXPECT_EQ(text(invitation_of(old.id), "status"), "expired");
    EXPECT_EQ(invitation_ids("?status=expired"), Ids{old.id});
    EXPECT_EQ(invitation_ids("?status=pending"), Ids{});
    EXPECT_EQ(invitation_ids(), Ids{old.id});

    const std::string now = hours_from_now(0);
    const HttpResponse resent = call(owner_.key, "POST", "/invitations/" + old.id + "/resend");
    ASSERT_EQ(resent.status, 200) << resent.body;
    const json::object r = resent.json().as_object();
    EXPECT_EQ(text(r, "status"), "pending");
    EXPECT_EQ(num(r.at("resent_count")), 1);
    EXPECT_GT(text(r, "expires_at"), now);
    const std::string token = token_of(text(r, "link"));
    ASSERT_FALSE(token.empty()) << resent.body;
    EXPECT_NE(token, old.token);

    EXPECT_EQ(invitation_ids("?status=pending"), Ids{old.id});
    EXPECT_EQ(invitation_ids("?status=expired"), Ids{});
    expect_api_error(look_up(old.token), 404, "invalid_link");
    const HttpResponse looked = look_up(token);
    ASSERT_EQ(looked.status, 200) << looked.body;
    EXPECT_EQ(text(looked.json().as_object(), "status"), "pending");

    // The new mail carries the new link.
    app_->deliver_mail();
    EXPECT_EQ(mails_containing(kLinkPrefix + token).size(), 1U);

    const std::string uid = accepted(token, "Lena");
    ASSERT_FALSE(uid.empty());
    EXPECT_EQ(grants_of(member_of(uid)), Lines{"org user invitation"});
    EXPECT_EQ(text(invitation_of(old.id), "status"), "accepted");
    EXPECT_EQ(audit_actions("?target=" + old.id),
              (Lines{"invitation.created", "invitation.resent", "invitation.accepted"}));
}

// 5. The three people of the issue: an agency client invited as viewer to one site sees that
//    site only; a UX designer invited as user to one product site; an analytics lead invited
//    as organization admin manages every site and invites others, which a site-only user
//    cannot.
TEST_P(Invitations, AgencyClientDesignerAndAnalyticsLead) {
    const std::string shop = make_site("shop");
    const std::string product = make_site("product");
    const std::string blog = make_site("blog");
    ASSERT_FALSE(shop.empty() || product.empty() || blog.empty());

    // The agency client: viewer on shop (named by its name), nothing else.
    const Invite client_inv = invite_ok(owner_, "cora@agency.example", "viewer", "site:shop");
    ASSERT_FALSE(client_inv.id.empty());
    EXPECT_EQ(text(client_inv.body, "scope"), site_scope(shop));
    ASSERT_TRUE(client_inv.body.contains("site")) << json::serialize(client_inv.body);
    EXPECT_EQ(text(client_inv.body.at("site").as_object(), "id"), shop);
    EXPECT_EQ(text(client_inv.body.at("site").as_object(), "name"), "shop");
    {
        const HttpResponse looked = look_up(client_inv.token);
        ASSERT_EQ(looked.status, 200) << looked.body;
        EXPECT_EQ(text(looked.json().as_object(), "site"), "shop");
        EXPECT_EQ(text(looked.json().as_object(), "role"), "viewer");
    }
    app_->deliver_mail();
    {
        const auto sent = mails_containing(client_inv.link);
        ASSERT_EQ(sent.size(), 1U);
        EXPECT_NE(sent[0].find("shop"), std::string::npos) << "the mail names the site:\n"
                                                           << sent[0];
    }
    const HttpResponse client_joined = accept_link(client_inv.token, "Cora Client");
    ASSERT_EQ(client_joined.status, 200) << client_joined.body;
    const std::string cora = text(client_joined.json().as_object(), "member");
    ASSERT_FALSE(cora.empty());
    EXPECT_EQ(text(client_joined.json().as_object(), "scope"), site_scope(shop));
    EXPECT_EQ(text(client_joined.json().as_object(), "role"), "viewer");
    {
        const json::object m = member_of(cora);
        EXPECT_EQ(org_role(m), "");
        EXPECT_EQ(site_roles(m), (std::map<std::string, std::string>{{shop, "viewer"}}));
        EXPECT_EQ(grants_of(m), Lines{site_scope(shop) + " viewer invitation"});
    }
    const Account cora_key = with_key(cora);
    {
        const json::object who = me(cora_key.key);
        EXPECT_EQ(org_role(who), "");
        EXPECT_EQ(site_roles(who), (std::map<std::string, std::string>{{shop, "viewer"}}));
    }
    const Ids on_shop = member_ids("?site=shop");
    const Ids on_blog = member_ids("?site=blog");
    EXPECT_TRUE(has(on_shop, cora)) << cora;
    EXPECT_FALSE(has(on_blog, cora)) << cora;

    // The UX designer: user on the product site.
    const Invite designer_inv =
        invite_ok(owner_, "uma@design.example", "user", site_scope(product));
    ASSERT_FALSE(designer_inv.id.empty());
    const std::string uma = accepted(designer_inv.token, "Uma Designer");
    ASSERT_FALSE(uma.empty());
    {
        const json::object m = member_of(uma);
        EXPECT_EQ(org_role(m), "");
        EXPECT_EQ(site_roles(m), (std::map<std::string, std::string>{{product, "user"}}));
        EXPECT_EQ(grants_of(m), Lines{site_scope(product) + " user invitation"});
    }

    // The analytics lead: organization admin.
    const Invite lead_inv = invite_ok(owner_, "lee@corp.example", "admin");
    ASSERT_FALSE(lead_inv.id.empty());
    const std::string lee = accepted(lead_inv.token, "Lee Lead");
    ASSERT_FALSE(lee.empty());
    {
        const json::object m = member_of(lee);
        EXPECT_EQ(org_role(m), "admin");
        EXPECT_EQ(grants_of(m), Lines{"org admin invitation"});
    }
    const Ids on_product = member_ids("?site=" + product);
    EXPECT_TRUE(has(on_product, lee)) << lee;
    EXPECT_TRUE(has(on_product, uma)) << uma;
    EXPECT_FALSE(has(on_product, cora)) << cora;

    // The lead invites others, to the organization and to any site, and is named as inviter.
    const Account lead = with_key(lee);
    const Invite analyst = invite_ok(lead, "ann@corp.example", "user");
    ASSERT_FALSE(analyst.id.empty());
    EXPECT_EQ(text(analyst.body, "created_by"), lead.actor());
    EXPECT_EQ(text(analyst.body, "invited_by"), "Lee Lead");
    const Invite blog_admin = invite_ok(lead, "bea@corp.example", "admin", site_scope(blog));
    ASSERT_FALSE(blog_admin.id.empty());
    {
        const HttpResponse looked = look_up(analyst.token);
        ASSERT_EQ(looked.status, 200) << looked.body;
        EXPECT_EQ(text(looked.json().as_object(), "invited_by"), "Lee Lead");
    }
    // …but not above their own role.
    expect_api_error(invite(lead, "otto@corp.example", "owner"), 403, "forbidden");
    // The lead sees every invitation, the owner's too.
    EXPECT_EQ(sorted(invitation_ids_as(lead)),
              sorted({client_inv.id, designer_inv.id, lead_inv.id, analyst.id, blog_admin.id}));

    // Site-only people invite nobody.
    const Account designer = with_key(uma);
    expect_api_error(invite(designer, "pat@design.example", "viewer", site_scope(product)), 403,
                     "forbidden");
    expect_api_error(invite(designer, "pat@design.example", "viewer"), 403, "forbidden");
    expect_api_error(invite(cora_key, "dan@agency.example", "viewer", site_scope(shop)), 403,
                     "forbidden");
    expect_api_error(call(designer.key, "GET", "/invitations"), 403, "forbidden");
    EXPECT_EQ(invitation_ids("?email=" + url_encode("pat@design.example")), Ids{});
}

// 6. Site admins invite to their site only; nobody invites above their own role; what one
//    may not invite, one may not see or cancel either.
TEST_P(Invitations, SiteAdminsInviteToTheirSiteAndNobodyAboveTheirRole) {
    const std::string shop = make_site("shop");
    const std::string blog = make_site("blog");
    ASSERT_FALSE(shop.empty() || blog.empty());
    const Account sam = make_account("sam@corp.example");  // admin of shop
    ASSERT_FALSE(sam.id.empty());
    put_grant(sam.id, core::Role::kAdmin, shop);

    const Invite shop_user = invite_ok(sam, "sue@corp.example", "user", "site:shop");
    ASSERT_FALSE(shop_user.id.empty());
    EXPECT_EQ(text(shop_user.body, "scope"), site_scope(shop));
    const Invite shop_admin = invite_ok(sam, "sid@corp.example", "admin", site_scope(shop));
    ASSERT_FALSE(shop_admin.id.empty());
    expect_api_error(invite(sam, "oz@corp.example", "viewer"), 403, "forbidden");
    expect_api_error(invite(sam, "oz@corp.example", "viewer", site_scope(blog)), 403, "forbidden");
    expect_api_error(invite(sam, "oz@corp.example", "viewer", "site:blog"), 403, "forbidden");

    // An organization admin: anything but owners.
    const Account adam = make_account("adam@corp.example");
    ASSERT_FALSE(adam.id.empty());
    put_grant(adam.id, core::Role::kAdmin);
    expect_api_error(invite(adam, "otto@corp.example", "owner"), 403, "forbidden");
    const Invite org_admin = invite_ok(adam, "ada@corp.example", "admin");
    ASSERT_FALSE(org_admin.id.empty());
    // An organization user invites nobody.
    const Account ursula = make_account("ursula@corp.example");
    ASSERT_FALSE(ursula.id.empty());
    put_grant(ursula.id, core::Role::kUser);
    expect_api_error(invite(ursula, "oz@corp.example", "viewer"), 403, "forbidden");
    // Owners invite owners; owner is no site role.
    const Invite co_owner = invite_ok(owner_, "otto@corp.example", "owner");
    ASSERT_FALSE(co_owner.id.empty());
    expect_api_error(invite(owner_, "oz@corp.example", "owner", site_scope(shop)), 400,
                     "invalid_value");

    // Nothing refused was made.
    EXPECT_EQ(invitation_ids("?email=" + url_encode("oz@corp.example")), Ids{});
    EXPECT_EQ(invitation_ids(), (Ids{co_owner.id, org_admin.id, shop_admin.id, shop_user.id}));

    // The site admin sees and manages the invitations to their site only.
    EXPECT_EQ(invitation_ids_as(sam), (Ids{shop_admin.id, shop_user.id}));
    expect_api_error(call(sam.key, "GET", "/invitations/" + org_admin.id), 404, "not_found");
    EXPECT_EQ(call(sam.key, "GET", "/invitations/" + shop_user.id).status, 200);
    expect_api_error(call(sam.key, "DELETE", "/invitations/" + org_admin.id), 403, "forbidden");
    expect_api_error(call(sam.key, "POST", "/invitations/" + co_owner.id + "/resend"), 403,
                     "forbidden");
    // The admin cannot cancel the owner's invitation of an owner either.
    expect_api_error(call(adam.key, "DELETE", "/invitations/" + co_owner.id), 403, "forbidden");
    EXPECT_EQ(text(invitation_of(co_owner.id), "status"), "pending");
    EXPECT_EQ(text(invitation_of(org_admin.id), "status"), "pending");
    EXPECT_EQ(call(sam.key, "DELETE", "/invitations/" + shop_user.id).status, 204);
    EXPECT_EQ(text(invitation_of(shop_user.id), "status"), "cancelled");

    // What the site admin's invitee gets is the site role only.
    const std::string sid = accepted(shop_admin.token);
    ASSERT_FALSE(sid.empty());
    const json::object m = member_of(sid);
    EXPECT_EQ(org_role(m), "");
    EXPECT_EQ(site_roles(m), (std::map<std::string, std::string>{{shop, "admin"}}));
}

// 7. The seat limit: a full organization invites nobody (403 user_limit); with one seat left,
//    two invitations can be made, the first acceptance takes the seat and the second is
//    refused with "user limit reached", its invitation staying pending until a seat is free.
TEST_P(Invitations, SeatLimitHoldsAtInvitationAndAtAcceptance) {
    const Account mia = make_account("mia@corp.example");
    ASSERT_FALSE(mia.id.empty());
    set_seat_limit(2);  // the owner and mia hold both seats
    expect_api_error(invite(owner_, "ivy@corp.example", "user"), 403, "user_limit",
                     "user limit reached: 2 of 2 seats used");
    EXPECT_EQ(invitation_ids(), Ids{});

    set_seat_limit(3);
    const Invite ivy = invite_ok(owner_, "ivy@corp.example", "user");
    const Invite jon = invite_ok(owner_, "jon@corp.example", "viewer");
    ASSERT_FALSE(ivy.id.empty() || jon.id.empty());
    const std::string ivy_id = accepted(ivy.token);
    ASSERT_FALSE(ivy_id.empty());

    const HttpResponse refused = accept_link(jon.token, "Jon");
    EXPECT_EQ(refused.status, 403) << refused.body;
    EXPECT_NE(refused.body.find("user limit reached"), std::string::npos) << refused.body;
    EXPECT_EQ(users_named("jon@corp.example"), 0);
    {
        const json::object j = invitation_of(jon.id);
        EXPECT_EQ(text(j, "status"), "pending");
        EXPECT_EQ(text(j, "accepted_by"), "");
    }
    EXPECT_EQ(look_up(jon.token).status, 200);
    // Full again: no more invitations.
    expect_api_error(invite(owner_, "kai@corp.example", "user"), 403, "user_limit",
                     "user limit reached: 3 of 3 seats used");

    // A seat more, and the same link works.
    set_seat_limit(4);
    const std::string jon_id = accepted(jon.token, "Jon");
    ASSERT_FALSE(jon_id.empty());
    EXPECT_EQ(grants_of(member_of(jon_id)), Lines{"org viewer invitation"});
    EXPECT_EQ(text(invitation_of(jon.id), "status"), "accepted");
}

// 8. Validation: a bad email, an unknown or missing field, a bad role or scope, a personal
//    mailbox under the "reject" policy, a bad status filter; the public endpoints need no
//    API key and answer 404 invalid_link to a secret nobody issued; the others need one.
TEST_P(Invitations, RequestsAreValidated) {
    expect_api_error(invite(owner_, "not-an-email", "user"), 400, "invalid_value");
    expect_api_error(invite(owner_, "two@@corp.example", "user"), 400, "invalid_value");
    expect_api_error(
        call(owner_.key, "POST", "/invitations",
             json::object{{"email", "x@corp.example"}, {"role", "user"}, {"site", "shop"}}),
        400, "unknown_field", "site");
    expect_api_error(
        call(owner_.key, "POST", "/invitations", json::object{{"email", "x@corp.example"}}), 400,
        "missing_field", "role");
    expect_api_error(invite(owner_, "x@corp.example", "boss"), 400, "invalid_value");
    expect_api_error(invite(owner_, "x@corp.example", "user", "everywhere"), 400, "invalid_value");
    expect_api_error(invite(owner_, "x@corp.example", "user", "site:nope"), 404, "not_found");
    expect_api_error(call(owner_.key, "POST", "/invitations", std::string("{\"email\":")), 400,
                     "invalid_json");
    expect_api_error(call(owner_.key, "GET", "/invitations?status=bogus"), 400, "invalid_value");
    expect_api_error(call(owner_.key, "GET", "/invitations/7c9e6679-7425-40de-944b-e07fc1f90ae7"),
                     404, "not_found");

    // Personal mailboxes: invited under the default policy, refused under "reject".
    const Invite gmail = invite_ok(owner_, "someone@gmail.com", "viewer");
    ASSERT_FALSE(gmail.id.empty());
    set_domain_policy("reject");
    expect_api_error(invite(owner_, "other@gmail.com", "viewer"), 400, "personal_mailbox",
                     "gmail.com");
    const Invite work = invite_ok(owner_, "other@corp.example", "viewer");
    ASSERT_FALSE(work.id.empty());
    EXPECT_EQ(invitation_ids(), (Ids{work.id, gmail.id}));
    // Under "reject" an IdP cannot create accounts on unverified domains either (DESIGN §2
    // rule 6); the accounts below are set up under the default policy.
    set_domain_policy("invite");

    // The public endpoints: no Authorization header at all.
    expect_api_error(look_up("scimdi_this-secret-was-never-issued"), 404, "invalid_link");
    expect_api_error(accept_link("scimdi_this-secret-was-never-issued", "Mallory"), 404,
                     "invalid_link");
    expect_api_error(look_up(""), 404, "invalid_link");
    expect_api_error(open_link("lookup", json::object{}), 400, "missing_field", "token");
    expect_api_error(open_link("accept", json::object{{"token", work.token}, {"role", "owner"}}),
                     400, "unknown_field", "role");
    EXPECT_EQ(text(invitation_of(work.id), "status"), "pending");
    EXPECT_EQ(look_up(work.token).status, 200);
    // The rest of the API needs a key.
    expect_api_error(anonymous_->request("GET", "/api/v1/invitations"), 401, "unauthenticated");
    expect_api_error(anonymous_->request("POST", "/api/v1/invitations",
                                         json::serialize(json::object{{"email", "y@corp.example"},
                                                                      {"role", "user"}}),
                                         {{"Content-Type", "application/json"}}),
                     401, "unauthenticated");
    const Account plain = make_account("plain@corp.example");
    ASSERT_FALSE(plain.id.empty());
    put_grant(plain.id, core::Role::kUser);
    expect_api_error(call(plain.key, "GET", "/invitations"), 403, "forbidden");
    expect_api_error(call(plain.key, "DELETE", "/invitations/" + work.id), 403, "forbidden");
    EXPECT_EQ(invitation_ids(), (Ids{work.id, gmail.id}));
}

// 9. A deactivated account may be invited back: accepting the invitation activates the same
//    account (same id) with the invited role.
TEST_P(Invitations, AcceptingReactivatesADeactivatedAccount) {
    const std::string rita = create_user("rita@corp.example");
    ASSERT_FALSE(rita.empty());
    ASSERT_EQ(set_active(rita, false).status, 200);
    EXPECT_EQ(scim_user(rita).at("active"), json::value(false));

    const Invite inv = invite_ok(owner_, "rita@corp.example", "user");
    ASSERT_FALSE(inv.id.empty());
    const HttpResponse joined = accept_link(inv.token, "Rita Back");
    ASSERT_EQ(joined.status, 200) << joined.body;
    EXPECT_EQ(text(joined.json().as_object(), "member"), rita);

    const json::object user = scim_user(rita);
    EXPECT_EQ(text(user, "id"), rita);
    EXPECT_EQ(text(user, "userName"), "rita@corp.example");
    ASSERT_TRUE(user.contains("active")) << json::serialize(user);
    EXPECT_EQ(user.at("active"), json::value(true));
    EXPECT_EQ(users_named("rita@corp.example"), 1);
    const json::object m = member_of(rita);
    EXPECT_EQ(org_role(m), "user");
    EXPECT_EQ(grants_of(m), Lines{"org user invitation"});
    EXPECT_EQ(text(invitation_of(inv.id), "accepted_by"), rita);
    // Active now: a second invitation is refused.
    expect_api_error(invite(owner_, "rita@corp.example", "viewer"), 409, "already_member");
}

// 10. Bulk CSV invitations (plan feature bulk_invite): a dry run reviews every row and changes
//     nothing; without it the file is applied all or none, or with partial=true the valid
//     rows only. BOM, CRLF, quoted fields and header case are the CSV parser's (unit tests).
TEST_P(Invitations, BulkCsvIsReviewedThenAppliedAllOrNone) {
    const auto bulk = [&](const std::string& csv, const std::string& query) {
        return client().request(
            "POST", std::string(kApi) + "/invitations/bulk" + query, csv,
            {{"Authorization", "Bearer " + owner_.key}, {"Content-Type", "text/csv"}});
    };
    const std::string shop = make_site("shop");
    ASSERT_FALSE(shop.empty());
    const std::string csv =
        "\xEF\xBB\xBF"
        "Email,Role,Site\r\n"
        "kim@agency.example,viewer,shop\r\n"
        "\"lee@corp.example\",admin,\r\n"
        "not-an-email,user,\r\n"
        "KIM@agency.example,viewer,shop\r\n"
        "olivia@corp.example,user,\r\n"
        "max@corp.example,owner,\r\n"
        "sam@corp.example,user,nowhere\r\n";
    expect_api_error(bulk(csv, "?dry_run=true"), 403, "plan_feature", "bulk_invite");
    {
        store::SqlOrganizationRepository orgs(app_->database());
        core::Plan plan = orgs.find(org_id_)->plan;
        plan.features = {"bulk_invite"};
        ASSERT_TRUE(orgs.update_plan(org_id_, plan, core::Audit{}));
    }
    const auto review = bulk(csv, "?dry_run=true");
    ASSERT_EQ(review.status, 200) << review.body;
    const json::value r = review.json();
    Lines statuses;
    for (const auto& row : r.at("rows").as_array()) {
        statuses.push_back(std::to_string(num(row.at("line"))) + " " +
                           std::string(row.at("status").as_string()));
    }
    EXPECT_EQ(statuses, (Lines{"2 valid", "3 valid", "4 invalid", "5 duplicate", "6 already_member",
                               "7 invalid", "8 invalid"}))
        << review.body;
    EXPECT_EQ(num(r.at("applied")), 0);
    EXPECT_EQ(invitation_count(), 0) << "a dry run changes nothing";

    // All or none: the invalid rows stop the whole file.
    const auto refused = bulk(csv, "");
    EXPECT_EQ(refused.status, 422) << refused.body;
    EXPECT_EQ(text(refused.json().as_object(), "code"), "invalid_rows");
    EXPECT_EQ(invitation_count(), 0) << "nothing applied";

    // partial=true: the two valid rows are applied, the rest reported.
    const auto applied = bulk(csv, "?partial=true");
    ASSERT_EQ(applied.status, 200) << applied.body;
    EXPECT_EQ(num(applied.json().at("applied")), 2);
    EXPECT_EQ(invitation_count(), 2);
    app_->deliver_mail();
    EXPECT_EQ(mails_containing("To: kim@agency.example").size(), 1U);

    // Seats: one seat left for two new people.
    set_seat_limit(static_cast<long long>(2));
    const auto seats = bulk("email,role,site\nnew1@corp.example,user,\nnew2@corp.example,user,\n",
                            "?dry_run=true");
    ASSERT_EQ(seats.status, 200) << seats.body;
    const json::value seats_body = seats.json();  // a reference into a temporary would dangle
    const json::array& rows = seats_body.at("rows").as_array();
    ASSERT_EQ(rows.size(), 2U);
    EXPECT_EQ(rows[0].at("status"), json::value("valid"));
    EXPECT_EQ(rows[1].at("status"), json::value("would_exceed_seats"));

    // The file's limits and form.
    expect_api_error(bulk("email,role\n\"unterminated,user\n", ""), 400, "invalid_csv");
    expect_api_error(bulk("mail,role\nx@corp.example,user\n", ""), 400, "invalid_csv", "email");
    expect_api_error(call(owner_.key, "POST", "/invitations/bulk", "{}"), 415,
                     "unsupported_media_type");
}

// The access review lists invitations nobody acted on for N days (issue 4 §6).
TEST_P(Invitations, AccessReviewListsInvitationsPendingForDays) {
    const Invite fresh = invite_ok(owner_, "new@corp.example", "viewer");
    ASSERT_FALSE(fresh.id.empty());
    store::SqlUserRepository users(app_->database());
    store::SqlInvitationRepository repo(app_->database(), users);
    core::Invitation old;
    old.id = util::uuid_v4();
    old.org_id = org_id_;
    old.email = "slow@corp.example";
    old.role = "user";
    old.token_hash = util::sha256_hex("scimdi_slow");
    old.created_by = "test";
    old.inviter = "Olivia Owner";
    const auto t = std::chrono::system_clock::now();
    old.created_at = core::format_time(t - std::chrono::hours(24 * 5));
    old.expires_at = core::format_time(t + std::chrono::hours(24 * 2));
    const core::OutboxMail m = core::queued_mail(util::uuid_v4(), org_id_, "invitation", old.id,
                                                 old.email, {"x", "x"}, old.created_at);
    ASSERT_TRUE(repo.create(old, m, core::Audit{}).second);
    const auto review = call(owner_.key, "GET", "/access-review?pending_days=3");
    ASSERT_EQ(review.status, 200) << review.body;
    const json::value r = review.json();
    Ids listed;
    for (const auto& i : r.at("pending_invitations").as_array()) {
        listed.emplace_back(i.at("id").as_string());
    }
    EXPECT_EQ(listed, Ids{old.id}) << "five days pending; the fresh one is not";
    const auto wide = call(owner_.key, "GET", "/access-review?pending_days=6");
    EXPECT_TRUE(wide.json().at("pending_invitations").as_array().empty()) << wide.body;
}

// Delivery through a real SMTP server on loopback: Debian's python3-aiosmtpd, which keeps
// every message it accepts in a Maildir.
class SmtpDelivery : public Invitations {
protected:
    void SetUp() override {
        box_ =
            (std::filesystem::temp_directory_path() / ("scimd-smtp-" + util::uuid_v4())).string();
        smtp_port_ = free_loopback_port();
        smtp_ = std::make_unique<ChildProcess>(std::vector<std::string>{
            "/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l",
            "127.0.0.1:" + std::to_string(smtp_port_), "-c", "aiosmtpd.handlers.Mailbox", box_});
        for (int i = 0; i < 100 && !tcp_accepting(smtp_port_); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        ASSERT_TRUE(tcp_accepting(smtp_port_)) << "aiosmtpd (python3-aiosmtpd) did not start";
        Invitations::SetUp();
    }

    void adjust_mail(app::MailConfig& mail) const override {
        mail.transport = "smtp";
        mail.smtp_url = "smtp://127.0.0.1:" + std::to_string(smtp_port_);
        mail.from = "team@scimd.example";
    }

    void TearDown() override {
        Invitations::TearDown();
        smtp_.reset();
        std::error_code ignored;
        std::filesystem::remove_all(box_, ignored);
    }

    /// The messages the SMTP server accepted.
    std::vector<std::string> received() const {
        std::vector<std::string> out;
        std::error_code ec;
        for (std::filesystem::directory_iterator it(box_ + "/new", ec), end; !ec && it != end;
             it.increment(ec)) {
            out.push_back(slurp(it->path()));
        }
        return out;
    }

    std::string box_;
    std::uint16_t smtp_port_ = 0;
    std::unique_ptr<ChildProcess> smtp_;
};

TEST_P(SmtpDelivery, InvitationMailArrivesOverSmtp) {
    const Invite inv = invite_ok(owner_, "kim@agency.example", "viewer");
    ASSERT_FALSE(inv.id.empty());
    app_->deliver_mail();  // the server's own worker may have sent it already
    const auto mail = received();
    ASSERT_EQ(mail.size(), 1U);
    for (const std::string& part :
         {std::string("To: kim@agency.example"), std::string("From: team@scimd.example"),
          std::string("Olivia Owner"), std::string("acme"), std::string("viewer"), inv.link}) {
        EXPECT_NE(mail[0].find(part), std::string::npos) << part << "\n" << mail[0];
    }
    const json::object j = invitation_of(inv.id);
    EXPECT_EQ(j.at("mail").at("status"), json::value("sent")) << json::serialize(j);
}

// An SMTP server that is not there: the attempt fails, the invitation shows why, and the mail
// waits for its next attempt instead of being lost.
TEST_P(SmtpDelivery, AFailedDeliveryIsVisibleOnTheInvitation) {
    smtp_->stop();
    const Invite inv = invite_ok(owner_, "kim@agency.example", "viewer");
    ASSERT_FALSE(inv.id.empty());
    app_->deliver_mail();
    const json::object j = invitation_of(inv.id);
    const json::object& m = j.at("mail").as_object();
    EXPECT_EQ(m.at("status"), json::value("pending")) << json::serialize(j);
    EXPECT_EQ(m.at("attempts"), json::value(1)) << json::serialize(j);
    EXPECT_NE(text(m, "last_error").find("SMTP delivery failed"), std::string::npos)
        << json::serialize(j);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, SmtpDelivery, ::testing::Values(Db::kSqlite), db_name);

// Delivery with STARTTLS and authentication, as a mail provider asks for: the server
// (tests/support/smtp_server.py on python3-aiosmtpd) refuses AUTH before STARTTLS and
// anything before AUTH, and presents the test CA's certificate for localhost.
class SmtpTlsDelivery : public Invitations {
protected:
    void SetUp() override {
        box_ =
            (std::filesystem::temp_directory_path() / ("scimd-smtps-" + util::uuid_v4())).string();
        port_ = free_loopback_port();
        const std::string script = std::string(SCIMD_SOURCE_DIR) + "/tests/support/smtp_server.py";
        const std::string port = std::to_string(port_);
        const Certs& tls = certs();  // made here: the child must not make them anew
        server_ = std::make_unique<ChildProcess>(std::vector<std::string>{
            "/usr/bin/python3", script, port, box_, tls.cert, tls.key, "scimd", kServerPassword});
        for (int i = 0; i < 100 && !tcp_accepting(port_); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        ASSERT_TRUE(tcp_accepting(port_)) << "tests/support/smtp_server.py did not start";
        Invitations::SetUp();
    }

    void adjust_mail(app::MailConfig& mail) const override {
        mail.transport = "smtp";
        mail.smtp_url = "smtp://localhost:" + std::to_string(port_);
        mail.smtp_user = "scimd";
        mail.smtp_password = password_;
        mail.smtp_ca_file = certs().ca;
        mail.smtp_timeout_seconds = 3;
        mail.from = "team@scimd.example";
    }

    void TearDown() override {
        Invitations::TearDown();
        server_.reset();
        std::error_code ignored;
        std::filesystem::remove_all(box_, ignored);
    }

    std::size_t received() const {
        std::error_code ec;
        std::size_t n = 0;
        for (std::filesystem::directory_iterator it(box_ + "/new", ec), end; !ec && it != end;
             it.increment(ec)) {
            ++n;
        }
        return n;
    }

    std::string box_;
    static constexpr const char* kServerPassword = "s3cret";
    std::string password_ = kServerPassword;  // what scimd logs in with
    std::uint16_t port_ = 0;
    std::unique_ptr<ChildProcess> server_;
};

TEST_P(SmtpTlsDelivery, MailGoesOutOverStartTlsWithAuthentication) {
    const Invite inv = invite_ok(owner_, "kim@agency.example", "viewer");
    ASSERT_FALSE(inv.id.empty());
    app_->deliver_mail();
    EXPECT_EQ(received(), 1U);
    EXPECT_EQ(invitation_of(inv.id).at("mail").at("status"), json::value("sent"));
}

class SmtpTlsWrongPassword : public SmtpTlsDelivery {
protected:
    void SetUp() override {
        password_ = "wrong";
        SmtpTlsDelivery::SetUp();
    }
};

// A wrong password: the server does not take the mail (aiosmtpd 1.4 leaves the client waiting
// after the refused login, so the attempt ends at the SMTP timeout), and the invitation shows
// the failed attempt and waits for the next one.
TEST_P(SmtpTlsWrongPassword, AFailedLoginIsVisibleOnTheInvitation) {
    const Invite inv = invite_ok(owner_, "kim@agency.example", "viewer");
    ASSERT_FALSE(inv.id.empty());
    app_->deliver_mail();
    EXPECT_EQ(received(), 0U);
    const json::object j = invitation_of(inv.id);
    const json::object& m = j.at("mail").as_object();
    EXPECT_EQ(m.at("status"), json::value("pending")) << json::serialize(j);
    EXPECT_NE(text(m, "last_error").find("SMTP delivery failed"), std::string::npos)
        << json::serialize(j);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, SmtpTlsDelivery, ::testing::Values(Db::kSqlite), db_name);
INSTANTIATE_TEST_SUITE_P(Sqlite, SmtpTlsWrongPassword, ::testing::Values(Db::kSqlite), db_name);

INSTANTIATE_TEST_SUITE_P(Backends,
                         Invitations,
                         ::testing::Values(Db::kSqlite, Db::kPostgres),
                         db_name);

}  // namespace
}  // namespace scimd::test
