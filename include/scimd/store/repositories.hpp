#pragma once

#include <memory>
#include <mutex>
#include <unordered_map>

#include "scimd/core/repositories.hpp"
#include "scimd/store/database.hpp"

namespace scimd::store {

/// SOCI implementations of core's repositories. Each call leases one connection from the
/// pool and runs at most one transaction.
class SqlOrganizationRepository final : public core::OrganizationRepository {
public:
    explicit SqlOrganizationRepository(Database& db) : db_(db) {}
    void insert(const core::Organization& org) override;
    std::optional<core::Organization> find(const std::string& id_or_name) override;
    std::vector<core::Organization> list() override;
    bool update_plan(const std::string& id,
                     const core::Plan& plan,
                     const core::Audit& audit) override;

private:
    Database& db_;
};

class SqlTokenRepository final : public core::TokenRepository {
public:
    explicit SqlTokenRepository(Database& db) : db_(db) {}
    void insert(const core::ScimToken& token, const core::Audit& audit = {}) override;
    std::optional<core::ScimToken> find_by_hash(const std::string& hash) override;
    std::vector<core::ScimToken> list(const std::string& org_id) override;
    bool revoke(const std::string& org_id,
                const std::string& id,
                const std::string& at,
                const core::Audit& audit = {}) override;
    void touch(const std::string& id, const std::string& at) override;

private:
    Database& db_;
};

class SqlUserRepository final : public core::UserRepository {
public:
    explicit SqlUserRepository(Database& db);
    ~SqlUserRepository() override;
    SqlUserRepository(const SqlUserRepository&) = delete;
    SqlUserRepository& operator=(const SqlUserRepository&) = delete;
    std::optional<core::UserRecord> find(const std::string& org_id, const std::string& id) override;
    std::optional<core::UserRecord> find_by_email(const std::string& org_id,
                                                  const std::string& email) override;
    long long count_active(const std::string& org_id) override;
    std::optional<core::UserRecord> find_unmanaged(const std::string& org_id,
                                                   const std::string& user_name) override;
    void insert(const core::UserRecord& user, const core::Audit& audit = {}) override;
    bool update(const core::UserRecord& user,
                std::int64_t expected_version,
                const core::Audit& audit = {}) override;
    bool remove(const std::string& org_id,
                const std::string& id,
                const core::Audit& audit = {}) override;
    core::Page<core::UserRecord> list(const std::string& org_id,
                                      const core::ListQuery& query) override;
    bool record_sign_in(const std::string& org_id,
                        const std::string& id,
                        const std::string& at) override;
    std::vector<core::SignIn> not_signed_in_since(const std::string& org_id,
                                                  const std::string& cutoff,
                                                  std::size_t limit) override;

    /// Inserts many accounts in one transaction (seeding, imports). All or none.
    void insert_many(const std::vector<core::UserRecord>& users);

    /// insert() and update() inside a write transaction the caller holds (another write
    /// that creates or changes an account with its own rows, like an invitation's
    /// acceptance).
    void insert_in(soci::session& sql, const core::UserRecord& user, const core::Audit& audit);
    bool update_in(soci::session& sql,
                   const core::UserRecord& user,
                   std::int64_t expected_version,
                   const core::Audit& audit);

private:
    // SQLite: an account insert's and update's statements, prepared once per connection.
    struct SqliteInsert;
    struct SqliteUpdate;
    // SQLite: the reads IdPs send most (an account by id, by userName, a page in the default
    // order), prepared once per connection.
    struct SqliteReads;

    void insert_many_postgres(const std::vector<core::UserRecord>& users);
    void write_account(soci::session& sql, const core::UserRecord& user, const core::Audit& audit);
    void insert_sqlite(soci::session& sql, const core::UserRecord& user, const core::Audit& audit);
    bool update_sqlite(soci::session& sql,
                       const core::UserRecord& user,
                       std::int64_t expected_version,
                       const core::Audit& audit);

    Database& db_;
    std::mutex cache_mutex_;
    std::unordered_map<soci::session*, std::unique_ptr<SqliteInsert>> sqlite_inserts_;
    std::unordered_map<soci::session*, std::unique_ptr<SqliteUpdate>> sqlite_updates_;
    std::unordered_map<soci::session*, std::unique_ptr<SqliteReads>> sqlite_reads_;
};

/// Groups and their member rows. Membership changes are set operations on the member rows,
/// with the ids carried as one JSON array parameter, so that a change costs one statement per
/// kind of change whatever its size, and nothing proportional to the group's size.
class SqlGroupRepository final : public core::GroupRepository {
public:
    explicit SqlGroupRepository(Database& db) : db_(db) {}
    std::optional<core::GroupRecord> find(const std::string& org_id,
                                          const std::string& id,
                                          bool with_members) override;
    void insert(const core::GroupRecord& group,
                const std::vector<std::string>& members,
                const core::Audit& audit = {}) override;
    bool update(const core::GroupRecord& group,
                std::int64_t expected_version,
                const core::MembershipChange& change,
                const core::Audit& audit = {}) override;
    bool change_members(const std::string& org_id,
                        const std::string& id,
                        const core::MembershipChange& change,
                        const std::string& at,
                        const core::Audit& audit = {}) override;
    bool remove(const std::string& org_id,
                const std::string& id,
                const core::Audit& audit = {}) override;
    core::Page<core::GroupRecord> list(const std::string& org_id,
                                       const core::ListQuery& query,
                                       bool with_members) override;
    std::vector<core::GroupMembership> groups_of(const std::string& org_id,
                                                 const std::string& member_id) override;

private:
    Database& db_;
};

/// Sites, grants, group role bindings and naming rules.
class SqlAccessRepository final : public core::AccessRepository {
public:
    explicit SqlAccessRepository(Database& db) : db_(db) {}
    void insert_site(const core::Site& site, const core::Audit& audit) override;
    std::optional<core::Site> find_site(const std::string& org_id,
                                        const std::string& id_or_name) override;
    std::vector<core::Site> list_sites(const std::string& org_id) override;
    bool rename_site(const std::string& org_id,
                     const std::string& id,
                     const std::string& name,
                     const core::Audit& audit) override;
    bool delete_site(const std::string& org_id,
                     const std::string& id,
                     const core::Audit& audit) override;
    std::vector<core::Grant> grants_of(const std::string& org_id,
                                       const std::string& user_id) override;
    std::map<std::string, std::vector<core::Grant>> grants_of_many(
        const std::string& org_id, const std::vector<std::string>& user_ids) override;
    void put_grant(const core::Grant& grant, const core::Audit& audit) override;
    int revoke_grants(const std::string& org_id,
                      const std::string& user_id,
                      const std::string& site_id,
                      std::optional<core::GrantSource> source,
                      const core::Audit& audit) override;
    void replace_source_grants(const std::string& org_id,
                               const std::string& user_id,
                               core::GrantSource source,
                               const std::vector<core::Grant>& grants,
                               const core::Audit& audit) override;
    int record_expired_grants(const std::string& org_id, const std::string& now) override;
    std::vector<core::Grant> expiring_grants(const std::string& org_id,
                                             const std::string& from,
                                             const std::string& until) override;
    long long count_active_owners(const std::string& org_id, const std::string& now) override;
    std::vector<core::GroupRole> group_roles(const std::string& org_id,
                                             const std::string& group_id) override;
    void set_group_roles(const std::string& org_id,
                         const std::string& group_id,
                         const std::vector<core::GroupRole>& roles,
                         const core::Audit& audit) override;
    std::vector<core::NamingRule> naming_rules(const std::string& org_id) override;
    void insert_rule(const core::NamingRule& rule, const core::Audit& audit) override;
    bool delete_rule(const std::string& org_id,
                     const std::string& id,
                     const core::Audit& audit) override;

private:
    Database& db_;
};

class SqlApiKeyRepository final : public core::ApiKeyRepository {
public:
    explicit SqlApiKeyRepository(Database& db) : db_(db) {}
    void insert(const core::ApiKey& key, const core::Audit& audit) override;
    std::optional<core::ApiKey> find_by_hash(const std::string& hash) override;
    std::vector<core::ApiKey> list(const std::string& org_id) override;
    bool revoke(const std::string& org_id,
                const std::string& id,
                const std::string& at,
                const core::Audit& audit) override;
    void touch(const std::string& id, const std::string& at) override;

private:
    Database& db_;
};

class SqlAuditRepository final : public core::AuditRepository {
public:
    explicit SqlAuditRepository(Database& db) : db_(db) {}
    core::Page<core::AuditEvent> list(const std::string& org_id,
                                      const core::AuditQuery& query) override;
    void append(const std::string& org_id, const core::Audit& audit) override;

private:
    Database& db_;
};

class SqlInvitationRepository final : public core::InvitationRepository {
public:
    SqlInvitationRepository(Database& db, SqlUserRepository& users) : db_(db), users_(users) {}
    std::pair<core::Invitation, bool> create(const core::Invitation& invitation,
                                             const core::OutboxMail& mail,
                                             const core::Audit& audit) override;
    std::vector<std::pair<core::Invitation, bool>> create_many(
        const std::vector<std::pair<core::Invitation, core::OutboxMail>>& invitations,
        const core::Audit& audit) override;
    std::optional<core::Invitation> find(const std::string& org_id, const std::string& id) override;
    std::optional<core::Invitation> find_by_token(const std::string& token_hash) override;
    std::vector<core::Invitation> list(const std::string& org_id,
                                       const std::string& status,
                                       const std::string& email,
                                       const std::string& now,
                                       std::size_t limit) override;
    std::optional<core::Invitation> resend(const std::string& org_id,
                                           const std::string& id,
                                           const std::string& token_hash,
                                           const std::string& expires_at,
                                           const core::OutboxMail& mail,
                                           const core::Audit& audit) override;
    std::optional<core::Invitation> cancel(const std::string& org_id,
                                           const std::string& id,
                                           const std::string& at,
                                           const core::Audit& audit) override;
    void accept(const core::Invitation& invitation,
                const std::string& at,
                const core::UserRecord& account,
                std::int64_t expected_version,
                const std::optional<core::Grant>& grant,
                const core::Audit& audit) override;
    std::vector<core::OutboxMail> mail_of(const std::string& org_id,
                                          const std::string& ref_id) override;

private:
    Database& db_;
    SqlUserRepository& users_;
};

class SqlDomainRepository final : public core::DomainRepository {
public:
    explicit SqlDomainRepository(Database& db) : db_(db) {}
    void insert(const core::Domain& domain, const core::Audit& audit) override;
    std::vector<core::Domain> list(const std::string& org_id) override;
    std::optional<core::Domain> find(const std::string& org_id, const std::string& id) override;
    std::optional<core::Domain> find_verified(const std::string& org_id,
                                              const std::string& domain) override;
    bool mark_verified(const std::string& org_id,
                       const std::string& id,
                       const std::string& at,
                       const core::Audit& audit) override;
    bool update_settings(const core::Domain& domain, const core::Audit& audit) override;
    bool remove(const std::string& org_id,
                const std::string& id,
                const core::Audit& audit) override;
    std::optional<core::Domain> find_verified_anywhere(const std::string& domain) override;
    core::DomainPolicy policy(const std::string& org_id) override;

private:
    Database& db_;
};

class SqlSignupRepository final : public core::SignupRepository {
public:
    SqlSignupRepository(Database& db, SqlUserRepository& users) : db_(db), users_(users) {}
    void create(const core::Signup& signup, const core::OutboxMail& mail) override;
    std::optional<core::Signup> find_by_token(const std::string& token_hash) override;
    void confirm(const core::Signup& signup,
                 const std::string& at,
                 const core::UserRecord& account,
                 const core::Grant& grant,
                 const core::Audit& audit) override;

private:
    Database& db_;
    SqlUserRepository& users_;
};

class SqlOutboxRepository final : public core::OutboxRepository {
public:
    explicit SqlOutboxRepository(Database& db) : db_(db) {}
    std::vector<core::OutboxMail> due(const std::string& now, std::size_t limit) override;
    void mark_sent(const std::string& id, const std::string& at) override;
    void mark_failed(const std::string& id,
                     const std::string& error,
                     const std::optional<std::string>& next_attempt_at) override;

private:
    Database& db_;
};

}  // namespace scimd::store
