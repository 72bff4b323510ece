#pragma once

// The one store suite, run on every backend (STYLE.md §3 #10): each fixture below is a
// TEST_P over store::Backend, instantiated with kBackends and named by backend_name.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "support/support.hpp"
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "scimd/core/clock.hpp"
#include "scimd/core/records.hpp"
#include "scimd/protocol/resource.hpp"
#include "scimd/protocol/schema.hpp"
#include "scimd/store/database.hpp"
#include "scimd/store/repositories.hpp"
#include "scimd/util/crypto.hpp"

namespace scimd::test {

inline const auto kBackends = ::testing::Values(store::Backend::kSqlite, store::Backend::kPostgres);

inline std::string backend_name(const ::testing::TestParamInfo<store::Backend>& p) {
    return p.param == store::Backend::kSqlite ? "sqlite" : "postgresql";
}

/// A fixed point in time, `minutes` after 2026-03-01T10:00:00Z, in the stored form.
inline std::string test_time(int minutes) {
    namespace chr = std::chrono;
    const chr::sys_days day = chr::year{2026} / chr::March / 1;
    return core::format_time(chr::system_clock::time_point(day) + chr::hours(10) +
                             chr::minutes(minutes));
}

inline const protocol::SchemaRegistry& registry() { return protocol::SchemaRegistry::builtin(); }
inline const protocol::ResourceTypeDef& user_type() { return *registry().resource_type("User"); }

/// A user of `org_id` built from a client body as POST /Users would store it: a fresh id,
/// version 1, created = lastModified = `at`.
inline core::UserRecord make_user(const std::string& org_id,
                                  std::string_view body,
                                  const std::string& at = test_time(0)) {
    boost::json::object doc =
        protocol::normalize_resource(boost::json::parse(body), registry(), user_type());
    core::UserRecord u;
    u.org_id = org_id;
    u.id = util::uuid_v4();
    protocol::prepare_user_record(doc, u);
    u.document = boost::json::serialize(doc);
    u.version = 1;
    u.created = at;
    u.last_modified = at;
    return u;
}

/// The resource protocol::matches() sees for a stored user: its document plus id and meta.
inline boost::json::object evaluator_view(const core::UserRecord& u) {
    boost::json::object o = boost::json::parse(u.document).as_object();
    o["id"] = u.id;
    o["meta"] = boost::json::object{
        {"resourceType", "User"}, {"created", u.created}, {"lastModified", u.last_modified}};
    return o;
}

/// A fresh, migrated database of the backend under test. PostgreSQL cases skip without
/// SCIMD_TEST_PG_DSN, and fail instead when SCIMD_REQUIRE_PG=1.
class StoreTest : public ::testing::TestWithParam<store::Backend> {
protected:
    static constexpr std::size_t kPoolSize = 2;

    void SetUp() override {
        if (GetParam() == store::Backend::kPostgres) {
            auto pg = postgres_url();
            if (!pg) {
                if (postgres_required()) {
                    FAIL() << "SCIMD_TEST_PG_DSN is not set but SCIMD_REQUIRE_PG=1";
                }
                GTEST_SKIP() << "SCIMD_TEST_PG_DSN not set";
            }
            url_ = *pg;
        } else {
            url_ = sqlite_url();
        }
        db_ = open(kPoolSize);
        ASSERT_GT(db_->migrate(), 0);
    }

    /// Another pool on the same database.
    std::unique_ptr<store::Database> open(std::size_t size) const {
        return std::make_unique<store::Database>(store::DatabaseUrl::parse(url_), size);
    }

    std::string make_org(const std::string& name) {
        core::Organization org{util::uuid_v4(), name, test_time(0)};
        store::SqlOrganizationRepository(*db_).insert(org);
        return org.id;
    }

    std::string url_;
    std::unique_ptr<store::Database> db_;
};

}  // namespace scimd::test
