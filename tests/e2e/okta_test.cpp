// A full Okta user lifecycle replayed over HTTPS with the request shapes of idp-compat.md
// §2.1: connection test, lookup, create, profile update by GET+PUT, deactivate and reactivate
// by path-less PATCH (OIN) and by PUT (AIW), import paging. Okta never deletes users; the
// final DELETE stands for an admin cleaning up and checks the lifecycle ends cleanly.
#include "e2e/fixture.hpp"

namespace scimd::test {
namespace {

namespace json = boost::json;

class Okta : public ServerFixture {
protected:
    // The headers Okta's SCIM client sends (idp-compat.md §2.1).
    HttpResponse okta(const std::string& method,
                      const std::string& target,
                      const std::string& body = "") {
        std::vector<std::pair<std::string, std::string>> headers{
            {"User-Agent", "Okta SCIM Client 1.0.0"}, {"Accept", "application/scim+json"}};
        if (!body.empty()) {
            headers.emplace_back("Content-Type", "application/scim+json; charset=utf-8");
        }
        auto res = client().request(method, target, body, headers);
        if (!res.body.empty() && res.status != 204) {
            EXPECT_EQ(res.header("content-type"), "application/scim+json; charset=utf-8")
                << method << " " << target;
        }
        return res;
    }

    static constexpr const char* kLookup =
        "/scim/v2/Users?filter=userName%20eq%20%22ana.li%40corp.example%22&startIndex=1&count=100";

    static constexpr const char* kCreate = R"({
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
  "userName": "ana.li@corp.example",
  "name": {"givenName": "Ana", "familyName": "Li"},
  "emails": [{"primary": true, "value": "ana.li@corp.example", "type": "work"}],
  "displayName": "Ana Li",
  "locale": "en-US",
  "externalId": "00u7q1example0h8",
  "groups": [],
  "password": "k3xq9vtr",
  "active": true
})";

    static std::string path_less_active(bool active) {
        return patch_body(json::array{
            json::object{{"op", "replace"}, {"value", json::object{{"active", active}}}}});
    }
};

TEST_P(Okta, FullUserLifecycle) {
    // 1. Connection test (on saving the provisioning settings).
    auto probe = okta("GET", "/scim/v2/Users?startIndex=1&count=2");
    ASSERT_EQ(probe.status, 200) << probe.body;
    EXPECT_EQ(probe.json().at("totalResults"), 0);
    EXPECT_EQ(probe.json().at("Resources"), json::value(json::array{}));

    // 2. Lookup before create: an empty list (R-18).
    auto lookup = okta("GET", kLookup);
    ASSERT_EQ(lookup.status, 200) << lookup.body;
    EXPECT_EQ(lookup.json().at("totalResults"), 0);
    EXPECT_EQ(lookup.json().at("startIndex"), 1);
    EXPECT_EQ(lookup.json().at("itemsPerPage"), 0);
    EXPECT_EQ(lookup.json().at("Resources"), json::value(json::array{}));

    // 3. Create, with the password placeholder and groups [] (R-25, R-26).
    auto created = okta("POST", "/scim/v2/Users", kCreate);
    ASSERT_EQ(created.status, 201) << created.body;
    const json::object user = created.json().as_object();
    const std::string id(user.at("id").as_string());
    EXPECT_EQ(created.header("location"), std::string(kBaseUrl) + "/Users/" + id);
    EXPECT_EQ(user.at("userName"), "ana.li@corp.example");
    EXPECT_EQ(user.at("externalId"), "00u7q1example0h8");
    EXPECT_EQ(user.at("active"), true);
    EXPECT_EQ(user.at("locale"), "en-US");
    EXPECT_EQ(user.at("name").at("givenName"), "Ana");
    EXPECT_FALSE(user.contains("password"));
    EXPECT_EQ(user.at("meta").at("resourceType"), "User");

    // A second create for the same person is 409 uniqueness (Okta stops and raises a task).
    expect_scim_error(okta("POST", "/scim/v2/Users", kCreate), 409, "uniqueness");

    // 4. The lookup now finds the user, also in upper case (Okta's Runscope test, R-16).
    auto found = okta("GET", kLookup);
    ASSERT_EQ(found.status, 200) << found.body;
    ASSERT_EQ(found.json().at("totalResults"), 1);
    EXPECT_EQ(found.json().at("Resources").at(0).at("id"), json::value(id));
    auto upper = okta(
        "GET",
        "/scim/v2/Users?filter=userName%20eq%20%22ANA.LI%40CORP.EXAMPLE%22&startIndex=1&count=100");
    ASSERT_EQ(upper.status, 200) << upper.body;
    EXPECT_EQ(upper.json().at("totalResults"), 1);
    EXPECT_EQ(upper.json().at("Resources").at(0).at("userName"), "ana.li@corp.example");

    // 5. Profile update: GET, then PUT the whole object back, changed, with id/meta/groups.
    auto fetched = okta("GET", "/scim/v2/Users/" + id);
    ASSERT_EQ(fetched.status, 200) << fetched.body;
    json::object put_body = fetched.json().as_object();
    put_body["name"].as_object()["givenName"] = "Anna";
    put_body["displayName"] = "Anna Li";
    put_body["groups"] = json::array{};
    put_body["password"] = "k3xq9vtr";
    auto updated = okta("PUT", "/scim/v2/Users/" + id, json::serialize(put_body));
    ASSERT_EQ(updated.status, 200) << updated.body;
    EXPECT_EQ(updated.json().at("id"), json::value(id));
    EXPECT_EQ(updated.json().at("name").at("givenName"), "Anna");
    EXPECT_EQ(updated.json().at("displayName"), "Anna Li");
    EXPECT_EQ(updated.json().at("active"), true);
    EXPECT_EQ(updated.json().at("externalId"), "00u7q1example0h8");
    EXPECT_EQ(updated.json().at("meta").at("created"), user.at("meta").at("created"));

    // Profile update as path-less PATCH (integrations switched to PATCH).
    auto renamed = okta("PATCH", "/scim/v2/Users/" + id,
                        R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations":[{"op":"replace","value":{"name":{"givenName":"Annie"},"displayName":"Annie Li"}}]})");
    ASSERT_EQ(renamed.status, 200) << renamed.body;
    EXPECT_EQ(renamed.json().at("name").at("givenName"), "Annie");
    EXPECT_EQ(renamed.json().at("name").at("familyName"), "Li");
    EXPECT_EQ(renamed.json().at("displayName"), "Annie Li");

    // 6. Deactivate (OIN): path-less replace {"active": false}; the user stays readable (R-51).
    auto off = okta("PATCH", "/scim/v2/Users/" + id, path_less_active(false));
    ASSERT_EQ(off.status, 200) << off.body;
    EXPECT_EQ(off.json().at("active"), false);
    auto off_get = okta("GET", "/scim/v2/Users/" + id);
    ASSERT_EQ(off_get.status, 200) << off_get.body;
    EXPECT_EQ(off_get.json().at("active"), false);
    EXPECT_EQ(off_get.json().at("displayName"), "Annie Li");
    auto off_lookup = okta("GET", kLookup);
    ASSERT_EQ(off_lookup.status, 200);
    EXPECT_EQ(off_lookup.json().at("totalResults"), 1);
    EXPECT_EQ(off_lookup.json().at("Resources").at(0).at("active"), false);
    // Okta re-sends the same deactivation: idempotent (R-48).
    EXPECT_EQ(okta("PATCH", "/scim/v2/Users/" + id, path_less_active(false)).status, 200);

    // 7. Reactivate (OIN): the same shape with true (R-52).
    auto on = okta("PATCH", "/scim/v2/Users/" + id, path_less_active(true));
    ASSERT_EQ(on.status, 200) << on.body;
    EXPECT_EQ(on.json().at("active"), true);

    // 8. AIW flavour: deactivate and reactivate by PUT of the full user.
    json::object aiw = okta("GET", "/scim/v2/Users/" + id).json().as_object();
    aiw["active"] = false;
    auto aiw_off = okta("PUT", "/scim/v2/Users/" + id, json::serialize(aiw));
    ASSERT_EQ(aiw_off.status, 200) << aiw_off.body;
    EXPECT_EQ(aiw_off.json().at("active"), false);
    EXPECT_EQ(aiw_off.json().at("displayName"), "Annie Li");
    aiw["active"] = true;
    auto aiw_on = okta("PUT", "/scim/v2/Users/" + id, json::serialize(aiw));
    ASSERT_EQ(aiw_on.status, 200) << aiw_on.body;
    EXPECT_EQ(aiw_on.json().at("active"), true);

    // 9. Import: pages of 100 until startIndex > totalResults.
    auto import = okta("GET", "/scim/v2/Users?startIndex=1&count=100");
    ASSERT_EQ(import.status, 200) << import.body;
    EXPECT_EQ(import.json().at("totalResults"), 1);
    EXPECT_EQ(import.json().at("Resources").at(0).at("id"), json::value(id));
    auto next = okta("GET", "/scim/v2/Users?startIndex=101&count=100");
    ASSERT_EQ(next.status, 200) << next.body;
    EXPECT_EQ(next.json().at("Resources"), json::value(json::array{}));

    // 10. Cleanup: DELETE, then the user is gone and the lookup is empty again (R-53).
    EXPECT_EQ(okta("DELETE", "/scim/v2/Users/" + id).status, 204);
    expect_scim_error(okta("GET", "/scim/v2/Users/" + id), 404);
    auto after = okta("GET", kLookup);
    ASSERT_EQ(after.status, 200);
    EXPECT_EQ(after.json().at("totalResults"), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, Okta, ::testing::Values(Db::kSqlite, Db::kPostgres), db_name);

}  // namespace
}  // namespace scimd::test
