#include <algorithm>
#include <string>
#include <vector>

#include "store/store_fixture.hpp"
#include <gtest/gtest.h>

#include "scimd/error.hpp"
#include "scimd/store/repositories.hpp"

namespace scimd::test {
namespace {

using OrganizationRepositoryTest = StoreTest;
using TokenRepositoryTest = StoreTest;

TEST_P(OrganizationRepositoryTest, InsertThenFindByIdAndByName) {
    store::SqlOrganizationRepository orgs(*db_);
    const core::Organization acme{util::uuid_v4(), "acme", test_time(1)};
    const core::Organization globex{util::uuid_v4(), "globex", test_time(2)};
    orgs.insert(acme);
    orgs.insert(globex);

    auto by_id = orgs.find(acme.id);
    ASSERT_TRUE(by_id.has_value());
    EXPECT_EQ(by_id->id, acme.id);
    EXPECT_EQ(by_id->name, "acme");
    EXPECT_EQ(by_id->created, test_time(1));

    auto by_name = orgs.find("globex");
    ASSERT_TRUE(by_name.has_value());
    EXPECT_EQ(by_name->id, globex.id);
    EXPECT_EQ(by_name->created, test_time(2));

    EXPECT_FALSE(orgs.find("initech").has_value());
    EXPECT_FALSE(orgs.find("ACME").has_value());  // names are exact
    EXPECT_FALSE(orgs.find("").has_value());

    const std::vector<core::Organization> all = orgs.list();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].name, "acme");  // by name
    EXPECT_EQ(all[1].name, "globex");
}

TEST_P(OrganizationRepositoryTest, IdWinsOverAnotherOrganizationsName) {
    store::SqlOrganizationRepository orgs(*db_);
    const core::Organization first{util::uuid_v4(), "first", test_time(0)};
    // An organization whose *name* is the id of the first one.
    const core::Organization squatter{util::uuid_v4(), first.id, test_time(0)};
    orgs.insert(squatter);
    orgs.insert(first);
    auto found = orgs.find(first.id);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->id, first.id);
    EXPECT_EQ(found->name, "first");
}

TEST_P(OrganizationRepositoryTest, DuplicateNameIsUniquenessConflict) {
    store::SqlOrganizationRepository orgs(*db_);
    orgs.insert({util::uuid_v4(), "acme", test_time(0)});
    try {
        orgs.insert({util::uuid_v4(), "acme", test_time(1)});
        FAIL() << "a second organization named acme was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.status(), 409);
        EXPECT_EQ(e.scim_type(), ScimType::kUniqueness);
        EXPECT_NE(e.detail().find("acme"), std::string::npos) << e.detail();
    }
    EXPECT_EQ(orgs.list().size(), 1u);
}

core::ScimToken token(const std::string& org_id,
                      const std::string& name,
                      const std::string& created) {
    core::ScimToken t;
    t.id = util::uuid_v4();
    t.org_id = org_id;
    t.name = name;
    t.hash = util::sha256_hex(t.id);
    t.created = created;
    return t;
}

TEST_P(TokenRepositoryTest, InsertAndFindByHash) {
    const std::string org = make_org("acme");
    store::SqlTokenRepository tokens(*db_);
    core::ScimToken t = token(org, "okta", test_time(1));
    t.expires = test_time(600);
    tokens.insert(t);

    auto found = tokens.find_by_hash(t.hash);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->id, t.id);
    EXPECT_EQ(found->org_id, org);
    EXPECT_EQ(found->name, "okta");
    EXPECT_EQ(found->hash, t.hash);
    EXPECT_EQ(found->created, test_time(1));
    EXPECT_EQ(found->expires, test_time(600));
    EXPECT_FALSE(found->revoked.has_value());
    EXPECT_FALSE(found->last_used.has_value());

    EXPECT_FALSE(tokens.find_by_hash(util::sha256_hex("other")).has_value());
    EXPECT_FALSE(tokens.find_by_hash("").has_value());
}

TEST_P(TokenRepositoryTest, ListIsPerOrganization) {
    const std::string acme = make_org("acme");
    const std::string globex = make_org("globex");
    store::SqlTokenRepository tokens(*db_);
    const core::ScimToken a2 = token(acme, "second", test_time(2));
    const core::ScimToken a1 = token(acme, "first", test_time(1));
    const core::ScimToken g1 = token(globex, "theirs", test_time(0));
    tokens.insert(a2);
    tokens.insert(g1);
    tokens.insert(a1);

    const std::vector<core::ScimToken> mine = tokens.list(acme);
    ASSERT_EQ(mine.size(), 2u);
    EXPECT_EQ(mine[0].id, a1.id);  // by creation time
    EXPECT_EQ(mine[1].id, a2.id);
    for (const auto& t : mine) {
        EXPECT_EQ(t.org_id, acme);
    }
    const std::vector<core::ScimToken> theirs = tokens.list(globex);
    ASSERT_EQ(theirs.size(), 1u);
    EXPECT_EQ(theirs[0].id, g1.id);
    EXPECT_TRUE(tokens.list(util::uuid_v4()).empty());
}

TEST_P(TokenRepositoryTest, RevokeOnceAndOnlyInItsOrganization) {
    const std::string acme = make_org("acme");
    const std::string globex = make_org("globex");
    store::SqlTokenRepository tokens(*db_);
    const core::ScimToken mine = token(acme, "mine", test_time(0));
    const core::ScimToken theirs = token(globex, "theirs", test_time(0));
    tokens.insert(mine);
    tokens.insert(theirs);

    // Another organization cannot revoke it.
    EXPECT_FALSE(tokens.revoke(acme, theirs.id, test_time(5)));
    EXPECT_FALSE(tokens.find_by_hash(theirs.hash)->revoked.has_value());

    EXPECT_TRUE(tokens.revoke(acme, mine.id, test_time(5)));
    EXPECT_EQ(tokens.find_by_hash(mine.hash)->revoked, test_time(5));
    // A second revoke changes nothing, not even the time.
    EXPECT_FALSE(tokens.revoke(acme, mine.id, test_time(9)));
    EXPECT_EQ(tokens.find_by_hash(mine.hash)->revoked, test_time(5));

    EXPECT_FALSE(tokens.revoke(acme, util::uuid_v4(), test_time(5)));
    EXPECT_TRUE(tokens.revoke(globex, theirs.id, test_time(6)));
    EXPECT_EQ(tokens.find_by_hash(theirs.hash)->revoked, test_time(6));
}

TEST_P(TokenRepositoryTest, TouchRecordsLastUse) {
    const std::string org = make_org("acme");
    store::SqlTokenRepository tokens(*db_);
    const core::ScimToken a = token(org, "a", test_time(0));
    const core::ScimToken b = token(org, "b", test_time(0));
    tokens.insert(a);
    tokens.insert(b);
    tokens.touch(a.id, test_time(3));
    EXPECT_EQ(tokens.find_by_hash(a.hash)->last_used, test_time(3));
    tokens.touch(a.id, test_time(4));
    EXPECT_EQ(tokens.find_by_hash(a.hash)->last_used, test_time(4));
    EXPECT_FALSE(tokens.find_by_hash(b.hash)->last_used.has_value());
    tokens.touch(util::uuid_v4(), test_time(5));  // unknown id: nothing happens
    EXPECT_EQ(tokens.find_by_hash(a.hash)->last_used, test_time(4));
}

INSTANTIATE_TEST_SUITE_P(Backends, OrganizationRepositoryTest, kBackends, backend_name);
INSTANTIATE_TEST_SUITE_P(Backends, TokenRepositoryTest, kBackends, backend_name);

}  // namespace
}  // namespace scimd::test
