#include "scimd/store/database.hpp"

#include <memory>
#include <string>
#include <vector>

#include "store/store_fixture.hpp"
#include <gtest/gtest.h>
#include <soci/soci.h>

#include "scimd/error.hpp"

namespace scimd::test {
namespace {

using DatabaseTest = StoreTest;

TEST_P(DatabaseTest, MigrateIsIdempotent) {
    // SetUp applied every migration; a second run (and a second pool) applies none.
    EXPECT_EQ(db_->migrate(), 0);
    EXPECT_EQ(open(1)->migrate(), 0);

    soci::session sql(db_->pool());
    int version = 0;
    int rows = 0;
    sql << "SELECT MAX(version), COUNT(*) FROM schema_migrations", soci::into(version),
        soci::into(rows);
    EXPECT_GE(version, 1);
    EXPECT_EQ(rows, version);  // one row per applied migration, none twice
    int users = -1;
    sql << "SELECT COUNT(*) FROM users", soci::into(users);
    EXPECT_EQ(users, 0);
}

TEST_P(DatabaseTest, Ping) {
    EXPECT_TRUE(db_->ping());
    EXPECT_EQ(db_->backend(), GetParam());
    EXPECT_EQ(db_->size(), kPoolSize);
}

// A PostgreSQL connection can be cut from outside (a restart, a failover); a SQLite file
// cannot, so this suite runs on PostgreSQL only.
class PostgresConnectionTest : public DatabaseTest {};

TEST_P(PostgresConnectionTest, LostConnectionsAre503ThenReconnect) {
    auto db = open(1);
    ASSERT_TRUE(db->ping());
    const auto cut = [&] {
        soci::session admin(db_->pool());
        admin << "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                 "WHERE datname = current_database() AND pid <> pg_backend_pid()";
    };
    cut();
    EXPECT_FALSE(db->ping());
    EXPECT_TRUE(db->ping()) << "the lost connection is reconnected after the failure";
    cut();
    store::SqlOrganizationRepository orgs(*db);
    try {
        orgs.find("anything");
        ADD_FAILURE() << "a lost connection must fail the call";
    } catch (const scimd::Error& e) {
        EXPECT_EQ(e.status(), 503);
    }
    EXPECT_FALSE(orgs.find("anything").has_value()) << "and the next call works again";
}

// Reading an account uses a statement prepared once per PostgreSQL connection. The server
// forgets it when the connection is lost; the reconnected connection prepares it again.
TEST_P(PostgresConnectionTest, PreparedReadsSurviveAReconnect) {
    auto db = open(1);
    const std::string org = make_org("Acme");
    const core::UserRecord u = make_user(org, R"({"userName":"ann","externalId":"x1"})");
    store::SqlUserRepository users(*db);
    users.insert(u);
    ASSERT_TRUE(users.find(org, u.id).has_value());
    ASSERT_TRUE(users.find(org, u.id).has_value()) << "the statement is reused";
    soci::session admin(db_->pool());
    admin << "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
             "WHERE datname = current_database() AND pid <> pg_backend_pid()";
    try {
        users.find(org, u.id);
        ADD_FAILURE() << "a lost connection must fail the call";
    } catch (const scimd::Error& e) {
        EXPECT_EQ(e.status(), 503);
    }
    const auto again = users.find(org, u.id);
    ASSERT_TRUE(again.has_value()) << "prepared again on the new connection";
    EXPECT_EQ(again->user_name, "ann");
    EXPECT_EQ(again->external_id, "x1");
    EXPECT_FALSE(again->display_name.has_value());
    EXPECT_EQ(boost::json::parse(again->document), boost::json::parse(u.document));
    EXPECT_FALSE(users.find(org, "no-such-id").has_value());
}

// Every pooled SQLite connection runs in WAL mode with a busy timeout, foreign keys on, and
// a write-ahead log that is checkpointed every 8,000 pages and cut back to 64 MiB.
class SqliteSettingsTest : public DatabaseTest {};

TEST_P(SqliteSettingsTest, EveryPooledConnectionIsConfigured) {
    auto db = open(3);
    std::vector<std::unique_ptr<soci::session>> leases;
    for (int i = 0; i < 3; ++i) {
        auto s = std::make_unique<soci::session>(db->pool());
        std::string journal;
        int busy = 0, fk = 0, checkpoint = 0;
        long long limit = 0;
        *s << "PRAGMA journal_mode", soci::into(journal);
        *s << "PRAGMA busy_timeout", soci::into(busy);
        *s << "PRAGMA foreign_keys", soci::into(fk);
        *s << "PRAGMA wal_autocheckpoint", soci::into(checkpoint);
        *s << "PRAGMA journal_size_limit", soci::into(limit);
        EXPECT_EQ(journal, "wal");
        EXPECT_EQ(busy, 10000);
        EXPECT_EQ(fk, 1);
        EXPECT_EQ(checkpoint, 8000);
        EXPECT_EQ(limit, 67108864);
        leases.push_back(std::move(s));  // hold it, so that the next lease is another one
    }
}

INSTANTIATE_TEST_SUITE_P(Sqlite,
                         SqliteSettingsTest,
                         ::testing::Values(store::Backend::kSqlite),
                         backend_name);

INSTANTIATE_TEST_SUITE_P(Postgres,
                         PostgresConnectionTest,
                         ::testing::Values(store::Backend::kPostgres),
                         backend_name);

// userName eq is the lookup every IdP sends before provisioning: it must use the unique
// (org_id, user_name_key) index, not a scan of the tenant.
TEST_P(DatabaseTest, UserNameLookupUsesTheIndex) {
    soci::session sql(db_->pool());
    std::string plan;
    if (GetParam() == store::Backend::kSqlite) {
        soci::rowset<soci::row> rows =
            (sql.prepare << "EXPLAIN QUERY PLAN SELECT u.id FROM users u "
                            "WHERE u.org_id = 'o' AND u.user_name_key = 'bjensen'");
        for (const soci::row& r : rows) {
            plan += r.get<std::string>(3) + "\n";
        }
    } else {
        // PostgreSQL plans by statistics: give it a tenant of a few thousand users, so that
        // the unique index is the plain best choice.
        sql << "INSERT INTO organizations (id, name, created) VALUES ('o', 'o', 'now')";
        sql << "INSERT INTO users (id, org_id, user_name, user_name_key, active, document, "
               "version, created, last_modified) SELECT 'id' || g, 'o', 'user' || g, 'user' || g, "
               "1, '{}', 1, 'now', 'now' FROM generate_series(1, 5000) AS g";
        sql << "ANALYZE users";
        soci::rowset<std::string> rows =
            (sql.prepare << "EXPLAIN SELECT u.id FROM users u "
                            "WHERE u.org_id = 'o' AND u.user_name_key = 'user42'");
        for (const std::string& line : rows) {
            plan += line + "\n";
        }
    }
    EXPECT_NE(plan.find("users_org_user_name"), std::string::npos) << plan;
}

INSTANTIATE_TEST_SUITE_P(Backends, DatabaseTest, kBackends, backend_name);

}  // namespace
}  // namespace scimd::test
