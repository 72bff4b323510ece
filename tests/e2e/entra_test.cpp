// A full Microsoft Entra ID user lifecycle replayed over HTTPS with the request shapes of
// idp-compat.md §2.2: test connection, lookup, create (with nulls and meta.resourceType),
// updates in both PATCH dialects (default: capitalized ops and per-attribute paths;
// aadOptscim062020: one path-less replace with dotted and URN keys), manager, disable and
// enable with "False"/"True" strings, hard delete.
#include "e2e/fixture.hpp"

namespace scimd::test {
namespace {

namespace json = boost::json;

class Entra : public ServerFixture {
protected:
    // Entra's GETs carry neither Accept nor Content-Type (R-07); the test client adds neither.
    // Its writes carry Content-Type: application/scim+json; charset=utf-8, the client default.
    HttpResponse lookup(const std::string& filter) {
        auto res = client().get(users_filter(filter));
        EXPECT_EQ(res.status, 200) << filter << ": " << res.body;
        EXPECT_EQ(res.header("content-type"), "application/scim+json; charset=utf-8");
        return res;
    }

    // An enterprise extension attribute of a response (a copy: json() parses anew).
    static json::value ext(const HttpResponse& res, std::string_view attr) {
        return res.json().at(kEnterpriseSchema).at(attr);
    }

    static constexpr const char* kCreate = R"({
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
              "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "externalId": "ana.li",
  "userName": "ana.li@contoso.example",
  "active": true,
  "displayName": "Ana Li",
  "emails": [{"primary": true, "type": "work", "value": "ana.li@contoso.example"}],
  "meta": {"resourceType": "User"},
  "name": {"formatted": "Ana Li", "familyName": "Li", "givenName": "Ana"},
  "title": null,
  "phoneNumbers": null,
  "addresses": null,
  "manager": null,
  "roles": [],
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Finance"}
})";
};

TEST_P(Entra, FullUserLifecycle) {
    // 1. Test connection: a random userName must give 200 and an empty list (R-18, R-60), and
    //    a random id a SCIM 404 (R-20).
    auto test_conn = lookup(R"(userName eq "6d0f1f9e-3b7d-4c1a-9a77-1f5b2a0c8e41")");
    EXPECT_EQ(test_conn.json().at("totalResults"), 0);
    EXPECT_EQ(test_conn.json().at("Resources"), json::value(json::array{}));
    expect_scim_error(client().get("/scim/v2/Users/9b2e4f3a-1c5d-4e6f-8a7b-0c1d2e3f4a5b"), 404);

    // 2. Lookup by the matching attribute, then create (R-26, R-27).
    EXPECT_EQ(lookup(R"(userName eq "ana.li@contoso.example")").json().at("totalResults"), 0);
    auto created = client().post("/scim/v2/Users", kCreate);
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string id(created.json().at("id").as_string());
    const json::object user = created.json().as_object();
    EXPECT_EQ(user.at("userName"), "ana.li@contoso.example");
    EXPECT_EQ(user.at("externalId"), "ana.li");
    EXPECT_EQ(user.at("active"), true);
    EXPECT_EQ(user.at("name").at("formatted"), "Ana Li");
    EXPECT_EQ(ext(created, "department"), "Finance");
    for (const char* absent : {"title", "phoneNumbers", "addresses", "manager", "roles"}) {
        EXPECT_FALSE(user.contains(absent)) << absent << " in " << created.body;
    }
    EXPECT_EQ(user.at("meta").at("resourceType"), "User");
    EXPECT_EQ(user.at("meta").at("location"), json::value(std::string(kBaseUrl) + "/Users/" + id));
    // Entra may match on externalId or the work email as well (R-13).
    EXPECT_EQ(lookup(R"(externalId eq "ana.li")").json().at("totalResults"), 1);
    EXPECT_EQ(lookup(R"(emails[type eq "work"].value eq "ana.li@contoso.example")")
                  .json()
                  .at("totalResults"),
              1);

    // 3. Update, default dialect: capitalized ops, one path each, Add for values that were
    //    empty, a rename of userName (R-35, R-38, R-40, R-56).
    auto update = client().patch("/scim/v2/Users/" + id,
                                 R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
 "Operations":[
   {"op":"Replace","path":"emails[type eq \"work\"].value","value":"ana.li2@contoso.example"},
   {"op":"Replace","path":"name.familyName","value":"Li-Wong"},
   {"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Treasury"},
   {"op":"Add","path":"nickName","value":"Annie"},
   {"op":"Replace","path":"userName","value":"ana.liwong@contoso.example"}]})");
    ASSERT_EQ(update.status, 200) << update.body;
    EXPECT_EQ(update.json().at("id"), json::value(id));
    EXPECT_EQ(update.json().at("emails").at(0).at("value"), "ana.li2@contoso.example");
    EXPECT_EQ(update.json().at("emails").at(0).at("type"), "work");
    EXPECT_EQ(update.json().at("name").at("familyName"), "Li-Wong");
    EXPECT_EQ(update.json().at("name").at("givenName"), "Ana");
    EXPECT_EQ(ext(update, "department"), "Treasury");
    EXPECT_EQ(update.json().at("nickName"), "Annie");
    EXPECT_EQ(update.json().at("userName"), "ana.liwong@contoso.example");
    EXPECT_EQ(lookup(R"(userName eq "ana.liwong@contoso.example")").json().at("totalResults"), 1);
    EXPECT_EQ(lookup(R"(userName eq "ana.li@contoso.example")").json().at("totalResults"), 0);

    // 4. Update, aadOptscim062020 dialect: a path-less replace with dotted and URN keys (R-37).
    auto flagged = client().patch("/scim/v2/Users/" + id + "?aadOptscim062020",
                                  R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
 "Operations":[
   {"op":"replace","path":"emails[type eq \"work\"].value","value":"ana.li3@contoso.example"},
   {"op":"replace","value":{
      "displayName":"Ana Li-Wong",
      "name.givenName":"Ana",
      "name.familyName":"Li-Wong",
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"E-4410"}}]})");
    ASSERT_EQ(flagged.status, 200) << flagged.body;
    EXPECT_EQ(flagged.json().at("displayName"), "Ana Li-Wong");
    EXPECT_EQ(flagged.json().at("emails").at(0).at("value"), "ana.li3@contoso.example");
    EXPECT_EQ(flagged.json().at("name").at("formatted"), "Ana Li");
    EXPECT_EQ(ext(flagged, "employeeNumber"), "E-4410");
    EXPECT_EQ(ext(flagged, "department"), "Treasury");
    EXPECT_EQ(
        lookup(
            R"(urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "E-4410")")
            .json()
            .at("totalResults"),
        1);

    // 5. Manager, once both users exist: a bare string id, then {"value": id}; it always comes
    //    back as an object with $ref (R-45).
    auto boss_res = client().post("/scim/v2/Users",
                                  R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName":"bo.kim@contoso.example","externalId":"bo.kim","active":true})");
    ASSERT_EQ(boss_res.status, 201) << boss_res.body;
    const std::string boss(boss_res.json().at("id").as_string());
    const json::value manager_out =
        json::object{{"value", boss}, {"$ref", std::string(kBaseUrl) + "/Users/" + boss}};
    auto mgr = client().patch(
        "/scim/v2/Users/" + id,
        patch_body(json::array{json::object{{"op", "Add"},
                                            {"path", std::string(kEnterpriseSchema) + ":manager"},
                                            {"value", boss}}}));
    ASSERT_EQ(mgr.status, 200) << mgr.body;
    EXPECT_EQ(ext(mgr, "manager"), manager_out);
    auto mgr_obj = client().patch(
        "/scim/v2/Users/" + id,
        patch_body(json::array{json::object{{"op", "Replace"},
                                            {"path", std::string(kEnterpriseSchema) + ":manager"},
                                            {"value", json::object{{"value", boss}}}}}));
    ASSERT_EQ(mgr_obj.status, 200) << mgr_obj.body;
    EXPECT_EQ(ext(mgr_obj, "manager"), manager_out);
    auto mgr_get = client().get("/scim/v2/Users/" + id);
    ASSERT_EQ(mgr_get.status, 200);
    EXPECT_EQ(ext(mgr_get, "manager"), manager_out);
    // Entra's reference check (MS-TUT Example 4).
    auto check = client().get(
        users_filter("id eq \"" + id + "\" and manager eq \"" + boss + "\"", "&attributes=id"));
    ASSERT_EQ(check.status, 200) << check.body;
    EXPECT_EQ(check.json().at("totalResults"), 1);

    // 6. Disable: Replace active "False" (default dialect, R-41); the user stays readable and
    //    findable (R-51). The flag dialect sends a real boolean; "Add" was also seen.
    auto off = client().patch("/scim/v2/Users/" + id,
                              R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations":[{"op":"Replace","path":"active","value":"False"}]})");
    ASSERT_EQ(off.status, 200) << off.body;
    EXPECT_EQ(off.json().at("active"), false);
    auto off_get = client().get("/scim/v2/Users/" + id);
    ASSERT_EQ(off_get.status, 200) << off_get.body;
    EXPECT_EQ(off_get.json().at("active"), false);
    EXPECT_EQ(ext(off_get, "manager"), manager_out);
    EXPECT_EQ(lookup(R"(userName eq "ana.liwong@contoso.example")")
                  .json()
                  .at("Resources")
                  .at(0)
                  .at("active"),
              false);
    auto off_flag = client().patch("/scim/v2/Users/" + id,
                                   R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations":[{"op":"replace","path":"active","value":false}]})");
    ASSERT_EQ(off_flag.status, 200) << off_flag.body;
    EXPECT_EQ(off_flag.json().at("active"), false);

    // 7. Enable: "True", and "Add" with a boolean (R-40, R-52).
    auto on = client().patch("/scim/v2/Users/" + id,
                             R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations":[{"op":"Replace","path":"active","value":"True"}]})");
    ASSERT_EQ(on.status, 200) << on.body;
    EXPECT_EQ(on.json().at("active"), true);
    auto off_again = client().patch("/scim/v2/Users/" + id,
                                    R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations":[{"op":"Replace","path":"active","value":"False"}]})");
    ASSERT_EQ(off_again.status, 200);
    auto add_on = client().patch("/scim/v2/Users/" + id,
                                 R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations":[{"op":"Add","path":"active","value":true}]})");
    ASSERT_EQ(add_on.status, 200) << add_on.body;
    EXPECT_EQ(add_on.json().at("active"), true);

    // 8. Manager removal, both forms.
    auto rm = client().patch(
        "/scim/v2/Users/" + id,
        patch_body(json::array{json::object{
            {"op", "Remove"}, {"path", std::string(kEnterpriseSchema) + ":manager"}}}));
    ASSERT_EQ(rm.status, 200) << rm.body;
    EXPECT_FALSE(rm.json().at(kEnterpriseSchema).as_object().contains("manager")) << rm.body;
    EXPECT_EQ(ext(rm, "department"), "Treasury");

    // 9. Hard delete: 204, then 404 and an empty lookup (R-53).
    auto del = client().del("/scim/v2/Users/" + id);
    EXPECT_EQ(del.status, 204);
    expect_scim_error(client().get("/scim/v2/Users/" + id), 404);
    expect_scim_error(
        client().patch("/scim/v2/Users/" + id,
                       R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations":[{"op":"Replace","path":"active","value":"False"}]})"),
        404);
    EXPECT_EQ(lookup(R"(userName eq "ana.liwong@contoso.example")").json().at("totalResults"), 0);
    // The manager is untouched by the report's deletion.
    EXPECT_EQ(client().get("/scim/v2/Users/" + boss).status, 200);
}

INSTANTIATE_TEST_SUITE_P(Backends, Entra, ::testing::Values(Db::kSqlite, Db::kPostgres), db_name);

}  // namespace
}  // namespace scimd::test
