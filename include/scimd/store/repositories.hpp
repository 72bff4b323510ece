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

private:
    Database& db_;
};

class SqlTokenRepository final : public core::TokenRepository {
public:
    explicit SqlTokenRepository(Database& db) : db_(db) {}
    void insert(const core::ScimToken& token) override;
    std::optional<core::ScimToken> find_by_hash(const std::string& hash) override;
    std::vector<core::ScimToken> list(const std::string& org_id) override;
    bool revoke(const std::string& org_id, const std::string& id, const std::string& at) override;
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
    void insert(const core::UserRecord& user) override;
    bool update(const core::UserRecord& user, std::int64_t expected_version) override;
    bool remove(const std::string& org_id, const std::string& id) override;
    core::Page<core::UserRecord> list(const std::string& org_id,
                                      const core::ListQuery& query) override;

    /// Inserts many accounts in one transaction (seeding, imports). All or none.
    void insert_many(const std::vector<core::UserRecord>& users);

private:
    // SQLite: an account insert's and update's statements, prepared once per connection.
    struct SqliteInsert;
    struct SqliteUpdate;

    void insert_many_postgres(const std::vector<core::UserRecord>& users);
    void insert_sqlite(soci::session& sql, const core::UserRecord& user);
    bool update_sqlite(soci::session& sql,
                       const core::UserRecord& user,
                       std::int64_t expected_version);

    Database& db_;
    std::mutex cache_mutex_;
    std::unordered_map<soci::session*, std::unique_ptr<SqliteInsert>> sqlite_inserts_;
    std::unordered_map<soci::session*, std::unique_ptr<SqliteUpdate>> sqlite_updates_;
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
    void insert(const core::GroupRecord& group, const std::vector<std::string>& members) override;
    bool update(const core::GroupRecord& group,
                std::int64_t expected_version,
                const core::MembershipChange& change) override;
    bool change_members(const std::string& org_id,
                        const std::string& id,
                        const core::MembershipChange& change,
                        const std::string& at) override;
    bool remove(const std::string& org_id, const std::string& id) override;
    core::Page<core::GroupRecord> list(const std::string& org_id,
                                       const core::ListQuery& query,
                                       bool with_members) override;
    std::vector<core::GroupMembership> groups_of(const std::string& org_id,
                                                 const std::string& member_id) override;

private:
    Database& db_;
};

}  // namespace scimd::store
