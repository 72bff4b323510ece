// The User resource over HTTPS: create, replace, patch, deactivate, delete (R-25…R-56, R-65,
// R-66). The IdP-specific request sequences are in okta_test.cpp and entra_test.cpp.
#include "e2e/fixture.hpp"

namespace scimd::test {
namespace {

namespace json = boost::json;

class Users : public ServerFixture {
protected:
    json::object get_user(const std::string& id) {
        auto res = client().get("/scim/v2/Users/" + id);
        EXPECT_EQ(res.status, 200) << res.body;
        if (res.status != 200) {
            return {};
        }
        return res.json().as_object();
    }

    HttpResponse patch_user(const std::string& id, json::array ops) {
        return client().patch("/scim/v2/Users/" + id, patch_body(std::move(ops)));
    }

    std::int64_t count_matching(const std::string& filter) {
        auto res = client().get(users_filter(filter));
        EXPECT_EQ(res.status, 200) << res.body;
        if (res.status != 200) {
            return -1;
        }
        return res.json().at("totalResults").as_int64();
    }

    // An enterprise extension attribute of a user, or nullopt.
    static std::optional<json::value> enterprise(const json::object& user, std::string_view attr) {
        const auto* ext = user.if_contains(kEnterpriseSchema);
        if (ext == nullptr || !ext->is_object()) {
            return std::nullopt;
        }
        const auto* v = ext->as_object().if_contains(attr);
        return v ? std::optional<json::value>(*v) : std::nullopt;
    }
};

// R-25: 201, a Location header, and the full resource with meta.
TEST_P(Users, CreateReturns201WithLocationAndFullResource_R25) {
    auto res = client().post("/scim/v2/Users", R"({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "Barbara.Jensen@Example.com",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
        "active": true})");
    ASSERT_EQ(res.status, 201) << res.body;
    EXPECT_EQ(res.header("content-type"), "application/scim+json; charset=utf-8");
    const json::object u = res.json().as_object();
    ASSERT_TRUE(u.contains("id"));
    const std::string id(u.at("id").as_string());
    EXPECT_FALSE(id.empty());
    EXPECT_EQ(res.header("location"), std::string(kBaseUrl) + "/Users/" + id);
    EXPECT_EQ(u.at("schemas"), json::value(json::array{kUserSchema}));
    EXPECT_EQ(u.at("userName"), "Barbara.Jensen@Example.com");  // casing kept (R-16, R-65)
    EXPECT_EQ(u.at("active"), true);
    EXPECT_EQ(u.at("name").at("givenName"), "Barbara");
    EXPECT_EQ(u.at("emails").at(0).at("value"), "bjensen@example.com");
    const json::object& meta = u.at("meta").as_object();
    EXPECT_EQ(meta.at("resourceType"), "User");
    EXPECT_EQ(meta.at("location"), json::value(res.header("location")));
    EXPECT_TRUE(meta.at("created").is_string());
    EXPECT_EQ(meta.at("created"), meta.at("lastModified"));
    EXPECT_EQ(meta.at("version"), json::value(res.header("etag")));
    // The resource behind Location is the one that was returned.
    auto got = client().get("/scim/v2/Users/" + id);
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(got.json(), res.json());
}

// R-25: `active` is part of the full resource even when the client did not send it.
TEST_P(Users, CreateWithoutActiveReturnsActiveTrue_R25) {
    auto res = client().post("/scim/v2/Users", R"({"userName":"no.active@example.com"})");
    ASSERT_EQ(res.status, 201) << res.body;
    ASSERT_TRUE(res.json().as_object().contains("active")) << res.body;
    EXPECT_EQ(res.json().at("active"), true);
    EXPECT_EQ(get_user(std::string(res.json().at("id").as_string())).at("active"), true);
}

// R-26: id, meta, groups and the placeholder password sent by Okta/Entra are ignored.
TEST_P(Users, CreateIgnoresEchoedIdMetaGroupsAndPassword_R26) {
    auto res = client().post("/scim/v2/Users", R"({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "client-chosen-id",
        "userName": "echo@example.com",
        "meta": {"resourceType": "User", "created": "2001-01-01T00:00:00Z", "version": "W/\"77\""},
        "groups": [],
        "roles": [],
        "password": "k3xq9vtr"})");
    ASSERT_EQ(res.status, 201) << res.body;
    const json::object u = res.json().as_object();
    EXPECT_NE(u.at("id"), "client-chosen-id");
    EXPECT_FALSE(u.contains("password")) << res.body;  // writeOnly: never returned
    EXPECT_NE(u.at("meta").at("created"), "2001-01-01T00:00:00Z");
    EXPECT_NE(u.at("meta").at("version"), "W/\"77\"");
    expect_scim_error(client().get("/scim/v2/Users/client-chosen-id"), 404);
    auto got = client().get("/scim/v2/Users/" + std::string(u.at("id").as_string()));
    ASSERT_EQ(got.status, 200);
    EXPECT_EQ(got.body.find("k3xq9vtr"), std::string::npos);
}

// R-27: explicit nulls are "no value"; R-28: unknown schema URNs and extensions are dropped.
TEST_P(Users, CreateAcceptsNullsAndUnknownSchemas_R27_R28) {
    auto res = client().post("/scim/v2/Users", R"({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:scim:schemas:core:2.0",
                    "urn:ietf:params:scim:schemas:extension:acme:2.0:User"],
        "userName": "nulls@example.com",
        "title": null, "phoneNumbers": null, "addresses": null, "nickName": null,
        "manager": null,
        "urn:ietf:params:scim:schemas:extension:acme:2.0:User": {"badge": "B-1"}})");
    ASSERT_EQ(res.status, 201) << res.body;
    const json::object u = res.json().as_object();
    for (const char* absent : {"title", "phoneNumbers", "addresses", "nickName", "manager",
                               "urn:ietf:params:scim:schemas:extension:acme:2.0:User"}) {
        EXPECT_FALSE(u.contains(absent)) << absent << " in " << res.body;
    }
    EXPECT_EQ(u.at("schemas"), json::value(json::array{kUserSchema}));
}

// R-29: a user may be created disabled.
TEST_P(Users, CreateWithActiveFalse_R29) {
    auto res =
        client().post("/scim/v2/Users", R"({"userName":"disabled@example.com","active":false})");
    ASSERT_EQ(res.status, 201) << res.body;
    const std::string id(res.json().at("id").as_string());
    EXPECT_EQ(res.json().at("active"), false);
    EXPECT_EQ(get_user(id).at("active"), false);
    EXPECT_EQ(count_matching(R"(userName eq "disabled@example.com" and active eq false)"), 1);
}

// R-30: a duplicate userName, in any casing, is 409 uniqueness and changes nothing.
TEST_P(Users, DuplicateUserNameIs409Uniqueness_R30) {
    const std::string id = create_user("dup@example.com");
    expect_scim_error(client().post("/scim/v2/Users", R"({"userName":"dup@example.com"})"), 409,
                      "uniqueness");
    expect_scim_error(client().post("/scim/v2/Users", R"({"userName":"DUP@Example.COM"})"), 409,
                      "uniqueness");
    EXPECT_EQ(count_matching(R"(userName eq "dup@example.com")"), 1);
    EXPECT_EQ(get_user(id).at("userName"), "dup@example.com");
    // A rename onto a taken name is the same conflict.
    const std::string other = create_user("other@example.com");
    expect_scim_error(patch_user(other, json::array{json::object{{"op", "replace"},
                                                                 {"path", "userName"},
                                                                 {"value", "Dup@example.com"}}}),
                      409, "uniqueness");
    expect_scim_error(client().put("/scim/v2/Users/" + other, R"({"userName":"dup@EXAMPLE.com"})"),
                      409, "uniqueness");
    EXPECT_EQ(get_user(other).at("userName"), "other@example.com");
}

// R-32/R-33: PUT replaces the client-managed attributes, ignores the echoed id/meta/groups,
// keeps `active` when the body omits it, and answers 200 with the resource.
TEST_P(Users, PutReplacesAttributesAndKeepsAbsentActive_R32_R33) {
    auto created = client().post("/scim/v2/Users", R"({
        "userName": "put@example.com", "nickName": "Pat", "title": "Analyst",
        "name": {"givenName": "Pat", "familyName": "Smith"}, "active": true})");
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string id(created.json().at("id").as_string());
    const std::string etag1 = created.header("etag");

    // Okta: GET, mutate, PUT the whole body back (id, meta, groups included).
    json::object body = get_user(id);
    body.erase("nickName");
    body["name"].as_object()["givenName"] = "Patricia";
    body["groups"] = json::array{};
    body["password"] = "placeholder";
    auto put = client().put("/scim/v2/Users/" + id, json::serialize(body));
    ASSERT_EQ(put.status, 200) << put.body;
    const json::object u = put.json().as_object();
    EXPECT_EQ(u.at("id"), json::value(id));
    EXPECT_FALSE(u.contains("nickName")) << "omitted attributes are cleared: " << put.body;
    EXPECT_EQ(u.at("title"), "Analyst");
    EXPECT_EQ(u.at("name").at("givenName"), "Patricia");
    EXPECT_EQ(u.at("name").at("familyName"), "Smith");
    EXPECT_FALSE(u.contains("password"));
    EXPECT_NE(put.header("etag"), etag1);
    EXPECT_EQ(get_user(id), put.json());

    // Deactivated, then PUT without `active`: still inactive.
    auto off = patch_user(
        id, json::array{json::object{{"op", "replace"}, {"path", "active"}, {"value", false}}});
    ASSERT_EQ(off.status, 200) << off.body;
    auto put2 =
        client().put("/scim/v2/Users/" + id, R"({"userName":"put@example.com","title":"Lead"})");
    ASSERT_EQ(put2.status, 200) << put2.body;
    EXPECT_EQ(put2.json().at("active"), false);
    EXPECT_EQ(put2.json().at("title"), "Lead");
    // An explicit `active` in a PUT is applied (Okta AIW reactivates this way).
    auto put3 =
        client().put("/scim/v2/Users/" + id, R"({"userName":"put@example.com","active":true})");
    ASSERT_EQ(put3.status, 200) << put3.body;
    EXPECT_EQ(put3.json().at("active"), true);
}

// R-35: op is case-insensitive; R-47: a user PATCH answers 200 with the resource.
TEST_P(Users, PatchOpIsCaseInsensitive_R35) {
    const std::string id = create_user("ops@example.com");
    auto res = patch_user(
        id,
        json::array{json::object{{"op", "Add"}, {"path", "nickName"}, {"value", "Nick"}},
                    json::object{{"op", "REPLACE"}, {"path", "title"}, {"value", "Boss"}},
                    json::object{{"op", "Replace"}, {"path", "displayName"}, {"value", "Display"}},
                    json::object{{"op", "Remove"}, {"path", "displayName"}}});
    ASSERT_EQ(res.status, 200) << res.body;
    const json::object u = res.json().as_object();
    EXPECT_EQ(u.at("nickName"), "Nick");
    EXPECT_EQ(u.at("title"), "Boss");
    EXPECT_FALSE(u.contains("displayName"));
    EXPECT_EQ(u.at("id"), json::value(id));
    EXPECT_EQ(get_user(id), res.json());
}

// R-37: path-less values with nested objects, dotted keys, URN-qualified keys and extension
// objects; sub-attributes not named are kept.
TEST_P(Users, PathlessPatchWithDottedAndUrnKeys_R37) {
    auto created = client().post("/scim/v2/Users", R"({"userName":"pathless@example.com",
        "name":{"givenName":"Ana","familyName":"Li","formatted":"Ana Li"}})");
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string id(created.json().at("id").as_string());
    auto res = client().patch("/scim/v2/Users/" + id, R"({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {
            "displayName": "Ana Li-Wong",
            "name.familyName": "Li-Wong",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "E-4410",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Treasury"},
            "urn:ietf:params:scim:schemas:core:2.0:User:nickName": "Annie"}},
          {"op": "replace", "value": {"name": {"givenName": "Anna"}}}]})");
    ASSERT_EQ(res.status, 200) << res.body;
    const json::object u = res.json().as_object();
    EXPECT_EQ(u.at("displayName"), "Ana Li-Wong");
    EXPECT_EQ(u.at("nickName"), "Annie");
    EXPECT_EQ(u.at("name").at("givenName"), "Anna");
    EXPECT_EQ(u.at("name").at("familyName"), "Li-Wong");
    EXPECT_EQ(u.at("name").at("formatted"), "Ana Li");
    ASSERT_TRUE(enterprise(u, "employeeNumber").has_value()) << res.body;
    EXPECT_EQ(*enterprise(u, "employeeNumber"), "E-4410");
    ASSERT_TRUE(enterprise(u, "department").has_value()) << res.body;
    EXPECT_EQ(*enterprise(u, "department"), "Treasury");
    const auto& schemas = u.at("schemas").as_array();
    EXPECT_NE(std::find(schemas.begin(), schemas.end(), json::value(kEnterpriseSchema)),
              schemas.end())
        << res.body;
}

// R-41: "True"/"False" strings are booleans, with and without a path.
TEST_P(Users, PatchAcceptsStringBooleans_R41) {
    const std::string id = create_user("strbool@example.com");
    auto off = patch_user(
        id, json::array{json::object{{"op", "Replace"}, {"path", "active"}, {"value", "False"}}});
    ASSERT_EQ(off.status, 200) << off.body;
    EXPECT_EQ(off.json().at("active"), false);
    auto on = patch_user(id, json::array{json::object{
                                 {"op", "replace"}, {"value", json::object{{"active", "TRUE"}}}}});
    ASSERT_EQ(on.status, 200) << on.body;
    EXPECT_EQ(on.json().at("active"), true);
    expect_scim_error(
        patch_user(id, json::array{json::object{
                           {"op", "replace"}, {"path", "active"}, {"value", "maybe"}}}),
        400, "invalidValue");
    EXPECT_EQ(get_user(id).at("active"), true);
}

// R-40: add on a single-valued attribute replaces it.
TEST_P(Users, PatchAddOnSingleValuedReplaces_R40) {
    auto created =
        client().post("/scim/v2/Users", R"({"userName":"addrep@example.com","nickName":"Old"})");
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string id(created.json().at("id").as_string());
    auto res = patch_user(
        id, json::array{json::object{{"op", "add"}, {"path", "nickName"}, {"value", "New"}}});
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.json().at("nickName"), "New");
}

// R-38/R-39: value-filter paths on emails; an add to a missing typed element creates it.
TEST_P(Users, PatchEmailsByTypeFilter_R38_R39) {
    const std::string id = create_user("emails@example.com");
    auto added = patch_user(id, json::array{json::object{{"op", "add"},
                                                         {"path", "emails[type eq \"work\"].value"},
                                                         {"value", "work@example.com"}}});
    ASSERT_EQ(added.status, 200) << added.body;
    ASSERT_EQ(added.json().at("emails").as_array().size(), 1U) << added.body;
    EXPECT_EQ(added.json().at("emails").at(0).at("type"), "work");
    EXPECT_EQ(added.json().at("emails").at(0).at("value"), "work@example.com");

    auto home = patch_user(
        id, json::array{json::object{
                {"op", "add"},
                {"path", "emails"},
                {"value",
                 json::array{json::object{{"type", "home"}, {"value", "home@example.com"}}}}}});
    ASSERT_EQ(home.status, 200) << home.body;
    auto replaced =
        patch_user(id, json::array{json::object{{"op", "Replace"},
                                                {"path", "emails[type eq \"work\"].value"},
                                                {"value", "work2@example.com"}}});
    ASSERT_EQ(replaced.status, 200) << replaced.body;
    const json::array emails = replaced.json().at("emails").as_array();
    ASSERT_EQ(emails.size(), 2U) << replaced.body;
    for (const auto& e : emails) {
        EXPECT_EQ(e.at("value"), e.at("type") == "work" ? "work2@example.com" : "home@example.com");
    }
    EXPECT_EQ(count_matching(R"(emails[type eq "work"].value eq "work2@example.com")"), 1);
    EXPECT_EQ(count_matching(R"(emails[type eq "work"].value eq "work@example.com")"), 0);
}

// R-45: the manager comes in as a string, an object or an array; it always goes out as an
// object with value and $ref under the enterprise extension.
TEST_P(Users, ManagerStringInObjectOut_R45) {
    const std::string boss = create_user("boss@example.com");
    auto created = client().post("/scim/v2/Users", R"({"userName":"worker@example.com",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":")" +
                                                       boss + R"("}})");
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string id(created.json().at("id").as_string());
    const json::value expected =
        json::object{{"value", boss}, {"$ref", std::string(kBaseUrl) + "/Users/" + boss}};
    std::optional<json::value> mgr = enterprise(created.json().as_object(), "manager");
    ASSERT_TRUE(mgr.has_value()) << created.body;
    EXPECT_EQ(*mgr, expected);
    EXPECT_EQ(*enterprise(get_user(id), "manager"), expected);

    const std::string path = std::string(kEnterpriseSchema) + ":manager";
    const std::string boss2 = create_user("boss2@example.com");
    const json::value expected2 =
        json::object{{"value", boss2}, {"$ref", std::string(kBaseUrl) + "/Users/" + boss2}};
    const std::vector<json::value> forms{json::value(boss2), json::object{{"value", boss2}},
                                         json::array{json::object{{"value", boss2}}}};
    for (const json::value& form : forms) {
        // Reset, then set in this form.
        ASSERT_EQ(
            patch_user(id, json::array{json::object{{"op", "remove"}, {"path", path}}}).status,
            200);
        auto res = patch_user(
            id, json::array{json::object{{"op", "add"}, {"path", path}, {"value", form}}});
        ASSERT_EQ(res.status, 200) << res.body << " for " << json::serialize(form);
        mgr = enterprise(res.json().as_object(), "manager");
        ASSERT_TRUE(mgr.has_value()) << res.body;
        EXPECT_EQ(*mgr, expected2) << "for " << json::serialize(form);
    }
    // Removal by value filter (R-43) clears it.
    auto removed =
        patch_user(id, json::array{json::object{{"op", "remove"},
                                                {"path", "manager[value eq \"" + boss2 + "\"]"}}});
    ASSERT_EQ(removed.status, 200) << removed.body;
    EXPECT_FALSE(enterprise(removed.json().as_object(), "manager").has_value()) << removed.body;
}

// R-48: repeating a PATCH succeeds; one that changes nothing keeps the version.
TEST_P(Users, PatchIsIdempotent_R48) {
    const std::string id = create_user("idem@example.com");
    const json::array ops{json::object{{"op", "replace"}, {"path", "active"}, {"value", false}}};
    auto first = patch_user(id, ops);
    ASSERT_EQ(first.status, 200) << first.body;
    auto second = patch_user(id, ops);
    ASSERT_EQ(second.status, 200) << second.body;
    EXPECT_EQ(second.json().at("active"), false);
    EXPECT_EQ(second.header("etag"), first.header("etag"));
    EXPECT_EQ(second.json().at("meta").at("version"), first.json().at("meta").at("version"));
}

// R-49: all operations apply or none; the error names the bad path.
TEST_P(Users, PatchIsAtomic_R49) {
    auto created =
        client().post("/scim/v2/Users", R"({"userName":"atomic@example.com","nickName":"Before"})");
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string id(created.json().at("id").as_string());
    auto res = patch_user(
        id, json::array{
                json::object{{"op", "replace"}, {"path", "nickName"}, {"value", "After"}},
                json::object{{"op", "replace"}, {"path", "favouriteColour"}, {"value", "blue"}}});
    expect_scim_error(res, 400, "invalidPath");
    EXPECT_NE(res.body.find("favouriteColour"), std::string::npos) << res.body;
    const json::object u = get_user(id);
    EXPECT_EQ(u.at("nickName"), "Before");
    EXPECT_EQ(u.at("meta").at("version"), created.json().at("meta").at("version"));
}

// R-51/R-52: active=false is a soft delete that keeps the user readable and filterable and
// is undone by active=true, which may come with profile changes in the same request.
TEST_P(Users, DeactivatedUserStaysReadableAndIsReversible_R51_R52) {
    const std::string id = create_user(json::object{
        {"userName", "soft@example.com"}, {"externalId", "ext-soft"}, {"active", true}});
    auto off = patch_user(
        id, json::array{json::object{{"op", "replace"}, {"path", "active"}, {"value", false}}});
    ASSERT_EQ(off.status, 200) << off.body;
    EXPECT_EQ(get_user(id).at("active"), false);
    EXPECT_EQ(count_matching(R"(userName eq "soft@example.com")"), 1);
    EXPECT_EQ(count_matching(R"(externalId eq "ext-soft")"), 1);
    EXPECT_EQ(count_matching("active eq false"), 1);
    EXPECT_EQ(count_matching("active eq true"), 0);
    // Updates to an inactive user are accepted; reactivation with a profile change.
    auto on = patch_user(
        id, json::array{
                json::object{{"op", "replace"}, {"path", "displayName"}, {"value", "Back Again"}},
                json::object{{"op", "replace"}, {"path", "active"}, {"value", true}}});
    ASSERT_EQ(on.status, 200) << on.body;
    EXPECT_EQ(on.json().at("active"), true);
    EXPECT_EQ(on.json().at("displayName"), "Back Again");
    EXPECT_EQ(count_matching("active eq true"), 1);
}

// R-53: DELETE is 204; afterwards every operation on the id is 404; the userName is free.
TEST_P(Users, DeleteThenEverythingIs404AndUserNameIsFree_R53) {
    const std::string id = create_user("gone@example.com");
    auto del = client().del("/scim/v2/Users/" + id);
    EXPECT_EQ(del.status, 204);
    EXPECT_TRUE(del.body.empty()) << del.body;
    const std::string target = "/scim/v2/Users/" + id;
    expect_scim_error(client().get(target), 404);
    expect_scim_error(client().put(target, R"({"userName":"gone@example.com"})"), 404);
    expect_scim_error(
        client().patch(target, patch_body(json::array{json::object{
                                   {"op", "replace"}, {"path", "active"}, {"value", true}}})),
        404);
    expect_scim_error(client().del(target), 404);
    EXPECT_EQ(count_matching(R"(userName eq "gone@example.com")"), 0);
    auto again = client().post("/scim/v2/Users", R"({"userName":"gone@example.com"})");
    ASSERT_EQ(again.status, 201) << again.body;
    EXPECT_NE(again.json().at("id"), json::value(id));
}

// R-56: a rename keeps the id; lookups follow the new name.
TEST_P(Users, RenameKeepsId_R56) {
    const std::string id = create_user("old.name@example.com");
    auto res = patch_user(
        id, json::array{json::object{
                {"op", "Replace"}, {"path", "userName"}, {"value", "New.Name@example.com"}}});
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.json().at("id"), json::value(id));
    EXPECT_EQ(res.json().at("userName"), "New.Name@example.com");
    EXPECT_EQ(count_matching(R"(userName eq "old.name@example.com")"), 0);
    EXPECT_EQ(count_matching(R"(userName eq "new.name@example.com")"), 1);
    // By PUT as well (Okta, OneLogin); the old name can be taken by someone else.
    auto put = client().put("/scim/v2/Users/" + id, R"({"userName":"third.name@example.com"})");
    ASSERT_EQ(put.status, 200) << put.body;
    EXPECT_EQ(put.json().at("id"), json::value(id));
    EXPECT_FALSE(create_user("New.Name@example.com").empty());
}

// R-65/R-66: values come back as sent; a single object where an array belongs is accepted.
TEST_P(Users, ValuesRoundTripVerbatim_R65_R66) {
    auto res = client().post("/scim/v2/Users", R"({"userName":"MiXeD.Case@Example.com",
        "phoneNumbers":[{"value":"+1 (555) 010-0000 ext. 7","type":"work"}],
        "emails":{"value":"Single.Object@Example.com","type":"work","primary":"true"}})");
    ASSERT_EQ(res.status, 201) << res.body;
    const json::object u = res.json().as_object();
    EXPECT_EQ(u.at("userName"), "MiXeD.Case@Example.com");
    EXPECT_EQ(u.at("phoneNumbers").at(0).at("value"), "+1 (555) 010-0000 ext. 7");
    ASSERT_TRUE(u.at("emails").is_array()) << res.body;
    EXPECT_EQ(u.at("emails").at(0).at("value"), "Single.Object@Example.com");
    EXPECT_EQ(u.at("emails").at(0).at("primary"), true);
}

INSTANTIATE_TEST_SUITE_P(Backends, Users, ::testing::Values(Db::kSqlite, Db::kPostgres), db_name);

}  // namespace
}  // namespace scimd::test
