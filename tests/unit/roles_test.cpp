#include "scimd/protocol/roles.hpp"

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "support/errors.hpp"
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "scimd/core/access.hpp"
#include "scimd/error.hpp"

namespace scimd::protocol {
namespace {

namespace json = boost::json;
using test::error_of;
using test::obj;

using Lines = std::vector<std::string>;

// A User document whose core `roles` elements have these values.
json::object with_core_roles(std::initializer_list<std::string_view> values) {
    json::array roles;
    for (const std::string_view v : values) {
        roles.emplace_back(json::object{{"value", v}, {"type", "app"}});
    }
    json::object doc;
    doc["userName"] = "ann@example.com";
    doc["roles"] = std::move(roles);
    return doc;
}

// A User document whose access extension's `roles` are these strings.
json::object with_extension_roles(std::initializer_list<std::string_view> values) {
    json::array roles;
    for (const std::string_view v : values) {
        roles.emplace_back(v);
    }
    json::object ext;
    ext["roles"] = std::move(roles);
    json::object doc;
    doc["userName"] = "ann@example.com";
    doc[kAccessUserSchema] = std::move(ext);
    return doc;
}

// "site|role|text" of each assignment, in order.
Lines described(const std::vector<RoleAssignment>& assignments) {
    Lines out;
    for (const RoleAssignment& a : assignments) {
        out.push_back(a.site + "|" + std::string(core::role_name(a.role)) + "|" + a.text);
    }
    return out;
}

TEST(RoleAssignmentsTest, OrganizationAndSiteForms) {
    EXPECT_EQ(described(role_assignments(
                  with_core_roles({"org:admin", "org:user", "org:viewer", "site:Blog:viewer"}))),
              (Lines{"|admin|org:admin", "|user|org:user", "|viewer|org:viewer",
                     "Blog|viewer|site:Blog:viewer"}));
}

TEST(RoleAssignmentsTest, PrefixesAndRolesAreCaseInsensitive) {
    // The site name keeps its casing (sites are looked up case-insensitively later).
    EXPECT_EQ(described(role_assignments(with_core_roles({"ORG:Admin", "Site:Blog:USER"}))),
              (Lines{"|admin|ORG:Admin", "Blog|user|Site:Blog:USER"}));
}

TEST(RoleAssignmentsTest, SiteNamesMayContainSpacesAndColons) {
    EXPECT_EQ(
        described(
            role_assignments(with_core_roles({"site:Main Store EU:admin", "site:EU: Web:user"}))),
        (Lines{"Main Store EU|admin|site:Main Store EU:admin", "EU: Web|user|site:EU: Web:user"}));
}

// R-46: Entra sends app roles in `roles` elements whose `value` is a JSON-encoded string
// {"id": "<assignment guid>", "value": "<role value>", "displayName": ...}; `primary` may be
// a string. The "Assertive" variant sends plain values.
TEST(RoleAssignmentsTest, EntraStringifiedJsonValues_R46) {
    const json::object doc = obj(R"({
      "userName": "ann@contoso.com",
      "roles": [
        {"primary": false, "type": "WindowsAzureActiveDirectoryRole",
         "value": "{\"id\":\"5b1c0d1e-0000-4000-8000-000000000001\",\"value\":\"org:user\",\"displayName\":\"Member\"}"},
        {"primary": "True", "type": "WindowsAzureActiveDirectoryRole",
         "value": "{\"id\":\"5b1c0d1e-0000-4000-8000-000000000002\",\"value\":\"site:Main Store:admin\",\"displayName\":\"Store admin\"}"},
        {"primary": true, "type": "WindowsAzureActiveDirectoryRole", "display": "Viewer",
         "value": "site:Blog:viewer"}
      ]})");
    EXPECT_EQ(described(role_assignments(doc)),
              (Lines{"|user|org:user", "Main Store|admin|site:Main Store:admin",
                     "Blog|viewer|site:Blog:viewer"}));
}

TEST(RoleAssignmentsTest, EntraOwnerInsideJsonIsRefused_R46) {
    const Error e =
        error_of([] { role_assignments(with_core_roles({R"({"id":"x","value":"org:owner"})"})); });
    EXPECT_EQ(e.status(), 400);
    EXPECT_EQ(e.scim_type(), ScimType::kInvalidValue);
    EXPECT_NE(e.detail().find("org:owner"), std::string::npos) << e.detail();
}

TEST(RoleAssignmentsTest, AccessExtensionStrings) {
    const json::object doc = obj(R"({
      "userName": "ann@example.com",
      "urn:scimd:params:scim:schemas:extension:access:2.0:User": {
        "roles": ["org:viewer", "site:Blog:admin"]}})");
    EXPECT_EQ(described(role_assignments(doc)),
              (Lines{"|viewer|org:viewer", "Blog|admin|site:Blog:admin"}));
}

TEST(RoleAssignmentsTest, CoreRolesAndExtensionTogether) {
    const json::object ext_doc = with_extension_roles({"site:Blog:admin"});
    json::object doc = with_core_roles({"org:user"});
    doc[kAccessUserSchema] = ext_doc.at(kAccessUserSchema);
    EXPECT_EQ(described(role_assignments(doc)),
              (Lines{"|user|org:user", "Blog|admin|site:Blog:admin"}));
}

TEST(RoleAssignmentsTest, EmptyValuesAreSkipped) {
    const json::object doc = obj(R"({
      "userName": "ann@example.com",
      "roles": [{"value": ""}, {"type": "app"}, {"value": "org:user"}],
      "urn:scimd:params:scim:schemas:extension:access:2.0:User": {
        "roles": ["", "site:Blog:viewer"]}})");
    EXPECT_EQ(described(role_assignments(doc)),
              (Lines{"|user|org:user", "Blog|viewer|site:Blog:viewer"}));
    EXPECT_TRUE(role_assignments(with_core_roles({""})).empty());
    EXPECT_TRUE(role_assignments(with_extension_roles({""})).empty());
}

TEST(RoleAssignmentsTest, NoRolesNoAssignments) {
    EXPECT_TRUE(role_assignments(obj(R"({"userName": "ann@example.com"})")).empty());
    EXPECT_TRUE(role_assignments(obj(R"({"roles": []})")).empty());
}

// Every value that is not a role assignment is refused with the value in the detail, from
// either source; owner is never granted through SCIM (DESIGN §2 rule 1).
TEST(RoleAssignmentsTest, ValuesThatAreNotRoleAssignmentsAreRefused) {
    for (const std::string_view value :
         {"admin", "org:boss", "site::admin", "org:owner", "ORG:OWNER", "site:Blog:owner",
          "site:Blog:", "org:", R"({"id":"5b1c","displayName":"Member"})", R"({"value":7})",
          "{not json"}) {
        for (const json::object& doc : {with_core_roles({value}), with_extension_roles({value})}) {
            SCOPED_TRACE(json::serialize(doc));
            const Error e = error_of([&] { role_assignments(doc); });
            EXPECT_EQ(e.status(), 400);
            EXPECT_EQ(e.scim_type(), ScimType::kInvalidValue);
            EXPECT_NE(e.detail().find("\"" + std::string(value) + "\""), std::string::npos)
                << e.detail();
        }
    }
}

TEST(RoleAssignmentsTest, OwnerDetailSaysOwnerIsNeverGrantedThroughScim) {
    const Error e = error_of([] { role_assignments(with_core_roles({"org:owner"})); });
    EXPECT_NE(e.detail().find("never granted through SCIM"), std::string::npos) << e.detail();
}

TEST(RoleAssignmentsTest, OneBadValueRefusesTheWholeDocument) {
    const Error e = error_of([] {
        role_assignments(with_core_roles({"org:user", "site:Blog:boss"}));
    });
    EXPECT_EQ(e.status(), 400);
    EXPECT_NE(e.detail().find("site:Blog:boss"), std::string::npos) << e.detail();
}

// "site:<role>" with no site part names no site: refused, not read as the site "<role>".
TEST(RoleAssignmentsTest, SiteFormWithoutARoleIsRefused) {
    for (const std::string_view value : {"site:admin", "site:user"}) {
        const Error e = error_of([&] { role_assignments(with_core_roles({value})); });
        EXPECT_EQ(e.status(), 400) << value;
        EXPECT_EQ(e.scim_type(), ScimType::kInvalidValue) << value;
    }
}

TEST(HasRoleAttributesTest, CoreRolesOrTheAccessExtension) {
    EXPECT_TRUE(has_role_attributes(obj(R"({"userName": "a", "roles": []})")));
    EXPECT_TRUE(has_role_attributes(with_core_roles({"org:user"})));
    EXPECT_TRUE(has_role_attributes(obj(
        R"({"userName": "a", "urn:scimd:params:scim:schemas:extension:access:2.0:User": {}})")));
    EXPECT_TRUE(has_role_attributes(with_extension_roles({})));
}

TEST(HasRoleAttributesTest, NeitherMeansNoRoleAttributes) {
    EXPECT_FALSE(has_role_attributes(obj(R"({})")));
    EXPECT_FALSE(has_role_attributes(obj(R"({"userName": "a", "active": true})")));
    EXPECT_FALSE(has_role_attributes(obj(R"({
      "userName": "a",
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Roles"}})")));
}

}  // namespace
}  // namespace scimd::protocol
