// Invitations and the outbox their mail goes through (DESIGN §1 Invitation, Outbox).

#include <functional>

#include "store/sql_filter.hpp"
#include "store/sql_util.hpp"
#include <boost/json.hpp>
#include <soci/soci.h>

#include "scimd/error.hpp"
#include "scimd/store/repositories.hpp"

namespace scimd::store {
namespace json = boost::json;

namespace {

constexpr const char* kInvitationColumns =
    "SELECT id, org_id, email, site_id, role, status, token_hash, created_by, inviter, "
    "created_at, expires_at, resent_count, accepted_at, accepted_user_id, cancelled_at "
    "FROM invitations ";

// Row buffers for an invitation.
struct InvitationRow {
    core::Invitation v;
    std::string accepted_at, accepted_user_id, cancelled_at;
    soci::indicator accepted_ind = soci::i_ok, user_ind = soci::i_ok, cancelled_ind = soci::i_ok;

    void define(soci::statement& st) {
        st.exchange(soci::into(v.id));
        st.exchange(soci::into(v.org_id));
        st.exchange(soci::into(v.email));
        st.exchange(soci::into(v.site_id));
        st.exchange(soci::into(v.role));
        st.exchange(soci::into(v.status));
        st.exchange(soci::into(v.token_hash));
        st.exchange(soci::into(v.created_by));
        st.exchange(soci::into(v.inviter));
        st.exchange(soci::into(v.created_at));
        st.exchange(soci::into(v.expires_at));
        st.exchange(soci::into(v.resent_count));
        st.exchange(soci::into(accepted_at, accepted_ind));
        st.exchange(soci::into(accepted_user_id, user_ind));
        st.exchange(soci::into(cancelled_at, cancelled_ind));
    }
    core::Invitation value() const {
        core::Invitation out = v;
        if (accepted_ind == soci::i_ok) {
            out.accepted_at = accepted_at;
        }
        if (user_ind == soci::i_ok) {
            out.accepted_user_id = accepted_user_id;
        }
        if (cancelled_ind == soci::i_ok) {
            out.cancelled_at = cancelled_at;
        }
        return out;
    }
};

std::vector<core::Invitation> read_invitations(soci::session& sql,
                                               const std::string& where,
                                               const std::function<void(soci::statement&)>& bind) {
    std::vector<core::Invitation> out;
    InvitationRow row;
    soci::statement st = one_time(sql, std::string(kInvitationColumns) + where);
    bind(st);
    row.define(st);
    st.define_and_bind();
    st.execute(false);
    while (st.fetch()) {
        out.push_back(row.value());
        row.accepted_ind = row.user_ind = row.cancelled_ind = soci::i_ok;
    }
    return out;
}

std::optional<core::Invitation> invitation_by_id(soci::session& sql,
                                                 const std::string& org_id,
                                                 const std::string& id) {
    std::string org = org_id, key = id;
    auto found =
        read_invitations(sql, "WHERE org_id = :org AND id = :id", [&](soci::statement& st) {
            st.exchange(soci::use(org, "org"));
            st.exchange(soci::use(key, "id"));
        });
    if (found.empty()) {
        return std::nullopt;
    }
    return found.front();
}

json::object invitation_json(const core::Invitation& i) {
    return json::object{{"email", i.email},
                        {"scope", i.site_id.empty() ? std::string("org") : "site:" + i.site_id},
                        {"role", i.role},
                        {"status", i.status},
                        {"expires_at", i.expires_at}};
}

void insert_mail(soci::session& sql, const core::OutboxMail& m) {
    std::string id = m.id, org = m.org_id, kind = m.kind, ref = m.ref_id, to = m.recipient,
                subject = m.subject, body = m.body, status = m.status, next = m.next_attempt_at,
                created = m.created_at;
    sql << "INSERT INTO outbox (id, org_id, kind, ref_id, recipient, subject, body, status, "
           "attempts, next_attempt_at, created_at) VALUES (:id, :org, :kind, :ref, :to, "
           ":subject, :body, :status, 0, :next, :created)",
        soci::use(id, "id"), soci::use(org, "org"), soci::use(kind, "kind"), soci::use(ref, "ref"),
        soci::use(to, "to"), soci::use(subject, "subject"), soci::use(body, "body"),
        soci::use(status, "status"), soci::use(next, "next"), soci::use(created, "created");
}

constexpr const char* kMailColumns =
    "SELECT id, org_id, kind, ref_id, recipient, subject, body, status, attempts, "
    "next_attempt_at, last_error, created_at, sent_at FROM outbox ";

std::vector<core::OutboxMail> read_mail(soci::session& sql,
                                        const std::string& where,
                                        const std::function<void(soci::statement&)>& bind) {
    std::vector<core::OutboxMail> out;
    core::OutboxMail m;
    std::string error, sent;
    soci::indicator error_ind = soci::i_ok, sent_ind = soci::i_ok;
    soci::statement st = one_time(sql, std::string(kMailColumns) + where);
    bind(st);
    st.exchange(soci::into(m.id));
    st.exchange(soci::into(m.org_id));
    st.exchange(soci::into(m.kind));
    st.exchange(soci::into(m.ref_id));
    st.exchange(soci::into(m.recipient));
    st.exchange(soci::into(m.subject));
    st.exchange(soci::into(m.body));
    st.exchange(soci::into(m.status));
    st.exchange(soci::into(m.attempts));
    st.exchange(soci::into(m.next_attempt_at));
    st.exchange(soci::into(error, error_ind));
    st.exchange(soci::into(m.created_at));
    st.exchange(soci::into(sent, sent_ind));
    st.define_and_bind();
    st.execute(false);
    while (st.fetch()) {
        core::OutboxMail row = m;
        if (error_ind == soci::i_ok) {
            row.last_error = error;
        }
        if (sent_ind == soci::i_ok) {
            row.sent_at = sent;
        }
        out.push_back(std::move(row));
        error_ind = sent_ind = soci::i_ok;
    }
    return out;
}

}  // namespace

std::pair<core::Invitation, bool> create_invitation_in(soci::session& sql,
                                                       const core::Invitation& inv,
                                                       const core::OutboxMail& mail,
                                                       const core::Audit& audit) {
    std::string org = inv.org_id, key = fold_case(inv.email), site = inv.site_id,
                now = inv.created_at;
    auto pending = read_invitations(
        sql,
        "WHERE org_id = :org AND email_key = :key AND site_id = :site AND status = 'pending' "
        "AND expires_at > :now",
        [&](soci::statement& st) {
            st.exchange(soci::use(org, "org"));
            st.exchange(soci::use(key, "key"));
            st.exchange(soci::use(site, "site"));
            st.exchange(soci::use(now, "now"));
        });
    if (!pending.empty()) {
        return {pending.front(), false};
    }
    std::string id = inv.id, email = inv.email, role = inv.role, status = inv.status,
                hash = inv.token_hash, by = inv.created_by, inviter = inv.inviter,
                created = inv.created_at, expires = inv.expires_at;
    sql << "INSERT INTO invitations (id, org_id, email, email_key, site_id, role, status, "
           "token_hash, created_by, inviter, created_at, expires_at, resent_count) VALUES "
           "(:id, :org, :email, :key, :site, :role, :status, :hash, :by, :inviter, :created, "
           ":expires, 0)",
        soci::use(id, "id"), soci::use(org, "org"), soci::use(email, "email"),
        soci::use(key, "key"), soci::use(site, "site"), soci::use(role, "role"),
        soci::use(status, "status"), soci::use(hash, "hash"), soci::use(by, "by"),
        soci::use(inviter, "inviter"), soci::use(created, "created"), soci::use(expires, "expires");
    insert_mail(sql, mail);
    core::Audit a = audit;
    a.entries = {
        {"invitation.created", "invitation", inv.id, "", json::serialize(invitation_json(inv))}};
    write_audit(sql, inv.org_id, a);
    return {inv, true};
}

std::pair<core::Invitation, bool> SqlInvitationRepository::create(const core::Invitation& inv,
                                                                  const core::OutboxMail& mail,
                                                                  const core::Audit& audit) {
    return with_write_session(db_, [&](soci::session& sql) {
        WriteTx tx(sql, db_);
        // Two admins inviting one person at once: on PostgreSQL the organization's writes
        // that read before they write take turns, so that only one invitation is made.
        lock_organization(sql, inv.org_id);
        auto out = create_invitation_in(sql, inv, mail, audit);
        tx.commit();
        return out;
    });
}

std::vector<std::pair<core::Invitation, bool>> SqlInvitationRepository::create_many(
    const std::vector<std::pair<core::Invitation, core::OutboxMail>>& invitations,
    const core::Audit& audit) {
    if (invitations.empty()) {
        return {};
    }
    return with_write_session(db_, [&](soci::session& sql) {
        WriteTx tx(sql, db_);
        lock_organization(sql, invitations.front().first.org_id);
        std::vector<std::pair<core::Invitation, bool>> out;
        for (const auto& [inv, mail] : invitations) {
            out.push_back(create_invitation_in(sql, inv, mail, audit));
        }
        tx.commit();
        return out;
    });
}

std::optional<core::Invitation> SqlInvitationRepository::find(const std::string& org_id,
                                                              const std::string& id) {
    return with_session(db_, [&](soci::session& sql) { return invitation_by_id(sql, org_id, id); });
}

std::optional<core::Invitation> SqlInvitationRepository::find_by_token(
    const std::string& token_hash) {
    return with_session(db_, [&](soci::session& sql) -> std::optional<core::Invitation> {
        std::string hash = token_hash;
        auto found = read_invitations(sql, "WHERE token_hash = :hash", [&](soci::statement& st) {
            st.exchange(soci::use(hash, "hash"));
        });
        if (found.empty()) {
            return std::nullopt;
        }
        return found.front();
    });
}

std::vector<core::Invitation> SqlInvitationRepository::list(const std::string& org_id,
                                                            const std::string& status,
                                                            const std::string& email,
                                                            const std::string& now,
                                                            std::size_t limit) {
    return with_session(db_, [&](soci::session& sql) {
        std::string org = org_id, key = fold_case(email), at = now;
        long long max = static_cast<long long>(limit);
        std::string where = "WHERE org_id = :org";
        if (!email.empty()) {
            where += " AND email_key = :key";
        }
        if (status == "pending") {
            where += " AND status = 'pending' AND expires_at > :now";
        } else if (status == "expired") {
            where += " AND status = 'pending' AND expires_at <= :now";
        } else if (status == "accepted" || status == "cancelled") {
            where += " AND status = '" + status + "'";  // one of two fixed words
        }
        where += " ORDER BY created_at DESC, seq DESC LIMIT :max";
        return read_invitations(sql, where, [&](soci::statement& st) {
            st.exchange(soci::use(org, "org"));
            if (!email.empty()) {
                st.exchange(soci::use(key, "key"));
            }
            if (status == "pending" || status == "expired") {
                st.exchange(soci::use(at, "now"));
            }
            st.exchange(soci::use(max, "max"));
        });
    });
}

std::optional<core::Invitation> SqlInvitationRepository::resend(const std::string& org_id,
                                                                const std::string& id,
                                                                const std::string& token_hash,
                                                                const std::string& expires_at,
                                                                const core::OutboxMail& mail,
                                                                const core::Audit& audit) {
    return with_write_session(db_, [&](soci::session& sql) -> std::optional<core::Invitation> {
        WriteTx tx(sql, db_);
        std::string org = org_id, key = id, hash = token_hash, expires = expires_at;
        soci::statement st = one_time(
            sql,
            "UPDATE invitations SET token_hash = :hash, expires_at = :expires, resent_count = "
            "resent_count + 1 WHERE org_id = :org AND id = :id AND status = 'pending'");
        st.exchange(soci::use(hash, "hash"));
        st.exchange(soci::use(expires, "expires"));
        st.exchange(soci::use(org, "org"));
        st.exchange(soci::use(key, "id"));
        st.define_and_bind();
        st.execute(true);
        if (st.get_affected_rows() == 0) {
            return std::nullopt;
        }
        insert_mail(sql, mail);
        auto after = invitation_by_id(sql, org_id, id);
        core::Audit a = audit;
        a.entries = {{"invitation.resent", "invitation", id, "",
                      json::serialize(json::object{{"expires_at", expires_at},
                                                   {"resent_count", after->resent_count}})}};
        write_audit(sql, org_id, a);
        tx.commit();
        return after;
    });
}

std::optional<core::Invitation> SqlInvitationRepository::cancel(const std::string& org_id,
                                                                const std::string& id,
                                                                const std::string& at,
                                                                const core::Audit& audit) {
    return with_write_session(db_, [&](soci::session& sql) -> std::optional<core::Invitation> {
        WriteTx tx(sql, db_);
        std::string org = org_id, key = id, when = at;
        soci::statement st = one_time(
            sql,
            "UPDATE invitations SET status = 'cancelled', cancelled_at = :at WHERE org_id = :org "
            "AND id = :id AND status = 'pending'");
        st.exchange(soci::use(when, "at"));
        st.exchange(soci::use(org, "org"));
        st.exchange(soci::use(key, "id"));
        st.define_and_bind();
        st.execute(true);
        if (st.get_affected_rows() == 0) {
            return std::nullopt;
        }
        auto after = invitation_by_id(sql, org_id, id);
        core::Audit a = audit;
        a.entries = {{"invitation.cancelled", "invitation", id,
                      json::serialize(json::object{{"status", "pending"}}),
                      json::serialize(json::object{{"status", "cancelled"}})}};
        write_audit(sql, org_id, a);
        tx.commit();
        return after;
    });
}

void SqlInvitationRepository::accept(const core::Invitation& inv,
                                     const std::string& at,
                                     const core::UserRecord& account,
                                     std::int64_t expected_version,
                                     const std::optional<core::Grant>& grant,
                                     const core::Audit& audit) {
    with_write_session(db_, [&](soci::session& sql) {
        WriteTx tx(sql, db_);
        std::string org = inv.org_id, key = inv.id, hash = inv.token_hash, when = at,
                    user = account.id;
        soci::statement st = one_time(
            sql,
            "UPDATE invitations SET status = 'accepted', accepted_at = :at, accepted_user_id = "
            ":user WHERE org_id = :org AND id = :id AND token_hash = :hash AND status = "
            "'pending' AND expires_at > :now");
        st.exchange(soci::use(when, "at"));
        st.exchange(soci::use(user, "user"));
        st.exchange(soci::use(org, "org"));
        st.exchange(soci::use(key, "id"));
        st.exchange(soci::use(hash, "hash"));
        st.exchange(soci::use(when, "now"));
        st.define_and_bind();
        st.execute(true);
        if (st.get_affected_rows() == 0) {
            throw Error::conflict("the invitation was used, cancelled or resent meanwhile");
        }
        core::Audit a = audit;
        a.entries.clear();
        if (expected_version == 0) {
            users_.insert_in(sql, account, a);
        } else if (expected_version > 0 && !users_.update_in(sql, account, expected_version, a)) {
            throw Error::conflict("the account was changed meanwhile; retry");
        }
        if (grant) {
            add_grant_in(sql, *grant, a);
        }
        sql << "UPDATE users SET access_pending = 0 WHERE org_id = :org AND id = :id AND "
               "access_pending = 1",
            soci::use(org, "org"), soci::use(user, "id");
        write_audit(sql, inv.org_id, audit);
        tx.commit();
    });
}

std::vector<core::OutboxMail> SqlInvitationRepository::mail_of(const std::string& org_id,
                                                               const std::string& ref_id) {
    return with_session(db_, [&](soci::session& sql) {
        std::string org = org_id, ref = ref_id;
        return read_mail(sql, "WHERE org_id = :org AND ref_id = :ref ORDER BY seq DESC",
                         [&](soci::statement& st) {
                             st.exchange(soci::use(org, "org"));
                             st.exchange(soci::use(ref, "ref"));
                         });
    });
}

// --- self-registration ----------------------------------------------------------------------

void SqlSignupRepository::create(const core::Signup& r, const core::OutboxMail& mail) {
    with_write_session(db_, [&](soci::session& sql) {
        WriteTx tx(sql, db_);
        std::string id = r.id, org = r.org_id, domain = r.domain_id, email = r.email, name = r.name,
                    hash = r.token_hash, status = r.status, created = r.created_at,
                    expires = r.expires_at;
        sql << "INSERT INTO signups (id, org_id, domain_id, email, name, token_hash, status, "
               "created_at, expires_at) VALUES (:id, :org, :domain, :email, :name, :hash, "
               ":status, :created, :expires)",
            soci::use(id, "id"), soci::use(org, "org"), soci::use(domain, "domain"),
            soci::use(email, "email"), soci::use(name, "name"), soci::use(hash, "hash"),
            soci::use(status, "status"), soci::use(created, "created"),
            soci::use(expires, "expires");
        insert_mail(sql, mail);
        tx.commit();
    });
}

std::optional<core::Signup> SqlSignupRepository::find_by_token(const std::string& token_hash) {
    return with_session(db_, [&](soci::session& sql) -> std::optional<core::Signup> {
        std::string hash = token_hash;
        core::Signup r;
        soci::statement st =
            one_time(sql,
                     "SELECT id, org_id, domain_id, email, name, token_hash, status, created_at, "
                     "expires_at FROM signups WHERE token_hash = :hash");
        st.exchange(soci::use(hash, "hash"));
        st.exchange(soci::into(r.id));
        st.exchange(soci::into(r.org_id));
        st.exchange(soci::into(r.domain_id));
        st.exchange(soci::into(r.email));
        st.exchange(soci::into(r.name));
        st.exchange(soci::into(r.token_hash));
        st.exchange(soci::into(r.status));
        st.exchange(soci::into(r.created_at));
        st.exchange(soci::into(r.expires_at));
        st.define_and_bind();
        if (!st.execute(true)) {
            return std::nullopt;
        }
        return r;
    });
}

void SqlSignupRepository::confirm(const core::Signup& r,
                                  const std::string& at,
                                  const core::UserRecord& account,
                                  const core::Grant& grant,
                                  const core::Audit& audit) {
    with_write_session(db_, [&](soci::session& sql) {
        WriteTx tx(sql, db_);
        std::string id = r.id, hash = r.token_hash, when = at, user = account.id;
        soci::statement st = one_time(
            sql,
            "UPDATE signups SET status = 'confirmed', confirmed_at = :at, user_id = :user "
            "WHERE id = :id AND token_hash = :hash AND status = 'pending' AND expires_at > :now");
        st.exchange(soci::use(when, "at"));
        st.exchange(soci::use(user, "user"));
        st.exchange(soci::use(id, "id"));
        st.exchange(soci::use(hash, "hash"));
        st.exchange(soci::use(when, "now"));
        st.define_and_bind();
        st.execute(true);
        if (st.get_affected_rows() == 0) {
            throw Error::conflict("the sign-up was confirmed meanwhile");
        }
        core::Audit quiet = audit;
        quiet.entries.clear();
        users_.insert_in(sql, account, quiet);
        add_grant_in(sql, grant, quiet);
        write_audit(sql, r.org_id, audit);
        tx.commit();
    });
}

// --- outbox ---------------------------------------------------------------------------------

std::vector<core::OutboxMail> SqlOutboxRepository::due(const std::string& now, std::size_t limit) {
    return with_session(db_, [&](soci::session& sql) {
        std::string at = now;
        long long max = static_cast<long long>(limit);
        return read_mail(sql,
                         "WHERE status = 'pending' AND next_attempt_at <= :now ORDER BY "
                         "next_attempt_at, seq LIMIT :max",
                         [&](soci::statement& st) {
                             st.exchange(soci::use(at, "now"));
                             st.exchange(soci::use(max, "max"));
                         });
    });
}

void SqlOutboxRepository::mark_sent(const std::string& id, const std::string& at) {
    with_write_session(db_, [&](soci::session& sql) {
        std::string key = id, when = at;
        sql << "UPDATE outbox SET status = 'sent', sent_at = :at, attempts = attempts + 1, "
               "last_error = NULL WHERE id = :id",
            soci::use(when, "at"), soci::use(key, "id");
    });
}

void SqlOutboxRepository::mark_failed(const std::string& id,
                                      const std::string& error,
                                      const std::optional<std::string>& next_attempt_at) {
    with_write_session(db_, [&](soci::session& sql) {
        std::string key = id, why = error;
        if (next_attempt_at) {
            std::string next = *next_attempt_at;
            sql << "UPDATE outbox SET attempts = attempts + 1, last_error = :why, "
                   "next_attempt_at = :next WHERE id = :id",
                soci::use(why, "why"), soci::use(next, "next"), soci::use(key, "id");
        } else {
            sql << "UPDATE outbox SET status = 'dead', attempts = attempts + 1, last_error = :why "
                   "WHERE id = :id",
                soci::use(why, "why"), soci::use(key, "id");
        }
    });
}

}  // namespace scimd::store
