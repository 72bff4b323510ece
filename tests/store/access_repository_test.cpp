// Sites, grants, group role bindings, naming rules, API keys and the audit trail
// (src/store/access_repository.cpp), and the audit rows and grants that the account and group
// writes make in their own transactions (src/store/repositories.cpp,
// src/store/group_repository.cpp), on every backend. A write that fails leaves neither its
// change nor its audit rows (DESIGN §1, Audit event).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/store_fixture.hpp"
#include "support/errors.hpp"
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include "scimd/core/access.hpp"
#include "scimd/core/audit.hpp"
#include "scimd/core/records.hpp"
#include "scimd/error.hpp"
#include "scimd/store/repositories.hpp"
#include "scimd/util/crypto.hpp"

namespace scimd::test {
namespace {

namespace json = boost::json;

using Strings = std::vector<std::string>;
using core::GrantSource;
using core::Role;

Strings sorted(Strings v) {
    std::sort(v.begin(), v.end());
    return v;
}

// An Audit by `actor` at test_time(minute) under the request "req-<minute>".
core::Audit audit_at(int minute,
                     std::vector<core::AuditEntry> entries = {},
                     const std::string& actor = "cli") {
    core::Audit a;
    a.actor = actor;
    a.request_id = "req-" + std::to_string(minute);
    a.at = test_time(minute);
    a.entries = std::move(entries);
    return a;
}

core::AuditEntry entry(const std::string& action,
                       const std::string& target_type,
                       const std::string& target_id,
                       const std::string& before = "",
                       const std::string& after = "") {
    core::AuditEntry e;
    e.action = action;
    e.target_type = target_type;
    e.target_id = target_id;
    e.before = before;
    e.after = after;
    return e;
}

// The string `key` of the JSON object `text` (an audit row's before or after); "" when the
// text is empty or has no such string.
std::string field(const std::string& text, const char* key) {
    if (text.empty()) {
        return "";
    }
    const json::value v = json::parse(text);
    const json::object* o = v.if_object();
    if (o == nullptr) {
        return "";
    }
    const json::value* f = o->if_contains(key);
    if (f == nullptr || !f->is_string()) {
        return "";
    }
    return std::string(f->get_string().data(), f->get_string().size());
}

Strings actions_of(const std::vector<core::AuditEvent>& events) {
    Strings out;
    for (const core::AuditEvent& e : events) {
        out.push_back(e.action);
    }
    return out;
}

core::Site make_site(const std::string& org_id, const std::string& name) {
    core::Site s;
    s.id = util::uuid_v4();
    s.org_id = org_id;
    s.name = name;
    s.url = "https://" + name + ".example.com";
    s.created = test_time(0);
    return s;
}

core::Grant make_grant(const std::string& org_id,
                       const std::string& user_id,
                       const std::string& site_id,
                       Role role,
                       GrantSource source = GrantSource::kManual,
                       std::optional<std::string> expires = std::nullopt) {
    core::Grant g;
    g.id = util::uuid_v4();
    g.org_id = org_id;
    g.user_id = user_id;
    g.site_id = site_id;
    g.role = role;
    g.source = source;
    g.expires = std::move(expires);
    g.created = test_time(0);
    g.created_by = "cli";
    return g;
}

std::string scope_of(const std::string& site_id) { return site_id.empty() ? "org" : site_id; }

// "scope role source source_ref" of a grant; scope is "org" or the site's id.
std::string grant_key(const std::string& site_id,
                      Role role,
                      GrantSource source,
                      const std::string& source_ref = "") {
    return scope_of(site_id) + " " + std::string(core::role_name(role)) + " " +
           std::string(core::source_name(source)) + " " + source_ref;
}

Strings grant_keys(const std::vector<core::Grant>& grants) {
    Strings out;
    for (const core::Grant& g : grants) {
        out.push_back(grant_key(g.site_id, g.role, g.source, g.source_ref));
    }
    return sorted(out);
}

// "scope role origin" of a group role binding.
std::string role_key(const std::string& site_id, Role role, const std::string& origin) {
    return scope_of(site_id) + " " + std::string(core::role_name(role)) + " " + origin;
}

Strings role_keys(const std::vector<core::GroupRole>& roles) {
    Strings out;
    for (const core::GroupRole& r : roles) {
        out.push_back(role_key(r.site_id, r.role, r.origin));
    }
    return sorted(out);
}

core::GroupRole binding(const std::string& group_id, const std::string& site_id, Role role) {
    core::GroupRole r;
    r.group_id = group_id;
    r.site_id = site_id;
    r.role = role;
    r.origin = "manual";
    return r;
}

core::NamingRule make_rule(const std::string& org_id,
                           const std::string& pattern,
                           const std::string& role,
                           const std::string& site) {
    core::NamingRule r;
    r.id = util::uuid_v4();
    r.org_id = org_id;
    r.pattern = pattern;
    r.role = role;
    r.site = site;
    r.created = test_time(0);
    return r;
}

core::ApiKey make_key(const std::string& org_id,
                      const std::string& user_id,
                      const std::string& name,
                      int minute = 0) {
    core::ApiKey k;
    k.id = util::uuid_v4();
    k.org_id = org_id;
    k.user_id = user_id;
    k.name = name;
    k.hash = util::sha256_hex("secret of " + k.id);
    k.created = test_time(minute);
    return k;
}

// A group of `org_id` as POST /Groups would store it (members are rows of their own).
core::GroupRecord make_group(const std::string& org_id,
                             const std::string& display_name,
                             int minute = 0) {
    core::GroupRecord g;
    g.id = util::uuid_v4();
    g.org_id = org_id;
    g.display_name = display_name;
    g.document = R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":")" +
                 display_name + "\"}";
    g.version = 1;
    g.created = test_time(minute);
    g.last_modified = test_time(minute);
    return g;
}

core::MembershipChange adding(Strings ids) {
    core::MembershipChange c;
    c.add = std::move(ids);
    return c;
}

core::MembershipChange removing(Strings ids) {
    core::MembershipChange c;
    c.remove = std::move(ids);
    return c;
}

core::MembershipChange replacing(Strings ids) {
    core::MembershipChange c;
    c.replace_all = true;
    c.add = std::move(ids);
    return c;
}

void expect_status(const Error& e, int status, ScimType type) {
    EXPECT_EQ(e.status(), status) << e.detail();
    EXPECT_EQ(e.scim_type(), type) << e.detail();
}

class AccessRepositoryTest : public StoreTest {
protected:
    void SetUp() override {
        StoreTest::SetUp();
        if (HasFatalFailure() || IsSkipped()) {
            return;
        }
        org_ = make_org("acme");
        other_org_ = make_org("globex");
        access_ = std::make_unique<store::SqlAccessRepository>(*db_);
        groups_ = std::make_unique<store::SqlGroupRepository>(*db_);
        users_ = std::make_unique<store::SqlUserRepository>(*db_);
        keys_ = std::make_unique<store::SqlApiKeyRepository>(*db_);
        audit_ = std::make_unique<store::SqlAuditRepository>(*db_);
    }

    std::string add_user_in(const std::string& org, const std::string& user_name) {
        const core::UserRecord u = make_user(org, R"({"userName":")" + user_name + "\"}");
        users_->insert(u);
        return u.id;
    }

    std::string add_user(const std::string& user_name) { return add_user_in(org_, user_name); }

    core::GroupRecord add_group(const std::string& name, const Strings& members = {}) {
        core::GroupRecord g = make_group(org_, name);
        groups_->insert(g, members);
        return g;
    }

    core::Site add_site(const std::string& name) {
        core::Site s = make_site(org_, name);
        access_->insert_site(s, audit_at(0));
        return s;
    }

    Strings site_names(const std::string& org) {
        Strings out;
        for (const core::Site& s : access_->list_sites(org)) {
            out.push_back(s.name);
        }
        return out;
    }

    Strings grants_of(const std::string& user_id) {
        return grant_keys(access_->grants_of(org_, user_id));
    }

    Strings roles_of(const std::string& group_id) {
        return role_keys(access_->group_roles(org_, group_id));
    }

    // The ids of the group's members, sorted.
    Strings member_ids_of(const std::string& group_id) {
        const std::optional<core::GroupRecord> g = groups_->find(org_, group_id, true);
        EXPECT_TRUE(g.has_value()) << "no group " << group_id;
        Strings out;
        if (g) {
            for (const core::MemberRef& m : g->members) {
                out.push_back(m.value);
            }
        }
        return sorted(out);
    }

    // org_'s audit rows that `q` selects (all of them, whatever q's paging), oldest first.
    std::vector<core::AuditEvent> events(core::AuditQuery q) {
        q.start_index = 1;
        q.count = 1000;
        const core::Page<core::AuditEvent> page = audit_->list(org_, q);
        EXPECT_EQ(page.total, static_cast<std::int64_t>(page.items.size()));
        return page.items;
    }

    std::vector<core::AuditEvent> rows_of(const std::string& action) {
        core::AuditQuery q;
        q.action = action;
        return events(q);
    }

    std::vector<core::AuditEvent> rows_about(const std::string& target_id) {
        core::AuditQuery q;
        q.target_id = target_id;
        return events(q);
    }

    // How many of org_'s audit rows record `action` (about `target_id`, when given).
    long long count_of(const std::string& action, const std::string& target_id = "") {
        core::AuditQuery q;
        q.action = action;
        if (!target_id.empty()) {
            q.target_id = target_id;
        }
        q.count = 0;
        return audit_->list(org_, q).total;
    }

    long long all_rows() { return audit_->list(org_, core::AuditQuery{}).total; }

    // Updates the stored account with active = false (its grants stay).
    void deactivate(const std::string& user_id) {
        std::optional<core::UserRecord> u = users_->find(org_, user_id);
        ASSERT_TRUE(u.has_value()) << "no user " << user_id;
        const std::int64_t version = u->version;
        u->active = false;
        u->version = version + 1;
        u->last_modified = test_time(1);
        ASSERT_TRUE(users_->update(*u, version));
    }

    std::string org_;
    std::string other_org_;
    std::unique_ptr<store::SqlAccessRepository> access_;
    std::unique_ptr<store::SqlGroupRepository> groups_;
    std::unique_ptr<store::SqlUserRepository> users_;
    std::unique_ptr<store::SqlApiKeyRepository> keys_;
    std::unique_ptr<store::SqlAuditRepository> audit_;
};

// --- sites ---------------------------------------------------------------------------------

TEST_P(AccessRepositoryTest, SitesAreFoundByIdOrNameListedByNameRenamedAndDeleted) {
    const core::Site shop = make_site(org_, "Shop");
    access_->insert_site(shop, audit_at(1));
    const core::Site beta = add_site("beta");
    const core::Site alpha = add_site("Alpha");

    const std::optional<core::Site> by_id = access_->find_site(org_, shop.id);
    ASSERT_TRUE(by_id.has_value());
    EXPECT_EQ(by_id->id, shop.id);
    EXPECT_EQ(by_id->org_id, org_);
    EXPECT_EQ(by_id->name, "Shop");
    EXPECT_EQ(by_id->url, "https://Shop.example.com");
    EXPECT_EQ(by_id->created, test_time(0));
    for (const char* name : {"Shop", "shop", "SHOP"}) {
        SCOPED_TRACE(name);
        const std::optional<core::Site> by_name = access_->find_site(org_, name);
        ASSERT_TRUE(by_name.has_value());
        EXPECT_EQ(by_name->id, shop.id);
        EXPECT_EQ(by_name->name, "Shop");
    }
    EXPECT_FALSE(access_->find_site(org_, "shops").has_value());
    EXPECT_FALSE(access_->find_site(org_, util::uuid_v4()).has_value());
    // Another organization sees none of them, by id or by name.
    EXPECT_FALSE(access_->find_site(other_org_, shop.id).has_value());
    EXPECT_FALSE(access_->find_site(other_org_, "shop").has_value());

    // Listed by name, case-insensitively.
    EXPECT_EQ(site_names(org_), (Strings{"Alpha", "beta", "Shop"}));
    EXPECT_TRUE(access_->list_sites(other_org_).empty());

    const std::vector<core::AuditEvent> created = rows_of("site.created");
    ASSERT_EQ(created.size(), 3u);
    EXPECT_EQ(created[0].target_type, "site");
    EXPECT_EQ(created[0].target_id, shop.id);
    EXPECT_EQ(created[0].actor, "cli");
    EXPECT_EQ(created[0].at, test_time(1));
    EXPECT_EQ(created[0].request_id, "req-1");
    EXPECT_EQ(created[0].before, "");
    EXPECT_EQ(field(created[0].after, "name"), "Shop");

    // Rename: found by its new name only.
    ASSERT_TRUE(access_->rename_site(org_, shop.id, "Store", audit_at(2)));
    const std::optional<core::Site> renamed = access_->find_site(org_, "store");
    ASSERT_TRUE(renamed.has_value());
    EXPECT_EQ(renamed->id, shop.id);
    EXPECT_EQ(renamed->name, "Store");
    EXPECT_EQ(renamed->url, shop.url);
    EXPECT_FALSE(access_->find_site(org_, "shop").has_value());
    EXPECT_EQ(site_names(org_), (Strings{"Alpha", "beta", "Store"}));
    const std::vector<core::AuditEvent> renames = rows_of("site.renamed");
    ASSERT_EQ(renames.size(), 1u);
    EXPECT_EQ(renames[0].target_id, shop.id);
    EXPECT_EQ(field(renames[0].before, "name"), "Shop");
    EXPECT_EQ(field(renames[0].after, "name"), "Store");

    // No such site, or another organization's: false, and nothing moves.
    EXPECT_FALSE(access_->rename_site(org_, util::uuid_v4(), "Nowhere", audit_at(3)));
    EXPECT_FALSE(access_->rename_site(other_org_, shop.id, "Theirs", audit_at(3)));
    EXPECT_EQ(access_->find_site(org_, shop.id).value().name, "Store");
    EXPECT_EQ(count_of("site.renamed"), 1);

    // Delete.
    ASSERT_TRUE(access_->delete_site(org_, shop.id, audit_at(4)));
    EXPECT_FALSE(access_->find_site(org_, shop.id).has_value());
    EXPECT_FALSE(access_->find_site(org_, "store").has_value());
    EXPECT_EQ(site_names(org_), (Strings{"Alpha", "beta"}));
    EXPECT_FALSE(access_->delete_site(org_, shop.id, audit_at(5)));
    EXPECT_FALSE(access_->delete_site(other_org_, alpha.id, audit_at(5)));
    EXPECT_TRUE(access_->find_site(org_, alpha.id).has_value());
    EXPECT_TRUE(access_->find_site(org_, beta.id).has_value());
    const std::vector<core::AuditEvent> deleted = rows_of("site.deleted");
    ASSERT_EQ(deleted.size(), 1u);
    EXPECT_EQ(deleted[0].target_id, shop.id);
    EXPECT_EQ(deleted[0].at, test_time(4));
    EXPECT_EQ(field(deleted[0].before, "name"), "Store");
    EXPECT_EQ(deleted[0].after, "");
}

TEST_P(AccessRepositoryTest, SiteNamesAreUniqueCaseInsensitivelyPerOrganization) {
    const core::Site shop = add_site("Shop");
    for (const char* name : {"Shop", "shop", "SHOP"}) {
        SCOPED_TRACE(name);
        const core::Site again = make_site(org_, name);
        expect_status(error_of([&] { access_->insert_site(again, audit_at(1)); }), 409,
                      ScimType::kUniqueness);
        EXPECT_FALSE(access_->find_site(org_, again.id).has_value());
    }
    EXPECT_EQ(site_names(org_), Strings{"Shop"});

    // Another organization may have its own.
    const core::Site theirs = make_site(other_org_, "shop");
    EXPECT_NO_THROW(access_->insert_site(theirs, audit_at(1)));
    EXPECT_EQ(access_->find_site(other_org_, "SHOP").value().id, theirs.id);
    EXPECT_EQ(access_->find_site(org_, "SHOP").value().id, shop.id);

    // A rename onto another site's name, in any case, is refused and changes nothing.
    const core::Site beta = add_site("Beta");
    expect_status(error_of([&] { access_->rename_site(org_, beta.id, "sHoP", audit_at(2)); }), 409,
                  ScimType::kUniqueness);
    EXPECT_EQ(access_->find_site(org_, beta.id).value().name, "Beta");
    EXPECT_EQ(count_of("site.renamed"), 0);
    // Its own name in another case is no conflict.
    EXPECT_TRUE(access_->rename_site(org_, beta.id, "BETA", audit_at(3)));
    EXPECT_EQ(access_->find_site(org_, "beta").value().name, "BETA");
}

TEST_P(AccessRepositoryTest, DeletingASiteRemovesItsGrantsAndBindings) {
    const std::string u = add_user("u");
    const core::Site shop = add_site("shop");
    const core::Site blog = add_site("blog");
    const core::GroupRecord g = add_group("G");
    access_->put_grant(make_grant(org_, u, "", Role::kUser), audit_at(1));
    access_->put_grant(make_grant(org_, u, shop.id, Role::kAdmin), audit_at(1));
    access_->put_grant(make_grant(org_, u, blog.id, Role::kViewer), audit_at(1));
    access_->set_group_roles(
        org_, g.id,
        {binding(g.id, "", Role::kViewer), binding(g.id, shop.id, Role::kAdmin),
         binding(g.id, blog.id, Role::kUser)},
        audit_at(1));
    ASSERT_EQ(roles_of(g.id).size(), 3u);

    ASSERT_TRUE(access_->delete_site(org_, shop.id, audit_at(2)));
    EXPECT_EQ(grants_of(u), sorted({grant_key("", Role::kUser, GrantSource::kManual),
                                    grant_key(blog.id, Role::kViewer, GrantSource::kManual)}));
    EXPECT_EQ(roles_of(g.id), sorted({role_key("", Role::kViewer, "manual"),
                                      role_key(blog.id, Role::kUser, "manual")}));

    // The grant that went with the site is recorded as revoked, in the delete's transaction.
    const std::vector<core::AuditEvent> revoked = rows_of("grant.revoked");
    ASSERT_EQ(revoked.size(), 1u);
    EXPECT_EQ(revoked[0].target_id, u);
    EXPECT_EQ(revoked[0].at, test_time(2));
    EXPECT_EQ(field(revoked[0].before, "scope"), "site:" + shop.id);
    EXPECT_EQ(field(revoked[0].before, "role"), "admin");
    EXPECT_EQ(revoked[0].after, "");
    EXPECT_EQ(count_of("site.deleted", shop.id), 1);
}

// --- grants --------------------------------------------------------------------------------

TEST_P(AccessRepositoryTest, PutGrantAddsThenChangesTheGrantOfTheSameScopeAndSource) {
    const std::string u = add_user("u");
    const std::string other = add_user("other");
    const core::Site shop = add_site("shop");

    const core::Grant first = make_grant(org_, u, "", Role::kUser);
    access_->put_grant(first, audit_at(1));
    std::vector<core::Grant> grants = access_->grants_of(org_, u);
    ASSERT_EQ(grants.size(), 1u);
    EXPECT_EQ(grants[0].id, first.id);
    EXPECT_EQ(grants[0].org_id, org_);
    EXPECT_EQ(grants[0].user_id, u);
    EXPECT_EQ(grants[0].site_id, "");
    EXPECT_EQ(grants[0].role, Role::kUser);
    EXPECT_EQ(grants[0].source, GrantSource::kManual);
    EXPECT_EQ(grants[0].source_ref, "");
    EXPECT_FALSE(grants[0].expires.has_value());
    EXPECT_EQ(grants[0].created, test_time(0));
    EXPECT_EQ(grants[0].created_by, "cli");

    const std::vector<core::AuditEvent> added = rows_of("grant.added");
    ASSERT_EQ(added.size(), 1u);
    EXPECT_EQ(added[0].target_type, "account");
    EXPECT_EQ(added[0].target_id, u);
    EXPECT_EQ(added[0].actor, "cli");
    EXPECT_EQ(added[0].at, test_time(1));
    EXPECT_EQ(added[0].request_id, "req-1");
    EXPECT_EQ(added[0].before, "");
    EXPECT_EQ(field(added[0].after, "id"), first.id);
    EXPECT_EQ(field(added[0].after, "role"), "user");
    EXPECT_EQ(field(added[0].after, "scope"), "org");
    EXPECT_EQ(field(added[0].after, "source"), "manual");

    // The same scope and source again, with another role and an expiry: the grant changes in
    // place (its id stays).
    const core::Grant changed =
        make_grant(org_, u, "", Role::kAdmin, GrantSource::kManual, test_time(60));
    access_->put_grant(changed, audit_at(2));
    grants = access_->grants_of(org_, u);
    ASSERT_EQ(grants.size(), 1u);
    EXPECT_EQ(grants[0].id, first.id);
    EXPECT_EQ(grants[0].role, Role::kAdmin);
    EXPECT_EQ(grants[0].expires, test_time(60));
    EXPECT_EQ(grants[0].created, test_time(0));
    const std::vector<core::AuditEvent> changes = rows_of("grant.changed");
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].target_id, u);
    EXPECT_EQ(changes[0].at, test_time(2));
    EXPECT_EQ(field(changes[0].before, "role"), "user");
    EXPECT_EQ(field(changes[0].before, "expires"), "");
    EXPECT_EQ(field(changes[0].after, "role"), "admin");
    EXPECT_EQ(field(changes[0].after, "expires"), test_time(60));
    EXPECT_EQ(field(changes[0].after, "id"), first.id);
    EXPECT_EQ(count_of("grant.added"), 1);

    // Identical: nothing changes and nothing is recorded, whatever id the caller made up.
    const long long rows = all_rows();
    access_->put_grant(changed, audit_at(3));
    core::Grant again = changed;
    again.id = util::uuid_v4();
    access_->put_grant(again, audit_at(3));
    EXPECT_EQ(all_rows(), rows);
    grants = access_->grants_of(org_, u);
    ASSERT_EQ(grants.size(), 1u);
    EXPECT_EQ(grants[0].id, first.id);

    // Another source or another scope is another grant.
    access_->put_grant(make_grant(org_, u, "", Role::kViewer, GrantSource::kInvitation),
                       audit_at(4));
    access_->put_grant(make_grant(org_, u, shop.id, Role::kUser), audit_at(4));
    EXPECT_EQ(grants_of(u), sorted({grant_key("", Role::kAdmin, GrantSource::kManual),
                                    grant_key("", Role::kViewer, GrantSource::kInvitation),
                                    grant_key(shop.id, Role::kUser, GrantSource::kManual)}));
    EXPECT_EQ(count_of("grant.added"), 3);
    EXPECT_EQ(count_of("grant.changed"), 1);

    // Grants are the account's own, in its organization.
    EXPECT_TRUE(access_->grants_of(org_, other).empty());
    EXPECT_TRUE(access_->grants_of(other_org_, u).empty());
}

TEST_P(AccessRepositoryTest, RevokeGrantsRemovesOneScopeBySourceOrAllSources) {
    const std::string u = add_user("u");
    const std::string other = add_user("other");
    const core::Site shop = add_site("shop");
    access_->put_grant(make_grant(org_, u, "", Role::kAdmin), audit_at(1));
    access_->put_grant(make_grant(org_, u, "", Role::kViewer, GrantSource::kInvitation),
                       audit_at(1));
    access_->put_grant(make_grant(org_, u, "", Role::kUser, GrantSource::kDomainDefault),
                       audit_at(1));
    access_->put_grant(make_grant(org_, u, shop.id, Role::kUser), audit_at(1));
    access_->put_grant(make_grant(org_, other, "", Role::kAdmin), audit_at(1));

    // One source at the organization.
    EXPECT_EQ(access_->revoke_grants(org_, u, "", GrantSource::kManual, audit_at(2)), 1);
    EXPECT_EQ(grants_of(u), sorted({grant_key("", Role::kViewer, GrantSource::kInvitation),
                                    grant_key("", Role::kUser, GrantSource::kDomainDefault),
                                    grant_key(shop.id, Role::kUser, GrantSource::kManual)}));
    std::vector<core::AuditEvent> revoked = rows_of("grant.revoked");
    ASSERT_EQ(revoked.size(), 1u);
    EXPECT_EQ(revoked[0].target_type, "account");
    EXPECT_EQ(revoked[0].target_id, u);
    EXPECT_EQ(revoked[0].at, test_time(2));
    EXPECT_EQ(field(revoked[0].before, "role"), "admin");
    EXPECT_EQ(field(revoked[0].before, "source"), "manual");
    EXPECT_EQ(field(revoked[0].before, "scope"), "org");
    EXPECT_EQ(revoked[0].after, "");

    // Every source at the organization: the site grant stays.
    EXPECT_EQ(access_->revoke_grants(org_, u, "", std::nullopt, audit_at(3)), 2);
    EXPECT_EQ(grants_of(u), Strings{grant_key(shop.id, Role::kUser, GrantSource::kManual)});
    revoked = rows_of("grant.revoked");
    ASSERT_EQ(revoked.size(), 3u);
    EXPECT_EQ(sorted({field(revoked[1].before, "source"), field(revoked[2].before, "source")}),
              sorted({"invitation", "domain_default"}));

    // Nothing left there: 0, and no row.
    EXPECT_EQ(access_->revoke_grants(org_, u, "", std::nullopt, audit_at(4)), 0);
    EXPECT_EQ(access_->revoke_grants(org_, u, shop.id, GrantSource::kInvitation, audit_at(4)), 0);
    // Another organization has nothing of this account to revoke.
    EXPECT_EQ(access_->revoke_grants(other_org_, u, shop.id, std::nullopt, audit_at(4)), 0);
    EXPECT_EQ(count_of("grant.revoked"), 3);

    EXPECT_EQ(access_->revoke_grants(org_, u, shop.id, std::nullopt, audit_at(5)), 1);
    EXPECT_TRUE(access_->grants_of(org_, u).empty());
    EXPECT_EQ(count_of("grant.revoked"), 4);
    EXPECT_EQ(grants_of(other), Strings{grant_key("", Role::kAdmin, GrantSource::kManual)});
}

TEST_P(AccessRepositoryTest, ReplaceSourceGrantsReplacesOnlyThatSource) {
    const std::string u = add_user("u");
    const std::string other = add_user("other");
    const core::Site shop = add_site("shop");
    const core::Site blog = add_site("blog");
    access_->put_grant(make_grant(org_, u, "", Role::kAdmin), audit_at(1));
    access_->put_grant(make_grant(org_, u, shop.id, Role::kViewer), audit_at(1));
    access_->put_grant(make_grant(org_, other, "", Role::kUser, GrantSource::kScimRoles),
                       audit_at(1));
    const Strings manual{grant_key("", Role::kAdmin, GrantSource::kManual),
                         grant_key(shop.id, Role::kViewer, GrantSource::kManual)};
    const auto with_manual = [&](Strings more) {
        more.insert(more.end(), manual.begin(), manual.end());
        return sorted(more);
    };

    access_->replace_source_grants(
        org_, u, GrantSource::kScimRoles,
        {make_grant(org_, u, "", Role::kUser, GrantSource::kScimRoles),
         make_grant(org_, u, shop.id, Role::kViewer, GrantSource::kScimRoles)},
        audit_at(2));
    EXPECT_EQ(grants_of(u),
              with_manual({grant_key("", Role::kUser, GrantSource::kScimRoles),
                           grant_key(shop.id, Role::kViewer, GrantSource::kScimRoles)}));
    EXPECT_EQ(count_of("grant.added"), 5);

    // Another set: the shop grant changes, the org grant goes, the blog grant comes; the
    // manual grants at the same scopes are untouched.
    access_->replace_source_grants(
        org_, u, GrantSource::kScimRoles,
        {make_grant(org_, u, shop.id, Role::kAdmin, GrantSource::kScimRoles),
         make_grant(org_, u, blog.id, Role::kUser, GrantSource::kScimRoles)},
        audit_at(3));
    EXPECT_EQ(grants_of(u),
              with_manual({grant_key(shop.id, Role::kAdmin, GrantSource::kScimRoles),
                           grant_key(blog.id, Role::kUser, GrantSource::kScimRoles)}));
    EXPECT_EQ(count_of("grant.added"), 6);
    EXPECT_EQ(count_of("grant.revoked"), 1);
    const std::vector<core::AuditEvent> changes = rows_of("grant.changed");
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].target_id, u);
    EXPECT_EQ(field(changes[0].before, "role"), "viewer");
    EXPECT_EQ(field(changes[0].after, "role"), "admin");
    EXPECT_EQ(field(changes[0].before, "source"), "scim_roles");
    EXPECT_EQ(field(changes[0].before, "id"), field(changes[0].after, "id"));

    // The same set again: nothing to record.
    const long long rows = all_rows();
    access_->replace_source_grants(
        org_, u, GrantSource::kScimRoles,
        {make_grant(org_, u, shop.id, Role::kAdmin, GrantSource::kScimRoles),
         make_grant(org_, u, blog.id, Role::kUser, GrantSource::kScimRoles)},
        audit_at(4));
    EXPECT_EQ(all_rows(), rows);

    // An empty set removes the source's grants and keeps the manual ones.
    access_->replace_source_grants(org_, u, GrantSource::kScimRoles, {}, audit_at(5));
    EXPECT_EQ(grants_of(u), sorted(manual));
    EXPECT_EQ(count_of("grant.revoked"), 3);
    // Another account's grants of the source are its own.
    EXPECT_EQ(grants_of(other), Strings{grant_key("", Role::kUser, GrantSource::kScimRoles)});
}

// --- grants through groups -------------------------------------------------------------------

TEST_P(AccessRepositoryTest, GroupBindingsGiveGrantsThroughNesting) {
    const core::Site shop = add_site("shop");
    const std::string nested = add_user("nested");
    const std::string direct = add_user("direct");
    const std::string loner = add_user("loner");
    // nested ∈ A ⊂ B; direct ∈ B; loner in no group.
    const core::GroupRecord a = add_group("A", {nested});
    const core::GroupRecord b = add_group("B", {a.id, direct});
    access_->set_group_roles(org_, a.id, {binding(a.id, "", Role::kUser)}, audit_at(1));
    access_->set_group_roles(org_, b.id, {binding(b.id, shop.id, Role::kAdmin)}, audit_at(1));
    access_->put_grant(make_grant(org_, direct, "", Role::kViewer), audit_at(1));
    EXPECT_EQ(count_of("group.roles_set"), 2);
    EXPECT_EQ(roles_of(a.id), Strings{role_key("", Role::kUser, "manual")});

    const Strings nested_grants{grant_key("", Role::kUser, GrantSource::kScimGroup, a.id),
                                grant_key(shop.id, Role::kAdmin, GrantSource::kScimGroup, b.id)};
    const Strings direct_grants{grant_key("", Role::kViewer, GrantSource::kManual),
                                grant_key(shop.id, Role::kAdmin, GrantSource::kScimGroup, b.id)};
    const std::vector<core::Grant> of_nested = access_->grants_of(org_, nested);
    EXPECT_EQ(grant_keys(of_nested), sorted(nested_grants));
    for (const core::Grant& g : of_nested) {
        EXPECT_EQ(g.org_id, org_);
        EXPECT_EQ(g.user_id, nested);
        EXPECT_FALSE(g.expires.has_value());
    }
    EXPECT_EQ(grants_of(direct), sorted(direct_grants));
    EXPECT_TRUE(access_->grants_of(org_, loner).empty());
    EXPECT_TRUE(access_->grants_of(other_org_, nested).empty());

    // Several accounts at once: the same answers.
    const std::map<std::string, std::vector<core::Grant>> many =
        access_->grants_of_many(org_, {nested, direct, loner});
    ASSERT_EQ(many.count(nested), 1u);
    ASSERT_EQ(many.count(direct), 1u);
    EXPECT_EQ(grant_keys(many.at(nested)), sorted(nested_grants));
    EXPECT_EQ(grant_keys(many.at(direct)), sorted(direct_grants));
    const auto none = many.find(loner);
    EXPECT_TRUE(none == many.end() || none->second.empty());
    EXPECT_TRUE(access_->grants_of_many(org_, {}).empty());
    const auto theirs = access_->grants_of_many(other_org_, {nested, direct});
    for (const auto& [user, grants] : theirs) {
        EXPECT_TRUE(grants.empty()) << user;
    }

    // A binding never gives owner (DESIGN §2 rule 1).
    access_->set_group_roles(org_, a.id, {binding(a.id, "", Role::kOwner)}, audit_at(2));
    EXPECT_EQ(grants_of(nested),
              sorted({grant_key("", Role::kAdmin, GrantSource::kScimGroup, a.id),
                      grant_key(shop.id, Role::kAdmin, GrantSource::kScimGroup, b.id)}));

    // Leaving A takes both: A's own binding and B's through A.
    ASSERT_TRUE(groups_->change_members(org_, a.id, removing({nested}), test_time(3), audit_at(3)));
    EXPECT_TRUE(access_->grants_of(org_, nested).empty());
    EXPECT_EQ(grants_of(direct), sorted(direct_grants));

    // Clearing B's bindings takes what B gave.
    access_->set_group_roles(org_, b.id, {}, audit_at(4));
    EXPECT_EQ(grants_of(direct), Strings{grant_key("", Role::kViewer, GrantSource::kManual)});
    EXPECT_TRUE(roles_of(b.id).empty());
}

TEST_P(AccessRepositoryTest, NamingRulesBindGroupsByTheirNames) {
    const core::GroupRecord admins = add_group("site-shop-admin");
    const core::GroupRecord engineering = add_group("Engineering");
    const core::GroupRecord theirs = make_group(other_org_, "site-shop-admin");
    groups_->insert(theirs, {});

    const core::NamingRule rule =
        make_rule(org_, R"(^site-([^-]+)-(admin|user|viewer)$)", "$2", "$1");
    const std::string origin = "rule:" + rule.id;
    access_->insert_rule(rule, audit_at(1));
    const std::vector<core::NamingRule> rules = access_->naming_rules(org_);
    ASSERT_EQ(rules.size(), 1u);
    EXPECT_EQ(rules[0].id, rule.id);
    EXPECT_EQ(rules[0].org_id, org_);
    EXPECT_EQ(rules[0].pattern, rule.pattern);
    EXPECT_EQ(rules[0].role, "$2");
    EXPECT_EQ(rules[0].site, "$1");
    EXPECT_EQ(rules[0].created, test_time(0));
    EXPECT_TRUE(access_->naming_rules(other_org_).empty());
    EXPECT_EQ(count_of("rule.created", rule.id), 1);

    // No site "shop" yet: the rule binds nothing.
    EXPECT_TRUE(roles_of(admins.id).empty());

    // The site comes (named in another case): the existing group is bound to it.
    const core::Site shop = add_site("Shop");
    EXPECT_EQ(roles_of(admins.id), Strings{role_key(shop.id, Role::kAdmin, origin)});
    EXPECT_TRUE(roles_of(engineering.id).empty());
    EXPECT_EQ(count_of("group.roles_derived", admins.id), 1);
    // Another organization's group of the same name is not bound by this organization's rule.
    EXPECT_TRUE(access_->group_roles(other_org_, theirs.id).empty());

    // Manual bindings sit next to the rule's, and setting them leaves the rule's alone.
    access_->set_group_roles(
        org_, admins.id,
        {binding(admins.id, "", Role::kViewer), binding(admins.id, shop.id, Role::kUser)},
        audit_at(2));
    EXPECT_EQ(roles_of(admins.id), sorted({role_key("", Role::kViewer, "manual"),
                                           role_key(shop.id, Role::kUser, "manual"),
                                           role_key(shop.id, Role::kAdmin, origin)}));
    access_->set_group_roles(org_, admins.id, {binding(admins.id, "", Role::kViewer)}, audit_at(3));
    EXPECT_EQ(roles_of(admins.id), sorted({role_key("", Role::kViewer, "manual"),
                                           role_key(shop.id, Role::kAdmin, origin)}));

    // A group created later is bound by its insert; a name for a site that doesn't exist
    // binds nothing.
    const core::GroupRecord viewers = add_group("site-shop-viewer");
    EXPECT_EQ(roles_of(viewers.id), Strings{role_key(shop.id, Role::kViewer, origin)});
    const core::GroupRecord nowhere = add_group("site-nowhere-user");
    EXPECT_TRUE(roles_of(nowhere.id).empty());

    // A rename away from the pattern drops the binding; a rename into it binds again.
    core::GroupRecord renamed = make_group(org_, "Shop viewers", 5);
    renamed.id = viewers.id;
    renamed.version = 2;
    ASSERT_TRUE(groups_->update(renamed, 1, core::MembershipChange{}, audit_at(5)));
    EXPECT_TRUE(roles_of(viewers.id).empty());
    core::GroupRecord back = make_group(org_, "site-SHOP-user", 6);
    back.id = viewers.id;
    back.version = 3;
    ASSERT_TRUE(groups_->update(back, 2, core::MembershipChange{}, audit_at(6)));
    EXPECT_EQ(roles_of(viewers.id), Strings{role_key(shop.id, Role::kUser, origin)});

    // Renaming the site away from the captured name unbinds; renaming it back binds again.
    ASSERT_TRUE(access_->rename_site(org_, shop.id, "Store", audit_at(7)));
    EXPECT_EQ(roles_of(admins.id), Strings{role_key("", Role::kViewer, "manual")});
    ASSERT_TRUE(access_->rename_site(org_, shop.id, "shop", audit_at(8)));
    EXPECT_EQ(roles_of(admins.id), sorted({role_key("", Role::kViewer, "manual"),
                                           role_key(shop.id, Role::kAdmin, origin)}));

    // Deleting the rule drops its bindings and keeps the manual ones.
    ASSERT_TRUE(access_->delete_rule(org_, rule.id, audit_at(9)));
    EXPECT_EQ(roles_of(admins.id), Strings{role_key("", Role::kViewer, "manual")});
    EXPECT_TRUE(roles_of(viewers.id).empty());
    EXPECT_TRUE(access_->naming_rules(org_).empty());
    EXPECT_FALSE(access_->delete_rule(org_, rule.id, audit_at(10)));
    EXPECT_EQ(count_of("rule.deleted", rule.id), 1);

    // A deleted group's bindings go with it.
    ASSERT_TRUE(groups_->remove(org_, admins.id, audit_at(11)));
    EXPECT_TRUE(roles_of(admins.id).empty());
}

// --- owners --------------------------------------------------------------------------------

TEST_P(AccessRepositoryTest, CountActiveOwnersCountsActiveAccountsWithAnUnexpiredOwnerGrant) {
    const std::string now = test_time(30);
    const core::Site shop = add_site("shop");
    const std::string owner = add_user("owner");
    const std::string twice = add_user("twice");
    const std::string until_later = add_user("until-later");
    const std::string expired = add_user("expired");
    const std::string expiring_now = add_user("expiring-now");
    const std::string leaving = add_user("leaving");
    const std::string site_owner = add_user("site-owner");
    const std::string admin = add_user("admin");
    const std::string theirs = add_user_in(other_org_, "owner");

    access_->put_grant(make_grant(org_, owner, "", Role::kOwner), audit_at(1));
    // Two owner grants make one owner.
    access_->put_grant(make_grant(org_, twice, "", Role::kOwner), audit_at(1));
    access_->put_grant(make_grant(org_, twice, "", Role::kOwner, GrantSource::kInvitation),
                       audit_at(1));
    access_->put_grant(
        make_grant(org_, until_later, "", Role::kOwner, GrantSource::kManual, test_time(60)),
        audit_at(1));
    access_->put_grant(
        make_grant(org_, expired, "", Role::kOwner, GrantSource::kManual, test_time(10)),
        audit_at(1));
    access_->put_grant(make_grant(org_, expiring_now, "", Role::kOwner, GrantSource::kManual, now),
                       audit_at(1));
    access_->put_grant(make_grant(org_, leaving, "", Role::kOwner), audit_at(1));
    // Neither a site-scope owner grant nor an organization admin is an owner.
    access_->put_grant(make_grant(org_, site_owner, shop.id, Role::kOwner), audit_at(1));
    access_->put_grant(make_grant(org_, admin, "", Role::kAdmin), audit_at(1));
    access_->put_grant(make_grant(other_org_, theirs, "", Role::kOwner), audit_at(1));

    // owner, twice, until_later, leaving.
    EXPECT_EQ(access_->count_active_owners(org_, now), 4);

    // An inactive account counts for nothing; its grant stays.
    deactivate(leaving);
    EXPECT_EQ(access_->count_active_owners(org_, now), 3);
    EXPECT_EQ(grants_of(leaving), Strings{grant_key("", Role::kOwner, GrantSource::kManual)});

    // Expiry is measured at the given time: a grant is expired from its expiry on.
    EXPECT_EQ(access_->count_active_owners(org_, test_time(0)), 5);
    EXPECT_EQ(access_->count_active_owners(org_, test_time(60)), 2);
    EXPECT_EQ(access_->count_active_owners(other_org_, now), 1);

    // A removed owner no longer counts.
    ASSERT_TRUE(users_->remove(org_, owner, audit_at(2)));
    EXPECT_EQ(access_->count_active_owners(org_, now), 2);
}

// --- grants written by account writes -----------------------------------------------------

TEST_P(AccessRepositoryTest, AccountWritesReplaceTheirRoleGrants) {
    const core::Site shop = add_site("shop");
    core::UserRecord u = make_user(org_, R"({"userName":"synced"})");
    u.role_grants = std::vector<core::Grant>{
        make_grant(org_, u.id, "", Role::kUser, GrantSource::kScimRoles),
        make_grant(org_, u.id, shop.id, Role::kAdmin, GrantSource::kScimRoles)};
    users_->insert(u, audit_at(1, {entry("account.created", "account", u.id)}));
    EXPECT_EQ(grants_of(u.id), sorted({grant_key("", Role::kUser, GrantSource::kScimRoles),
                                       grant_key(shop.id, Role::kAdmin, GrantSource::kScimRoles)}));
    const std::vector<core::AuditEvent> added = rows_of("grant.added");
    ASSERT_EQ(added.size(), 2u);
    for (const core::AuditEvent& e : added) {
        EXPECT_EQ(e.target_id, u.id);
        EXPECT_EQ(e.actor, "cli");
        EXPECT_EQ(e.at, test_time(1));
        EXPECT_EQ(e.request_id, "req-1");
        EXPECT_EQ(field(e.after, "source"), "scim_roles");
    }
    EXPECT_EQ(count_of("account.created", u.id), 1);

    // A manual grant is none of the sync's business.
    access_->put_grant(make_grant(org_, u.id, "", Role::kAdmin), audit_at(2));

    // role_grants unset (as read back): the update leaves the grants as they are.
    std::optional<core::UserRecord> stored = users_->find(org_, u.id);
    ASSERT_TRUE(stored.has_value());
    EXPECT_FALSE(stored->role_grants.has_value());
    core::UserRecord next = *stored;
    next.display_name = "Synced";
    next.version = 2;
    next.last_modified = test_time(3);
    ASSERT_TRUE(users_->update(next, 1, audit_at(3)));
    EXPECT_EQ(grants_of(u.id), sorted({grant_key("", Role::kUser, GrantSource::kScimRoles),
                                       grant_key(shop.id, Role::kAdmin, GrantSource::kScimRoles),
                                       grant_key("", Role::kAdmin, GrantSource::kManual)}));

    // Another set: the grants of the source become exactly that.
    next.role_grants = std::vector<core::Grant>{
        make_grant(org_, u.id, shop.id, Role::kViewer, GrantSource::kScimRoles)};
    next.version = 3;
    ASSERT_TRUE(users_->update(next, 2, audit_at(4)));
    EXPECT_EQ(grants_of(u.id), sorted({grant_key(shop.id, Role::kViewer, GrantSource::kScimRoles),
                                       grant_key("", Role::kAdmin, GrantSource::kManual)}));

    // An empty set removes them; the manual grant stays.
    next.role_grants = std::vector<core::Grant>{};
    next.version = 4;
    ASSERT_TRUE(users_->update(next, 3, audit_at(5)));
    EXPECT_EQ(grants_of(u.id), Strings{grant_key("", Role::kAdmin, GrantSource::kManual)});
    EXPECT_EQ(count_of("grant.revoked"), 2);
    EXPECT_EQ(count_of("grant.changed"), 1);

    // A stale update writes no grant either.
    next.role_grants =
        std::vector<core::Grant>{make_grant(org_, u.id, "", Role::kUser, GrantSource::kScimRoles)};
    next.version = 5;
    EXPECT_FALSE(users_->update(next, 1, audit_at(6)));
    EXPECT_EQ(grants_of(u.id), Strings{grant_key("", Role::kAdmin, GrantSource::kManual)});
    EXPECT_EQ(count_of("grant.added"), 3);
}

TEST_P(AccessRepositoryTest, RemovingAnAccountRemovesItsGrantsKeysAndMemberships) {
    const core::Site shop = add_site("shop");
    const std::string leaver = add_user("leaver");
    const std::string stayer = add_user("stayer");
    const core::GroupRecord g = add_group("G", {leaver, stayer});
    access_->set_group_roles(org_, g.id, {binding(g.id, "", Role::kViewer)}, audit_at(1));
    access_->put_grant(make_grant(org_, leaver, shop.id, Role::kAdmin), audit_at(1));
    access_->replace_source_grants(
        org_, leaver, GrantSource::kScimRoles,
        {make_grant(org_, leaver, "", Role::kUser, GrantSource::kScimRoles)}, audit_at(1));
    access_->put_grant(make_grant(org_, stayer, "", Role::kUser), audit_at(1));
    const core::ApiKey leaver_key = make_key(org_, leaver, "leaver's");
    const core::ApiKey stayer_key = make_key(org_, stayer, "stayer's");
    keys_->insert(leaver_key, audit_at(1));
    keys_->insert(stayer_key, audit_at(1));
    ASSERT_EQ(access_->grants_of(org_, leaver).size(), 3u);

    ASSERT_TRUE(
        users_->remove(org_, leaver, audit_at(2, {entry("account.deleted", "account", leaver)})));
    EXPECT_TRUE(access_->grants_of(org_, leaver).empty());
    EXPECT_FALSE(keys_->find_by_hash(leaver_key.hash).has_value());
    const std::vector<core::ApiKey> left = keys_->list(org_);
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0].id, stayer_key.id);
    EXPECT_EQ(member_ids_of(g.id), Strings{stayer});
    EXPECT_TRUE(groups_->groups_of(org_, leaver).empty());

    // The other member keeps everything.
    EXPECT_EQ(grants_of(stayer),
              sorted({grant_key("", Role::kUser, GrantSource::kManual),
                      grant_key("", Role::kViewer, GrantSource::kScimGroup, g.id)}));
    EXPECT_TRUE(keys_->find_by_hash(stayer_key.hash).has_value());

    // The membership it lost is recorded with the delete.
    const std::vector<core::AuditEvent> removed = rows_of("group.member_removed");
    ASSERT_EQ(removed.size(), 1u);
    EXPECT_EQ(removed[0].target_id, g.id);
    EXPECT_EQ(field(removed[0].before, "member"), leaver);
    EXPECT_EQ(removed[0].at, test_time(2));
    EXPECT_EQ(count_of("account.deleted", leaver), 1);

    // Nothing to delete: false, and no row.
    EXPECT_FALSE(
        users_->remove(org_, leaver, audit_at(3, {entry("account.deleted", "account", leaver)})));
    EXPECT_EQ(count_of("account.deleted", leaver), 1);
}

// --- API keys ------------------------------------------------------------------------------

TEST_P(AccessRepositoryTest, ApiKeysAreFoundByHashListedRevokedAndTouched) {
    const std::string u = add_user("u");
    const std::string v = add_user("v");
    const std::string w = add_user_in(other_org_, "w");
    const core::ApiKey deploy = make_key(org_, u, "deploy", 1);
    core::ApiKey ci = make_key(org_, v, "ci", 2);
    ci.expires = test_time(600);
    const core::ApiKey theirs = make_key(other_org_, w, "theirs");
    keys_->insert(deploy, audit_at(1, {entry("api_key.created", "api_key", deploy.id)}));
    keys_->insert(ci, audit_at(2, {entry("api_key.created", "api_key", ci.id)}));
    keys_->insert(theirs, audit_at(0));

    const std::optional<core::ApiKey> found = keys_->find_by_hash(deploy.hash);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->id, deploy.id);
    EXPECT_EQ(found->org_id, org_);
    EXPECT_EQ(found->user_id, u);
    EXPECT_EQ(found->name, "deploy");
    EXPECT_EQ(found->hash, deploy.hash);
    EXPECT_EQ(found->created, test_time(1));
    EXPECT_FALSE(found->expires.has_value());
    EXPECT_FALSE(found->revoked.has_value());
    EXPECT_FALSE(found->last_used.has_value());
    EXPECT_EQ(keys_->find_by_hash(ci.hash).value().expires, test_time(600));
    EXPECT_FALSE(keys_->find_by_hash(util::sha256_hex("no such secret")).has_value());

    const auto ids = [&](const std::string& org) {
        Strings out;
        for (const core::ApiKey& k : keys_->list(org)) {
            out.push_back(k.id);
        }
        return out;
    };
    EXPECT_EQ(ids(org_), (Strings{deploy.id, ci.id}));
    EXPECT_EQ(ids(other_org_), Strings{theirs.id});
    EXPECT_EQ(count_of("api_key.created"), 2);

    // Revoke: once; again, or from another organization, is false and records nothing.
    EXPECT_TRUE(keys_->revoke(org_, deploy.id, test_time(3),
                              audit_at(3, {entry("api_key.revoked", "api_key", deploy.id)})));
    EXPECT_EQ(keys_->find_by_hash(deploy.hash).value().revoked, test_time(3));
    EXPECT_FALSE(keys_->revoke(org_, deploy.id, test_time(4),
                               audit_at(4, {entry("api_key.revoked", "api_key", deploy.id)})));
    EXPECT_EQ(keys_->find_by_hash(deploy.hash).value().revoked, test_time(3));
    EXPECT_FALSE(keys_->revoke(other_org_, ci.id, test_time(4),
                               audit_at(4, {entry("api_key.revoked", "api_key", ci.id)})));
    EXPECT_FALSE(keys_->find_by_hash(ci.hash).value().revoked.has_value());
    EXPECT_FALSE(keys_->revoke(org_, util::uuid_v4(), test_time(4), audit_at(4)));
    const std::vector<core::AuditEvent> revoked = rows_of("api_key.revoked");
    ASSERT_EQ(revoked.size(), 1u);
    EXPECT_EQ(revoked[0].target_id, deploy.id);
    EXPECT_EQ(revoked[0].at, test_time(3));

    // A revoked key is still listed, with its revocation.
    const std::vector<core::ApiKey> listed = keys_->list(org_);
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_EQ(listed[0].revoked, test_time(3));
    EXPECT_FALSE(listed[1].revoked.has_value());

    // Touch records the last use.
    keys_->touch(ci.id, test_time(5));
    EXPECT_EQ(keys_->find_by_hash(ci.hash).value().last_used, test_time(5));
    EXPECT_FALSE(keys_->find_by_hash(deploy.hash).value().last_used.has_value());
}

// --- the audit trail -----------------------------------------------------------------------

TEST_P(AccessRepositoryTest, AuditListFiltersPagesAndKeepsTheOrderOfWrites) {
    const std::string user = util::uuid_v4();
    const std::string site = util::uuid_v4();
    audit_->append(org_, audit_at(1,
                                  {entry("site.created", "site", site, "", R"({"name":"shop"})"),
                                   entry("grant.added", "account", user, "", R"({"role":"user"})")},
                                  "api_key:k1"));
    audit_->append(
        org_, audit_at(2, {entry("grant.revoked", "account", user, R"({"role":"user"})", "")}));
    audit_->append(org_, audit_at(3, {entry("site.deleted", "site", site)}, "api_key:k1"));
    audit_->append(other_org_, audit_at(2, {entry("site.created", "site", site)}));
    // An Audit without entries writes nothing.
    audit_->append(org_, audit_at(4));

    const core::Page<core::AuditEvent> all = audit_->list(org_, core::AuditQuery{});
    EXPECT_EQ(all.total, 4);
    EXPECT_EQ(actions_of(all.items),
              (Strings{"site.created", "grant.added", "grant.revoked", "site.deleted"}));
    ASSERT_EQ(all.items.size(), 4u);
    // The entries of one Audit share its actor, request id and time.
    for (std::size_t i = 0; i < 2; ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ(all.items[i].org_id, org_);
        EXPECT_EQ(all.items[i].actor, "api_key:k1");
        EXPECT_EQ(all.items[i].request_id, "req-1");
        EXPECT_EQ(all.items[i].at, test_time(1));
    }
    for (std::size_t i = 1; i < all.items.size(); ++i) {
        EXPECT_LT(all.items[i - 1].seq, all.items[i].seq);
    }
    EXPECT_EQ(all.items[0].target_type, "site");
    EXPECT_EQ(all.items[0].target_id, site);
    EXPECT_EQ(all.items[0].before, "");
    EXPECT_EQ(all.items[0].after, R"({"name":"shop"})");
    EXPECT_EQ(all.items[2].actor, "cli");
    EXPECT_EQ(all.items[2].request_id, "req-2");
    EXPECT_EQ(all.items[2].at, test_time(2));
    EXPECT_EQ(all.items[2].target_type, "account");
    EXPECT_EQ(all.items[2].before, R"({"role":"user"})");
    EXPECT_EQ(all.items[2].after, "");

    const auto selected = [&](const core::AuditQuery& q) { return actions_of(events(q)); };
    core::AuditQuery q;
    q.from = test_time(2);  // at >= from
    EXPECT_EQ(selected(q), (Strings{"grant.revoked", "site.deleted"}));
    q = core::AuditQuery{};
    q.to = test_time(2);  // at < to
    EXPECT_EQ(selected(q), (Strings{"site.created", "grant.added"}));
    q.from = test_time(2);
    q.to = test_time(3);
    EXPECT_EQ(selected(q), Strings{"grant.revoked"});
    q = core::AuditQuery{};
    q.actor = "api_key:k1";
    EXPECT_EQ(selected(q), (Strings{"site.created", "grant.added", "site.deleted"}));
    q = core::AuditQuery{};
    q.action = "grant.added";
    EXPECT_EQ(selected(q), Strings{"grant.added"});
    q = core::AuditQuery{};
    q.target_id = user;
    EXPECT_EQ(selected(q), (Strings{"grant.added", "grant.revoked"}));
    q.action = "grant.revoked";
    EXPECT_EQ(selected(q), Strings{"grant.revoked"});
    q = core::AuditQuery{};
    q.actor = "nobody";
    EXPECT_TRUE(selected(q).empty());

    // Pages: totalResults is the whole selection's.
    const auto page = [&](long long start, long long count, std::optional<std::string> actor) {
        core::AuditQuery p;
        p.start_index = start;
        p.count = count;
        p.actor = std::move(actor);
        return audit_->list(org_, p);
    };
    core::Page<core::AuditEvent> p = page(2, 2, std::nullopt);
    EXPECT_EQ(p.total, 4);
    EXPECT_EQ(actions_of(p.items), (Strings{"grant.added", "grant.revoked"}));
    p = page(4, 10, std::nullopt);
    EXPECT_EQ(p.total, 4);
    EXPECT_EQ(actions_of(p.items), Strings{"site.deleted"});
    p = page(5, 10, std::nullopt);
    EXPECT_EQ(p.total, 4);
    EXPECT_TRUE(p.items.empty());
    p = page(1, 0, std::nullopt);
    EXPECT_EQ(p.total, 4);
    EXPECT_TRUE(p.items.empty());
    p = page(2, 1, "api_key:k1");
    EXPECT_EQ(p.total, 3);
    EXPECT_EQ(actions_of(p.items), Strings{"grant.added"});

    // Another organization's trail is its own.
    const core::Page<core::AuditEvent> other = audit_->list(other_org_, core::AuditQuery{});
    EXPECT_EQ(other.total, 1);
    ASSERT_EQ(other.items.size(), 1u);
    EXPECT_EQ(other.items[0].org_id, other_org_);
}

// The issue's requirement: a write that fails leaves neither its change nor its audit rows,
// including the rows it had already written in its transaction before it failed.
TEST_P(AccessRepositoryTest, AFailedWriteLeavesNeitherTheChangeNorItsAuditRows) {
    const std::string u1 = add_user("u1");
    const std::string u2 = add_user("u2");
    const std::string missing = util::uuid_v4();

    // A group insert with an unknown member.
    const core::GroupRecord g = make_group(org_, "Admins");
    const Error refused = error_of([&] {
        groups_->insert(g, {u1, missing},
                        audit_at(1, {entry("group.created", "group", g.id, "",
                                           R"({"displayName":"Admins"})")}));
    });
    expect_status(refused, 400, ScimType::kInvalidValue);
    EXPECT_NE(refused.detail().find(missing), std::string::npos) << refused.detail();
    EXPECT_FALSE(groups_->find(org_, g.id, true).has_value());
    EXPECT_EQ(count_of("group.created"), 0);
    EXPECT_EQ(count_of("group.member_added"), 0);
    EXPECT_TRUE(rows_about(g.id).empty());

    // A replacement whose member_removed row was written before an unknown id failed it.
    const core::GroupRecord staff = add_group("Staff", {u1});
    ASSERT_EQ(count_of("group.member_added", staff.id), 1);
    expect_status(error_of([&] {
                      groups_->change_members(
                          org_, staff.id, replacing({u2, missing}), test_time(2),
                          audit_at(2, {entry("group.updated", "group", staff.id)}));
                  }),
                  400, ScimType::kInvalidValue);
    EXPECT_EQ(member_ids_of(staff.id), Strings{u1});
    EXPECT_EQ(groups_->find(org_, staff.id, false).value().version, 1);
    EXPECT_EQ(count_of("group.member_removed"), 0);
    EXPECT_EQ(count_of("group.updated"), 0);
    EXPECT_EQ(count_of("group.member_added"), 1);

    // A user insert refused for a taken userName, with role grants to write.
    const core::UserRecord first = make_user(org_, R"({"userName":"bjensen"})");
    users_->insert(first, audit_at(3, {entry("account.created", "account", first.id)}));
    core::UserRecord second = make_user(org_, R"({"userName":"BJensen"})");
    second.role_grants = std::vector<core::Grant>{
        make_grant(org_, second.id, "", Role::kUser, GrantSource::kScimRoles)};
    expect_status(error_of([&] {
                      users_->insert(second,
                                     audit_at(4, {entry("account.created", "account", second.id)}));
                  }),
                  409, ScimType::kUniqueness);
    EXPECT_FALSE(users_->find(org_, second.id).has_value());
    EXPECT_TRUE(rows_about(second.id).empty());
    EXPECT_TRUE(access_->grants_of(org_, second.id).empty());
    EXPECT_EQ(count_of("grant.added"), 0);
    const std::vector<core::AuditEvent> created = rows_of("account.created");
    ASSERT_EQ(created.size(), 1u);
    EXPECT_EQ(created[0].target_id, first.id);

    // A site insert refused for a taken name.
    const core::Site shop = add_site("Shop");
    const core::Site again = make_site(org_, "SHOP");
    expect_status(error_of([&] { access_->insert_site(again, audit_at(5)); }), 409,
                  ScimType::kUniqueness);
    EXPECT_EQ(access_->list_sites(org_).size(), 1u);
    const std::vector<core::AuditEvent> sites = rows_of("site.created");
    ASSERT_EQ(sites.size(), 1u);
    EXPECT_EQ(sites[0].target_id, shop.id);
    EXPECT_TRUE(rows_about(again.id).empty());
}

TEST_P(AccessRepositoryTest, MemberChangesWriteOneAuditRowPerMember) {
    const std::string u1 = add_user("u1");
    const std::string u2 = add_user("u2");
    const std::string u3 = add_user("u3");
    const core::GroupRecord g = add_group("G");

    ASSERT_TRUE(groups_->change_members(org_, g.id, adding({u1, u2}), test_time(1),
                                        audit_at(1, {}, "scim_token:t1")));
    const std::vector<core::AuditEvent> added = rows_of("group.member_added");
    ASSERT_EQ(added.size(), 2u);
    Strings members;
    for (const core::AuditEvent& e : added) {
        EXPECT_EQ(e.target_type, "group");
        EXPECT_EQ(e.target_id, g.id);
        EXPECT_EQ(e.actor, "scim_token:t1");
        EXPECT_EQ(e.request_id, "req-1");
        EXPECT_EQ(e.at, test_time(1));
        EXPECT_EQ(e.before, "");
        EXPECT_EQ(field(e.after, "type"), "User");
        members.push_back(field(e.after, "member"));
    }
    EXPECT_EQ(sorted(members), sorted({u1, u2}));

    // Members already there: no row.
    ASSERT_TRUE(groups_->change_members(org_, g.id, adding({u1, u2}), test_time(2), audit_at(2)));
    EXPECT_EQ(count_of("group.member_added"), 2);
    EXPECT_EQ(count_of("group.member_removed"), 0);

    // A replacement with one of them: one row, for the one that leaves.
    ASSERT_TRUE(groups_->change_members(org_, g.id, replacing({u1}), test_time(3), audit_at(3)));
    EXPECT_EQ(member_ids_of(g.id), Strings{u1});
    std::vector<core::AuditEvent> removed = rows_of("group.member_removed");
    ASSERT_EQ(removed.size(), 1u);
    EXPECT_EQ(removed[0].target_type, "group");
    EXPECT_EQ(removed[0].target_id, g.id);
    EXPECT_EQ(field(removed[0].before, "member"), u2);
    EXPECT_EQ(removed[0].after, "");
    EXPECT_EQ(removed[0].at, test_time(3));
    EXPECT_EQ(count_of("group.member_added"), 2);

    // Removing ids that are no members (any more) records nothing.
    ASSERT_TRUE(groups_->change_members(org_, g.id, removing({u2, u3, util::uuid_v4()}),
                                        test_time(3), audit_at(3)));
    EXPECT_EQ(member_ids_of(g.id), Strings{u1});
    EXPECT_EQ(count_of("group.member_removed"), 1);

    // A group inserted with members: a row for each, a nested group as a Group.
    const core::GroupRecord outer = make_group(org_, "Outer");
    groups_->insert(outer, {g.id, u3}, audit_at(4));
    Strings outer_members;
    for (const core::AuditEvent& e : rows_about(outer.id)) {
        ASSERT_EQ(e.action, "group.member_added");
        outer_members.push_back(field(e.after, "member") + " " + field(e.after, "type"));
    }
    EXPECT_EQ(sorted(outer_members), sorted({g.id + " Group", u3 + " User"}));

    // Deleting a user that is in a group: a row for that group.
    ASSERT_TRUE(users_->remove(org_, u1, audit_at(5)));
    removed = rows_of("group.member_removed");
    ASSERT_EQ(removed.size(), 2u);
    EXPECT_EQ(removed[1].target_id, g.id);
    EXPECT_EQ(field(removed[1].before, "member"), u1);
    EXPECT_EQ(removed[1].at, test_time(5));

    // Deleting a nested group: a row for the group it was in.
    ASSERT_TRUE(groups_->remove(org_, g.id, audit_at(6)));
    removed = rows_of("group.member_removed");
    ASSERT_EQ(removed.size(), 3u);
    EXPECT_EQ(removed[2].target_id, outer.id);
    EXPECT_EQ(field(removed[2].before, "member"), g.id);
    EXPECT_EQ(field(removed[2].before, "type"), "Group");
}

// DESIGN §2 rule 3 in the store: a write that leaves the organization without an active owner
// fails inside its own transaction, whatever the caller checked before (two owners demoted
// at once cannot both pass), and nothing of it stays.
TEST_P(AccessRepositoryTest, TheLastActiveOwnerSurvivesEveryWriteThatWouldRemoveIt) {
    const std::string ann = add_user("ann");
    const std::string bo = add_user("bo");
    access_->put_grant(make_grant(org_, ann, "", Role::kOwner), audit_at(1));
    const auto conflict = [](const Error& e) { return e.status() == 409; };
    // Deactivating, deleting, revoking or downgrading the only owner: 409, nothing changed.
    core::UserRecord off = *users_->find(org_, ann);
    off.active = false;
    off.version += 1;
    EXPECT_TRUE(
        conflict(test::error_of([&] { users_->update(off, off.version - 1, audit_at(2)); })));
    EXPECT_TRUE(users_->find(org_, ann)->active);
    EXPECT_TRUE(conflict(test::error_of([&] { users_->remove(org_, ann, audit_at(2)); })));
    EXPECT_TRUE(users_->find(org_, ann).has_value());
    EXPECT_TRUE(conflict(test::error_of(
        [&] { access_->revoke_grants(org_, ann, "", GrantSource::kManual, audit_at(2)); })));
    EXPECT_TRUE(conflict(test::error_of(
        [&] { access_->put_grant(make_grant(org_, ann, "", Role::kAdmin), audit_at(2)); })));
    EXPECT_EQ(access_->count_active_owners(org_, test_time(3)), 1);
    // With a second owner, the first may go; then the second is the last.
    access_->put_grant(make_grant(org_, bo, "", Role::kOwner), audit_at(4));
    EXPECT_TRUE(users_->update(off, off.version - 1, audit_at(5)));
    EXPECT_TRUE(conflict(test::error_of([&] { users_->remove(org_, bo, audit_at(6)); })));
    EXPECT_EQ(access_->count_active_owners(org_, test_time(7)), 1);
    // An account that owns nothing is deactivated and deleted freely.
    const std::string cy = add_user("cy");
    EXPECT_TRUE(users_->remove(org_, cy, audit_at(8)));
}

INSTANTIATE_TEST_SUITE_P(Backends, AccessRepositoryTest, kBackends, backend_name);

}  // namespace
}  // namespace scimd::test
