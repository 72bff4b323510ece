#include "scimd/protocol/scim_service.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <functional>
#include <optional>
#include <string_view>

#include <boost/json.hpp>

#include "scimd/core/email.hpp"
#include "scimd/core/mail.hpp"
#include "scimd/protocol/filter.hpp"
#include "scimd/protocol/group.hpp"
#include "scimd/protocol/patch.hpp"
#include "scimd/protocol/resource.hpp"
#include "scimd/protocol/roles.hpp"
#include "scimd/protocol/target.hpp"
#include "scimd/util/crypto.hpp"

namespace scimd::protocol {
namespace json = boost::json;

namespace {

// A write that lost an optimistic-concurrency race is re-applied on fresh data this many
// times before the client is told to retry.
constexpr int kWriteAttempts = 5;
// last_used_at of a token is written at most this often, so reads stay reads.
constexpr auto kTouchInterval = std::chrono::seconds(60);

// Whether a stored User document has a manager (whose `$ref` the answer adds, R-45). A
// searcher that skips ahead: std::string::find compares at every quote of the document.
bool mentions_manager(std::string_view document) {
    static constexpr std::string_view kKey = "\"manager\"";
    static const std::boyer_moore_horspool_searcher finder(kKey.begin(), kKey.end());
    return std::search(document.begin(), document.end(), finder) != document.end();
}

// An id as one URL path segment (a manager id from an IdP may hold spaces or slashes).
std::string path_segment(std::string_view id) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : id) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        }
    }
    return out;
}

std::string etag_of(std::int64_t version) { return "W/\"" + std::to_string(version) + "\""; }

// If-Match / If-None-Match lists: "*" or comma-separated (weak or strong) tags.
bool etag_matches(const std::string& header, const std::string& etag) {
    const std::string strong = etag.substr(2);  // without W/
    std::size_t pos = 0;
    while (pos <= header.size()) {
        std::size_t end = header.find(',', pos);
        if (end == std::string::npos) {
            end = header.size();
        }
        std::string item = header.substr(pos, end - pos);
        const auto b = item.find_first_not_of(" \t");
        const auto e = item.find_last_not_of(" \t");
        item = b == std::string::npos ? "" : item.substr(b, e - b + 1);
        if (item == "*" || item == etag || item == strong) {
            return true;
        }
        pos = end + 1;
    }
    return false;
}

// U+0000 cannot be stored by PostgreSQL and is cut off by C strings: refuse it up front
// rather than store something other than what was sent. Depth is bounded by the parser.
void reject_nul(const json::value& v, int depth) {
    const auto check = [](std::string_view text) {
        if (text.find('\0') != std::string_view::npos) {
            throw Error::invalid_value("strings must not contain the character U+0000");
        }
    };
    if (v.is_string()) {
        check(v.get_string());
    } else if (v.is_array()) {
        for (const auto& item : v.get_array()) {
            reject_nul(item, depth + 1);
        }
    } else if (v.is_object()) {
        for (const auto& kv : v.get_object()) {
            check(kv.key());
            reject_nul(kv.value(), depth + 1);
        }
    }
}

json::value parse_body(const Request& req) {
    if (const std::string* ct = req.header("content-type")) {
        std::string media = to_lower(ct->substr(0, ct->find(';')));
        while (!media.empty() && media.back() == ' ') {
            media.pop_back();
        }
        const bool json_type = media.empty() || media == "application/json" ||
                               media == "application/scim+json" || media == "text/plain" ||
                               (media.size() > 5 && media.ends_with("+json"));
        if (!json_type) {
            throw Error(415, ScimType::kNone,
                        "Content-Type \"" + *ct +
                            "\" is not supported; send application/scim+json or application/json");
        }
    }
    if (req.body.empty()) {
        throw Error::invalid_syntax("the request body is empty; a JSON object is required");
    }
    boost::system::error_code ec;
    json::parse_options opts;
    opts.max_depth = 64;
    json::value v = json::parse(req.body, ec, {}, opts);
    if (ec) {
        throw Error::invalid_syntax("the request body is not valid JSON: " + ec.message());
    }
    if (!v.is_object()) {
        throw Error::invalid_syntax("the request body must be a JSON object");
    }
    reject_nul(v, 0);
    return v;
}

std::int64_t parse_int_param(const std::string& text, const char* name) {
    std::int64_t v = 0;
    const char* first = text.data();
    const char* last = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(first, last, v);
    if (ec != std::errc() || ptr != last) {
        throw Error::invalid_value(std::string(name) + " must be an integer, got \"" + text + "\"");
    }
    return v;
}

Response json_response(const Request& req, int status, const json::value& body) {
    Response res;
    res.status = status;
    res.headers.emplace_back("Content-Type", response_media_type(req));
    res.body = json::serialize(body);
    return res;
}

}  // namespace

std::string response_media_type(const Request& req) {
    if (const std::string* accept = req.header("accept")) {
        const std::string a = to_lower(*accept);
        if (a.find("application/json") != std::string::npos &&
            a.find("application/scim+json") == std::string::npos) {
            return "application/json; charset=utf-8";
        }
    }
    return "application/scim+json; charset=utf-8";
}

Response error_response(const Request& req, const Error& e) {
    json::object o;
    o["schemas"] = json::array{json::string(kErrorSchema)};
    o["status"] = std::to_string(e.status());  // a string, RFC 7644 §3.12
    if (e.scim_type() != ScimType::kNone) {
        o["scimType"] = std::string(to_string(e.scim_type()));
    }
    o["detail"] = e.detail();
    Response res = json_response(req, e.status(), o);
    if (e.status() == 401) {
        res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"scimd\"");
    }
    if (e.status() == 503) {
        res.headers.emplace_back("Retry-After", "1");
    }
    return res;
}

namespace {

class Handler {
public:
    Handler(const ScimContext& ctx,
            const TokenCache& cache,
            const PolicyCache& policies,
            const Request& req)
        : ctx_(ctx), cache_(cache), policies_(policies), req_(req) {}

    Response run() {
        org_ = authenticate();
        Target t = parse_target(req_.target);
        query_ = std::move(t.query);
        const auto& s = t.segments;
        if (s.empty()) {
            throw Error::not_found(
                "no resource at " + std::string(kScimPrefix) +
                "; see /ServiceProviderConfig, /ResourceTypes, /Schemas, /Users");
        }
        const std::string& root = s[0];
        Response res;
        if (iequals(root, "Users")) {
            res = users(s);
        } else if (iequals(root, "Groups")) {
            res = groups(s);
        } else if (iequals(root, "ServiceProviderConfig") && s.size() == 1) {
            allow("GET");
            res = service_provider_config();
        } else if (iequals(root, "ResourceTypes") && s.size() <= 2) {
            allow("GET");
            res = resource_types(s);
        } else if (iequals(root, "Schemas") && s.size() <= 2) {
            allow("GET");
            res = schemas(s);
        } else {
            throw Error::not_found("no endpoint " + std::string(kScimPrefix) + "/" + root);
        }
        res.org_id = org_;
        return res;
    }

private:
    // --- authentication -------------------------------------------------------------------
    std::string authenticate() {
        const std::string* auth = req_.header("authorization");
        if (auth == nullptr) {
            throw Error::unauthorized(
                "authentication required: send Authorization: Bearer <token>");
        }
        const auto space = auth->find(' ');
        if (space == std::string::npos || !iequals(auth->substr(0, space), "bearer")) {
            throw Error::unauthorized("the Authorization header must use the Bearer scheme");
        }
        std::string secret = auth->substr(space + 1);
        while (!secret.empty() && secret.front() == ' ') {
            secret.erase(secret.begin());
        }
        while (!secret.empty() && (secret.back() == ' ' || secret.back() == '\t')) {
            secret.pop_back();
        }
        const std::string hash = util::sha256_hex(secret);
        std::optional<core::ScimToken> token = cache_.get(hash);
        if (!token) {
            token = ctx_.tokens.find_by_hash(hash);
            if (token) {
                cache_.put(token->hash, *token);
            }
        }
        // The lookup is by hash; the comparison below is constant-time all the same.
        if (!token || !util::constant_time_equals(token->hash, hash)) {
            throw Error::unauthorized("the bearer token is not valid");
        }
        const auto now = ctx_.clock.now();
        if (token->revoked) {
            throw Error::unauthorized("the bearer token has been revoked");
        }
        std::chrono::system_clock::time_point t;
        if (token->expires && core::parse_time(*token->expires, t) && t <= now) {
            throw Error::unauthorized("the bearer token has expired");
        }
        if (!token->last_used || !core::parse_time(*token->last_used, t) ||
            now - t > kTouchInterval) {
            // Best effort: a busy database must not fail a read over a bookkeeping write.
            try {
                token->last_used = core::format_time(now);
                ctx_.tokens.touch(token->id, *token->last_used);
                cache_.put(token->hash, *token);
            } catch (const std::exception&) {
            }
        }
        token_id_ = token->id;
        return token->org_id;
    }

    // --- audit and access -----------------------------------------------------------------
    core::Audit audit(std::vector<core::AuditEntry> entries = {}) const {
        core::Audit a;
        a.actor = "scim_token:" + token_id_;
        a.request_id = req_.request_id;
        a.at = core::format_time(ctx_.clock.now());
        a.entries = std::move(entries);
        return a;
    }

    // The scim_roles grants a User document asks for (DESIGN §1: a sync replaces only its
    // own source's grants). Sites are named; an unknown one is refused, never skipped.
    std::vector<core::Grant> role_grants(const json::object& doc, const std::string& user_id) {
        std::vector<core::Grant> out;
        const std::string now = core::format_time(ctx_.clock.now());
        for (const RoleAssignment& a : role_assignments(doc)) {
            core::Grant g;
            if (!a.site.empty()) {
                const auto site = ctx_.access.find_site(org_, a.site);
                if (!site) {
                    throw Error::invalid_value("roles: \"" + a.text + "\" names a site \"" +
                                               a.site + "\" that this organization doesn't have");
                }
                g.site_id = site->id;
            }
            auto same = std::find_if(out.begin(), out.end(),
                                     [&](const core::Grant& x) { return x.site_id == g.site_id; });
            if (same != out.end()) {
                same->role = std::max(same->role, a.role);
                continue;
            }
            g.id = util::uuid_v4();
            g.org_id = org_;
            g.user_id = user_id;
            g.role = a.role;
            g.source = core::GrantSource::kScimRoles;
            g.created = now;
            g.created_by = "scim_token:" + token_id_;
            out.push_back(std::move(g));
        }
        return out;
    }

    void allow(const char* methods) {
        std::string m = req_.method;
        const std::string list = methods;
        std::size_t pos = 0;
        while (pos <= list.size()) {
            std::size_t end = list.find(", ", pos);
            if (end == std::string::npos) {
                end = list.size();
            }
            if (list.substr(pos, end - pos) == m ||
                (m == "HEAD" && list.substr(pos, end - pos) == "GET")) {
                return;
            }
            pos = end + 2;
        }
        allow_ = list;
        throw Error(405, ScimType::kNone, "method " + m + " is not allowed here; allowed: " + list);
    }

    // --- discovery ------------------------------------------------------------------------
    std::string base() const { return ctx_.base_url; }

    json::object with_location(json::object o) const {
        if (auto* meta = o.if_contains("meta"); meta && meta->is_object()) {
            auto& m = meta->get_object();
            if (auto* loc = m.if_contains("location"); loc && loc->is_string()) {
                *loc = base() + std::string(loc->get_string());
            }
        }
        return o;
    }

    Response service_provider_config() {
        json::object spc = ctx_.registry.service_provider_config();
        spc["meta"] = json::object{{"resourceType", "ServiceProviderConfig"},
                                   {"location", base() + "/ServiceProviderConfig"}};
        return json_response(req_, 200, spc);
    }

    Response list_of(json::array items) {
        json::object o;
        o["schemas"] = json::array{json::string(kListResponseSchema)};
        o["totalResults"] = items.size();
        o["startIndex"] = 1;
        o["itemsPerPage"] = items.size();
        o["Resources"] = std::move(items);
        return json_response(req_, 200, o);
    }

    Response resource_types(const std::vector<std::string>& s) {
        if (s.size() == 2) {
            const ResourceTypeDef* rt = ctx_.registry.resource_type(s[1]);
            if (rt == nullptr) {
                throw Error::not_found("no resource type \"" + s[1] + "\"");
            }
            return json_response(req_, 200, with_location(rt->json));
        }
        json::array items;
        for (const auto& rt : ctx_.registry.resource_types()) {
            items.push_back(with_location(rt.json));
        }
        return list_of(std::move(items));
    }

    // The access extension's roles are served with this organization's own values, so that
    // an IdP administrator picks among them.
    json::object served_schema(const SchemaDef& sd) const {
        json::object o = with_location(sd.json);
        if (!iequals(sd.id, kAccessUserSchema)) {
            return o;
        }
        json::array values{"org:admin", "org:user", "org:viewer"};
        for (const core::Site& site : ctx_.access.list_sites(org_)) {
            for (const char* role : {"admin", "user", "viewer"}) {
                values.emplace_back("site:" + site.name + ":" + role);
            }
        }
        for (auto& attr : o["attributes"].as_array()) {
            if (attr.as_object().at("name") == "roles") {
                attr.as_object()["canonicalValues"] = values;
            }
        }
        return o;
    }

    Response schemas(const std::vector<std::string>& s) {
        if (s.size() == 2) {
            const SchemaDef* sd = ctx_.registry.schema(s[1]);
            if (sd == nullptr) {
                throw Error::not_found("no schema \"" + s[1] + "\"");
            }
            return json_response(req_, 200, served_schema(*sd));
        }
        json::array items;
        for (const auto& sd : ctx_.registry.schemas()) {
            items.push_back(served_schema(sd));
        }
        return list_of(std::move(items));
    }

    struct ListParams {
        std::optional<std::string> filter, sort_by, sort_order, attributes, excluded;
        std::optional<std::int64_t> start_index, count;
    };

    // --- Groups ---------------------------------------------------------------------------
    const ResourceTypeDef& group_type() const {
        const ResourceTypeDef* rt = ctx_.registry.resource_type("Group");
        if (rt == nullptr) {
            throw std::logic_error("the Group resource type is not in schemas/");
        }
        return *rt;
    }

    Response groups(const std::vector<std::string>& s) {
        if (s.size() == 1) {
            allow("GET, POST");
            return req_.method == "POST" ? create_group() : list_groups(query_params());
        }
        if (s.size() == 2 && s[1] == ".search") {
            allow("POST");
            return list_groups(search_params());
        }
        if (s.size() == 2) {
            allow("GET, PUT, PATCH, DELETE");
            const std::string& id = s[1];
            if (req_.method == "GET" || req_.method == "HEAD") {
                return get_group(id);
            }
            if (req_.method == "PUT") {
                return replace_group(id);
            }
            if (req_.method == "PATCH") {
                return patch_group(id);
            }
            return delete_group(id);
        }
        throw Error::not_found("no endpoint " + req_.target);
    }

    Projection group_projection() const {
        const std::string* a = query_.get("attributes");
        const std::string* x = query_.get("excludedAttributes");
        return parse_projection(a ? *a : "", x ? *x : "", ctx_.registry, group_type());
    }

    json::object group_meta(const core::GroupRecord& g) const {
        return json::object{{"resourceType", "Group"},
                            {"created", g.created},
                            {"lastModified", g.last_modified},
                            {"location", base() + "/Groups/" + g.id},
                            {"version", etag_of(g.version)}};
    }

    std::string member_ref(const std::string& type, const std::string& id) const {
        return base() + (type == "Group" ? "/Groups/" : "/Users/") + path_segment(id);
    }

    // `members` is set only when the group was read with its members.
    std::string render_group(const core::GroupRecord& g, const Projection& p, bool members) const {
        json::object doc = json::parse(g.document).as_object();
        if (members) {
            json::array list;
            list.reserve(g.members.size());
            for (const core::MemberRef& m : g.members) {
                json::object o{
                    {"value", m.value}, {"$ref", member_ref(m.type, m.value)}, {"type", m.type}};
                if (!m.display.empty()) {
                    o["display"] = m.display;
                }
                list.push_back(std::move(o));
            }
            doc["members"] = std::move(list);
        }
        return json::serialize(
            render_resource(doc, g.id, group_meta(g), ctx_.registry, group_type(), p));
    }

    Response group_response(int status,
                            const core::GroupRecord& g,
                            const Projection& p,
                            bool members) {
        Response res;
        res.status = status;
        res.headers.emplace_back("Content-Type", response_media_type(req_));
        res.body = render_group(g, p, members);
        res.headers.emplace_back("ETag", etag_of(g.version));
        if (status == 201) {
            res.headers.emplace_back("Location", base() + "/Groups/" + g.id);
        }
        return res;
    }

    core::GroupRecord load_group(const std::string& id, bool members) {
        auto g = ctx_.groups.find(org_, id, members);
        if (!g) {
            throw Error::not_found("Group " + id + " not found");
        }
        return std::move(*g);
    }

    // The group's record from its canonical document (displayName, externalId extracted).
    static void prepare_group_record(const json::object& doc, core::GroupRecord& g) {
        const json::value* dn = doc.if_contains("displayName");
        if (dn == nullptr || !dn->is_string() || dn->get_string().empty()) {
            throw Error::invalid_value("displayName is required and must be a non-empty string");
        }
        g.display_name = std::string(dn->get_string());
        g.external_id.reset();
        if (const json::value* ext = doc.if_contains("externalId"); ext && ext->is_string()) {
            g.external_id = std::string(ext->get_string());
        }
        g.document = json::serialize(doc);
    }

    // Returns the group as written, re-read with its members when they are returned.
    Response written_group(int status, const std::string& id) {
        const Projection p = group_projection();
        const bool members = projection_includes(p, "members");
        return group_response(status, load_group(id, members), p, members);
    }

    Response get_group(const std::string& id) {
        const Projection p = group_projection();
        // R-19: excludedAttributes=members never reads the member rows.
        const bool members = projection_includes(p, "members");
        core::GroupRecord g = load_group(id, members);
        if (const std::string* inm = req_.header("if-none-match")) {
            if (etag_matches(*inm, etag_of(g.version))) {
                Response res;
                res.status = 304;
                res.headers.emplace_back("ETag", etag_of(g.version));
                return res;
            }
        }
        return group_response(200, g, p, members);
    }

    Response create_group() {
        const GroupInput in = parse_group_input(parse_body(req_), ctx_.registry, group_type());
        core::GroupRecord g;
        g.org_id = org_;
        g.id = util::uuid_v4();
        prepare_group_record(in.document, g);
        g.version = 1;
        g.created = g.last_modified = core::format_time(ctx_.clock.now());
        ctx_.groups.insert(g, in.members.value_or(std::vector<std::string>{}),
                           audit({{"group.created", "group", g.id, "", g.document}}));
        return written_group(201, g.id);
    }

    // R-70: an empty or missing displayName keeps the stored one.
    static void keep_display_name(const json::object& old_doc, json::object& doc) {
        const json::value* dn = doc.if_contains("displayName");
        if (dn == nullptr || !dn->is_string() || dn->get_string().empty()) {
            if (const json::value* old = old_doc.if_contains("displayName")) {
                doc["displayName"] = *old;
            }
        }
    }

    // R-34: PUT replaces displayName, externalId and, when the body has them, the members.
    // A body without `members` keeps them: losing a whole membership to an omission is
    // worse than the letter of RFC 7644 §3.5.1.
    Response replace_group(const std::string& id) {
        const json::value body = parse_body(req_);
        const GroupInput in = parse_group_input(body, ctx_.registry, group_type());
        core::MembershipChange change;
        if (in.members) {
            change.replace_all = true;
            change.add = *in.members;
        }
        for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
            core::GroupRecord g = load_group(id, false);
            check_if_match(g.version);
            const json::object old_doc = json::parse(g.document).as_object();
            json::object doc = in.document;
            keep_display_name(old_doc, doc);
            check_replacement(old_doc, doc, ctx_.registry, group_type());
            const std::int64_t expected = g.version;
            prepare_group_record(doc, g);
            g.version = expected + 1;
            g.last_modified = core::format_time(ctx_.clock.now());
            if (ctx_.groups.update(g, expected, change, group_audit(old_doc, g))) {
                return written_group(200, id);
            }
        }
        throw Error::conflict("Group " + id + " is being changed concurrently; retry the request");
    }

    // R-47: 204 without a body (Entra asks not to be sent member lists), unless the request
    // asks for a representation with attributes or excludedAttributes.
    Response patched_group(const std::string& id) {
        if (query_.get("attributes") != nullptr || query_.get("excludedAttributes") != nullptr) {
            return written_group(200, id);
        }
        Response res;
        res.status = 204;
        return res;
    }

    Response patch_group(const std::string& id) {
        const json::value body = parse_body(req_);
        const GroupPatch patch =
            split_group_patch(parse_patch_request(body), ctx_.registry, group_type());
        const std::string now = core::format_time(ctx_.clock.now());
        if (patch.attribute_ops.empty() && req_.header("if-match") == nullptr) {
            // Members alone: applied as a delta, without reading the group or its members.
            if (!patch.members.empty() &&
                !ctx_.groups.change_members(org_, id, patch.members, now, audit())) {
                throw Error::not_found("Group " + id + " not found");
            }
            if (patch.members.empty()) {
                load_group(id, false);  // still 404 for an unknown group
            }
            return patched_group(id);
        }
        for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
            core::GroupRecord g = load_group(id, false);
            check_if_match(g.version);
            const json::object before = json::parse(g.document).as_object();
            json::object doc = before;
            apply_patch(doc, patch.attribute_ops, ctx_.registry, group_type());
            keep_display_name(before, doc);
            // R-48: a PATCH that changes nothing succeeds without a new version.
            if (doc == before && patch.members.empty()) {
                return patched_group(id);
            }
            const std::int64_t expected = g.version;
            prepare_group_record(doc, g);
            g.version = expected + 1;
            g.last_modified = now;
            if (ctx_.groups.update(g, expected, patch.members, group_audit(before, g))) {
                return patched_group(id);
            }
        }
        throw Error::conflict("Group " + id + " is being changed concurrently; retry the request");
    }

    // A group's attributes changed: renamed (displayName) or updated.
    core::Audit group_audit(const json::object& old_doc, const core::GroupRecord& next) const {
        const json::value* old_name = old_doc.if_contains("displayName");
        const bool renamed = old_name == nullptr || !old_name->is_string() ||
                             old_name->get_string() != next.display_name;
        const std::string before = json::serialize(old_doc);
        if (before == next.document) {
            return audit();
        }
        return audit({{renamed ? "group.renamed" : "group.updated", "group", next.id, before,
                       next.document}});
    }

    Response delete_group(const std::string& id) {
        const core::GroupRecord g = load_group(id, false);
        check_if_match(g.version);
        if (!ctx_.groups.remove(org_, id,
                                audit({{"group.deleted", "group", id, g.document, ""}}))) {
            throw Error::not_found("Group " + id + " not found");
        }
        Response res;
        res.status = 204;
        return res;
    }

    Response list_groups(const ListParams& p) {
        const ResourceTypeDef& type = group_type();
        const Projection projection = parse_projection(
            p.attributes.value_or(""), p.excluded.value_or(""), ctx_.registry, type);
        const bool members = projection_includes(projection, "members");
        std::optional<core::Filter> filter;
        core::ListQuery q = list_query(p, type, filter);
        core::Page<core::GroupRecord> page = ctx_.groups.list(org_, q, members);
        Response res;
        res.headers.emplace_back("Content-Type", response_media_type(req_));
        res.body = list_envelope(page.total, q.start_index, page.items.size());
        for (std::size_t i = 0; i < page.items.size(); ++i) {
            if (i > 0) {
                res.body += ',';
            }
            res.body += render_group(page.items[i], projection, members);
        }
        res.body += "]}";
        return res;
    }

    // --- Users ----------------------------------------------------------------------------
    const ResourceTypeDef& user_type() const {
        const ResourceTypeDef* rt = ctx_.registry.resource_type("User");
        if (rt == nullptr) {
            throw std::logic_error("the User resource type is not in schemas/");
        }
        return *rt;
    }

    Response users(const std::vector<std::string>& s) {
        if (s.size() == 1) {
            allow("GET, POST");
            return req_.method == "POST" ? create_user() : list_users(query_params());
        }
        if (s.size() == 2 && s[1] == ".search") {
            allow("POST");
            return list_users(search_params());
        }
        if (s.size() == 2) {
            allow("GET, PUT, PATCH, DELETE");
            const std::string& id = s[1];
            if (req_.method == "GET" || req_.method == "HEAD") {
                return get_user(id);
            }
            if (req_.method == "PUT") {
                return replace_user(id);
            }
            if (req_.method == "PATCH") {
                return patch_user(id);
            }
            return delete_user(id);
        }
        throw Error::not_found("no endpoint " + req_.target);
    }

    json::object meta_of(const core::UserRecord& u) const {
        return json::object{{"resourceType", "User"},
                            {"created", u.created},
                            {"lastModified", u.last_modified},
                            {"location", base() + "/Users/" + u.id},
                            {"version", etag_of(u.version)}};
    }

    // R-45: manager goes out as a complex object with its $ref.
    void add_manager_ref(json::object& resource) const {
        if (auto* ext = resource.if_contains(kEnterpriseUserSchema); ext && ext->is_object()) {
            if (auto* mgr = ext->get_object().if_contains("manager"); mgr && mgr->is_object()) {
                if (auto* v = mgr->get_object().if_contains("value"); v && v->is_string()) {
                    mgr->get_object()["$ref"] = base() + "/Users/" + path_segment(v->get_string());
                }
            }
        }
    }

    // The resource as JSON text; the default representation skips building a second tree.
    // The read-only `groups` of an account in some group: direct and through nesting.
    json::array groups_value(const std::string& user_id) const {
        json::array out;
        for (const core::GroupMembership& m : ctx_.groups.groups_of(org_, user_id)) {
            out.push_back(json::object{{"value", m.id},
                                       {"$ref", base() + "/Groups/" + path_segment(m.id)},
                                       {"display", m.display_name},
                                       {"type", m.direct ? "direct" : "indirect"}});
        }
        return out;
    }

    std::string render(const core::UserRecord& u, const Projection& p) const {
        const bool default_set = p.attributes.empty() && p.excluded_attributes.empty();
        std::optional<json::array> groups;
        if (u.in_groups && (default_set || projection_includes(p, "groups"))) {
            groups = groups_value(u.id);
        }
        if (default_set) {
            // Only a manager's `$ref` and groups are added; without them the stored text is
            // spliced.
            std::function<void(json::object&)> adjust;
            if (groups || mentions_manager(u.document)) {
                adjust = [&](json::object& d) {
                    add_manager_ref(d);
                    if (groups) {
                        d["groups"] = *groups;
                    }
                };
            }
            if (auto text = render_default_text(u.document, u.id, meta_of(u), ctx_.registry,
                                                user_type(), adjust)) {
                return std::move(*text);
            }
        }
        json::value doc = json::parse(u.document);
        if (groups) {
            doc.as_object()["groups"] = std::move(*groups);
        }
        json::object out =
            render_resource(doc.as_object(), u.id, meta_of(u), ctx_.registry, user_type(), p);
        add_manager_ref(out);
        return json::serialize(out);
    }

    Response resource_response(int status, const core::UserRecord& u, const Projection& p) {
        Response res;
        res.status = status;
        res.headers.emplace_back("Content-Type", response_media_type(req_));
        res.body = render(u, p);
        res.headers.emplace_back("ETag", etag_of(u.version));
        if (status == 201) {
            res.headers.emplace_back("Location", base() + "/Users/" + u.id);
        }
        return res;
    }

    Projection projection_from_query() const {
        const std::string* a = query_.get("attributes");
        const std::string* x = query_.get("excludedAttributes");
        return parse_projection(a ? *a : "", x ? *x : "", ctx_.registry, user_type());
    }

    core::UserRecord load(const std::string& id) {
        auto u = ctx_.users.find(org_, id);
        if (!u) {
            // Another organization's ids answer exactly like ids that do not exist.
            throw Error::not_found("User " + id + " not found");
        }
        return std::move(*u);
    }

    // If-Match on a write of a User or a Group at `version`: 412 when stale.
    void check_if_match(std::int64_t version) {
        if (const std::string* im = req_.header("if-match")) {
            if (!etag_matches(*im, etag_of(version))) {
                throw Error::precondition_failed(
                    "If-Match " + *im + " does not match the current version " + etag_of(version));
            }
        }
    }

    Response get_user(const std::string& id) {
        Projection p = projection_from_query();
        core::UserRecord u = load(id);
        if (const std::string* inm = req_.header("if-none-match")) {
            if (etag_matches(*inm, etag_of(u.version))) {
                Response res;
                res.status = 304;
                res.headers.emplace_back("ETag", etag_of(u.version));
                return res;
            }
        }
        return resource_response(200, u, p);
    }

    Response create_user() {
        json::value body = parse_body(req_);
        json::object doc = normalize_resource(body, ctx_.registry, user_type());
        core::UserRecord u;
        u.org_id = org_;
        u.id = util::uuid_v4();
        prepare_user_record(doc, u);
        u.document = json::serialize(doc);
        u.version = 1;
        u.created = u.last_modified = core::format_time(ctx_.clock.now());
        if (has_role_attributes(doc)) {
            u.role_grants = role_grants(doc, u.id);
        }
        const bool on_verified_domain = apply_domain_policy(u);
        u.managed_by = "scim_token:" + token_id_;
        try {
            ctx_.users.insert(u, audit({{"account.created", "account", u.id, "", u.document}}));
        } catch (const Error& e) {
            if (e.status() != 409 || !on_verified_domain) {
                throw;
            }
            const auto adopted = adopt(u, doc);
            if (!adopted) {
                throw;
            }
            return resource_response(201, *adopted, projection_from_query());
        }
        return resource_response(201, u, projection_from_query());
    }

    // The email domains of an account: its emails', or else its userName's.
    static std::vector<std::string> domains_of(const core::UserRecord& u) {
        std::vector<std::string> out;
        for (const core::EmailRecord& e : u.emails) {
            if (const auto email = core::normalize_email(e.value)) {
                out.push_back(core::email_domain(*email));
            }
        }
        if (out.empty()) {
            if (const auto email = core::normalize_email(u.user_name)) {
                out.push_back(core::email_domain(*email));
            }
        }
        return out;
    }

    // The verified domain of the organization that one of the account's emails is on.
    std::optional<core::Domain> verified_domain(const core::UserRecord& u) const {
        if (ctx_.domains == nullptr) {
            return std::nullopt;
        }
        std::optional<core::Domain> found;
        for (const std::string& d : domains_of(u)) {
            if (auto v = ctx_.domains->find_verified(org_, d)) {
                if (!found || (v->auto_provision && !found->auto_provision)) {
                    found = std::move(v);
                }
            }
        }
        return found;
    }

    // DESIGN §2 rule 6 for a new account: an email on a verified domain of the organization
    // with automatic provisioning brings the domain's default grant; an account with no
    // email on a verified domain follows the organization's policy (reject: 400 naming the
    // domain). Returns whether the account is on a verified domain.
    bool apply_domain_policy(core::UserRecord& u) const {
        if (ctx_.orgs == nullptr || ctx_.domains == nullptr) {
            return false;
        }
        const std::vector<std::string> domains = domains_of(u);
        if (domains.empty()) {
            return false;
        }
        std::optional<core::DomainPolicy> policy = policies_.get(org_);
        if (!policy) {
            policy = ctx_.domains->policy(org_);
            policies_.put(org_, *policy);
        }
        const auto found = policy->any_verified ? verified_domain(u) : std::nullopt;
        if (found && found->auto_provision) {
            u.domain_grants = std::vector<core::Grant>{
                core::domain_grant(*found, util::uuid_v4(), u.id, u.created)};
        }
        if (found) {
            return true;
        }
        if (policy->unverified_domain_policy == "reject") {
            throw Error::invalid_value("the email domain " + domains.front() +
                                       " is not verified for this organization, whose policy "
                                       "refuses accounts on unverified domains");
        }
        // "invite": once the organization has verified a domain, an account off its domains
        // exists (the IdP gets its id) but has no access until the person accepts the
        // invitation mailed to its address.
        if (policy->unverified_domain_policy == "invite" && policy->any_verified) {
            const auto org = ctx_.orgs->find(org_);
            const auto email =
                core::normalize_email(u.emails.empty() ? u.user_name : primary_email(u));
            if (org && email) {
                hold_back(u, *org, *email);
            }
        }
        return false;
    }

    static std::string primary_email(const core::UserRecord& u) {
        for (const core::EmailRecord& e : u.emails) {
            if (e.primary) {
                return e.value;
            }
        }
        return u.emails.front().value;
    }

    // The account waits for the person to confirm the address: an invitation with no role,
    // written with its mail in the account's transaction.
    void hold_back(core::UserRecord& u,
                   const core::Organization& org,
                   const std::string& email) const {
        const auto t = ctx_.clock.now();
        const std::string secret = util::new_secret("scimdi_");
        core::Invitation inv;
        inv.id = util::uuid_v4();
        inv.org_id = org_;
        inv.email = email;
        inv.token_hash = util::sha256_hex(secret);
        inv.created_by = "scim_token:" + token_id_;
        inv.inviter = org.name + "'s identity provider";
        inv.created_at = core::format_time(t);
        inv.expires_at = core::invitation_expiry(t, org.plan.invitation_days);
        std::string base = ctx_.base_url;
        if (base.ends_with(kScimPrefix)) {
            base.resize(base.size() - kScimPrefix.size());
        }
        const core::MailText text =
            core::invitation_mail({org.name, "", "", inv.inviter, inv.expires_at,
                                   core::invitation_link(base, secret), false});
        core::OutboxMail m = core::queued_mail(util::uuid_v4(), org_, "invitation", inv.id, email,
                                               text, inv.created_at);
        u.access_pending = true;
        u.invitation = std::make_pair(std::move(inv), std::move(m));
    }

    // idp-compat §3.2: an IdP's create of a userName that an account of the organization
    // already has, which no IdP manages yet and which is on a verified domain of the
    // organization, adopts that account (201 with its id) instead of answering 409.
    std::optional<core::UserRecord> adopt(const core::UserRecord& u, const json::object& doc) {
        const auto existing = ctx_.users.find_unmanaged(org_, u.user_name);
        if (!existing || !verified_domain(*existing)) {
            return std::nullopt;
        }
        core::UserRecord adopted = u;
        adopted.id = existing->id;
        adopted.created = existing->created;
        adopted.version = existing->version + 1;
        if (adopted.role_grants) {
            adopted.role_grants = role_grants(doc, adopted.id);
        }
        if (adopted.domain_grants) {
            for (core::Grant& g : *adopted.domain_grants) {
                g.user_id = adopted.id;
            }
        }
        if (!ctx_.users.update(adopted, existing->version,
                               audit({{"account.adopted", "account", adopted.id, existing->document,
                                       adopted.document}}))) {
            throw Error::conflict("the account was changed meanwhile; retry");
        }
        return adopted;
    }

    // Writes `doc` over `u` (already loaded at version u.version); false when the stored
    // version moved meanwhile.
    bool store(core::UserRecord& u, const json::object& old_doc, json::object doc) {
        const std::int64_t expected = u.version;
        core::UserRecord next = u;
        prepare_user_record(doc, next);
        next.document = json::serialize(doc);
        next.version = expected + 1;
        next.last_modified = core::format_time(ctx_.clock.now());
        next.managed_by = "scim_token:" + token_id_;  // kept when another IdP manages it
        // The old document held roles only if its text names them.
        const bool had_roles = u.document.find("\"roles\"") != std::string::npos ||
                               u.document.find(kAccessUserSchema) != std::string::npos;
        if (has_role_attributes(doc) || had_roles) {
            next.role_grants = role_grants(doc, u.id);
        }
        // One row per write: an activation or deactivation is named as such. The store keeps
        // the last active owner (DESIGN §2 rule 3) inside the write's transaction.
        const char* action = u.active == next.active ? "account.updated"
                             : next.active           ? "account.activated"
                                                     : "account.deactivated";
        // The audit row holds what changed: the attributes whose values differ, before and
        // after.
        json::object before, after;
        for (const auto& kv : old_doc) {
            const json::value* now = doc.if_contains(kv.key());
            if (now == nullptr || *now != kv.value()) {
                before[kv.key()] = kv.value();
            }
        }
        for (const auto& kv : doc) {
            const json::value* was = old_doc.if_contains(kv.key());
            if (was == nullptr || *was != kv.value()) {
                after[kv.key()] = kv.value();
            }
        }
        if (!ctx_.users.update(next, expected,
                               audit({{action, "account", u.id, json::serialize(before),
                                       json::serialize(after)}}))) {
            return false;
        }
        u = std::move(next);
        return true;
    }

    // R-33, R-27: a PUT without `active`, a null `active`, or a PATCH that removes it leaves
    // it as it was. Only an explicit boolean changes it: a lost `active` would silently
    // suspend or revive a person.
    static void keep_active(const json::object& old_doc, json::object& doc) {
        if (!doc.contains("active")) {
            if (const auto* a = old_doc.if_contains("active")) {
                doc["active"] = *a;
            }
        }
    }

    Response replace_user(const std::string& id) {
        json::value body = parse_body(req_);
        for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
            core::UserRecord u = load(id);
            check_if_match(u.version);
            json::object old_doc = json::parse(u.document).as_object();
            // R-70: an empty userName in a PUT keeps the stored one rather than failing.
            json::value input = body;
            for (auto& kv : input.as_object()) {
                if (iequals(kv.key(), "userName") && kv.value().is_string() &&
                    kv.value().get_string().empty()) {
                    kv.value() = json::string(u.user_name);
                }
            }
            json::object doc = normalize_resource(input, ctx_.registry, user_type());
            keep_active(old_doc, doc);
            check_replacement(old_doc, doc, ctx_.registry, user_type());
            if (store(u, old_doc, doc)) {
                return resource_response(200, u, projection_from_query());
            }
        }
        throw Error::conflict("User " + id + " is being changed concurrently; retry the request");
    }

    Response patch_user(const std::string& id) {
        json::value body = parse_body(req_);
        const std::vector<PatchOperation> ops = parse_patch_request(body);
        for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
            core::UserRecord u = load(id);
            check_if_match(u.version);
            json::object doc = json::parse(u.document).as_object();
            const json::object before = doc;
            apply_patch(doc, ops, ctx_.registry, user_type());
            keep_active(before, doc);
            // R-48: a PATCH that changes nothing succeeds without a new version.
            if (doc == before || store(u, before, doc)) {
                return resource_response(200, u, projection_from_query());
            }
        }
        throw Error::conflict("User " + id + " is being changed concurrently; retry the request");
    }

    Response delete_user(const std::string& id) {
        const core::UserRecord u = load(id);
        check_if_match(u.version);
        if (!ctx_.users.remove(org_, id,
                               audit({{"account.deleted", "account", id, u.document, ""}}))) {
            throw Error::not_found("User " + id + " not found");
        }
        Response res;
        res.status = 204;
        return res;
    }

    // --- listing --------------------------------------------------------------------------

    ListParams query_params() const {
        ListParams p;
        if (const auto* v = query_.get("filter")) {
            p.filter = *v;
        }
        if (const auto* v = query_.get("sortBy"); v && !v->empty()) {
            p.sort_by = *v;
        }
        if (const auto* v = query_.get("sortOrder"); v && !v->empty()) {
            p.sort_order = *v;
        }
        if (const auto* v = query_.get("attributes")) {
            p.attributes = *v;
        }
        if (const auto* v = query_.get("excludedAttributes")) {
            p.excluded = *v;
        }
        if (const auto* v = query_.get("startIndex"); v && !v->empty()) {
            p.start_index = parse_int_param(*v, "startIndex");
        }
        if (const auto* v = query_.get("count"); v && !v->empty()) {
            p.count = parse_int_param(*v, "count");
        }
        return p;
    }

    // POST /.search (RFC 7644 §3.4.3): the same parameters in a SearchRequest body.
    ListParams search_params() const {
        json::value body = parse_body(req_);
        const json::object& o = body.as_object();
        ListParams p;
        const auto str = [&](const char* key, std::optional<std::string>& out) {
            if (const auto* v = find_ci(o, key); v && !v->is_null()) {
                if (!v->is_string()) {
                    throw Error::invalid_value(std::string(key) + " must be a string");
                }
                out = std::string(v->get_string());
            }
        };
        const auto list = [&](const char* key, std::optional<std::string>& out) {
            if (const auto* v = find_ci(o, key); v && !v->is_null()) {
                if (v->is_string()) {
                    out = std::string(v->get_string());
                    return;
                }
                if (!v->is_array()) {
                    throw Error::invalid_value(std::string(key) + " must be an array of strings");
                }
                std::string joined;
                for (const auto& item : v->get_array()) {
                    if (!item.is_string()) {
                        throw Error::invalid_value(std::string(key) +
                                                   " must be an array of strings");
                    }
                    if (!joined.empty()) {
                        joined += ',';
                    }
                    joined += item.get_string();
                }
                out = joined;
            }
        };
        const auto num = [&](const char* key, std::optional<std::int64_t>& out) {
            if (const auto* v = find_ci(o, key); v && !v->is_null()) {
                if (v->is_int64()) {
                    out = v->get_int64();
                } else if (v->is_uint64()) {
                    out = static_cast<std::int64_t>(
                        std::min<std::uint64_t>(v->get_uint64(), INT64_MAX));
                } else if (v->is_string()) {
                    out = parse_int_param(std::string(v->get_string()), key);
                } else {
                    throw Error::invalid_value(std::string(key) + " must be an integer");
                }
            }
        };
        str("filter", p.filter);
        str("sortBy", p.sort_by);
        str("sortOrder", p.sort_order);
        list("attributes", p.attributes);
        list("excludedAttributes", p.excluded);
        num("startIndex", p.start_index);
        num("count", p.count);
        return p;
    }

    // The ListQuery of a list request over `type`; `filter` keeps the parsed filter alive.
    core::ListQuery list_query(const ListParams& p,
                               const ResourceTypeDef& type,
                               std::optional<core::Filter>& filter) const {
        if (p.filter && (p.filter->find('\0') != std::string::npos ||
                         to_lower(*p.filter).find("\\u0000") != std::string::npos)) {
            throw Error::invalid_filter("filters must not contain the character U+0000");
        }
        if (p.filter && !p.filter->empty()) {
            filter = parse_filter(*p.filter, ctx_.registry, type);
        }
        core::ListQuery q;
        q.filter = filter ? &*filter : nullptr;
        if (p.sort_by) {
            auto attr = ctx_.registry.resolve(type, *p.sort_by);
            if (!attr) {
                throw Error::invalid_value("sortBy names no attribute of " + type.name + ": \"" +
                                           *p.sort_by + "\"");
            }
            core::SortSpec sort;
            sort.attr = attr->ref();
            if (p.sort_order) {
                if (iequals(*p.sort_order, "descending")) {
                    sort.descending = true;
                } else if (!iequals(*p.sort_order, "ascending")) {
                    throw Error::invalid_value("sortOrder must be \"ascending\" or \"descending\"");
                }
            }
            q.sort = sort;
        }
        // RFC 7644 §3.4.2.4: startIndex below 1 is 1; count below 0 is 0; the service
        // provider caps count at its maximum (advertised as filter.maxResults).
        q.start_index = std::max<std::int64_t>(1, p.start_index.value_or(1));
        q.count = std::clamp<std::int64_t>(p.count.value_or(ctx_.registry.max_results()), 0,
                                           ctx_.registry.max_results());
        return q;
    }

    // A ListResponse up to the opening of Resources: the resources' text is written after it,
    // then "]}" (R-22: integers; R-18: Resources always present, even empty).
    static std::string list_envelope(std::int64_t total, std::int64_t start, std::size_t items) {
        return R"({"schemas":[")" + std::string(kListResponseSchema) + R"("],"totalResults":)" +
               std::to_string(total) + R"(,"startIndex":)" + std::to_string(start) +
               R"(,"itemsPerPage":)" + std::to_string(items) + R"(,"Resources":[)";
    }

    Response list_users(const ListParams& p) {
        const ResourceTypeDef& type = user_type();
        Projection projection = parse_projection(p.attributes.value_or(""), p.excluded.value_or(""),
                                                 ctx_.registry, type);
        std::optional<core::Filter> filter;
        core::ListQuery q = list_query(p, type, filter);
        core::Page<core::UserRecord> page = ctx_.users.list(org_, q);
        Response res;
        res.headers.emplace_back("Content-Type", response_media_type(req_));
        std::string& body = res.body;
        body = list_envelope(page.total, q.start_index, page.items.size());
        for (std::size_t i = 0; i < page.items.size(); ++i) {
            if (i > 0) {
                body += ',';
            }
            body += render(page.items[i], projection);
        }
        body += "]}";
        return res;
    }

public:
    std::string allow_;

private:
    const ScimContext& ctx_;
    const TokenCache& cache_;
    const PolicyCache& policies_;
    const Request& req_;
    std::string org_;
    std::string token_id_;
    Query query_;
};

}  // namespace

Response ScimService::handle(const Request& req) const {
    Handler h(ctx_, tokens_, policies_, req);
    try {
        return h.run();
    } catch (const Error& e) {
        if (e.status() == 405) {
            Response res = error_response(req, e);
            res.headers.emplace_back("Allow", h.allow_);
            return res;
        }
        throw;
    }
}

}  // namespace scimd::protocol
