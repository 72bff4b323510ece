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

/// Groups (SCIM Groups) and their members. Every call takes the organization id. Member ids
/// are checked against the organization's Users and Groups in the same transaction as the
/// write: unknown ids → Error::invalid_value naming them, a group that would contain itself
/// (directly or through nesting) → Error::invalid_value; nothing is written then.
class GroupRepository {
public:
    virtual ~GroupRepository() = default;
    virtual std::optional<GroupRecord> find(const std::string& org_id,
                                            const std::string& id,
                                            bool with_members) = 0;
    /// Inserts `group` with `members` (ids). Throws Error::uniqueness when displayName is
    /// taken in the organization.
    virtual void insert(const GroupRecord& group, const std::vector<std::string>& members) = 0;
    /// Writes `group`'s attributes and applies `change`, if the stored version is still
    /// `expected_version`; false otherwise (changed meanwhile, or gone).
    virtual bool update(const GroupRecord& group,
                        std::int64_t expected_version,
                        const MembershipChange& change) = 0;
    /// Applies `change` alone, whatever the version (a delta needs no read of the group),
    /// and moves the version on. False when there is no such group.
    virtual bool change_members(const std::string& org_id,
                                const std::string& id,
                                const MembershipChange& change,
                                const std::string& at) = 0;
    /// Deletes the group, its member rows and its memberships in other groups.
    virtual bool remove(const std::string& org_id, const std::string& id) = 0;
    virtual Page<GroupRecord> list(const std::string& org_id,
                                   const ListQuery& query,
                                   bool with_members) = 0;
    /// The groups that `member_id` (a User or a Group) belongs to, directly or through
    /// nested groups.
    virtual std::vector<GroupMembership> groups_of(const std::string& org_id,
                                                   const std::string& member_id) = 0;
};

}  // namespace scimd::core
