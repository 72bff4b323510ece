// The Group resource over HTTPS: create, read, list and filter, PATCH in the Okta and Entra
// forms (always 204), PUT, DELETE, nested groups and the users' read-only `groups` (R-13,
// R-19, R-20, R-24, R-31, R-34, R-37, R-42…R-44, R-47, R-48, R-54). The last two tests replay
// Okta's group push (idp-compat.md §2.1) and Entra's group sync (§2.2) request by request.
#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "e2e/fixture.hpp"

namespace scimd::test {
namespace {

namespace json = boost::json;

inline constexpr const char* kGroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// An id that names nothing in any organization.
inline constexpr const char* kUnknownId = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

class Groups : public ServerFixture {
protected:
    using Ids = std::vector<std::string>;

    static std::string group_target(const std::string& id) { return "/scim/v2/Groups/" + id; }

    /// "/scim/v2/Groups?filter=<encoded>" plus optional extra query text (starting with '&').
    static std::string groups_filter(const std::string& filter, const std::string& extra = "") {
        return "/scim/v2/Groups?filter=" + url_encode(filter) + extra;
    }

    static Ids sorted(Ids ids) {
        std::sort(ids.begin(), ids.end());
        return ids;
    }

    /// [{"value": id}, …]: members as most clients send them.
    static json::array member_refs(const Ids& ids) {
        json::array out;
        for (const std::string& id : ids) {
            out.emplace_back(json::object{{"value", id}});
        }
        return out;
    }

    /// A POST/PUT body: schemas, displayName and members.
    static json::object group_body(const std::string& name, const Ids& members) {
        return json::object{{"schemas", json::array{kGroupSchema}},
                            {"displayName", name},
                            {"members", member_refs(members)}};
    }

    /// A member as the server returns it.
    static json::object user_member(const std::string& id, const std::string& display) {
        return json::object{{"value", id},
                            {"$ref", std::string(kBaseUrl) + "/Users/" + id},
                            {"type", "User"},
                            {"display", display}};
    }
    static json::object group_member(const std::string& id, const std::string& display) {
        return json::object{{"value", id},
                            {"$ref", std::string(kBaseUrl) + "/Groups/" + id},
                            {"type", "Group"},
                            {"display", display}};
    }

    /// Creates a group over HTTP and returns its id (empty, with a test failure, on error).
    std::string create_group(const json::object& body) {
        auto res = client().post("/scim/v2/Groups", json::serialize(body));
        EXPECT_EQ(res.status, 201) << res.body;
        if (res.status != 201) {
            return {};
        }
        return std::string(res.json().at("id").as_string());
    }
    std::string create_group(const std::string& name, const Ids& members = {}) {
        return create_group(group_body(name, members));
    }

    /// GET /Groups/{id}[query] as an object (empty, with a test failure, on error).
    json::object get_group(const std::string& id, const std::string& query = "") {
        auto res = client().get(group_target(id) + query);
        EXPECT_EQ(res.status, 200) << res.body;
        if (res.status != 200) {
            return {};
        }
        return res.json().as_object();
    }

    /// The member ids of a group as returned; none when `members` is absent, null or [].
    static Ids member_ids_in_order(const json::object& group) {
        Ids ids;
        const json::value* members = group.if_contains("members");
        if (members == nullptr || members->is_null()) {
            return ids;
        }
        EXPECT_TRUE(members->is_array()) << json::serialize(group);
        if (!members->is_array()) {
            return ids;
        }
        for (const json::value& m : members->as_array()) {
            ids.emplace_back(m.at("value").as_string());
        }
        return ids;
    }

    /// The member ids of a group, sorted.
    static Ids member_ids(const json::object& group) { return sorted(member_ids_in_order(group)); }

    /// The member ids of the stored group, sorted (read with a GET).
    Ids members_of(const std::string& id) { return member_ids(get_group(id)); }

    /// The group's meta.version (read with a GET).
    std::string version_of(const std::string& id) {
        const json::object g = get_group(id);
        const json::value* meta = g.if_contains("meta");
        if (meta == nullptr || !meta->is_object() || !meta->as_object().contains("version")) {
            ADD_FAILURE() << "no meta.version in " << json::serialize(g);
            return {};
        }
        return std::string(meta->as_object().at("version").as_string());
    }

    HttpResponse patch_group(const std::string& id, json::array ops) {
        return client().patch(group_target(id), patch_body(std::move(ops)));
    }

    /// R-47: a group PATCH answers 204 No Content, with no body.
    static ::testing::AssertionResult no_content(const HttpResponse& res) {
        if (res.status != 204) {
            return ::testing::AssertionFailure() << "status " << res.status << ": " << res.body;
        }
        if (!res.body.empty()) {
            return ::testing::AssertionFailure() << "204 with a body: " << res.body;
        }
        return ::testing::AssertionSuccess();
    }

    // PATCH operations.
    static json::object add_members(const Ids& ids, const char* op = "add") {
        return json::object{{"op", op}, {"path", "members"}, {"value", member_refs(ids)}};
    }
    static json::object replace_members(const Ids& ids) {
        return json::object{{"op", "replace"}, {"path", "members"}, {"value", member_refs(ids)}};
    }
    static json::object remove_member(const std::string& id, const char* op = "remove") {
        return json::object{{"op", op}, {"path", "members[value eq \"" + id + "\"]"}};
    }
    static json::object rename(const std::string& name) {
        return json::object{{"op", "replace"}, {"path", "displayName"}, {"value", name}};
    }

    /// The ids of a ListResponse, in order (and checks the envelope).
    static Ids ids_of(const HttpResponse& res) {
        const json::object o = res.json().as_object();
        EXPECT_EQ(o.at("schemas"), json::value(json::array{kListResponseSchema})) << res.body;
        Ids ids;
        for (const json::value& r : o.at("Resources").as_array()) {
            ids.emplace_back(r.at("id").as_string());
        }
        EXPECT_EQ(o.at("itemsPerPage").as_int64(), static_cast<std::int64_t>(ids.size()));
        return ids;
    }

    Ids ids_for(const std::string& target) {
        auto res = client().get(target);
        EXPECT_EQ(res.status, 200) << target << ": " << res.body;
        if (res.status != 200) {
            return {"<error>"};
        }
        return ids_of(res);
    }

    /// The ids of the groups a filter matches, sorted; totalResults must agree.
    Ids filtered(const std::string& filter) {
        auto res = client().get(groups_filter(filter));
        EXPECT_EQ(res.status, 200) << filter << ": " << res.body;
        if (res.status != 200) {
            return {"<error>"};
        }
        Ids ids = ids_of(res);
        EXPECT_EQ(res.json().at("totalResults").as_int64(), static_cast<std::int64_t>(ids.size()))
            << filter;
        return sorted(std::move(ids));
    }

    /// The ids of the users a filter matches, sorted.
    Ids users_matching(const std::string& filter) {
        auto res = client().get(users_filter(filter));
        EXPECT_EQ(res.status, 200) << filter << ": " << res.body;
        if (res.status != 200) {
            return {"<error>"};
        }
        return sorted(ids_of(res));
    }

    /// A user's read-only "groups" entries by group id; none when the key is absent or [].
    std::map<std::string, json::object> groups_of_user(const std::string& user_id) {
        std::map<std::string, json::object> out;
        auto res = client().get("/scim/v2/Users/" + user_id);
        EXPECT_EQ(res.status, 200) << res.body;
        if (res.status != 200) {
            return out;
        }
        const json::object u = res.json().as_object();
        const json::value* g = u.if_contains("groups");
        if (g == nullptr) {
            return out;
        }
        EXPECT_TRUE(g->is_array()) << res.body;
        if (!g->is_array()) {
            return out;
        }
        for (const json::value& e : g->as_array()) {
            out.emplace(std::string(e.at("value").as_string()), e.as_object());
        }
        return out;
    }

    /// A request with the headers Okta's SCIM client sends (idp-compat.md §2.1).
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
};

// --- create --------------------------------------------------------------------------------

// R-31: Okta's create ("members": []) answers 201 with the full group, Location and ETag.
TEST_P(Groups, CreateWithEmptyMembersReturns201AndFullGroup_R31) {
    auto res = client().post("/scim/v2/Groups",
                             R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                 "displayName":"Finance","members":[]})");
    ASSERT_EQ(res.status, 201) << res.body;
    EXPECT_EQ(res.header("content-type"), "application/scim+json; charset=utf-8");
    const json::object g = res.json().as_object();
    ASSERT_TRUE(g.contains("id")) << res.body;
    const std::string id(g.at("id").as_string());
    EXPECT_FALSE(id.empty());
    EXPECT_EQ(res.header("location"), std::string(kBaseUrl) + "/Groups/" + id);
    EXPECT_EQ(g.at("schemas"), json::value(json::array{kGroupSchema})) << res.body;
    EXPECT_EQ(g.at("displayName"), "Finance");
    EXPECT_FALSE(g.contains("externalId")) << res.body;
    EXPECT_EQ(member_ids(g), Ids{}) << res.body;
    ASSERT_TRUE(g.contains("meta")) << res.body;
    const json::object& meta = g.at("meta").as_object();
    EXPECT_EQ(meta.at("resourceType"), "Group");
    EXPECT_EQ(meta.at("location"), json::value(std::string(kBaseUrl) + "/Groups/" + id));
    EXPECT_TRUE(meta.at("created").is_string()) << res.body;
    EXPECT_TRUE(meta.at("lastModified").is_string()) << res.body;
    EXPECT_FALSE(res.header("etag").empty());
    EXPECT_EQ(meta.at("version"), json::value(res.header("etag")));

    // The group behind Location is the one created.
    auto got = client().get(group_target(id));
    ASSERT_EQ(got.status, 200) << got.body;
    const json::object stored = got.json().as_object();
    EXPECT_EQ(stored.at("id"), json::value(id));
    EXPECT_EQ(stored.at("displayName"), "Finance");
    EXPECT_EQ(member_ids(stored), Ids{}) << got.body;
    EXPECT_EQ(stored.at("meta").at("created"), meta.at("created"));
    EXPECT_EQ(stored.at("meta").at("version"), meta.at("version"));
}

// R-31: members given as objects (with Okta's display and Entra's "$ref": null) and as bare
// strings. Each comes back as {value, $ref, type, display}, ordered by id; display is the
// member's displayName, or a user's userName when it has none (what the client sent there is
// not kept).
TEST_P(Groups, CreateWithMembersAsObjectsAndBareStrings_R31) {
    const std::string ana = create_user(json::object{{"schemas", json::array{kUserSchema}},
                                                     {"userName", "ana.li@corp.example"},
                                                     {"displayName", "Ana Li"}});
    const std::string bo = create_user("bo.k@corp.example");
    const std::string cy = create_user("cy.ng@corp.example");
    ASSERT_FALSE(ana.empty() || bo.empty() || cy.empty());

    auto res = client().post(
        "/scim/v2/Groups",
        json::serialize(json::object{
            {"schemas", json::array{kGroupSchema}},
            {"displayName", "Finance"},
            {"externalId", "ext-finance"},
            {"members",
             json::array{json::object{
                             {"value", ana}, {"display", "ana.li@corp.example"}, {"$ref", nullptr}},
                         json::object{{"value", bo}, {"display", "Someone Else"}}, cy}}}));
    ASSERT_EQ(res.status, 201) << res.body;
    const json::object g = res.json().as_object();
    const std::string id(g.at("id").as_string());
    EXPECT_EQ(g.at("externalId"), "ext-finance");
    EXPECT_EQ(g.at("displayName"), "Finance");

    // std::map iterates by id: the order the members must come in.
    const std::map<std::string, std::string> display{
        {ana, "Ana Li"}, {bo, "bo.k@corp.example"}, {cy, "cy.ng@corp.example"}};
    json::array expected;
    for (const auto& [member_id, name] : display) {
        expected.emplace_back(user_member(member_id, name));
    }
    ASSERT_TRUE(g.contains("members")) << res.body;
    EXPECT_EQ(g.at("members"), json::value(expected)) << res.body;

    const json::object stored = get_group(id);
    ASSERT_TRUE(stored.contains("members")) << json::serialize(stored);
    EXPECT_EQ(stored.at("members"), json::value(expected)) << json::serialize(stored);
    EXPECT_EQ(stored.at("externalId"), "ext-finance");
}

// R-26, R-28, R-31: Entra's create — an unknown extra schema URN, meta.resourceType, an
// externalId and no members at all.
TEST_P(Groups, CreateAcceptsEntraShapeWithoutMembers_R26_R28_R31) {
    auto res = client().post("/scim/v2/Groups", R"({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
                    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
        "externalId": "5b1e9a3c-8f2d-4e7a-b0c4-11aa22bb33cc",
        "displayName": "Finance",
        "meta": {"resourceType": "Group"}})");
    ASSERT_EQ(res.status, 201) << res.body;
    const json::object g = res.json().as_object();
    const std::string id(g.at("id").as_string());
    EXPECT_NE(id, "5b1e9a3c-8f2d-4e7a-b0c4-11aa22bb33cc");
    EXPECT_EQ(g.at("displayName"), "Finance");
    EXPECT_EQ(g.at("externalId"), "5b1e9a3c-8f2d-4e7a-b0c4-11aa22bb33cc");
    EXPECT_EQ(member_ids(g), Ids{}) << res.body;
    const json::array& schemas = g.at("schemas").as_array();
    EXPECT_NE(std::find(schemas.begin(), schemas.end(), json::value(kGroupSchema)), schemas.end())
        << res.body;
    EXPECT_EQ(g.at("meta").at("resourceType"), "Group");
    EXPECT_TRUE(g.at("meta").at("created").is_string()) << res.body;
    EXPECT_EQ(res.header("location"), std::string(kBaseUrl) + "/Groups/" + id);
}

// R-31: displayName is unique per organization, compared case-insensitively: 409 uniqueness,
// for a create and for a rename onto a taken name; nothing changes.
TEST_P(Groups, DisplayNameIsUniqueCaseInsensitively_R31) {
    const std::string finance = create_group("Finance");
    ASSERT_FALSE(finance.empty());
    for (const char* taken : {"Finance", "finance", "FINANCE"}) {
        SCOPED_TRACE(taken);
        expect_scim_error(client().post("/scim/v2/Groups", json::serialize(group_body(taken, {}))),
                          409, "uniqueness");
    }
    EXPECT_EQ(ids_for("/scim/v2/Groups"), Ids{finance});

    const std::string hr = create_group("HR");
    ASSERT_FALSE(hr.empty());
    expect_scim_error(patch_group(hr, json::array{rename("fINANCE")}), 409, "uniqueness");
    expect_scim_error(client().put(group_target(hr), json::serialize(group_body("finance", {}))),
                      409, "uniqueness");
    EXPECT_EQ(get_group(hr).at("displayName"), "HR");
    EXPECT_EQ(get_group(finance).at("displayName"), "Finance");
}

// RFC 7643 §4.1: displayName is required; without it the create is a 400 and creates nothing.
TEST_P(Groups, CreateWithoutDisplayNameIs400) {
    expect_scim_error(client().post("/scim/v2/Groups",
                                    R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                        "members":[]})"),
                      400);
    expect_scim_error(client().post("/scim/v2/Groups",
                                    R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                        "externalId":"no-name"})"),
                      400);
    auto all = client().get("/scim/v2/Groups");
    ASSERT_EQ(all.status, 200) << all.body;
    EXPECT_EQ(all.json().at("totalResults"), 0);
}

// An unknown member id in a create is 400 invalidValue naming the id; no group is created.
TEST_P(Groups, CreateWithUnknownMemberIs400InvalidValueAndCreatesNothing) {
    const std::string ana = create_user("ana.li@corp.example");
    ASSERT_FALSE(ana.empty());
    auto res =
        client().post("/scim/v2/Groups", json::serialize(group_body("Finance", {ana, kUnknownId})));
    expect_scim_error(res, 400, "invalidValue");
    EXPECT_NE(res.body.find(kUnknownId), std::string::npos) << res.body;
    EXPECT_EQ(ids_for("/scim/v2/Groups"), Ids{});
    EXPECT_EQ(filtered("members.value eq \"" + ana + "\""), Ids{});
    // The name was not taken by the failed create.
    const std::string gid = create_group("Finance", {ana});
    ASSERT_FALSE(gid.empty());
    EXPECT_EQ(members_of(gid), Ids{ana});
}

// --- read ----------------------------------------------------------------------------------

// R-19: excludedAttributes=members (Entra sends it on every group read) drops the members, on
// GET /Groups/{id} and on GET /Groups; attributes=displayName narrows to it plus id/schemas.
TEST_P(Groups, ExcludedAttributesMembersAndAttributes_R19) {
    const std::string ana = create_user("ana.li@corp.example");
    const std::string gid = create_group("Finance", {ana});
    ASSERT_FALSE(gid.empty());
    EXPECT_EQ(members_of(gid), Ids{ana});

    const json::object excluded = get_group(gid, "?excludedAttributes=members");
    EXPECT_FALSE(excluded.contains("members")) << json::serialize(excluded);
    EXPECT_EQ(excluded.at("id"), json::value(gid));
    EXPECT_EQ(excluded.at("displayName"), "Finance");

    const json::object only = get_group(gid, "?attributes=displayName");
    const std::set<std::string> allowed{"schemas", "id", "displayName", "meta"};
    for (const auto& kv : only) {
        EXPECT_EQ(allowed.count(std::string(kv.key())), 1U)
            << kv.key() << " in " << json::serialize(only);
    }
    EXPECT_TRUE(only.contains("schemas")) << json::serialize(only);
    EXPECT_EQ(only.at("id"), json::value(gid));
    EXPECT_EQ(only.at("displayName"), "Finance");

    // The same on the list, as Entra's matching query asks it.
    auto listed =
        client().get(groups_filter(R"(displayName eq "Finance")", "&excludedAttributes=members"));
    ASSERT_EQ(listed.status, 200) << listed.body;
    const json::object l = listed.json().as_object();
    ASSERT_EQ(l.at("totalResults"), 1) << listed.body;
    const json::object first = l.at("Resources").at(0).as_object();
    EXPECT_EQ(first.at("id"), json::value(gid));
    EXPECT_EQ(first.at("displayName"), "Finance");
    EXPECT_FALSE(first.contains("members")) << listed.body;

    auto narrowed = client().get("/scim/v2/Groups?attributes=displayName");
    ASSERT_EQ(narrowed.status, 200) << narrowed.body;
    const json::object n = narrowed.json().at("Resources").at(0).as_object();
    EXPECT_EQ(n.at("displayName"), "Finance");
    EXPECT_FALSE(n.contains("members")) << narrowed.body;
}

// R-20: ids that name no group (Ping probes with "0"; a user's id is not a group's) are 404.
TEST_P(Groups, UnknownGroupIdIs404_R20) {
    expect_scim_error(client().get("/scim/v2/Groups/0"), 404);
    expect_scim_error(client().get(group_target(kUnknownId)), 404);
    const std::string ana = create_user("ana.li@corp.example");
    ASSERT_FALSE(ana.empty());
    expect_scim_error(client().get(group_target(ana)), 404);
}

// R-20, R-72: another organization's groups answer like unknown ids and are never listed; its
// users are unknown member ids here; displayName is unique only within an organization.
TEST_P(Groups, OtherOrganizationsGroupsAreInvisible_R20_R72) {
    const std::string ana = create_user("ana.li@corp.example");
    const std::string gid = create_group("Finance", {ana});
    ASSERT_FALSE(gid.empty());
    auto other = make_client(make_token(make_org("globex")));

    expect_scim_error(other->get(group_target(gid)), 404);
    expect_scim_error(other->patch(group_target(gid), patch_body(json::array{rename("Hijacked")})),
                      404);
    expect_scim_error(other->del(group_target(gid)), 404);
    auto all = other->get("/scim/v2/Groups");
    ASSERT_EQ(all.status, 200) << all.body;
    EXPECT_EQ(all.json().at("totalResults"), 0);
    auto by_member = other->get(groups_filter("members.value eq \"" + ana + "\""));
    ASSERT_EQ(by_member.status, 200) << by_member.body;
    EXPECT_EQ(by_member.json().at("totalResults"), 0);

    // The same name is free in the other organization; this organization's user is not.
    auto same_name = other->post("/scim/v2/Groups", json::serialize(group_body("Finance", Ids{})));
    EXPECT_EQ(same_name.status, 201) << same_name.body;
    auto foreign_member =
        other->post("/scim/v2/Groups", json::serialize(group_body("Sales", {ana})));
    expect_scim_error(foreign_member, 400, "invalidValue");
    EXPECT_NE(foreign_member.body.find(ana), std::string::npos) << foreign_member.body;

    // Nothing the other organization tried changed the group.
    const json::object mine = get_group(gid);
    EXPECT_EQ(mine.at("displayName"), "Finance");
    EXPECT_EQ(member_ids(mine), Ids{ana});
}

// --- list and filter -----------------------------------------------------------------------

// R-24: an unfiltered list returns every group (PingFederate, Okta import, JumpCloud), also
// paged as Okta asks (startIndex=1&count=100), in a stable order across pages.
TEST_P(Groups, ListWithoutFilter_R24) {
    const std::string ana = create_user("ana.li@corp.example");
    const std::string finance = create_group("Finance", {ana});
    const std::string hr = create_group("HR");
    const std::string sales = create_group("Sales");
    ASSERT_FALSE(finance.empty() || hr.empty() || sales.empty());
    const Ids all = sorted(Ids{finance, hr, sales});

    auto res = client().get("/scim/v2/Groups");
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.header("content-type"), "application/scim+json; charset=utf-8");
    const json::object o = res.json().as_object();
    ASSERT_TRUE(o.at("totalResults").is_int64()) << res.body;
    EXPECT_EQ(o.at("totalResults"), 3);
    EXPECT_EQ(o.at("startIndex"), 1);
    EXPECT_EQ(o.at("itemsPerPage"), 3);
    EXPECT_EQ(sorted(ids_of(res)), all);
    for (const json::value& r : o.at("Resources").as_array()) {
        EXPECT_EQ(r.at("meta").at("resourceType"), "Group") << res.body;
        EXPECT_TRUE(r.at("displayName").is_string()) << res.body;
    }

    auto okta_page = client().get("/scim/v2/Groups?startIndex=1&count=100");
    ASSERT_EQ(okta_page.status, 200) << okta_page.body;
    EXPECT_EQ(okta_page.json().at("totalResults"), 3);
    EXPECT_EQ(sorted(ids_of(okta_page)), all);

    // Pages of 2 walk the same order as the whole list.
    const Ids whole = ids_for("/scim/v2/Groups");
    Ids paged = ids_for("/scim/v2/Groups?startIndex=1&count=2");
    const Ids second = ids_for("/scim/v2/Groups?startIndex=3&count=2");
    paged.insert(paged.end(), second.begin(), second.end());
    EXPECT_EQ(paged, whole);
    auto page = client().get("/scim/v2/Groups?startIndex=2&count=2");
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_EQ(page.json().at("totalResults"), 3);
    EXPECT_EQ(page.json().at("startIndex"), 2);
    EXPECT_EQ(page.json().at("itemsPerPage"), 2);
    auto past = client().get("/scim/v2/Groups?startIndex=4&count=100");
    ASSERT_EQ(past.status, 200) << past.body;
    EXPECT_EQ(past.json().at("totalResults"), 3);
    EXPECT_EQ(past.json().at("Resources"), json::value(json::array{}));
}

// R-13: the matching attributes of groups — displayName (case-insensitive value), externalId,
// id; R-15: keywords in any case; R-18: no match is 200 with an empty ListResponse.
TEST_P(Groups, FilterByDisplayNameExternalIdAndId_R13_R18) {
    const std::string finance = create_group(json::object{{"schemas", json::array{kGroupSchema}},
                                                          {"displayName", "Finance"},
                                                          {"externalId", "ext-fin"}});
    const std::string hr = create_group(json::object{
        {"schemas", json::array{kGroupSchema}}, {"displayName", "HR"}, {"externalId", "ext-hr"}});
    ASSERT_FALSE(finance.empty() || hr.empty());

    EXPECT_EQ(filtered(R"(displayName eq "Finance")"), Ids{finance});
    EXPECT_EQ(filtered(R"(displayName eq "FINANCE")"), Ids{finance});
    EXPECT_EQ(filtered(R"(DisplayName EQ "finance")"), Ids{finance});
    EXPECT_EQ(filtered(R"(displayName eq "Fin")"), Ids{});
    EXPECT_EQ(filtered(R"(externalId eq "ext-hr")"), Ids{hr});
    EXPECT_EQ(filtered("id eq \"" + hr + "\""), Ids{hr});
    EXPECT_EQ(filtered("id eq \"" + std::string(kUnknownId) + "\""), Ids{});

    auto none = client().get(groups_filter(R"(displayName eq "Marketing")"));
    ASSERT_EQ(none.status, 200) << none.body;
    const json::value expected =
        json::parse(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]})");
    EXPECT_EQ(none.json(), expected) << none.body;
}

// R-13, R-14: membership lookups — members.value and members[value eq …] find the groups that
// contain the member directly; `id eq … and members[value eq …]` is the membership check some
// IdPs make (1 result when a member, 0 otherwise).
TEST_P(Groups, FilterByMembers_R13_R14) {
    const std::string ana = create_user("ana.li@corp.example");
    const std::string bo = create_user("bo.k@corp.example");
    const std::string cy = create_user("cy.ng@corp.example");
    const std::string finance = create_group("Finance", {ana, bo});
    const std::string hr = create_group("HR", {bo});
    const std::string staff = create_group("All Staff", {finance});
    ASSERT_FALSE(finance.empty() || hr.empty() || staff.empty());

    EXPECT_EQ(filtered("members.value eq \"" + ana + "\""), Ids{finance});  // not All Staff
    EXPECT_EQ(filtered("members.value eq \"" + bo + "\""), sorted(Ids{finance, hr}));
    EXPECT_EQ(filtered("members[value eq \"" + bo + "\"]"), sorted(Ids{finance, hr}));
    EXPECT_EQ(filtered("members[value eq \"" + ana + "\"]"), Ids{finance});
    EXPECT_EQ(filtered("members.value eq \"" + cy + "\""), Ids{});
    EXPECT_EQ(filtered("members.value eq \"" + finance + "\""), Ids{staff});

    EXPECT_EQ(filtered("id eq \"" + hr + "\" and members[value eq \"" + bo + "\"]"), Ids{hr});
    EXPECT_EQ(filtered("id eq \"" + hr + "\" and members[value eq \"" + ana + "\"]"), Ids{});
    EXPECT_EQ(filtered("id eq \"" + finance + "\" and members[value eq \"" + ana + "\"]"),
              Ids{finance});
}

// RFC 7644 §3.4.3 and §3.4.2.3: POST /Groups/.search and sortBy=displayName.
TEST_P(Groups, PostSearchAndSortByDisplayName) {
    const std::string charlie = create_group("Charlie");
    const std::string alpha = create_group("Alpha");
    const std::string bravo = create_group("Bravo");
    ASSERT_FALSE(charlie.empty() || alpha.empty() || bravo.empty());

    auto res =
        client().post("/scim/v2/Groups/.search",
                      json::serialize(json::object{{"schemas", json::array{kSearchRequestSchema}},
                                                   {"filter", R"(displayName eq "Bravo")"}}));
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.json().at("totalResults"), 1);
    EXPECT_EQ(ids_of(res), Ids{bravo});

    EXPECT_EQ(ids_for("/scim/v2/Groups?sortBy=displayName"), (Ids{alpha, bravo, charlie}));
    EXPECT_EQ(ids_for("/scim/v2/Groups?sortBy=displayName&sortOrder=descending"),
              (Ids{charlie, bravo, alpha}));
}

// --- PATCH (always 204, R-47) --------------------------------------------------------------

// R-47, R-48: add answers 204 without a body; adding members that are already there is fine
// and does not duplicate them; a bare string id is a member too.
TEST_P(Groups, PatchAddMembers_R47_R48) {
    const std::string ana = create_user("ana.li@corp.example");
    const std::string bo = create_user("bo.k@corp.example");
    const std::string cy = create_user("cy.ng@corp.example");
    const std::string dee = create_user("dee.o@corp.example");
    const std::string gid = create_group("Finance");
    ASSERT_FALSE(gid.empty());

    ASSERT_TRUE(no_content(patch_group(gid, json::array{add_members({ana, bo})})));
    EXPECT_EQ(members_of(gid), sorted(Ids{ana, bo}));

    ASSERT_TRUE(no_content(patch_group(gid, json::array{add_members({bo, cy})})));
    EXPECT_EQ(members_of(gid), sorted(Ids{ana, bo, cy}));

    // All of them already members (R-48).
    ASSERT_TRUE(no_content(patch_group(gid, json::array{add_members({ana, bo, cy})})));
    EXPECT_EQ(members_of(gid), sorted(Ids{ana, bo, cy}));

    ASSERT_TRUE(no_content(
        patch_group(gid, json::array{json::object{
                             {"op", "add"}, {"path", "members"}, {"value", json::array{dee}}}})));
    const json::object g = get_group(gid);
    EXPECT_EQ(member_ids(g), sorted(Ids{ana, bo, cy, dee}));
    EXPECT_EQ(g.at("displayName"), "Finance");
}

// R-42, the production incident: Entra's "Remove" with a value array removes only the listed
// members, never the whole group.
TEST_P(Groups, EntraRemoveWithValueArrayRemovesOnlyThoseMembers_R42) {
    const std::string ana = create_user("ana.li@corp.example");
    const std::string bo = create_user("bo.k@corp.example");
    const std::string cy = create_user("cy.ng@corp.example");
    const std::string gid = create_group("Finance", {ana, bo, cy});
    ASSERT_FALSE(gid.empty());
    ASSERT_EQ(members_of(gid), sorted(Ids{ana, bo, cy}));

    ASSERT_TRUE(no_content(patch_group(
        gid, json::array{json::object{{"op", "Remove"},
                                      {"path", "members"},
                                      {"value", json::array{json::object{{"value", bo}}}}}})));
    const Ids remaining = members_of(gid);
    EXPECT_EQ(remaining.size(), 2U);
    EXPECT_EQ(remaining, sorted(Ids{ana, cy}));

    // Two listed at once, one of them no longer a member (R-48): only cy goes.
    ASSERT_TRUE(no_content(patch_group(
        gid, json::array{json::object{
                 {"op", "Remove"}, {"path", "members"}, {"value", member_refs({cy, bo})}}})));
    EXPECT_EQ(members_of(gid), Ids{ana});
    // The removed users themselves are untouched.
    EXPECT_EQ(client().get("/scim/v2/Users/" + bo).status, 200);
    EXPECT_EQ(client().get("/scim/v2/Users/" + cy).status, 200);
}

// R-43, R-48: remove by members[value eq "…"] removes that member; removing one that is not a
// member (again) is a 204 that changes nothing.
TEST_P(Groups, RemoveByValueFilterPath_R43_R48) {
    const std::string ana = create_user("ana.li@corp.example");
    const std::string bo = create_user("bo.k@corp.example");
    const std::string cy = create_user("cy.ng@corp.example");
    const std::string gid = create_group("Finance", {ana, bo});
    ASSERT_FALSE(gid.empty());

    ASSERT_TRUE(no_content(patch_group(gid, json::array{remove_member(ana)})));
    EXPECT_EQ(members_of(gid), Ids{bo});
    ASSERT_TRUE(no_content(patch_group(gid, json::array{remove_member(ana)})));
    EXPECT_EQ(members_of(gid), Ids{bo});
    ASSERT_TRUE(no_content(patch_group(gid, json::array{remove_member(cy, "Remove")})));
    EXPECT_EQ(members_of(gid), Ids{bo});
}

// idp-compat.md §2.1 step 3: Okta's membership delta removes one member by filter and adds
// another in the same request.
TEST_P(Groups, OktaRemoveAndAddInOneRequest) {
    const std::string ana = create_user("ana.li@corp.example");
    const std::string bo = create_user("bo.k@corp.example");
    const std::string cy = create_user("cy.ng@corp.example");
    const std::string gid = create_group("Finance", {ana, bo});
    ASSERT_FALSE(gid.empty());

    ASSERT_TRUE(no_content(patch_group(
        gid, json::array{remove_member(ana),
                         json::object{
                             {"op", "add"},
                             {"path", "members"},
                             {"value", json::array{json::object{
                                           {"value", cy}, {"display", "cy.ng@corp.example"}}}}}})));
    EXPECT_EQ(members_of(gid), sorted(Ids{bo, cy}));
}

// R-44: replace on members sets exactly the given members; an empty array empties the group.
TEST_P(Groups, ReplaceMembersSetsThemExactly_R44) {
    const std::string ana = create_user("ana.li@corp.example");
    const std::string bo = create_user("bo.k@corp.example");
    const std::string cy = create_user("cy.ng@corp.example");
    const std::string gid = create_group("Finance", {ana, bo});
    ASSERT_FALSE(gid.empty());

    ASSERT_TRUE(no_content(patch_group(gid, json::array{replace_members({bo, cy})})));
    EXPECT_EQ(members_of(gid), sorted(Ids{bo, cy}));
    ASSERT_TRUE(no_content(patch_group(gid, json::array{replace_members({})})));
    EXPECT_EQ(members_of(gid), Ids{});
    ASSERT_TRUE(no_content(patch_group(gid, json::array{replace_members({ana})})));
    const json::object g = get_group(gid);
    EXPECT_EQ(member_ids(g), Ids{ana});
    EXPECT_EQ(g.at("displayName"), "Finance");
}

// R-37: path-less operations whose value holds members — replace (Okta's "push now" variant)
// sets them, add adds to them.
TEST_P(Groups, PathlessReplaceAndAddMembers_R37) {
    const std::string ana = create_user("ana.li@corp.example");
    const std::string bo = create_user("bo.k@corp.example");
    const std::string cy = create_user("cy.ng@corp.example");
    const std::string gid = create_group("Finance", {bo, cy});
    ASSERT_FALSE(gid.empty());

    ASSERT_TRUE(no_content(patch_group(
        gid, json::array{json::object{{"op", "replace"},
                                      {"value", json::object{{"members", member_refs({ana})}}}}})));
    EXPECT_EQ(members_of(gid), Ids{ana});

    ASSERT_TRUE(no_content(patch_group(
        gid, json::array{json::object{
                 {"op", "add"}, {"value", json::object{{"members", member_refs({bo, cy})}}}}})));
    const json::object g = get_group(gid);
    EXPECT_EQ(member_ids(g), sorted(Ids{ana, bo, cy}));
    EXPECT_EQ(g.at("displayName"), "Finance");
}

// RFC 7644 §3.5.2.2: remove with path "members" and no value empties the group (the only form
// of remove that may; see R-42).
TEST_P(Groups, RemoveMembersWithoutValueEmptiesGroup) {
    const std::string ana = create_user("ana.li@corp.example");
    const std::string bo = create_user("bo.k@corp.example");
    const std::string gid = create_group("Finance", {ana, bo});
    ASSERT_FALSE(gid.empty());

    ASSERT_TRUE(no_content(
        patch_group(gid, json::array{json::object{{"op", "remove"}, {"path", "members"}}})));
    const json::object g = get_group(gid);
    EXPECT_EQ(member_ids(g), Ids{});
    EXPECT_EQ(g.at("displayName"), "Finance");
    EXPECT_EQ(client().get("/scim/v2/Users/" + ana).status, 200);
}

// R-37, R-48: renames — Entra's "Replace" with a path, and Okta's path-less replace whose value
// carries the group's id (ignored); sending the same rename twice is fine; members are kept.
TEST_P(Groups, RenameByPathAndPathless_R37_R48) {
    const std::string ana = create_user("ana.li@corp.example");
    const std::string gid = create_group("Finance", {ana});
    ASSERT_FALSE(gid.empty());

    ASSERT_TRUE(no_content(patch_group(
        gid, json::array{json::object{
                 {"op", "Replace"}, {"path", "displayName"}, {"value", "Finance & Treasury"}}})));
    const json::object renamed = get_group(gid);
    EXPECT_EQ(renamed.at("displayName"), "Finance & Treasury");
    EXPECT_EQ(member_ids(renamed), Ids{ana});
    EXPECT_EQ(filtered(R"(displayName eq "Finance & Treasury")"), Ids{gid});
    EXPECT_EQ(filtered(R"(displayName eq "Finance")"), Ids{});

    const json::array okta_rename{json::object{
        {"op", "replace"}, {"value", json::object{{"id", gid}, {"displayName", "Finance EMEA"}}}}};
    for (int i = 0; i < 2; ++i) {
        SCOPED_TRACE(i);
        ASSERT_TRUE(no_content(patch_group(gid, okta_rename)));
        const json::object g = get_group(gid);
        EXPECT_EQ(g.at("id"), json::value(gid));
        EXPECT_EQ(g.at("displayName"), "Finance EMEA");
        EXPECT_EQ(member_ids(g), Ids{ana});
    }
    // The old names are free again.
    EXPECT_FALSE(create_group("Finance").empty());
    EXPECT_FALSE(create_group("Finance & Treasury").empty());
}

// RFC 7644 §3.14: each PATCH that changes the group moves meta.version (= ETag); a stale
// If-Match is 412 and applies nothing; the current one is applied.
TEST_P(Groups, PatchMovesVersionAndStaleIfMatchIs412) {
    const std::string ana = create_user("ana.li@corp.example");
    const std::string bo = create_user("bo.k@corp.example");
    auto created = client().post("/scim/v2/Groups", json::serialize(group_body("Finance", Ids{})));
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string gid(created.json().at("id").as_string());
    const std::string target = group_target(gid);
    const std::string v0 = created.header("etag");
    ASSERT_FALSE(v0.empty());
    EXPECT_EQ(version_of(gid), v0);

    ASSERT_TRUE(no_content(patch_group(gid, json::array{add_members({ana})})));
    const std::string v1 = version_of(gid);
    EXPECT_NE(v1, v0);
    auto got = client().get(target);
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(got.header("etag"), v1);

    ASSERT_TRUE(no_content(patch_group(gid, json::array{rename("Finance EMEA")})));
    const std::string v2 = version_of(gid);
    EXPECT_NE(v2, v1);
    EXPECT_NE(v2, v0);

    ASSERT_TRUE(no_content(patch_group(gid, json::array{remove_member(ana)})));
    const std::string v3 = version_of(gid);
    EXPECT_NE(v3, v2);
    EXPECT_NE(v3, v1);

    // Stale: nothing applied, the version stays.
    expect_scim_error(client().request("PATCH", target, patch_body(json::array{add_members({bo})}),
                                       {{"If-Match", v1}}),
                      412);
    EXPECT_EQ(members_of(gid), Ids{});
    EXPECT_EQ(version_of(gid), v3);

    // Current: applied.
    ASSERT_TRUE(no_content(client().request(
        "PATCH", target, patch_body(json::array{add_members({bo})}), {{"If-Match", v3}})));
    EXPECT_EQ(members_of(gid), Ids{bo});
    EXPECT_NE(version_of(gid), v3);
}

// Unknown member ids in a PATCH or PUT are 400 invalidValue naming the id, and nothing of the
// request is applied: not the valid members beside it, not its other operations.
TEST_P(Groups, UnknownMemberIdsAre400AndNothingIsApplied) {
    const std::string ana = create_user("ana.li@corp.example");
    const std::string bo = create_user("bo.k@corp.example");
    const std::string gid = create_group("Finance", {ana});
    ASSERT_FALSE(gid.empty());
    const std::string v0 = version_of(gid);

    const auto expect_rejected = [&](const HttpResponse& res) {
        expect_scim_error(res, 400, "invalidValue");
        EXPECT_NE(res.body.find(kUnknownId), std::string::npos) << res.body;
        const json::object g = get_group(gid);
        EXPECT_EQ(g.at("displayName"), "Finance");
        EXPECT_EQ(member_ids(g), Ids{ana});
        EXPECT_EQ(g.at("meta").at("version"), json::value(v0));
    };
    {
        SCOPED_TRACE("one add with a valid and an unknown id");
        expect_rejected(patch_group(gid, json::array{add_members({bo, kUnknownId})}));
    }
    {
        SCOPED_TRACE("a valid add, then an add of an unknown id");
        expect_rejected(
            patch_group(gid, json::array{add_members({bo}), add_members({kUnknownId}, "Add")}));
    }
    {
        SCOPED_TRACE("a rename and an add of an unknown id");
        expect_rejected(
            patch_group(gid, json::array{rename("Finance EMEA"), add_members({kUnknownId})}));
    }
    {
        SCOPED_TRACE("replace with an unknown id");
        expect_rejected(patch_group(gid, json::array{replace_members({bo, kUnknownId})}));
    }
    {
        SCOPED_TRACE("path-less add with an unknown id");
        expect_rejected(patch_group(
            gid, json::array{json::object{
                     {"op", "add"},
                     {"value", json::object{{"members", member_refs({bo, kUnknownId})}}}}}));
    }
    {
        SCOPED_TRACE("PUT with an unknown id");
        expect_rejected(client().put(
            group_target(gid), json::serialize(group_body("Finance EMEA", {bo, kUnknownId}))));
    }
}

// --- PUT and DELETE ------------------------------------------------------------------------

// R-34: PUT replaces displayName and members and answers 200 with the group; Okta AIW echoes
// the whole group back (id, meta, full member objects).
TEST_P(Groups, PutReplacesDisplayNameAndMembers_R34) {
    const std::string ana = create_user("ana.li@corp.example");
    const std::string bo = create_user("bo.k@corp.example");
    const std::string cy = create_user("cy.ng@corp.example");
    const std::string gid = create_group("Finance", {ana, bo});
    ASSERT_FALSE(gid.empty());
    const json::object before = get_group(gid);
    ASSERT_TRUE(before.contains("meta"));

    auto put =
        client().put(group_target(gid), json::serialize(group_body("Finance EMEA", {bo, cy})));
    ASSERT_EQ(put.status, 200) << put.body;
    const json::object p = put.json().as_object();
    EXPECT_EQ(p.at("id"), json::value(gid));
    EXPECT_EQ(p.at("displayName"), "Finance EMEA");
    EXPECT_EQ(member_ids(p), sorted(Ids{bo, cy})) << put.body;
    EXPECT_EQ(p.at("meta").at("resourceType"), "Group");
    EXPECT_EQ(p.at("meta").at("created"), before.at("meta").at("created"));
    EXPECT_NE(p.at("meta").at("version"), before.at("meta").at("version"));
    const json::object stored = get_group(gid);
    EXPECT_EQ(stored.at("displayName"), "Finance EMEA");
    EXPECT_EQ(member_ids(stored), sorted(Ids{bo, cy}));

    // The whole group echoed back, cy dropped and ana added.
    json::object echo = stored;
    json::array kept;
    for (const json::value& m : stored.at("members").as_array()) {
        if (m.at("value") != json::value(cy)) {
            kept.push_back(m);
        }
    }
    kept.emplace_back(json::object{{"value", ana}, {"display", "ana.li@corp.example"}});
    echo["members"] = std::move(kept);
    echo["displayName"] = "Finance";
    auto put2 = client().put(group_target(gid), json::serialize(echo));
    ASSERT_EQ(put2.status, 200) << put2.body;
    const json::object p2 = put2.json().as_object();
    EXPECT_EQ(p2.at("id"), json::value(gid));
    EXPECT_EQ(p2.at("displayName"), "Finance");
    EXPECT_EQ(member_ids(p2), sorted(Ids{ana, bo})) << put2.body;
    EXPECT_EQ(members_of(gid), sorted(Ids{ana, bo}));
}

// R-54: DELETE answers 204 without a body; the group is gone (404), its members are not, and
// its name is free again.
TEST_P(Groups, DeleteThenGetIs404_R54) {
    const std::string ana = create_user("ana.li@corp.example");
    const std::string gid = create_group("Finance", {ana});
    ASSERT_FALSE(gid.empty());

    auto del = client().del(group_target(gid));
    EXPECT_EQ(del.status, 204) << del.body;
    EXPECT_TRUE(del.body.empty()) << del.body;
    expect_scim_error(client().get(group_target(gid)), 404);
    EXPECT_EQ(ids_for("/scim/v2/Groups"), Ids{});
    EXPECT_EQ(filtered(R"(displayName eq "Finance")"), Ids{});
    EXPECT_EQ(filtered("members.value eq \"" + ana + "\""), Ids{});
    EXPECT_EQ(client().get("/scim/v2/Users/" + ana).status, 200);

    const std::string again = create_group("Finance");
    EXPECT_FALSE(again.empty());
    EXPECT_NE(again, gid);
}

// --- nested groups -------------------------------------------------------------------------

// A Group id is a member like a User id: the server finds the type and returns
// "type": "Group", a /Groups/ $ref and the group's displayName.
// R-64: a whole membership comes in one request, so Groups take bodies of up to 10 MiB while
// Users keep the 1 MiB limit. 40,000 members (almost 2 MB) pass the limit and are checked:
// all unknown here, so the answer is 400 naming them, not 413. Above 10 MiB it is 413.
TEST_P(Groups, GroupBodiesMayBeLargerThanUserBodies_R64) {
    json::array members;
    for (int i = 0; i < 40000; ++i) {
        members.push_back(
            json::object{{"value", "00000000-0000-4000-8000-" + std::to_string(100000000000 + i)}});
    }
    const std::string body = json::serialize(json::object{
        {"schemas", json::array{kGroupSchema}}, {"displayName", "Big"}, {"members", members}});
    ASSERT_GT(body.size(), 1024U * 1024U);
    const auto res = client().post("/scim/v2/Groups", body);
    expect_scim_error(res, 400, "invalidValue");
    EXPECT_NE(res.body.find("00000000-0000-4000-8000-1"), std::string::npos)
        << res.body.substr(0, 300);
    EXPECT_EQ(client().request_head_only("POST", "/scim/v2/Users", 2 * 1024 * 1024).status, 413);
    EXPECT_EQ(client().request_head_only("PUT", "/scim/v2/Groups/0", 11 * 1024 * 1024).status, 413);
}

TEST_P(Groups, GroupAsMemberIsTypedGroup) {
    const std::string ana = create_user(json::object{{"schemas", json::array{kUserSchema}},
                                                     {"userName", "ana.li@corp.example"},
                                                     {"displayName", "Ana Li"}});
    const std::string team = create_group("Treasury Team", {ana});
    ASSERT_FALSE(team.empty());
    const std::string parent = create_group("Finance", {team, ana});
    ASSERT_FALSE(parent.empty());

    std::map<std::string, json::object> by_id{{team, group_member(team, "Treasury Team")},
                                              {ana, user_member(ana, "Ana Li")}};
    json::array expected;
    for (const auto& entry : by_id) {
        expected.emplace_back(entry.second);
    }
    const json::object g = get_group(parent);
    ASSERT_TRUE(g.contains("members")) << json::serialize(g);
    EXPECT_EQ(g.at("members"), json::value(expected)) << json::serialize(g);

    // Added by PATCH as well.
    const std::string audit = create_group("Audit");
    ASSERT_FALSE(audit.empty());
    ASSERT_TRUE(no_content(patch_group(parent, json::array{add_members({audit})})));
    by_id.emplace(audit, group_member(audit, "Audit"));
    json::array expected2;
    for (const auto& entry : by_id) {
        expected2.emplace_back(entry.second);
    }
    EXPECT_EQ(get_group(parent).at("members"), json::value(expected2));
}

// A group cannot contain itself: 400 invalidValue by every route, nothing changed.
TEST_P(Groups, GroupCannotBeItsOwnMember) {
    const std::string ana = create_user("ana.li@corp.example");
    const std::string gid = create_group("Finance", {ana});
    ASSERT_FALSE(gid.empty());

    expect_scim_error(patch_group(gid, json::array{add_members({gid})}), 400, "invalidValue");
    expect_scim_error(patch_group(gid, json::array{replace_members({ana, gid})}), 400,
                      "invalidValue");
    expect_scim_error(
        client().put(group_target(gid), json::serialize(group_body("Finance", {gid}))), 400,
        "invalidValue");
    const json::object g = get_group(gid);
    EXPECT_EQ(member_ids(g), Ids{ana});
    EXPECT_EQ(g.at("displayName"), "Finance");
}

// A membership cycle (A ⊃ B, then B += A; or through a longer chain) is 400 invalidValue and
// changes nothing; a diamond (two paths to the same group) is not a cycle.
TEST_P(Groups, MembershipCycleIsRejected) {
    const std::string a = create_group("A");
    const std::string b = create_group("B");
    const std::string c = create_group("C");
    ASSERT_FALSE(a.empty() || b.empty() || c.empty());

    ASSERT_TRUE(no_content(patch_group(a, json::array{add_members({b})})));
    expect_scim_error(patch_group(b, json::array{add_members({a})}), 400, "invalidValue");
    EXPECT_EQ(members_of(b), Ids{});
    EXPECT_EQ(members_of(a), Ids{b});

    ASSERT_TRUE(no_content(patch_group(b, json::array{add_members({c})})));
    expect_scim_error(patch_group(c, json::array{add_members({a})}), 400, "invalidValue");
    expect_scim_error(client().put(group_target(c), json::serialize(group_body("C2", {a}))), 400,
                      "invalidValue");
    const json::object gc = get_group(c);
    EXPECT_EQ(member_ids(gc), Ids{});
    EXPECT_EQ(gc.at("displayName"), "C");
    EXPECT_EQ(members_of(b), Ids{c});

    ASSERT_TRUE(no_content(patch_group(a, json::array{add_members({c})})));
    EXPECT_EQ(members_of(a), sorted(Ids{b, c}));
}

// --- the users' side -----------------------------------------------------------------------

// Users carry read-only "groups": direct and indirect (through nesting) memberships with
// value, display, type and $ref; GET /Users?filter=groups.value eq … counts indirect ones.
TEST_P(Groups, UsersCarryDirectAndIndirectGroups) {
    const std::string ana = create_user("ana.li@corp.example");
    const std::string bo = create_user("bo.k@corp.example");
    ASSERT_FALSE(ana.empty() || bo.empty());
    EXPECT_TRUE(groups_of_user(ana).empty());

    const std::string treasury = create_group("Treasury", {ana});
    const std::string finance = create_group("Finance", {treasury});
    ASSERT_FALSE(treasury.empty() || finance.empty());

    const auto groups = groups_of_user(ana);
    EXPECT_EQ(groups.size(), 2U);
    ASSERT_EQ(groups.count(treasury), 1U);
    const json::object& direct = groups.at(treasury);
    EXPECT_EQ(direct.at("value"), json::value(treasury));
    EXPECT_EQ(direct.at("display"), "Treasury");
    EXPECT_EQ(direct.at("type"), "direct");
    EXPECT_EQ(direct.at("$ref"), json::value(std::string(kBaseUrl) + "/Groups/" + treasury));
    ASSERT_EQ(groups.count(finance), 1U);
    const json::object& indirect = groups.at(finance);
    EXPECT_EQ(indirect.at("value"), json::value(finance));
    EXPECT_EQ(indirect.at("display"), "Finance");
    EXPECT_EQ(indirect.at("type"), "indirect");
    EXPECT_EQ(indirect.at("$ref"), json::value(std::string(kBaseUrl) + "/Groups/" + finance));
    EXPECT_TRUE(groups_of_user(bo).empty());

    EXPECT_EQ(users_matching("groups.value eq \"" + finance + "\""), Ids{ana});
    EXPECT_EQ(users_matching("groups.value eq \"" + treasury + "\""), Ids{ana});

    // Out of Treasury, out of both.
    ASSERT_TRUE(no_content(patch_group(treasury, json::array{remove_member(ana)})));
    EXPECT_TRUE(groups_of_user(ana).empty());
    EXPECT_EQ(users_matching("groups.value eq \"" + finance + "\""), Ids{});
}

// Deleting a user takes it out of its groups' members; its id is then an unknown member id.
TEST_P(Groups, DeletingUserRemovesItFromGroups) {
    const std::string ana = create_user("ana.li@corp.example");
    const std::string bo = create_user("bo.k@corp.example");
    const std::string finance = create_group("Finance", {ana, bo});
    const std::string hr = create_group("HR", {ana});
    ASSERT_FALSE(finance.empty() || hr.empty());

    ASSERT_EQ(client().del("/scim/v2/Users/" + ana).status, 204);
    EXPECT_EQ(members_of(finance), Ids{bo});
    EXPECT_EQ(members_of(hr), Ids{});
    EXPECT_EQ(filtered("members.value eq \"" + ana + "\""), Ids{});
    expect_scim_error(patch_group(hr, json::array{add_members({ana})}), 400, "invalidValue");
}

// Deleting a group takes it out of the groups that contained it, and its members lose the
// indirect memberships it gave them.
TEST_P(Groups, DeletingGroupRemovesItFromParentGroups) {
    const std::string ana = create_user("ana.li@corp.example");
    const std::string bo = create_user("bo.k@corp.example");
    const std::string treasury = create_group("Treasury", {ana});
    const std::string finance = create_group("Finance", {treasury, bo});
    ASSERT_FALSE(treasury.empty() || finance.empty());
    ASSERT_EQ(groups_of_user(ana).size(), 2U);

    ASSERT_EQ(client().del(group_target(treasury)).status, 204);
    EXPECT_EQ(members_of(finance), Ids{bo});
    EXPECT_EQ(filtered("members.value eq \"" + treasury + "\""), Ids{});
    EXPECT_TRUE(groups_of_user(ana).empty());
    EXPECT_EQ(users_matching("groups.value eq \"" + finance + "\""), Ids{bo});
}

// --- IdP sequences -------------------------------------------------------------------------

// Okta's group push, idp-compat.md §2.1 steps 1–7, with Okta's headers and bodies, checking the
// state after each step.
TEST_P(Groups, OktaGroupPushSequence) {
    // The people in the Okta group, assigned to the app (and so provisioned) first.
    const std::string ana = create_user(json::object{{"schemas", json::array{kUserSchema}},
                                                     {"userName", "ana.li@corp.example"},
                                                     {"displayName", "Ana Li"},
                                                     {"externalId", "00u1204"}});
    const std::string bo = create_user(json::object{{"schemas", json::array{kUserSchema}},
                                                    {"userName", "bo.k@corp.example"},
                                                    {"externalId", "00u1209"}});
    const std::string cy = create_user(json::object{{"schemas", json::array{kUserSchema}},
                                                    {"userName", "cy.ng@corp.example"},
                                                    {"externalId", "00u7781"}});
    ASSERT_FALSE(ana.empty() || bo.empty() || cy.empty());
    const auto with_display = [](const std::string& id, const char* display) {
        return json::object{{"value", id}, {"display", display}};
    };

    // Connection test / import: no groups yet.
    auto probe = okta("GET", "/scim/v2/Groups?startIndex=1&count=100");
    ASSERT_EQ(probe.status, 200) << probe.body;
    EXPECT_EQ(probe.json().at("totalResults"), 0);
    EXPECT_EQ(probe.json().at("Resources"), json::value(json::array{}));

    // 1. Lookup by name before pushing: nothing.
    const std::string lookup = "/scim/v2/Groups?filter=displayName%20eq%20%22Finance%22";
    auto before = okta("GET", lookup);
    ASSERT_EQ(before.status, 200) << before.body;
    EXPECT_EQ(before.json().at("totalResults"), 0);

    // 2. Create with members [].
    auto created = okta(
        "POST", "/scim/v2/Groups",
        R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Finance","members":[]})");
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string gid(created.json().at("id").as_string());
    const std::string target = group_target(gid);
    EXPECT_EQ(created.json().at("displayName"), "Finance");
    EXPECT_EQ(member_ids(created.json().as_object()), Ids{});
    EXPECT_EQ(created.header("location"), std::string(kBaseUrl) + "/Groups/" + gid);
    auto found = okta("GET", lookup);
    ASSERT_EQ(found.status, 200) << found.body;
    ASSERT_EQ(found.json().at("totalResults"), 1);
    EXPECT_EQ(found.json().at("Resources").at(0).at("id"), json::value(gid));

    // 3. Membership deltas: cy joins; then one request removes cy by filter and adds ana.
    ASSERT_TRUE(
        no_content(okta("PATCH", target,
                        patch_body(json::array{json::object{
                            {"op", "add"},
                            {"path", "members"},
                            {"value", json::array{with_display(cy, "cy.ng@corp.example")}}}}))));
    EXPECT_EQ(members_of(gid), Ids{cy});
    ASSERT_TRUE(no_content(okta(
        "PATCH", target,
        patch_body(json::array{
            json::object{{"op", "remove"}, {"path", "members[value eq \"" + cy + "\"]"}},
            json::object{{"op", "add"},
                         {"path", "members"},
                         {"value", json::array{with_display(ana, "ana.li@corp.example")}}}}))));
    EXPECT_EQ(members_of(gid), Ids{ana});

    // 4. "Push now": the full list by replace, the path-less variant, an empty group, and the
    //    full list again.
    const json::object full_push{{"op", "replace"},
                                 {"path", "members"},
                                 {"value", json::array{with_display(ana, "ana.li@corp.example"),
                                                       with_display(bo, "bo.k@corp.example")}}};
    ASSERT_TRUE(no_content(okta("PATCH", target, patch_body(json::array{full_push}))));
    EXPECT_EQ(members_of(gid), sorted(Ids{ana, bo}));
    ASSERT_TRUE(no_content(okta(
        "PATCH", target,
        patch_body(json::array{json::object{
            {"op", "replace"},
            {"value", json::object{{"members", json::array{json::object{{"value", ana}}}}}}}}))));
    EXPECT_EQ(members_of(gid), Ids{ana});
    ASSERT_TRUE(
        no_content(okta("PATCH", target,
                        patch_body(json::array{json::object{
                            {"op", "replace"}, {"path", "members"}, {"value", json::array{}}}}))));
    EXPECT_EQ(members_of(gid), Ids{});
    ASSERT_TRUE(no_content(okta("PATCH", target, patch_body(json::array{full_push}))));
    EXPECT_EQ(members_of(gid), sorted(Ids{ana, bo}));

    // 5. Rename: path-less, with the group's id inside the value; re-sent with later updates.
    const std::string okta_rename = patch_body(json::array{json::object{
        {"op", "replace"}, {"value", json::object{{"id", gid}, {"displayName", "Finance EMEA"}}}}});
    ASSERT_TRUE(no_content(okta("PATCH", target, okta_rename)));
    ASSERT_TRUE(no_content(okta("PATCH", target, okta_rename)));
    const json::object renamed = get_group(gid);
    EXPECT_EQ(renamed.at("id"), json::value(gid));
    EXPECT_EQ(renamed.at("displayName"), "Finance EMEA");
    EXPECT_EQ(member_ids(renamed), sorted(Ids{ana, bo}));
    auto old_name = okta("GET", lookup);
    ASSERT_EQ(old_name.status, 200) << old_name.body;
    EXPECT_EQ(old_name.json().at("totalResults"), 0);
    auto new_name = okta("GET", groups_filter(R"(displayName eq "Finance EMEA")"));
    ASSERT_EQ(new_name.status, 200) << new_name.body;
    EXPECT_EQ(new_name.json().at("totalResults"), 1);

    // 6. AIW: PUT with the displayName and the complete member list.
    auto put = okta("PUT", target,
                    json::serialize(json::object{
                        {"schemas", json::array{kGroupSchema}},
                        {"id", gid},
                        {"displayName", "Finance EMEA"},
                        {"members", json::array{with_display(ana, "ana.li@corp.example"),
                                                with_display(cy, "cy.ng@corp.example")}}}));
    ASSERT_EQ(put.status, 200) << put.body;
    EXPECT_EQ(put.json().at("id"), json::value(gid));
    EXPECT_EQ(put.json().at("displayName"), "Finance EMEA");
    EXPECT_EQ(member_ids(put.json().as_object()), sorted(Ids{ana, cy}));
    EXPECT_EQ(members_of(gid), sorted(Ids{ana, cy}));

    // Okta's group import sees the one group.
    auto listed = okta("GET", "/scim/v2/Groups?startIndex=1&count=100");
    ASSERT_EQ(listed.status, 200) << listed.body;
    EXPECT_EQ(listed.json().at("totalResults"), 1);
    EXPECT_EQ(listed.json().at("Resources").at(0).at("displayName"), "Finance EMEA");

    // 7. Unlink with "delete the group in the app": 204, then gone; the users stay.
    auto del = okta("DELETE", target);
    EXPECT_EQ(del.status, 204) << del.body;
    expect_scim_error(okta("GET", target), 404);
    auto after = okta("GET", groups_filter(R"(displayName eq "Finance EMEA")"));
    ASSERT_EQ(after.status, 200) << after.body;
    EXPECT_EQ(after.json().at("totalResults"), 0);
    EXPECT_EQ(okta("GET", "/scim/v2/Users/" + ana).status, 200);
}

// Entra's group sync, idp-compat.md §2.2 "Groups": matching query with excludedAttributes,
// create without members, read back without members, Add with "$ref": null, Remove by value
// array (default) and by filter path (aadOptscim062020), rename, delete.
TEST_P(Groups, EntraGroupSyncSequence) {
    // The users, provisioned first by Entra's user cycle.
    const std::string u1 = create_user(json::object{{"schemas", json::array{kUserSchema}},
                                                    {"userName", "ana.li@contoso.example"},
                                                    {"externalId", "ana.li"},
                                                    {"displayName", "Ana Li"},
                                                    {"active", true}});
    const std::string u2 = create_user(json::object{{"schemas", json::array{kUserSchema}},
                                                    {"userName", "bo.kim@contoso.example"},
                                                    {"externalId", "bo.kim"},
                                                    {"active", true}});
    const std::string u3 = create_user(json::object{{"schemas", json::array{kUserSchema}},
                                                    {"userName", "cy.ng@contoso.example"},
                                                    {"externalId", "cy.ng"},
                                                    {"active", true}});
    ASSERT_FALSE(u1.empty() || u2.empty() || u3.empty());

    // Matching query: nothing yet (R-18).
    const std::string match =
        groups_filter(R"(displayName eq "Finance")", "&excludedAttributes=members");
    auto none = client().get(match);
    ASSERT_EQ(none.status, 200) << none.body;
    EXPECT_EQ(none.json().at("totalResults"), 0);
    EXPECT_EQ(none.json().at("Resources"), json::value(json::array{}));

    // Create: the AD schema URN, meta.resourceType, no members (R-26, R-28, R-31).
    auto created = client().post("/scim/v2/Groups", R"({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
                    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
        "externalId": "5b1e9a3c-8f2d-4e7a-b0c4-11aa22bb33cc",
        "displayName": "Finance",
        "meta": {"resourceType": "Group"}})");
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string gid(created.json().at("id").as_string());
    const std::string target = group_target(gid);
    EXPECT_EQ(created.json().at("externalId"), "5b1e9a3c-8f2d-4e7a-b0c4-11aa22bb33cc");
    EXPECT_EQ(member_ids(created.json().as_object()), Ids{});

    // Read back without members (R-19); found by displayName and by externalId (R-13).
    const json::object read_back = get_group(gid, "?excludedAttributes=members");
    EXPECT_EQ(read_back.at("displayName"), "Finance");
    EXPECT_FALSE(read_back.contains("members")) << json::serialize(read_back);
    auto found = client().get(match);
    ASSERT_EQ(found.status, 200) << found.body;
    ASSERT_EQ(found.json().at("totalResults"), 1);
    EXPECT_EQ(found.json().at("Resources").at(0).at("id"), json::value(gid));
    EXPECT_FALSE(found.json().at("Resources").at(0).as_object().contains("members")) << found.body;
    EXPECT_EQ(filtered(R"(externalId eq "5b1e9a3c-8f2d-4e7a-b0c4-11aa22bb33cc")"), Ids{gid});

    // Add members: "Add", "$ref": null (R-35, R-47).
    json::array added;
    for (const std::string& u : {u1, u2, u3}) {
        added.emplace_back(json::object{{"$ref", nullptr}, {"value", u}});
    }
    ASSERT_TRUE(no_content(client().patch(
        target, patch_body(json::array{json::object{
                    {"op", "Add"}, {"path", "members"}, {"value", std::move(added)}}}))));
    EXPECT_EQ(members_of(gid), sorted(Ids{u1, u2, u3}));

    // Remove, default dialect: a value array; only u2 goes (R-42).
    ASSERT_TRUE(no_content(
        client().patch(target, patch_body(json::array{json::object{
                                   {"op", "Remove"},
                                   {"path", "members"},
                                   {"value", json::array{json::object{{"value", u2}}}}}}))));
    EXPECT_EQ(members_of(gid), sorted(Ids{u1, u3}));

    // Remove, aadOptscim062020 dialect (the flag rides on the URL): by filter path (R-43).
    ASSERT_TRUE(no_content(
        client().patch(target + "?aadOptscim062020",
                       patch_body(json::array{json::object{
                           {"op", "remove"}, {"path", "members[value eq \"" + u3 + "\"]"}}}))));
    EXPECT_EQ(members_of(gid), Ids{u1});

    // Rename.
    ASSERT_TRUE(no_content(client().patch(
        target,
        patch_body(json::array{json::object{
            {"op", "Replace"}, {"path", "displayName"}, {"value", "Finance & Treasury"}}}))));
    const json::object renamed = get_group(gid);
    EXPECT_EQ(renamed.at("displayName"), "Finance & Treasury");
    EXPECT_EQ(member_ids(renamed), Ids{u1});
    auto rematch = client().get(
        groups_filter(R"(displayName eq "Finance & Treasury")", "&excludedAttributes=members"));
    ASSERT_EQ(rematch.status, 200) << rematch.body;
    EXPECT_EQ(rematch.json().at("totalResults"), 1);

    // The member sees the group under its new name.
    const auto groups = groups_of_user(u1);
    ASSERT_EQ(groups.count(gid), 1U);
    EXPECT_EQ(groups.at(gid).at("display"), "Finance & Treasury");
    EXPECT_EQ(groups.at(gid).at("type"), "direct");
    EXPECT_TRUE(groups_of_user(u2).empty());

    // Delete (R-54).
    auto del = client().del(target);
    EXPECT_EQ(del.status, 204) << del.body;
    expect_scim_error(client().get(target + "?excludedAttributes=members"), 404);
    EXPECT_TRUE(groups_of_user(u1).empty());
    EXPECT_EQ(client().get("/scim/v2/Users/" + u1).status, 200);
}

INSTANTIATE_TEST_SUITE_P(Backends, Groups, ::testing::Values(Db::kSqlite, Db::kPostgres), db_name);

}  // namespace
}  // namespace scimd::test
