#include "scimd/protocol/resource.hpp"

#include <string>
#include <string_view>
#include <vector>

#include "support/errors.hpp"
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "scimd/error.hpp"

namespace scimd::protocol {
namespace {

namespace json = boost::json;
using test::error_of;
using test::obj;

constexpr std::string_view kCore = "urn:ietf:params:scim:schemas:core:2.0:User";
constexpr std::string_view kEnterprise =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

// A test-only resource type with every attribute type and every `returned`/`mutability`
// characteristic the User schemas lack.
constexpr std::string_view kWidgetSchema = R"({
  "id": "urn:example:params:scim:schemas:core:2.0:Widget", "name": "Widget",
  "attributes": [
    {"name": "label", "type": "string", "required": true},
    {"name": "count", "type": "integer"},
    {"name": "score", "type": "decimal"},
    {"name": "since", "type": "dateTime"},
    {"name": "blob", "type": "binary", "caseExact": true},
    {"name": "link", "type": "reference", "referenceTypes": ["external"]},
    {"name": "serial", "type": "string", "mutability": "immutable", "caseExact": true},
    {"name": "code", "type": "string", "mutability": "immutable"},
    {"name": "secret", "type": "string", "returned": "never"},
    {"name": "note", "type": "string", "returned": "request"},
    {"name": "kind", "type": "string", "returned": "always"},
    {"name": "parts", "type": "complex", "multiValued": true, "subAttributes": [
      {"name": "value", "type": "string"},
      {"name": "hidden", "type": "string", "returned": "never"},
      {"name": "primary", "type": "boolean"}]}
  ]})";
constexpr std::string_view kWidgetType = R"({
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
  "id": "Widget", "name": "Widget", "endpoint": "/Widgets",
  "schema": "urn:example:params:scim:schemas:core:2.0:Widget"})";

class ResourceTest : public ::testing::Test {
protected:
    const SchemaRegistry& reg_ = SchemaRegistry::builtin();
    const ResourceTypeDef& user_ = *reg_.resource_type("User");
    const SchemaRegistry widgets_{std::vector<std::string_view>{kWidgetSchema, kWidgetType}};
    const ResourceTypeDef& widget_ = *widgets_.resource_type("Widget");

    json::object normalize(std::string_view text) const {
        return normalize_resource(json::parse(text), reg_, user_);
    }
    json::object normalize_widget(std::string_view text) const {
        return normalize_resource(json::parse(text), widgets_, widget_);
    }
    Error normalize_error(std::string_view text) const {
        return error_of([&] { normalize(text); });
    }
    json::object render(const json::object& doc,
                        std::string_view attributes,
                        std::string_view excluded) const {
        const json::object meta{{"resourceType", "User"}, {"location", "/Users/42"}};
        return render_resource(doc, "42", meta, reg_, user_,
                               parse_projection(attributes, excluded, reg_, user_));
    }
};

// ---------------------------------------------------------------------------------------------
// normalize_resource

TEST_F(ResourceTest, CanonicalCasingAndCoreUrnKeysFoldedIn) {
    const json::object doc = normalize(R"({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "USERNAME": "bjensen",
        "urn:ietf:params:scim:schemas:core:2.0:User:displayName": "Babs",
        "NAME": {"GIVENNAME": "Barbara", "familyname": "Jensen"},
        "ExternalID": "ext-1"})");
    EXPECT_EQ(doc, obj(R"({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "bjensen", "displayName": "Babs",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "externalId": "ext-1"})"));
    // `schemas` comes first in the stored document.
    EXPECT_EQ(doc.begin()->key(), "schemas");
}

TEST_F(ResourceTest, CoreAttributesNestedUnderTheCoreUrn) {
    const json::object doc = normalize(R"({
        "urn:ietf:params:scim:schemas:core:2.0:User": {"userName": "bjensen", "title": "Guide"}})");
    EXPECT_EQ(doc, obj(R"({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                           "userName": "bjensen", "title": "Guide"})"));
}

TEST_F(ResourceTest, EchoedReadOnlyPasswordAndNullsIgnored_R26_R27) {
    // Okta sends a placeholder password and groups: []; Entra sends meta.resourceType and
    // explicit nulls; Okta's PUT echoes id and meta.
    const json::object doc = normalize(R"({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "abc", "meta": {"resourceType": "User", "created": "2024-01-01T00:00:00Z"},
        "userName": "ana.li@corp.example", "password": "p@ssw0rd!", "groups": [],
        "addresses": null, "phoneNumbers": null, "title": null, "roles": [],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": null},
        "active": true})");
    EXPECT_EQ(doc, obj(R"({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                           "userName": "ana.li@corp.example", "active": true})"));
}

TEST_F(ResourceTest, UnknownSchemasAndAttributesDropped_R28) {
    const json::object doc = normalize(R"({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:scim:schemas:extension:enterprise:2.0",
                    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/User"],
        "userName": "bjensen",
        "urn:scim:schemas:extension:enterprise:2.0": {"employeeNumber": "1"},
        "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/User": {"x": 1},
        "urn:ietf:params:scim:schemas:extension:custom:2.0:User:worksiteId": "180",
        "favoriteColor": "blue",
        "name": {"givenName": "Barbara", "nickname": "Babs"}})");
    EXPECT_EQ(doc, obj(R"({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                           "userName": "bjensen", "name": {"givenName": "Barbara"}})"));
}

TEST_F(ResourceTest, EnterpriseExtensionUnderItsUrnAndListedInSchemas_R69) {
    // Entra omits the extension URN from `schemas` and may qualify single attributes.
    const json::object doc = normalize(R"({
        "userName": "bjensen",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {"EmployeeNumber": "701984"},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Tour Operations"})");
    EXPECT_EQ(doc, obj(R"({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "userName": "bjensen",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
            {"employeeNumber": "701984", "department": "Tour Operations"}})"));
}

TEST_F(ResourceTest, ManagerAsStringObjectOrArrayStoredAsObject_R45) {
    const json::object expected = obj(R"({"value": "26118915-6090-4610-87e4-49d8ca9f808d"})");
    for (const std::string_view manager :
         {R"("26118915-6090-4610-87e4-49d8ca9f808d")",
          R"({"value": "26118915-6090-4610-87e4-49d8ca9f808d",
              "$ref": "https://example.com/v2/Users/26118915-6090-4610-87e4-49d8ca9f808d"})",
          R"([{"value": "26118915-6090-4610-87e4-49d8ca9f808d"}])"}) {
        const json::object doc = normalize(
            R"({"userName": "bjensen", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": )" +
            std::string(manager) + "}}");
        const json::value* ext = doc.if_contains(kEnterprise);
        ASSERT_NE(ext, nullptr) << manager;
        EXPECT_EQ(ext->at("manager"), expected) << manager;  // $ref is computed on output
    }
    // displayName is kept with the id.
    const json::object with_name = normalize(R"({"userName": "b",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager":
            {"value": "m1", "displayName": "John Smith"}})");
    EXPECT_EQ(with_name.at(kEnterprise).at("manager"),
              obj(R"({"value": "m1", "displayName": "John Smith"})"));
}

TEST_F(ResourceTest, ManagerWithEmptyValueIsAbsent_R45_R70) {
    for (const std::string_view manager :
         {R"("")", R"({"value": ""})", "[]", R"({"displayName": "x"})"}) {
        const json::object doc = normalize(
            R"({"userName": "b", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": )" +
            std::string(manager) + "}}");
        EXPECT_EQ(
            doc,
            obj(R"({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "b"})"))
            << manager;
    }
}

TEST_F(ResourceTest, StringBooleansCoerced_R41) {
    const json::object doc = normalize(R"({"userName": "b", "active": "True",
        "emails": [{"value": "b@example.com", "primary": "TRUE"},
                   {"value": "b@home.example", "primary": "false"}]})");
    EXPECT_EQ(doc.at("active"), json::value(true));
    EXPECT_EQ(doc.at("emails").at(0).at("primary"), json::value(true));
    EXPECT_EQ(doc.at("emails").at(1).at("primary"), json::value(false));

    const Error e = normalize_error(R"({"userName": "b", "active": "yes"})");
    EXPECT_EQ(e.scim_type(), ScimType::kInvalidValue);
    EXPECT_EQ(e.detail(), "attribute \"active\" must be a boolean");
}

TEST_F(ResourceTest, TypeErrorsNameTheAttribute) {
    struct Case {
        std::string_view body;
        std::string_view detail;
    };
    for (
        const Case& c : std::vector<Case>{
            {R"({"userName": "b", "emails": [{"value": "a@b.c"}, {"value": "d@e.f", "primary": 5}]})",
             "attribute \"emails[1].primary\" must be a boolean"},
            {R"({"userName": 42})", "attribute \"userName\" must be a string"},
            {R"({"userName": "b", "name": "Barbara Jensen"})",
             "attribute \"name\" must be an object"},
            {R"({"userName": "b", "name": {"givenName": true}})",
             "attribute \"name.givenName\" must be a string"},
            {R"({"userName": "b", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": "x"})",
             "attribute \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\" must be an "
             "object"},
            {R"({"userName": "b", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": 7}})",
             "attribute "
             "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber\" must "
             "be a string"},
        }) {
        const Error e = normalize_error(c.body);
        EXPECT_EQ(e.status(), 400) << c.body;
        EXPECT_EQ(e.scim_type(), ScimType::kInvalidValue) << c.body;
        EXPECT_EQ(e.detail(), c.detail) << c.body;
    }
}

TEST_F(ResourceTest, IntegerDecimalDateTimeReferenceBinary) {
    const json::object doc = normalize_widget(R"({"label": "w", "count": 3, "score": 2.5,
        "since": "2024-02-29T10:00:00.5+01:00", "blob": "AAEC", "link": "https://example.com/x"})");
    EXPECT_EQ(doc.at("count"), json::value(3));
    EXPECT_EQ(doc.at("score"), json::value(2.5));
    EXPECT_EQ(doc.at("since"), json::value("2024-02-29T10:00:00.5+01:00"));  // as received
    EXPECT_EQ(doc.at("blob"), json::value("AAEC"));
    EXPECT_EQ(doc.at("link"), json::value("https://example.com/x"));
    // An integral decimal is fine for an integer, an integer for a decimal.
    EXPECT_EQ(normalize_widget(R"({"label": "w", "count": 4.0, "score": 7})").at("count"),
              json::value(4));
    EXPECT_EQ(normalize_widget(R"({"label": "w", "score": 7})").at("score"), json::value(7));

    for (const auto& [body, detail] : std::vector<std::pair<std::string_view, std::string_view>>{
             {R"({"label": "w", "count": 2.5})", "attribute \"count\" must be an integer"},
             {R"({"label": "w", "count": "3"})", "attribute \"count\" must be an integer"},
             {R"({"label": "w", "score": "2.5"})", "attribute \"score\" must be a number"},
             {R"({"label": "w", "since": 1700000000})",
              "attribute \"since\" must be a dateTime string"},
             {R"({"label": "w", "link": 5})", "attribute \"link\" must be a string"},
             {R"({"label": "w", "blob": {}})", "attribute \"blob\" must be a string"},
         }) {
        const Error e = error_of([&, b = body] { normalize_widget(b); });
        EXPECT_EQ(e.scim_type(), ScimType::kInvalidValue) << body;
        EXPECT_EQ(e.detail(), detail) << body;
    }
    const Error bad_time =
        error_of([&] { normalize_widget(R"({"label": "w", "since": "yesterday"})"); });
    EXPECT_EQ(bad_time.scim_type(), ScimType::kInvalidValue);
    EXPECT_NE(bad_time.detail().find("\"since\" must be a dateTime"), std::string::npos);
}

TEST_F(ResourceTest, UserNameRequired) {
    for (const std::string_view body :
         {R"({"displayName": "Babs"})", R"({"userName": ""})", R"({"userName": null})"}) {
        const Error e = normalize_error(body);
        EXPECT_EQ(e.scim_type(), ScimType::kInvalidValue) << body;
        EXPECT_EQ(e.detail(), "userName is required") << body;
    }
}

TEST_F(ResourceTest, EmptyStringOnOptionalAttributeIsAbsent_R70) {
    const json::object doc = normalize(
        R"({"userName": "b", "title": "", "name": {"givenName": "", "familyName": "Jensen"},
            "emails": [{"value": "", "type": ""}], "nickName": "Babs"})");
    EXPECT_EQ(doc,
              obj(R"({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "b",
                           "name": {"familyName": "Jensen"}, "nickName": "Babs"})"));
}

TEST_F(ResourceTest, SingleObjectWhereArrayExpected_R66) {
    const json::object doc = normalize(
        R"({"userName": "b", "emails": {"value": "b@example.com", "type": "work", "primary": true}})");
    EXPECT_EQ(doc.at("emails"),
              json::parse(R"([{"value": "b@example.com", "type": "work", "primary": true}])"));
}

TEST_F(ResourceTest, AtMostOnePrimary) {
    const Error e = normalize_error(R"({"userName": "b", "emails": [
        {"value": "a@example.com", "primary": true}, {"value": "b@example.com", "primary": "True"}]})");
    EXPECT_EQ(e.scim_type(), ScimType::kInvalidValue);
    EXPECT_EQ(e.detail(), "attribute \"emails\" must not have more than one primary value");
}

TEST_F(ResourceTest, ValuesStoredExactlyAsReceived_R65) {
    const json::object doc = normalize(R"({"userName": "BJensen@Example.COM",
        "emails": [{"value": "BJensen@Example.COM", "type": "Work"}],
        "phoneNumbers": [{"value": "+1 (555) 555-5555 ext. 7", "type": "mobile"}]})");
    EXPECT_EQ(doc.at("userName"), json::value("BJensen@Example.COM"));
    EXPECT_EQ(doc.at("emails").at(0).at("value"), json::value("BJensen@Example.COM"));
    EXPECT_EQ(doc.at("emails").at(0).at("type"), json::value("Work"));
    EXPECT_EQ(doc.at("phoneNumbers").at(0).at("value"), json::value("+1 (555) 555-5555 ext. 7"));
}

TEST_F(ResourceTest, DottedAndUrnQualifiedSubAttributeKeysMerge) {
    const json::object doc = normalize(R"({"userName": "b", "name": {"familyName": "Jensen"},
        "name.givenName": "Barbara",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value": "m1"})");
    EXPECT_EQ(doc.at("name"), obj(R"({"familyName": "Jensen", "givenName": "Barbara"})"));
    EXPECT_EQ(doc.at(kEnterprise).at("manager"), obj(R"({"value": "m1"})"));
}

TEST_F(ResourceTest, EntraRoleJsonInStringDecoded_R46) {
    const json::object doc = normalize(R"({"userName": "b", "roles": [
        {"primary": "False", "type": "WindowsAzureActiveDirectoryRole",
         "value": "{\"id\":\"7c8e\",\"value\":\"Admin\",\"displayName\":\"Administrator\"}"}]})");
    EXPECT_EQ(doc.at("roles"),
              json::parse(R"([{"primary": false, "type": "WindowsAzureActiveDirectoryRole",
                                                "value": "Admin", "display": "Administrator"}])"));
}

TEST_F(ResourceTest, BodyMustBeAnObject) {
    const Error e = error_of([&] { normalize(R"(["userName"])"); });
    EXPECT_EQ(e.scim_type(), ScimType::kInvalidSyntax);
}

TEST_F(ResourceTest, NormalizeValueForPatch) {
    const AttributeDef& emails = *reg_.schema(kCore)->attribute("emails");
    EXPECT_EQ(
        normalize_value(json::parse(R"({"value": "a@b.c", "primary": "true"})"), emails, "emails"),
        json::parse(R"([{"value": "a@b.c", "primary": true}])"));
    EXPECT_TRUE(normalize_value(json::parse("[]"), emails, "emails").is_null());
    const AttributeDef& active = *reg_.schema(kCore)->attribute("active");
    EXPECT_EQ(normalize_value(json::value("False"), active, "active"), json::value(false));
}

TEST(CoerceBool, AcceptsBooleansAndTheirStrings_R41) {
    EXPECT_EQ(coerce_bool(json::value(true)), true);
    EXPECT_EQ(coerce_bool(json::value("False")), false);
    EXPECT_EQ(coerce_bool(json::value("TRUE")), true);
    EXPECT_EQ(coerce_bool(json::value("false")), false);
    EXPECT_EQ(coerce_bool(json::value("yes")), std::nullopt);
    EXPECT_EQ(coerce_bool(json::value(1)), std::nullopt);
    EXPECT_EQ(coerce_bool(json::value(nullptr)), std::nullopt);
}

// ---------------------------------------------------------------------------------------------
// check_replacement

TEST_F(ResourceTest, ReplacementMayNotChangeImmutable) {
    const json::object old_doc =
        normalize_widget(R"({"label": "w", "serial": "SN-1", "code": "abc"})");
    // Unchanged (and case-insensitively equal for a caseExact=false attribute): fine.
    EXPECT_NO_THROW(check_replacement(
        old_doc, normalize_widget(R"({"label": "x", "serial": "SN-1", "code": "ABC"})"), widgets_,
        widget_));

    const Error changed = error_of([&] {
        check_replacement(old_doc,
                          normalize_widget(R"({"label": "w", "serial": "sn-1", "code": "abc"})"),
                          widgets_, widget_);
    });
    EXPECT_EQ(changed.scim_type(), ScimType::kMutability);
    EXPECT_NE(changed.detail().find("\"serial\""), std::string::npos) << changed.detail();

    const Error dropped = error_of([&] {
        check_replacement(old_doc, normalize_widget(R"({"label": "w", "serial": "SN-1"})"),
                          widgets_, widget_);
    });
    EXPECT_EQ(dropped.scim_type(), ScimType::kMutability);
    EXPECT_NE(dropped.detail().find("\"code\""), std::string::npos) << dropped.detail();

    // Not set before: may be set now.
    EXPECT_NO_THROW(
        check_replacement(normalize_widget(R"({"label": "w"})"), old_doc, widgets_, widget_));
}

TEST_F(ResourceTest, ReplacementMustKeepRequired) {
    const Error e = error_of([&] {
        check_replacement(normalize(R"({"userName": "b"})"), obj(R"({"displayName": "B"})"), reg_,
                          user_);
    });
    EXPECT_EQ(e.scim_type(), ScimType::kInvalidValue);
    EXPECT_EQ(e.detail(), "userName is required");
}

// ---------------------------------------------------------------------------------------------
// parse_projection / render_resource

class RenderTest : public ResourceTest {
protected:
    const json::object doc_ = normalize(R"({
        "userName": "bjensen", "password": "ignored",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                   {"value": "babs@jensen.org", "type": "home"}],
        "active": true,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
            {"employeeNumber": "701984", "manager": {"value": "m1"}}})");
};

TEST_F(RenderTest, DefaultSetHasIdSchemasAndMeta_R25) {
    const json::object out = render(doc_, "", "");
    json::object expected = doc_;
    expected.emplace("id", "42");
    expected["meta"] = obj(R"({"resourceType": "User", "location": "/Users/42"})");
    EXPECT_EQ(out, expected);
    EXPECT_EQ(out.begin()->key(), "schemas");
    EXPECT_EQ((out.begin() + 1)->key(), "id");
}

TEST_F(RenderTest, ReturnedNeverIsNeverReturned) {
    // Even if a password made it into a document, it never leaves.
    json::object doc = doc_;
    doc["password"] = "secret";
    EXPECT_FALSE(render(doc, "", "").contains("password"));
    EXPECT_FALSE(render(doc, "password", "").contains("password"));
}

TEST_F(RenderTest, AttributesSelectsOnlyThoseAndAlwaysOnes) {
    EXPECT_EQ(render(doc_, "name.givenName", ""), obj(R"({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "id": "42", "name": {"givenName": "Barbara"}})"));
    EXPECT_EQ(render(doc_, " userName , emails.value", ""), obj(R"({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "id": "42", "userName": "bjensen",
        "emails": [{"value": "bjensen@example.com"}, {"value": "babs@jensen.org"}]})"));
    // URN forms, case-insensitively; unknown names are ignored.
    const json::object ext = render(
        doc_,
        "URN:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber,nosuch,meta",
        "");
    EXPECT_EQ(ext.at(kEnterprise), obj(R"({"employeeNumber": "701984"})"));
    EXPECT_TRUE(ext.contains("meta"));
    EXPECT_FALSE(ext.contains("userName"));
    EXPECT_EQ(
        render(doc_, "urn:ietf:params:scim:schemas:core:2.0:User:userName", "").at("userName"),
        json::value("bjensen"));
    // The whole extension by its URN.
    EXPECT_EQ(render(doc_, std::string(kEnterprise), "").at(kEnterprise),
              obj(R"({"employeeNumber": "701984", "manager": {"value": "m1"}})"));
}

TEST_F(RenderTest, ExcludedAttributesRemoved_R19) {
    const json::object out = render(doc_, "", "emails,meta,name.familyName,id");
    EXPECT_FALSE(out.contains("emails"));
    EXPECT_FALSE(out.contains("meta"));
    EXPECT_EQ(out.at("name"), obj(R"({"givenName": "Barbara"})"));
    EXPECT_EQ(out.at("id"), json::value("42"));  // returned "always"
    EXPECT_EQ(out.at("userName"), json::value("bjensen"));
    const json::object no_ext =
        render(doc_, "", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager");
    EXPECT_EQ(no_ext.at(kEnterprise), obj(R"({"employeeNumber": "701984"})"));
}

// The default representation as text: the stored shape (schemas first) is spliced, any other
// shape (PostgreSQL's jsonb key order) or an `adjust` goes through a parse. All three equal
// render_resource with no projection, and the splice equals the parse byte for byte.
TEST_F(RenderTest, DefaultTextSplicedOrParsedEqualsRenderResource) {
    const json::object meta{{"resourceType", "User"}, {"location", "/Users/42"}};
    const std::string stored = json::serialize(doc_);
    ASSERT_EQ(stored.rfind(R"({"schemas":[)", 0), 0u);
    const auto spliced = render_default_text(stored, "42", meta, reg_, user_, nullptr);
    ASSERT_TRUE(spliced.has_value());
    EXPECT_EQ(json::parse(*spliced), json::value(render(doc_, "", "")));

    // The same document with an identity adjust is parsed: the text is the same.
    const auto parsed = render_default_text(stored, "42", meta, reg_, user_, [](json::object&) {});
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*spliced, *parsed);

    // Keys in another order (jsonb) and a schemas list that is not plain URNs: parsed.
    json::object reordered;
    reordered["userName"] = doc_.at("userName");
    reordered["schemas"] = doc_.at("schemas");
    const auto other =
        render_default_text(json::serialize(reordered), "42", meta, reg_, user_, nullptr);
    ASSERT_TRUE(other.has_value());
    EXPECT_EQ(json::parse(*other).at("userName"), json::value("bjensen"));
    EXPECT_EQ(json::parse(*other).as_object().begin()->key(), "schemas");
    const std::string odd = R"({"schemas":["urn:x]y"],"userName":"a"})";
    const auto odd_out = render_default_text(odd, "42", meta, reg_, user_, nullptr);
    ASSERT_TRUE(odd_out.has_value());
    EXPECT_EQ(json::parse(*odd_out).at("schemas"), json::parse(R"(["urn:x]y"])"));

    // A document with nothing but schemas.
    const auto bare =
        render_default_text(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]})", "42",
                            meta, reg_, user_, nullptr);
    ASSERT_TRUE(bare.has_value());
    EXPECT_EQ(json::parse(*bare), obj(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id":"42","meta":{"resourceType":"User","location":"/Users/42"}})"));
}

TEST_F(RenderTest, BothListsRejected) {
    const Error e = error_of([&] { parse_projection("userName", "emails", reg_, user_); });
    EXPECT_EQ(e.scim_type(), ScimType::kInvalidValue);
}

TEST_F(ResourceTest, RenderHonoursReturnedOfEveryKind) {
    const json::object doc =
        normalize_widget(R"({"label": "w", "secret": "s", "note": "n", "kind": "k",
        "parts": [{"value": "p1", "hidden": "h"}]})");
    EXPECT_EQ(doc.at("secret"), json::value("s"));  // stored (readWrite), never returned
    const json::object meta;
    auto out = [&](std::string_view attributes, std::string_view excluded) {
        return render_resource(doc, "7", meta, widgets_, widget_,
                               parse_projection(attributes, excluded, widgets_, widget_));
    };
    EXPECT_EQ(out("", ""), obj(R"({"schemas": ["urn:example:params:scim:schemas:core:2.0:Widget"],
        "id": "7", "label": "w", "kind": "k", "parts": [{"value": "p1"}]})"));
    EXPECT_EQ(out("note", ""),
              obj(R"({"schemas": ["urn:example:params:scim:schemas:core:2.0:Widget"],
        "id": "7", "note": "n", "kind": "k"})"));
    EXPECT_EQ(out("", "kind,label").at("kind"), json::value("k"));  // always beats excluded
    EXPECT_FALSE(out("", "kind,label").contains("label"));
    EXPECT_FALSE(out("secret,parts.hidden", "").contains("secret"));
    EXPECT_FALSE(out("secret,parts.hidden", "").contains("parts"));
}

}  // namespace
}  // namespace scimd::protocol
