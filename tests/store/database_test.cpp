#include "scimd/store/database.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "store/store_fixture.hpp"
#include <gtest/gtest.h>
#include <soci/soci.h>

#include "scimd/error.hpp"
#include "scimd/protocol/filter.hpp"
#include "scimd/store/repositories.hpp"

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

// SQLite's writes are committed in groups by one writer (Database::run_write), each write
// in its own savepoint: a write that fails takes back its own rows only, every caller hears
// its own outcome, and each returns only once its rows are committed.
TEST_P(SqliteSettingsTest, GroupCommitKeepsEachWriteApart) {
    constexpr int kWrites = 24;
    std::latch start(kWrites);
    std::vector<std::string> outcome(kWrites);
    std::vector<std::thread> threads;
    for (int i = 0; i < kWrites; ++i) {
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            try {
                db_->run_write([&](soci::session& sql) {
                    std::string id = "org-" + std::to_string(i), at = test_time(0);
                    sql << "INSERT INTO organizations (id, name, created) VALUES (:id, :name, "
                           ":at)",
                        soci::use(id, "id"), soci::use(id, "name"), soci::use(at, "at");
                    if (i % 3 == 0) {
                        throw Error::conflict("write " + std::to_string(i) + " refused");
                    }
                });
                // Committed before run_write returns: another connection sees it at once.
                soci::session other(db_->pool());
                const std::string id = "org-" + std::to_string(i);
                int seen = 0;
                other << "SELECT COUNT(*) FROM organizations WHERE id = :id", soci::use(id),
                    soci::into(seen);
                outcome[static_cast<std::size_t>(i)] = seen == 1 ? "kept" : "not visible";
            } catch (const Error& e) {
                outcome[static_cast<std::size_t>(i)] = e.what();
            }
        });
    }
    for (std::thread& t : threads) {
        t.join();
    }
    soci::session sql(db_->pool());
    for (int i = 0; i < kWrites; ++i) {
        const std::string id = "org-" + std::to_string(i);
        int rows = 0;
        sql << "SELECT COUNT(*) FROM organizations WHERE id = :id", soci::use(id), soci::into(rows);
        if (i % 3 == 0) {
            EXPECT_EQ(outcome[static_cast<std::size_t>(i)],
                      "write " + std::to_string(i) + " refused");
            EXPECT_EQ(rows, 0) << "write " << i << " failed: its row is taken back";
        } else {
            EXPECT_EQ(outcome[static_cast<std::size_t>(i)], "kept");
            EXPECT_EQ(rows, 1) << "write " << i;
        }
    }
}

// A write that writes again (on the writer's own thread) runs inside the current commit
// instead of waiting for a commit that waits for it.
TEST_P(SqliteSettingsTest, AWriteInsideAWriteRunsAtOnce) {
    db_->run_write([&](soci::session& outer) {
        EXPECT_TRUE(db_->is_writer(outer));
        db_->run_write([&](soci::session& inner) {
            EXPECT_EQ(&inner, &outer);
            std::string at = test_time(0);
            inner << "INSERT INTO organizations (id, name, created) VALUES ('n', 'n', :at)",
                soci::use(at, "at");
        });
    });
    soci::session sql(db_->pool());
    int rows = 0;
    sql << "SELECT COUNT(*) FROM organizations WHERE id = 'n'", soci::into(rows);
    EXPECT_EQ(rows, 1);
}

// The writer's write-ahead log is checkpointed beside it, by a thread of its own: the pages
// reach the database file while the writes go on, and the log starts over instead of
// growing, even when the writes never pause.
TEST_P(SqliteSettingsTest, TheLogIsCheckpointedBesideTheWriter) {
    constexpr int kPages = 32;
    auto db = open(1);
    db->checkpoint_every(kPages);
    db->run_write([](soci::session& sql) { sql << "CREATE TABLE scratch (x BLOB)"; });
    const std::string path = url_.substr(std::string("sqlite:").size());
    std::uintmax_t largest_log = 0;
    for (int i = 0; i < 1000; ++i) {  // about 1,000 pages, one write at a time
        db->run_write(
            [](soci::session& sql) { sql << "INSERT INTO scratch VALUES (randomblob(4000))"; });
        largest_log = std::max(largest_log, std::filesystem::file_size(path + "-wal"));
    }
    // Under the writer's own checkpoints (every 8,000 pages) both would fail: the pages would
    // all still be in the log.
    EXPECT_LT(largest_log, 4U * kPages * 4096) << "the log starts over";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::filesystem::file_size(path) < 3'000'000 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_GE(std::filesystem::file_size(path), 3'000'000U) << "the pages reached the file";
}

// The reads an IdP sends most (an account by id, by userName, a page) run on statements kept
// per SQLite connection. Each is reset once read: a statement left on its row would hold its
// connection's snapshot, and a checkpoint could then never bring the log back to empty.
TEST_P(SqliteSettingsTest, KeptReadsHoldNoSnapshot) {
    auto db = open(1);
    const std::string org = make_org("Acme");
    store::SqlUserRepository users(*db);
    const core::UserRecord ann = make_user(org, R"({"userName":"ann"})");
    users.insert(ann);
    users.insert(make_user(org, R"({"userName":"bob"})"));
    const core::Filter by_name =
        protocol::parse_filter(R"(userName eq "ann")", registry(), user_type());
    core::ListQuery named;
    named.filter = &by_name;
    core::ListQuery first;
    first.count = 1;  // a page that stops before the last row
    ASSERT_TRUE(users.find(org, ann.id).has_value());
    ASSERT_EQ(users.list(org, named).items.size(), 1U);
    ASSERT_EQ(users.list(org, first).items.size(), 1U);
    // A write after the reads, then a checkpoint that waits for every reader to be on the
    // newest snapshot: it finds none on an old one.
    users.insert(make_user(org, R"({"userName":"carl"})"));
    int busy = -1, log = -1, done = -1;
    soci::session other(db_->pool());
    other << "PRAGMA wal_checkpoint(TRUNCATE)", soci::into(busy), soci::into(log), soci::into(done);
    EXPECT_EQ(busy, 0) << "a reader kept an old snapshot";
    EXPECT_EQ(log, 0) << "the log is back to empty";
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
