// The discovery endpoints over HTTPS: ListResponse envelopes and absolute
// meta.location values.
#include "e2e/fixture.hpp"

namespace scimd::test {
namespace {

namespace json = boost::json;

class Discovery : public ServerFixture {
protected:
    json::object get_ok(const std::string& target) {
        auto res = client().get(target);
        EXPECT_EQ(res.status, 200) << target << ": " << res.body;
        EXPECT_EQ(res.header("content-type"), "application/scim+json; charset=utf-8");
        if (res.status != 200) {
            return {};
        }
        return res.json().as_object();
    }

    // a list endpoint answers a ListResponse envelope, never a bare array.
    static void expect_list_envelope(const json::object& o, std::size_t size) {
        EXPECT_EQ(o.at("schemas"), json::value(json::array{kListResponseSchema}));
        EXPECT_EQ(o.at("totalResults"), static_cast<std::int64_t>(size));
        EXPECT_EQ(o.at("itemsPerPage"), static_cast<std::int64_t>(size));
        EXPECT_EQ(o.at("startIndex"), 1);
        EXPECT_EQ(o.at("Resources").as_array().size(), size);
    }
};

// patch and filter supported, with the real maxResults; etag and sort as implemented.
TEST_P(Discovery, ServiceProviderConfig_R11) {
    const json::object spc = get_ok("/scim/v2/ServiceProviderConfig");
    EXPECT_EQ(
        spc.at("schemas"),
        json::value(json::array{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"}));
    EXPECT_EQ(spc.at("patch").at("supported"), true);
    EXPECT_EQ(spc.at("filter").at("supported"), true);
    EXPECT_EQ(spc.at("filter").at("maxResults"), 200);
    EXPECT_EQ(spc.at("bulk").at("supported"), false);
    EXPECT_EQ(spc.at("etag").at("supported"), true);
    EXPECT_EQ(spc.at("sort").at("supported"), true);
    EXPECT_EQ(spc.at("changePassword").at("supported"), false);
    const auto& schemes = spc.at("authenticationSchemes").as_array();
    ASSERT_FALSE(schemes.empty());
    EXPECT_EQ(schemes.at(0).at("type"), "oauthbearertoken");
    EXPECT_EQ(spc.at("meta").at("resourceType"), "ServiceProviderConfig");
    EXPECT_EQ(spc.at("meta").at("location"),
              json::value(std::string(kBaseUrl) + "/ServiceProviderConfig"));
}

TEST_P(Discovery, ResourceTypesIsListResponse_R10) {
    const json::object list = get_ok("/scim/v2/ResourceTypes");
    const auto& items = list.at("Resources").as_array();
    const json::value* user = nullptr;
    for (const auto& rt : items) {
        if (rt.at("id") == "User") {
            user = &rt;
        }
    }
    expect_list_envelope(list, items.size());
    ASSERT_NE(user, nullptr) << json::serialize(list);
    EXPECT_EQ(user->at("endpoint"), "/Users");
    EXPECT_EQ(user->at("schema"), kUserSchema);
    EXPECT_EQ(user->at("schemaExtensions").at(0).at("schema"), kEnterpriseSchema);
    EXPECT_EQ(user->at("meta").at("location"),
              json::value(std::string(kBaseUrl) + "/ResourceTypes/User"));
    EXPECT_EQ(user->at("meta").at("resourceType"), "ResourceType");

    const json::object single = get_ok("/scim/v2/ResourceTypes/User");
    EXPECT_EQ(json::value(single), *user);
    expect_scim_error(client().get("/scim/v2/ResourceTypes/Printer"), 404);
}

// userName is caseExact false with uniqueness server; R-69: the enterprise extension
// is advertised.
TEST_P(Discovery, SchemasIsListResponse_R10_R12) {
    const json::object list = get_ok("/scim/v2/Schemas");
    const auto& items = list.at("Resources").as_array();
    expect_list_envelope(list, items.size());
    std::vector<std::string> ids;
    for (const auto& s : items) {
        ids.emplace_back(s.at("id").as_string());
        EXPECT_EQ(s.at("meta").at("location"),
                  json::value(std::string(kBaseUrl) + "/Schemas/" + ids.back()));
        EXPECT_EQ(s.at("meta").at("resourceType"), "Schema");
    }
    EXPECT_NE(std::find(ids.begin(), ids.end(), kUserSchema), ids.end());
    EXPECT_NE(std::find(ids.begin(), ids.end(), kEnterpriseSchema), ids.end());

    const json::object user = get_ok(std::string("/scim/v2/Schemas/") + kUserSchema);
    EXPECT_EQ(user.at("id"), kUserSchema);
    EXPECT_EQ(user.at("meta").at("location"),
              json::value(std::string(kBaseUrl) + "/Schemas/" + kUserSchema));
    const json::value* user_name = nullptr;
    for (const auto& a : user.at("attributes").as_array()) {
        if (a.at("name") == "userName") {
            user_name = &a;
        }
        // no null-valued properties.
        for (const auto& kv : a.as_object()) {
            EXPECT_FALSE(kv.value().is_null()) << a.at("name") << "." << kv.key();
        }
    }
    ASSERT_NE(user_name, nullptr);
    EXPECT_EQ(user_name->at("caseExact"), false);
    EXPECT_EQ(user_name->at("uniqueness"), "server");
    EXPECT_EQ(user_name->at("mutability"), "readWrite");
    EXPECT_EQ(user_name->at("required"), true);

    const json::object ent = get_ok(std::string("/scim/v2/Schemas/") + kEnterpriseSchema);
    bool has_manager = false;
    for (const auto& a : ent.at("attributes").as_array()) {
        has_manager = has_manager || a.at("name") == "manager";
    }
    EXPECT_TRUE(has_manager);
    expect_scim_error(client().get("/scim/v2/Schemas/urn:example:unknown"), 404);
}

INSTANTIATE_TEST_SUITE_P(Backends,
                         Discovery,
                         ::testing::Values(Db::kSqlite, Db::kPostgres),
                         db_name);

}  // namespace
}  // namespace scimd::test
