// Bearer-token authentication and tenant isolation over HTTPS (R-02, R-57, R-60, R-72).
#include <chrono>
#include <thread>

#include "e2e/fixture.hpp"

#include "scimd/store/repositories.hpp"

namespace scimd::test {
namespace {

namespace json = boost::json;

class Auth : public ServerFixture {
protected:
    // A 401 must carry WWW-Authenticate: Bearer (RFC 6750 §3) and a SCIM error body (R-57).
    static void expect_unauthorized(const HttpResponse& res) {
        expect_scim_error(res, 401);
        const std::string challenge = res.header("www-authenticate");
        EXPECT_EQ(challenge.rfind("Bearer", 0), 0U) << "WWW-Authenticate: " << challenge;
    }
};

TEST_P(Auth, MissingTokenAnswers401WithBearerChallenge) {
    auto anonymous = make_client("");
    expect_unauthorized(anonymous->get("/scim/v2/Users"));
    expect_unauthorized(anonymous->post("/scim/v2/Users", R"({"userName":"x@example.com"})"));
    expect_unauthorized(anonymous->get("/scim/v2/ServiceProviderConfig"));
}

TEST_P(Auth, UnknownTokenAnswers401) {
    auto stranger = make_client("scimd_this-token-was-never-issued");
    expect_unauthorized(stranger->get("/scim/v2/Users"));
}

TEST_P(Auth, NonBearerSchemeAnswers401) {
    expect_unauthorized(
        client().request("GET", "/scim/v2/Users", "", {{"Authorization", "Basic dXNlcjpwYXNz"}}));
    expect_unauthorized(client().request("GET", "/scim/v2/Users", "", {{"Authorization", token_}}));
}

TEST_P(Auth, BearerSchemeIsCaseInsensitive_R02) {
    auto res =
        client().request("GET", "/scim/v2/Users", "", {{"Authorization", "bearer " + token_}});
    EXPECT_EQ(res.status, 200) << res.body;
}

TEST_P(Auth, RevokedTokenAnswers401) {
    auto user_id = create_user("before.revoke@example.com");
    ASSERT_EQ(client().get("/scim/v2/Users/" + user_id).status, 200);
    ASSERT_TRUE(store::SqlTokenRepository(app_->database())
                    .revoke(org_id_, last_token_id_, "2026-01-02T00:00:00.000Z"));
    expect_unauthorized(client().get("/scim/v2/Users/" + user_id));
    expect_unauthorized(client().get("/scim/v2/Users"));
}

TEST_P(Auth, ExpiredTokenAnswers401) {
    auto expired = make_client(make_token(org_id_, "2020-01-01T00:00:00.000Z"));
    expect_unauthorized(expired->get("/scim/v2/Users"));
    // The same organization with a token that expires later is let in.
    auto valid = make_client(make_token(org_id_, "2099-01-01T00:00:00.000Z"));
    EXPECT_EQ(valid->get("/scim/v2/Users").status, 200);
}

// An expiry far in the future is a valid token, not an expired one.
TEST_P(Auth, TokenExpiringFarInTheFutureIsAccepted) {
    auto valid = make_client(make_token(org_id_, "2999-01-01T00:00:00.000Z"));
    EXPECT_EQ(valid->get("/scim/v2/Users").status, 200);
}

TEST_P(Auth, HealthEndpointsNeedNoToken) {
    auto anonymous = make_client("");
    auto health = anonymous->get("/healthz");
    EXPECT_EQ(health.status, 200) << health.body;
    auto ready = anonymous->get("/readyz");
    EXPECT_EQ(ready.status, 200) << ready.body;
}

// R-72: a token sees only its own organization. Another organization's user ids answer
// exactly like ids that never existed, for every method.
TEST_P(Auth, OtherOrganizationsUsersAnswer404LikeUnknownIds_R72) {
    const std::string theirs = create_user(json::object{{"schemas", json::array{kUserSchema}},
                                                        {"userName", "shared.name@example.com"},
                                                        {"externalId", "ext-1"},
                                                        {"active", true}});
    ASSERT_FALSE(theirs.empty());
    auto other = make_client(make_token(make_org("globex")));
    const std::string unknown = "00000000-0000-4000-8000-000000000000";

    // The 404 for a foreign id and for an unknown id differ only in the id they name.
    const auto same_shape = [&](HttpResponse foreign, HttpResponse missing) {
        expect_scim_error(foreign, 404);
        expect_scim_error(missing, 404);
        std::string a = foreign.body;
        const auto pos = a.find(theirs);
        if (pos != std::string::npos) {
            a.replace(pos, theirs.size(), unknown);
        }
        EXPECT_EQ(a, missing.body);
        EXPECT_EQ(foreign.header("content-type"), missing.header("content-type"));
    };
    same_shape(other->get("/scim/v2/Users/" + theirs), other->get("/scim/v2/Users/" + unknown));
    const std::string put =
        R"({"schemas":[")" + std::string(kUserSchema) + R"("],"userName":"hijack@example.com"})";
    same_shape(other->put("/scim/v2/Users/" + theirs, put),
               other->put("/scim/v2/Users/" + unknown, put));
    const std::string patch = patch_body(
        json::array{json::object{{"op", "replace"}, {"path", "active"}, {"value", false}}});
    same_shape(other->patch("/scim/v2/Users/" + theirs, patch),
               other->patch("/scim/v2/Users/" + unknown, patch));
    same_shape(other->del("/scim/v2/Users/" + theirs), other->del("/scim/v2/Users/" + unknown));

    // Lists and filters of the other organization do not show the user…
    auto listed = other->get(users_filter(R"(externalId eq "ext-1")"));
    ASSERT_EQ(listed.status, 200) << listed.body;
    EXPECT_EQ(listed.json().at("totalResults"), 0);
    auto all = other->get("/scim/v2/Users");
    ASSERT_EQ(all.status, 200) << all.body;
    EXPECT_EQ(all.json().at("totalResults"), 0);
    // …userName uniqueness is per organization…
    auto same_name = other->post("/scim/v2/Users", R"({"userName":"shared.name@example.com"})");
    EXPECT_EQ(same_name.status, 201) << same_name.body;
    // …and nothing the other organization tried changed the user.
    auto mine = client().get("/scim/v2/Users/" + theirs);
    ASSERT_EQ(mine.status, 200) << mine.body;
    EXPECT_EQ(mine.json().at("userName"), "shared.name@example.com");
    EXPECT_EQ(mine.json().at("active"), true);
}

INSTANTIATE_TEST_SUITE_P(Backends, Auth, ::testing::Values(Db::kSqlite, Db::kPostgres), db_name);

// With the token cache on (as `scimd serve` runs, 5 s by default), a verified token is not
// read again for the cache's lifetime: a revocation takes effect within that time, not later.
class CachedAuth : public Auth {
protected:
    std::chrono::milliseconds token_cache_ttl() const override {
        return std::chrono::milliseconds(600);
    }
};

TEST_P(CachedAuth, RevocationTakesEffectWithinTheCacheLifetime) {
    ASSERT_EQ(client().get("/scim/v2/Users").status, 200);
    ASSERT_TRUE(store::SqlTokenRepository(app_->database())
                    .revoke(org_id_, last_token_id_, "2026-01-02T00:00:00.000Z"));
    // Still trusted from the cache…
    EXPECT_EQ(client().get("/scim/v2/Users").status, 200);
    // …and refused once the cached verification is older than the lifetime.
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    expect_unauthorized(client().get("/scim/v2/Users"));
    // An unknown token is never cached as valid.
    auto stranger = make_client("scimd_not-a-token");
    expect_unauthorized(stranger->get("/scim/v2/Users"));
}

INSTANTIATE_TEST_SUITE_P(Backends,
                         CachedAuth,
                         ::testing::Values(Db::kSqlite, Db::kPostgres),
                         db_name);

}  // namespace
}  // namespace scimd::test
