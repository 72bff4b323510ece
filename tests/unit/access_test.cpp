#include "scimd/core/access.hpp"

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/errors.hpp"
#include <gtest/gtest.h>

#include "scimd/error.hpp"

namespace scimd::core {

// Roles print by name in failure messages. Found by ADL, so it lives in Role's namespace;
// static, so it clashes with no other test file.
static void PrintTo(Role role, std::ostream* os) { *os << role_name(role); }

namespace {

using test::error_of;

// Times as format_time writes them: their text order is their time order.
constexpr const char* kNow = "2026-03-01T10:00:00.000Z";
constexpr const char* kEarlier = "2026-03-01T09:59:59.999Z";
constexpr const char* kLater = "2026-03-01T10:00:00.001Z";

Grant grant(std::string site_id,
            Role role,
            std::optional<std::string> expires = std::nullopt,
            GrantSource source = GrantSource::kManual,
            std::string source_ref = {}) {
    Grant g;
    g.id = "grant-" + std::string(role_name(role));
    g.org_id = "o1";
    g.user_id = "u1";
    g.site_id = std::move(site_id);
    g.role = role;
    g.source = source;
    g.source_ref = std::move(source_ref);
    g.expires = std::move(expires);
    g.created = "2026-01-01T00:00:00.000Z";
    g.created_by = "cli";
    return g;
}

Grant org_grant(Role role, std::optional<std::string> expires = std::nullopt) {
    return grant("", role, std::move(expires));
}

Grant site_grant(std::string site_id,
                 Role role,
                 std::optional<std::string> expires = std::nullopt) {
    return grant(std::move(site_id), role, std::move(expires));
}

// --- effective access: one table ------------------------------------------------------------

struct AccessCase {
    const char* name;
    std::vector<Grant> grants;
    bool active = true;
    // Expected: the organization role, the sites listed, and the role on_site() answers.
    std::optional<Role> org_role;
    std::map<std::string, Role> site_roles;
    std::vector<std::pair<std::string, std::optional<Role>>> on_site;
};

void PrintTo(const AccessCase& c, std::ostream* os) { *os << c.name; }

const AccessCase kAccessCases[] = {
    {.name = "NoGrantsNoAccess",
     .grants = {},
     .org_role = std::nullopt,
     .site_roles = {},
     .on_site = {{"s1", std::nullopt}}},

    // An organization role applies to every site (DESIGN §1).
    {.name = "OrgOwnerActsAsSiteAdmin",
     .grants = {org_grant(Role::kOwner)},
     .org_role = Role::kOwner,
     .site_roles = {},
     .on_site = {{"s1", Role::kAdmin}, {"s2", Role::kAdmin}}},
    {.name = "OrgAdminActsAsSiteAdmin",
     .grants = {org_grant(Role::kAdmin)},
     .org_role = Role::kAdmin,
     .site_roles = {},
     .on_site = {{"s1", Role::kAdmin}}},
    {.name = "OrgUserActsAsSiteUser",
     .grants = {org_grant(Role::kUser)},
     .org_role = Role::kUser,
     .site_roles = {},
     .on_site = {{"s1", Role::kUser}}},
    {.name = "OrgViewerActsAsSiteViewer",
     .grants = {org_grant(Role::kViewer)},
     .org_role = Role::kViewer,
     .site_roles = {},
     .on_site = {{"s1", Role::kViewer}}},

    // The higher of the org equivalent and the site grant wins, per site.
    {.name = "SiteAdminAboveOrgUserIsListed",
     .grants = {org_grant(Role::kUser), site_grant("s1", Role::kAdmin)},
     .org_role = Role::kUser,
     .site_roles = {{"s1", Role::kAdmin}},
     .on_site = {{"s1", Role::kAdmin}, {"s2", Role::kUser}}},
    {.name = "SiteUserAboveOrgViewerIsListed",
     .grants = {org_grant(Role::kViewer), site_grant("s1", Role::kUser)},
     .org_role = Role::kViewer,
     .site_roles = {{"s1", Role::kUser}},
     .on_site = {{"s1", Role::kUser}, {"s2", Role::kViewer}}},
    {.name = "SiteGrantEqualToOrgEquivalentIsNotListed",
     .grants = {org_grant(Role::kUser), site_grant("s1", Role::kUser)},
     .org_role = Role::kUser,
     .site_roles = {},
     .on_site = {{"s1", Role::kUser}}},
    {.name = "SiteGrantBelowOrgEquivalentIsNotListed",
     .grants = {org_grant(Role::kAdmin), site_grant("s1", Role::kViewer)},
     .org_role = Role::kAdmin,
     .site_roles = {},
     .on_site = {{"s1", Role::kAdmin}}},
    {.name = "SiteAdminUnderOrgOwnerIsNotListed",
     .grants = {site_grant("s1", Role::kAdmin), org_grant(Role::kOwner)},
     .org_role = Role::kOwner,
     .site_roles = {},
     .on_site = {{"s1", Role::kAdmin}}},
    {.name = "SiteGrantWithoutOrgRoleIsThatSiteOnly",
     .grants = {site_grant("s1", Role::kUser)},
     .org_role = std::nullopt,
     .site_roles = {{"s1", Role::kUser}},
     .on_site = {{"s1", Role::kUser}, {"s2", std::nullopt}}},

    // Several grants at one scope: the highest wins.
    {.name = "HighestOrgGrantWins",
     .grants = {org_grant(Role::kViewer), org_grant(Role::kAdmin), org_grant(Role::kUser)},
     .org_role = Role::kAdmin,
     .site_roles = {},
     .on_site = {{"s1", Role::kAdmin}}},
    {.name = "HighestSiteGrantWinsPerSite",
     .grants = {site_grant("s1", Role::kViewer), site_grant("s1", Role::kAdmin),
                site_grant("s1", Role::kUser), site_grant("s2", Role::kViewer)},
     .org_role = std::nullopt,
     .site_roles = {{"s1", Role::kAdmin}, {"s2", Role::kViewer}},
     .on_site = {{"s1", Role::kAdmin}, {"s2", Role::kViewer}, {"s3", std::nullopt}}},

    // Expiry: a grant expiring at or before `now` counts for nothing.
    {.name = "OrgGrantExpiringNowCountsForNothing",
     .grants = {org_grant(Role::kAdmin, kNow), org_grant(Role::kViewer)},
     .org_role = Role::kViewer,
     .site_roles = {},
     .on_site = {{"s1", Role::kViewer}}},
    {.name = "OrgGrantExpiredBeforeNowCountsForNothing",
     .grants = {org_grant(Role::kAdmin, kEarlier)},
     .org_role = std::nullopt,
     .site_roles = {},
     .on_site = {{"s1", std::nullopt}}},
    {.name = "OrgGrantExpiringAfterNowCounts",
     .grants = {org_grant(Role::kAdmin, kLater)},
     .org_role = Role::kAdmin,
     .site_roles = {},
     .on_site = {{"s1", Role::kAdmin}}},
    {.name = "SiteGrantExpiringNowCountsForNothing",
     .grants = {org_grant(Role::kUser), site_grant("s1", Role::kAdmin, kNow)},
     .org_role = Role::kUser,
     .site_roles = {},
     .on_site = {{"s1", Role::kUser}}},
    {.name = "ExpiredSiteGrantLeavesTheLiveOne",
     .grants = {site_grant("s1", Role::kAdmin, kEarlier), site_grant("s1", Role::kUser, kLater)},
     .org_role = std::nullopt,
     .site_roles = {{"s1", Role::kUser}},
     .on_site = {{"s1", Role::kUser}}},

    // Deactivation removes everything at once (DESIGN §2 rule 5).
    {.name = "InactiveOwnerHasNothing",
     .grants = {org_grant(Role::kOwner), site_grant("s1", Role::kAdmin)},
     .active = false,
     .org_role = std::nullopt,
     .site_roles = {},
     .on_site = {{"s1", std::nullopt}}},
    {.name = "InactiveSiteMemberHasNothing",
     .grants = {site_grant("s1", Role::kUser, kLater)},
     .active = false,
     .org_role = std::nullopt,
     .site_roles = {},
     .on_site = {{"s1", std::nullopt}}},

    // Every source counts the same.
    {.name = "InvitationGrantCounts",
     .grants = {grant("", Role::kUser, std::nullopt, GrantSource::kInvitation)},
     .org_role = Role::kUser,
     .site_roles = {},
     .on_site = {{"s1", Role::kUser}}},
    {.name = "DomainDefaultGrantCounts",
     .grants = {grant("", Role::kViewer, std::nullopt, GrantSource::kDomainDefault)},
     .org_role = Role::kViewer,
     .site_roles = {},
     .on_site = {{"s1", Role::kViewer}}},
    {.name = "ScimRolesGrantCounts",
     .grants = {grant("s1", Role::kAdmin, std::nullopt, GrantSource::kScimRoles)},
     .org_role = std::nullopt,
     .site_roles = {{"s1", Role::kAdmin}},
     .on_site = {{"s1", Role::kAdmin}}},
    // A grant from a nested group is just a scim_group grant naming the group that binds.
    {.name = "ScimGroupGrantFromNestingCounts",
     .grants = {grant("", Role::kAdmin, std::nullopt, GrantSource::kScimGroup, "g-parent")},
     .org_role = Role::kAdmin,
     .site_roles = {},
     .on_site = {{"s1", Role::kAdmin}}},
    {.name = "ScimGroupSiteGrantAboveManualOrgGrant",
     .grants = {org_grant(Role::kViewer),
                grant("s1", Role::kAdmin, std::nullopt, GrantSource::kScimGroup, "g-child")},
     .org_role = Role::kViewer,
     .site_roles = {{"s1", Role::kAdmin}},
     .on_site = {{"s1", Role::kAdmin}, {"s2", Role::kViewer}}},

    // A site role is at most admin, whatever a stored row says.
    {.name = "SiteOwnerRowIsCappedAtAdmin",
     .grants = {site_grant("s1", Role::kOwner)},
     .org_role = std::nullopt,
     .site_roles = {{"s1", Role::kAdmin}},
     .on_site = {{"s1", Role::kAdmin}}},
    {.name = "SiteOwnerRowUnderOrgUserIsCappedAtAdmin",
     .grants = {org_grant(Role::kUser), site_grant("s1", Role::kOwner)},
     .org_role = Role::kUser,
     .site_roles = {{"s1", Role::kAdmin}},
     .on_site = {{"s1", Role::kAdmin}}},
};

class EffectiveAccessTest : public ::testing::TestWithParam<AccessCase> {};

TEST_P(EffectiveAccessTest, Resolves) {
    const AccessCase& c = GetParam();
    const EffectiveAccess got = effective_access(c.grants, c.active, kNow);
    EXPECT_EQ(got.org_role, c.org_role);
    EXPECT_EQ(got.site_roles, c.site_roles);
    for (const auto& [site_id, role] : c.on_site) {
        EXPECT_EQ(got.on_site(site_id), role) << "on_site(" << site_id << ")";
    }
    EXPECT_EQ(got.none(), !c.org_role && c.site_roles.empty());
}

INSTANTIATE_TEST_SUITE_P(Table,
                         EffectiveAccessTest,
                         ::testing::ValuesIn(kAccessCases),
                         [](const ::testing::TestParamInfo<AccessCase>& p) {
                             return std::string(p.param.name);
                         });

TEST(EffectiveAccessSourcesTest, EverySourceCountsTheSame) {
    for (const GrantSource source :
         {GrantSource::kManual, GrantSource::kInvitation, GrantSource::kDomainDefault,
          GrantSource::kScimGroup, GrantSource::kScimRoles}) {
        SCOPED_TRACE(std::string(source_name(source)));
        const std::string ref = source == GrantSource::kScimGroup ? "g1" : "";
        const EffectiveAccess got =
            effective_access({grant("", Role::kUser, std::nullopt, source, ref),
                              grant("s1", Role::kAdmin, std::nullopt, source, ref),
                              grant("s2", Role::kAdmin, kNow, source, ref)},
                             true, kNow);
        EXPECT_EQ(got.org_role, Role::kUser);
        EXPECT_EQ(got.site_roles, (std::map<std::string, Role>{{"s1", Role::kAdmin}}));
        EXPECT_EQ(got.on_site("s2"), Role::kUser);
    }
}

TEST(RoleNamesTest, ParseRoleAndSiteEquivalent) {
    EXPECT_EQ(parse_role("owner"), Role::kOwner);
    EXPECT_EQ(parse_role("ADMIN"), Role::kAdmin);
    EXPECT_EQ(parse_role("User"), Role::kUser);
    EXPECT_EQ(parse_role("viewer"), Role::kViewer);
    EXPECT_EQ(parse_role("boss"), std::nullopt);
    EXPECT_EQ(parse_role(""), std::nullopt);
    EXPECT_EQ(parse_role("admins"), std::nullopt);
    EXPECT_EQ(site_equivalent(Role::kOwner), Role::kAdmin);
    EXPECT_EQ(site_equivalent(Role::kAdmin), Role::kAdmin);
    EXPECT_EQ(site_equivalent(Role::kUser), Role::kUser);
    EXPECT_EQ(site_equivalent(Role::kViewer), Role::kViewer);
}

// --- DESIGN §2 rule 2: authorize_role_change ---------------------------------------------------

EffectiveAccess access_with(std::optional<Role> org_role,
                            std::map<std::string, Role> site_roles = {}) {
    EffectiveAccess a;
    a.org_role = org_role;
    a.site_roles = std::move(site_roles);
    return a;
}

Actor actor_with(std::optional<Role> org_role, std::map<std::string, Role> site_roles = {}) {
    Actor a;
    a.id = "api_key:k1";
    a.user_id = "u-actor";
    a.access = access_with(org_role, std::move(site_roles));
    return a;
}

Actor system_actor() {
    Actor a;
    a.id = "system";
    a.system = true;
    return a;
}

Error change_error(const Actor& actor,
                   const std::string& site_id,
                   std::optional<Role> before,
                   std::optional<Role> after,
                   const EffectiveAccess& target) {
    return error_of([&] { authorize_role_change(actor, site_id, before, after, target); });
}

bool mentions(const Error& e, std::string_view words) {
    return e.detail().find(words) != std::string::npos;
}

// One change of a target's role at one scope.
struct Change {
    const char* what;
    std::string site_id;
    std::optional<Role> before;
    std::optional<Role> after;
    EffectiveAccess target;
};

TEST(RoleChangeTest, OwnerGrantsChangesAndRemovesOwners) {
    const Actor owner = actor_with(Role::kOwner);
    const Change allowed[] = {
        {"grant owner", "", Role::kAdmin, Role::kOwner, access_with(Role::kAdmin)},
        {"grant owner to a newcomer", "", std::nullopt, Role::kOwner, access_with(std::nullopt)},
        {"downgrade an owner", "", Role::kOwner, Role::kUser, access_with(Role::kOwner)},
        {"remove an owner", "", Role::kOwner, std::nullopt, access_with(Role::kOwner)},
        {"site grant to an owner", "s1", std::nullopt, Role::kUser, access_with(Role::kOwner)},
    };
    for (const Change& c : allowed) {
        SCOPED_TRACE(c.what);
        EXPECT_NO_THROW(authorize_role_change(owner, c.site_id, c.before, c.after, c.target));
    }
}

TEST(RoleChangeTest, OnlyAnOwnerGrantsChangesOrRemovesAnOwner) {
    const Change refused[] = {
        {"grant owner", "", Role::kAdmin, Role::kOwner, access_with(Role::kAdmin)},
        {"downgrade an owner", "", Role::kOwner, Role::kAdmin, access_with(Role::kOwner)},
        {"remove an owner", "", Role::kOwner, std::nullopt, access_with(Role::kOwner)},
        {"site grant to an owner", "s1", std::nullopt, Role::kViewer, access_with(Role::kOwner)},
        {"remove an owner's site grant", "s1", Role::kUser, std::nullopt,
         access_with(Role::kOwner)},
    };
    for (const Actor& actor :
         {actor_with(Role::kAdmin), actor_with(Role::kUser), actor_with(Role::kViewer)}) {
        for (const Change& c : refused) {
            SCOPED_TRACE(std::string(role_name(*actor.access.org_role)) + ": " + c.what);
            const Error e = change_error(actor, c.site_id, c.before, c.after, c.target);
            EXPECT_EQ(e.status(), 403);
            EXPECT_TRUE(mentions(e, "only an owner")) << e.detail();
        }
    }
}

TEST(RoleChangeTest, OrgAdminCannotGrantOwner) {
    const Actor admin = actor_with(Role::kAdmin);
    const Error e = change_error(admin, "", Role::kUser, Role::kOwner, access_with(Role::kUser));
    EXPECT_EQ(e.status(), 403);
    EXPECT_TRUE(mentions(e, "owner")) << e.detail();
    // Admin, the role just below, is theirs to grant.
    EXPECT_NO_THROW(
        authorize_role_change(admin, "", Role::kUser, Role::kAdmin, access_with(Role::kUser)));
}

TEST(RoleChangeTest, OrgAdminManagesEveryoneElseAtAnyScope) {
    const Change allowed[] = {
        {"add a member", "", std::nullopt, Role::kViewer, access_with(std::nullopt)},
        {"promote a user to admin", "", Role::kUser, Role::kAdmin, access_with(Role::kUser)},
        {"demote another admin", "", Role::kAdmin, Role::kViewer, access_with(Role::kAdmin)},
        {"remove another admin", "", Role::kAdmin, std::nullopt, access_with(Role::kAdmin)},
        {"site admin on any site", "s9", std::nullopt, Role::kAdmin, access_with(Role::kViewer)},
        {"remove a site grant", "s2", Role::kUser, std::nullopt,
         access_with(std::nullopt, {{"s2", Role::kUser}})},
    };
    // The actor's own site grants don't matter: an org admin acts everywhere.
    for (const Actor& actor : {actor_with(Role::kAdmin), actor_with(Role::kOwner)}) {
        for (const Change& c : allowed) {
            SCOPED_TRACE(std::string(role_name(*actor.access.org_role)) + ": " + c.what);
            EXPECT_NO_THROW(authorize_role_change(actor, c.site_id, c.before, c.after, c.target));
        }
    }
}

TEST(RoleChangeTest, UsersAndViewersDoNotManageOrganizationRoles) {
    const Change refused[] = {
        {"add a member", "", std::nullopt, Role::kViewer, access_with(std::nullopt)},
        {"change a viewer", "", Role::kViewer, Role::kUser, access_with(Role::kViewer)},
        {"remove a viewer", "", Role::kViewer, std::nullopt, access_with(Role::kViewer)},
    };
    for (const Actor& actor :
         {actor_with(Role::kUser), actor_with(Role::kViewer), actor_with(std::nullopt)}) {
        for (const Change& c : refused) {
            SCOPED_TRACE(c.what);
            const Error e = change_error(actor, c.site_id, c.before, c.after, c.target);
            EXPECT_EQ(e.status(), 403);
            EXPECT_TRUE(
                mentions(e, "only organization owners and admins manage organization roles"))
                << e.detail();
        }
    }
}

TEST(RoleChangeTest, SiteAdminManagesSiteRolesOnTheirOwnSite) {
    const Change allowed[] = {
        {"add a site user", "s1", std::nullopt, Role::kUser, access_with(std::nullopt)},
        {"promote to site admin", "s1", Role::kViewer, Role::kAdmin,
         access_with(Role::kViewer, {{"s1", Role::kViewer}})},
        {"remove a site grant", "s1", Role::kUser, std::nullopt,
         access_with(std::nullopt, {{"s1", Role::kUser}})},
    };
    // A site admin with or without an organization role below admin.
    for (const Actor& actor : {actor_with(Role::kUser, {{"s1", Role::kAdmin}}),
                               actor_with(std::nullopt, {{"s1", Role::kAdmin}})}) {
        for (const Change& c : allowed) {
            SCOPED_TRACE(c.what);
            EXPECT_NO_THROW(authorize_role_change(actor, c.site_id, c.before, c.after, c.target));
        }
    }
}

TEST(RoleChangeTest, SiteAdminDoesNotManageAnotherSite) {
    const Actor site_admin = actor_with(Role::kUser, {{"s1", Role::kAdmin}, {"s2", Role::kUser}});
    const Error e =
        change_error(site_admin, "s2", std::nullopt, Role::kUser, access_with(std::nullopt));
    EXPECT_EQ(e.status(), 403);
    EXPECT_TRUE(mentions(e, "a site admin manages access only on the sites they administer"))
        << e.detail();
    EXPECT_TRUE(mentions(e, "s2")) << e.detail();

    const Error elsewhere =
        change_error(site_admin, "s3", Role::kViewer, std::nullopt, access_with(Role::kViewer));
    EXPECT_EQ(elsewhere.status(), 403);
    EXPECT_TRUE(mentions(elsewhere, "s3")) << elsewhere.detail();
}

TEST(RoleChangeTest, SiteAdminDoesNotManageOrganizationRoles) {
    const Actor site_admin = actor_with(Role::kUser, {{"s1", Role::kAdmin}});
    const Error e =
        change_error(site_admin, "", std::nullopt, Role::kViewer, access_with(std::nullopt));
    EXPECT_EQ(e.status(), 403);
    EXPECT_TRUE(mentions(e, "only organization owners and admins manage organization roles"))
        << e.detail();
}

TEST(RoleChangeTest, SiteAdminDoesNotActOnAnOwner) {
    const Actor site_admin = actor_with(Role::kUser, {{"s1", Role::kAdmin}});
    const Error e =
        change_error(site_admin, "s1", std::nullopt, Role::kViewer, access_with(Role::kOwner));
    EXPECT_EQ(e.status(), 403);
    EXPECT_TRUE(mentions(e, "only an owner")) << e.detail();
}

TEST(RoleChangeTest, PlainMembersManageNoSite) {
    for (const Actor& actor : {actor_with(Role::kUser), actor_with(Role::kViewer),
                               actor_with(Role::kViewer, {{"s1", Role::kUser}})}) {
        const Error e =
            change_error(actor, "s1", std::nullopt, Role::kViewer, access_with(std::nullopt));
        EXPECT_EQ(e.status(), 403);
        EXPECT_TRUE(mentions(e, "sites they administer")) << e.detail();
    }
}

TEST(RoleChangeTest, OwnerIsNotASiteRole) {
    for (const Actor& actor : {actor_with(Role::kOwner), system_actor()}) {
        const Error e =
            change_error(actor, "s1", std::nullopt, Role::kOwner, access_with(std::nullopt));
        EXPECT_EQ(e.status(), 400);
        EXPECT_EQ(e.scim_type(), ScimType::kInvalidValue);
        EXPECT_TRUE(mentions(e, "owner is an organization role")) << e.detail();
    }
}

TEST(RoleChangeTest, SystemActorIsNotLimited) {
    const Actor sys = system_actor();
    const Change allowed[] = {
        {"grant owner", "", std::nullopt, Role::kOwner, access_with(std::nullopt)},
        {"remove an owner", "", Role::kOwner, std::nullopt, access_with(Role::kOwner)},
        {"site grant to an owner", "s1", std::nullopt, Role::kAdmin, access_with(Role::kOwner)},
        {"org admin", "", Role::kUser, Role::kAdmin, access_with(Role::kUser)},
    };
    for (const Change& c : allowed) {
        SCOPED_TRACE(c.what);
        EXPECT_NO_THROW(authorize_role_change(sys, c.site_id, c.before, c.after, c.target));
    }
}

// --- DESIGN §2 rule 3: the last active owner -------------------------------------------------

TEST(LastOwnerTest, TheLastActiveOwnerKeepsOwnership) {
    for (const long long active_owners : {1LL, 0LL}) {
        const Error e = error_of([&] { check_last_owner(true, true, active_owners); });
        EXPECT_EQ(e.status(), 409);
        EXPECT_TRUE(mentions(e, "last active owner")) << e.detail();
    }
}

TEST(LastOwnerTest, OtherChangesPass) {
    EXPECT_NO_THROW(check_last_owner(true, true, 2));   // another owner remains
    EXPECT_NO_THROW(check_last_owner(false, true, 1));  // the target is not an active owner
    EXPECT_NO_THROW(check_last_owner(true, false, 1));  // the change keeps ownership
    EXPECT_NO_THROW(check_last_owner(false, false, 0));
}

// --- reading members, organization settings ---------------------------------------------------

TEST(ReadMembersTest, OrgAdminsAndSiteAdminsRead) {
    for (const Actor& actor : {actor_with(Role::kAdmin), actor_with(Role::kOwner),
                               actor_with(Role::kUser, {{"s1", Role::kAdmin}}),
                               actor_with(std::nullopt, {{"s2", Role::kAdmin}}), system_actor()}) {
        EXPECT_NO_THROW(authorize_read_members(actor));
    }
}

TEST(ReadMembersTest, PlainMembersAreRefused) {
    for (const Actor& actor :
         {actor_with(Role::kUser), actor_with(Role::kViewer), actor_with(std::nullopt),
          actor_with(Role::kViewer, {{"s1", Role::kUser}})}) {
        const Error e = error_of([&] { authorize_read_members(actor); });
        EXPECT_EQ(e.status(), 403);
        EXPECT_TRUE(mentions(e, "see members")) << e.detail();
    }
}

TEST(OrgAdminTest, OwnersAndAdminsManageSettings) {
    for (const Actor& actor :
         {actor_with(Role::kAdmin), actor_with(Role::kOwner), system_actor()}) {
        EXPECT_NO_THROW(authorize_org_admin(actor, "naming rules"));
    }
}

TEST(OrgAdminTest, OthersAreRefusedNamingWhat) {
    for (const Actor& actor : {actor_with(Role::kUser), actor_with(Role::kViewer),
                               actor_with(Role::kUser, {{"s1", Role::kAdmin}})}) {
        const Error e = error_of([&] { authorize_org_admin(actor, "naming rules"); });
        EXPECT_EQ(e.status(), 403);
        EXPECT_TRUE(mentions(e, "only organization owners and admins manage naming rules"))
            << e.detail();
    }
}

// --- naming rules ---------------------------------------------------------------------------

NamingRule rule(std::string id, std::string pattern, std::string role, std::string site = "") {
    NamingRule r;
    r.id = std::move(id);
    r.org_id = "o1";
    r.pattern = std::move(pattern);
    r.role = std::move(role);
    r.site = std::move(site);
    r.created = "2026-01-01T00:00:00.000Z";
    return r;
}

TEST(NamingRuleTest, GoodRulesPass) {
    const NamingRule good[] = {
        rule("r1", "^analytics-admins$", "admin"),
        rule("r2", "^analytics-(admin|user|viewer)$", "$1"),
        rule("r3", "^site-([^-]+)-(admin|user|viewer)$", "$2", "$1"),
        rule("r4", "^blog-editors$", "user", "Blog"),
        rule("r5", "^readers$", "Viewer", ""),
        rule("r6", std::string(256, 'a'), "viewer"),  // the longest pattern allowed
    };
    for (const NamingRule& r : good) {
        SCOPED_TRACE(r.id);
        EXPECT_NO_THROW(validate_rule(r));
    }
}

TEST(NamingRuleTest, BadRulesAreRefused) {
    struct Bad {
        NamingRule r;
        const char* words;  // what the detail says
    };
    const Bad bad[] = {
        {rule("unbalanced", "^team-(admin$", "admin"), "not a valid regular expression"},
        {rule("empty", "", "admin"), "pattern"},
        {rule("long", std::string(257, 'a'), "admin"), "256"},
        {rule("owner", "^owners$", "owner"), "owner"},
        {rule("boss", "^bosses$", "boss"), "\"boss\""},
        {rule("no-role", "^x$", ""), "role"},
        {rule("capture3", "^(a)-(b)$", "$3"), "\"$3\" names no capture"},
        {rule("capture0", "^(a)$", "$0"), "\"$0\" names no capture"},
        {rule("site-capture", "^(admin)$", "$1", "$2"), "site \"$2\""},
    };
    for (const Bad& b : bad) {
        SCOPED_TRACE(b.r.id);
        const Error e = error_of([&] { validate_rule(b.r); });
        EXPECT_EQ(e.status(), 400);
        EXPECT_EQ(e.scim_type(), ScimType::kInvalidValue);
        EXPECT_TRUE(mentions(e, b.words)) << e.detail();
    }
}

Site site_named(std::string id, std::string name) {
    Site s;
    s.id = std::move(id);
    s.org_id = "o1";
    s.name = std::move(name);
    s.url = "https://example.com";
    return s;
}

// "group|site|role|origin" of each binding, in order.
std::vector<std::string> described(const std::vector<GroupRole>& bindings) {
    std::vector<std::string> out;
    for (const GroupRole& b : bindings) {
        out.push_back(b.group_id + "|" + b.site_id + "|" + std::string(role_name(b.role)) + "|" +
                      b.origin);
    }
    return out;
}

using Lines = std::vector<std::string>;

class GroupRuleBindingTest : public ::testing::Test {
protected:
    const std::vector<Site> sites_{site_named("s-blog", "Blog"), site_named("s-shop", "Main Shop")};
    const NamingRule org_rule_ = rule("r1", "^analytics-(admin|user|viewer)$", "$1", "");
    const NamingRule site_rule_ = rule("r2", "^site-([^-]+)-(admin|user|viewer)$", "$2", "$1");

    Lines bindings_for(const std::vector<NamingRule>& rules, const std::string& name) const {
        return described(bindings_from_rules(rules, sites_, "g1", name));
    }
};

TEST_F(GroupRuleBindingTest, CapturedRoleBindsTheOrganization) {
    EXPECT_EQ(bindings_for({org_rule_}, "analytics-admin"), (Lines{"g1||admin|rule:r1"}));
    EXPECT_EQ(bindings_for({org_rule_}, "analytics-viewer"), (Lines{"g1||viewer|rule:r1"}));
}

TEST_F(GroupRuleBindingTest, CapturedSiteBindsBySiteNameCaseInsensitively) {
    EXPECT_EQ(bindings_for({site_rule_}, "site-blog-user"), (Lines{"g1|s-blog|user|rule:r2"}));
    EXPECT_EQ(bindings_for({site_rule_}, "site-BLOG-admin"), (Lines{"g1|s-blog|admin|rule:r2"}));
    EXPECT_EQ(bindings_for({site_rule_}, "site-main shop-viewer"),
              (Lines{"g1|s-shop|viewer|rule:r2"}));
}

// DESIGN §1's own example: named groups, with role and site left empty.
TEST_F(GroupRuleBindingTest, NamedGroupsBindSiteAndRole) {
    const NamingRule named = rule("r6", "^site-(?<site>[^-]+)-(?<role>admin|user|viewer)$", "", "");
    EXPECT_NO_THROW(validate_rule(named));
    EXPECT_EQ(bindings_for({named}, "site-blog-admin"), (Lines{"g1|s-blog|admin|rule:r6"}));
    const NamingRule by_name =
        rule("r7", "^(?P<who>analytics)-(?<level>user|viewer)$", "$level", "");
    EXPECT_NO_THROW(validate_rule(by_name));
    EXPECT_EQ(bindings_for({by_name}, "analytics-viewer"), (Lines{"g1||viewer|rule:r7"}));
    EXPECT_EQ(error_of([] { validate_rule(rule("r8", "^(a)$", "$nope", "")); }).status(), 400);
}

// A pattern that makes a backtracking engine take exponential time is matched in linear time
// (RE2): a tenant's rule cannot stall a server thread.
TEST_F(GroupRuleBindingTest, CatastrophicPatternsAreMatchedInLinearTime) {
    const NamingRule evil = rule("r9", "^(a+)+$", "user", "");
    EXPECT_NO_THROW(validate_rule(evil));
    const std::string name = std::string(200, 'a') + "b";
    EXPECT_TRUE(bindings_for({evil}, name).empty());
    EXPECT_EQ(bindings_for({evil}, std::string(200, 'a')), (Lines{"g1||user|rule:r9"}));
}

TEST_F(GroupRuleBindingTest, FixedSiteNameBindsThatSite) {
    EXPECT_EQ(bindings_for({rule("r4", "^blog-editors$", "user", "blog")}, "blog-editors"),
              (Lines{"g1|s-blog|user|rule:r4"}));
}

TEST_F(GroupRuleBindingTest, UnknownSiteBindsNothing) {
    EXPECT_TRUE(bindings_for({site_rule_}, "site-wiki-admin").empty());
    EXPECT_TRUE(
        bindings_for({rule("r4", "^wiki-editors$", "user", "Wiki")}, "wiki-editors").empty());
}

TEST_F(GroupRuleBindingTest, CapturedOwnerOrUnknownRoleBindsNothing) {
    const NamingRule any_role = rule("r5", "^team-(\\w+)$", "$1");
    EXPECT_TRUE(bindings_for({any_role}, "team-owner").empty());
    EXPECT_TRUE(bindings_for({any_role}, "team-OWNER").empty());
    EXPECT_TRUE(bindings_for({any_role}, "team-boss").empty());
    EXPECT_EQ(bindings_for({any_role}, "team-admin"), (Lines{"g1||admin|rule:r5"}));
}

TEST_F(GroupRuleBindingTest, NonMatchingNamesBindNothing) {
    for (const char* name : {"analytics-admins", "my-analytics-admin", "analytics-", "",
                             "site-blog", "site-blog-owner", "site--admin"}) {
        SCOPED_TRACE(name);
        EXPECT_TRUE(bindings_for({org_rule_, site_rule_}, name).empty());
    }
}

TEST_F(GroupRuleBindingTest, EachMatchingRuleGivesABinding) {
    const NamingRule all_analytics = rule("r3", "^analytics-.*$", "viewer", "Blog");
    EXPECT_EQ(bindings_for({org_rule_, site_rule_, all_analytics}, "analytics-user"),
              (Lines{"g1||user|rule:r1", "g1|s-blog|viewer|rule:r3"}));
}

TEST_F(GroupRuleBindingTest, RuleThatNoLongerCompilesBindsNothing) {
    EXPECT_EQ(
        bindings_for({rule("r0", "^analytics-(admin$", "admin"), org_rule_}, "analytics-admin"),
        (Lines{"g1||admin|rule:r1"}));
}

TEST_F(GroupRuleBindingTest, NamesOver256CharactersAreNotMatched) {
    const NamingRule only_as = rule("r6", "^a+$", "user");
    EXPECT_EQ(bindings_for({only_as}, std::string(256, 'a')), (Lines{"g1||user|rule:r6"}));
    EXPECT_TRUE(bindings_for({only_as}, std::string(257, 'a')).empty());
}

}  // namespace
}  // namespace scimd::core
