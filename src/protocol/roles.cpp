#include "scimd/protocol/roles.hpp"

#include <boost/json/parse.hpp>

#include "scimd/error.hpp"
#include "scimd/protocol/schema.hpp"

namespace scimd::protocol {
namespace json = boost::json;

namespace {

// Entra sends app role values as JSON text: {"id": "…", "value": "org:admin", …}.
std::string unwrap(std::string_view v) {
    if (!v.empty() && v.front() == '{') {
        boost::system::error_code ec;
        const json::value parsed = json::parse(v, ec);
        if (!ec && parsed.is_object()) {
            if (const json::value* inner = find_ci(parsed.get_object(), "value");
                inner && inner->is_string()) {
                return std::string(inner->get_string());
            }
        }
        throw Error::invalid_value("roles: \"" + std::string(v) +
                                   "\" is JSON without a string \"value\"");
    }
    return std::string(v);
}

RoleAssignment parse_assignment(const std::string& sent) {
    const std::string text = unwrap(sent);
    RoleAssignment a;
    a.text = text;
    std::string role;
    if (text.size() > 4 && iequals(text.substr(0, 4), "org:")) {
        role = text.substr(4);
    } else if (text.size() > 5 && iequals(text.substr(0, 5), "site:")) {
        const auto colon = text.rfind(':');
        if (colon < 5) {
            throw Error::invalid_value("roles: \"" + text +
                                       "\" names no role; use \"site:<site name>:<role>\"");
        }
        a.site = text.substr(5, colon - 5);
        role = text.substr(colon + 1);
        if (a.site.empty()) {
            throw Error::invalid_value("roles: \"" + text + "\" names no site");
        }
    } else {
        throw Error::invalid_value("roles: \"" + text +
                                   "\" is not a role assignment; use \"org:<role>\" or "
                                   "\"site:<site name>:<role>\"");
    }
    const auto r = core::parse_role(role);
    if (!r) {
        throw Error::invalid_value("roles: \"" + text + "\" names an unknown role \"" + role +
                                   "\"; roles are viewer, user and admin");
    }
    if (*r == core::Role::kOwner) {
        throw Error::invalid_value("roles: \"" + text +
                                   "\": owner is never granted through SCIM; an owner makes "
                                   "owners in the admin API");
    }
    a.role = *r;
    return a;
}

}  // namespace

bool has_role_attributes(const json::object& doc) {
    return doc.contains("roles") || doc.contains(kAccessUserSchema);
}

std::vector<RoleAssignment> role_assignments(const json::object& doc) {
    std::vector<RoleAssignment> out;
    if (const json::value* roles = doc.if_contains("roles"); roles && roles->is_array()) {
        for (const json::value& e : roles->get_array()) {
            const json::value* v = e.is_object() ? e.get_object().if_contains("value") : &e;
            if (v != nullptr && v->is_string() && !v->get_string().empty()) {
                out.push_back(parse_assignment(std::string(v->get_string())));
            }
        }
    }
    if (const json::value* ext = doc.if_contains(kAccessUserSchema); ext && ext->is_object()) {
        if (const json::value* roles = ext->get_object().if_contains("roles");
            roles && roles->is_array()) {
            for (const json::value& v : roles->get_array()) {
                if (v.is_string() && !v.get_string().empty()) {
                    out.push_back(parse_assignment(std::string(v.get_string())));
                }
            }
        }
    }
    return out;
}

}  // namespace scimd::protocol
