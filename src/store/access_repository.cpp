#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "store/sql_filter.hpp"
#include "store/sql_util.hpp"
#include <boost/json.hpp>
#include <soci/soci.h>

#include "scimd/error.hpp"
#include "scimd/store/repositories.hpp"
#include "scimd/util/crypto.hpp"

namespace scimd::store {
namespace {
namespace json = boost::json;

constexpr const char* kGrantColumns =
    "SELECT id, org_id, user_id, site_id, role, source, source_ref, expires, created, "
    "created_by FROM grants ";

// The grants that an account's groups give: one per binding of each group it is in,
// directly or through nesting. `ids` is a JSON array of account ids.
std::string derived_grants_sql(Backend b) {
    return "WITH RECURSIVE up(user_id, seq) AS (SELECT m.member_id, m.group_seq FROM " +
           json_ids_table(b, ":ids") +
           " CROSS JOIN group_members m WHERE m.member_id = j.value AND m.org_id = :org "
           "UNION SELECT up.user_id, m.group_seq FROM up JOIN scim_groups g ON g.seq = up.seq "
           "JOIN group_members m ON m.org_id = g.org_id AND m.member_id = g.id) "
           "SELECT DISTINCT up.user_id, g.id, r.site_id, r.role, r.origin FROM up "
           "JOIN scim_groups g ON g.seq = up.seq JOIN group_roles r ON r.group_id = g.id";
}

json::object grant_json(const core::Grant& g) {
    json::object o{{"id", g.id},
                   {"user", g.user_id},
                   {"scope", g.site_id.empty() ? std::string("org") : "site:" + g.site_id},
                   {"role", core::role_name(g.role)},
                   {"source", core::source_name(g.source)}};
    if (!g.source_ref.empty()) {
        o["source_ref"] = g.source_ref;
    }
    if (g.expires) {
        o["expires"] = *g.expires;
    }
    return o;
}

// Row buffers for a grant.
struct GrantRow {
    std::string id, org_id, user_id, site_id, role, source, source_ref, expires, created, by;
    soci::indicator exp_ind = soci::i_ok;

    void define(soci::statement& st) {
        st.exchange(soci::into(id));
        st.exchange(soci::into(org_id));
        st.exchange(soci::into(user_id));
        st.exchange(soci::into(site_id));
        st.exchange(soci::into(role));
        st.exchange(soci::into(source));
        st.exchange(soci::into(source_ref));
        st.exchange(soci::into(expires, exp_ind));
        st.exchange(soci::into(created));
        st.exchange(soci::into(by));
    }
    core::Grant grant() const {
        core::Grant g;
        g.id = id;
        g.org_id = org_id;
        g.user_id = user_id;
        g.site_id = site_id;
        g.role = core::parse_role(role).value_or(core::Role::kViewer);
        g.source = core::parse_source(source).value_or(core::GrantSource::kManual);
        g.source_ref = source_ref;
        if (exp_ind == soci::i_ok) {
            g.expires = expires;
        }
        g.created = created;
        g.created_by = by;
        return g;
    }
};

std::vector<core::Grant> stored_grants(soci::session& sql,
                                       const std::string& where,
                                       const std::function<void(soci::statement&)>& bind) {
    std::vector<core::Grant> out;
    GrantRow row;
    soci::statement st = one_time(sql, std::string(kGrantColumns) + where);
    bind(st);
    row.define(st);
    st.define_and_bind();
    st.execute(false);
    while (st.fetch()) {
        out.push_back(row.grant());
        row.exp_ind = soci::i_ok;
    }
    return out;
}

void insert_grant(soci::session& sql, const core::Grant& g) {
    std::string id = g.id, org = g.org_id, user = g.user_id, site = g.site_id,
                role(core::role_name(g.role)), source(core::source_name(g.source)),
                ref = g.source_ref, expires = g.expires.value_or(""), created = g.created,
                by = g.created_by;
    soci::indicator exp_ind = g.expires ? soci::i_ok : soci::i_null;
    sql << "INSERT INTO grants (id, org_id, user_id, site_id, role, source, source_ref, expires, "
           "created, created_by) VALUES (:id, :org, :user, :site, :role, :source, :ref, "
           ":expires, :created, :by)",
        soci::use(id, "id"), soci::use(org, "org"), soci::use(user, "user"),
        soci::use(site, "site"), soci::use(role, "role"), soci::use(source, "source"),
        soci::use(ref, "ref"), soci::use(expires, exp_ind, "expires"),
        soci::use(created, "created"), soci::use(by, "by");
}

void delete_grant(soci::session& sql, const std::string& id) {
    std::string key = id;
    sql << "DELETE FROM grants WHERE id = :id", soci::use(key, "id");
}

std::vector<core::Site> read_sites(soci::session& sql,
                                   const std::string& where,
                                   const std::function<void(soci::statement&)>& bind) {
    std::vector<core::Site> out;
    core::Site s;
    soci::statement st = one_time(sql, "SELECT id, org_id, name, url, created FROM sites " + where);
    bind(st);
    st.exchange(soci::into(s.id));
    st.exchange(soci::into(s.org_id));
    st.exchange(soci::into(s.name));
    st.exchange(soci::into(s.url));
    st.exchange(soci::into(s.created));
    st.define_and_bind();
    st.execute(false);
    while (st.fetch()) {
        out.push_back(s);
    }
    return out;
}

std::vector<core::NamingRule> read_rules(soci::session& sql, const std::string& org_id) {
    std::vector<core::NamingRule> out;
    core::NamingRule r;
    std::string org = org_id;
    soci::statement st = one_time(sql,
                                  "SELECT id, org_id, pattern, role, site, created FROM "
                                  "naming_rules WHERE org_id = :org ORDER BY seq");
    st.exchange(soci::use(org, "org"));
    st.exchange(soci::into(r.id));
    st.exchange(soci::into(r.org_id));
    st.exchange(soci::into(r.pattern));
    st.exchange(soci::into(r.role));
    st.exchange(soci::into(r.site));
    st.exchange(soci::into(r.created));
    st.define_and_bind();
    st.execute(false);
    while (st.fetch()) {
        out.push_back(r);
    }
    return out;
}

std::vector<core::GroupRole> read_group_roles(soci::session& sql,
                                              const std::string& org_id,
                                              const std::string& group_id,
                                              const char* origin_filter) {
    std::vector<core::GroupRole> out;
    std::string org = org_id, group = group_id, site, role, origin;
    soci::statement st = one_time(sql, std::string("SELECT site_id, role, origin FROM group_roles "
                                                   "WHERE org_id = :org AND group_id = :g") +
                                           origin_filter + " ORDER BY site_id, origin");
    st.exchange(soci::use(org, "org"));
    st.exchange(soci::use(group, "g"));
    st.exchange(soci::into(site));
    st.exchange(soci::into(role));
    st.exchange(soci::into(origin));
    st.define_and_bind();
    st.execute(false);
    while (st.fetch()) {
        out.push_back(
            {group_id, site, core::parse_role(role).value_or(core::Role::kViewer), origin});
    }
    return out;
}

json::array roles_json(const std::vector<core::GroupRole>& roles) {
    json::array a;
    for (const auto& r : roles) {
        a.push_back(
            json::object{{"scope", r.site_id.empty() ? std::string("org") : "site:" + r.site_id},
                         {"role", core::role_name(r.role)},
                         {"origin", r.origin}});
    }
    return a;
}

// Replaces the group's bindings of one kind (manual, or every rule origin) with `roles`;
// audited when they change.
// One role per scope and origin: the first one given.
std::vector<core::GroupRole> one_per_scope(const std::vector<core::GroupRole>& roles) {
    std::vector<core::GroupRole> out;
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& r : roles) {
        if (seen.emplace(r.site_id, r.origin).second) {
            out.push_back(r);
        }
    }
    return out;
}

// Replaces the group's bindings of one kind (manual, or every rule origin), which are
// `before`, with `wanted`; audited when they change.
void replace_group_roles(soci::session& sql,
                         const std::string& org_id,
                         const std::string& group_id,
                         bool manual,
                         const std::vector<core::GroupRole>& before,
                         const std::vector<core::GroupRole>& wanted,
                         const core::Audit& audit) {
    const std::vector<core::GroupRole> roles = one_per_scope(wanted);
    const auto key = [](const core::GroupRole& r) {
        return std::make_tuple(r.site_id, r.origin, static_cast<int>(r.role));
    };
    std::set<std::tuple<std::string, std::string, int>> a, b;
    for (const auto& r : before) {
        a.insert(key(r));
    }
    for (const auto& r : roles) {
        b.insert(key(r));
    }
    if (a == b) {
        return;
    }
    const char* filter = manual ? " AND origin = 'manual'" : " AND origin <> 'manual'";
    {
        std::string org = org_id, group = group_id;
        sql << std::string("DELETE FROM group_roles WHERE org_id = :org AND group_id = :g") +
                   filter,
            soci::use(org, "org"), soci::use(group, "g");
    }
    for (const auto& r : roles) {
        std::string org = org_id, group = group_id, site = r.site_id, role(core::role_name(r.role)),
                    origin = r.origin;
        sql << "INSERT INTO group_roles (org_id, group_id, site_id, role, origin) VALUES (:org, "
               ":g, :site, :role, :origin)",
            soci::use(org, "org"), soci::use(group, "g"), soci::use(site, "site"),
            soci::use(role, "role"), soci::use(origin, "origin");
    }
    write_audit(sql, org_id,
                with_entry(audit, {manual ? "group.roles_set" : "group.roles_derived", "group",
                                   group_id, json::serialize(roles_json(before)),
                                   json::serialize(roles_json(roles))}));
}

// Every group of the organization, bound again by the rules (after a rule changed).
void reapply_rules(soci::session& sql, const std::string& org_id, const core::Audit& audit) {
    lock_organization(sql, org_id);
    std::vector<std::pair<std::string, std::string>> groups;
    {
        std::string org = org_id, id, name;
        soci::statement st = one_time(
            sql, "SELECT id, display_name FROM scim_groups WHERE org_id = :org ORDER BY seq");
        st.exchange(soci::use(org, "org"));
        st.exchange(soci::into(id));
        st.exchange(soci::into(name));
        st.define_and_bind();
        st.execute(false);
        while (st.fetch()) {
            groups.emplace_back(id, name);
        }
    }
    // Every rule binding of the organization in one read; only groups whose bindings change
    // are written.
    std::map<std::string, std::vector<core::GroupRole>> current;
    {
        std::string org = org_id, group, site, role, origin;
        soci::statement st = one_time(sql,
                                      "SELECT group_id, site_id, role, origin FROM group_roles "
                                      "WHERE org_id = :org AND origin <> 'manual'");
        st.exchange(soci::use(org, "org"));
        st.exchange(soci::into(group));
        st.exchange(soci::into(site));
        st.exchange(soci::into(role));
        st.exchange(soci::into(origin));
        st.define_and_bind();
        st.execute(false);
        while (st.fetch()) {
            current[group].push_back(
                {group, site, core::parse_role(role).value_or(core::Role::kViewer), origin});
        }
    }
    const auto rules = read_rules(sql, org_id);
    std::string org = org_id;
    const auto sites = read_sites(sql, "WHERE org_id = :org",
                                  [&](soci::statement& st) { st.exchange(soci::use(org, "org")); });
    for (const auto& [id, name] : groups) {
        replace_group_roles(sql, org_id, id, false, current[id],
                            core::bindings_from_rules(rules, sites, id, name), audit);
    }
}

std::string site_json(const core::Site& s) {
    return json::serialize(json::object{{"id", s.id}, {"name", s.name}, {"url", s.url}});
}

}  // namespace

bool active_owner(soci::session& sql,
                  const std::string& org_id,
                  const std::string& user_id,
                  const std::string& now) {
    std::string org = org_id, user = user_id, at = now;
    long long n = 0;
    sql << "SELECT COUNT(*) FROM grants g JOIN users u ON u.id = g.user_id AND u.org_id = "
           "g.org_id WHERE g.org_id = :org AND g.user_id = :user AND g.site_id = '' AND "
           "g.role = 'owner' AND u.active = 1 AND (g.expires IS NULL OR g.expires > :now)",
        soci::use(org, "org"), soci::use(user, "user"), soci::use(at, "now"), soci::into(n);
    return n > 0;
}

void ensure_an_owner_remains(soci::session& sql,
                             const std::string& org_id,
                             bool was_owner,
                             const std::string& now) {
    if (!was_owner) {
        return;
    }
    lock_organization(sql, org_id);
    std::string org = org_id, at = now;
    long long n = 0;
    sql << "SELECT COUNT(*) FROM grants g JOIN users u ON u.id = g.user_id AND u.org_id = "
           "g.org_id WHERE g.org_id = :org AND g.site_id = '' AND g.role = 'owner' AND "
           "u.active = 1 AND (g.expires IS NULL OR g.expires > :now)",
        soci::use(org, "org"), soci::use(at, "now"), soci::into(n);
    if (n == 0) {
        throw Error::conflict(
            "this is the organization's last active owner: it cannot be removed, deactivated "
            "or downgraded; make another owner first");
    }
}

void lock_organization(soci::session& sql, const std::string& org_id) {
    if (sql.get_backend_name() == "postgresql") {
        std::string org = org_id;
        sql << "SELECT id FROM organizations WHERE id = :org FOR NO KEY UPDATE",
            soci::use(org, "org");
    }
}

void audit_removed_access(soci::session& sql,
                          const std::string& org_id,
                          RemovedAccess what,
                          const std::string& key,
                          const core::Audit& audit) {
    std::string org = org_id, org2 = org_id, id = key, at = audit_time(audit), actor = audit.actor,
                request = audit.request_id;
    const std::string scope = "CASE WHEN x.site_id = '' THEN 'org' ELSE 'site:' || x.site_id END";
    std::string text = std::string(kInsertAudit) + "SELECT :org, :at, :actor, ";
    switch (what) {
        case RemovedAccess::kGrantsOfAccount:
            text +=
                "'grant.revoked', 'account', x.user_id, '{\"id\":\"' || x.id || "
                "'\",\"scope\":\"' || " +
                scope +
                " || '\",\"role\":\"' || x.role || '\",\"source\":\"' || x.source || "
                "'\"}', NULL, :request FROM grants x WHERE x.org_id = :org2 AND x.user_id = :id";
            break;
        case RemovedAccess::kBindingsOfGroup:
        case RemovedAccess::kBindingsOfSite:
            text += "'group.role_removed', 'group', x.group_id, '{\"scope\":\"' || " + scope +
                    " || '\",\"role\":\"' || x.role || '\",\"origin\":\"' || x.origin || "
                    "'\"}', NULL, :request FROM group_roles x WHERE x.org_id = :org2 AND " +
                    (what == RemovedAccess::kBindingsOfGroup ? "x.group_id" : "x.site_id") +
                    " = :id";
            break;
    }
    soci::statement st = one_time(sql, text);
    st.exchange(soci::use(org, "org"));
    st.exchange(soci::use(at, "at"));
    st.exchange(soci::use(actor, "actor"));
    st.exchange(soci::use(request, "request"));
    st.exchange(soci::use(org2, "org2"));
    st.exchange(soci::use(id, "id"));
    st.define_and_bind();
    st.execute(true);
}

void apply_naming_rules(soci::session& sql,
                        const std::string& org_id,
                        const std::string& group_id,
                        const std::string& display_name,
                        const core::Audit& audit) {
    lock_organization(sql, org_id);
    const auto rules = read_rules(sql, org_id);
    if (rules.empty()) {
        return;  // no rule, so no rule binding either (deleting a rule re-applies the rest)
    }
    std::string org = org_id;
    const auto sites = read_sites(sql, "WHERE org_id = :org",
                                  [&](soci::statement& st) { st.exchange(soci::use(org, "org")); });
    replace_group_roles(sql, org_id, group_id, false,
                        read_group_roles(sql, org_id, group_id, " AND origin <> 'manual'"),
                        core::bindings_from_rules(rules, sites, group_id, display_name), audit);
}

// --- sites ---------------------------------------------------------------------------------

void SqlAccessRepository::insert_site(const core::Site& site, const core::Audit& audit) {
    with_write_session(db_, [&](soci::session& sql) {
        std::string id = site.id, org = site.org_id, name = site.name, key = fold_case(site.name),
                    url = site.url, created = site.created;
        WriteTx tx(sql, db_);
        try {
            sql << "INSERT INTO sites (id, org_id, name, name_key, url, created) VALUES (:id, "
                   ":org, :name, :key, :url, :created)",
                soci::use(id, "id"), soci::use(org, "org"), soci::use(name, "name"),
                soci::use(key, "key"), soci::use(url, "url"), soci::use(created, "created");
        } catch (const soci::soci_error& e) {
            if (is_unique_violation(e)) {
                throw Error::uniqueness("a site named \"" + site.name + "\" already exists");
            }
            throw;
        }
        write_audit(sql, site.org_id,
                    with_entry(audit, {"site.created", "site", site.id, "", site_json(site)}));
        // A new site may be what a naming rule's captured name was waiting for.
        reapply_rules(sql, site.org_id, audit);
        tx.commit();
    });
}

std::optional<core::Site> SqlAccessRepository::find_site(const std::string& org_id,
                                                         const std::string& id_or_name) {
    return with_session(db_, [&](soci::session& sql) -> std::optional<core::Site> {
        std::string org = org_id, id = id_or_name, key = fold_case(id_or_name);
        auto sites = read_sites(sql, "WHERE org_id = :org AND (id = :id OR name_key = :key)",
                                [&](soci::statement& st) {
                                    st.exchange(soci::use(org, "org"));
                                    st.exchange(soci::use(id, "id"));
                                    st.exchange(soci::use(key, "key"));
                                });
        if (sites.empty()) {
            return std::nullopt;
        }
        for (const auto& s : sites) {
            if (s.id == id_or_name) {
                return s;
            }
        }
        return sites.front();
    });
}

std::vector<core::Site> SqlAccessRepository::list_sites(const std::string& org_id) {
    return with_session(db_, [&](soci::session& sql) {
        std::string org = org_id;
        return read_sites(sql, "WHERE org_id = :org ORDER BY name_key",
                          [&](soci::statement& st) { st.exchange(soci::use(org, "org")); });
    });
}

bool SqlAccessRepository::rename_site(const std::string& org_id,
                                      const std::string& id,
                                      const std::string& name,
                                      const core::Audit& audit) {
    return with_write_session(db_, [&](soci::session& sql) {
        std::string org = org_id, key = id, n = name, nk = fold_case(name);
        WriteTx tx(sql, db_);
        auto before = read_sites(sql, "WHERE org_id = :org AND id = :id", [&](soci::statement& st) {
            st.exchange(soci::use(org, "org"));
            st.exchange(soci::use(key, "id"));
        });
        if (before.empty()) {
            return false;
        }
        try {
            sql << "UPDATE sites SET name = :name, name_key = :nk WHERE org_id = :org AND id = :id",
                soci::use(n, "name"), soci::use(nk, "nk"), soci::use(org, "org"),
                soci::use(key, "id");
        } catch (const soci::soci_error& e) {
            if (is_unique_violation(e)) {
                throw Error::uniqueness("a site named \"" + name + "\" already exists");
            }
            throw;
        }
        core::Site after = before.front();
        after.name = name;
        write_audit(sql, org_id,
                    with_entry(audit, {"site.renamed", "site", id, site_json(before.front()),
                                       site_json(after)}));
        reapply_rules(sql, org_id, audit);
        tx.commit();
        return true;
    });
}

bool SqlAccessRepository::delete_site(const std::string& org_id,
                                      const std::string& id,
                                      const core::Audit& audit) {
    return with_write_session(db_, [&](soci::session& sql) {
        std::string org = org_id, key = id;
        WriteTx tx(sql, db_);
        auto before = read_sites(sql, "WHERE org_id = :org AND id = :id", [&](soci::statement& st) {
            st.exchange(soci::use(org, "org"));
            st.exchange(soci::use(key, "id"));
        });
        if (before.empty()) {
            return false;
        }
        // Its grants go with it, each audited as revoked.
        auto grants =
            stored_grants(sql, "WHERE org_id = :org AND site_id = :site", [&](soci::statement& st) {
                st.exchange(soci::use(org, "org"));
                st.exchange(soci::use(key, "site"));
            });
        core::Audit a = audit;
        a.entries.clear();
        for (const auto& g : grants) {
            a.entries.push_back(
                {"grant.revoked", "account", g.user_id, json::serialize(grant_json(g)), ""});
        }
        a.entries.push_back({"site.deleted", "site", id, site_json(before.front()), ""});
        audit_removed_access(sql, org_id, RemovedAccess::kBindingsOfSite, id, audit);
        for (const char* text : {"DELETE FROM grants WHERE org_id = :org AND site_id = :id",
                                 "DELETE FROM group_roles WHERE org_id = :org AND site_id = :id",
                                 "DELETE FROM sites WHERE org_id = :org AND id = :id"}) {
            sql << text, soci::use(org, "org"), soci::use(key, "id");
        }
        write_audit(sql, org_id, a);
        tx.commit();
        return true;
    });
}

// --- grants --------------------------------------------------------------------------------

std::vector<core::Grant> SqlAccessRepository::grants_of(const std::string& org_id,
                                                        const std::string& user_id) {
    auto all = grants_of_many(org_id, {user_id});
    return std::move(all[user_id]);
}

std::map<std::string, std::vector<core::Grant>> SqlAccessRepository::grants_of_many(
    const std::string& org_id, const std::vector<std::string>& user_ids) {
    std::map<std::string, std::vector<core::Grant>> out;
    if (user_ids.empty()) {
        return out;
    }
    return with_session(db_, [&](soci::session& sql) {
        std::string org = org_id, ids = json_array_of(user_ids);
        const std::string in =
            "(SELECT j.value FROM " + json_ids_table(db_.backend(), ":ids") + ")";
        for (core::Grant& g : stored_grants(sql, "WHERE org_id = :org AND user_id IN " + in,
                                            [&](soci::statement& st) {
                                                st.exchange(soci::use(org, "org"));
                                                st.exchange(soci::use(ids, "ids"));
                                            })) {
            out[g.user_id].push_back(std::move(g));
        }
        std::string org2 = org_id, ids2 = ids, user, group, site, role, origin;
        soci::statement st = one_time(sql, derived_grants_sql(db_.backend()));
        st.exchange(soci::use(ids2, "ids"));
        st.exchange(soci::use(org2, "org"));
        st.exchange(soci::into(user));
        st.exchange(soci::into(group));
        st.exchange(soci::into(site));
        st.exchange(soci::into(role));
        st.exchange(soci::into(origin));
        st.define_and_bind();
        st.execute(false);
        while (st.fetch()) {
            core::Grant g;
            g.org_id = org_id;
            g.user_id = user;
            g.site_id = site;
            // Never owner through a group, whatever a row says (DESIGN §2 rule 1).
            g.role =
                std::min(core::parse_role(role).value_or(core::Role::kViewer), core::Role::kAdmin);
            g.source = core::GrantSource::kScimGroup;
            g.source_ref = group;
            g.created_by = origin;
            out[user].push_back(std::move(g));
        }
        // An account waiting for its invitation (DESIGN §2 rule 6, policy "invite") has no
        // access yet, whatever its grants say.
        std::string org3 = org_id, ids3 = ids, pending;
        soci::statement held_back =
            one_time(sql, "SELECT u.id FROM " + json_ids_table(db_.backend(), ":ids") +
                              " JOIN users u ON u.id = j.value WHERE u.org_id = :org AND "
                              "u.access_pending = 1");
        held_back.exchange(soci::use(ids3, "ids"));
        held_back.exchange(soci::use(org3, "org"));
        held_back.exchange(soci::into(pending));
        held_back.define_and_bind();
        held_back.execute(false);
        while (held_back.fetch()) {
            out.erase(pending);
        }
        return out;
    });
}

void add_grant_in(soci::session& sql, const core::Grant& grant, const core::Audit& audit) {
    insert_grant(sql, grant);
    write_audit(sql, grant.org_id,
                with_entry(audit, {"grant.added", "account", grant.user_id, "",
                                   json::serialize(grant_json(grant))}));
}

void SqlAccessRepository::put_grant(const core::Grant& grant, const core::Audit& audit) {
    with_write_session(db_, [&](soci::session& sql) {
        std::string org = grant.org_id, user = grant.user_id, site = grant.site_id,
                    source(core::source_name(grant.source)), ref = grant.source_ref;
        WriteTx tx(sql, db_);
        auto existing = stored_grants(
            sql,
            "WHERE org_id = :org AND user_id = :user AND site_id = :site AND source = :source "
            "AND source_ref = :ref",
            [&](soci::statement& st) {
                st.exchange(soci::use(org, "org"));
                st.exchange(soci::use(user, "user"));
                st.exchange(soci::use(site, "site"));
                st.exchange(soci::use(source, "source"));
                st.exchange(soci::use(ref, "ref"));
            });
        const std::string now = audit_time(audit);
        const bool was_owner = active_owner(sql, grant.org_id, grant.user_id, now);
        core::Audit a = audit;
        a.entries.clear();
        if (existing.empty()) {
            try {
                insert_grant(sql, grant);
            } catch (const soci::soci_error& e) {
                if (is_unique_violation(e)) {
                    throw Error::conflict("the grant was changed concurrently; retry");
                }
                throw;
            }
            a.entries.push_back(
                {"grant.added", "account", grant.user_id, "", json::serialize(grant_json(grant))});
        } else {
            const core::Grant& before = existing.front();
            if (before.role == grant.role && before.expires == grant.expires) {
                tx.commit();
                return;
            }
            std::string id = before.id, role(core::role_name(grant.role)),
                        expires = grant.expires.value_or("");
            soci::indicator exp_ind = grant.expires ? soci::i_ok : soci::i_null;
            sql << "UPDATE grants SET role = :role, expires = :expires WHERE id = :id",
                soci::use(role, "role"), soci::use(expires, exp_ind, "expires"),
                soci::use(id, "id");
            core::Grant after = grant;
            after.id = before.id;
            a.entries.push_back({"grant.changed", "account", grant.user_id,
                                 json::serialize(grant_json(before)),
                                 json::serialize(grant_json(after))});
        }
        ensure_an_owner_remains(sql, grant.org_id, was_owner, now);
        write_audit(sql, grant.org_id, a);
        tx.commit();
    });
}

int SqlAccessRepository::revoke_grants(const std::string& org_id,
                                       const std::string& user_id,
                                       const std::string& site_id,
                                       std::optional<core::GrantSource> source,
                                       const core::Audit& audit) {
    return with_write_session(db_, [&](soci::session& sql) {
        std::string org = org_id, user = user_id, site = site_id,
                    src(source ? core::source_name(*source) : "");
        WriteTx tx(sql, db_);
        auto grants = stored_grants(
            sql,
            std::string("WHERE org_id = :org AND user_id = :user AND site_id = :site") +
                (source ? " AND source = :source" : ""),
            [&](soci::statement& st) {
                st.exchange(soci::use(org, "org"));
                st.exchange(soci::use(user, "user"));
                st.exchange(soci::use(site, "site"));
                if (source) {
                    st.exchange(soci::use(src, "source"));
                }
            });
        const std::string now = audit_time(audit);
        const bool was_owner = active_owner(sql, org_id, user_id, now);
        core::Audit a = audit;
        a.entries.clear();
        for (const auto& g : grants) {
            delete_grant(sql, g.id);
            a.entries.push_back(
                {"grant.revoked", "account", user_id, json::serialize(grant_json(g)), ""});
        }
        ensure_an_owner_remains(sql, org_id, was_owner, now);
        write_audit(sql, org_id, a);
        tx.commit();
        return static_cast<int>(grants.size());
    });
}

void replace_source_grants_in(soci::session& sql,
                              const std::string& org_id,
                              const std::string& user_id,
                              core::GrantSource source,
                              const std::vector<core::Grant>& given,
                              const core::Audit& audit) {
    std::string org = org_id, user = user_id, src(core::source_name(source));
    auto current =
        stored_grants(sql, "WHERE org_id = :org AND user_id = :user AND source = :source",
                      [&](soci::statement& st) {
                          st.exchange(soci::use(org, "org"));
                          st.exchange(soci::use(user, "user"));
                          st.exchange(soci::use(src, "source"));
                      });
    core::Audit a = audit;
    a.entries.clear();
    const auto same_scope = [](const core::Grant& x, const core::Grant& y) {
        return x.site_id == y.site_id && x.source_ref == y.source_ref;
    };
    // The grants of this account and source, one per scope (the highest role).
    std::vector<core::Grant> grants;
    for (core::Grant g : given) {
        g.org_id = org_id;
        g.user_id = user_id;
        g.source = source;
        if (g.id.empty()) {
            g.id = util::uuid_v4();
        }
        auto same = std::find_if(grants.begin(), grants.end(),
                                 [&](const core::Grant& x) { return same_scope(x, g); });
        if (same == grants.end()) {
            grants.push_back(std::move(g));
        } else {
            same->role = std::max(same->role, g.role);
        }
    }
    for (const auto& old : current) {
        auto it = std::find_if(grants.begin(), grants.end(),
                               [&](const core::Grant& g) { return same_scope(g, old); });
        if (it == grants.end()) {
            delete_grant(sql, old.id);
            a.entries.push_back(
                {"grant.revoked", "account", user_id, json::serialize(grant_json(old)), ""});
        } else if (it->role != old.role || it->expires != old.expires) {
            std::string id = old.id, role(core::role_name(it->role)),
                        expires = it->expires.value_or("");
            soci::indicator exp_ind = it->expires ? soci::i_ok : soci::i_null;
            sql << "UPDATE grants SET role = :role, expires = :expires WHERE id = :id",
                soci::use(role, "role"), soci::use(expires, exp_ind, "expires"),
                soci::use(id, "id");
            core::Grant after = *it;
            after.id = old.id;
            a.entries.push_back({"grant.changed", "account", user_id,
                                 json::serialize(grant_json(old)),
                                 json::serialize(grant_json(after))});
        }
    }
    for (const auto& g : grants) {
        const bool known = std::any_of(current.begin(), current.end(),
                                       [&](const core::Grant& old) { return same_scope(g, old); });
        if (!known) {
            insert_grant(sql, g);
            a.entries.push_back(
                {"grant.added", "account", user_id, "", json::serialize(grant_json(g))});
        }
    }
    write_audit(sql, org_id, a);
}

void SqlAccessRepository::replace_source_grants(const std::string& org_id,
                                                const std::string& user_id,
                                                core::GrantSource source,
                                                const std::vector<core::Grant>& grants,
                                                const core::Audit& audit) {
    with_write_session(db_, [&](soci::session& sql) {
        WriteTx tx(sql, db_);
        replace_source_grants_in(sql, org_id, user_id, source, grants, audit);
        tx.commit();
    });
}

int SqlAccessRepository::record_expired_grants(const std::string& org_id, const std::string& now) {
    return with_write_session(db_, [&](soci::session& sql) {
        std::string org = org_id, at = now;
        WriteTx tx(sql, db_);
        auto expired = stored_grants(sql,
                                     "WHERE org_id = :org AND expires IS NOT NULL AND "
                                     "expires <= :now",
                                     [&](soci::statement& st) {
                                         st.exchange(soci::use(org, "org"));
                                         st.exchange(soci::use(at, "now"));
                                     });
        core::Audit a;
        a.actor = "system";
        a.at = now;
        for (const auto& g : expired) {
            std::string id = g.id;
            sql << "DELETE FROM grants WHERE id = :id", soci::use(id, "id");
            a.entries.push_back(
                {"grant.expired", "account", g.user_id, json::serialize(grant_json(g)), ""});
        }
        write_audit(sql, org_id, a);
        tx.commit();
        return static_cast<int>(expired.size());
    });
}

std::vector<core::Grant> SqlAccessRepository::expiring_grants(const std::string& org_id,
                                                              const std::string& from,
                                                              const std::string& until) {
    return with_session(db_, [&](soci::session& sql) {
        std::string org = org_id, a = from, b = until;
        return stored_grants(sql,
                             "WHERE org_id = :org AND expires IS NOT NULL AND expires > :from "
                             "AND expires <= :until ORDER BY expires, seq",
                             [&](soci::statement& st) {
                                 st.exchange(soci::use(org, "org"));
                                 st.exchange(soci::use(a, "from"));
                                 st.exchange(soci::use(b, "until"));
                             });
    });
}

long long SqlAccessRepository::count_active_owners(const std::string& org_id,
                                                   const std::string& now) {
    return with_session(db_, [&](soci::session& sql) {
        std::string org = org_id, at = now;
        long long n = 0;
        sql << "SELECT COUNT(DISTINCT g.user_id) FROM grants g JOIN users u ON u.id = g.user_id "
               "AND u.org_id = g.org_id WHERE g.org_id = :org AND g.site_id = '' AND "
               "g.role = 'owner' AND u.active = 1 AND (g.expires IS NULL OR g.expires > :now)",
            soci::use(org, "org"), soci::use(at, "now"), soci::into(n);
        return n;
    });
}

// --- group role bindings and naming rules ----------------------------------------------------

std::vector<core::GroupRole> SqlAccessRepository::group_roles(const std::string& org_id,
                                                              const std::string& group_id) {
    return with_session(
        db_, [&](soci::session& sql) { return read_group_roles(sql, org_id, group_id, ""); });
}

void SqlAccessRepository::set_group_roles(const std::string& org_id,
                                          const std::string& group_id,
                                          const std::vector<core::GroupRole>& roles,
                                          const core::Audit& audit) {
    with_write_session(db_, [&](soci::session& sql) {
        WriteTx tx(sql, db_);
        std::vector<core::GroupRole> manual = roles;
        for (auto& r : manual) {
            r.group_id = group_id;
            r.origin = "manual";
        }
        try {
            replace_group_roles(sql, org_id, group_id, true,
                                read_group_roles(sql, org_id, group_id, " AND origin = 'manual'"),
                                manual, audit);
        } catch (const soci::soci_error& e) {
            if (is_unique_violation(e)) {
                throw Error::conflict("the group's roles were changed concurrently; retry");
            }
            throw;
        }
        tx.commit();
    });
}

std::vector<core::NamingRule> SqlAccessRepository::naming_rules(const std::string& org_id) {
    return with_session(db_, [&](soci::session& sql) { return read_rules(sql, org_id); });
}

void SqlAccessRepository::insert_rule(const core::NamingRule& rule, const core::Audit& audit) {
    with_write_session(db_, [&](soci::session& sql) {
        std::string id = rule.id, org = rule.org_id, pattern = rule.pattern, role = rule.role,
                    site = rule.site, created = rule.created;
        WriteTx tx(sql, db_);
        sql << "INSERT INTO naming_rules (id, org_id, pattern, role, site, created) VALUES (:id, "
               ":org, :pattern, :role, :site, :created)",
            soci::use(id, "id"), soci::use(org, "org"), soci::use(pattern, "pattern"),
            soci::use(role, "role"), soci::use(site, "site"), soci::use(created, "created");
        write_audit(sql, rule.org_id,
                    with_entry(audit, {"rule.created", "rule", rule.id, "",
                                       json::serialize(json::object{{"pattern", rule.pattern},
                                                                    {"role", rule.role},
                                                                    {"site", rule.site}})}));
        reapply_rules(sql, rule.org_id, audit);
        tx.commit();
    });
}

bool SqlAccessRepository::delete_rule(const std::string& org_id,
                                      const std::string& id,
                                      const core::Audit& audit) {
    return with_write_session(db_, [&](soci::session& sql) {
        std::string org = org_id, key = id;
        WriteTx tx(sql, db_);
        soci::statement st =
            one_time(sql, "DELETE FROM naming_rules WHERE org_id = :org AND id = :id");
        st.exchange(soci::use(org, "org"));
        st.exchange(soci::use(key, "id"));
        st.define_and_bind();
        st.execute(true);
        if (st.get_affected_rows() == 0) {
            return false;
        }
        write_audit(sql, org_id, with_entry(audit, {"rule.deleted", "rule", id, "", ""}));
        reapply_rules(sql, org_id, audit);
        tx.commit();
        return true;
    });
}

// --- API keys ------------------------------------------------------------------------------

void SqlApiKeyRepository::insert(const core::ApiKey& k, const core::Audit& audit) {
    with_write_session(db_, [&](soci::session& sql) {
        std::string id = k.id, org = k.org_id, user = k.user_id, name = k.name, hash = k.hash,
                    created = k.created, expires = k.expires.value_or("");
        soci::indicator exp_ind = k.expires ? soci::i_ok : soci::i_null;
        WriteTx tx(sql, db_);
        sql << "INSERT INTO api_keys (id, org_id, user_id, name, hash, created, expires) VALUES "
               "(:id, :org, :user, :name, :hash, :created, :expires)",
            soci::use(id, "id"), soci::use(org, "org"), soci::use(user, "user"),
            soci::use(name, "name"), soci::use(hash, "hash"), soci::use(created, "created"),
            soci::use(expires, exp_ind, "expires");
        write_audit(sql, k.org_id, audit);
        tx.commit();
    });
}

namespace {
std::vector<core::ApiKey> read_keys(soci::session& sql, const std::string& where, std::string v) {
    std::vector<core::ApiKey> out;
    core::ApiKey k;
    std::string expires, revoked, used;
    soci::indicator ei = soci::i_ok, ri = soci::i_ok, ui = soci::i_ok;
    soci::statement st = one_time(sql,
                                  "SELECT id, org_id, user_id, name, hash, created, expires, "
                                  "revoked, last_used FROM api_keys " +
                                      where);
    st.exchange(soci::use(v, "v"));
    st.exchange(soci::into(k.id));
    st.exchange(soci::into(k.org_id));
    st.exchange(soci::into(k.user_id));
    st.exchange(soci::into(k.name));
    st.exchange(soci::into(k.hash));
    st.exchange(soci::into(k.created));
    st.exchange(soci::into(expires, ei));
    st.exchange(soci::into(revoked, ri));
    st.exchange(soci::into(used, ui));
    st.define_and_bind();
    st.execute(false);
    while (st.fetch()) {
        core::ApiKey x = k;
        x.expires = ei == soci::i_ok ? std::optional(expires) : std::nullopt;
        x.revoked = ri == soci::i_ok ? std::optional(revoked) : std::nullopt;
        x.last_used = ui == soci::i_ok ? std::optional(used) : std::nullopt;
        out.push_back(std::move(x));
        ei = ri = ui = soci::i_ok;
    }
    return out;
}
}  // namespace

std::optional<core::ApiKey> SqlApiKeyRepository::find_by_hash(const std::string& hash) {
    return with_session(db_, [&](soci::session& sql) -> std::optional<core::ApiKey> {
        auto keys = read_keys(sql, "WHERE hash = :v", hash);
        if (keys.empty()) {
            return std::nullopt;
        }
        return keys.front();
    });
}

std::vector<core::ApiKey> SqlApiKeyRepository::list(const std::string& org_id) {
    return with_session(db_, [&](soci::session& sql) {
        return read_keys(sql, "WHERE org_id = :v ORDER BY created, id", org_id);
    });
}

bool SqlApiKeyRepository::revoke(const std::string& org_id,
                                 const std::string& id,
                                 const std::string& at,
                                 const core::Audit& audit) {
    return with_write_session(db_, [&](soci::session& sql) {
        std::string org = org_id, key = id, when = at;
        WriteTx tx(sql, db_);
        soci::statement st = one_time(sql,
                                      "UPDATE api_keys SET revoked = :at WHERE org_id = :org AND "
                                      "id = :id AND revoked IS NULL");
        st.exchange(soci::use(when, "at"));
        st.exchange(soci::use(org, "org"));
        st.exchange(soci::use(key, "id"));
        st.define_and_bind();
        st.execute(true);
        const bool revoked = st.get_affected_rows() > 0;
        if (revoked) {
            write_audit(sql, org_id, audit);
        }
        tx.commit();
        return revoked;
    });
}

void SqlApiKeyRepository::touch(const std::string& id, const std::string& at) {
    with_write_session(db_, [&](soci::session& sql) {
        std::string key = id, when = at;
        sql << "UPDATE api_keys SET last_used = :at WHERE id = :id", soci::use(when, "at"),
            soci::use(key, "id");
    });
}

// --- audit trail ---------------------------------------------------------------------------

void SqlAuditRepository::append(const std::string& org_id, const core::Audit& audit) {
    with_write_session(db_, [&](soci::session& sql) {
        WriteTx tx(sql, db_);
        write_audit(sql, org_id, audit);
        tx.commit();
    });
}

core::Page<core::AuditEvent> SqlAuditRepository::list(const std::string& org_id,
                                                      const core::AuditQuery& q) {
    return with_session(db_, [&](soci::session& sql) {
        // The values are bound in the order the conditions are written; each statement gets
        // its own copies.
        std::string where = "WHERE org_id = :org";
        std::vector<std::pair<std::string, std::string>> binds{{"org", org_id}};
        const auto add = [&](const std::optional<std::string>& v, const char* cond,
                             const char* name) {
            if (v) {
                where += std::string(" AND ") + cond;
                binds.emplace_back(name, *v);
            }
        };
        add(q.from, "at >= :from", "from");
        add(q.to, "at < :to", "to");
        add(q.actor, "actor = :actor", "actor");
        add(q.action, "action = :action", "action");
        add(q.target_id, "target_id = :target", "target");
        core::Page<core::AuditEvent> page;
        {
            auto values = binds;
            long long total = 0;
            soci::statement st = one_time(sql, "SELECT COUNT(*) FROM audit_events " + where);
            for (auto& [name, value] : values) {
                st.exchange(soci::use(value, name));
            }
            st.exchange(soci::into(total));
            st.define_and_bind();
            st.execute(true);
            page.total = total;
        }
        auto values = binds;
        long long limit = std::clamp<long long>(q.count, 0, 1000);
        long long offset = std::max<long long>(q.start_index - 1, 0);
        core::AuditEvent e;
        soci::indicator bi = soci::i_ok, ai = soci::i_ok;
        soci::statement st = one_time(sql,
                                      "SELECT seq, org_id, at, actor, action, target_type, "
                                      "target_id, before_value, after_value, request_id FROM "
                                      "audit_events " +
                                          where + " ORDER BY seq LIMIT :limit OFFSET :offset");
        for (auto& [name, value] : values) {
            st.exchange(soci::use(value, name));
        }
        st.exchange(soci::use(limit, "limit"));
        st.exchange(soci::use(offset, "offset"));
        st.exchange(soci::into(e.seq));
        st.exchange(soci::into(e.org_id));
        st.exchange(soci::into(e.at));
        st.exchange(soci::into(e.actor));
        st.exchange(soci::into(e.action));
        st.exchange(soci::into(e.target_type));
        st.exchange(soci::into(e.target_id));
        st.exchange(soci::into(e.before, bi));
        st.exchange(soci::into(e.after, ai));
        st.exchange(soci::into(e.request_id));
        st.define_and_bind();
        st.execute(false);
        while (st.fetch()) {
            core::AuditEvent x = e;
            if (bi != soci::i_ok) {
                x.before.clear();
            }
            if (ai != soci::i_ok) {
                x.after.clear();
            }
            page.items.push_back(std::move(x));
            bi = ai = soci::i_ok;
        }
        return page;
    });
}

}  // namespace scimd::store
