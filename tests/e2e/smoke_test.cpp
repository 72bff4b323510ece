#include "e2e/fixture.hpp"

namespace scimd::test {
namespace {

class Smoke : public ServerFixture {};

TEST_P(Smoke, CreateGetDeleteUser) {
    auto created = client().post(
        "/scim/v2/Users",
        R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bjensen@example.com","name":{"givenName":"Barbara"}})");
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string id(created.json().at("id").as_string());
    EXPECT_EQ(created.header("location"), "https://localhost:0/scim/v2/Users/" + id);
    auto got = client().get("/scim/v2/Users/" + id);
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(got.json().at("userName"), "bjensen@example.com");
    EXPECT_EQ(client().del("/scim/v2/Users/" + id).status, 204);
    EXPECT_EQ(client().get("/scim/v2/Users/" + id).status, 404);
}

INSTANTIATE_TEST_SUITE_P(Backends, Smoke, ::testing::Values(Db::kSqlite, Db::kPostgres), db_name);

}  // namespace
}  // namespace scimd::test
