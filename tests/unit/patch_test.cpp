#include "scimd/protocol/patch.hpp"

#include <string>
#include <string_view>
#include <vector>

#include "support/errors.hpp"
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "scimd/error.hpp"
#include "scimd/protocol/resource.hpp"

namespace scimd::protocol {
namespace {

namespace json = boost::json;
using test::error_of;
using test::obj;

constexpr std::string_view kEnterprise =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

// A test-only Group resource type shaped like RFC 7643 §8.7.1 (the builtin registry may not
// serve Groups yet), plus an immutable top-level attribute `code`.
constexpr std::string_view kGroupSchema = R"({
  "id": "urn:ietf:params:scim:schemas:core:2.0:Group", "name": "Group",
  "attributes": [
    {"name": "displayName", "type": "string", "required": true},
    {"name": "code", "type": "string", "mutability": "immutable", "caseExact": true},
    {"name": "members", "type": "complex", "multiValued": true, "subAttributes": [
      {"name": "value", "type": "string", "caseExact": true, "mutability": "immutable"},
      {"name": "$ref", "type": "reference", "referenceTypes": ["User", "Group"], "mutability": "immutable"},
      {"name": "display", "type": "string", "mutability": "readOnly"},
      {"name": "type", "type": "string", "canonicalValues": ["User", "Group"], "mutability": "immutable"}]}
  ]})";
constexpr std::string_view kGroupType = R"({
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
  "id": "Group", "name": "Group", "endpoint": "/Groups",
  "schema": "urn:ietf:params:scim:schemas:core:2.0:Group"})";

constexpr std::string_view kBabs = "2819c223-7f76-453a-919d-413861904646";
constexpr std::string_view kJames = "08e1d05d-121c-4561-8b96-473d93df9210";

// Wraps operations (JSON text of the array) in a PatchOp body.
json::value body(std::string_view operations) {
    return json::parse(
        R"({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": )" +
        std::string(operations) + "}");
}

class PatchTest : public ::testing::Test {
protected:
    const SchemaRegistry& reg_ = SchemaRegistry::builtin();
    const ResourceTypeDef& user_ = *reg_.resource_type("User");
    const SchemaRegistry groups_{std::vector<std::string_view>{kGroupSchema, kGroupType}};
    const ResourceTypeDef& group_ = *groups_.resource_type("Group");

    // The stored Babs Jensen of RFC 7643 §8.2, trimmed.
    json::object user() const {
        return normalize_resource(json::parse(R"({
            "userName": "bjensen", "externalId": "701984",
            "name": {"givenName": "Barbara", "familyName": "Jensen", "formatted": "Ms. Barbara J Jensen"},
            "displayName": "Babs Jensen", "nickName": "Babs", "active": true,
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                       {"value": "babs@jensen.org", "type": "home"}],
            "addresses": [{"type": "work", "streetAddress": "100 Universal City Plaza",
                           "locality": "Hollywood", "region": "CA", "postalCode": "91608",
                           "country": "USA", "primary": true},
                          {"type": "home", "streetAddress": "456 Hollywood Blvd",
                           "locality": "Hollywood", "region": "CA", "postalCode": "91608", "country": "USA"}],
            "phoneNumbers": [{"value": "555-555-5555", "type": "work"}]})"),
                                  reg_, user_);
    }
    json::object group() const {
        return normalize_resource(json::parse(R"({"displayName": "Tour Guides", "members": [
            {"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen", "type": "User"},
            {"value": "08e1d05d-121c-4561-8b96-473d93df9210", "display": "James Smith", "type": "User"}]})"),
                                  groups_, group_);
    }

    // Parses the operations and applies them to a copy of `doc`.
    json::object patch_user(json::object doc, std::string_view operations) const {
        apply_patch(doc, parse_patch_request(body(operations)), reg_, user_);
        return doc;
    }
    json::object patch_group(json::object doc, std::string_view operations) const {
        apply_patch(doc, parse_patch_request(body(operations)), groups_, group_);
        return doc;
    }
    // Applies operations that must fail, and checks that the document is untouched (R-49).
    Error user_error(const json::object& doc, std::string_view operations) const {
        json::object copy = doc;
        const Error e = error_of(
            [&] { apply_patch(copy, parse_patch_request(body(operations)), reg_, user_); });
        EXPECT_EQ(copy, doc) << "the document changed although the PATCH failed";
        return e;
    }
    Error group_error(const json::object& doc, std::string_view operations) const {
        json::object copy = doc;
        const Error e = error_of(
            [&] { apply_patch(copy, parse_patch_request(body(operations)), groups_, group_); });
        EXPECT_EQ(copy, doc) << "the document changed although the PATCH failed";
        return e;
    }

    static std::vector<std::string> member_ids(const json::object& g) {
        std::vector<std::string> out;
        if (const json::value* m = g.if_contains("members")) {
            for (const json::value& e : m->as_array()) {
                out.emplace_back(e.at("value").as_string());
            }
        }
        return out;
    }
};

// ---------------------------------------------------------------------------------------------
// RFC 7644 §3.5.2.1 add

TEST_F(PatchTest, Rfc_AddMember) {
    json::object g = group();
    g.erase("members");
    g = patch_group(g, R"([{"op": "add", "path": "members", "value": [{
        "display": "Babs Jensen",
        "$ref": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
        "value": "2819c223-7f76-453a-919d-413861904646"}]}])");
    EXPECT_EQ(g.at("members"), json::parse(R"([{"display": "Babs Jensen",
        "value": "2819c223-7f76-453a-919d-413861904646"}])"));  // $ref is computed on output
}

TEST_F(PatchTest, Rfc_AddWithoutPath) {
    const json::object u = patch_user(user(), R"([{"op": "add", "value": {
        "emails": [{"value": "babs@jensen.net", "type": "home"}], "nickname": "Babsie"}}])");
    ASSERT_EQ(u.at("emails").as_array().size(), 3u);  // appended, not replaced
    EXPECT_EQ(u.at("emails").at(2), obj(R"({"value": "babs@jensen.net", "type": "home"})"));
    EXPECT_EQ(u.at("nickName"), json::value("Babsie"));  // canonical casing; add = replace (R-40)
    EXPECT_FALSE(u.contains("nickname"));
}

TEST_F(PatchTest, Rfc_AddSubAttributeOfComplex) {
    const json::object u =
        patch_user(user(), R"([{"op": "add", "path": "name.middleName", "value": "Jane"}])");
    EXPECT_EQ(u.at("name"), obj(R"({"givenName": "Barbara", "familyName": "Jensen",
        "formatted": "Ms. Barbara J Jensen", "middleName": "Jane"})"));
}

// ---------------------------------------------------------------------------------------------
// RFC 7644 §3.5.2.2 remove

TEST_F(PatchTest, Rfc_RemoveAllMembers) {
    const json::object g = patch_group(group(), R"([{"op": "remove", "path": "members"}])");
    EXPECT_FALSE(g.contains("members"));
    EXPECT_EQ(g.at("displayName"), json::value("Tour Guides"));
}

TEST_F(PatchTest, Rfc_RemoveOneMemberByFilter_R43) {
    const json::object g = patch_group(
        group(),
        R"([{"op": "remove", "path": "members[value eq \"2819c223-7f76-453a-919d-413861904646\"]"}])");
    EXPECT_EQ(member_ids(g), std::vector<std::string>{std::string(kJames)});
}

TEST_F(PatchTest, Rfc_RemoveAllThenAddMembers) {
    // §3.5.2.2's "replace all of a group's members": remove members, then add the new ones.
    const json::object g = patch_group(group(), R"([
        {"op": "remove", "path": "members"},
        {"op": "add", "path": "members", "value": [
            {"display": "James Smith", "value": "08e1d05d-121c-4561-8b96-473d93df9210"},
            {"display": "Jane Doe", "value": "7c2e"}]}])");
    EXPECT_EQ(member_ids(g), (std::vector<std::string>{std::string(kJames), "7c2e"}));
    EXPECT_FALSE(g.at("members").at(0).as_object().contains("type"));  // old element gone
}

TEST_F(PatchTest, Rfc_RemoveByComplexFilter) {
    const json::object u = patch_user(
        user(),
        R"([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"example.com\"]"}])");
    EXPECT_EQ(u.at("emails"), json::parse(R"([{"value": "babs@jensen.org", "type": "home"}])"));
}

TEST_F(PatchTest, Rfc_RemoveSubAttributeOfFilteredElements) {
    const json::object u = patch_user(
        user(), R"([{"op": "remove", "path": "addresses[type eq \"work\"].streetAddress"}])");
    EXPECT_FALSE(u.at("addresses").at(0).as_object().contains("streetAddress"));
    EXPECT_EQ(u.at("addresses").at(0).at("locality"), json::value("Hollywood"));
    EXPECT_EQ(u.at("addresses").at(1).at("streetAddress"), json::value("456 Hollywood Blvd"));
}

TEST_F(PatchTest, Rfc_RemoveSingleValuedAndSubAttribute) {
    const json::object u = patch_user(user(), R"([{"op": "remove", "path": "nickName"},
                                                  {"op": "remove", "path": "name.formatted"}])");
    EXPECT_FALSE(u.contains("nickName"));
    EXPECT_EQ(u.at("name"), obj(R"({"givenName": "Barbara", "familyName": "Jensen"})"));
}

TEST_F(PatchTest, Rfc_RemoveWithoutPathIsNoTarget) {
    const Error e = user_error(user(), R"([{"op": "remove"}])");
    EXPECT_EQ(e.scim_type(), ScimType::kNoTarget);
}

// ---------------------------------------------------------------------------------------------
// RFC 7644 §3.5.2.3 replace

TEST_F(PatchTest, Rfc_ReplaceMembers_R44) {
    const json::object g = patch_group(group(), R"([{"op": "replace", "path": "members", "value": [
        {"display": "Babs Jensen", "value": "2819c223-7f76-453a-919d-413861904646"},
        {"display": "Jane Doe", "value": "7c2e"}]}])");
    EXPECT_EQ(member_ids(g), (std::vector<std::string>{std::string(kBabs), "7c2e"}));
    EXPECT_FALSE(g.at("members").at(0).as_object().contains("type"));  // wholesale, not merged
    // An empty array empties the group (Okta's push of an empty group).
    EXPECT_FALSE(patch_group(group(), R"([{"op": "replace", "path": "members", "value": []}])")
                     .contains("members"));
}

TEST_F(PatchTest, Rfc_ReplaceWithoutPath) {
    const json::object u = patch_user(user(), R"([{"op": "replace", "value": {
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                   {"value": "babs@jensen.org", "type": "home"},
                   {"value": "b@new.example", "type": "other"}],
        "nickName": "Barb"}}])");
    EXPECT_EQ(u.at("emails").as_array().size(), 3u);
    EXPECT_EQ(u.at("nickName"), json::value("Barb"));
    const json::object fewer = patch_user(user(), R"([{"op": "replace", "value": {
        "emails": [{"value": "only@example.com", "type": "work"}]}}])");
    EXPECT_EQ(fewer.at("emails"),
              json::parse(R"([{"value": "only@example.com", "type": "work"}])"));
}

TEST_F(PatchTest, Rfc_ReplaceFilteredElement) {
    const json::object u =
        patch_user(user(), R"([{"op": "replace", "path": "addresses[type eq \"work\"]",
        "value": {"type": "work", "streetAddress": "911 Universal City Plaza", "locality": "Hollywood",
                  "region": "CA", "postalCode": "91608", "country": "US", "primary": true}}])");
    EXPECT_EQ(u.at("addresses").at(0),
              obj(R"({"type": "work", "streetAddress": "911 Universal City Plaza",
        "locality": "Hollywood", "region": "CA", "postalCode": "91608", "country": "US", "primary": true})"));
    EXPECT_EQ(u.at("addresses").at(1).at("streetAddress"), json::value("456 Hollywood Blvd"));
}

TEST_F(PatchTest, Rfc_ReplaceSubAttributeThroughFilter_R38) {
    const json::object u = patch_user(
        user(),
        R"([{"op": "replace", "path": "addresses[type eq \"work\"].streetAddress", "value": "1010 Broadway Ave"}])");
    EXPECT_EQ(u.at("addresses").at(0).at("streetAddress"), json::value("1010 Broadway Ave"));
    EXPECT_EQ(u.at("addresses").at(0).at("postalCode"), json::value("91608"));
    EXPECT_EQ(u.at("addresses").at(1).at("streetAddress"), json::value("456 Hollywood Blvd"));
}

TEST_F(PatchTest, Rfc_ReplaceEmailValueThroughFilter_R38) {
    const json::object u = patch_user(
        user(),
        R"([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "barbara@example.com"}])");
    EXPECT_EQ(u.at("emails").at(0),
              obj(R"({"value": "barbara@example.com", "type": "work", "primary": true})"));
    EXPECT_EQ(u.at("emails").at(1).at("value"), json::value("babs@jensen.org"));
}

// RFC 7644 §3.5.2.3 says noTarget; scimd creates the element when the filter names it
// (R-39), because Entra replaces emails[type eq "work"].value on users without one.
TEST_F(PatchTest, ReplaceFilterWithoutMatchCreatesTheNamedElement) {
    const json::object u = patch_user(
        user(),
        R"([{"op": "replace", "path": "emails[type eq \"other\"].value", "value": "x@example.com"}])");
    bool found = false;
    for (const auto& e : u.at("emails").as_array()) {
        found = found || e == obj(R"({"type": "other", "value": "x@example.com"})");
    }
    EXPECT_TRUE(found) << json::serialize(u.at("emails"));
}

TEST_F(PatchTest, ReplaceFilterThatNamesNoElementIsNoTarget) {
    const Error e = user_error(
        user(), R"([{"op": "replace", "path": "emails[value co \"zzz\"].type", "value": "home"}])");
    EXPECT_EQ(e.status(), 400);
    EXPECT_EQ(e.scim_type(), ScimType::kNoTarget);
}

TEST_F(PatchTest, RemoveManagerWithAValueRemovesOnlyThatManager) {  // R-43
    const std::string urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    json::object doc = patch_user(
        user(),
        R"([{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "m-1"}])");
    const json::object kept = patch_user(
        doc,
        R"([{"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": {"value": "m-2"}}])");
    EXPECT_EQ(kept.at(urn).at("manager").at("value"), json::value("m-1"));
    const json::object gone = patch_user(
        doc,
        R"([{"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": {"value": "m-1"}}])");
    EXPECT_FALSE(gone.contains(urn) && gone.at(urn).as_object().contains("manager"));
}

TEST_F(PatchTest, TooManyValuesAreRefused) {
    std::string values;
    for (int i = 0; i < 101; ++i) {
        values += (i ? "," : "") + std::string(R"({"value": "a)") + std::to_string(i) +
                  R"(@example.com"})";
    }
    const Error e =
        user_error(user(), R"([{"op": "add", "path": "emails", "value": [)" + values + "]}]");
    EXPECT_EQ(e.scim_type(), ScimType::kInvalidValue);
    // Growing past the limit in steps is refused too.
    json::object doc = user();
    std::string half;
    for (int i = 0; i < 60; ++i) {
        half += (i ? "," : "") + std::string(R"({"value": "b)") + std::to_string(i) +
                R"(@example.com"})";
    }
    doc = patch_user(doc, R"([{"op": "add", "path": "emails", "value": [)" + half + "]}]");
    std::string other;
    for (int i = 0; i < 60; ++i) {
        other += (i ? "," : "") + std::string(R"({"value": "c)") + std::to_string(i) +
                 R"(@example.com"})";
    }
    const Error grown =
        user_error(doc, R"([{"op": "add", "path": "emails", "value": [)" + other + "]}]");
    EXPECT_EQ(grown.scim_type(), ScimType::kInvalidValue);
}

TEST_F(PatchTest, Rfc_ReplaceAbsentAttributeActsAsAdd) {
    json::object doc = user();
    doc.erase("nickName");
    EXPECT_EQ(
        patch_user(doc, R"([{"op": "replace", "path": "nickName", "value": "B"}])").at("nickName"),
        json::value("B"));
    EXPECT_EQ(patch_user(doc, R"([{"op": "replace", "path": "title", "value": "Tour Guide"}])")
                  .at("title"),
              json::value("Tour Guide"));
}

TEST_F(PatchTest, Rfc_ReplaceComplexMergesSubAttributes) {
    const json::object u = patch_user(
        user(), R"([{"op": "replace", "path": "name", "value": {"familyName": "Jensen-Smith"}}])");
    EXPECT_EQ(u.at("name"), obj(R"({"givenName": "Barbara", "familyName": "Jensen-Smith",
        "formatted": "Ms. Barbara J Jensen"})"));
}

// ---------------------------------------------------------------------------------------------
// IdP traffic

TEST_F(PatchTest, OktaDeactivatesWithPathlessReplace_R37) {
    const json::object u = patch_user(user(), R"([{"op": "replace", "value": {"active": false}}])");
    EXPECT_EQ(u.at("active"), json::value(false));
    // And reactivates; everything else untouched.
    json::object back = patch_user(u, R"([{"op": "replace", "value": {"active": true}}])");
    EXPECT_EQ(back, user());
}

TEST_F(PatchTest, EntraCapitalizedOpsAndStringBooleans_R35_R41) {
    const json::object u =
        patch_user(user(), R"([{"op": "Replace", "path": "active", "value": "False"}])");
    EXPECT_EQ(u.at("active"), json::value(false));
    const json::object again = patch_user(u, R"([{"op": "ADD", "path": "active", "value": "True"},
        {"op": "Add", "path": "emails[type eq \"home\"].primary", "value": "true"}])");
    EXPECT_EQ(again.at("active"), json::value(true));
    // A new primary clears the old one (RFC 7643 §2.4).
    EXPECT_EQ(again.at("emails").at(1).at("primary"), json::value(true));
    EXPECT_EQ(again.at("emails").at(0).at("primary"), json::value(false));
}

TEST_F(PatchTest, EntraAddThroughFilterCreatesTheElement_R39) {
    json::object doc = user();
    doc.erase("emails");
    doc.erase("addresses");
    const json::object u = patch_user(doc, R"([
        {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "ana@corp.example"},
        {"op": "Add", "path": "addresses[type eq \"work\"].formatted", "value": "1 Main St"},
        {"op": "Add", "path": "addresses[type eq \"work\"].locality", "value": "Springfield"},
        {"op": "Add", "path": "addresses[type eq \"work\"].region", "value": "IL"}])");
    EXPECT_EQ(u.at("emails"), json::parse(R"([{"type": "work", "value": "ana@corp.example"}])"));
    EXPECT_EQ(u.at("addresses"), json::parse(R"([{"type": "work", "formatted": "1 Main St",
        "locality": "Springfield", "region": "IL"}])"));  // one element, not three
}

TEST_F(PatchTest, DottedUrnAndFilteredKeysInPathlessValue_R37_R38) {
    const json::object u = patch_user(user(), R"([{"op": "replace", "value": {
        "name.givenName": "Barb",
        "urn:ietf:params:scim:schemas:core:2.0:User:displayName": "Barb Jensen",
        "emails[type eq \"work\"].value": "barb@example.com",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "701984",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": "26118915-6090"}}])");
    EXPECT_EQ(u.at("name").at("givenName"), json::value("Barb"));
    EXPECT_EQ(u.at("name").at("familyName"), json::value("Jensen"));  // kept
    EXPECT_EQ(u.at("displayName"), json::value("Barb Jensen"));
    EXPECT_EQ(u.at("emails").at(0).at("value"), json::value("barb@example.com"));
    EXPECT_EQ(u.at(kEnterprise),
              obj(R"({"employeeNumber": "701984", "manager": {"value": "26118915-6090"}})"));
    EXPECT_EQ(u.at("schemas"), json::parse(R"(["urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"])"));
}

TEST_F(PatchTest, CoreAttributesNestedUnderTheCoreUrn_R37) {
    const json::object u = patch_user(user(), R"([{"op": "replace", "value": {
        "urn:ietf:params:scim:schemas:core:2.0:User": {"title": "Guide", "name": {"givenName": "Barb"}}}}])");
    EXPECT_EQ(u.at("title"), json::value("Guide"));
    EXPECT_EQ(u.at("name").at("givenName"), json::value("Barb"));
}

TEST_F(PatchTest, ExtensionObjectKeyedByUrnAndNestedObjects_R37) {
    const json::object u = patch_user(user(), R"([{"op": "add", "value": {
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Tours",
                                                                        "manager": {"value": "m1"}},
        "name": {"honorificPrefix": "Ms."}}}])");
    EXPECT_EQ(u.at(kEnterprise), obj(R"({"department": "Tours", "manager": {"value": "m1"}})"));
    EXPECT_EQ(u.at("name").at("honorificPrefix"), json::value("Ms."));
    EXPECT_EQ(u.at("name").at("givenName"), json::value("Barbara"));
}

TEST_F(PatchTest, ManagerAsStringObjectOrArray_R45) {
    for (const std::string_view value :
         {R"("m-42")", R"({"value": "m-42"})", R"([{"value": "m-42"}])"}) {
        const json::object u = patch_user(
            user(),
            R"([{"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": )" +
                std::string(value) + "}]");
        EXPECT_EQ(u.at(kEnterprise).at("manager"), obj(R"({"value": "m-42"})")) << value;
    }
    // Entra's path form for the manager id.
    const json::object u = patch_user(
        user(),
        R"([{"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", "value": "m-7"}])");
    EXPECT_EQ(u.at(kEnterprise).at("manager"), obj(R"({"value": "m-7"})"));
    // A new manager replaces the old reference, displayName included.
    json::object with_name = user();
    with_name[kEnterprise] = obj(R"({"manager": {"value": "m-1", "displayName": "Old Boss"}})");
    const json::object replaced = patch_user(
        with_name,
        R"([{"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": {"value": "m-2"}}])");
    EXPECT_EQ(replaced.at(kEnterprise).at("manager"), obj(R"({"value": "m-2"})"));
}

TEST_F(PatchTest, RemoveManagerByFilterOnlyWhenItMatches_R43) {
    json::object doc = user();
    doc[kEnterprise] = obj(R"({"employeeNumber": "1", "manager": {"value": "m-1"}})");
    const json::object other = patch_user(
        doc,
        R"([{"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[value eq \"m-2\"]"}])");
    EXPECT_EQ(other.at(kEnterprise).at("manager"), obj(R"({"value": "m-1"})"));
    const json::object cleared = patch_user(
        doc,
        R"([{"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[value eq \"m-1\"]"}])");
    EXPECT_EQ(cleared.at(kEnterprise), obj(R"({"employeeNumber": "1"})"));
}

TEST_F(PatchTest, ExtensionUrnLeavesSchemasWhenItsDataIsGone) {
    json::object doc = user();
    doc[kEnterprise] = obj(R"({"manager": {"value": "m-1"}})");
    rebuild_schemas(doc, reg_, user_);
    ASSERT_EQ(doc.at("schemas").as_array().size(), 2u);
    const json::object u = patch_user(
        doc,
        R"([{"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", "value": ""}])");
    EXPECT_FALSE(u.contains(kEnterprise));
    EXPECT_EQ(u.at("schemas"), json::parse(R"(["urn:ietf:params:scim:schemas:core:2.0:User"])"));
}

TEST_F(PatchTest, EchoedReadOnlyIgnoredWithoutPath_R26) {
    // Okta renames groups with {"id", "displayName"}; echoes carry meta and groups.
    const json::object g = patch_group(group(), R"([{"op": "replace", "value": {
        "id": "abc", "displayName": "Tour Leads", "meta": {"resourceType": "Group"}}}])");
    EXPECT_EQ(g.at("displayName"), json::value("Tour Leads"));
    EXPECT_FALSE(g.contains("id"));
    EXPECT_FALSE(g.contains("meta"));
    const json::object u = patch_user(user(), R"([{"op": "replace", "value": {
        "groups": [{"value": "g1"}], "password": "t0ps3cret", "schemas": ["x"], "title": "Guide"}}])");
    EXPECT_FALSE(u.contains("groups"));
    EXPECT_FALSE(u.contains("password"));
    EXPECT_EQ(u.at("title"), json::value("Guide"));
}

TEST_F(PatchTest, ReadOnlyTargetedByPathIsMutability) {
    for (const std::string_view path :
         {"id", "groups", "meta.lastModified",
          "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName"}) {
        const Error e = user_error(
            user(), R"([{"op": "replace", "path": ")" + std::string(path) + R"(", "value": "x"}])");
        EXPECT_EQ(e.scim_type(), ScimType::kMutability) << path;
        EXPECT_NE(e.detail().find("readOnly"), std::string::npos) << e.detail();
    }
}

TEST_F(PatchTest, ImmutableMayBeSetOnceButNotChanged) {
    const json::object g =
        patch_group(group(), R"([{"op": "add", "path": "code", "value": "G-1"}])");
    EXPECT_EQ(g.at("code"), json::value("G-1"));
    EXPECT_NO_THROW(patch_group(g, R"([{"op": "replace", "path": "code", "value": "G-1"}])"));
    EXPECT_EQ(group_error(g, R"([{"op": "replace", "path": "code", "value": "G-2"}])").scim_type(),
              ScimType::kMutability);
    EXPECT_EQ(group_error(g, R"([{"op": "remove", "path": "code"}])").scim_type(),
              ScimType::kMutability);
    // An immutable sub-attribute of a member.
    const Error e = group_error(
        group(),
        R"([{"op": "replace", "path": "members[value eq \"2819c223-7f76-453a-919d-413861904646\"].value", "value": "other"}])");
    EXPECT_EQ(e.scim_type(), ScimType::kMutability);
}

TEST_F(PatchTest, SingleObjectWhereArrayExpected_R66) {
    const json::object u = patch_user(
        user(),
        R"([{"op": "add", "path": "phoneNumbers", "value": {"value": "+1 555 0100", "type": "mobile"}}])");
    EXPECT_EQ(u.at("phoneNumbers"), json::parse(R"([{"value": "555-555-5555", "type": "work"},
                                                    {"value": "+1 555 0100", "type": "mobile"}])"));
}

TEST_F(PatchTest, RemoveMembersWithValueArrayRemovesOnlyThose_R42) {
    json::object doc = group();
    doc = patch_group(
        doc, R"([{"op": "add", "path": "members", "value": [{"value": "c3"}, {"value": "d4"}]}])");
    ASSERT_EQ(member_ids(doc).size(), 4u);
    const json::object g = patch_group(doc, R"([{"op": "Remove", "path": "members",
        "value": [{"value": "2819c223-7f76-453a-919d-413861904646"}, {"value": "d4"}, {"value": "absent"}]}])");
    EXPECT_EQ(member_ids(g), (std::vector<std::string>{std::string(kJames), "c3"}));
    // A single object, and an empty array, never empty the group.
    EXPECT_EQ(
        member_ids(
            patch_group(doc, R"([{"op": "remove", "path": "members", "value": {"value": "c3"}}])"))
            .size(),
        3u);
    EXPECT_EQ(member_ids(patch_group(doc, R"([{"op": "remove", "path": "members", "value": []}])"))
                  .size(),
              4u);
}

TEST_F(PatchTest, Idempotent_R48) {
    // Adding a member that is there, removing one that is not, setting a value to itself.
    const json::object g = group();
    EXPECT_EQ(patch_group(g, R"([{"op": "add", "path": "members", "value": [
        {"value": "2819c223-7f76-453a-919d-413861904646"}]}])"),
              g);
    EXPECT_EQ(patch_group(g, R"([{"op": "add", "path": "members", "value": [
        {"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen", "type": "User"}]}])"),
              g);
    EXPECT_EQ(patch_group(g, R"([{"op": "remove", "path": "members[value eq \"nobody\"]"}])"), g);
    EXPECT_EQ(
        patch_group(g, R"([{"op": "remove", "path": "members", "value": [{"value": "nobody"}]}])"),
        g);
    const json::object u = user();
    EXPECT_EQ(patch_user(u, R"([{"op": "replace", "path": "active", "value": true}])"), u);
    EXPECT_EQ(patch_user(u, R"([{"op": "remove", "path": "title"}])"), u);
    EXPECT_EQ(patch_user(u, R"([{"op": "add", "path": "emails", "value": [
        {"value": "bjensen@example.com", "type": "work", "primary": true}]}])"),
              u);
}

TEST_F(PatchTest, AllOrNothing_R49) {
    const Error e = user_error(user(), R"([
        {"op": "replace", "path": "displayName", "value": "Changed"},
        {"op": "replace", "path": "favoriteColor", "value": "blue"}])");
    EXPECT_EQ(e.scim_type(), ScimType::kInvalidPath);
    EXPECT_NE(e.detail().find("Operations[1]"), std::string::npos) << e.detail();
    EXPECT_NE(e.detail().find("favoriteColor"), std::string::npos) << e.detail();

    const Error bad_value = user_error(user(), R"([
        {"op": "replace", "path": "displayName", "value": "Changed"},
        {"op": "replace", "path": "active", "value": "maybe"}])");
    EXPECT_EQ(bad_value.scim_type(), ScimType::kInvalidValue);
    EXPECT_NE(bad_value.detail().find("\"active\""), std::string::npos) << bad_value.detail();
}

TEST_F(PatchTest, UnknownPathIsInvalidPathNeverIgnored_R49) {
    for (const std::string_view path :
         {"nosuch", "name.nosuch", "urn:ietf:params:scim:schemas:extension:custom:2.0:User:x",
          "emails[type eq \"work\"].nosuch", "userName.x"}) {
        json::object doc = user();
        const json::array ops{json::object{{"op", "add"}, {"path", path}, {"value", "x"}}};
        const Error e = error_of([&] {
            apply_patch(doc, parse_patch_request(json::object{{"Operations", ops}}), reg_, user_);
        });
        EXPECT_EQ(e.scim_type(), ScimType::kInvalidPath) << path << " → " << e.detail();
        EXPECT_EQ(doc, user());
    }
    const Error e = user_error(user(), R"([{"op": "add", "path": "nosuch", "value": "x"}])");
    EXPECT_EQ(e.scim_type(), ScimType::kInvalidPath);
    EXPECT_NE(e.detail().find("nosuch"), std::string::npos) << e.detail();
}

TEST_F(PatchTest, UnknownKeysInPathlessValueDropped_R28) {
    const json::object u = patch_user(user(), R"([{"op": "replace", "value": {
        "favoriteColor": "blue", "name.nosuch": "x",
        "urn:ietf:params:scim:schemas:extension:custom:2.0:User": {"worksiteId": "180"},
        "nickName": "B"}}])");
    json::object expected = user();
    expected["nickName"] = "B";
    EXPECT_EQ(u, expected);
}

TEST_F(PatchTest, UserNameStaysRequired) {
    const Error e = user_error(user(), R"([{"op": "remove", "path": "userName"}])");
    EXPECT_EQ(e.scim_type(), ScimType::kInvalidValue);
    EXPECT_NE(e.detail().find("userName is required"), std::string::npos) << e.detail();
    // "" on a required attribute keeps the stored value (R-70); on an optional one it clears.
    const json::object u =
        patch_user(user(), R"([{"op": "replace", "path": "userName", "value": ""},
                                                  {"op": "replace", "path": "nickName", "value": ""}])");
    EXPECT_EQ(u.at("userName"), json::value("bjensen"));
    EXPECT_FALSE(u.contains("nickName"));
}

TEST_F(PatchTest, NewPrimaryClearsTheOldOne) {
    const json::object u = patch_user(user(), R"([{"op": "add", "path": "emails",
        "value": [{"value": "new@example.com", "type": "work", "primary": true}]}])");
    ASSERT_EQ(u.at("emails").as_array().size(), 3u);
    EXPECT_EQ(u.at("emails").at(2).at("primary"), json::value(true));
    EXPECT_EQ(u.at("emails").at(0).at("primary"), json::value(false));
    // Two primaries in one replace are the client's mistake.
    const Error e = user_error(user(), R"([{"op": "replace", "path": "emails", "value": [
        {"value": "a@example.com", "primary": true}, {"value": "b@example.com", "primary": true}]}])");
    EXPECT_EQ(e.scim_type(), ScimType::kInvalidValue);
    EXPECT_NE(e.detail().find("primary"), std::string::npos);
}

TEST_F(PatchTest, ValuesAreTypeChecked) {
    const Error e = user_error(
        user(),
        R"([{"op": "add", "path": "emails", "value": [{"value": "a@b.c", "primary": 3}]}])");
    EXPECT_EQ(e.scim_type(), ScimType::kInvalidValue);
    EXPECT_NE(e.detail().find("emails[0].primary"), std::string::npos) << e.detail();
    const Error pathless = user_error(user(), R"([{"op": "add", "value": "not an object"}])");
    EXPECT_EQ(pathless.scim_type(), ScimType::kInvalidValue);
}

// ---------------------------------------------------------------------------------------------
// parse_patch_request

TEST(ParsePatchRequest, LenientAsIdpsSendIt_R35_R36) {
    const std::vector<PatchOperation> ops = parse_patch_request(json::parse(R"({
        "operations": [{"Op": "Replace", "Path": "active", "Value": "False"},
                       {"op": "remove", "path": "title"},
                       {"op": "add", "path": "", "value": {"nickName": "B"}}]})"));
    ASSERT_EQ(ops.size(), 3u);
    EXPECT_EQ(ops[0].op, PatchOperation::Op::kReplace);
    EXPECT_EQ(ops[0].path, std::optional<std::string>("active"));
    EXPECT_EQ(ops[0].value, std::optional<json::value>(json::value("False")));
    EXPECT_EQ(ops[1].op, PatchOperation::Op::kRemove);
    EXPECT_FALSE(ops[1].value.has_value());
    EXPECT_EQ(ops[2].op, PatchOperation::Op::kAdd);
    EXPECT_FALSE(ops[2].path.has_value());  // "" is no path
}

TEST(ParsePatchRequest, RejectsMalformedBodies) {
    struct Case {
        std::string_view body;
        ScimType type;
        std::string_view detail_part;
    };
    for (const Case& c : std::vector<Case>{
             {R"([])", ScimType::kInvalidSyntax, "JSON object"},
             {R"({"schemas": []})", ScimType::kInvalidSyntax, "Operations"},
             {R"({"Operations": {}})", ScimType::kInvalidSyntax, "Operations"},
             {R"({"Operations": [42]})", ScimType::kInvalidSyntax, "Operations[0]"},
             {R"({"Operations": [{"path": "x"}]})", ScimType::kInvalidSyntax, "Operations[0].op"},
             {R"({"Operations": [{"op": "move", "path": "x"}]})", ScimType::kInvalidValue,
              "Operations[0].op"},
             {R"({"Operations": [{"op": "add", "path": 5, "value": 1}]})", ScimType::kInvalidSyntax,
              "path"},
             {R"({"Operations": [{"op": "remove", "path": "a"}, {"op": "add", "path": "title"}]})",
              ScimType::kInvalidValue, "Operations[1].value"},
         }) {
        const Error e = error_of([&] { parse_patch_request(json::parse(c.body)); });
        EXPECT_EQ(e.scim_type(), c.type) << c.body;
        EXPECT_NE(e.detail().find(c.detail_part), std::string::npos)
            << c.body << " → " << e.detail();
    }
    json::array many;
    for (std::size_t i = 0; i <= kMaxPatchOperations; ++i) {
        many.push_back(json::object{{"op", "remove"}, {"path", "title"}});
    }
    EXPECT_EQ(error_of([&] {
                  parse_patch_request(json::object{{"Operations", many}});
              }).status(),
              400);
}

}  // namespace
}  // namespace scimd::protocol
