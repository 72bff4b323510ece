#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scimd/core/records.hpp"

namespace scimd::core {

/// Organizations. Names are unique.
class OrganizationRepository {
public:
    virtual ~OrganizationRepository() = default;
    /// Throws Error::uniqueness when the name is taken.
    virtual void insert(const Organization& org) = 0;
    /// Finds by id, or else by exact name.
    virtual std::optional<Organization> find(const std::string& id_or_name) = 0;
    virtual std::vector<Organization> list() = 0;
};

/// SCIM tokens.
class TokenRepository {
public:
    virtual ~TokenRepository() = default;
    virtual void insert(const ScimToken& token) = 0;
    virtual std::optional<ScimToken> find_by_hash(const std::string& hash) = 0;
    virtual std::vector<ScimToken> list(const std::string& org_id) = 0;
    /// False when no such token exists in the organization.
    virtual bool revoke(const std::string& org_id,
                        const std::string& id,
                        const std::string& at) = 0;
    virtual void touch(const std::string& id, const std::string& at) = 0;
};

/// Accounts (SCIM Users). Every call takes the organization id: no call sees another tenant.
class UserRepository {
public:
    virtual ~UserRepository() = default;
    virtual std::optional<UserRecord> find(const std::string& org_id, const std::string& id) = 0;
    /// Throws Error::uniqueness when userName is taken in the organization.
    virtual void insert(const UserRecord& user) = 0;
    /// Writes `user` if the stored version is still `expected_version`; false otherwise
    /// (changed meanwhile, or gone). Throws Error::uniqueness like insert.
    virtual bool update(const UserRecord& user, std::int64_t expected_version) = 0;
    /// False when there was nothing to delete.
    virtual bool remove(const std::string& org_id, const std::string& id) = 0;
    virtual Page<UserRecord> list(const std::string& org_id, const ListQuery& query) = 0;
};

}  // namespace scimd::core
