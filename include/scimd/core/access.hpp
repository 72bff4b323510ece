#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scimd::core {

/// Roles, ordered. Organization roles are all four; a site role is viewer, user or admin.
/// An organization role applies to every site: owner and admin act as site admin, user and
/// viewer as site user and viewer (DESIGN §1).
enum class Role { kViewer = 1, kUser = 2, kAdmin = 3, kOwner = 4 };

std::string_view role_name(Role role) noexcept;
/// "owner", "admin", "user", "viewer", case-insensitively; nullopt otherwise.
std::optional<Role> parse_role(std::string_view text) noexcept;
/// What an organization role amounts to on each site.
Role site_equivalent(Role org_role) noexcept;

/// Where a grant comes from. A sync from one source only ever replaces grants of that source.
enum class GrantSource { kManual, kInvitation, kDomainDefault, kScimGroup, kScimRoles };

std::string_view source_name(GrantSource source) noexcept;
std::optional<GrantSource> parse_source(std::string_view text) noexcept;

/// A site: one tracked property of an organization.
struct Site {
    std::string id;
    std::string org_id;
    std::string name;  ///< unique per organization, case-insensitively
    std::string url;
    std::string created;
};

/// One grant of a role to an account, at the organization (site_id empty) or at one site.
struct Grant {
    std::string id;
    std::string org_id;
    std::string user_id;
    std::string site_id;  ///< empty: the organization
    Role role = Role::kViewer;
    GrantSource source = GrantSource::kManual;
    std::string source_ref;              ///< scim_group: the group's id; else empty
    std::optional<std::string> expires;  ///< format_time text; expired grants count for nothing
    std::string created;
    std::string created_by;  ///< the actor, as in the audit trail

    bool org_scope() const { return site_id.empty(); }
    bool expired(std::string_view now) const { return expires && *expires <= now; }
};

/// A group's role at the organization (site_id empty) or at a site. origin is "manual" (set
/// by an admin) or "rule:<rule id>" (a naming rule matched the group's displayName). A
/// binding never grants owner.
struct GroupRole {
    std::string group_id;
    std::string site_id;
    Role role = Role::kViewer;
    std::string origin = "manual";
};

/// An organization's rule that binds groups by their displayName: `pattern` is a regular
/// expression (RE2: ECMAScript's syntax without backreferences or lookaround, matched in
/// linear time) matched against the whole name; `role` and `site` are fixed values, "$N"
/// (the N-th capture) or "$name" (a named group, `(?<site>…)`); an empty role or site takes
/// the group named "role" or "site" when the pattern has one. An empty site binds at the
/// organization.
struct NamingRule {
    std::string id;
    std::string org_id;
    std::string pattern;
    std::string role;
    std::string site;
    std::string created;
};

/// Checks a rule before it is stored: a pattern of at most 256 characters that compiles,
/// a role that is a role name (never owner) or a capture, a site that is empty, a name or a
/// capture, captures that the pattern has. Throws Error::invalid_value naming the field.
void validate_rule(const NamingRule& rule);

/// The bindings `rules` give the group `group_id` named `display_name`: one per matching
/// rule whose role is viewer, user or admin and whose site (by name, case-insensitively)
/// exists in `sites`; anything else binds nothing.
std::vector<GroupRole> bindings_from_rules(const std::vector<NamingRule>& rules,
                                           const std::vector<Site>& sites,
                                           const std::string& group_id,
                                           const std::string& display_name);

/// An account's key for the admin API. Only the SHA-256 of the secret is stored.
struct ApiKey {
    std::string id;
    std::string org_id;
    std::string user_id;
    std::string name;
    std::string hash;
    std::string created;
    std::optional<std::string> expires;
    std::optional<std::string> revoked;
    std::optional<std::string> last_used;
};

/// What an account may do: its organization role and its role on each site where a site
/// grant raises it above what the organization role gives.
struct EffectiveAccess {
    std::optional<Role> org_role;
    std::map<std::string, Role> site_roles;  ///< site id → effective role there

    /// The effective role on `site_id`: the highest of the organization role's site
    /// equivalent and the site's own grants.
    std::optional<Role> on_site(const std::string& site_id) const;
    bool none() const { return !org_role && site_roles.empty(); }
};

/// Effective access from an account's grants (stored and group-derived): nothing for an
/// inactive account, and expired grants count for nothing (DESIGN §1, §2 rule 5).
EffectiveAccess effective_access(const std::vector<Grant>& grants,
                                 bool active,
                                 std::string_view now);

/// Who acts. `system` is the operator's CLI and scimd itself, which the rules don't limit;
/// otherwise the account's effective access decides.
struct Actor {
    std::string id;  ///< "api_key:<id>", "scim_token:<id>", "cli", "system"
    std::string user_id;
    EffectiveAccess access;
    bool system = false;
};

/// DESIGN §2 rule 2 for a change of `target`'s role at one scope (site_id empty: the
/// organization) from `before` to `after` (nullopt: no role there). Throws Error::forbidden
/// (403) with a detail naming the rule that refuses it, or Error::invalid_value for a role
/// that cannot exist at that scope (owner of a site).
///  - Only an owner grants, changes or removes an owner, and only an owner acts on an owner.
///  - An organization admin manages everyone else, at any scope.
///  - A site admin manages only site-level access on the sites they administer.
///  - Nobody grants a role above their own.
void authorize_role_change(const Actor& actor,
                           const std::string& site_id,
                           std::optional<Role> before,
                           std::optional<Role> after,
                           const EffectiveAccess& target);

/// DESIGN §2 rule 3: `active_owners` is the number of active owners now; the change would
/// leave the organization without one. Throws Error::conflict (409).
void check_last_owner(bool target_is_active_owner,
                      bool change_removes_ownership,
                      long long active_owners);

/// Reading an organization's members and their access: owners and admins see everyone, a
/// site admin the members of their sites. Throws Error::forbidden.
void authorize_read_members(const Actor& actor);

/// Organization settings (sites, group role bindings, naming rules, SCIM tokens, the audit
/// trail): organization owners and admins. Throws Error::forbidden naming what is refused.
void authorize_org_admin(const Actor& actor, std::string_view what);

}  // namespace scimd::core
