#include <algorithm>
#include <string>
#include <vector>

#include "store/store_fixture.hpp"
#include <gtest/gtest.h>

#include "scimd/protocol/filter.hpp"
#include "scimd/store/repositories.hpp"

namespace scimd::test {
namespace {

constexpr const char* kEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

// Seven users inserted out of any sort order. Employee numbers are strings, so they sort as
// text ("10" < "100" < "9"); two users have none. The first email of each user sorts
// differently from its type and from the userName.
struct Seed {
    const char* user_name;
    const char* employee_number;  // nullptr: none
    const char* first_email;      // nullptr: no emails
    const char* first_email_type;
};
constexpr Seed kSeeds[] = {
    {"mike", "100", "Zulu@example.com", "home"},
    {"Alice", "9", "yankee@example.com", "work"},
    {"zed", nullptr, "X-ray@example.com", "work"},
    {"bob", "10", "alpha@example.com", "zzz"},
    {"Carol", "20", nullptr, nullptr},
    {"dave", nullptr, "Bravo@example.com", "aaa"},
    {"eve", "05", "charlie@example.com", "home"},
};

class UserListTest : public StoreTest {
protected:
    void SetUp() override {
        StoreTest::SetUp();
        if (HasFatalFailure() || IsSkipped()) {
            return;
        }
        org_ = make_org("acme");
        const std::string other = make_org("globex");
        store::SqlUserRepository users(*db_);
        int minute = 0;
        for (const Seed& s : kSeeds) {
            std::string body = std::string(R"({"userName":")") + s.user_name + "\"";
            if (s.employee_number != nullptr) {
                body += std::string(R"(,")") + kEnterprise + R"(":{"employeeNumber":")" +
                        s.employee_number + "\"}";
            }
            if (s.first_email != nullptr) {
                body += std::string(R"(,"emails":[{"value":")") + s.first_email + R"(","type":")" +
                        s.first_email_type +
                        R"("},{"value":"aaa-second@example.com","type":"other"}])";
            }
            body += "}";
            users.insert(make_user(org_, body, test_time(minute++)));
            // Every user has a twin in another organization, which no list may count.
            users.insert(make_user(other, body, test_time(minute++)));
        }
    }

    core::Page<core::UserRecord> list(std::int64_t start_index,
                                      std::int64_t count,
                                      const core::Filter* filter = nullptr) {
        core::ListQuery q;
        q.start_index = start_index;
        q.count = count;
        q.filter = filter;
        return store::SqlUserRepository(*db_).list(org_, q);
    }

    std::vector<std::string> sorted_names(const char* sort_by, bool descending) {
        const auto attr = registry().resolve(user_type(), sort_by);
        EXPECT_TRUE(attr.has_value()) << sort_by;
        core::ListQuery q;
        q.sort = core::SortSpec{attr->ref(), descending};
        return names(store::SqlUserRepository(*db_).list(org_, q));
    }

    static std::vector<std::string> names(const core::Page<core::UserRecord>& page) {
        std::vector<std::string> out;
        for (const auto& u : page.items) {
            out.push_back(u.user_name);
        }
        return out;
    }

    std::string org_;
};

using Names = std::vector<std::string>;

TEST_P(UserListTest, DefaultOrderIsInsertionOrderWithExactTotal) {
    const auto page = list(1, 100);
    EXPECT_EQ(page.total, 7);
    EXPECT_EQ(names(page), (Names{"mike", "Alice", "zed", "bob", "Carol", "dave", "eve"}));
    for (const auto& u : page.items) {
        EXPECT_EQ(u.org_id, org_);
    }
}

TEST_P(UserListTest, PagesAreStableAndCoverEveryUserOnce) {
    const auto p1 = list(1, 3);
    const auto p2 = list(4, 3);
    const auto p3 = list(7, 3);
    EXPECT_EQ(p1.total, 7);
    EXPECT_EQ(p2.total, 7);
    EXPECT_EQ(p3.total, 7);
    EXPECT_EQ(names(p1), (Names{"mike", "Alice", "zed"}));
    EXPECT_EQ(names(p2), (Names{"bob", "Carol", "dave"}));
    EXPECT_EQ(names(p3), (Names{"eve"}));
    // Pages that overlap agree on the order.
    EXPECT_EQ(names(list(3, 2)), (Names{"zed", "bob"}));
    // startIndex below 1 is read as 1 (RFC 7644 §3.4.2.4).
    EXPECT_EQ(names(list(0, 2)), (Names{"mike", "Alice"}));
}

TEST_P(UserListTest, CountZeroGivesTheTotalOnly) {
    const auto page = list(1, 0);
    EXPECT_EQ(page.total, 7);
    EXPECT_TRUE(page.items.empty());
}

TEST_P(UserListTest, StartIndexBeyondTheEndGivesNoItemsAndTheTotal) {
    for (std::int64_t start : {8, 9, 1000}) {
        const auto page = list(start, 10);
        EXPECT_EQ(page.total, 7) << start;
        EXPECT_TRUE(page.items.empty()) << start;
    }
}

TEST_P(UserListTest, FilteredTotalAndPaging) {
    // Users having the enterprise extension: mike, Alice, bob, Carol, eve.
    const core::Filter f = protocol::parse_filter(std::string(kEnterprise) + ":employeeNumber pr",
                                                  registry(), user_type());
    const auto p1 = list(1, 2, &f);
    const auto p2 = list(3, 2, &f);
    const auto p3 = list(5, 2, &f);
    EXPECT_EQ(p1.total, 5);
    EXPECT_EQ(p3.total, 5);
    EXPECT_EQ(names(p1), (Names{"mike", "Alice"}));
    EXPECT_EQ(names(p2), (Names{"bob", "Carol"}));
    EXPECT_EQ(names(p3), (Names{"eve"}));
    EXPECT_EQ(list(1, 0, &f).total, 5);
    EXPECT_TRUE(list(6, 2, &f).items.empty());
}

// The lookup IdPs send before every create (R-13), which SQLite answers from a statement
// kept per connection: userName matches case-insensitively, in this organization only (its
// twin in the other is not counted), and startIndex and count apply to the one match.
TEST_P(UserListTest, UserNameLookupPagesItsOneMatch) {
    const core::Filter alice =
        protocol::parse_filter(R"(userName eq "ALICE")", registry(), user_type());
    const auto found = list(1, 100, &alice);
    EXPECT_EQ(found.total, 1);
    EXPECT_EQ(names(found), (Names{"Alice"}));
    EXPECT_EQ(found.items.at(0).org_id, org_);
    const auto past = list(2, 100, &alice);
    EXPECT_EQ(past.total, 1);
    EXPECT_TRUE(past.items.empty());
    const auto counted = list(1, 0, &alice);
    EXPECT_EQ(counted.total, 1);
    EXPECT_TRUE(counted.items.empty());
    const core::Filter nobody =
        protocol::parse_filter(R"(userName eq "nobody")", registry(), user_type());
    const auto none = list(1, 100, &nobody);
    EXPECT_EQ(none.total, 0);
    EXPECT_TRUE(none.items.empty());
    // A userName is compared whole, not as a prefix.
    const core::Filter prefix =
        protocol::parse_filter(R"(userName eq "ali")", registry(), user_type());
    EXPECT_EQ(list(1, 100, &prefix).total, 0);
}

TEST_P(UserListTest, SortByUserNameIsCaseInsensitive) {
    EXPECT_EQ(sorted_names("userName", false),
              (Names{"Alice", "bob", "Carol", "dave", "eve", "mike", "zed"}));
    EXPECT_EQ(sorted_names("USERNAME", true),
              (Names{"zed", "mike", "eve", "dave", "Carol", "bob", "Alice"}));
}

TEST_P(UserListTest, SortByAnEnterpriseAttribute) {
    const std::string by = std::string(kEnterprise) + ":employeeNumber";
    // Text order. Users without a value come last when ascending and first when descending
    // (RFC 7644 §3.4.2.3), ties in insertion order.
    EXPECT_EQ(sorted_names(by.c_str(), false),
              (Names{"eve", "bob", "mike", "Carol", "Alice", "zed", "dave"}));
    EXPECT_EQ(sorted_names(by.c_str(), true),
              (Names{"dave", "zed", "Alice", "Carol", "mike", "bob", "eve"}));
}

TEST_P(UserListTest, DescendingIsTheReverseOfAscending) {
    const std::string ent = std::string(kEnterprise) + ":employeeNumber";
    for (const char* by : {"userName", "emails", "emails.value", "title", "meta.created",
                           "externalId", ent.c_str()}) {
        SCOPED_TRACE(by);
        Names asc = sorted_names(by, false);
        const Names desc = sorted_names(by, true);
        EXPECT_EQ(asc.size(), 7u);
        std::reverse(asc.begin(), asc.end());
        EXPECT_EQ(desc, asc);
    }
}

TEST_P(UserListTest, SortByEmailsUsesTheFirstValue) {
    // First values, case-insensitively: alpha (bob), Bravo (dave), charlie (eve),
    // X-ray (zed), yankee (Alice), Zulu (mike); Carol has none.
    const Names ascending{"bob", "dave", "eve", "zed", "Alice", "mike", "Carol"};
    EXPECT_EQ(sorted_names("emails.value", false), ascending);
    EXPECT_EQ(sorted_names("emails", false), ascending);
    EXPECT_EQ(sorted_names("emails", true),
              (Names{"Carol", "mike", "Alice", "zed", "eve", "dave", "bob"}));
}

TEST_P(UserListTest, SortTiesKeepInsertionOrder) {
    // Nobody has a title: every key ties, so the order is the insertion order.
    EXPECT_EQ(sorted_names("title", false),
              (Names{"mike", "Alice", "zed", "bob", "Carol", "dave", "eve"}));
}

INSTANTIATE_TEST_SUITE_P(Backends, UserListTest, kBackends, backend_name);

}  // namespace
}  // namespace scimd::test
