// Email domains of organizations (DESIGN §1 Domain).

#include <functional>

#include "store/sql_util.hpp"
#include <boost/json.hpp>
#include <soci/soci.h>

#include "scimd/error.hpp"
#include "scimd/store/repositories.hpp"

namespace scimd::store {
namespace json = boost::json;

namespace {

constexpr const char* kDomainColumns =
    "SELECT id, org_id, domain, token, verified_at, auto_provision, default_site_id, "
    "default_role, created_at, created_by FROM domains ";

std::vector<core::Domain> read_domains(soci::session& sql,
                                       const std::string& where,
                                       const std::function<void(soci::statement&)>& bind) {
    std::vector<core::Domain> out;
    core::Domain d;
    std::string verified;
    soci::indicator verified_ind = soci::i_ok;
    int auto_provision = 0;
    soci::statement st = one_time(sql, std::string(kDomainColumns) + where);
    bind(st);
    st.exchange(soci::into(d.id));
    st.exchange(soci::into(d.org_id));
    st.exchange(soci::into(d.domain));
    st.exchange(soci::into(d.token));
    st.exchange(soci::into(verified, verified_ind));
    st.exchange(soci::into(auto_provision));
    st.exchange(soci::into(d.default_site_id));
    st.exchange(soci::into(d.default_role));
    st.exchange(soci::into(d.created_at));
    st.exchange(soci::into(d.created_by));
    st.define_and_bind();
    st.execute(false);
    while (st.fetch()) {
        core::Domain row = d;
        if (verified_ind == soci::i_ok) {
            row.verified_at = verified;
        }
        row.auto_provision = auto_provision != 0;
        out.push_back(std::move(row));
        verified_ind = soci::i_ok;
    }
    return out;
}

std::optional<core::Domain> domain_by_id(soci::session& sql,
                                         const std::string& org_id,
                                         const std::string& id) {
    std::string org = org_id, key = id;
    auto found = read_domains(sql, "WHERE org_id = :org AND id = :id", [&](soci::statement& st) {
        st.exchange(soci::use(org, "org"));
        st.exchange(soci::use(key, "id"));
    });
    if (found.empty()) {
        return std::nullopt;
    }
    return found.front();
}

std::string domain_json(const core::Domain& d) {
    return json::serialize(
        json::object{{"domain", d.domain},
                     {"verified", d.verified_at.has_value()},
                     {"auto_provision", d.auto_provision},
                     {"default_scope",
                      d.default_site_id.empty() ? std::string("org") : "site:" + d.default_site_id},
                     {"default_role", d.default_role}});
}

}  // namespace

void SqlDomainRepository::insert(const core::Domain& d, const core::Audit& audit) {
    with_write_session(db_, [&](soci::session& sql) {
        WriteTx tx(sql, db_);
        std::string id = d.id, org = d.org_id, domain = d.domain, token = d.token,
                    site = d.default_site_id, role = d.default_role, created = d.created_at,
                    by = d.created_by;
        int auto_provision = d.auto_provision ? 1 : 0;
        try {
            sql << "INSERT INTO domains (id, org_id, domain, token, auto_provision, "
                   "default_site_id, default_role, created_at, created_by) VALUES (:id, :org, "
                   ":domain, :token, :auto, :site, :role, :created, :by)",
                soci::use(id, "id"), soci::use(org, "org"), soci::use(domain, "domain"),
                soci::use(token, "token"), soci::use(auto_provision, "auto"),
                soci::use(site, "site"), soci::use(role, "role"), soci::use(created, "created"),
                soci::use(by, "by");
        } catch (const soci::soci_error& e) {
            if (is_unique_violation(e)) {
                throw Error::uniqueness("the organization has the domain " + d.domain + " already");
            }
            throw;
        }
        write_audit(sql, d.org_id,
                    with_entry(audit, {"domain.added", "domain", d.id, "", domain_json(d)}));
        tx.commit();
    });
}

std::vector<core::Domain> SqlDomainRepository::list(const std::string& org_id) {
    return with_session(db_, [&](soci::session& sql) {
        std::string org = org_id;
        return read_domains(sql, "WHERE org_id = :org ORDER BY domain",
                            [&](soci::statement& st) { st.exchange(soci::use(org, "org")); });
    });
}

std::optional<core::Domain> SqlDomainRepository::find(const std::string& org_id,
                                                      const std::string& id) {
    return with_session(db_, [&](soci::session& sql) { return domain_by_id(sql, org_id, id); });
}

std::optional<core::Domain> SqlDomainRepository::find_verified(const std::string& org_id,
                                                               const std::string& domain) {
    return with_session(db_, [&](soci::session& sql) -> std::optional<core::Domain> {
        std::string org = org_id, name = domain;
        auto found = read_domains(
            sql, "WHERE org_id = :org AND domain = :domain AND verified_at IS NOT NULL",
            [&](soci::statement& st) {
                st.exchange(soci::use(org, "org"));
                st.exchange(soci::use(name, "domain"));
            });
        if (found.empty()) {
            return std::nullopt;
        }
        return found.front();
    });
}

bool SqlDomainRepository::mark_verified(const std::string& org_id,
                                        const std::string& id,
                                        const std::string& at,
                                        const core::Audit& audit) {
    return with_write_session(db_, [&](soci::session& sql) {
        WriteTx tx(sql, db_);
        auto before = domain_by_id(sql, org_id, id);
        if (!before) {
            return false;
        }
        if (before->verified_at) {
            return true;
        }
        std::string org = org_id, key = id, when = at;
        try {
            sql << "UPDATE domains SET verified_at = :at WHERE org_id = :org AND id = :id",
                soci::use(when, "at"), soci::use(org, "org"), soci::use(key, "id");
        } catch (const soci::soci_error& e) {
            if (is_unique_violation(e)) {
                throw Error::uniqueness(before->domain +
                                        " is verified by another organization already");
            }
            throw;
        }
        core::Domain after = *before;
        after.verified_at = at;
        write_audit(sql, org_id,
                    with_entry(audit, {"domain.verified", "domain", id, domain_json(*before),
                                       domain_json(after)}));
        tx.commit();
        return true;
    });
}

bool SqlDomainRepository::update_settings(const core::Domain& d, const core::Audit& audit) {
    return with_write_session(db_, [&](soci::session& sql) {
        WriteTx tx(sql, db_);
        auto before = domain_by_id(sql, d.org_id, d.id);
        if (!before) {
            return false;
        }
        std::string org = d.org_id, key = d.id, site = d.default_site_id, role = d.default_role;
        int auto_provision = d.auto_provision ? 1 : 0;
        sql << "UPDATE domains SET auto_provision = :auto, default_site_id = :site, "
               "default_role = :role WHERE org_id = :org AND id = :id",
            soci::use(auto_provision, "auto"), soci::use(site, "site"), soci::use(role, "role"),
            soci::use(org, "org"), soci::use(key, "id");
        write_audit(sql, d.org_id,
                    with_entry(audit, {"domain.updated", "domain", d.id, domain_json(*before),
                                       domain_json(d)}));
        tx.commit();
        return true;
    });
}

bool SqlDomainRepository::remove(const std::string& org_id,
                                 const std::string& id,
                                 const core::Audit& audit) {
    return with_write_session(db_, [&](soci::session& sql) {
        WriteTx tx(sql, db_);
        auto before = domain_by_id(sql, org_id, id);
        if (!before) {
            return false;
        }
        std::string org = org_id, key = id;
        sql << "DELETE FROM domains WHERE org_id = :org AND id = :id", soci::use(org, "org"),
            soci::use(key, "id");
        write_audit(sql, org_id,
                    with_entry(audit, {"domain.removed", "domain", id, domain_json(*before), ""}));
        tx.commit();
        return true;
    });
}

core::DomainPolicy SqlDomainRepository::policy(const std::string& org_id) {
    return with_session(db_, [&](soci::session& sql) {
        std::string org = org_id;
        core::DomainPolicy p;
        long long verified = 0;
        sql << "SELECT o.unverified_domain_policy, (SELECT COUNT(*) FROM domains d WHERE "
               "d.org_id = o.id AND d.verified_at IS NOT NULL) FROM organizations o WHERE o.id = "
               ":org",
            soci::use(org, "org"), soci::into(p.unverified_domain_policy), soci::into(verified);
        p.any_verified = verified > 0;
        return p;
    });
}

std::optional<core::Domain> SqlDomainRepository::find_verified_anywhere(const std::string& domain) {
    return with_session(db_, [&](soci::session& sql) -> std::optional<core::Domain> {
        std::string name = domain;
        auto found =
            read_domains(sql, "WHERE domain = :domain AND verified_at IS NOT NULL",
                         [&](soci::statement& st) { st.exchange(soci::use(name, "domain")); });
        if (found.empty()) {
            return std::nullopt;
        }
        return found.front();
    });
}

}  // namespace scimd::store
