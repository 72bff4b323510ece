// Error answers over HTTPS: every one is an RFC 7644 §3.12 body (R-57) with the right
// status (R-20, R-58): 400 with scimType, 404, 405 with Allow, 413, 415.
#include <set>
#include <sstream>

#include "e2e/fixture.hpp"

namespace scimd::test {
namespace {

namespace json = boost::json;

class Errors : public ServerFixture {
protected:
    // The methods of an Allow header, e.g. "GET, POST" → {"GET", "POST"}.
    static std::set<std::string> allow_set(const std::string& allow) {
        std::set<std::string> out;
        std::stringstream ss(allow);
        std::string item;
        while (std::getline(ss, item, ',')) {
            const auto b = item.find_first_not_of(' ');
            const auto e = item.find_last_not_of(' ');
            if (b != std::string::npos) {
                out.insert(item.substr(b, e - b + 1));
            }
        }
        return out;
    }
};

// R-20: Entra's and Ping's probes with ids that do not exist get a SCIM 404.
TEST_P(Errors, UnknownUserIdIs404_R20) {
    expect_scim_error(client().get("/scim/v2/Users/0"), 404);
    expect_scim_error(client().get("/scim/v2/Users/5a1b7d2c-0000-4000-8000-123456789abc"), 404);
    expect_scim_error(client().get("/scim/v2/NoSuchResource"), 404);
    expect_scim_error(client().get("/scim/v2"), 404);
    expect_scim_error(client().get("/not-scim"), 404);
}

// A method the endpoint does not serve is 405 with Allow and a SCIM body.
TEST_P(Errors, WrongMethodIs405WithAllow) {
    const std::string id = create_user("m@example.com");
    const auto check = [&](const std::string& method, const std::string& target,
                           std::set<std::string> allowed) {
        SCOPED_TRACE(method + " " + target);
        auto res =
            client().request(method, target, method == "GET" || method == "DELETE" ? "" : "{}");
        expect_scim_error(res, 405);
        EXPECT_EQ(allow_set(res.header("allow")), allowed) << "Allow: " << res.header("allow");
    };
    check("DELETE", "/scim/v2/Users", {"GET", "POST"});
    check("PUT", "/scim/v2/Users", {"GET", "POST"});
    check("POST", "/scim/v2/Users/" + id, {"GET", "PUT", "PATCH", "DELETE"});
    check("GET", "/scim/v2/Users/.search", {"POST"});
    check("PUT", "/scim/v2/ServiceProviderConfig", {"GET"});
    check("POST", "/scim/v2/Schemas", {"GET"});
    check("DELETE", "/scim/v2/ResourceTypes/User", {"GET"});
    // Nothing was changed by the refused requests.
    EXPECT_EQ(client().get("/scim/v2/Users/" + id).status, 200);
}

// The body limit is 1 MiB (ServerConfig::body_limit); a larger body is 413 with a SCIM body.
// Here the client announces the size and waits for the answer before sending the body, as
// one using Expect: 100-continue does.
TEST_P(Errors, BodyOver1MiBIs413) {
    auto res = client().request_head_only("POST", "/scim/v2/Users", 1024 * 1024 + 1);
    expect_scim_error(res, 413);
    EXPECT_EQ(client().request_head_only("PUT", "/scim/v2/Users/0", 5 * 1024 * 1024).status, 413);
    // Nothing was created, and the limit itself is accepted.
    auto list = client().get("/scim/v2/Users");
    ASSERT_EQ(list.status, 200) << list.body;
    EXPECT_EQ(list.json().at("totalResults"), 0);
    std::string fits = R"({"userName":"fits@example.com","nickName":")";
    fits.append(1024 * 1024 - fits.size() - 2, 'y');
    fits += "\"}";
    ASSERT_EQ(fits.size(), 1024U * 1024U);
    auto ok = client().post("/scim/v2/Users", fits);
    EXPECT_EQ(ok.status, 201) << ok.body.substr(0, 300);
}

// The same 413 for a client that sends the whole body before reading (how Java and .NET
// HTTP clients, so Okta and Entra, behave): the server must take the body in (and drop it)
// so that the upload completes and the answer arrives, rather than closing on a half-sent
// request, which makes the kernel reset the connection.
TEST_P(Errors, BodyOver1MiBIs413EvenWhenTheWholeBodyIsSent) {
    std::string body = R"({"userName":"big@example.com","nickName":")";
    body.append(1024 * 1024, 'x');
    body += "\"}";
    HttpResponse res;
    try {
        res = client().post("/scim/v2/Users", body);
    } catch (const std::exception& e) {
        FAIL() << "no answer to an oversized POST: " << e.what();
    }
    expect_scim_error(res, 413);
    EXPECT_FALSE(res.request_cut_short) << "the server closed before the body was sent";
    auto list = client().get(users_filter(R"(userName eq "big@example.com")"));
    ASSERT_EQ(list.status, 200) << list.body;
    EXPECT_EQ(list.json().at("totalResults"), 0);
}

TEST_P(Errors, MalformedBodiesAre400InvalidSyntax) {
    expect_scim_error(client().post("/scim/v2/Users", R"({"userName": )"), 400, "invalidSyntax");
    expect_scim_error(client().post("/scim/v2/Users", R"(["userName"])"), 400, "invalidSyntax");
    expect_scim_error(
        client().request("POST", "/scim/v2/Users", "", {{"Content-Type", "application/scim+json"}}),
        400, "invalidSyntax");
    const std::string id = create_user("syntax@example.com");
    expect_scim_error(client().patch("/scim/v2/Users/" + id, R"({"schemas":[]})"), 400,
                      "invalidSyntax");
    expect_scim_error(client().put("/scim/v2/Users/" + id, "not json"), 400, "invalidSyntax");
}

TEST_P(Errors, InvalidValuesAre400InvalidValue) {
    expect_scim_error(client().post("/scim/v2/Users", R"({"displayName":"No Name"})"), 400,
                      "invalidValue");
    expect_scim_error(
        client().post("/scim/v2/Users", R"({"userName":"t@example.com","active":"maybe"})"), 400,
        "invalidValue");
    expect_scim_error(client().post("/scim/v2/Users", R"({"userName":42})"), 400, "invalidValue");
    expect_scim_error(client().post("/scim/v2/Users", R"({"userName":"t@example.com","emails":[
        {"value":"a@example.com","primary":true},{"value":"b@example.com","primary":true}]})"),
                      400, "invalidValue");
    const std::string id = create_user("value@example.com");
    expect_scim_error(client().patch("/scim/v2/Users/" + id,
                                     patch_body(json::array{json::object{
                                         {"op", "merge"}, {"path", "nickName"}, {"value", "x"}}})),
                      400, "invalidValue");
}

TEST_P(Errors, PatchPathProblemsAre400) {
    const std::string id = create_user("path@example.com");
    const std::string target = "/scim/v2/Users/" + id;
    expect_scim_error(
        client().patch(target, patch_body(json::array{json::object{
                                   {"op", "replace"}, {"path", "noSuchAttr"}, {"value", "x"}}})),
        400, "invalidPath");
    expect_scim_error(
        client().patch(target, patch_body(json::array{json::object{{"op", "remove"}}})), 400,
        "noTarget");
    expect_scim_error(
        client().patch(target, patch_body(json::array{json::object{
                                   {"op", "replace"}, {"path", "id"}, {"value", "x"}}})),
        400, "mutability");
}

// R-08: other media types are refused with 415 and a SCIM body.
TEST_P(Errors, UnsupportedContentTypeIs415) {
    expect_scim_error(client().request("POST", "/scim/v2/Users", R"({"userName":"ct@example.com"})",
                                       {{"Content-Type", "application/xml"}}),
                      415);
}

// R-09: error bodies follow the negotiated media type too.
TEST_P(Errors, ErrorBodiesUseNegotiatedMediaType_R09) {
    auto res = client().request("GET", "/scim/v2/Users/0", "", {{"Accept", "application/json"}});
    expect_scim_error(res, 404);
    EXPECT_EQ(res.header("content-type"), "application/json; charset=utf-8");
    auto scim = client().get("/scim/v2/Users/0");
    EXPECT_EQ(scim.header("content-type"), "application/scim+json; charset=utf-8");
}

INSTANTIATE_TEST_SUITE_P(Backends, Errors, ::testing::Values(Db::kSqlite, Db::kPostgres), db_name);

}  // namespace
}  // namespace scimd::test
