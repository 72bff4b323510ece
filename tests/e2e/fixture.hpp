#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "support/support.hpp"
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "scimd/app/app.hpp"
#include "scimd/util/crypto.hpp"

namespace scimd::test {

// The URNs as they appear on the wire (spelled out rather than taken from the code under test).
inline constexpr const char* kUserSchema = "urn:ietf:params:scim:schemas:core:2.0:User";
inline constexpr const char* kEnterpriseSchema =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
inline constexpr const char* kListResponseSchema =
    "urn:ietf:params:scim:api:messages:2.0:ListResponse";
inline constexpr const char* kPatchOpSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
inline constexpr const char* kErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error";
inline constexpr const char* kSearchRequestSchema =
    "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
/// The public base URL the fixture gives the server; meta.location and Location start with it.
inline constexpr const char* kBaseUrl = "https://localhost:0/scim/v2";

/// A PatchOp body with the given operations.
inline std::string patch_body(boost::json::array ops) {
    return boost::json::serialize(boost::json::object{
        {"schemas", boost::json::array{kPatchOpSchema}}, {"Operations", std::move(ops)}});
}

/// "/scim/v2/Users?filter=<encoded>" plus optional extra query text (starting with '&').
inline std::string users_filter(const std::string& filter, const std::string& extra = "") {
    return "/scim/v2/Users?filter=" + url_encode(filter) + extra;
}

/// Asserts an RFC 7644 §3.12 error: the status, a JSON media type, schemas [Error],
/// "status" as a string, a non-empty detail, and the scimType when one is expected.
inline void expect_scim_error(const HttpResponse& res,
                              int status,
                              std::string_view scim_type = {}) {
    EXPECT_EQ(res.status, status) << res.body;
    const std::string ct = res.header("content-type");
    EXPECT_TRUE(ct.rfind("application/scim+json", 0) == 0 || ct.rfind("application/json", 0) == 0)
        << "Content-Type: " << ct;
    boost::json::value v;
    try {
        v = res.json();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "error body is not JSON: " << e.what() << ": " << res.body;
        return;
    }
    ASSERT_TRUE(v.is_object()) << res.body;
    const auto& o = v.as_object();
    ASSERT_TRUE(o.contains("schemas")) << res.body;
    EXPECT_EQ(o.at("schemas"), (boost::json::array{kErrorSchema})) << res.body;
    ASSERT_TRUE(o.contains("status")) << res.body;
    ASSERT_TRUE(o.at("status").is_string()) << "status must be a string: " << res.body;
    EXPECT_EQ(o.at("status").as_string(), std::to_string(status));
    ASSERT_TRUE(o.contains("detail")) << res.body;
    ASSERT_TRUE(o.at("detail").is_string()) << res.body;
    EXPECT_FALSE(o.at("detail").as_string().empty());
    if (!scim_type.empty()) {
        ASSERT_TRUE(o.contains("scimType")) << res.body;
        EXPECT_EQ(o.at("scimType").as_string(), scim_type) << res.body;
    }
}

/// Which database an end-to-end suite runs on.
enum class Db { kSqlite, kPostgres };

inline std::string db_name(const ::testing::TestParamInfo<Db>& p) {
    return p.param == Db::kSqlite ? "sqlite" : "postgresql";
}

/// The real server (app::App) on 127.0.0.1:0 over HTTPS with the test CA, a fresh database,
/// one organization and a SCIM token for it.
class ServerFixture : public ::testing::TestWithParam<Db> {
protected:
    void SetUp() override {
        std::string url;
        if (GetParam() == Db::kPostgres) {
            auto pg = postgres_url();
            if (!pg) {
                if (postgres_required()) {
                    FAIL() << "SCIMD_TEST_PG_DSN is not set but SCIMD_REQUIRE_PG=1";
                }
                GTEST_SKIP() << "SCIMD_TEST_PG_DSN not set";
            }
            url = *pg;
        } else {
            url = sqlite_url();
        }
        http::ServerConfig config;
        config.port = 0;
        config.cert_file = certs().cert;
        config.key_file = certs().key;
        config.workers = 4;
        config.access_log = false;
        mail_dir_ =
            (std::filesystem::temp_directory_path() / ("scimd-mail-" + util::uuid_v4())).string();
        app::MailConfig mail;
        mail.dir = mail_dir_;
        adjust_mail(mail);
        app_ = std::make_unique<app::App>(url, config, "https://localhost:0", token_cache_ttl(),
                                          mail, dns_server());
        port_ = app_->server().port();
        org_id_ = make_org("acme");
        token_ = make_token(org_id_);
        app_->server().start();
        client_ = std::make_unique<HttpClient>(port_, token_);
    }

    /// Tokens are read on every request unless a suite says otherwise, so that a revocation
    /// made by a test takes effect at once.
    virtual std::chrono::milliseconds token_cache_ttl() const {
        return std::chrono::milliseconds(0);
    }

    /// Where domain verification asks DNS: "" (the system) unless a suite runs its own server.
    virtual std::string dns_server() const { return ""; }

    /// Mail goes to .eml files under mail_dir_ unless a suite says otherwise.
    virtual void adjust_mail(app::MailConfig&) const {}

    void TearDown() override {
        client_.reset();
        if (app_) {
            app_->server().stop();
            app_->server().wait();
        }
        std::error_code ignored;
        std::filesystem::remove_all(mail_dir_, ignored);
    }

    std::string make_org(const std::string& name) {
        store::SqlOrganizationRepository orgs(app_->database());
        core::Organization org{util::uuid_v4(), name, "2026-01-01T00:00:00.000Z"};
        orgs.insert(org);
        return org.id;
    }

    std::string make_token(const std::string& org_id, std::optional<std::string> expires = {}) {
        const std::string secret = "scimd_" + util::base64url(util::random_bytes(32));
        core::ScimToken t;
        t.id = util::uuid_v4();
        t.org_id = org_id;
        t.name = "test";
        t.hash = util::sha256_hex(secret);
        t.created = "2026-01-01T00:00:00.000Z";
        t.expires = std::move(expires);
        store::SqlTokenRepository(app_->database()).insert(t);
        last_token_id_ = t.id;
        return secret;
    }

    HttpClient& client() { return *client_; }

    /// A second client on the same server, authenticated with `token` ("" for none).
    std::unique_ptr<HttpClient> make_client(std::string token) const {
        return std::make_unique<HttpClient>(port_, std::move(token));
    }

    /// Creates a user over HTTP and returns its id (empty, with a test failure, on error).
    std::string create_user(const boost::json::object& body) {
        const auto res = client().post("/scim/v2/Users", boost::json::serialize(body));
        EXPECT_EQ(res.status, 201) << res.body;
        if (res.status != 201) {
            return {};
        }
        return std::string(res.json().at("id").as_string());
    }

    /// Creates a minimal user named `user_name` and returns its id.
    std::string create_user(const std::string& user_name) {
        return create_user(boost::json::object{{"schemas", boost::json::array{kUserSchema}},
                                               {"userName", user_name}});
    }

    std::unique_ptr<app::App> app_;
    std::string mail_dir_;  ///< where the file transport drops this test's mail
    std::unique_ptr<HttpClient> client_;
    std::uint16_t port_ = 0;
    std::string org_id_;
    std::string token_;
    std::string last_token_id_;
};

}  // namespace scimd::test
