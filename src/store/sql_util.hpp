#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <soci/soci.h>

#include "scimd/core/access.hpp"
#include "scimd/core/audit.hpp"
#include "scimd/core/records.hpp"
#include "scimd/store/database.hpp"

namespace scimd::store {

/// One connection leased from the pool for the life of the object. A pool that stays empty
/// for the lease timeout becomes 503, never an unbounded wait.
class Lease {
public:
    explicit Lease(Database& db);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    soci::session& operator*() noexcept { return *session_; }
    soci::session* operator->() noexcept { return session_; }

    /// The connection failed: it is reconnected before it goes back to the pool.
    void mark_broken() noexcept { broken_ = true; }

private:
    Database& db_;
    std::size_t pos_ = 0;
    soci::session* session_ = nullptr;
    bool broken_ = false;
};

/// A write transaction. SQLite starts it with BEGIN IMMEDIATE so that two writers queue on
/// the busy timeout instead of failing when a read snapshot is upgraded; on the writer's
/// connection (Database::run_write) it is a savepoint of the group commit. Rolls back in the
/// destructor unless committed.
class WriteTx {
public:
    WriteTx(soci::session& sql, Database& db);
    ~WriteTx();
    WriteTx(const WriteTx&) = delete;
    WriteTx& operator=(const WriteTx&) = delete;
    void commit();

private:
    std::unique_lock<std::mutex> lock_;  // held on SQLite only, off the writer
    soci::session& sql_;
    bool savepoint_;  // on SQLite's writer, inside its group commit
    bool done_ = false;
};

/// A kept SQLite statement that returned a row stays open on it, and so keeps its connection
/// reading an old snapshot after the transaction commits: that connection's next write would
/// fail at once with SQLITE_BUSY once another connection has written. Call this after
/// reading the row.
void close_row(soci::statement& st) noexcept;

/// A statement run once: on PostgreSQL, SOCI sends it with its parameters in one round trip
/// (PQexecParams) instead of preparing it by name, executing it and deallocating it (three).
soci::statement one_time(soci::session& sql, const std::string& text);

/// Inside a write transaction: removes `member_id` (a User or a Group) from every group it is
/// a member of, moving those groups' versions on.
void leave_all_groups(soci::session& sql,
                      const std::string& org_id,
                      const std::string& member_id,
                      const core::Audit& audit);

/// The head of every statement that writes audit rows; the values or SELECT follow.
inline constexpr const char* kInsertAudit =
    "INSERT INTO audit_events (org_id, at, actor, action, target_type, target_id, before_value, "
    "after_value, request_id) ";

/// The statement that writes audit rows. A connection whose statements are kept (SQLite's,
/// in the account write path) prepares it once; write_audit() prepares one per call.
class AuditWriter {
public:
    AuditWriter(soci::session& sql, soci::details::statement_type type);
    AuditWriter(const AuditWriter&) = delete;
    AuditWriter& operator=(const AuditWriter&) = delete;
    /// Writes `audit`'s entries for `org_id` (at `audit.at`, or now when it is empty).
    void write(const std::string& org_id, const core::Audit& audit);

private:
    std::string org_, at_, actor_, action_, type_, target_, before_, after_, request_;
    soci::indicator before_ind_ = soci::i_null, after_ind_ = soci::i_null;
    soci::statement st_;
};

/// Inside a write transaction: writes `audit`'s entries for `org_id` (at `audit.at`, or now
/// when it is empty).
void write_audit(soci::session& sql, const std::string& org_id, const core::Audit& audit);

/// `audit` with `entry` as its one entry.
inline core::Audit with_entry(const core::Audit& audit, core::AuditEntry entry) {
    core::Audit a = audit;
    a.entries = {std::move(entry)};
    return a;
}

/// The time an audit row is stamped with: `audit.at`, or now.
std::string audit_time(const core::Audit& audit);

/// Inside a write transaction: makes the rule-derived role bindings of the group exactly
/// what the organization's naming rules give its displayName, auditing a change.
void apply_naming_rules(soci::session& sql,
                        const std::string& org_id,
                        const std::string& group_id,
                        const std::string& display_name,
                        const core::Audit& audit);

/// Inside a write transaction: makes the account's grants of `source` exactly `grants`,
/// auditing each one added, changed or revoked.
void replace_source_grants_in(soci::session& sql,
                              const std::string& org_id,
                              const std::string& user_id,
                              core::GrantSource source,
                              const std::vector<core::Grant>& grants,
                              const core::Audit& audit);

/// Inside a write transaction: stores the invitation with its mail unless the organization
/// has a pending one of the same email and scope; returns the invitation kept and whether it
/// is the new one.
std::pair<core::Invitation, bool> create_invitation_in(soci::session& sql,
                                                       const core::Invitation& invitation,
                                                       const core::OutboxMail& mail,
                                                       const core::Audit& audit);

/// Inside a write transaction: stores a new grant, with its grant.added audit row.
void add_grant_in(soci::session& sql, const core::Grant& grant, const core::Audit& audit);

/// Whether the account is active and holds an unexpired organization owner grant at `now`.
bool active_owner(soci::session& sql,
                  const std::string& org_id,
                  const std::string& user_id,
                  const std::string& now);

/// DESIGN §2 rule 3, inside the write transaction that may break it: when `was_owner`, the
/// organization must still have an active owner after the change, or Error::conflict is
/// thrown (and the transaction rolls back). On PostgreSQL the organization's row is locked
/// first, so that two concurrent changes of two owners cannot both pass.
void ensure_an_owner_remains(soci::session& sql,
                             const std::string& org_id,
                             bool was_owner,
                             const std::string& now);

/// What a delete takes with it, audited row by row before it goes.
enum class RemovedAccess { kGrantsOfAccount, kBindingsOfGroup, kBindingsOfSite };

/// Inside a write transaction, before the delete: one audit row per grant of the account
/// `key`, or per role binding of the group or site `key`.
void audit_removed_access(soci::session& sql,
                          const std::string& org_id,
                          RemovedAccess what,
                          const std::string& key,
                          const core::Audit& audit);

/// PostgreSQL: takes the organization's row (FOR NO KEY UPDATE) until the transaction ends, so
/// that the organization's writes that check a count or read another side's rows take
/// turns. SQLite's writes take turns anyway: nothing to do there.
void lock_organization(soci::session& sql, const std::string& org_id);

/// The organization's seat limit, or nullopt for none.
std::optional<long long> seat_limit_of(soci::session& sql, const std::string& org_id);

/// DESIGN §2 rule 7, inside the write that made an account active: the organization's active
/// accounts must not exceed `limit`; otherwise Error::forbidden (403) "user limit reached: N
/// of N seats used", and the transaction rolls back.
void ensure_seats(soci::session& sql, const std::string& org_id, long long limit);

/// `text` with its "{doc}" replaced by the dialect's form of the document column or value
/// (jsonb on PostgreSQL, text on SQLite).
std::string with_doc(const char* text,
                     Backend backend,
                     const char* sqlite_form,
                     const char* pg_form);

/// A JSON array of `ids`, bound as one value for the set statements below.
std::string json_array_of(const std::vector<std::string>& ids);

/// The elements of a JSON array of ids bound to `param`, as the table `j` whose column
/// `value` is the id.
std::string json_ids_table(Backend backend, const std::string& param);

/// True for a unique-constraint violation, on either backend.
bool is_unique_violation(const soci::soci_error& e);

/// Turns a driver error that no caller handled into what the client should see: a busy or
/// locked SQLite database, and a lost PostgreSQL connection (the lease reconnects), become
/// 503 with Retry-After; anything else is rethrown as it is (a logged 500). `lease` is the
/// connection to reconnect, when there is one.
[[noreturn]] void rethrow_translated(const soci::soci_error& e, Lease* lease);

/// Runs `f` on one leased connection, translating driver errors at the store's boundary.
template <typename F>
auto with_session(Database& db, F&& f) {
    Lease lease(db);
    try {
        return f(*lease);
    } catch (const soci::soci_error& e) {
        rethrow_translated(e, &lease);
    }
}

/// Runs `f`, which writes, on a connection: on PostgreSQL one leased like with_session's; on
/// SQLite the writer's, in the group commit of Database::run_write (a WriteTx in `f` is then
/// a savepoint). `f` returns when its writes are committed.
template <typename F>
auto with_write_session(Database& db, F&& f) {
    if (db.backend() != Backend::kSqlite) {
        return with_session(db, std::forward<F>(f));
    }
    using Result = decltype(f(std::declval<soci::session&>()));
    std::optional<std::conditional_t<std::is_void_v<Result>, bool, Result>> out;
    db.run_write([&](soci::session& sql) {
        try {
            if constexpr (std::is_void_v<Result>) {
                f(sql);
                out.emplace(true);
            } else {
                out.emplace(f(sql));
            }
        } catch (const soci::soci_error& e) {
            rethrow_translated(e, nullptr);
        }
    });
    if constexpr (!std::is_void_v<Result>) {
        return std::move(*out);
    }
}

}  // namespace scimd::store
