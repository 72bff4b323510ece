#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "scimd/app/app.hpp"
#include "scimd/util/crypto.hpp"
#include "support/support.hpp"

namespace scimd::test {

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
        app_ = std::make_unique<app::App>(url, config, "https://localhost:0");
        port_ = app_->server().port();
        org_id_ = make_org("acme");
        token_ = make_token(org_id_);
        app_->server().start();
        client_ = std::make_unique<HttpClient>(port_, token_);
    }

    void TearDown() override {
        client_.reset();
        if (app_) {
            app_->server().stop();
            app_->server().wait();
        }
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

    std::unique_ptr<app::App> app_;
    std::unique_ptr<HttpClient> client_;
    std::uint16_t port_ = 0;
    std::string org_id_;
    std::string token_;
    std::string last_token_id_;
};

}  // namespace scimd::test
