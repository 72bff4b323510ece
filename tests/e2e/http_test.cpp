// HTTP-level leniency and plumbing over HTTPS: media types (R-07, R-08, R-09), odd query
// strings (R-06), request ids (R-74), health endpoints.
#include "e2e/fixture.hpp"

namespace scimd::test {
namespace {

namespace json = boost::json;

class Http : public ServerFixture {};

// R-07: no Accept header (Entra's GETs) is fine; so are */*, application/scim+json.
TEST_P(Http, NoAcceptHeaderIsServedScimJson_R07) {
    for (const std::string accept :
         {"", "*/*", "application/scim+json", "application/scim+json, application/json"}) {
        SCOPED_TRACE("Accept: " + accept);
        std::vector<std::pair<std::string, std::string>> headers;
        if (!accept.empty()) {
            headers.emplace_back("Accept", accept);
        }
        auto res = client().request("GET", "/scim/v2/Users", "", headers);
        ASSERT_EQ(res.status, 200) << res.body;
        EXPECT_EQ(res.header("content-type"), "application/scim+json; charset=utf-8");
        EXPECT_NO_THROW(res.json());
    }
}

// R-09: Accept naming only application/json gets application/json back.
TEST_P(Http, AcceptJsonIsAnsweredWithJson_R09) {
    auto list = client().request("GET", "/scim/v2/Users", "", {{"Accept", "application/json"}});
    ASSERT_EQ(list.status, 200) << list.body;
    EXPECT_EQ(list.header("content-type"), "application/json; charset=utf-8");
    auto created =
        client().request("POST", "/scim/v2/Users", R"({"userName":"oneLogin@example.com"})",
                         {{"Accept", "application/json"}, {"Content-Type", "application/json"}});
    ASSERT_EQ(created.status, 201) << created.body;
    EXPECT_EQ(created.header("content-type"), "application/json; charset=utf-8");
}

// R-08: bodies typed application/scim+json (with or without charset) or application/json.
TEST_P(Http, RequestBodyMediaTypes_R08) {
    int n = 0;
    for (const std::string ct :
         {"application/scim+json; charset=utf-8", "application/scim+json", "application/json",
          "application/json; charset=UTF-8", "Application/SCIM+JSON;charset=utf-8"}) {
        SCOPED_TRACE("Content-Type: " + ct);
        const std::string name = "ct" + std::to_string(n++) + "@example.com";
        auto res = client().request("POST", "/scim/v2/Users", R"({"userName":")" + name + R"("})",
                                    {{"Content-Type", ct}});
        ASSERT_EQ(res.status, 201) << res.body;
        EXPECT_EQ(res.json().at("userName"), json::value(name));
        const std::string id(res.json().at("id").as_string());
        auto patched = client().request(
            "PATCH", "/scim/v2/Users/" + id,
            patch_body(
                json::array{json::object{{"op", "replace"}, {"path", "nickName"}, {"value", "N"}}}),
            {{"Content-Type", ct}});
        ASSERT_EQ(patched.status, 200) << patched.body;
        EXPECT_EQ(patched.json().at("nickName"), "N");
    }
}

// R-06: unknown and empty query parameters, trailing "&" and "?" are tolerated.
TEST_P(Http, UnknownQueryParametersAndTrailingSeparators_R06) {
    const std::string id = create_user("ana.li@example.com");
    const std::string filter = url_encode(R"(userName eq "ana.li@example.com")");
    const std::vector<std::string> targets{"/scim/v2/Users?aadOptscim062020",
                                           "/scim/v2/Users?aadOptscim062020&filter=" + filter,
                                           "/scim/v2/Users?filter=" + filter + "&",
                                           "/scim/v2/Users?filter=" + filter + "&&unknown=1&empty=",
                                           "/scim/v2/Users?",
                                           "/scim/v2/Users/?filter=" + filter};
    for (const std::string& target : targets) {
        SCOPED_TRACE(target);
        auto res = client().get(target);
        ASSERT_EQ(res.status, 200) << res.body;
        EXPECT_EQ(res.json().at("totalResults"), 1);
    }
    // OneLogin's observed form: '+' for spaces.
    auto plus = client().get(R"(/scim/v2/Users?filter=userName+eq+%22ana.li%40example.com%22&)");
    ASSERT_EQ(plus.status, 200) << plus.body;
    EXPECT_EQ(plus.json().at("totalResults"), 1);

    EXPECT_EQ(client().get("/scim/v2/Users/" + id + "?").status, 200);
    EXPECT_EQ(client().get("/scim/v2/Users/" + id + "?aadOptscim062020").status, 200);
    auto put = client().put("/scim/v2/Users/" + id + "?",
                            R"({"userName":"ana.li@example.com","title":"T"})");
    ASSERT_EQ(put.status, 200) << put.body;
    EXPECT_EQ(put.json().at("title"), "T");
    auto patch = client().patch("/scim/v2/Users/" + id + "?aadOptscim062020",
                                patch_body(json::array{json::object{
                                    {"op", "replace"}, {"path", "title"}, {"value", "U"}}}));
    ASSERT_EQ(patch.status, 200) << patch.body;
    EXPECT_EQ(patch.json().at("title"), "U");
    EXPECT_EQ(client().get("/scim/v2/ServiceProviderConfig?").status, 200);
}

// R-74: X-Request-Id is echoed when sent, generated (and distinct) otherwise, also on errors.
TEST_P(Http, RequestIdIsEchoedOrGenerated_R74) {
    auto echoed = client().request("GET", "/scim/v2/Users", "", {{"X-Request-Id", "okta-req-42"}});
    EXPECT_EQ(echoed.header("x-request-id"), "okta-req-42");
    auto err = client().request("GET", "/scim/v2/Users/0", "", {{"X-Request-Id", "entra-req-7"}});
    EXPECT_EQ(err.status, 404);
    EXPECT_EQ(err.header("x-request-id"), "entra-req-7");
    auto a = client().get("/scim/v2/Users");
    auto b = client().get("/scim/v2/Users");
    EXPECT_FALSE(a.header("x-request-id").empty());
    EXPECT_FALSE(b.header("x-request-id").empty());
    EXPECT_NE(a.header("x-request-id"), b.header("x-request-id"));
    auto anonymous = make_client("");
    auto unauth = anonymous->request("GET", "/scim/v2/Users", "", {{"X-Request-Id", "no-token-1"}});
    EXPECT_EQ(unauth.status, 401);
    EXPECT_EQ(unauth.header("x-request-id"), "no-token-1");
    EXPECT_FALSE(anonymous->get("/healthz").header("x-request-id").empty());
}

TEST_P(Http, HealthAndReadiness) {
    auto health = client().get("/healthz");
    EXPECT_EQ(health.status, 200) << health.body;
    EXPECT_EQ(health.json().at("status"), "ok");
    auto ready = client().get("/readyz");
    EXPECT_EQ(ready.status, 200) << ready.body;
    EXPECT_EQ(ready.json().at("status"), "ready");
}

INSTANTIATE_TEST_SUITE_P(Backends, Http, ::testing::Values(Db::kSqlite, Db::kPostgres), db_name);

}  // namespace
}  // namespace scimd::test
