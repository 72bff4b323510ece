#include "scimd/api/admin_api.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include <boost/json.hpp>

#include "scimd/core/access.hpp"
#include "scimd/core/csv.hpp"
#include "scimd/core/email.hpp"
#include "scimd/core/mail.hpp"
#include "scimd/error.hpp"
#include "scimd/protocol/resource.hpp"
#include "scimd/protocol/schema.hpp"
#include "scimd/protocol/target.hpp"
#include "scimd/util/crypto.hpp"

namespace scimd::api {
namespace json = boost::json;
using core::Role;

namespace {

// Most members one filtered list looks through: the effective-role filters (role, site,
// source) are evaluated on the accounts' grants, page by page of the organization.
constexpr long long kMaxCount = 200;
constexpr std::size_t kMaxBody = 64 * 1024;

// The stable code of an error, from its status and SCIM type.
std::string code_of(const Error& e) {
    switch (e.status()) {
        case 400:
            switch (e.scim_type()) {
                case ScimType::kInvalidSyntax:
                    return "invalid_json";
                case ScimType::kInvalidValue:
                    return "invalid_value";
                case ScimType::kInvalidFilter:
                    return "invalid_filter";
                case ScimType::kTooMany:
                    return "too_many";
                default:
                    return "bad_request";
            }
        case 401:
            return "unauthenticated";
        case 403:
            return "forbidden";
        case 404:
            return "not_found";
        case 405:
            return "method_not_allowed";
        case 409:
            return e.scim_type() == ScimType::kUniqueness ? "already_exists" : "conflict";
        case 410:
            return "gone";
        case 429:
            return "too_many_requests";
        case 503:
            return "unavailable";
        default:
            return "error";
    }
}

// An error whose code is not derived from its status.
struct CodedError : Error {
    CodedError(int status, std::string stable_code, std::string message)
        : Error(status, ScimType::kNone, std::move(message)), code(std::move(stable_code)) {}
    std::string code;
};

protocol::Response json_response(int status, const json::value& body) {
    protocol::Response res;
    res.status = status;
    res.headers.emplace_back("Content-Type", "application/json");
    res.body = json::serialize(body);
    return res;
}

protocol::Response no_content() {
    protocol::Response res;
    res.status = 204;
    return res;
}

// A JSON object body whose fields are all known: unknown fields are refused, so that a typo
// ("expire_at") is an error rather than a silent default.
class Body {
public:
    Body(const protocol::Request& req, std::initializer_list<std::string_view> known) {
        if (req.body.size() > kMaxBody) {
            throw CodedError(413, "too_large", "the request body is larger than 64 KiB");
        }
        boost::system::error_code ec;
        json::value v = json::parse(req.body.empty() ? std::string_view("{}") : req.body, ec);
        if (ec || !v.is_object()) {
            throw CodedError(400, "invalid_json", "the request body must be a JSON object");
        }
        o_ = std::move(v.as_object());
        for (const auto& kv : o_) {
            if (std::find(known.begin(), known.end(), std::string_view(kv.key())) == known.end()) {
                std::string list;
                for (std::string_view k : known) {
                    list += (list.empty() ? "" : ", ") + std::string(k);
                }
                throw CodedError(400, "unknown_field",
                                 "unknown field \"" + std::string(kv.key()) + "\"; known: " + list);
            }
        }
    }
    std::optional<std::string> str(std::string_view key, bool required = false) const {
        const json::value* v = o_.if_contains(key);
        if (v == nullptr || v->is_null()) {
            if (required) {
                throw CodedError(400, "missing_field", "\"" + std::string(key) + "\" is required");
            }
            return std::nullopt;
        }
        if (!v->is_string()) {
            throw CodedError(400, "invalid_value", "\"" + std::string(key) + "\" must be a string");
        }
        return std::string(v->get_string());
    }
    std::optional<long long> integer(std::string_view key) const {
        const json::value* v = o_.if_contains(key);
        if (v == nullptr || v->is_null()) {
            return std::nullopt;
        }
        if (!v->is_int64()) {
            throw CodedError(400, "invalid_value",
                             "\"" + std::string(key) + "\" must be an integer");
        }
        return v->get_int64();
    }
    const json::object& object() const { return o_; }

private:
    json::object o_;
};

Role role_of(const std::string& text) {
    const auto r = core::parse_role(text);
    if (!r) {
        throw CodedError(400, "invalid_value",
                         "\"" + text + "\" is not a role; roles are owner, admin, user, viewer");
    }
    return *r;
}

std::string ascii_lower(std::string v) {
    for (char& c : v) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return v;
}

json::value opt(const std::optional<std::string>& v) {
    return v ? json::value(json::string(*v)) : json::value(nullptr);
}

long long parse_count(const std::string* v, long long fallback, const char* name) {
    if (v == nullptr || v->empty()) {
        return fallback;
    }
    long long n = 0;
    const auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || p != v->data() + v->size()) {
        throw CodedError(400, "invalid_value", std::string(name) + " must be an integer");
    }
    return n;
}

class Handler {
public:
    Handler(const AdminContext& ctx, PublicLimits& limits, const protocol::Request& req)
        : ctx_(ctx), limits_(limits), req_(req) {}

    /// A request made on the organization's behalf by `actor` (the command line), not with
    /// an API key.
    Handler(const AdminContext& ctx,
            PublicLimits& limits,
            const protocol::Request& req,
            const core::Actor& actor,
            const std::string& org_id)
        : ctx_(ctx), limits_(limits), req_(req), org_(org_id), actor_(actor), preset_(true) {}

    protocol::Response run() {
        const protocol::Target t = protocol::parse_target(req_.target);
        query_ = t.query;
        s_ = t.segments;
        if (!s_.empty() && s_[0] == "public") {
            return public_route();
        }
        if (!preset_) {
            authenticate();
        }
        try {
            return route();
        } catch (const Error& e) {
            if (e.status() == 403) {
                // Refused privileged attempts are part of the audit trail.
                core::Audit a = audit();
                a.entries.push_back({"access.refused", "request", req_.method + " " + path(), "",
                                     json::serialize(json::object{{"reason", e.detail()}})});
                try {
                    ctx_.audit.append(org_, a);
                } catch (const std::exception&) {
                    // The refusal is answered whatever happens to its record.
                }
            }
            throw;
        }
    }

private:
    std::string path() const { return req_.target.substr(0, req_.target.find('?')); }
    std::string now() const { return core::format_time(ctx_.clock.now()); }

    core::Audit audit(std::vector<core::AuditEntry> entries = {}) const {
        core::Audit a;
        a.actor = actor_.id;
        a.request_id = req_.request_id;
        a.at = now();
        a.entries = std::move(entries);
        return a;
    }

    // --- authentication -------------------------------------------------------------------
    void authenticate() {
        const std::string* auth = req_.header("authorization");
        if (auth == nullptr || auth->size() < 7 ||
            !protocol::iequals(auth->substr(0, 7), "bearer ")) {
            throw CodedError(401, "unauthenticated",
                             "authentication required: send Authorization: Bearer <API key>");
        }
        std::string secret = auth->substr(7);
        while (!secret.empty() && (secret.back() == ' ' || secret.back() == '\t')) {
            secret.pop_back();
        }
        const std::string hash = util::sha256_hex(secret);
        const auto key = ctx_.api_keys.find_by_hash(hash);
        if (!key || !util::constant_time_equals(key->hash, hash) || key->revoked ||
            (key->expires && *key->expires <= now())) {
            throw CodedError(401, "unauthenticated", "the API key is not valid");
        }
        const auto user = ctx_.users.find(key->org_id, key->user_id);
        if (!user || !user->active) {
            throw CodedError(401, "unauthenticated", "the API key's account is not active");
        }
        org_ = key->org_id;
        actor_.id = "api_key:" + key->id;
        actor_.user_id = key->user_id;
        actor_.access =
            core::effective_access(ctx_.access.grants_of(org_, key->user_id), true, now());
        if (!key->last_used || key->last_used->substr(0, 16) != now().substr(0, 16)) {
            try {
                ctx_.api_keys.touch(key->id, now());
            } catch (const std::exception&) {
            }
        }
    }

    // --- routing --------------------------------------------------------------------------
    bool is(std::initializer_list<std::string_view> pattern) const {
        if (pattern.size() != s_.size()) {
            return false;
        }
        std::size_t i = 0;
        for (std::string_view p : pattern) {
            if (p != "*" && p != s_[i]) {
                return false;
            }
            ++i;
        }
        return true;
    }

    [[noreturn]] void not_allowed(const char* allowed) const {
        throw CodedError(405, "method_not_allowed",
                         "method " + req_.method + " is not allowed here; allowed: " + allowed);
    }

    protocol::Response route() {
        const std::string& m = req_.method;
        if (is({"me"})) {
            return m == "GET" ? me() : (not_allowed("GET"), no_content());
        }
        if (is({"sites"})) {
            return m == "GET"    ? list_sites()
                   : m == "POST" ? create_site()
                                 : (not_allowed("GET, POST"), no_content());
        }
        if (is({"sites", "*"})) {
            return m == "PATCH"    ? rename_site(s_[1])
                   : m == "DELETE" ? delete_site(s_[1])
                                   : (not_allowed("PATCH, DELETE"), no_content());
        }
        if (is({"members"})) {
            return m == "GET" ? list_members() : (not_allowed("GET"), no_content());
        }
        if (is({"members", "*"})) {
            return m == "GET"      ? member(s_[1])
                   : m == "DELETE" ? remove_member(s_[1])
                                   : (not_allowed("GET, DELETE"), no_content());
        }
        if (is({"members", "*", "grants"})) {
            return m == "POST"     ? grant(s_[1])
                   : m == "DELETE" ? revoke(s_[1])
                                   : (not_allowed("POST, DELETE"), no_content());
        }
        if (is({"members", "*", "sites", "*"})) {
            return m == "DELETE" ? remove_from_site(s_[1], s_[3])
                                 : (not_allowed("DELETE"), no_content());
        }
        if (is({"groups", "*", "roles"})) {
            return m == "GET"   ? group_roles(s_[1])
                   : m == "PUT" ? set_group_roles(s_[1])
                                : (not_allowed("GET, PUT"), no_content());
        }
        if (is({"naming-rules"})) {
            return m == "GET"    ? list_rules()
                   : m == "POST" ? create_rule()
                                 : (not_allowed("GET, POST"), no_content());
        }
        if (is({"naming-rules", "*"})) {
            return m == "DELETE" ? delete_rule(s_[1]) : (not_allowed("DELETE"), no_content());
        }
        if (is({"scim-tokens"})) {
            return m == "GET"    ? list_tokens()
                   : m == "POST" ? create_token()
                                 : (not_allowed("GET, POST"), no_content());
        }
        if (is({"scim-tokens", "*"})) {
            return m == "DELETE" ? revoke_token(s_[1]) : (not_allowed("DELETE"), no_content());
        }
        if (is({"api-keys"})) {
            return m == "GET"    ? list_keys()
                   : m == "POST" ? create_key()
                                 : (not_allowed("GET, POST"), no_content());
        }
        if (is({"api-keys", "*"})) {
            return m == "DELETE" ? revoke_key(s_[1]) : (not_allowed("DELETE"), no_content());
        }
        if (is({"members", "*", "sign-ins"})) {
            return m == "POST" ? sign_in(s_[1]) : (not_allowed("POST"), no_content());
        }
        if (is({"access-review"})) {
            return m == "GET" ? access_review() : (not_allowed("GET"), no_content());
        }
        if (is({"audit"})) {
            return m == "GET" ? list_audit() : (not_allowed("GET"), no_content());
        }
        if (is({"invitations"})) {
            return m == "GET"    ? list_invitations()
                   : m == "POST" ? create_invitation()
                                 : (not_allowed("GET, POST"), no_content());
        }
        if (is({"domains"})) {
            return m == "GET"    ? list_domains()
                   : m == "POST" ? add_domain()
                                 : (not_allowed("GET, POST"), no_content());
        }
        if (is({"domains", "*"})) {
            return m == "GET"      ? get_domain(s_[1])
                   : m == "PATCH"  ? domain_settings(s_[1])
                   : m == "DELETE" ? remove_domain(s_[1])
                                   : (not_allowed("GET, PATCH, DELETE"), no_content());
        }
        if (is({"domains", "*", "verify"})) {
            return m == "POST" ? verify_domain(s_[1]) : (not_allowed("POST"), no_content());
        }
        if (is({"invitations", "bulk"})) {
            return m == "POST" ? bulk_invitations() : (not_allowed("POST"), no_content());
        }
        if (is({"invitations", "*"})) {
            return m == "GET"      ? get_invitation(s_[1])
                   : m == "DELETE" ? cancel_invitation(s_[1])
                                   : (not_allowed("GET, DELETE"), no_content());
        }
        if (is({"invitations", "*", "resend"})) {
            return m == "POST" ? resend_invitation(s_[1]) : (not_allowed("POST"), no_content());
        }
        throw CodedError(404, "not_found", "no endpoint " + path());
    }

    // The endpoints a person reaches from an invitation mail, without an API key. The link's
    // secret travels in the body, never in a URL that logs would keep.
    protocol::Response public_route() {
        if (is({"public", "invitations", "lookup"})) {
            return req_.method == "POST" ? lookup_invitation()
                                         : (not_allowed("POST"), no_content());
        }
        if (is({"public", "invitations", "accept"})) {
            return req_.method == "POST" ? accept_invitation()
                                         : (not_allowed("POST"), no_content());
        }
        if (is({"public", "signup"})) {
            return req_.method == "POST" ? signup() : (not_allowed("POST"), no_content());
        }
        if (is({"public", "signup", "confirm"})) {
            return req_.method == "POST" ? confirm_signup() : (not_allowed("POST"), no_content());
        }
        throw CodedError(404, "not_found", "no endpoint " + path());
    }

    // --- shared -----------------------------------------------------------------------------
    json::object access_json(const core::EffectiveAccess& a) const {
        json::object sites;
        for (const auto& [site, role] : a.site_roles) {
            sites[site] = core::role_name(role);
        }
        return json::object{{"org_role", a.org_role ? json::value(core::role_name(*a.org_role))
                                                    : json::value(nullptr)},
                            {"site_roles", std::move(sites)}};
    }

    static json::object grant_json(const core::Grant& g, const std::string& now) {
        json::object o{{"scope", g.site_id.empty() ? std::string("org") : "site:" + g.site_id},
                       {"role", core::role_name(g.role)},
                       {"source", core::source_name(g.source)},
                       {"expires_at", opt(g.expires)},
                       {"expired", g.expired(now)}};
        if (!g.id.empty()) {
            o["id"] = g.id;
        }
        if (g.source == core::GrantSource::kScimGroup) {
            o["group"] = g.source_ref;
            o["binding"] = g.created_by;  // "manual" or "rule:<id>"
        }
        return o;
    }

    core::UserRecord account(const std::string& id) const {
        auto u = ctx_.users.find(org_, id);
        if (!u) {
            throw CodedError(404, "not_found", "no member " + id);
        }
        return std::move(*u);
    }

    // "org", "site:<id or name>" → "" or the site's id.
    std::string scope_site(const std::string& scope) const {
        if (scope == "org") {
            return "";
        }
        if (scope.rfind("site:", 0) == 0 && scope.size() > 5) {
            const auto site = ctx_.access.find_site(org_, scope.substr(5));
            if (!site) {
                throw CodedError(404, "not_found", "no site " + scope.substr(5));
            }
            return site->id;
        }
        throw CodedError(
            400, "invalid_value",
            "scope must be \"org\" or \"site:<site id or name>\"; got \"" + scope + "\"");
    }

    // The roles the grants give, active or not: who may act on a deactivated owner is decided
    // as for an active one.
    core::EffectiveAccess held(const std::vector<core::Grant>& grants) const {
        return core::effective_access(grants, true, now());
    }

    core::EffectiveAccess access_of(const core::UserRecord& u) const {
        return core::effective_access(ctx_.access.grants_of(org_, u.id), u.active, now());
    }

    // DESIGN §2 rule 3 for a change that takes away the ownership `before` shows.
    void check_last_owner(const core::EffectiveAccess& before) const {
        if (before.org_role == Role::kOwner) {
            core::check_last_owner(true, true, ctx_.access.count_active_owners(org_, now()));
        }
    }

    // Every account of the organization with its grants, a page of accounts at a time (each
    // page's grants read at once).
    template <typename F>
    void for_each_member(F&& f) const {
        core::ListQuery q;
        q.count = kMaxCount;
        for (;;) {
            const auto page = ctx_.users.list(org_, q);
            std::vector<std::string> ids;
            for (const auto& u : page.items) {
                ids.push_back(u.id);
            }
            auto grants = ctx_.access.grants_of_many(org_, ids);
            for (const auto& u : page.items) {
                f(u, grants[u.id]);
            }
            if (static_cast<long long>(page.items.size()) < q.count) {
                return;
            }
            q.start_index += q.count;
        }
    }

    // An account with no role anywhere has nothing to read or act on.
    void require_some_access() const {
        if (!actor_.system && actor_.access.none()) {
            throw Error::forbidden("this account has no role in the organization");
        }
    }

    // --- me -----------------------------------------------------------------------------------
    protocol::Response me() {
        const core::UserRecord u = account(actor_.user_id);
        return json_response(200, json::object{{"organization", org_},
                                               {"account", u.id},
                                               {"userName", u.user_name},
                                               {"access", access_json(actor_.access)}});
    }

    // --- sites ----------------------------------------------------------------------------------
    static json::object site_json(const core::Site& s) {
        return json::object{{"id", s.id}, {"name", s.name}, {"url", s.url}, {"created", s.created}};
    }

    protocol::Response list_sites() {
        require_some_access();
        json::array out;
        for (const auto& s : ctx_.access.list_sites(org_)) {
            out.push_back(site_json(s));
        }
        return json_response(200, json::object{{"sites", std::move(out)}});
    }

    static void check_site_name(const std::string& name) {
        if (name.empty() || name.size() > 200 || name.find(':') != std::string::npos) {
            throw CodedError(400, "invalid_value",
                             "a site name is 1 to 200 characters without \":\"");
        }
    }

    protocol::Response create_site() {
        core::authorize_org_admin(actor_, "sites");
        const Body b(req_, {"name", "url"});
        core::Site s;
        s.id = util::uuid_v4();
        s.org_id = org_;
        s.name = *b.str("name", true);
        check_site_name(s.name);
        s.url = b.str("url").value_or("");
        s.created = now();
        ctx_.access.insert_site(s, audit());
        return json_response(201, site_json(s));
    }

    protocol::Response rename_site(const std::string& id) {
        core::authorize_org_admin(actor_, "sites");
        const Body b(req_, {"name"});
        const std::string name = *b.str("name", true);
        check_site_name(name);
        const auto site = ctx_.access.find_site(org_, id);
        if (!site || !ctx_.access.rename_site(org_, site->id, name, audit())) {
            throw CodedError(404, "not_found", "no site " + id);
        }
        return json_response(200, site_json(*ctx_.access.find_site(org_, site->id)));
    }

    protocol::Response delete_site(const std::string& id) {
        core::authorize_org_admin(actor_, "sites");
        const auto site = ctx_.access.find_site(org_, id);
        if (!site || !ctx_.access.delete_site(org_, site->id, audit())) {
            throw CodedError(404, "not_found", "no site " + id);
        }
        return no_content();
    }

    // --- members --------------------------------------------------------------------------------
    json::object member_json(const core::UserRecord& u,
                             const std::vector<core::Grant>& grants) const {
        const auto a = core::effective_access(grants, u.active, now());
        std::set<std::string> sources;
        for (const auto& g : grants) {
            sources.insert(std::string(core::source_name(g.source)));
        }
        json::array src;
        for (const auto& x : sources) {
            src.emplace_back(x);
        }
        return json::object{
            {"id", u.id},         {"userName", u.user_name},  {"displayName", opt(u.display_name)},
            {"active", u.active}, {"access", access_json(a)}, {"sources", std::move(src)}};
    }

    // Whether the actor may see `a`'s member: org admins see everyone; a site admin the
    // members with access to a site they administer.
    bool visible(const core::EffectiveAccess& target) const {
        if (actor_.system || (actor_.access.org_role && *actor_.access.org_role >= Role::kAdmin)) {
            return true;
        }
        for (const auto& [site, role] : actor_.access.site_roles) {
            if (role == Role::kAdmin && (target.org_role || target.site_roles.count(site) > 0)) {
                return true;
            }
        }
        return false;
    }

    protocol::Response list_members() {
        core::authorize_read_members(actor_);
        const auto* role_q = query_.get("role");
        const auto* site_q = query_.get("site");
        const auto* source_q = query_.get("source");
        const auto* active_q = query_.get("active");
        const long long start =
            std::max<long long>(1, parse_count(query_.get("start"), 1, "start"));
        const long long count =
            std::clamp<long long>(parse_count(query_.get("count"), 100, "count"), 0, kMaxCount);
        std::optional<Role> role;
        if (role_q != nullptr && !role_q->empty()) {
            role = role_of(*role_q);
        }
        std::string site;
        if (site_q != nullptr && !site_q->empty()) {
            site = scope_site("site:" + *site_q);
        }
        std::optional<core::GrantSource> source;
        if (source_q != nullptr && !source_q->empty()) {
            source = core::parse_source(*source_q);
            if (!source) {
                throw CodedError(400, "invalid_value", "unknown source \"" + *source_q + "\"");
            }
        }
        std::optional<bool> active;
        if (active_q != nullptr && !active_q->empty()) {
            if (*active_q != "true" && *active_q != "false") {
                throw CodedError(400, "invalid_value", "active is true or false");
            }
            active = *active_q == "true";
        }
        const bool org_admin = actor_.access.org_role && *actor_.access.org_role >= Role::kAdmin;
        const bool filtered = role || !site.empty() || source || active || !org_admin;
        const std::string t = now();
        const auto matches = [&](const core::UserRecord& u, const std::vector<core::Grant>& g) {
            const auto a = core::effective_access(g, u.active, t);
            if (active && u.active != *active) {
                return false;
            }
            if (!visible(a)) {
                return false;
            }
            if (source && std::none_of(g.begin(), g.end(), [&](const core::Grant& x) {
                    return x.source == *source && !x.expired(t);
                })) {
                return false;
            }
            if (!site.empty()) {
                const auto r = a.on_site(site);
                return r && (!role || *r == *role);
            }
            return !role || a.org_role == role;
        };
        json::array out;
        long long total = 0;
        if (!filtered) {  // one page of accounts
            core::ListQuery q;
            q.count = count;
            q.start_index = start;
            const auto page = ctx_.users.list(org_, q);
            std::vector<std::string> ids;
            for (const auto& u : page.items) {
                ids.push_back(u.id);
            }
            auto grants = ctx_.access.grants_of_many(org_, ids);
            total = page.total;
            for (const auto& u : page.items) {
                out.push_back(member_json(u, grants[u.id]));
            }
        } else {
            for_each_member([&](const core::UserRecord& u, const std::vector<core::Grant>& g) {
                if (matches(u, g)) {
                    ++total;
                    if (total >= start && static_cast<long long>(out.size()) < count) {
                        out.push_back(member_json(u, g));
                    }
                }
            });
        }
        return json_response(200, json::object{{"total", total},
                                               {"start", start},
                                               {"count", out.size()},
                                               {"members", std::move(out)}});
    }

    // One member's access with the grants that produce it: for each scope, the effective
    // role and the grants behind it ("why does this person have admin on site X?").
    protocol::Response member(const std::string& id) {
        if (id != actor_.user_id) {  // one's own access is always readable
            core::authorize_read_members(actor_);
        }
        const core::UserRecord u = account(id);
        const auto grants = ctx_.access.grants_of(org_, u.id);
        const auto a = core::effective_access(grants, u.active, now());
        if (!visible(a) && u.id != actor_.user_id) {
            throw CodedError(404, "not_found", "no member " + id);
        }
        json::object o = member_json(u, grants);
        json::array list;
        for (const auto& g : grants) {
            // A site admin sees a member's grants on the organization and on their own sites.
            const bool shown = org_admin() || u.id == actor_.user_id || g.org_scope() ||
                               actor_.access.on_site(g.site_id) == Role::kAdmin;
            if (shown) {
                list.push_back(grant_json(g, now()));
            }
        }
        o["grants"] = std::move(list);
        json::array why;
        const std::string t = now();
        const auto explain = [&](const std::string& site, Role role) {
            json::array because;
            for (const auto& g : grants) {
                if (g.expired(t) || !u.active) {
                    continue;
                }
                const bool org_grant = g.org_scope();
                const Role gives =
                    org_grant && !site.empty() ? core::site_equivalent(g.role) : g.role;
                if ((org_grant || g.site_id == site) && gives == role) {
                    because.push_back(grant_json(g, t));
                }
            }
            why.push_back(
                json::object{{"scope", site.empty() ? std::string("org") : "site:" + site},
                             {"role", core::role_name(role)},
                             {"because", std::move(because)}});
        };
        if (a.org_role) {
            explain("", *a.org_role);
        }
        for (const auto& [site, role] : a.site_roles) {
            explain(site, role);
        }
        o["why"] = std::move(why);
        return json_response(200, o);
    }

    // The manual grant of `u` at the scope, if any.
    std::optional<core::Grant> manual_grant(const std::vector<core::Grant>& grants,
                                            const std::string& site) const {
        for (const auto& g : grants) {
            if (g.source == core::GrantSource::kManual && g.site_id == site) {
                return g;
            }
        }
        return std::nullopt;
    }

    protocol::Response grant(const std::string& id) {
        const Body b(req_, {"scope", "role", "expires_at"});
        const core::UserRecord u = account(id);
        const std::string site = scope_site(*b.str("scope", true));
        const Role role = role_of(*b.str("role", true));
        std::optional<std::string> expires = b.str("expires_at");
        if (expires) {
            std::chrono::system_clock::time_point tp;
            if (!core::parse_time(*expires, tp)) {
                throw CodedError(400, "invalid_value",
                                 "expires_at must be an RFC 3339 time, e.g. 2027-01-31T00:00:00Z");
            }
            expires = core::format_time(tp);
            if (*expires <= now()) {
                throw CodedError(400, "invalid_value", "expires_at is in the past");
            }
        }
        const auto grants = ctx_.access.grants_of(org_, u.id);
        const auto before = manual_grant(grants, site);
        core::authorize_role_change(
            actor_, site, before ? std::optional(before->role) : std::nullopt, role, held(grants));
        // An owner grant that stops being one, or that is made to expire, is a downgrade.
        if (before && before->role == Role::kOwner && (role != Role::kOwner || expires)) {
            check_last_owner(access_of(u));
        }
        core::Grant g;
        g.id = util::uuid_v4();
        g.org_id = org_;
        g.user_id = u.id;
        g.site_id = site;
        g.role = role;
        g.source = core::GrantSource::kManual;
        g.expires = expires;
        g.created = now();
        g.created_by = actor_.id;
        ctx_.access.put_grant(g, audit());
        return member(u.id);
    }

    protocol::Response revoke(const std::string& id) {
        const core::UserRecord u = account(id);
        const auto* scope = query_.get("scope");
        if (scope == nullptr) {
            throw CodedError(400, "missing_field",
                             "say which grant: ?scope=org or ?scope=site:<site>");
        }
        const std::string site = scope_site(*scope);
        const auto grants = ctx_.access.grants_of(org_, u.id);
        const auto before = manual_grant(grants, site);
        if (!before) {
            throw CodedError(404, "not_found",
                             "no grant made in the admin API at " + *scope +
                                 "; grants from groups, SCIM roles, domains and invitations "
                                 "change at their source");
        }
        core::authorize_role_change(actor_, site, before->role, std::nullopt, held(grants));
        if (before->role == Role::kOwner) {
            check_last_owner(access_of(u));
        }
        ctx_.access.revoke_grants(org_, u.id, site, core::GrantSource::kManual, audit());
        return no_content();
    }

    protocol::Response remove_from_site(const std::string& id, const std::string& site_key) {
        const core::UserRecord u = account(id);
        const std::string site = scope_site("site:" + site_key);
        const auto grants = ctx_.access.grants_of(org_, u.id);
        const auto before = manual_grant(grants, site);
        core::authorize_role_change(actor_, site,
                                    before ? std::optional(before->role) : std::nullopt,
                                    std::nullopt, held(grants));
        ctx_.access.revoke_grants(org_, u.id, site, core::GrantSource::kManual, audit());
        return no_content();
    }

    protocol::Response remove_member(const std::string& id) {
        const core::UserRecord u = account(id);
        const auto target = held(ctx_.access.grants_of(org_, u.id));
        core::authorize_role_change(actor_, "", target.org_role, std::nullopt, target);
        check_last_owner(access_of(u));
        ctx_.users.remove(org_, u.id,
                          audit({{"account.deleted", "account", u.id, u.document, ""}}));
        return no_content();
    }

    // --- group role bindings and naming rules ---------------------------------------------------
    protocol::Response group_roles(const std::string& id) {
        core::authorize_org_admin(actor_, "group role bindings");
        if (!ctx_.groups.find(org_, id, false)) {
            throw CodedError(404, "not_found", "no group " + id);
        }
        json::array out;
        for (const auto& r : ctx_.access.group_roles(org_, id)) {
            out.push_back(json::object{
                {"scope", r.site_id.empty() ? std::string("org") : "site:" + r.site_id},
                {"role", core::role_name(r.role)},
                {"origin", r.origin}});
        }
        return json_response(200, json::object{{"group", id}, {"roles", std::move(out)}});
    }

    protocol::Response set_group_roles(const std::string& id) {
        core::authorize_org_admin(actor_, "group role bindings");
        const Body b(req_, {"roles"});
        if (!ctx_.groups.find(org_, id, false)) {
            throw CodedError(404, "not_found", "no group " + id);
        }
        const json::value* roles = b.object().if_contains("roles");
        if (roles == nullptr || !roles->is_array()) {
            throw CodedError(400, "missing_field",
                             "\"roles\" is required: [{\"scope\": \"org\", \"role\": \"user\"}]");
        }
        std::vector<core::GroupRole> out;
        for (const json::value& v : roles->get_array()) {
            if (!v.is_object()) {
                throw CodedError(400, "invalid_value", "each role is {\"scope\", \"role\"}");
            }
            for (const auto& kv : v.get_object()) {
                if (kv.key() != "scope" && kv.key() != "role") {
                    throw CodedError(400, "unknown_field",
                                     "unknown field \"" + std::string(kv.key()) +
                                         "\" in a role; known: scope, role");
                }
            }
            const json::value* scope = v.get_object().if_contains("scope");
            const json::value* role = v.get_object().if_contains("role");
            if (scope == nullptr || !scope->is_string() || role == nullptr || !role->is_string()) {
                throw CodedError(400, "invalid_value",
                                 "each role is {\"scope\", \"role\"} strings");
            }
            core::GroupRole r;
            r.group_id = id;
            r.site_id = scope_site(std::string(scope->get_string()));
            r.role = role_of(std::string(role->get_string()));
            if (r.role == Role::kOwner) {
                throw CodedError(400, "invalid_value", "a group binding never grants owner");
            }
            // Nobody grants above their own level, through a group either.
            core::authorize_role_change(actor_, r.site_id, std::nullopt, r.role,
                                        core::EffectiveAccess{});
            out.push_back(std::move(r));
        }
        ctx_.access.set_group_roles(org_, id, out, audit());
        return group_roles(id);
    }

    static json::object rule_json(const core::NamingRule& r) {
        return json::object{{"id", r.id},
                            {"pattern", r.pattern},
                            {"role", r.role},
                            {"site", r.site},
                            {"created", r.created}};
    }

    protocol::Response list_rules() {
        core::authorize_org_admin(actor_, "naming rules");
        json::array out;
        for (const auto& r : ctx_.access.naming_rules(org_)) {
            out.push_back(rule_json(r));
        }
        return json_response(200, json::object{{"rules", std::move(out)}});
    }

    protocol::Response create_rule() {
        core::authorize_org_admin(actor_, "naming rules");
        const Body b(req_, {"pattern", "role", "site"});
        core::NamingRule r;
        r.id = util::uuid_v4();
        r.org_id = org_;
        r.pattern = *b.str("pattern", true);
        r.role = *b.str("role", true);
        r.site = b.str("site").value_or("");
        r.created = now();
        core::validate_rule(r);
        ctx_.access.insert_rule(r, audit());
        return json_response(201, rule_json(r));
    }

    protocol::Response delete_rule(const std::string& id) {
        core::authorize_org_admin(actor_, "naming rules");
        if (!ctx_.access.delete_rule(org_, id, audit())) {
            throw CodedError(404, "not_found", "no naming rule " + id);
        }
        return no_content();
    }

    // --- SCIM tokens and API keys --------------------------------------------------------------
    std::optional<std::string> expiry_in_days(const Body& b) const {
        const auto days = b.integer("expires_in_days");
        if (!days) {
            return std::nullopt;
        }
        if (*days < 1 || *days > 36500) {
            throw CodedError(400, "invalid_value", "expires_in_days is 1 to 36500");
        }
        return core::format_time(ctx_.clock.now() + std::chrono::hours(24 * *days));
    }

    protocol::Response list_tokens() {
        core::authorize_org_admin(actor_, "SCIM tokens");
        json::array out;
        for (const auto& t : ctx_.tokens.list(org_)) {
            out.push_back(json::object{{"id", t.id},
                                       {"name", t.name},
                                       {"created", t.created},
                                       {"expires", opt(t.expires)},
                                       {"revoked", opt(t.revoked)},
                                       {"last_used", opt(t.last_used)}});
        }
        return json_response(200, json::object{{"tokens", std::move(out)}});
    }

    protocol::Response create_token() {
        core::authorize_org_admin(actor_, "SCIM tokens");
        const Body b(req_, {"name", "expires_in_days"});
        const std::string secret = util::new_secret("scimd_");
        core::ScimToken t;
        t.id = util::uuid_v4();
        t.org_id = org_;
        t.name = *b.str("name", true);
        t.hash = util::sha256_hex(secret);
        t.created = now();
        t.expires = expiry_in_days(b);
        ctx_.tokens.insert(t, audit({{"token.created", "token", t.id, "",
                                      json::serialize(json::object{{"name", t.name}})}}));
        return json_response(
            201,
            json::object{
                {"id", t.id}, {"name", t.name}, {"expires", opt(t.expires)}, {"secret", secret}});
    }

    protocol::Response revoke_token(const std::string& id) {
        core::authorize_org_admin(actor_, "SCIM tokens");
        if (!ctx_.tokens.revoke(org_, id, now(), audit({{"token.revoked", "token", id, "", ""}}))) {
            throw CodedError(404, "not_found", "no active SCIM token " + id);
        }
        return no_content();
    }

    bool org_admin() const {
        return actor_.access.org_role && *actor_.access.org_role >= Role::kAdmin;
    }

    protocol::Response list_keys() {
        json::array out;
        for (const auto& k : ctx_.api_keys.list(org_)) {
            if (!org_admin() && k.user_id != actor_.user_id) {
                continue;  // one's own keys; org admins see all
            }
            out.push_back(json::object{{"id", k.id},
                                       {"account", k.user_id},
                                       {"name", k.name},
                                       {"created", k.created},
                                       {"expires", opt(k.expires)},
                                       {"revoked", opt(k.revoked)},
                                       {"last_used", opt(k.last_used)}});
        }
        return json_response(200, json::object{{"api_keys", std::move(out)}});
    }

    protocol::Response create_key() {
        require_some_access();
        const Body b(req_, {"name", "expires_in_days"});
        const std::string secret = util::new_secret(kApiKeyPrefix);
        core::ApiKey k;
        k.id = util::uuid_v4();
        k.org_id = org_;
        k.user_id = actor_.user_id;  // a key acts as its account: one makes keys for oneself
        k.name = *b.str("name", true);
        k.hash = util::sha256_hex(secret);
        k.created = now();
        k.expires = expiry_in_days(b);
        ctx_.api_keys.insert(
            k, audit({{"api_key.created", "api_key", k.id, "",
                       json::serialize(json::object{{"name", k.name}, {"account", k.user_id}})}}));
        return json_response(
            201,
            json::object{
                {"id", k.id}, {"name", k.name}, {"expires", opt(k.expires)}, {"secret", secret}});
    }

    protocol::Response revoke_key(const std::string& id) {
        std::optional<core::ApiKey> key;
        for (auto& k : ctx_.api_keys.list(org_)) {
            if (k.id == id) {
                key = std::move(k);
            }
        }
        if (key && key->user_id != actor_.user_id) {
            if (!org_admin()) {
                throw Error::forbidden(
                    "only organization owners and admins revoke other accounts' API keys");
            }
            // An owner's key is an owner's access: only an owner takes it away.
            if (held(ctx_.access.grants_of(org_, key->user_id)).org_role == Role::kOwner &&
                actor_.access.org_role != Role::kOwner) {
                throw Error::forbidden("only an owner revokes an owner's API keys");
            }
        }
        if (!ctx_.api_keys.revoke(org_, id, now(),
                                  audit({{"api_key.revoked", "api_key", id, "", ""}}))) {
            throw CodedError(404, "not_found", "no active API key " + id);
        }
        return no_content();
    }

    // --- sign-ins and the access review ----------------------------------------------------------
    // The host application records a sign-in (with the key of an owner or admin account).
    protocol::Response sign_in(const std::string& id) {
        core::authorize_org_admin(actor_, "sign-in records");
        const Body b(req_, {"at"});
        std::string at = now();
        if (const auto given = b.str("at")) {
            std::chrono::system_clock::time_point tp;
            if (!core::parse_time(*given, tp)) {
                throw CodedError(400, "invalid_value", "at must be an RFC 3339 time");
            }
            at = core::format_time(tp);
        }
        if (!ctx_.users.record_sign_in(org_, id, at)) {
            throw CodedError(404, "not_found", "no member " + id);
        }
        return no_content();
    }

    long long days_param(const char* name, long long fallback) const {
        const long long d = parse_count(query_.get(name), fallback, name);
        if (d < 1 || d > 3650) {
            throw CodedError(400, "invalid_value", std::string(name) + " is 1 to 3650");
        }
        return d;
    }

    // Who has access that deserves a second look: members who have not signed in for N days,
    // temporary grants about to expire, and everyone with owner or admin (DESIGN §1).
    protocol::Response access_review() {
        core::authorize_org_admin(actor_, "access reviews");
        const long long inactive_days = days_param("inactive_days", 30);
        const long long expiring_days = days_param("expiring_days", 14);
        const long long pending_days = days_param("pending_days", 3);
        const auto t = ctx_.clock.now();
        const std::string cutoff = core::format_time(t - std::chrono::hours(24 * inactive_days));
        const std::string until = core::format_time(t + std::chrono::hours(24 * expiring_days));
        json::array inactive;
        for (const auto& s : ctx_.users.not_signed_in_since(org_, cutoff, 1000)) {
            inactive.push_back(json::object{
                {"id", s.id}, {"userName", s.user_name}, {"last_sign_in", opt(s.last_sign_in)}});
        }
        json::array expiring;
        for (const auto& g : ctx_.access.expiring_grants(org_, now(), until)) {
            json::object o = grant_json(g, now());
            o["member"] = g.user_id;
            expiring.push_back(std::move(o));
        }
        // Owners and admins, whatever grants them (a group binding gives admin too).
        json::array privileged;
        for_each_member([&](const core::UserRecord& u, const std::vector<core::Grant>& g) {
            const auto a = core::effective_access(g, u.active, now());
            if (a.org_role && *a.org_role >= Role::kAdmin) {
                privileged.push_back(member_json(u, g));
            }
        });
        // Invitations nobody has acted on for N days.
        const std::string sent_before =
            core::format_time(t - std::chrono::hours(24 * pending_days));
        json::array waiting;
        for (const auto& inv :
             ctx_.invitations.list(org_, "pending", "", now(), kMaxInvitationList)) {
            if (inv.created_at <= sent_before) {
                waiting.push_back(invitation_json(inv));
            }
        }
        return json_response(200, json::object{{"inactive_days", inactive_days},
                                               {"expiring_days", expiring_days},
                                               {"pending_days", pending_days},
                                               {"pending_invitations", std::move(waiting)},
                                               {"not_signed_in", std::move(inactive)},
                                               {"expiring_grants", std::move(expiring)},
                                               {"owners_and_admins", std::move(privileged)}});
    }

    // A new, active account of the organization for a person who joins by mail (an
    // invitation or a sign-up): userName and work email are the address.
    core::UserRecord new_account(const std::string& email, const std::string& name) const {
        json::object body{{"schemas", json::array{"urn:ietf:params:scim:schemas:core:2.0:User"}},
                          {"userName", email},
                          {"emails", json::array{json::object{
                                         {"value", email}, {"primary", true}, {"type", "work"}}}},
                          {"active", true}};
        if (!name.empty()) {
            body["displayName"] = name;
        }
        const auto& registry = protocol::SchemaRegistry::builtin();
        json::object doc =
            protocol::normalize_resource(body, registry, *registry.resource_type("User"));
        core::UserRecord account;
        account.org_id = org_;
        account.id = util::uuid_v4();
        protocol::prepare_user_record(doc, account);
        account.document = json::serialize(doc);
        account.version = 1;
        account.created = account.last_modified = now();
        return account;
    }

    // --- self-registration (DESIGN §3 public endpoints) -------------------------------------
    static constexpr int kSignupHours = 24;

    // POST /public/signup {email, name}: on a verified domain with automatic provisioning, a
    // confirmation link goes out by mail. The answer is the same whether or not the domain
    // is known, so that nobody learns which organizations hold which domains.
    protocol::Response signup() {
        const Body b(req_, {"email", "name"});
        const std::string given = *b.str("email", true);
        const std::string name = b.str("name").value_or("");
        if (name.size() > 200) {
            throw CodedError(400, "invalid_value", "name is longer than 200 characters");
        }
        const auto email = core::normalize_email(given);
        if (!email) {
            throw CodedError(400, "invalid_value", "\"" + given + "\" is not an email address");
        }
        const auto t = ctx_.clock.now();
        if (!limits_.signups_per_client.allow("ip:" + req_.remote, t) ||
            !limits_.signups_per_address.allow("email:" + ascii_lower(*email), t)) {
            throw CodedError(429, "too_many_requests",
                             "too many sign-up requests; try again in an hour");
        }
        const json::object same{{"message", "if " + core::email_domain(*email) +
                                                " can sign up here, a confirmation mail is on "
                                                "its way to " +
                                                *email}};
        const auto domain = ctx_.domains.find_verified_anywhere(core::email_domain(*email));
        if (!domain || !domain->auto_provision) {
            return json_response(202, same);
        }
        org_ = domain->org_id;
        if (const auto existing = ctx_.users.find_by_email(org_, *email); existing) {
            return json_response(202, same);  // an account exists: nothing to confirm
        }
        const auto org = ctx_.orgs.find(org_);
        const std::string secret = util::new_secret("scimds_");
        core::Signup r;
        r.id = util::uuid_v4();
        r.org_id = org_;
        r.domain_id = domain->id;
        r.email = *email;
        r.name = name;
        r.token_hash = util::sha256_hex(secret);
        r.created_at = now();
        r.expires_at = core::format_time(t + std::chrono::hours(kSignupHours));
        const core::MailText text = core::signup_mail(
            org ? org->name : org_, core::signup_link(ctx_.public_url, secret), r.expires_at);
        const core::OutboxMail m =
            core::queued_mail(util::uuid_v4(), org_, "signup", r.id, r.email, text, now());
        ctx_.signups.create(r, m);
        return json_response(202, same);
    }

    // POST /public/signup/confirm {token}: creates the account with the domain's default
    // grant.
    protocol::Response confirm_signup() {
        const Body b(req_, {"token"});
        const std::string secret = *b.str("token", true);
        const auto r = ctx_.signups.find_by_token(util::sha256_hex(secret));
        if (!r || !util::constant_time_equals(r->token_hash, util::sha256_hex(secret))) {
            throw CodedError(404, "invalid_link", "this confirmation link is not valid");
        }
        if (r->status == "confirmed") {
            throw CodedError(409, "already_used", "this confirmation link was already used");
        }
        if (r->expires_at <= now()) {
            throw CodedError(410, "expired",
                             "this confirmation link expired at " + r->expires_at +
                                 "; sign up again for a new one");
        }
        org_ = r->org_id;
        actor_.id = "signup:" + r->id;
        const auto domain = ctx_.domains.find(org_, r->domain_id);
        if (!domain || !domain->verified_at || !domain->auto_provision) {
            throw CodedError(410, "gone",
                             "the organization no longer takes sign-ups on this domain");
        }
        const core::UserRecord account = new_account(r->email, r->name);
        const core::Grant g = core::domain_grant(*domain, util::uuid_v4(), account.id, now());
        try {
            ctx_.signups.confirm(
                *r, now(), account, g,
                audit({{"signup.confirmed", "account", account.id, "", account.document}}));
        } catch (const Error& e) {
            if (e.status() == 403) {
                throw CodedError(403, "user_limit", e.detail());
            }
            throw;
        }
        return json_response(200, json::object{{"member", account.id},
                                               {"organization", org_},
                                               {"email", r->email},
                                               {"scope", g.site_id.empty() ? std::string("org")
                                                                           : "site:" + g.site_id},
                                               {"role", core::role_name(g.role)}});
    }

    // --- domains (DESIGN §1 Domain) ---------------------------------------------------------
    json::object domain_json(const core::Domain& d) const {
        json::object o{
            {"id", d.id},
            {"domain", d.domain},
            {"status", d.verified_at ? "verified" : "pending"},
            {"verified_at", opt(d.verified_at)},
            {"verification",
             json::object{{"type", "TXT"}, {"name", d.domain}, {"value", d.txt_record()}}},
            {"auto_provision", d.auto_provision},
            {"default_scope",
             d.default_site_id.empty() ? std::string("org") : "site:" + d.default_site_id},
            {"default_role", d.default_role},
            {"created_at", d.created_at}};
        return o;
    }

    core::Domain domain(const std::string& id) const {
        auto d = ctx_.domains.find(org_, id);
        if (!d) {
            throw CodedError(404, "not_found", "no domain " + id);
        }
        return std::move(*d);
    }

    protocol::Response list_domains() {
        core::authorize_org_admin(actor_, "domains");
        json::array out;
        for (const auto& d : ctx_.domains.list(org_)) {
            out.push_back(domain_json(d));
        }
        return json_response(200, json::object{{"domains", std::move(out)}});
    }

    protocol::Response get_domain(const std::string& id) {
        core::authorize_org_admin(actor_, "domains");
        return json_response(200, domain_json(domain(id)));
    }

    protocol::Response add_domain() {
        core::authorize_org_admin(actor_, "domains");
        const Body b(req_, {"domain"});
        const std::string given = *b.str("domain", true);
        const auto name = core::normalize_domain(given);
        if (!name) {
            throw CodedError(400, "invalid_value", "\"" + given + "\" is not a domain name");
        }
        if (core::is_public_mailbox_domain(*name)) {
            throw CodedError(400, "personal_mailbox",
                             *name + " is a public mailbox provider; nobody can claim it");
        }
        core::Domain d;
        d.id = util::uuid_v4();
        d.org_id = org_;
        d.domain = *name;
        d.token = util::base64url(util::random_bytes(24));
        d.created_at = now();
        d.created_by = actor_.id;
        ctx_.domains.insert(d, audit());
        return json_response(201, domain_json(d));
    }

    // Looks the TXT records of the domain up, now: the domain is verified when one of them is
    // its verification record.
    protocol::Response verify_domain(const std::string& id) {
        core::authorize_org_admin(actor_, "domains");
        const core::Domain d = domain(id);
        if (!d.verified_at) {
            std::vector<std::string> records;
            try {
                records = ctx_.txt_records(d.domain);
            } catch (const std::exception& e) {
                throw CodedError(503, "dns_unavailable",
                                 std::string("cannot check DNS now: ") + e.what());
            }
            if (std::find(records.begin(), records.end(), d.txt_record()) == records.end()) {
                throw CodedError(422, "not_verified",
                                 "no TXT record \"" + d.txt_record() + "\" at " + d.domain +
                                     " yet (" + std::to_string(records.size()) +
                                     " TXT records found); DNS changes can take a while to "
                                     "be seen");
            }
            ctx_.domains.mark_verified(org_, id, now(), audit());
        }
        return json_response(200, domain_json(domain(id)));
    }

    protocol::Response domain_settings(const std::string& id) {
        core::authorize_org_admin(actor_, "domains");
        const core::Organization org = organization();
        if (!org.plan.has("domain_provisioning")) {
            throw CodedError(403, "plan_feature",
                             "automatic provisioning needs the plan feature "
                             "domain_provisioning, which " +
                                 org.name + "'s plan does not include");
        }
        const Body b(req_, {"auto_provision", "default_scope", "default_role"});
        core::Domain d = domain(id);
        if (const json::value* v = b.object().if_contains("auto_provision")) {
            if (!v->is_bool()) {
                throw CodedError(400, "invalid_value", "\"auto_provision\" must be true or false");
            }
            d.auto_provision = v->get_bool();
        }
        if (const auto scope = b.str("default_scope")) {
            d.default_site_id = scope_site(*scope);
        }
        if (const auto role = b.str("default_role")) {
            d.default_role = std::string(core::role_name(role_of(*role)));
        }
        const Role role = role_of(d.default_role);
        if (role == Role::kOwner) {
            throw CodedError(400, "invalid_value", "owner is never granted by a domain");
        }
        if (d.auto_provision && !d.verified_at) {
            throw CodedError(409, "not_verified",
                             d.domain +
                                 " is not verified yet; verify it before turning on "
                                 "automatic provisioning");
        }
        authorize_invitation(d.default_site_id, role);
        ctx_.domains.update_settings(d, audit());
        return json_response(200, domain_json(d));
    }

    protocol::Response remove_domain(const std::string& id) {
        core::authorize_org_admin(actor_, "domains");
        if (!ctx_.domains.remove(org_, id, audit())) {
            throw CodedError(404, "not_found", "no domain " + id);
        }
        return no_content();
    }

    // --- invitations (DESIGN §1 Invitation) ------------------------------------------------
    static constexpr std::size_t kMaxInvitationList = 1000;

    core::Organization organization() const {
        auto org = ctx_.orgs.find(org_);
        if (!org) {
            throw CodedError(404, "not_found", "the organization is gone");
        }
        return std::move(*org);
    }

    std::string site_name(const std::string& site_id) const {
        if (site_id.empty()) {
            return "";
        }
        const auto site = ctx_.access.find_site(org_, site_id);
        return site ? site->name : site_id;
    }

    std::string link_for(const std::string& secret) const {
        return core::invitation_link(ctx_.public_url, secret);
    }

    // Who the mail and the lookup say invited: the inviting account's name or userName.
    std::string inviter_name() const {
        const auto u = ctx_.users.find(org_, actor_.user_id);
        if (!u) {
            return "An administrator";
        }
        return u->display_name.value_or(u->user_name);
    }

    core::OutboxMail invitation_mail(const core::Invitation& inv,
                                     const core::Organization& org,
                                     const std::string& secret,
                                     bool resent) const {
        const core::MailText text =
            core::invitation_mail({org.name, site_name(inv.site_id), inv.role, inv.inviter,
                                   inv.expires_at, link_for(secret), resent});
        return core::queued_mail(util::uuid_v4(), org_, "invitation", inv.id, inv.email, text,
                                 now());
    }

    std::string expiry(const core::Organization& org) const {
        return core::invitation_expiry(ctx_.clock.now(), org.plan.invitation_days);
    }

    json::object invitation_json(const core::Invitation& inv) const {
        json::object o{{"id", inv.id},
                       {"email", inv.email},
                       {"scope", inv.site_id.empty() ? std::string("org") : "site:" + inv.site_id},
                       {"role", inv.role},
                       {"status", inv.status_at(now())},
                       {"invited_by", inv.inviter},
                       {"created_by", inv.created_by},
                       {"created_at", inv.created_at},
                       {"expires_at", inv.expires_at},
                       {"resent_count", inv.resent_count},
                       {"accepted_at", opt(inv.accepted_at)},
                       {"accepted_by", opt(inv.accepted_user_id)},
                       {"cancelled_at", opt(inv.cancelled_at)}};
        if (!inv.site_id.empty()) {
            o["site"] = json::object{{"id", inv.site_id}, {"name", site_name(inv.site_id)}};
        }
        const auto mail = ctx_.invitations.mail_of(org_, inv.id);
        if (!mail.empty()) {
            const core::OutboxMail& m = mail.front();
            o["mail"] = json::object{{"status", m.status},
                                     {"attempts", m.attempts},
                                     {"last_error", opt(m.last_error)},
                                     {"sent_at", opt(m.sent_at)}};
        }
        return o;
    }

    core::Invitation invitation(const std::string& id) const {
        auto inv = ctx_.invitations.find(org_, id);
        if (!inv) {
            throw CodedError(404, "not_found", "no invitation " + id);
        }
        return std::move(*inv);
    }

    // Managing an invitation takes what making it took: its role at its scope.
    void authorize_invitation(const std::string& site_id, Role role) const {
        core::authorize_role_change(actor_, site_id, std::nullopt, role, core::EffectiveAccess{});
    }

    protocol::Response create_invitation() {
        const Body b(req_, {"email", "scope", "role"});
        const std::string given = *b.str("email", true);
        const auto email = core::normalize_email(given);
        if (!email) {
            throw CodedError(400, "invalid_value", "\"" + given + "\" is not an email address");
        }
        const std::string site = scope_site(b.str("scope").value_or("org"));
        const Role role = role_of(*b.str("role", true));
        authorize_invitation(site, role);
        const core::Organization org = organization();
        const std::string domain = core::email_domain(*email);
        if (org.plan.unverified_domain_policy == "reject" &&
            core::is_public_mailbox_domain(domain)) {
            throw CodedError(400, "personal_mailbox",
                             domain +
                                 " is a personal mailbox provider; this organization "
                                 "invites only work addresses");
        }
        if (const auto existing = ctx_.users.find_by_email(org_, *email);
            existing && existing->active) {
            throw CodedError(409, "already_member",
                             *email + " is already a member of " + org.name +
                                 "; change their access on the member instead");
        }
        if (org.plan.seat_limit) {
            const long long used = ctx_.users.count_active(org_);
            if (used >= *org.plan.seat_limit) {
                throw CodedError(403, "user_limit",
                                 "user limit reached: " + std::to_string(used) + " of " +
                                     std::to_string(*org.plan.seat_limit) + " seats used");
            }
        }
        const std::string secret = util::new_secret("scimdi_");
        core::Invitation inv;
        inv.id = util::uuid_v4();
        inv.org_id = org_;
        inv.email = *email;
        inv.site_id = site;
        inv.role = std::string(core::role_name(role));
        inv.token_hash = util::sha256_hex(secret);
        inv.created_by = actor_.id;
        inv.inviter = inviter_name();
        inv.created_at = now();
        inv.expires_at = expiry(org);
        const auto [stored, created] =
            ctx_.invitations.create(inv, invitation_mail(inv, org, secret, false), audit());
        json::object out = invitation_json(stored);
        if (!created) {
            out["already_invited"] = true;
            return json_response(200, out);
        }
        out["link"] = link_for(secret);
        return json_response(201, out);
    }

    bool flag(const char* name) const {
        const auto* v = query_.get(name);
        if (v == nullptr || v->empty() || *v == "false" || *v == "0") {
            return false;
        }
        if (*v == "true" || *v == "1") {
            return true;
        }
        throw CodedError(400, "invalid_value", std::string(name) + " must be true or false");
    }

    // POST /invitations/bulk: a CSV file of email, role, site (empty: the organization).
    // Every row is reviewed first; ?dry_run=true answers the review and changes nothing.
    // Otherwise the rows are applied in one transaction, all or none (422 and nothing
    // applied when a row is not valid), or with ?partial=true the valid rows only.
    protocol::Response bulk_invitations() {
        const core::Organization org = organization();
        if (!org.plan.has("bulk_invite")) {
            throw CodedError(403, "plan_feature",
                             "bulk invitations need the plan feature bulk_invite, which " +
                                 org.name + "'s plan does not include");
        }
        const std::string* type = req_.header("content-type");
        if (type == nullptr || type->rfind("text/csv", 0) != 0) {
            throw CodedError(415, "unsupported_media_type",
                             "send the file with Content-Type: text/csv");
        }
        const bool dry_run = flag("dry_run");
        const bool partial = flag("partial");
        core::CsvTable table;
        try {
            table = core::parse_csv(req_.body);
        } catch (const Error& e) {
            throw CodedError(400, "invalid_csv", e.detail());
        }
        const auto email_col = core::column(table, "email");
        const auto role_col = core::column(table, "role");
        const auto site_col = core::column(table, "site");
        if (!email_col || !role_col) {
            throw CodedError(400, "invalid_csv",
                             "the header must name the columns email and role (and site, "
                             "empty for the organization)");
        }
        long long free_seats = std::numeric_limits<long long>::max();
        if (org.plan.seat_limit) {
            free_seats = *org.plan.seat_limit - ctx_.users.count_active(org_);
        }
        const std::string inviter = inviter_name();
        const std::string expires = expiry(org);
        std::set<std::string> seen;
        std::vector<json::object> rows;
        std::vector<std::pair<core::Invitation, core::OutboxMail>> todo;
        std::vector<std::size_t> todo_rows;
        std::map<std::string, int> summary;
        for (const core::CsvRow& r : table.rows) {
            const auto field = [&](const std::optional<std::size_t>& c) {
                return c && *c < r.fields.size() ? r.fields[*c] : std::string();
            };
            json::object row{{"line", r.line},
                             {"email", field(email_col)},
                             {"role", field(role_col)},
                             {"site", field(site_col)}};
            std::string status = "valid";
            std::optional<core::Invitation> inv;
            try {
                const auto email = core::normalize_email(field(email_col));
                if (!email) {
                    throw CodedError(400, "invalid_value", "not an email address");
                }
                const Role role = role_of(field(role_col));
                if (role == Role::kOwner) {
                    throw CodedError(400, "invalid_value",
                                     "owner is never granted through a bulk file");
                }
                const std::string site_key = field(site_col);
                const std::string site = scope_site(site_key.empty() ? "org" : "site:" + site_key);
                authorize_invitation(site, role);
                if (org.plan.unverified_domain_policy == "reject" &&
                    core::is_public_mailbox_domain(core::email_domain(*email))) {
                    throw CodedError(
                        400, "personal_mailbox",
                        core::email_domain(*email) + " is a personal mailbox provider");
                }
                if (!seen.insert(ascii_lower(*email) + "|" + site).second) {
                    status = "duplicate";
                } else if (const auto m = ctx_.users.find_by_email(org_, *email); m && m->active) {
                    status = "already_member";
                } else if (free_seats <= 0) {
                    status = "would_exceed_seats";
                } else {
                    --free_seats;
                    core::Invitation i;
                    i.id = util::uuid_v4();
                    i.org_id = org_;
                    i.email = *email;
                    i.site_id = site;
                    i.role = std::string(core::role_name(role));
                    i.created_by = actor_.id;
                    i.inviter = inviter;
                    i.created_at = now();
                    i.expires_at = expires;
                    inv = std::move(i);
                }
            } catch (const Error& e) {
                status = "invalid";
                row["reason"] = e.detail();
            }
            row["status"] = status;
            ++summary[status];
            if (inv) {
                const std::string secret = util::new_secret("scimdi_");
                inv->token_hash = util::sha256_hex(secret);
                todo_rows.push_back(rows.size());
                core::OutboxMail mail = invitation_mail(*inv, org, secret, false);
                todo.emplace_back(std::move(*inv), std::move(mail));
            }
            rows.push_back(std::move(row));
        }
        const std::size_t problems =
            rows.size() - todo.size() - summary["duplicate"] - summary["already_member"];
        const auto answer = [&](int status, std::size_t applied) {
            json::array out;
            for (auto& r : rows) {
                out.push_back(std::move(r));
            }
            json::object counts;
            for (const auto& [k, n] : summary) {
                counts[k] = n;
            }
            return json_response(status, json::object{{"dry_run", dry_run},
                                                      {"applied", applied},
                                                      {"summary", std::move(counts)},
                                                      {"rows", std::move(out)}});
        };
        if (dry_run) {
            return answer(200, 0);
        }
        if (problems > 0 && !partial) {
            protocol::Response res = answer(422, 0);
            json::object o = json::parse(res.body).as_object();
            o["code"] = "invalid_rows";
            o["message"] = std::to_string(problems) +
                           " rows are not valid; nothing was applied (fix them, or send "
                           "?partial=true to apply the valid rows)";
            res.body = json::serialize(o);
            return res;
        }
        const auto created = ctx_.invitations.create_many(todo, audit());
        std::size_t applied = 0;
        for (std::size_t i = 0; i < created.size(); ++i) {
            json::object& row = rows[todo_rows[i]];
            row["status"] = created[i].second ? "created" : "already_invited";
            row["invitation"] = created[i].first.id;
            applied += created[i].second ? 1 : 0;
        }
        return answer(200, applied);
    }

    protocol::Response list_invitations() {
        const auto* status = query_.get("status");
        const std::string wanted = status ? *status : "";
        if (!wanted.empty() && wanted != "pending" && wanted != "accepted" && wanted != "expired" &&
            wanted != "cancelled") {
            throw CodedError(400, "invalid_value",
                             "status must be pending, accepted, expired or cancelled");
        }
        if (!actor_.access.org_role || *actor_.access.org_role < Role::kAdmin) {
            core::authorize_read_members(actor_);
        }
        const auto* email = query_.get("email");
        json::array out;
        for (const auto& inv :
             ctx_.invitations.list(org_, wanted, email ? *email : "", now(), kMaxInvitationList)) {
            // A site admin sees the invitations to the sites they administer.
            if (!can_see(inv)) {
                continue;
            }
            out.push_back(invitation_json(inv));
        }
        return json_response(200, json::object{{"invitations", std::move(out)}});
    }

    bool can_see(const core::Invitation& inv) const {
        if (actor_.access.org_role && *actor_.access.org_role >= Role::kAdmin) {
            return true;
        }
        if (inv.site_id.empty()) {
            return false;
        }
        const auto it = actor_.access.site_roles.find(inv.site_id);
        return it != actor_.access.site_roles.end() && it->second >= Role::kAdmin;
    }

    protocol::Response get_invitation(const std::string& id) {
        const core::Invitation inv = invitation(id);
        if (!can_see(inv)) {
            throw CodedError(404, "not_found", "no invitation " + id);
        }
        return json_response(200, invitation_json(inv));
    }

    protocol::Response resend_invitation(const std::string& id) {
        core::Invitation inv = invitation(id);
        authorize_invitation(inv.site_id, inv.role.empty() ? Role::kViewer : role_of(inv.role));
        const std::string status = inv.status_at(now());
        if (status != "pending" && status != "expired") {
            throw CodedError(409, "not_pending",
                             "the invitation is " + status +
                                 "; only a pending or expired "
                                 "invitation can be resent");
        }
        const core::Organization org = organization();
        const std::string secret = util::new_secret("scimdi_");
        inv.expires_at = expiry(org);
        const auto after =
            ctx_.invitations.resend(org_, id, util::sha256_hex(secret), inv.expires_at,
                                    invitation_mail(inv, org, secret, true), audit());
        if (!after) {
            throw CodedError(409, "not_pending",
                             "the invitation was accepted or cancelled meanwhile");
        }
        json::object out = invitation_json(*after);
        out["link"] = link_for(secret);
        return json_response(200, out);
    }

    protocol::Response cancel_invitation(const std::string& id) {
        const core::Invitation inv = invitation(id);
        authorize_invitation(inv.site_id, inv.role.empty() ? Role::kViewer : role_of(inv.role));
        if (inv.status != "pending") {
            throw CodedError(409, "not_pending",
                             "the invitation is " + inv.status +
                                 "; only a pending invitation "
                                 "can be cancelled");
        }
        if (!ctx_.invitations.cancel(org_, id, now(), audit())) {
            throw CodedError(409, "not_pending",
                             "the invitation was accepted or cancelled meanwhile");
        }
        return no_content();
    }

    // The invitation a link's secret names, if it can still be accepted; otherwise the error
    // that tells the person what to do.
    core::Invitation usable_invitation(const std::string& secret) const {
        const auto inv = ctx_.invitations.find_by_token(util::sha256_hex(secret));
        if (!inv || !util::constant_time_equals(inv->token_hash, util::sha256_hex(secret))) {
            throw CodedError(404, "invalid_link",
                             "this invitation link is not valid; it may have been replaced by a "
                             "newer invitation mail");
        }
        const std::string status = inv->status_at(now());
        if (status == "expired") {
            throw CodedError(410, "expired",
                             "this invitation expired at " + inv->expires_at + "; ask " +
                                 inv->inviter + " to resend it");
        }
        if (status == "cancelled") {
            throw CodedError(410, "cancelled", "this invitation was cancelled");
        }
        if (status == "accepted") {
            throw CodedError(409, "already_used", "this invitation was already accepted");
        }
        return *inv;
    }

    protocol::Response lookup_invitation() {
        const Body b(req_, {"token"});
        const core::Invitation inv = usable_invitation(*b.str("token", true));
        org_ = inv.org_id;
        const auto org = ctx_.orgs.find(inv.org_id);
        json::object out{{"organization", org ? org->name : inv.org_id},
                         {"email", inv.email},
                         {"role", inv.role},
                         {"invited_by", inv.inviter},
                         {"expires_at", inv.expires_at},
                         {"status", inv.status_at(now())}};
        out["site"] = inv.site_id.empty() ? json::value(nullptr)
                                          : json::value(json::string(site_name(inv.site_id)));
        return json_response(200, out);
    }

    protocol::Response accept_invitation() {
        const Body b(req_, {"token", "name"});
        const core::Invitation inv = usable_invitation(*b.str("token", true));
        org_ = inv.org_id;
        actor_.id = "invitation:" + inv.id;
        const auto name = b.str("name");
        auto existing = ctx_.users.find_by_email(org_, inv.email);
        core::UserRecord account;
        std::int64_t expected = 0;
        core::Audit a = audit();
        a.entries.push_back({"invitation.accepted", "invitation", inv.id, "",
                             json::serialize(json::object{{"email", inv.email}})});
        if (existing) {
            account = std::move(*existing);
            expected = -1;
            if (!account.active) {
                json::object doc = json::parse(account.document).as_object();
                doc["active"] = true;
                account.document = json::serialize(doc);
                account.active = true;
                expected = account.version;
                account.version += 1;
                account.last_modified = now();
                a.entries.push_back({"account.activated", "account", account.id, "", ""});
            }
        } else {
            account = new_account(inv.email, name.value_or(""));
            a.entries.push_back({"account.created", "account", account.id, "", account.document});
        }
        // An invitation with no role only confirms the address (DESIGN §2 rule 6).
        std::optional<core::Grant> grant;
        if (!inv.role.empty()) {
            core::Grant g;
            g.id = util::uuid_v4();
            g.org_id = org_;
            g.user_id = account.id;
            g.site_id = inv.site_id;
            g.role = role_of(inv.role);
            g.source = core::GrantSource::kInvitation;
            g.source_ref = inv.id;
            g.created = now();
            g.created_by = inv.created_by;
            grant = g;
        }
        try {
            ctx_.invitations.accept(inv, now(), account, expected, grant, a);
        } catch (const Error& e) {
            if (e.status() == 403) {  // the seats ran out since the invitation was made
                throw CodedError(403, "user_limit", e.detail());
            }
            throw;
        }
        return json_response(
            200, json::object{
                     {"member", account.id},
                     {"organization", org_},
                     {"email", inv.email},
                     {"scope", inv.site_id.empty() ? std::string("org") : "site:" + inv.site_id},
                     {"role", inv.role}});
    }

    // --- audit trail -------------------------------------------------------------------
    protocol::Response list_audit() {
        core::authorize_org_admin(actor_, "the audit trail");
        core::AuditQuery q;
        const auto take = [&](const char* name, std::optional<std::string>& out) {
            if (const auto* v = query_.get(name); v && !v->empty()) {
                out = *v;
            }
        };
        take("actor", q.actor);
        take("action", q.action);
        take("target", q.target_id);
        for (const char* name : {"from", "to"}) {
            if (const auto* v = query_.get(name); v && !v->empty()) {
                std::chrono::system_clock::time_point tp;
                if (!core::parse_time(*v, tp)) {
                    throw CodedError(400, "invalid_value",
                                     std::string(name) + " must be an RFC 3339 time");
                }
                (std::string_view(name) == "from" ? q.from : q.to) = core::format_time(tp);
            }
        }
        q.start_index = std::max<long long>(1, parse_count(query_.get("start"), 1, "start"));
        q.count = std::clamp<long long>(parse_count(query_.get("count"), 100, "count"), 0, 1000);
        const auto page = ctx_.audit.list(org_, q);
        json::array out;
        const auto parsed = [](const std::string& text) -> json::value {
            if (text.empty()) {
                return nullptr;
            }
            boost::system::error_code ec;
            json::value v = json::parse(text, ec);
            return ec ? json::value(json::string(text)) : v;
        };
        for (const auto& e : page.items) {
            out.push_back(json::object{{"seq", e.seq},
                                       {"at", e.at},
                                       {"actor", e.actor},
                                       {"action", e.action},
                                       {"target_type", e.target_type},
                                       {"target", e.target_id},
                                       {"before", parsed(e.before)},
                                       {"after", parsed(e.after)},
                                       {"request_id", e.request_id}});
        }
        return json_response(200, json::object{{"total", page.total},
                                               {"start", q.start_index},
                                               {"count", out.size()},
                                               {"events", std::move(out)}});
    }

    const AdminContext& ctx_;
    PublicLimits& limits_;
    const protocol::Request& req_;
    protocol::Query query_;
    std::vector<std::string> s_;
    std::string org_;
    core::Actor actor_;
    bool preset_ = false;
};

}  // namespace

bool RateLimit::allow(const std::string& key, std::chrono::system_clock::time_point now) {
    std::lock_guard lock(m_);
    auto it = counts_.find(key);
    if (it == counts_.end() || now - it->second.first >= window_) {
        if (counts_.size() >= 100000) {
            // Bounded: windows that are over go first, then everything.
            std::erase_if(counts_,
                          [&](const auto& kv) { return now - kv.second.first >= window_; });
            if (counts_.size() >= 100000) {
                counts_.clear();
            }
        }
        counts_[key] = {now, 1};
        return true;
    }
    if (it->second.second >= per_window_) {
        return false;
    }
    ++it->second.second;
    return true;
}

protocol::Response AdminApi::handle(const protocol::Request& req) const {
    return answer([&] { return Handler(ctx_, limits_, req).run(); });
}

protocol::Response AdminApi::handle_as(const core::Actor& actor,
                                       const std::string& org_id,
                                       const protocol::Request& req) const {
    return answer([&] { return Handler(ctx_, limits_, req, actor, org_id).run(); });
}

protocol::Response AdminApi::answer(const std::function<protocol::Response()>& run) {
    try {
        return run();
    } catch (const CodedError& e) {
        protocol::Response res =
            json_response(e.status(), json::object{{"code", e.code}, {"message", e.detail()}});
        if (e.status() == 401) {
            res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"scimd\"");
        }
        return res;
    } catch (const Error& e) {
        protocol::Response res =
            json_response(e.status(), json::object{{"code", code_of(e)}, {"message", e.detail()}});
        if (e.status() == 503) {
            res.headers.emplace_back("Retry-After", "1");
        }
        return res;
    }
}

}  // namespace scimd::api
