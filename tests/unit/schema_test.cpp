#include "scimd/protocol/schema.hpp"

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace scimd::protocol {
namespace {

namespace json = boost::json;
using core::AttrType;

constexpr std::string_view kCore = "urn:ietf:params:scim:schemas:core:2.0:User";
constexpr std::string_view kEnterprise =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

class SchemaTest : public ::testing::Test {
protected:
    const SchemaRegistry& reg_ = SchemaRegistry::builtin();
    const ResourceTypeDef& user_ = *reg_.resource_type("User");

    std::optional<ResolvedAttr> resolve(std::string_view path) const {
        return reg_.resolve(user_, path);
    }
};

TEST_F(SchemaTest, BuiltinHasUserSchemasAndResourceType) {
    ASSERT_NE(reg_.schema(kCore), nullptr);
    ASSERT_NE(reg_.schema(kEnterprise), nullptr);
    EXPECT_EQ(reg_.schema(kCore)->name, "User");
    EXPECT_EQ(reg_.schema(kEnterprise)->name, "EnterpriseUser");
    // Lookups are case-insensitive.
    EXPECT_EQ(reg_.schema("URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER"), reg_.schema(kCore));
    EXPECT_EQ(reg_.resource_type("user"), &user_);
    EXPECT_EQ(reg_.schema("urn:ietf:params:scim:schemas:core:2.0:Nope"), nullptr);
    EXPECT_EQ(reg_.resource_type("Nope"), nullptr);

    EXPECT_EQ(user_.id, "User");
    EXPECT_EQ(user_.name, "User");
    EXPECT_EQ(user_.endpoint, "/Users");
    EXPECT_EQ(user_.schema, kCore);
    ASSERT_EQ(user_.extensions.size(), 2u);
    EXPECT_EQ(user_.extensions[0].schema, kEnterprise);
    EXPECT_FALSE(user_.extensions[0].required);
    // scimd's access extension: the roles an IdP assigns directly.
    EXPECT_EQ(user_.extensions[1].schema,
              "urn:scimd:params:scim:schemas:extension:access:2.0:User");
    EXPECT_FALSE(user_.extensions[1].required);
    const SchemaDef* access = reg_.schema(user_.extensions[1].schema);
    ASSERT_NE(access, nullptr);
    ASSERT_NE(access->attribute("roles"), nullptr);
    EXPECT_TRUE(access->attribute("roles")->multi_valued);
}

TEST_F(SchemaTest, UserNameCharacteristics) {
    const AttributeDef* a = reg_.schema(kCore)->attribute("USERNAME");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->name, "userName");
    EXPECT_EQ(a->type, AttrType::kString);
    EXPECT_FALSE(a->multi_valued);
    EXPECT_TRUE(a->required);
    EXPECT_FALSE(a->case_exact);
    EXPECT_EQ(a->mutability, Mutability::kReadWrite);
    EXPECT_EQ(a->returned, Returned::kDefault);
    EXPECT_EQ(a->uniqueness, Uniqueness::kServer);
}

TEST_F(SchemaTest, UserSchemaHasEveryRfc7643Attribute) {
    const SchemaDef& s = *reg_.schema(kCore);
    for (const char* name : {"userName",        "name",         "displayName",  "nickName",
                             "profileUrl",      "title",        "userType",     "preferredLanguage",
                             "locale",          "timezone",     "active",       "password",
                             "emails",          "phoneNumbers", "ims",          "photos",
                             "addresses",       "groups",       "entitlements", "roles",
                             "x509Certificates"}) {
        EXPECT_NE(s.attribute(name), nullptr) << name;
    }
    // The common attributes belong to no schema (RFC 7643 §3.1).
    EXPECT_EQ(s.attribute("id"), nullptr);
    EXPECT_EQ(s.attribute("meta"), nullptr);

    const AttributeDef& name = *s.attribute("name");
    EXPECT_EQ(name.type, AttrType::kComplex);
    for (const char* sub : {"formatted", "familyName", "givenName", "middleName", "honorificPrefix",
                            "honorificSuffix"}) {
        EXPECT_NE(name.sub(sub), nullptr) << sub;
    }
    const AttributeDef& addresses = *s.attribute("addresses");
    for (const char* sub : {"formatted", "streetAddress", "locality", "region", "postalCode",
                            "country", "type", "primary"}) {
        EXPECT_NE(addresses.sub(sub), nullptr) << sub;
    }
}

TEST_F(SchemaTest, OtherCharacteristics) {
    const SchemaDef& s = *reg_.schema(kCore);

    const AttributeDef& password = *s.attribute("password");
    EXPECT_EQ(password.mutability, Mutability::kWriteOnly);
    EXPECT_EQ(password.returned, Returned::kNever);

    const AttributeDef& groups = *s.attribute("groups");
    EXPECT_TRUE(groups.multi_valued);
    EXPECT_EQ(groups.mutability, Mutability::kReadOnly);
    ASSERT_NE(groups.sub("$ref"), nullptr);
    EXPECT_EQ(groups.sub("$ref")->type, AttrType::kReference);

    const AttributeDef& emails = *s.attribute("emails");
    EXPECT_TRUE(emails.multi_valued);
    EXPECT_EQ(emails.type, AttrType::kComplex);
    EXPECT_EQ(emails.sub("type")->canonical_values,
              (std::vector<std::string>{"work", "home", "other"}));
    EXPECT_EQ(emails.sub("primary")->type, AttrType::kBoolean);

    EXPECT_EQ(s.attribute("active")->type, AttrType::kBoolean);
    EXPECT_EQ(s.attribute("profileUrl")->reference_types, (std::vector<std::string>{"external"}));
    EXPECT_EQ(s.attribute("x509Certificates")->sub("value")->type, AttrType::kBinary);
    EXPECT_TRUE(s.attribute("x509Certificates")->sub("value")->case_exact);

    const AttributeDef& manager = *reg_.schema(kEnterprise)->attribute("manager");
    EXPECT_EQ(manager.type, AttrType::kComplex);
    EXPECT_EQ(manager.sub("displayName")->mutability, Mutability::kReadOnly);
    EXPECT_EQ(manager.sub("$ref")->reference_types, (std::vector<std::string>{"User"}));
    EXPECT_EQ(manager.sub("value")->mutability, Mutability::kReadWrite);
}

TEST_F(SchemaTest, ResolvesPlainAttribute) {
    auto r = resolve("userName");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->schema, reg_.schema(kCore));
    EXPECT_FALSE(r->extension);
    EXPECT_EQ(r->attr->name, "userName");
    EXPECT_EQ(r->sub, nullptr);

    core::AttrRef ref = r->ref();
    EXPECT_EQ(ref.schema, kCore);
    EXPECT_FALSE(ref.extension);
    EXPECT_EQ(ref.name, "userName");
    EXPECT_EQ(ref.sub, "");
    EXPECT_EQ(ref.type, AttrType::kString);
    EXPECT_FALSE(ref.multi_valued);
    EXPECT_FALSE(ref.case_exact);
}

TEST_F(SchemaTest, ResolvesCaseInsensitivelyToCanonicalNames) {
    auto r = resolve("USERNAME");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->ref().name, "userName");

    auto e = resolve("Emails.Value");
    ASSERT_TRUE(e);
    core::AttrRef ref = e->ref();
    EXPECT_EQ(ref.name, "emails");
    EXPECT_EQ(ref.sub, "value");
    EXPECT_EQ(ref.type, AttrType::kString);
    EXPECT_TRUE(ref.multi_valued);
    EXPECT_FALSE(ref.extension);

    auto a = resolve("ACTIVE");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->ref().type, AttrType::kBoolean);
}

TEST_F(SchemaTest, ResolvesComplexAttributeWithoutSub) {
    auto r = resolve("emails");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->attr->name, "emails");
    EXPECT_EQ(r->sub, nullptr);
    EXPECT_EQ(r->ref().type, AttrType::kComplex);
    EXPECT_TRUE(r->ref().multi_valued);
}

TEST_F(SchemaTest, ResolvesCoreUrnQualifiedPath) {
    auto r = resolve("urn:ietf:params:scim:schemas:core:2.0:user:name.familyname");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->schema, reg_.schema(kCore));
    EXPECT_FALSE(r->extension);
    core::AttrRef ref = r->ref();
    EXPECT_EQ(ref.schema, kCore);
    EXPECT_EQ(ref.name, "name");
    EXPECT_EQ(ref.sub, "familyName");
    EXPECT_FALSE(ref.multi_valued);

    auto u = resolve("urn:ietf:params:scim:schemas:core:2.0:User:userName");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->ref().name, "userName");
}

TEST_F(SchemaTest, EnterpriseAttributesResolveOnlyWithTheirUrn) {
    EXPECT_FALSE(resolve("employeeNumber"));
    EXPECT_FALSE(resolve("manager.value"));
    EXPECT_FALSE(resolve("manager"));

    auto r = resolve("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->schema, reg_.schema(kEnterprise));
    EXPECT_TRUE(r->extension);
    core::AttrRef ref = r->ref();
    EXPECT_EQ(ref.schema, kEnterprise);
    EXPECT_TRUE(ref.extension);
    EXPECT_EQ(ref.name, "employeeNumber");
    EXPECT_EQ(ref.sub, "");
    EXPECT_EQ(ref.display(), std::string(kEnterprise) + ":employeeNumber");

    auto upper =
        resolve("URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:EMPLOYEENUMBER");
    ASSERT_TRUE(upper);
    EXPECT_EQ(upper->ref().name, "employeeNumber");
    EXPECT_TRUE(upper->extension);

    auto m = resolve("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value");
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->extension);
    EXPECT_EQ(m->ref().name, "manager");
    EXPECT_EQ(m->ref().sub, "value");
    EXPECT_EQ(m->ref().type, AttrType::kString);
}

TEST_F(SchemaTest, ResolvesCommonAttributes) {
    auto id = resolve("id");
    ASSERT_TRUE(id);
    EXPECT_EQ(id->schema, reg_.schema(kCore));
    EXPECT_FALSE(id->extension);
    EXPECT_EQ(id->attr, reg_.common().attribute("id"));
    core::AttrRef ref = id->ref();
    EXPECT_EQ(ref.schema, kCore);
    EXPECT_EQ(ref.name, "id");
    EXPECT_TRUE(ref.case_exact);
    EXPECT_EQ(id->attr->mutability, Mutability::kReadOnly);
    EXPECT_EQ(id->attr->returned, Returned::kAlways);
    EXPECT_EQ(id->attr->uniqueness, Uniqueness::kServer);

    auto ext = resolve("EXTERNALID");
    ASSERT_TRUE(ext);
    EXPECT_EQ(ext->ref().name, "externalId");
    EXPECT_TRUE(ext->ref().case_exact);
    EXPECT_EQ(ext->attr->mutability, Mutability::kReadWrite);

    auto modified = resolve("meta.lastModified");
    ASSERT_TRUE(modified);
    EXPECT_EQ(modified->ref().name, "meta");
    EXPECT_EQ(modified->ref().sub, "lastModified");
    EXPECT_EQ(modified->ref().type, AttrType::kDateTime);
    EXPECT_EQ(modified->attr->mutability, Mutability::kReadOnly);

    auto created = resolve("META.CREATED");
    ASSERT_TRUE(created);
    EXPECT_EQ(created->ref().sub, "created");

    auto location = resolve("meta.location");
    ASSERT_TRUE(location);
    EXPECT_EQ(location->ref().type, AttrType::kReference);
}

TEST_F(SchemaTest, UnknownPathsDoNotResolve) {
    for (const char* path : {
             "",
             "nope",
             "name.givenName.x",
             "name.nope",
             "userName.x",
             "emails.",
             ".value",
             "meta.nope",
             "urn:ietf:params:scim:schemas:core:2.0:Group:displayName",
             "urn:ietf:params:scim:schemas:core:2.0:User",
             "urn:ietf:params:scim:schemas:core:2.0:User:",
             "urn:ietf:params:scim:schemas:core:2.0:User:nope",
             "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
             "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName",
             "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.nope",
             "urn:ietf:params:scim:schemas:extension:other:2.0:User:department",
             "foo:bar",
         }) {
        EXPECT_FALSE(resolve(path)) << '"' << path << '"';
    }
}

TEST_F(SchemaTest, ResolveSub) {
    auto emails = resolve("emails");
    ASSERT_TRUE(emails);
    auto type = reg_.resolve_sub(*emails, "TYPE");
    ASSERT_TRUE(type);
    EXPECT_EQ(type->attr, emails->attr);
    EXPECT_EQ(type->ref().name, "emails");
    EXPECT_EQ(type->ref().sub, "type");
    EXPECT_FALSE(reg_.resolve_sub(*emails, "nope"));
    EXPECT_FALSE(reg_.resolve_sub(*type, "value"));  // already has a sub-attribute
    EXPECT_FALSE(reg_.resolve_sub(*resolve("userName"), "value"));

    auto manager = resolve("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager");
    ASSERT_TRUE(manager);
    auto value = reg_.resolve_sub(*manager, "value");
    ASSERT_TRUE(value);
    EXPECT_TRUE(value->extension);
    EXPECT_EQ(value->ref().schema, kEnterprise);
    EXPECT_EQ(value->ref().sub, "value");
}

TEST_F(SchemaTest, ServiceProviderConfig) {
    EXPECT_EQ(reg_.max_results(), 200);
    const json::object& spc = reg_.service_provider_config();
    EXPECT_EQ(spc.at("patch").at("supported"), true);
    EXPECT_EQ(spc.at("bulk").at("supported"), false);
    EXPECT_EQ(spc.at("filter").at("supported"), true);
    EXPECT_EQ(spc.at("filter").at("maxResults"), 200);
    EXPECT_EQ(spc.at("changePassword").at("supported"), false);
    EXPECT_EQ(spc.at("sort").at("supported"), true);
    EXPECT_EQ(spc.at("etag").at("supported"), true);
    const json::array& schemes = spc.at("authenticationSchemes").as_array();
    ASSERT_EQ(schemes.size(), 1u);
    EXPECT_EQ(schemes[0].at("type"), "oauthbearertoken");
    EXPECT_EQ(schemes[0].at("primary"), true);
    EXPECT_FALSE(spc.contains("meta"));
}

TEST_F(SchemaTest, ServedJsonCarriesSchemasAndMeta) {
    const json::object& user = reg_.schema(kCore)->json;
    EXPECT_EQ(user.at("meta"), (json::object{{"resourceType", "Schema"},
                                             {"location", "/Schemas/" + std::string(kCore)}}));
    EXPECT_EQ(user.at("schemas"), (json::array{"urn:ietf:params:scim:schemas:core:2.0:Schema"}));
    EXPECT_EQ(user.at("id").as_string(), kCore);
    EXPECT_TRUE(user.at("attributes").is_array());

    const json::object& rt = user_.json;
    EXPECT_EQ(rt.at("meta"), (json::object{{"resourceType", "ResourceType"},
                                           {"location", "/ResourceTypes/User"}}));
    EXPECT_EQ(rt.at("schemas"),
              (json::array{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"}));
    EXPECT_EQ(rt.at("endpoint"), "/Users");
}

// A registry of hand-written documents, for what the built-in files cannot show.
constexpr std::string_view kMiniSchema = R"({"id": "urn:x:Thing", "name": "Thing", "attributes": [
    {"name": "label", "type": "string", "caseExact": true},
    {"name": "extra", "type": "integer"}]})";
constexpr std::string_view kMiniExtension = R"({"id": "urn:x:Thing:ext", "attributes": [
    {"name": "extra", "type": "boolean"}]})";
constexpr std::string_view kMiniType = R"({"id": "Thing", "name": "Thing", "endpoint": "/Things",
    "schema": "urn:x:Thing", "schemaExtensions": [{"schema": "urn:x:Thing:ext", "required": true}]})";
constexpr std::string_view kMiniSpc = R"({"schemas":
    ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"], "filter": {"maxResults": 50}})";

TEST(SchemaRegistryTest, AddsSchemasWhenMissing) {
    SchemaRegistry reg({kMiniSchema, kMiniExtension, kMiniType, kMiniSpc});
    EXPECT_EQ(reg.schema("urn:x:thing")->json.at("schemas"),
              (json::array{"urn:ietf:params:scim:schemas:core:2.0:Schema"}));
    EXPECT_EQ(reg.schema("urn:x:thing")->json.at("meta").at("location"), "/Schemas/urn:x:Thing");
    EXPECT_EQ(reg.resource_type("thing")->json.at("schemas"),
              (json::array{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"}));
    EXPECT_TRUE(reg.resource_type("thing")->extensions.at(0).required);
    EXPECT_EQ(reg.max_results(), 50);
}

TEST(SchemaRegistryTest, LongestUrnPrefixWins) {
    SchemaRegistry reg({kMiniSchema, kMiniExtension, kMiniType});
    const ResourceTypeDef& thing = *reg.resource_type("Thing");

    auto ext = reg.resolve(thing, "urn:x:Thing:ext:extra");
    ASSERT_TRUE(ext);
    EXPECT_TRUE(ext->extension);
    EXPECT_EQ(ext->ref().schema, "urn:x:Thing:ext");
    EXPECT_EQ(ext->ref().type, AttrType::kBoolean);

    auto core_extra = reg.resolve(thing, "urn:x:thing:EXTRA");
    ASSERT_TRUE(core_extra);
    EXPECT_FALSE(core_extra->extension);
    EXPECT_EQ(core_extra->ref().type, AttrType::kInteger);

    auto plain = reg.resolve(thing, "extra");
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->ref().type, AttrType::kInteger);
    EXPECT_TRUE(reg.resolve(thing, "label")->ref().case_exact);
}

TEST(SchemaRegistryTest, RejectsMalformedDocuments) {
    EXPECT_THROW(SchemaRegistry({"{not json"}), std::runtime_error);
    EXPECT_THROW(SchemaRegistry({"[1, 2]"}), std::runtime_error);
    EXPECT_THROW(SchemaRegistry({R"({"id": "x"})"}), std::runtime_error);
    EXPECT_THROW(
        SchemaRegistry({R"({"id": "urn:x", "attributes": [{"name": "a", "type": "text"}]})"}),
        std::runtime_error);
    EXPECT_THROW(SchemaRegistry({R"({"id": "urn:x", "attributes": [{"name": "a", "type": "string",
                                     "mutability": "readwrite"}]})"}),
                 std::runtime_error);
    EXPECT_THROW(SchemaRegistry({R"({"id": "urn:x", "attributes": [{"name": "a", "type": "complex",
                                     "subAttributes": [{"name": "b", "type": "complex",
                                     "subAttributes": []}]}]})"}),
                 std::runtime_error);
    EXPECT_THROW(SchemaRegistry({kMiniSchema, kMiniSchema}), std::runtime_error);
    // A resource type naming a schema the registry lacks.
    EXPECT_THROW(SchemaRegistry({kMiniSchema, kMiniType}), std::runtime_error);
}

TEST(SchemaHelpersTest, IequalsAndToLower) {
    EXPECT_TRUE(iequals("userName", "USERNAME"));
    EXPECT_TRUE(iequals("", ""));
    EXPECT_FALSE(iequals("userName", "userNam"));
    EXPECT_FALSE(iequals("a", "b"));
    EXPECT_FALSE(iequals("[", "{"));  // 0x5B and 0x7B differ by 0x20 but are not letters
    EXPECT_EQ(to_lower("urn:IETF:2.0:User"), "urn:ietf:2.0:user");
    EXPECT_EQ(to_lower("[@]"), "[@]");
}

}  // namespace
}  // namespace scimd::protocol
