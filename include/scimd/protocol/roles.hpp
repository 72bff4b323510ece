#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "scimd/core/access.hpp"

namespace scimd::protocol {

/// The access extension of the User resource type.
inline constexpr const char* kAccessUserSchema =
    "urn:scimd:params:scim:schemas:extension:access:2.0:User";

/// One role assignment an IdP sends on a User: "org:<role>" or "site:<site name>:<role>".
struct RoleAssignment {
    std::string site;  ///< the site's name; empty for the organization
    core::Role role = core::Role::kViewer;
    std::string text;  ///< as sent, for error details
};

/// True when the canonical User document carries role assignments at all: the core `roles`
/// attribute or the access extension.
bool has_role_attributes(const boost::json::object& doc);

/// The role assignments of a canonical User document: the `value` of each core `roles`
/// element (Entra's stringified JSON `{"value": "org:admin", …}` accepted) and each string
/// of the access extension's `roles`. Throws Error::invalid_value naming a value that is not
/// a role assignment, an unknown role, or owner (never granted through SCIM, DESIGN §2
/// rule 1).
std::vector<RoleAssignment> role_assignments(const boost::json::object& doc);

}  // namespace scimd::protocol
