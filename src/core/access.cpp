#include "scimd/core/access.hpp"

#include <algorithm>
#include <cctype>

#include "scimd/error.hpp"
#include "scimd/util/pattern.hpp"

namespace scimd::core {
namespace {

bool same(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string scope_name(const std::string& site_id) {
    return site_id.empty() ? "the organization" : "site " + site_id;
}

bool is_org_admin(const Actor& a) {
    return a.access.org_role && *a.access.org_role >= Role::kAdmin;
}

bool is_owner(const Actor& a) { return a.access.org_role == Role::kOwner; }

}  // namespace

std::string_view role_name(Role role) noexcept {
    switch (role) {
        case Role::kViewer:
            return "viewer";
        case Role::kUser:
            return "user";
        case Role::kAdmin:
            return "admin";
        case Role::kOwner:
            return "owner";
    }
    return "viewer";
}

std::optional<Role> parse_role(std::string_view text) noexcept {
    for (Role r : {Role::kViewer, Role::kUser, Role::kAdmin, Role::kOwner}) {
        if (same(text, role_name(r))) {
            return r;
        }
    }
    return std::nullopt;
}

Role site_equivalent(Role org_role) noexcept {
    return org_role == Role::kOwner ? Role::kAdmin : org_role;
}

std::string_view source_name(GrantSource source) noexcept {
    switch (source) {
        case GrantSource::kManual:
            return "manual";
        case GrantSource::kInvitation:
            return "invitation";
        case GrantSource::kDomainDefault:
            return "domain_default";
        case GrantSource::kScimGroup:
            return "scim_group";
        case GrantSource::kScimRoles:
            return "scim_roles";
    }
    return "manual";
}

std::optional<GrantSource> parse_source(std::string_view text) noexcept {
    for (GrantSource s :
         {GrantSource::kManual, GrantSource::kInvitation, GrantSource::kDomainDefault,
          GrantSource::kScimGroup, GrantSource::kScimRoles}) {
        if (same(text, source_name(s))) {
            return s;
        }
    }
    return std::nullopt;
}

namespace {

constexpr std::size_t kMaxPattern = 256;
// Names longer than this are not matched: a regular expression's cost grows with its input.
constexpr std::size_t kMaxMatchedName = 256;

// RE2 spells named groups (?P<name>…); ECMAScript's (?<name>…) is accepted too.
std::string re2_syntax(const std::string& pattern) {
    std::string out;
    out.reserve(pattern.size() + 4);
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        out.push_back(pattern[i]);
        const bool escaped = i > 0 && pattern[i - 1] == '\\';
        if (!escaped && pattern.compare(i, 3, "(?<") == 0 && i + 3 < pattern.size() &&
            pattern[i + 3] != '=' && pattern[i + 3] != '!') {
            out += "?P<";
            i += 2;
        }
    }
    return out;
}

std::optional<util::Pattern> compile(const NamingRule& rule, std::string& error) {
    return util::Pattern::compile(re2_syntax(rule.pattern), error);
}

// Which capture a rule's role or site takes: "$N", "$name", or, when the value is empty, the
// group named `field` if the pattern has one. 0: a fixed value (or none).
int capture_of(const util::Pattern& p, const std::string& value, std::string_view field) {
    if (value.empty()) {
        return p.named(field);
    }
    if (value.size() < 2 || value[0] != '$') {
        return 0;
    }
    const std::string ref = value.substr(1);
    if (std::all_of(ref.begin(), ref.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return ref.size() > 3 ? -1 : std::stoi(ref);
    }
    const int n = p.named(ref);
    return n > 0 ? n : -1;
}

}  // namespace

void validate_rule(const NamingRule& rule) {
    if (rule.pattern.empty() || rule.pattern.size() > kMaxPattern) {
        throw Error::invalid_value("pattern must be a regular expression of 1 to " +
                                   std::to_string(kMaxPattern) + " characters");
    }
    std::string error;
    const auto p = compile(rule, error);
    if (!p) {
        throw Error::invalid_value("pattern is not a valid regular expression: " + error);
    }
    const auto check = [&](const std::string& field, const std::string& value) {
        const int n = capture_of(*p, value, field);
        if (n < 0 || n > p->captures() || (!value.empty() && value[0] == '$' && n == 0)) {
            throw Error::invalid_value(field + " \"" + value +
                                       "\" names no capture of the pattern");
        }
        return n > 0;
    };
    if (!check("role", rule.role)) {
        const auto r = parse_role(rule.role);
        if (!r) {
            throw Error::invalid_value(
                "role must be viewer, user, admin or a capture such as \"$1\" (or a group named "
                "role); got \"" +
                rule.role + "\"");
        }
        if (*r == Role::kOwner) {
            throw Error::invalid_value("role: a group binding never grants owner");
        }
    }
    check("site", rule.site);
}

std::vector<GroupRole> bindings_from_rules(const std::vector<NamingRule>& rules,
                                           const std::vector<Site>& sites,
                                           const std::string& group_id,
                                           const std::string& display_name) {
    std::vector<GroupRole> out;
    if (display_name.size() > kMaxMatchedName) {
        return out;
    }
    for (const NamingRule& rule : rules) {
        std::string error;
        const auto p = compile(rule, error);
        if (!p) {
            continue;  // validated when stored; a rule that no longer compiles binds nothing
        }
        const auto m = p->full_match(display_name);
        if (!m) {
            continue;
        }
        const auto value = [&](const std::string& v, std::string_view field) {
            const int n = capture_of(*p, v, field);
            return n > 0 && static_cast<std::size_t>(n) < m->size() ? (*m)[n] : v;
        };
        const auto role = parse_role(value(rule.role, "role"));
        if (!role || *role == Role::kOwner) {
            continue;
        }
        GroupRole b;
        b.group_id = group_id;
        b.role = *role;
        b.origin = "rule:" + rule.id;
        const std::string site = value(rule.site, "site");
        if (!site.empty()) {
            const auto it = std::find_if(sites.begin(), sites.end(),
                                         [&](const Site& s) { return same(s.name, site); });
            if (it == sites.end()) {
                continue;
            }
            b.site_id = it->id;
        }
        out.push_back(std::move(b));
    }
    return out;
}

std::optional<Role> EffectiveAccess::on_site(const std::string& site_id) const {
    std::optional<Role> best;
    if (org_role) {
        best = site_equivalent(*org_role);
    }
    if (auto it = site_roles.find(site_id); it != site_roles.end()) {
        best = best ? std::max(*best, it->second) : it->second;
    }
    return best;
}

EffectiveAccess effective_access(const std::vector<Grant>& grants,
                                 bool active,
                                 std::string_view now) {
    EffectiveAccess out;
    if (!active) {
        return out;
    }
    for (const Grant& g : grants) {
        if (g.expired(now)) {
            continue;
        }
        if (g.org_scope()) {
            out.org_role = out.org_role ? std::max(*out.org_role, g.role) : g.role;
        } else {
            // A site role is at most admin, whatever a stored row says.
            const Role r = std::min(g.role, Role::kAdmin);
            auto [it, inserted] = out.site_roles.emplace(g.site_id, r);
            if (!inserted) {
                it->second = std::max(it->second, r);
            }
        }
    }
    // Only the sites where a site grant adds to the organization role are listed.
    if (out.org_role) {
        const Role floor = site_equivalent(*out.org_role);
        std::erase_if(out.site_roles, [&](const auto& kv) { return kv.second <= floor; });
    }
    return out;
}

void authorize_role_change(const Actor& actor,
                           const std::string& site_id,
                           std::optional<Role> before,
                           std::optional<Role> after,
                           const EffectiveAccess& target) {
    if (!site_id.empty() && after == Role::kOwner) {
        throw Error::invalid_value(
            "owner is an organization role; a site role is viewer, user "
            "or admin");
    }
    if (actor.system) {
        return;
    }
    const bool touches_owner =
        before == Role::kOwner || after == Role::kOwner || target.org_role == Role::kOwner;
    if (touches_owner && !is_owner(actor)) {
        throw Error::forbidden("only an owner grants, changes or removes an owner's access");
    }
    const Role own = actor.access.org_role.value_or(Role::kViewer);
    if (site_id.empty()) {
        if (!is_org_admin(actor)) {
            throw Error::forbidden("only organization owners and admins manage organization roles");
        }
        if (after && *after > own) {
            throw Error::forbidden("nobody grants a role above their own: you are " +
                                   std::string(role_name(own)) + ", the grant is " +
                                   std::string(role_name(*after)));
        }
        return;
    }
    if (is_org_admin(actor)) {
        return;
    }
    if (actor.access.on_site(site_id) != Role::kAdmin) {
        throw Error::forbidden(
            "a site admin manages access only on the sites they administer; "
            "you are not an admin of " +
            scope_name(site_id));
    }
}

void check_last_owner(bool target_is_active_owner,
                      bool change_removes_ownership,
                      long long active_owners) {
    if (target_is_active_owner && change_removes_ownership && active_owners <= 1) {
        throw Error::conflict(
            "this is the organization's last active owner: it cannot be removed, deactivated "
            "or downgraded; make another owner first");
    }
}

void authorize_read_members(const Actor& actor) {
    if (actor.system || is_org_admin(actor)) {
        return;
    }
    for (const auto& [site, role] : actor.access.site_roles) {
        if (role == Role::kAdmin) {
            return;
        }
    }
    throw Error::forbidden(
        "only organization owners and admins, and site admins, see members "
        "and their access");
}

void authorize_org_admin(const Actor& actor, std::string_view what) {
    if (actor.system || is_org_admin(actor)) {
        return;
    }
    throw Error::forbidden("only organization owners and admins manage " + std::string(what));
}

}  // namespace scimd::core
