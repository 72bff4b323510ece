// Groups and their member rows (src/store/group_repository.cpp), on every backend: members are
// checked against the organization's Users and Groups, a change is all or nothing, nesting
// never makes a cycle, and removing a User or a Group removes its memberships.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <latch>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
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

using Ids = std::vector<std::string>;

const protocol::ResourceTypeDef& group_type() { return *registry().resource_type("Group"); }

// A group of `org_id` as POST /Groups would store it: a fresh id, version 1, created =
// lastModified = test_time(minute). Members are rows of their own, never in the document.
core::GroupRecord make_group(const std::string& org_id,
                             const std::string& display_name,
                             int minute = 0,
                             std::optional<std::string> external_id = std::nullopt) {
    core::GroupRecord g;
    g.id = util::uuid_v4();
    g.org_id = org_id;
    g.display_name = display_name;
    g.document = R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":")" +
                 display_name + "\"";
    if (external_id) {
        g.document += R"(,"externalId":")" + *external_id + "\"";
    }
    g.document += "}";
    g.external_id = std::move(external_id);
    g.version = 1;
    g.created = test_time(minute);
    g.last_modified = test_time(minute);
    return g;
}

core::MembershipChange adding(Ids ids) {
    core::MembershipChange c;
    c.add = std::move(ids);
    return c;
}

core::MembershipChange removing(Ids ids) {
    core::MembershipChange c;
    c.remove = std::move(ids);
    return c;
}

core::MembershipChange replacing(Ids ids) {
    core::MembershipChange c;
    c.replace_all = true;
    c.add = std::move(ids);
    return c;
}

Ids sorted(Ids ids) {
    std::sort(ids.begin(), ids.end());
    return ids;
}

// The members' ids, in the order the repository returned them.
Ids member_ids(const core::GroupRecord& g) {
    Ids out;
    for (const core::MemberRef& m : g.members) {
        out.push_back(m.value);
    }
    return out;
}

// "value type display" of each member, in the order the repository returned them.
std::vector<std::string> refs(const core::GroupRecord& g) {
    std::vector<std::string> out;
    for (const core::MemberRef& m : g.members) {
        out.push_back(m.value + " " + m.type + " " + m.display);
    }
    return out;
}

std::vector<std::string> names(const core::Page<core::GroupRecord>& page) {
    std::vector<std::string> out;
    for (const core::GroupRecord& g : page.items) {
        out.push_back(g.display_name);
    }
    return out;
}

// The scimd::Error that `f` throws; nullopt when it throws none.
template <typename F>
std::optional<Error> error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e;
    }
    return std::nullopt;
}

// A refused member: Error 400 invalidValue whose detail names `id`.
void expect_invalid_member(const std::optional<Error>& e, const std::string& id) {
    ASSERT_TRUE(e.has_value()) << "the write was accepted";
    EXPECT_EQ(e->status(), 400) << e->detail();
    EXPECT_EQ(e->scim_type(), ScimType::kInvalidValue) << e->detail();
    EXPECT_NE(e->detail().find(id), std::string::npos) << e->detail();
}

void expect_uniqueness(const std::optional<Error>& e) {
    ASSERT_TRUE(e.has_value()) << "the write was accepted";
    EXPECT_EQ(e->status(), 409) << e->detail();
    EXPECT_EQ(e->scim_type(), ScimType::kUniqueness) << e->detail();
}

class GroupRepositoryTest : public StoreTest {
protected:
    void SetUp() override {
        StoreTest::SetUp();
        if (HasFatalFailure() || IsSkipped()) {
            return;
        }
        org_ = make_org("acme");
        other_org_ = make_org("globex");
        groups_ = std::make_unique<store::SqlGroupRepository>(*db_);
        users_ = std::make_unique<store::SqlUserRepository>(*db_);
    }

    // Inserts a user of `org` from a client body; returns its id.
    std::string add_user_in(const std::string& org, std::string_view body) {
        const core::UserRecord u = make_user(org, body);
        users_->insert(u);
        return u.id;
    }

    std::string add_user(std::string_view body) { return add_user_in(org_, body); }

    core::GroupRecord add_group(const std::string& name, const Ids& members = {}, int minute = 0) {
        core::GroupRecord g = make_group(org_, name, minute);
        groups_->insert(g, members);
        return g;
    }

    // The stored group of org_ (an empty record, and a failure, if there is none).
    core::GroupRecord stored(const std::string& id, bool with_members = true) {
        std::optional<core::GroupRecord> g = groups_->find(org_, id, with_members);
        EXPECT_TRUE(g.has_value()) << "no group " << id;
        return g.value_or(core::GroupRecord{});
    }

    Ids member_ids_of(const std::string& id) { return member_ids(stored(id)); }

    std::int64_t version_of(const std::string& id) { return stored(id, false).version; }

    bool change(const std::string& id, const core::MembershipChange& c, int minute = 1) {
        return groups_->change_members(org_, id, c, test_time(minute));
    }

    // The account's in_groups as find() reads it.
    bool in_groups(const std::string& user_id) {
        const std::optional<core::UserRecord> u = users_->find(org_, user_id);
        EXPECT_TRUE(u.has_value()) << "no user " << user_id;
        return u.has_value() && u->in_groups;
    }

    // "id direct" / "id indirect" for each group `member_id` belongs to, sorted.
    std::vector<std::string> memberships(const std::string& member_id) {
        std::vector<std::string> out;
        for (const core::GroupMembership& m : groups_->groups_of(org_, member_id)) {
            out.push_back(m.id + (m.direct ? " direct" : " indirect"));
        }
        return sorted(out);
    }

    std::int64_t group_count(const std::string& org) {
        core::ListQuery q;
        q.count = 0;
        return groups_->list(org, q, false).total;
    }

    // The ids of org_'s groups that a filter selects, in list order; totalResults must agree.
    Ids group_ids(const std::string& filter_text) {
        const core::Filter f = protocol::parse_filter(filter_text, registry(), group_type());
        core::ListQuery q;
        q.filter = &f;
        q.count = 5000;
        const core::Page<core::GroupRecord> page = groups_->list(org_, q, false);
        EXPECT_EQ(page.total, static_cast<std::int64_t>(page.items.size())) << filter_text;
        Ids out;
        for (const core::GroupRecord& g : page.items) {
            EXPECT_EQ(g.org_id, org_);
            out.push_back(g.id);
        }
        return out;
    }

    // The ids of org_'s users that a filter selects, sorted; totalResults must agree.
    Ids user_ids(const std::string& filter_text) {
        const core::Filter f = protocol::parse_filter(filter_text, registry(), user_type());
        core::ListQuery q;
        q.filter = &f;
        q.count = 5000;
        const core::Page<core::UserRecord> page = users_->list(org_, q);
        EXPECT_EQ(page.total, static_cast<std::int64_t>(page.items.size())) << filter_text;
        Ids out;
        for (const core::UserRecord& u : page.items) {
            out.push_back(u.id);
        }
        return sorted(out);
    }

    std::string org_;
    std::string other_org_;
    std::unique_ptr<store::SqlGroupRepository> groups_;
    std::unique_ptr<store::SqlUserRepository> users_;
};

TEST_P(GroupRepositoryTest, InsertThenFindReturnsEveryColumn) {
    const core::GroupRecord g = make_group(org_, "Admins", 7, "ext-admins");
    groups_->insert(g, {});

    const auto found = groups_->find(org_, g.id, true);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->id, g.id);
    EXPECT_EQ(found->org_id, org_);
    EXPECT_EQ(found->display_name, "Admins");
    EXPECT_EQ(found->external_id, "ext-admins");
    EXPECT_EQ(found->version, 1);
    EXPECT_EQ(found->created, test_time(7));
    EXPECT_EQ(found->last_modified, test_time(7));
    // PostgreSQL stores jsonb, which reorders keys: compare as JSON.
    EXPECT_EQ(json::parse(found->document), json::parse(g.document));
    EXPECT_TRUE(found->members.empty());

    const core::GroupRecord bare = make_group(org_, "Bare");
    groups_->insert(bare, {});
    const auto found_bare = groups_->find(org_, bare.id, false);
    ASSERT_TRUE(found_bare.has_value());
    EXPECT_FALSE(found_bare->external_id.has_value());
    EXPECT_TRUE(found_bare->members.empty());

    EXPECT_FALSE(groups_->find(other_org_, g.id, true).has_value());
    EXPECT_FALSE(groups_->find(other_org_, g.id, false).has_value());
    EXPECT_FALSE(groups_->find(org_, util::uuid_v4(), true).has_value());
}

TEST_P(GroupRepositoryTest, MembersComeSortedByIdWithTheirTypeAndDisplay) {
    const std::string babs = add_user(R"({"userName":"bjensen","displayName":"Babs Jensen"})");
    const std::string jsmith = add_user(R"({"userName":"jsmith"})");
    const core::GroupRecord staff = add_group("Staff");
    const core::GroupRecord admins = add_group("Admins", {jsmith, staff.id, babs});

    // A user's display is its displayName, else its userName; a group's its displayName.
    const std::vector<std::string> expected =
        sorted({babs + " User Babs Jensen", jsmith + " User jsmith", staff.id + " Group Staff"});
    const auto found = groups_->find(org_, admins.id, true);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(refs(*found), expected);
    EXPECT_EQ(found->version, 1);

    // Members are read only when asked for.
    const auto without = groups_->find(org_, admins.id, false);
    ASSERT_TRUE(without.has_value());
    EXPECT_TRUE(without->members.empty());
    EXPECT_FALSE(groups_->find(other_org_, admins.id, true).has_value());

    // The display follows the member's current name.
    std::optional<core::UserRecord> renamed = users_->find(org_, jsmith);
    ASSERT_TRUE(renamed.has_value());
    renamed->display_name = "John Smith";
    renamed->version = 2;
    ASSERT_TRUE(users_->update(*renamed, 1));
    const std::vector<std::string> now = refs(stored(admins.id));
    EXPECT_NE(std::find(now.begin(), now.end(), jsmith + " User John Smith"), now.end());
}

TEST_P(GroupRepositoryTest, DisplayNameIsUniqueCaseInsensitivelyPerOrganization) {
    add_group("Admins");
    for (const char* name : {"ADMINS", "admins", "Admins"}) {
        SCOPED_TRACE(name);
        expect_uniqueness(error_of([&] { groups_->insert(make_group(org_, name), {}); }));
    }
    EXPECT_EQ(group_count(org_), 1);

    // Another organization may have its own.
    const core::GroupRecord theirs = make_group(other_org_, "admins");
    EXPECT_NO_THROW(groups_->insert(theirs, {}));
    const auto found = groups_->find(other_org_, theirs.id, false);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->display_name, "admins");
    EXPECT_EQ(group_count(other_org_), 1);
    EXPECT_EQ(group_count(org_), 1);
}

TEST_P(GroupRepositoryTest, AnUnknownMemberFailsTheInsertAndWritesNothing) {
    const std::string babs = add_user(R"({"userName":"bjensen"})");
    const std::string missing = util::uuid_v4();
    const core::GroupRecord g = make_group(org_, "Admins");

    expect_invalid_member(error_of([&] { groups_->insert(g, {babs, missing}); }), missing);
    EXPECT_FALSE(groups_->find(org_, g.id, true).has_value());
    EXPECT_EQ(group_count(org_), 0);
    EXPECT_FALSE(in_groups(babs));
    EXPECT_TRUE(memberships(babs).empty());

    // A user or a group of another organization is unknown here: tenants share no members.
    const std::string foreign_user = add_user_in(other_org_, R"({"userName":"bjensen"})");
    expect_invalid_member(error_of([&] {
                              groups_->insert(g, {babs, foreign_user});
                          }),
                          foreign_user);
    EXPECT_FALSE(groups_->find(org_, g.id, true).has_value());
    const core::GroupRecord foreign_group = make_group(other_org_, "Theirs");
    groups_->insert(foreign_group, {});
    expect_invalid_member(error_of([&] { groups_->insert(g, {foreign_group.id}); }),
                          foreign_group.id);
    EXPECT_FALSE(groups_->find(org_, g.id, true).has_value());
    EXPECT_EQ(group_count(org_), 0);

    // A long list of unknown ids is named in part.
    Ids many;
    for (int i = 0; i < 7; ++i) {
        many.push_back(util::uuid_v4());
    }
    const auto e = error_of([&] { groups_->insert(g, many); });
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->status(), 400);
    EXPECT_NE(e->detail().find("and 2 more"), std::string::npos) << e->detail();

    // Nothing was left behind: the id and the name are still free.
    groups_->insert(g, {babs});
    EXPECT_EQ(member_ids_of(g.id), Ids{babs});
    EXPECT_TRUE(in_groups(babs));
}

TEST_P(GroupRepositoryTest, ChangeMembersAddsRemovesAndReplaces) {
    const std::string u1 = add_user(R"({"userName":"u1"})");
    const std::string u2 = add_user(R"({"userName":"u2"})");
    const std::string u3 = add_user(R"({"userName":"u3"})");
    const std::string id = add_group("Admins", {u1}).id;

    ASSERT_TRUE(change(id, adding({u2}), 1));
    const core::GroupRecord after_add = stored(id);
    EXPECT_EQ(member_ids(after_add), sorted({u1, u2}));
    EXPECT_EQ(after_add.version, 2);
    EXPECT_EQ(after_add.last_modified, test_time(1));
    EXPECT_EQ(after_add.created, test_time(0));
    EXPECT_EQ(after_add.display_name, "Admins");

    // Members already there, even twice in one change, are kept once; the call still moves
    // the version.
    ASSERT_TRUE(change(id, adding({u2, u1, u2}), 2));
    EXPECT_EQ(member_ids_of(id), sorted({u1, u2}));
    EXPECT_EQ(version_of(id), 3);

    // Removing an id that is no member is no error.
    ASSERT_TRUE(change(id, removing({u1, util::uuid_v4()}), 3));
    EXPECT_EQ(member_ids_of(id), Ids{u2});
    EXPECT_EQ(version_of(id), 4);
    EXPECT_FALSE(in_groups(u1));

    ASSERT_TRUE(change(id, replacing({u3, u1}), 4));
    EXPECT_EQ(member_ids_of(id), sorted({u1, u3}));
    EXPECT_EQ(version_of(id), 5);
    EXPECT_FALSE(in_groups(u2));

    ASSERT_TRUE(change(id, replacing({}), 5));
    EXPECT_TRUE(member_ids_of(id).empty());
    EXPECT_EQ(version_of(id), 6);
    EXPECT_EQ(stored(id).last_modified, test_time(5));
    EXPECT_FALSE(in_groups(u1));
    EXPECT_FALSE(in_groups(u3));

    // No such group, or another organization's: false, and nothing moves.
    EXPECT_FALSE(change(util::uuid_v4(), adding({u1})));
    EXPECT_FALSE(groups_->change_members(other_org_, id, adding({u1}), test_time(9)));
    EXPECT_EQ(version_of(id), 6);
    EXPECT_TRUE(member_ids_of(id).empty());
}

TEST_P(GroupRepositoryTest, AnUnknownIdFailsTheWholeChange) {
    const std::string u1 = add_user(R"({"userName":"u1"})");
    const std::string u2 = add_user(R"({"userName":"u2"})");
    const std::string u3 = add_user(R"({"userName":"u3"})");
    const std::string id = add_group("Admins", {u1, u2}).id;
    const std::string missing = util::uuid_v4();

    // The removal of the same change is undone too.
    core::MembershipChange mixed;
    mixed.remove = {u1};
    mixed.add = {u3, missing};
    expect_invalid_member(error_of([&] { change(id, mixed, 5); }), missing);
    core::GroupRecord after = stored(id);
    EXPECT_EQ(member_ids(after), sorted({u1, u2}));
    EXPECT_EQ(after.version, 1);
    EXPECT_EQ(after.last_modified, test_time(0));
    EXPECT_TRUE(in_groups(u1));
    EXPECT_FALSE(in_groups(u3));

    // So is the clearing of a replacement.
    expect_invalid_member(error_of([&] { change(id, replacing({u3, missing}), 6); }), missing);
    after = stored(id);
    EXPECT_EQ(member_ids(after), sorted({u1, u2}));
    EXPECT_EQ(after.version, 1);
    EXPECT_FALSE(in_groups(u3));
}

TEST_P(GroupRepositoryTest, UpdateChecksTheExpectedVersion) {
    const std::string u1 = add_user(R"({"userName":"u1"})");
    const core::GroupRecord g = make_group(org_, "Admins", 0, "ext-1");
    groups_->insert(g, {u1});

    core::GroupRecord next = make_group(org_, "Operators", 0, "ext-2");
    next.id = g.id;
    next.version = 2;
    next.last_modified = test_time(5);

    // A stale version changes nothing.
    EXPECT_FALSE(groups_->update(next, 7, core::MembershipChange{}));
    const core::GroupRecord unchanged = stored(g.id);
    EXPECT_EQ(unchanged.display_name, "Admins");
    EXPECT_EQ(unchanged.external_id, "ext-1");
    EXPECT_EQ(unchanged.version, 1);
    EXPECT_EQ(unchanged.last_modified, test_time(0));
    EXPECT_EQ(json::parse(unchanged.document), json::parse(g.document));

    EXPECT_TRUE(groups_->update(next, 1, core::MembershipChange{}));
    const core::GroupRecord updated = stored(g.id);
    EXPECT_EQ(updated.display_name, "Operators");
    EXPECT_EQ(updated.external_id, "ext-2");
    EXPECT_EQ(updated.version, 2);
    EXPECT_EQ(updated.created, test_time(0));
    EXPECT_EQ(updated.last_modified, test_time(5));
    EXPECT_EQ(json::parse(updated.document), json::parse(next.document));
    // No membership change: the members stay.
    EXPECT_EQ(member_ids(updated), Ids{u1});

    // The same expected version a second time is now stale.
    core::GroupRecord plain = make_group(org_, "Operators");
    plain.id = g.id;
    plain.version = 3;
    plain.last_modified = test_time(6);
    EXPECT_FALSE(groups_->update(plain, 1, core::MembershipChange{}));
    EXPECT_EQ(version_of(g.id), 2);
    EXPECT_EQ(stored(g.id).external_id, "ext-2");

    // An absent externalId is written as absent.
    EXPECT_TRUE(groups_->update(plain, 2, core::MembershipChange{}));
    EXPECT_FALSE(stored(g.id).external_id.has_value());
    EXPECT_EQ(version_of(g.id), 3);

    // Another organization cannot write it.
    core::GroupRecord hijack = make_group(other_org_, "Hijacked");
    hijack.id = g.id;
    hijack.version = 4;
    EXPECT_FALSE(groups_->update(hijack, 3, core::MembershipChange{}));
    EXPECT_EQ(stored(g.id).display_name, "Operators");
    EXPECT_EQ(version_of(g.id), 3);

    // The old name is free again.
    EXPECT_NO_THROW(groups_->insert(make_group(org_, "ADMINS"), {}));
}

TEST_P(GroupRepositoryTest, UpdateAppliesItsMembershipChangeInTheSameWrite) {
    const std::string u1 = add_user(R"({"userName":"u1"})");
    const std::string u2 = add_user(R"({"userName":"u2"})");
    const std::string u3 = add_user(R"({"userName":"u3"})");
    const core::GroupRecord g = add_group("Admins", {u1, u2});

    core::GroupRecord next = make_group(org_, "Operators");
    next.id = g.id;
    next.version = 2;
    next.last_modified = test_time(3);
    core::MembershipChange delta;
    delta.add = {u3};
    delta.remove = {u1};

    // A stale version applies neither the attributes nor the members.
    EXPECT_FALSE(groups_->update(next, 5, delta));
    EXPECT_EQ(member_ids_of(g.id), sorted({u1, u2}));
    EXPECT_EQ(stored(g.id).display_name, "Admins");

    EXPECT_TRUE(groups_->update(next, 1, delta));
    const core::GroupRecord updated = stored(g.id);
    EXPECT_EQ(updated.display_name, "Operators");
    EXPECT_EQ(updated.version, 2);  // one write, one version
    EXPECT_EQ(updated.last_modified, test_time(3));
    EXPECT_EQ(member_ids(updated), sorted({u2, u3}));

    // A change that fails fails the whole update, attributes included.
    core::GroupRecord third = make_group(org_, "Third");
    third.id = g.id;
    third.version = 3;
    third.last_modified = test_time(4);
    const std::string missing = util::uuid_v4();
    expect_invalid_member(error_of([&] { groups_->update(third, 2, adding({missing})); }), missing);
    const core::GroupRecord kept = stored(g.id);
    EXPECT_EQ(kept.display_name, "Operators");
    EXPECT_EQ(kept.version, 2);
    EXPECT_EQ(kept.last_modified, test_time(3));
    EXPECT_EQ(member_ids(kept), sorted({u2, u3}));
    // ... and its name was not taken.
    const core::GroupRecord probe = make_group(org_, "third");
    EXPECT_NO_THROW(groups_->insert(probe, {}));
    EXPECT_TRUE(groups_->remove(org_, probe.id));

    // A replacement in an update.
    EXPECT_TRUE(groups_->update(third, 2, replacing({u1})));
    const core::GroupRecord replaced = stored(g.id);
    EXPECT_EQ(replaced.display_name, "Third");
    EXPECT_EQ(replaced.version, 3);
    EXPECT_EQ(member_ids(replaced), Ids{u1});
}

TEST_P(GroupRepositoryTest, RenamingOntoAnotherGroupsNameIsAConflictAndChangesNothing) {
    const std::string u1 = add_user(R"({"userName":"u1"})");
    const std::string u2 = add_user(R"({"userName":"u2"})");
    add_group("Admins");
    const core::GroupRecord staff = add_group("Staff", {u1});

    core::GroupRecord next = make_group(org_, "ADMINS");
    next.id = staff.id;
    next.version = 2;
    next.last_modified = test_time(4);
    expect_uniqueness(error_of([&] { groups_->update(next, 1, adding({u2})); }));
    const core::GroupRecord kept = stored(staff.id);
    EXPECT_EQ(kept.display_name, "Staff");
    EXPECT_EQ(kept.version, 1);
    EXPECT_EQ(kept.last_modified, test_time(0));
    EXPECT_EQ(member_ids(kept), Ids{u1});
    EXPECT_FALSE(in_groups(u2));

    // A new casing of its own name is no conflict.
    core::GroupRecord recased = make_group(org_, "STAFF");
    recased.id = staff.id;
    recased.version = 2;
    EXPECT_TRUE(groups_->update(recased, 1, adding({u2})));
    const core::GroupRecord updated = stored(staff.id);
    EXPECT_EQ(updated.display_name, "STAFF");
    EXPECT_EQ(member_ids(updated), sorted({u1, u2}));
}

TEST_P(GroupRepositoryTest, NestingNeverMakesACycle) {
    // A ⊃ B ⊃ C.
    const core::GroupRecord c = add_group("C");
    const core::GroupRecord b = add_group("B", {c.id});
    const core::GroupRecord a = add_group("A", {b.id});
    EXPECT_EQ(refs(stored(a.id)), std::vector<std::string>{b.id + " Group B"});

    // A group in itself.
    expect_invalid_member(error_of([&] { change(a.id, adding({a.id})); }), a.id);
    const core::GroupRecord self = make_group(org_, "Self");
    expect_invalid_member(error_of([&] { groups_->insert(self, {self.id}); }), self.id);
    EXPECT_FALSE(groups_->find(org_, self.id, false).has_value());

    // A into B, which A contains.
    expect_invalid_member(error_of([&] { change(b.id, adding({a.id})); }), a.id);
    // A into C, which A contains through B.
    expect_invalid_member(error_of([&] { change(c.id, adding({a.id})); }), a.id);
    // A replacement clears B first, but A still contains B.
    expect_invalid_member(error_of([&] { change(b.id, replacing({a.id})); }), a.id);
    // The same through update().
    core::GroupRecord next_c = make_group(org_, "C");
    next_c.id = c.id;
    next_c.version = 2;
    expect_invalid_member(error_of([&] { groups_->update(next_c, 1, adding({b.id})); }), b.id);

    // Nothing changed.
    EXPECT_EQ(member_ids_of(a.id), Ids{b.id});
    EXPECT_EQ(member_ids_of(b.id), Ids{c.id});
    EXPECT_TRUE(member_ids_of(c.id).empty());
    EXPECT_EQ(version_of(a.id), 1);
    EXPECT_EQ(version_of(b.id), 1);
    EXPECT_EQ(version_of(c.id), 1);
    EXPECT_TRUE(memberships(a.id).empty());

    // A nesting without a cycle is fine: C in A directly too.
    ASSERT_TRUE(change(a.id, adding({c.id})));
    EXPECT_EQ(member_ids_of(a.id), sorted({b.id, c.id}));
}

TEST_P(GroupRepositoryTest, GroupsOfFollowsNestingAndDirectWins) {
    const std::string u1 = add_user(R"({"userName":"u1"})");
    const std::string u2 = add_user(R"({"userName":"u2"})");
    const std::string u3 = add_user(R"({"userName":"u3"})");
    // u1 ∈ A ⊂ B ⊂ C; u2 ∈ Unrelated.
    const core::GroupRecord a = add_group("A", {u1});
    const core::GroupRecord b = add_group("B", {a.id});
    const core::GroupRecord c = add_group("C", {b.id});
    const core::GroupRecord unrelated = add_group("Unrelated", {u2});

    EXPECT_EQ(memberships(u1), sorted({a.id + " direct", b.id + " indirect", c.id + " indirect"}));
    EXPECT_EQ(memberships(u2), std::vector<std::string>{unrelated.id + " direct"});
    EXPECT_TRUE(memberships(u3).empty());
    for (const core::GroupMembership& m : groups_->groups_of(org_, u1)) {
        EXPECT_EQ(m.display_name, m.id == a.id ? "A" : m.id == b.id ? "B" : "C");
    }

    // Of a group: the groups that contain it.
    EXPECT_EQ(memberships(a.id), sorted({b.id + " direct", c.id + " indirect"}));
    EXPECT_TRUE(memberships(c.id).empty());

    // A group the user is in both directly and through A counts once, as direct.
    ASSERT_TRUE(change(b.id, adding({u1})));
    EXPECT_EQ(memberships(u1), sorted({a.id + " direct", b.id + " direct", c.id + " indirect"}));

    // Another organization sees none of it.
    EXPECT_TRUE(groups_->groups_of(other_org_, u1).empty());
    EXPECT_TRUE(memberships(util::uuid_v4()).empty());
}

TEST_P(GroupRepositoryTest, RemoveDeletesTheGroupItsMemberRowsAndItsMemberships) {
    const std::string u1 = add_user(R"({"userName":"u1"})");
    const core::GroupRecord parent = add_group("Parent");
    // Inserted last: on SQLite a new group may reuse its row number once it is gone.
    const core::GroupRecord g = add_group("G", {u1});
    ASSERT_TRUE(change(parent.id, adding({g.id})));
    EXPECT_EQ(version_of(parent.id), 2);

    EXPECT_FALSE(groups_->remove(other_org_, g.id));
    EXPECT_TRUE(groups_->find(org_, g.id, false).has_value());

    EXPECT_TRUE(groups_->remove(org_, g.id));
    EXPECT_FALSE(groups_->find(org_, g.id, true).has_value());
    // Its membership in Parent is gone, and Parent's version moved.
    const core::GroupRecord p = stored(parent.id);
    EXPECT_TRUE(p.members.empty());
    EXPECT_EQ(p.version, 3);
    // Its own member rows are gone.
    EXPECT_TRUE(memberships(u1).empty());
    EXPECT_FALSE(in_groups(u1));
    EXPECT_TRUE(group_ids(R"(members.value eq ")" + u1 + "\"").empty());

    EXPECT_FALSE(groups_->remove(org_, g.id));
    EXPECT_EQ(version_of(parent.id), 3);
    EXPECT_EQ(group_count(org_), 1);

    // The name is free, and a new group starts without members.
    const core::GroupRecord again = add_group("G");
    EXPECT_TRUE(stored(again.id).members.empty());
    EXPECT_TRUE(memberships(u1).empty());
    EXPECT_EQ(group_count(org_), 2);
}

TEST_P(GroupRepositoryTest, RemovingAUserRemovesItsMemberships) {
    const std::string u1 = add_user(R"({"userName":"u1"})");
    const std::string u2 = add_user(R"({"userName":"u2"})");
    const std::string u3 = add_user(R"({"userName":"u3"})");
    const core::GroupRecord g = add_group("G", {u1, u2});
    const core::GroupRecord h = add_group("H", {u1});

    ASSERT_TRUE(users_->remove(org_, u1));
    const core::GroupRecord after = stored(g.id);
    EXPECT_EQ(member_ids(after), Ids{u2});
    EXPECT_EQ(after.version, 2);
    EXPECT_TRUE(member_ids_of(h.id).empty());
    EXPECT_EQ(version_of(h.id), 2);
    EXPECT_TRUE(memberships(u1).empty());
    EXPECT_TRUE(group_ids(R"(members.value eq ")" + u1 + "\"").empty());

    // A user in no group moves no group's version.
    ASSERT_TRUE(users_->remove(org_, u3));
    EXPECT_EQ(version_of(g.id), 2);
    EXPECT_EQ(version_of(h.id), 2);
}

TEST_P(GroupRepositoryTest, InGroupsTellsWhetherAnAccountIsAMember) {
    const std::string member = add_user(R"({"userName":"member"})");
    const std::string loner = add_user(R"({"userName":"loner"})");
    const core::GroupRecord g = add_group("G", {member});

    EXPECT_TRUE(in_groups(member));
    EXPECT_FALSE(in_groups(loner));

    // The list reads it too, filtered or not.
    const core::Page<core::UserRecord> all = users_->list(org_, core::ListQuery{});
    ASSERT_EQ(all.items.size(), 2u);
    for (const core::UserRecord& u : all.items) {
        EXPECT_EQ(u.in_groups, u.id == member) << u.user_name;
    }
    const core::Filter f = protocol::parse_filter(R"(userName sw "m")", registry(), user_type());
    core::ListQuery q;
    q.filter = &f;
    const core::Page<core::UserRecord> filtered = users_->list(org_, q);
    ASSERT_EQ(filtered.items.size(), 1u);
    EXPECT_TRUE(filtered.items[0].in_groups);

    // Membership of a nested group is no membership of the account.
    const core::GroupRecord outer = add_group("Outer", {g.id});
    ASSERT_TRUE(change(g.id, removing({member})));
    EXPECT_FALSE(in_groups(member));
    EXPECT_EQ(member_ids_of(outer.id), Ids{g.id});
}

TEST_P(GroupRepositoryTest, ListCountsPagesAndKeepsInsertionOrder) {
    add_group("gamma", {}, 1);
    add_group("Alpha", {}, 2);
    add_group("beta", {}, 3);
    groups_->insert(make_group(other_org_, "delta"), {});

    const auto page = [&](std::int64_t start, std::int64_t count) {
        core::ListQuery q;
        q.start_index = start;
        q.count = count;
        return groups_->list(org_, q, false);
    };
    const core::Page<core::GroupRecord> all = page(1, 100);
    EXPECT_EQ(all.total, 3);
    EXPECT_EQ(names(all), (Ids{"gamma", "Alpha", "beta"}));
    for (const core::GroupRecord& g : all.items) {
        EXPECT_EQ(g.org_id, org_);
        EXPECT_EQ(g.version, 1);
        EXPECT_TRUE(g.members.empty());
    }

    const core::Page<core::GroupRecord> first = page(1, 2);
    EXPECT_EQ(first.total, 3);
    EXPECT_EQ(names(first), (Ids{"gamma", "Alpha"}));
    const core::Page<core::GroupRecord> second = page(3, 2);
    EXPECT_EQ(second.total, 3);
    EXPECT_EQ(names(second), Ids{"beta"});
    EXPECT_EQ(names(page(2, 1)), Ids{"Alpha"});

    const core::Page<core::GroupRecord> past = page(4, 10);
    EXPECT_EQ(past.total, 3);
    EXPECT_TRUE(past.items.empty());
    const core::Page<core::GroupRecord> count_only = page(1, 0);
    EXPECT_EQ(count_only.total, 3);
    EXPECT_TRUE(count_only.items.empty());
}

TEST_P(GroupRepositoryTest, ListSortsByDisplayNameCaseInsensitively) {
    add_group("gamma");
    add_group("Alpha");
    add_group("beta");
    const auto attr = registry().resolve(group_type(), "displayName");
    ASSERT_TRUE(attr.has_value());

    core::ListQuery q;
    q.sort = core::SortSpec{attr->ref(), false};
    EXPECT_EQ(names(groups_->list(org_, q, false)), (Ids{"Alpha", "beta", "gamma"}));
    q.sort = core::SortSpec{attr->ref(), true};
    EXPECT_EQ(names(groups_->list(org_, q, false)), (Ids{"gamma", "beta", "Alpha"}));

    // Sorted, then paged.
    q.sort = core::SortSpec{attr->ref(), false};
    q.start_index = 2;
    q.count = 1;
    const core::Page<core::GroupRecord> second = groups_->list(org_, q, false);
    EXPECT_EQ(second.total, 3);
    EXPECT_EQ(names(second), Ids{"beta"});
}

TEST_P(GroupRepositoryTest, ListFiltersOnColumns) {
    const core::GroupRecord gamma = make_group(org_, "gamma", 0, "ext-g");
    const core::GroupRecord alpha = make_group(org_, "Alpha", 0, "ext-a");
    const core::GroupRecord beta = make_group(org_, "beta");
    for (const core::GroupRecord* g : {&gamma, &alpha, &beta}) {
        groups_->insert(*g, {});
    }
    groups_->insert(make_group(other_org_, "Alpha", 0, "ext-a"), {});

    EXPECT_EQ(group_ids(R"(displayName eq "ALPHA")"), Ids{alpha.id});
    EXPECT_EQ(group_ids(R"(displayName eq "alpha")"), Ids{alpha.id});
    EXPECT_EQ(group_ids(R"(externalId eq "ext-a")"), Ids{alpha.id});
    // externalId is caseExact (RFC 7643 §3.1).
    EXPECT_TRUE(group_ids(R"(externalId eq "EXT-A")").empty());
    EXPECT_EQ(group_ids(R"(id eq ")" + beta.id + "\""), Ids{beta.id});
    EXPECT_EQ(group_ids(R"(externalId pr)"), (Ids{gamma.id, alpha.id}));
    EXPECT_TRUE(group_ids(R"(id eq ")" + util::uuid_v4() + "\"").empty());
}

TEST_P(GroupRepositoryTest, ListFiltersOnMembers) {
    const std::string u1 = add_user(R"({"userName":"u1"})");
    const std::string u2 = add_user(R"({"userName":"u2"})");
    const std::string u3 = add_user(R"({"userName":"u3"})");
    const core::GroupRecord g3 = add_group("G3");
    const core::GroupRecord g1 = add_group("G1", {u1, u2});
    const core::GroupRecord g2 = add_group("G2", {u2, g3.id});
    // Another organization's group with the same member ids is never counted.
    groups_->insert(make_group(other_org_, "G1"), {});

    const auto quoted = [](const std::string& id) { return "\"" + id + "\""; };
    EXPECT_EQ(group_ids("members.value eq " + quoted(u1)), Ids{g1.id});
    EXPECT_EQ(group_ids("members[value eq " + quoted(u2) + "]"), (Ids{g1.id, g2.id}));
    EXPECT_EQ(group_ids("members.value eq " + quoted(g3.id)), Ids{g2.id});
    EXPECT_TRUE(group_ids("members.value eq " + quoted(u3)).empty());
    EXPECT_EQ(group_ids("members[value eq " + quoted(u1) + " or value eq " + quoted(g3.id) + "]"),
              (Ids{g1.id, g2.id}));
    EXPECT_EQ(group_ids("id eq " + quoted(g1.id) + " and members[value eq " + quoted(u1) + "]"),
              Ids{g1.id});
    EXPECT_TRUE(
        group_ids("id eq " + quoted(g2.id) + " and members[value eq " + quoted(u1) + "]").empty());

    // Members come with the page only when asked for.
    const core::Filter f =
        protocol::parse_filter("members.value eq " + quoted(u2), registry(), group_type());
    core::ListQuery q;
    q.filter = &f;
    const core::Page<core::GroupRecord> with = groups_->list(org_, q, true);
    ASSERT_EQ(with.items.size(), 2u);
    EXPECT_EQ(member_ids(with.items[0]), sorted({u1, u2}));
    EXPECT_EQ(refs(with.items[1]), sorted({u2 + " User u2", g3.id + " Group G3"}));
    const core::Page<core::GroupRecord> without = groups_->list(org_, q, false);
    ASSERT_EQ(without.items.size(), 2u);
    EXPECT_TRUE(without.items[0].members.empty());
    EXPECT_TRUE(without.items[1].members.empty());
}

// `members pr` reads the member rows alone (no organization parameter in its SQL).
TEST_P(GroupRepositoryTest, MembersPresentSelectsGroupsWithMembers) {
    const std::string u1 = add_user(R"({"userName":"u1"})");
    const core::GroupRecord full = add_group("Full", {u1});
    const core::GroupRecord empty = add_group("Empty");
    EXPECT_EQ(group_ids("members pr"), Ids{full.id});
    EXPECT_EQ(group_ids("not (members pr)"), Ids{empty.id});
    EXPECT_EQ(group_ids(R"(members pr and displayName eq "full")"), Ids{full.id});
}

TEST_P(GroupRepositoryTest, UsersFilterOnGroupsThroughNesting) {
    const std::string u1 = add_user(R"({"userName":"u1"})");
    const std::string u2 = add_user(R"({"userName":"u2"})");
    const std::string u3 = add_user(R"({"userName":"u3"})");
    // u1 ∈ A ⊂ B ⊂ C; u2 ∈ B; u3 in no group.
    const core::GroupRecord a = add_group("A", {u1});
    const core::GroupRecord b = add_group("B", {a.id, u2});
    const core::GroupRecord c = add_group("C", {b.id});
    // Another organization's group and user stay out of every answer.
    const std::string theirs = add_user_in(other_org_, R"({"userName":"u1"})");
    const core::GroupRecord their_group = make_group(other_org_, "B");
    groups_->insert(their_group, {theirs});

    const auto quoted = [](const std::string& id) { return "\"" + id + "\""; };
    EXPECT_EQ(user_ids("groups.value eq " + quoted(b.id)), sorted({u1, u2}));
    EXPECT_EQ(user_ids("groups[value eq " + quoted(b.id) + "]"), sorted({u1, u2}));
    EXPECT_EQ(user_ids("groups[value eq " + quoted(a.id) + "]"), Ids{u1});
    EXPECT_EQ(user_ids("groups.value eq " + quoted(a.id)), Ids{u1});
    EXPECT_EQ(user_ids("groups.value eq " + quoted(c.id)), sorted({u1, u2}));
    EXPECT_EQ(user_ids("groups pr"), sorted({u1, u2}));
    EXPECT_EQ(user_ids("not (groups pr)"), Ids{u3});
    EXPECT_TRUE(user_ids("groups.value eq " + quoted(their_group.id)).empty());
    EXPECT_EQ(user_ids(R"(userName eq "u2" and groups.value eq )" + quoted(c.id)), Ids{u2});
}

// A member change costs its delta: after 1,000 members are set, adding one and removing
// another leaves 1,000, the right ones; reading them crosses the read batch of 1,000.
TEST_P(GroupRepositoryTest, ALargeGroupChangesByDelta) {
    constexpr std::size_t kUsers = 1001;
    std::vector<core::UserRecord> batch;
    batch.reserve(kUsers);
    for (std::size_t i = 0; i < kUsers; ++i) {
        batch.push_back(make_user(org_, R"({"userName":"member)" + std::to_string(i) + R"("})"));
    }
    users_->insert_many(batch);
    Ids all_ids;
    for (const core::UserRecord& u : batch) {
        all_ids.push_back(u.id);
    }
    const Ids first(all_ids.begin(), all_ids.begin() + 1000);
    const std::string& leaver = all_ids.front();
    const std::string& newcomer = all_ids.back();

    const core::GroupRecord g = add_group("Everyone");
    ASSERT_TRUE(change(g.id, replacing(first), 1));
    EXPECT_EQ(member_ids_of(g.id), sorted(first));

    core::MembershipChange delta;
    delta.add = {newcomer};
    delta.remove = {leaver};
    ASSERT_TRUE(change(g.id, delta, 2));
    const core::GroupRecord after = stored(g.id);
    ASSERT_EQ(after.members.size(), 1000u);
    Ids expected(all_ids.begin() + 1, all_ids.end());
    EXPECT_EQ(member_ids(after), sorted(expected));
    EXPECT_EQ(after.version, 3);
    EXPECT_FALSE(in_groups(leaver));
    EXPECT_TRUE(in_groups(newcomer));

    // 1,001 members: more than one read batch, still sorted, still whole.
    ASSERT_TRUE(change(g.id, adding({leaver}), 3));
    const core::GroupRecord full = stored(g.id);
    EXPECT_EQ(member_ids(full), sorted(all_ids));
    for (const core::MemberRef& m : full.members) {
        if (m.value == newcomer) {
            EXPECT_EQ(m.type, "User");
            EXPECT_EQ(m.display, "member1000");
        }
    }
    const core::Page<core::GroupRecord> listed = groups_->list(org_, core::ListQuery{}, true);
    ASSERT_EQ(listed.items.size(), 1u);
    EXPECT_EQ(listed.items[0].members.size(), kUsers);
    EXPECT_EQ(user_ids("groups.value eq \"" + g.id + "\"").size(), kUsers);
}

// Nesting changes of one organization take turns: two opposite nestings made at once leave
// one of them refused (never a cycle), and groups inserted at once with nested members all
// get in (no deadlock, no 503).
TEST_P(GroupRepositoryTest, ConcurrentNestingsTakeTurns) {
    constexpr std::size_t kThreads = 4;
    constexpr int kRounds = 5;
    auto pool = open(kThreads);
    store::SqlGroupRepository repo(*pool);

    for (int round = 0; round < kRounds; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        const std::string suffix = std::to_string(round);

        std::vector<core::GroupRecord> children;
        std::vector<core::GroupRecord> parents;
        for (std::size_t i = 0; i < kThreads; ++i) {
            children.push_back(add_group("child" + suffix + "-" + std::to_string(i)));
            parents.push_back(make_group(org_, "parent" + suffix + "-" + std::to_string(i)));
        }
        std::vector<std::string> failures(kThreads);
        {
            std::latch start(static_cast<std::ptrdiff_t>(kThreads));
            std::vector<std::thread> threads;
            for (std::size_t i = 0; i < kThreads; ++i) {
                threads.emplace_back([&, i] {
                    start.arrive_and_wait();
                    try {
                        repo.insert(parents[i], {children[i].id});
                    } catch (const std::exception& e) {
                        failures[i] = e.what();
                    }
                });
            }
            for (std::thread& t : threads) {
                t.join();
            }
        }
        for (std::size_t i = 0; i < kThreads; ++i) {
            EXPECT_EQ(failures[i], "");
            if (failures[i].empty()) {
                EXPECT_EQ(member_ids_of(parents[i].id), Ids{children[i].id});
            }
        }

        // A into B and B into A at once: one wins, the other is refused.
        const core::GroupRecord a = add_group("A" + suffix);
        const core::GroupRecord b = add_group("B" + suffix);
        std::vector<int> outcome(2, 0);  // 1: applied; else the Error's status (-1: other)
        std::vector<std::string> other(2);
        {
            std::latch start(2);
            std::vector<std::thread> threads;
            for (std::size_t i = 0; i < 2; ++i) {
                threads.emplace_back([&, i] {
                    const std::string& into = i == 0 ? a.id : b.id;
                    const std::string& member = i == 0 ? b.id : a.id;
                    start.arrive_and_wait();
                    try {
                        outcome[i] =
                            repo.change_members(org_, into, adding({member}), test_time(1)) ? 1 : 0;
                    } catch (const Error& e) {
                        outcome[i] = e.status();
                        other[i] = e.detail();
                    } catch (const std::exception& e) {
                        outcome[i] = -1;
                        other[i] = e.what();
                    }
                });
            }
            for (std::thread& t : threads) {
                t.join();
            }
        }
        EXPECT_EQ(sorted({std::to_string(outcome[0]), std::to_string(outcome[1])}),
                  (Ids{"1", "400"}))
            << other[0] << " / " << other[1];
        const bool a_in_b = !member_ids_of(b.id).empty();
        const bool b_in_a = !member_ids_of(a.id).empty();
        EXPECT_NE(a_in_b, b_in_a) << "exactly one nesting is stored";
    }
}

// Removed ids travel as one bound value (a JSON array, or a text[] on PostgreSQL): ids that
// hold quotes, backslashes, braces and commas are matched exactly, never parsed as several.
TEST_P(GroupRepositoryTest, RemovedIdsAreMatchedExactlyWhateverTheyHold) {
    const std::string ann = add_user(R"({"userName":"ann"})");
    const std::string bo = add_user(R"({"userName":"bo"})");
    const core::GroupRecord g = add_group("Finance", {ann, bo});
    core::MembershipChange odd;
    odd.remove = {"a\"b", "c\\d", "{x,y}", ann + "\",\"" + bo, "NULL"};
    ASSERT_TRUE(change(g.id, odd));
    EXPECT_EQ(member_ids_of(g.id), sorted(Ids{ann, bo}));
    core::MembershipChange one;
    one.remove = {bo, "\\"};
    ASSERT_TRUE(change(g.id, one, 2));
    EXPECT_EQ(member_ids_of(g.id), Ids{ann});
}

INSTANTIATE_TEST_SUITE_P(Backends, GroupRepositoryTest, kBackends, backend_name);

}  // namespace
}  // namespace scimd::test
