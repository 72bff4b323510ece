#include <atomic>
#include <latch>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/store_fixture.hpp"
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "scimd/error.hpp"
#include "scimd/protocol/filter.hpp"
#include "scimd/store/repositories.hpp"

namespace scimd::test {
namespace {

namespace json = boost::json;

class UserRepositoryTest : public StoreTest {
protected:
    void SetUp() override {
        StoreTest::SetUp();
        if (HasFatalFailure() || IsSkipped()) {
            return;
        }
        org_ = make_org("acme");
        other_org_ = make_org("globex");
    }

    // The users of `org` as the list endpoint sees them, in insertion order.
    std::vector<core::UserRecord> all(const std::string& org) {
        core::ListQuery q;
        q.count = 1000;
        return store::SqlUserRepository(*db_).list(org, q).items;
    }

    std::string org_;
    std::string other_org_;
};

// A conflict is Error 409 uniqueness; anything else fails the test.
template <class F>
void expect_uniqueness(F&& write) {
    try {
        write();
        ADD_FAILURE() << "the write was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.status(), 409) << e.detail();
        EXPECT_EQ(e.scim_type(), ScimType::kUniqueness) << e.detail();
    }
}

// The status of the scimd::Error that `f` throws (0 if none).
template <typename F>
int conflict(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.status();
    }
    return 0;
}

constexpr const char* kBarbara = R"({
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "userName": "bjensen", "externalId": "ext-1", "displayName": "Babs Jensen",
    "name": {"givenName": "Barbara", "familyName": "Jensen"}, "active": false,
    "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
               {"value": "babs@jensen.org", "type": "home"}]})";

TEST_P(UserRepositoryTest, InsertThenFindReturnsEveryColumn) {
    store::SqlUserRepository users(*db_);
    const core::UserRecord u = make_user(org_, kBarbara, test_time(7));
    users.insert(u);

    auto found = users.find(org_, u.id);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->id, u.id);
    EXPECT_EQ(found->org_id, org_);
    EXPECT_EQ(found->user_name, "bjensen");
    EXPECT_EQ(found->external_id, "ext-1");
    EXPECT_EQ(found->display_name, "Babs Jensen");
    EXPECT_FALSE(found->active);
    EXPECT_EQ(found->version, 1);
    EXPECT_EQ(found->created, test_time(7));
    EXPECT_EQ(found->last_modified, test_time(7));
    // PostgreSQL stores jsonb, which reorders keys: compare as JSON.
    EXPECT_EQ(json::parse(found->document), json::parse(u.document));
    EXPECT_EQ(json::parse(found->document).at("name").at("familyName"), "Jensen");

    EXPECT_FALSE(users.find(org_, util::uuid_v4()).has_value());
}

TEST_P(UserRepositoryTest, AbsentOptionalColumnsComeBackAbsent) {
    store::SqlUserRepository users(*db_);
    const core::UserRecord u = make_user(org_, R"({"userName": "minimal"})");
    ASSERT_FALSE(u.external_id.has_value());
    users.insert(u);
    auto found = users.find(org_, u.id);
    ASSERT_TRUE(found.has_value());
    EXPECT_FALSE(found->external_id.has_value());
    EXPECT_FALSE(found->display_name.has_value());
    EXPECT_TRUE(found->active);
}

TEST_P(UserRepositoryTest, UpdateChecksTheExpectedVersion) {
    store::SqlUserRepository users(*db_);
    core::UserRecord u = make_user(org_, kBarbara, test_time(0));
    users.insert(u);

    core::UserRecord next = make_user(org_, R"({"userName": "barbara", "externalId": "ext-2",
        "emails": [{"value": "barbara@example.net", "type": "work"}]})",
                                      test_time(0));
    next.id = u.id;
    next.version = 2;
    next.last_modified = test_time(5);

    // A stale version changes nothing.
    EXPECT_FALSE(users.update(next, 7));
    auto unchanged = users.find(org_, u.id);
    ASSERT_TRUE(unchanged.has_value());
    EXPECT_EQ(unchanged->user_name, "bjensen");
    EXPECT_EQ(unchanged->version, 1);
    EXPECT_EQ(unchanged->last_modified, test_time(0));
    EXPECT_EQ(json::parse(unchanged->document), json::parse(u.document));

    EXPECT_TRUE(users.update(next, 1));
    auto updated = users.find(org_, u.id);
    ASSERT_TRUE(updated.has_value());
    EXPECT_EQ(updated->user_name, "barbara");
    EXPECT_EQ(updated->external_id, "ext-2");
    EXPECT_FALSE(updated->display_name.has_value());
    EXPECT_TRUE(updated->active);
    EXPECT_EQ(updated->version, 2);
    EXPECT_EQ(updated->created, test_time(0));
    EXPECT_EQ(updated->last_modified, test_time(5));
    EXPECT_EQ(json::parse(updated->document), json::parse(next.document));

    // The same expected version a second time is now stale.
    next.version = 3;
    EXPECT_FALSE(users.update(next, 1));
    EXPECT_EQ(users.find(org_, u.id)->version, 2);
}

TEST_P(UserRepositoryTest, UpdateReplacesTheEmailIndex) {
    store::SqlUserRepository users(*db_);
    core::UserRecord u = make_user(org_, kBarbara);
    users.insert(u);
    core::UserRecord next = make_user(org_, R"({"userName": "bjensen",
        "emails": [{"value": "new@example.net", "type": "home"}]})");
    next.id = u.id;
    next.version = 2;
    ASSERT_TRUE(users.update(next, 1));

    // The email table is what emails filters read: the old addresses must be gone.
    auto count = [&](const char* text) {
        const core::Filter f = protocol::parse_filter(text, registry(), user_type());
        core::ListQuery q;
        q.filter = &f;
        return users.list(org_, q).total;
    };
    EXPECT_EQ(count(R"(emails.value eq "bjensen@example.com")"), 0);
    EXPECT_EQ(count(R"(emails.value eq "new@example.net")"), 1);
    EXPECT_EQ(count(R"(emails[type eq "work"])"), 0);
    EXPECT_EQ(count(R"(emails[type eq "home" and value eq "NEW@example.net"])"), 1);
}

// The batch insert (seeding, imports) stores the same rows as insert(), keeps the
// organization's count, indexes emails, and is all or nothing.
TEST_P(UserRepositoryTest, InsertManyStoresEveryRowOrNone) {
    const std::string& org = org_;
    store::SqlUserRepository repo(*db_);
    std::vector<core::UserRecord> batch;
    for (int i = 0; i < 3; ++i) {
        batch.push_back(make_user(org, R"({"userName":"bulk)" + std::to_string(i) +
                                           R"(","displayName":"Bulk","emails":[{"value":"Bulk)" +
                                           std::to_string(i) +
                                           R"(@Example.com","type":"work"}]})"));
    }
    repo.insert_many(batch);
    const auto found = repo.find(org, batch[1].id);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->user_name, "bulk1");
    EXPECT_EQ(found->display_name, std::optional<std::string>("Bulk"));
    EXPECT_EQ(boost::json::parse(found->document), boost::json::parse(batch[1].document));
    core::ListQuery all;
    EXPECT_EQ(repo.list(org, all).total, 3);
    const core::Filter f = protocol::parse_filter(
        R"(emails[type eq "work" and value eq "bulk2@example.com"])", registry(), user_type());
    core::ListQuery q;
    q.filter = &f;
    const auto page = repo.list(org, q);
    ASSERT_EQ(page.total, 1);
    EXPECT_EQ(page.items.at(0).id, batch[2].id);

    // A batch with a taken userName stores nothing.
    std::vector<core::UserRecord> clash = {make_user(org, R"({"userName":"fresh"})"),
                                           make_user(org, R"({"userName":"BULK0"})")};
    try {
        repo.insert_many(clash);
        ADD_FAILURE() << "a taken userName must fail the batch";
    } catch (const scimd::Error& e) {
        EXPECT_EQ(e.status(), 409);
    }
    EXPECT_FALSE(repo.find(org, clash[0].id).has_value());
    EXPECT_EQ(repo.list(org, all).total, 3);
}

// One connection serves write after write, also after a failed one: on SQLite the insert and
// update statements are prepared once per connection and reused.
TEST_P(UserRepositoryTest, OneConnectionWritesAgainAfterAFailedWrite) {
    auto single = open(1);
    store::SqlUserRepository repo(*single);
    const core::UserRecord first =
        make_user(org_, R"({"userName":"first","emails":[{"value":"a@x.org"}]})");
    repo.insert(first);
    EXPECT_EQ(conflict([&] { repo.insert(make_user(org_, R"({"userName":"FIRST"})")); }), 409);
    const core::UserRecord second = make_user(org_, R"({"userName":"second"})");
    repo.insert(second);
    core::UserRecord renamed = second;
    renamed.user_name = "first";
    renamed.version = 2;
    EXPECT_EQ(conflict([&] { repo.update(renamed, 1); }), 409);
    EXPECT_FALSE(repo.update(renamed, 7)) << "a stale version changes nothing";
    core::UserRecord changed = first;
    changed.display_name = "First";
    changed.emails = {{"b@x.org", "work", true}};
    changed.version = 2;
    EXPECT_TRUE(repo.update(changed, 1));
    const auto stored = repo.find(org_, first.id);
    ASSERT_TRUE(stored.has_value());
    EXPECT_EQ(stored->display_name, std::optional<std::string>("First"));
    EXPECT_EQ(repo.find(org_, second.id)->user_name, "second");
    const core::Filter f =
        protocol::parse_filter(R"(emails.value eq "b@x.org")", registry(), user_type());
    core::ListQuery q;
    q.filter = &f;
    const auto page = repo.list(org_, q);
    ASSERT_EQ(page.total, 1);
    EXPECT_EQ(page.items.at(0).id, first.id);
    EXPECT_EQ(repo.list(org_, core::ListQuery{}).total, 2);
}

TEST_P(UserRepositoryTest, RemoveOnce) {
    store::SqlUserRepository users(*db_);
    const core::UserRecord u = make_user(org_, kBarbara);
    const core::UserRecord keep = make_user(org_, R"({"userName": "keep"})");
    users.insert(u);
    users.insert(keep);
    EXPECT_TRUE(users.remove(org_, u.id));
    EXPECT_FALSE(users.find(org_, u.id).has_value());
    EXPECT_FALSE(users.remove(org_, u.id));
    EXPECT_TRUE(users.find(org_, keep.id).has_value());
    EXPECT_EQ(all(org_).size(), 1u);
    // The userName is free again.
    EXPECT_NO_THROW(users.insert(make_user(org_, kBarbara)));
}

TEST_P(UserRepositoryTest, AnotherOrganizationCannotSeeOrTouchAUser) {
    store::SqlUserRepository users(*db_);
    const core::UserRecord u = make_user(org_, kBarbara);
    users.insert(u);

    EXPECT_FALSE(users.find(other_org_, u.id).has_value());
    EXPECT_FALSE(users.remove(other_org_, u.id));

    core::UserRecord hijack = make_user(other_org_, R"({"userName": "hijacked"})");
    hijack.id = u.id;
    hijack.version = 2;
    EXPECT_FALSE(users.update(hijack, 1));

    auto still = users.find(org_, u.id);
    ASSERT_TRUE(still.has_value());
    EXPECT_EQ(still->user_name, "bjensen");
    EXPECT_EQ(still->version, 1);
    EXPECT_TRUE(all(other_org_).empty());
    EXPECT_EQ(all(org_).size(), 1u);
}

TEST_P(UserRepositoryTest, UserNameIsUniqueCaseInsensitivelyPerOrganization) {
    store::SqlUserRepository users(*db_);
    users.insert(make_user(org_, R"({"userName": "bjensen"})"));
    expect_uniqueness([&] { users.insert(make_user(org_, R"({"userName": "BJensen"})")); });
    expect_uniqueness([&] { users.insert(make_user(org_, R"({"userName": "bjensen"})")); });
    EXPECT_EQ(all(org_).size(), 1u);

    // Another organization may have its own bjensen.
    const core::UserRecord theirs = make_user(other_org_, R"({"userName": "BJENSEN"})");
    EXPECT_NO_THROW(users.insert(theirs));
    EXPECT_EQ(all(other_org_).size(), 1u);
    EXPECT_EQ(users.find(other_org_, theirs.id)->user_name, "BJENSEN");
}

TEST_P(UserRepositoryTest, UpdateToATakenUserNameIsAConflictAndChangesNothing) {
    store::SqlUserRepository users(*db_);
    users.insert(make_user(org_, R"({"userName": "bjensen"})"));
    const core::UserRecord jsmith = make_user(org_, R"({"userName": "jsmith",
        "emails": [{"value": "jsmith@example.com"}]})",
                                              test_time(1));
    users.insert(jsmith);

    core::UserRecord next = make_user(org_, R"({"userName": "BJENSEN",
        "emails": [{"value": "other@example.com"}]})");
    next.id = jsmith.id;
    next.version = 2;
    next.last_modified = test_time(9);
    expect_uniqueness([&] { users.update(next, 1); });

    auto row = users.find(org_, jsmith.id);
    ASSERT_TRUE(row.has_value());
    EXPECT_EQ(row->user_name, "jsmith");
    EXPECT_EQ(row->version, 1);
    EXPECT_EQ(row->last_modified, test_time(1));
    EXPECT_EQ(json::parse(row->document), json::parse(jsmith.document));

    // Changing only the casing of one's own userName is no conflict.
    next.user_name = "JSmith";
    EXPECT_TRUE(users.update(next, 1));
    EXPECT_EQ(users.find(org_, jsmith.id)->user_name, "JSmith");
}

// Two IdP requests creating the same user at once: the database, not a read-then-write check,
// decides. Exactly one wins; every other gets 409 uniqueness, never a driver error or 500.
TEST_P(UserRepositoryTest, ConcurrentInsertsOfOneUserNameHaveOneWinner) {
    constexpr int kThreads = 8;
    auto pool = open(kThreads);
    store::SqlUserRepository users(*pool);
    std::vector<core::UserRecord> records;
    for (int i = 0; i < kThreads; ++i) {
        // Different casings of one name: the key column, not the text, must collide.
        records.push_back(
            make_user(org_, i % 2 == 0 ? R"({"userName": "racer"})" : R"({"userName": "RACER"})"));
    }
    std::atomic<int> won{0}, conflicts{0}, other{0};
    std::mutex m;
    std::vector<std::string> unexpected;
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            try {
                users.insert(records[static_cast<std::size_t>(i)]);
                ++won;
            } catch (const Error& e) {
                if (e.status() == 409 && e.scim_type() == ScimType::kUniqueness) {
                    ++conflicts;
                } else {
                    ++other;
                    std::lock_guard lock(m);
                    unexpected.push_back(e.what());
                }
            } catch (const std::exception& e) {
                ++other;
                std::lock_guard lock(m);
                unexpected.push_back(e.what());
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(won.load(), 1);
    EXPECT_EQ(conflicts.load(), kThreads - 1);
    EXPECT_EQ(other.load(), 0) << (unexpected.empty() ? "" : unexpected.front());
    const std::vector<core::UserRecord> stored = all(org_);
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(store::SqlUserRepository(*db_).find(org_, stored[0].id)->version, 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, UserRepositoryTest, kBackends, backend_name);

}  // namespace
}  // namespace scimd::test
