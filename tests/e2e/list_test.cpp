// Listing users over HTTPS: filters (R-13…R-18, R-21), pagination (R-22, R-23), sortBy,
// attributes / excludedAttributes, POST /Users/.search.
#include <algorithm>
#include <set>

#include "e2e/fixture.hpp"

namespace scimd::test {
namespace {

namespace json = boost::json;

class List : public ServerFixture {
protected:
    // Three users with distinct matching attributes; returns their ids in creation order.
    void seed() {
        ana_ = create_user(json::object{
            {"schemas", json::array{kUserSchema, kEnterpriseSchema}},
            {"userName", "Ana.Li@corp.example"},
            {"externalId", "00u1"},
            {"displayName", "Ana Li"},
            {"active", true},
            {"emails",
             json::array{json::object{
                             {"value", "ana.li@corp.example"}, {"type", "work"}, {"primary", true}},
                         json::object{{"value", "ana@home.example"}, {"type", "home"}}}},
            {kEnterpriseSchema,
             json::object{{"employeeNumber", "E-1"}, {"department", "Finance"}}}});
        bo_ = create_user(json::object{
            {"userName", "bo.kim@corp.example"},
            {"externalId", "00u2"},
            {"active", true},
            {"emails", json::array{json::object{{"value", "bo@corp.example"}, {"type", "work"}}}},
            {kEnterpriseSchema, json::object{{"employeeNumber", "E-2"}}}});
        cy_ = create_user(json::object{
            {"userName", "cy.ng@corp.example"},
            {"externalId", "00u3"},
            {"active", false},
            {"emails", json::array{json::object{{"value", "cy@corp.example"}, {"type", "home"}}}}});
        ASSERT_FALSE(ana_.empty() || bo_.empty() || cy_.empty());
    }

    // The ids a filtered GET returns, in order (and checks the envelope).
    std::vector<std::string> ids_for(const std::string& target) {
        auto res = client().get(target);
        EXPECT_EQ(res.status, 200) << target << ": " << res.body;
        if (res.status != 200) {
            return {"<error>"};
        }
        return ids_of(res);
    }

    static std::vector<std::string> ids_of(const HttpResponse& res) {
        const json::object o = res.json().as_object();
        EXPECT_EQ(o.at("schemas"), json::value(json::array{kListResponseSchema}));
        std::vector<std::string> ids;
        for (const auto& r : o.at("Resources").as_array()) {
            ids.emplace_back(r.at("id").as_string());
        }
        EXPECT_EQ(o.at("itemsPerPage").as_int64(), static_cast<std::int64_t>(ids.size()));
        return ids;
    }

    std::vector<std::string> filtered(const std::string& filter) {
        return ids_for(users_filter(filter));
    }

    using Ids = std::vector<std::string>;
    std::string ana_, bo_, cy_;
};

// R-16: userName matches case-insensitively and comes back in its stored casing.
TEST_P(List, UserNameEqIsCaseInsensitive_R16) {
    seed();
    auto res = client().get(users_filter(R"(userName eq "ANA.LI@CORP.EXAMPLE")"));
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(ids_of(res), Ids{ana_});
    EXPECT_EQ(res.json().at("Resources").at(0).at("userName"), "Ana.Li@corp.example");
    EXPECT_EQ(filtered(R"(userName eq "ana.li@corp.example")"), Ids{ana_});
}

// R-15: operators and attribute names are case-insensitive.
TEST_P(List, FilterKeywordsAreCaseInsensitive_R15) {
    seed();
    EXPECT_EQ(filtered(R"(USERNAME Eq "bo.kim@corp.example")"), Ids{bo_});
    EXPECT_EQ(filtered(R"(emails[TYPE EQ "work"].Value eq "bo@corp.example")"), Ids{bo_});
}

// R-13: the matching attributes IdPs pick.
TEST_P(List, FilterOnMatchingAttributes_R13) {
    seed();
    EXPECT_EQ(filtered(R"(externalId eq "00u2")"), Ids{bo_});
    EXPECT_EQ(filtered(R"(id eq ")" + cy_ + "\""), Ids{cy_});
    EXPECT_EQ(filtered(R"(emails[type eq "work"].value eq "bo@corp.example")"), Ids{bo_});
    // cy's only email is a home address: not a work-email match.
    EXPECT_EQ(filtered(R"(emails[type eq "work"].value eq "cy@corp.example")"), Ids{});
    EXPECT_EQ(filtered(R"(emails.value eq "CY@corp.example")"), Ids{cy_});
    EXPECT_EQ(filtered(R"(emails eq "ana@home.example")"), Ids{ana_});
    EXPECT_EQ(
        filtered(
            R"(urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "E-1")"),
        Ids{ana_});
    EXPECT_EQ(
        filtered(
            R"(urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Finance")"),
        Ids{ana_});
    EXPECT_EQ(filtered(R"(displayName eq "Ana Li")"), Ids{ana_});
}

// R-14: `and`, including with `active`.
TEST_P(List, FilterWithAnd_R14) {
    seed();
    EXPECT_EQ(filtered(R"(userName eq "bo.kim@corp.example" and active eq true)"), Ids{bo_});
    EXPECT_EQ(filtered(R"(userName eq "bo.kim@corp.example" and active eq false)"), Ids{});
    EXPECT_EQ(filtered(R"(externalId eq "00u3" and active eq false)"), Ids{cy_});
    EXPECT_EQ(filtered(R"(id eq ")" + bo_ + R"(" and userName eq "bo.kim@corp.example")"),
              Ids{bo_});
}

// R-17: a filter that cannot be parsed or names no attribute is 400 invalidFilter, never an
// empty list.
TEST_P(List, MalformedFilterIs400InvalidFilter_R17) {
    seed();
    for (const std::string f :
         {R"(userName eq)", R"(userName eq "unterminated)", R"((userName eq "x")",
          R"(userName xx "a")", R"(noSuchAttribute eq "x")", R"(userName eq "a" and)",
          R"(emails[type eq "work".value eq "x")"}) {
        SCOPED_TRACE(f);
        expect_scim_error(client().get(users_filter(f)), 400, "invalidFilter");
    }
}

// R-18: no match is 200 with an empty ListResponse whose numbers are integers.
TEST_P(List, ZeroMatchesIsEmptyListResponse_R18) {
    seed();
    auto res = client().get(users_filter(R"(userName eq "6d0f1f9e-3b7d-4c1a-9a77-1f5b2a0c8e41")"));
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.header("content-type"), "application/scim+json; charset=utf-8");
    const json::value expected =
        json::parse(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]})");
    EXPECT_EQ(res.json(), expected) << res.body;
}

// R-21: values with '+', '@' and quotes survive URL decoding and parsing.
TEST_P(List, FilterValuesWithSpecialCharacters_R21) {
    const std::string plus = create_user("first+tag@corp.example");
    const std::string quote = create_user(R"(o"brien@corp.example)");
    EXPECT_EQ(filtered(R"(userName eq "first+tag@corp.example")"), Ids{plus});
    EXPECT_EQ(filtered(R"(userName eq "o\"brien@corp.example")"), Ids{quote});
}

// R-22: 1-based startIndex/count with integer numbers and a stable order across pages.
TEST_P(List, PaginationWithStartIndexAndCount_R22) {
    std::vector<std::string> all;
    for (int i = 0; i < 5; ++i) {
        all.push_back(create_user("page" + std::to_string(i) + "@example.com"));
    }
    auto res = client().get("/scim/v2/Users?startIndex=2&count=2");
    ASSERT_EQ(res.status, 200) << res.body;
    const json::object o = res.json().as_object();
    ASSERT_TRUE(o.at("totalResults").is_int64()) << res.body;
    ASSERT_TRUE(o.at("startIndex").is_int64()) << res.body;
    ASSERT_TRUE(o.at("itemsPerPage").is_int64()) << res.body;
    EXPECT_EQ(o.at("totalResults"), 5);
    EXPECT_EQ(o.at("startIndex"), 2);
    EXPECT_EQ(o.at("itemsPerPage"), 2);

    // Pages of 2 and pages of 3 walk the same order, and cover every user once.
    const auto walk = [&](int count) {
        std::vector<std::string> seen;
        for (int start = 1; start <= 5; start += count) {
            auto page = ids_for("/scim/v2/Users?startIndex=" + std::to_string(start) +
                                "&count=" + std::to_string(count));
            seen.insert(seen.end(), page.begin(), page.end());
        }
        return seen;
    };
    const auto by2 = walk(2);
    EXPECT_EQ(by2, walk(3));
    EXPECT_EQ(by2, ids_for("/scim/v2/Users"));
    EXPECT_EQ(std::set<std::string>(by2.begin(), by2.end()),
              std::set<std::string>(all.begin(), all.end()));
    EXPECT_EQ(by2.size(), 5U);
}

// R-23: a startIndex past the end is an empty page with the right totalResults; count=0
// asks for the total only; out-of-range numbers are clamped; non-integers are 400.
TEST_P(List, PaginationEdges_R23) {
    for (int i = 0; i < 3; ++i) {
        create_user("edge" + std::to_string(i) + "@example.com");
    }
    auto past = client().get("/scim/v2/Users?startIndex=4&count=100");
    ASSERT_EQ(past.status, 200) << past.body;
    EXPECT_EQ(past.json().at("totalResults"), 3);
    EXPECT_EQ(past.json().at("startIndex"), 4);
    EXPECT_EQ(past.json().at("itemsPerPage"), 0);
    EXPECT_EQ(past.json().at("Resources"), json::value(json::array{}));

    auto zero = client().get("/scim/v2/Users?count=0");
    ASSERT_EQ(zero.status, 200) << zero.body;
    EXPECT_EQ(zero.json().at("totalResults"), 3);
    EXPECT_EQ(zero.json().at("Resources"), json::value(json::array{}));

    auto low = client().get("/scim/v2/Users?startIndex=0&count=2");  // startIndex < 1 is 1
    ASSERT_EQ(low.status, 200) << low.body;
    EXPECT_EQ(low.json().at("startIndex"), 1);
    EXPECT_EQ(low.json().at("itemsPerPage"), 2);

    auto negative = client().get("/scim/v2/Users?count=-5");  // count < 0 is 0
    ASSERT_EQ(negative.status, 200) << negative.body;
    EXPECT_EQ(negative.json().at("itemsPerPage"), 0);
    EXPECT_EQ(negative.json().at("totalResults"), 3);

    expect_scim_error(client().get("/scim/v2/Users?startIndex=abc"), 400, "invalidValue");
    expect_scim_error(client().get("/scim/v2/Users?count=1.5"), 400, "invalidValue");
}

// R-23: count is capped at filter.maxResults (200), and the cap is what is advertised.
TEST_P(List, CountIsCappedAtMaxResults_R23) {
    auto spc = client().get("/scim/v2/ServiceProviderConfig");
    ASSERT_EQ(spc.status, 200) << spc.body;
    ASSERT_EQ(spc.json().at("filter").at("maxResults"), 200);
    for (int i = 0; i < 203; ++i) {
        auto res = client().post("/scim/v2/Users",
                                 R"({"userName":"bulk)" + std::to_string(i) + R"(@example.com"})");
        ASSERT_EQ(res.status, 201) << res.body;
    }
    auto res = client().get("/scim/v2/Users?count=1000");
    ASSERT_EQ(res.status, 200);
    EXPECT_EQ(res.json().at("totalResults"), 203);
    EXPECT_EQ(res.json().at("itemsPerPage"), 200);
    EXPECT_EQ(res.json().at("Resources").as_array().size(), 200U);
    auto rest = client().get("/scim/v2/Users?startIndex=201&count=100");
    ASSERT_EQ(rest.status, 200);
    EXPECT_EQ(rest.json().at("itemsPerPage"), 3);
    // Without count, a page is at most maxResults too.
    auto dflt = client().get("/scim/v2/Users");
    ASSERT_EQ(dflt.status, 200);
    EXPECT_EQ(dflt.json().at("itemsPerPage"), 200);
}

TEST_P(List, SortByAndSortOrder) {
    const std::string c = create_user("carol@example.com");
    const std::string a = create_user("alice@example.com");
    const std::string b = create_user("bob@example.com");
    EXPECT_EQ(ids_for("/scim/v2/Users?sortBy=userName"), (Ids{a, b, c}));
    EXPECT_EQ(ids_for("/scim/v2/Users?sortBy=userName&sortOrder=ascending"), (Ids{a, b, c}));
    EXPECT_EQ(ids_for("/scim/v2/Users?sortBy=UserName&sortOrder=descending"), (Ids{c, b, a}));
    EXPECT_EQ(ids_for("/scim/v2/Users?sortBy=userName&startIndex=2&count=1"), (Ids{b}));
    expect_scim_error(client().get("/scim/v2/Users?sortBy=userName&sortOrder=sideways"), 400);
    expect_scim_error(client().get("/scim/v2/Users?sortBy=noSuchAttribute"), 400);
}

// RFC 7644 §3.4.2.5: attributes narrows, excludedAttributes removes; id and schemas always.
TEST_P(List, AttributesAndExcludedAttributes) {
    seed();
    auto only = client().get(users_filter(R"(userName eq "Ana.Li@corp.example")",
                                          "&attributes=userName,name.givenName"));
    ASSERT_EQ(only.status, 200) << only.body;
    const json::object u = only.json().at("Resources").at(0).as_object();
    EXPECT_EQ(u.at("id"), json::value(ana_));
    EXPECT_TRUE(u.contains("schemas"));
    EXPECT_EQ(u.at("userName"), "Ana.Li@corp.example");
    for (const char* absent :
         {"emails", "externalId", "active", "displayName", kEnterpriseSchema}) {
        EXPECT_FALSE(u.contains(absent)) << absent << " in " << only.body;
    }

    auto excluded =
        client().get("/scim/v2/Users/" + ana_ + "?excludedAttributes=emails,externalId");
    ASSERT_EQ(excluded.status, 200) << excluded.body;
    const json::object e = excluded.json().as_object();
    EXPECT_FALSE(e.contains("emails")) << excluded.body;
    EXPECT_FALSE(e.contains("externalId")) << excluded.body;
    EXPECT_EQ(e.at("userName"), "Ana.Li@corp.example");
    EXPECT_EQ(e.at("displayName"), "Ana Li");
    EXPECT_TRUE(e.contains("meta"));

    auto single = client().get("/scim/v2/Users/" + ana_ + "?attributes=" +
                               url_encode(std::string(kEnterpriseSchema) + ":employeeNumber"));
    ASSERT_EQ(single.status, 200) << single.body;
    const json::object s = single.json().as_object();
    EXPECT_FALSE(s.contains("userName")) << single.body;
    ASSERT_TRUE(s.contains(kEnterpriseSchema)) << single.body;
    EXPECT_EQ(s.at(kEnterpriseSchema), json::value(json::object{{"employeeNumber", "E-1"}}))
        << single.body;

    expect_scim_error(client().get("/scim/v2/Users?attributes=userName&excludedAttributes=emails"),
                      400);
}

// RFC 7644 §3.4.3: the same query as a SearchRequest body.
TEST_P(List, PostSearch) {
    seed();
    auto res = client().post(
        "/scim/v2/Users/.search",
        json::serialize(
            json::object{{"schemas", json::array{kSearchRequestSchema}},
                         {"filter", R"(userName eq "BO.KIM@corp.example" or externalId eq "00u1")"},
                         {"attributes", json::array{"userName"}},
                         {"sortBy", "userName"},
                         {"sortOrder", "descending"},
                         {"startIndex", 1},
                         {"count", 10}}));
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.json().at("totalResults"), 2);
    EXPECT_EQ(ids_of(res), (Ids{bo_, ana_}));
    EXPECT_FALSE(res.json().at("Resources").at(0).as_object().contains("emails")) << res.body;

    auto page = client().post("/scim/v2/Users/.search", R"({"startIndex":2,"count":1})");
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_EQ(page.json().at("totalResults"), 3);
    EXPECT_EQ(page.json().at("itemsPerPage"), 1);

    expect_scim_error(client().post("/scim/v2/Users/.search", R"({"filter":"userName eq"})"), 400,
                      "invalidFilter");
}

INSTANTIATE_TEST_SUITE_P(Backends, List, ::testing::Values(Db::kSqlite, Db::kPostgres), db_name);

}  // namespace
}  // namespace scimd::test
