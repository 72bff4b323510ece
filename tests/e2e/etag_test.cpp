// ETags on single resources (RFC 7644 §3.14): ETag = meta.version, If-Match guards writes,
// If-None-Match answers 304. No IdP sends them (R-71), so without them everything works.
#include "e2e/fixture.hpp"

namespace scimd::test {
namespace {

namespace json = boost::json;

class ETag : public ServerFixture {
protected:
    void SetUp() override {
        ServerFixture::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        auto res =
            client().post("/scim/v2/Users", R"({"userName":"etag@example.com","nickName":"v1"})");
        ASSERT_EQ(res.status, 201) << res.body;
        id_ = std::string(res.json().at("id").as_string());
        etag_ = res.header("etag");
        target_ = "/scim/v2/Users/" + id_;
    }

    HttpResponse with(const std::string& method,
                      const std::string& header,
                      const std::string& value,
                      const std::string& body = "") {
        return client().request(method, target_, body, {{header, value}});
    }

    std::string replace_nick(const std::string& nick) const {
        return patch_body(
            json::array{json::object{{"op", "replace"}, {"path", "nickName"}, {"value", nick}}});
    }

    std::string id_, etag_, target_;
};

TEST_P(ETag, SingleResourcesCarryETagEqualToMetaVersion) {
    ASSERT_FALSE(etag_.empty());
    EXPECT_EQ(etag_.rfind("W/\"", 0), 0U) << etag_;
    auto got = client().get(target_);
    ASSERT_EQ(got.status, 200);
    EXPECT_EQ(got.header("etag"), etag_);
    EXPECT_EQ(got.json().at("meta").at("version"), json::value(etag_));
    auto patched = client().patch(target_, replace_nick("v2"));
    ASSERT_EQ(patched.status, 200) << patched.body;
    EXPECT_NE(patched.header("etag"), etag_);
    EXPECT_EQ(patched.json().at("meta").at("version"), json::value(patched.header("etag")));
    auto put = client().put(target_, R"({"userName":"etag@example.com","nickName":"v3"})");
    ASSERT_EQ(put.status, 200) << put.body;
    EXPECT_NE(put.header("etag"), patched.header("etag"));
    EXPECT_EQ(client().get(target_).header("etag"), put.header("etag"));
}

TEST_P(ETag, IfNoneMatchCurrentIs304) {
    auto not_modified = with("GET", "If-None-Match", etag_);
    EXPECT_EQ(not_modified.status, 304);
    EXPECT_TRUE(not_modified.body.empty()) << not_modified.body;
    EXPECT_EQ(not_modified.header("etag"), etag_);
    EXPECT_EQ(with("GET", "If-None-Match", "W/\"999\", " + etag_).status, 304);
    // After a change the old tag no longer matches: 200 with the new representation.
    ASSERT_EQ(client().patch(target_, replace_nick("v2")).status, 200);
    auto changed = with("GET", "If-None-Match", etag_);
    ASSERT_EQ(changed.status, 200) << changed.body;
    EXPECT_EQ(changed.json().at("nickName"), "v2");
}

TEST_P(ETag, StaleIfMatchIs412OnPutPatchDelete) {
    ASSERT_EQ(client().patch(target_, replace_nick("v2")).status, 200);  // etag_ is now stale
    expect_scim_error(
        with("PUT", "If-Match", etag_, R"({"userName":"etag@example.com","nickName":"lost"})"),
        412);
    expect_scim_error(with("PATCH", "If-Match", etag_, replace_nick("lost")), 412);
    expect_scim_error(with("DELETE", "If-Match", etag_), 412);
    auto still = client().get(target_);
    ASSERT_EQ(still.status, 200) << still.body;
    EXPECT_EQ(still.json().at("nickName"), "v2");
}

TEST_P(ETag, CurrentIfMatchIsApplied) {
    auto patched = with("PATCH", "If-Match", etag_, replace_nick("v2"));
    ASSERT_EQ(patched.status, 200) << patched.body;
    auto put = with("PUT", "If-Match", patched.header("etag"),
                    R"({"userName":"etag@example.com","nickName":"v3"})");
    ASSERT_EQ(put.status, 200) << put.body;
    EXPECT_EQ(put.json().at("nickName"), "v3");
    EXPECT_EQ(with("PATCH", "If-Match", "*", replace_nick("v4")).status, 200);
    EXPECT_EQ(with("DELETE", "If-Match", client().get(target_).header("etag")).status, 204);
    expect_scim_error(client().get(target_), 404);
}

INSTANTIATE_TEST_SUITE_P(Backends, ETag, ::testing::Values(Db::kSqlite, Db::kPostgres), db_name);

}  // namespace
}  // namespace scimd::test
