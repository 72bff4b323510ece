#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "scimd/core/access.hpp"
#include "scimd/core/audit.hpp"
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
    /// Sets the plan; false when there is no such organization.
    virtual bool update_plan(const std::string& id, const Plan& plan, const Audit& audit) = 0;
};

/// SCIM tokens.
class TokenRepository {
public:
    virtual ~TokenRepository() = default;
    virtual void insert(const ScimToken& token, const Audit& audit = {}) = 0;
    virtual std::optional<ScimToken> find_by_hash(const std::string& hash) = 0;
    virtual std::vector<ScimToken> list(const std::string& org_id) = 0;
    /// False when no such token exists in the organization.
    virtual bool revoke(const std::string& org_id,
                        const std::string& id,
                        const std::string& at,
                        const Audit& audit = {}) = 0;
    virtual void touch(const std::string& id, const std::string& at) = 0;
};

/// Accounts (SCIM Users). Every call takes the organization id: no call sees another tenant.
class UserRepository {
public:
    virtual ~UserRepository() = default;
    virtual std::optional<UserRecord> find(const std::string& org_id, const std::string& id) = 0;
    /// The account whose userName or one of whose emails is `email` (case-insensitively).
    virtual std::optional<UserRecord> find_by_email(const std::string& org_id,
                                                    const std::string& email) = 0;
    /// The account named `user_name` (case-insensitively) if no IdP manages it yet.
    virtual std::optional<UserRecord> find_unmanaged(const std::string& org_id,
                                                     const std::string& user_name) = 0;
    /// How many accounts are active: the seats in use.
    virtual long long count_active(const std::string& org_id) = 0;
    /// Throws Error::uniqueness when userName is taken in the organization.
    virtual void insert(const UserRecord& user, const Audit& audit = {}) = 0;
    /// Writes `user` if the stored version is still `expected_version`; false otherwise
    /// (changed meanwhile, or gone). Throws Error::uniqueness like insert.
    virtual bool update(const UserRecord& user,
                        std::int64_t expected_version,
                        const Audit& audit = {}) = 0;
    /// False when there was nothing to delete. The account's grants, API keys and group
    /// memberships go with it.
    virtual bool remove(const std::string& org_id,
                        const std::string& id,
                        const Audit& audit = {}) = 0;
    virtual Page<UserRecord> list(const std::string& org_id, const ListQuery& query) = 0;
    /// The host application saw the account sign in at `at`; false when there is no such
    /// account.
    virtual bool record_sign_in(const std::string& org_id,
                                const std::string& id,
                                const std::string& at) = 0;
    /// Active accounts not signed in since `cutoff` (or never), oldest first, at most `limit`.
    virtual std::vector<SignIn> not_signed_in_since(const std::string& org_id,
                                                    const std::string& cutoff,
                                                    std::size_t limit) = 0;
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
    virtual void insert(const GroupRecord& group,
                        const std::vector<std::string>& members,
                        const Audit& audit = {}) = 0;
    /// Writes `group`'s attributes and applies `change`, if the stored version is still
    /// `expected_version`; false otherwise (changed meanwhile, or gone).
    virtual bool update(const GroupRecord& group,
                        std::int64_t expected_version,
                        const MembershipChange& change,
                        const Audit& audit = {}) = 0;
    /// Applies `change` alone, whatever the version (a delta needs no read of the group),
    /// and moves the version on. False when there is no such group.
    virtual bool change_members(const std::string& org_id,
                                const std::string& id,
                                const MembershipChange& change,
                                const std::string& at,
                                const Audit& audit = {}) = 0;
    /// Deletes the group, its member rows, its memberships in other groups and its role
    /// bindings.
    virtual bool remove(const std::string& org_id,
                        const std::string& id,
                        const Audit& audit = {}) = 0;
    virtual Page<GroupRecord> list(const std::string& org_id,
                                   const ListQuery& query,
                                   bool with_members) = 0;
    /// The groups that `member_id` (a User or a Group) belongs to, directly or through
    /// nested groups.
    virtual std::vector<GroupMembership> groups_of(const std::string& org_id,
                                                   const std::string& member_id) = 0;
};

/// Sites, grants, group role bindings and naming rules of organizations. Every write records
/// its audit entries in its transaction.
class AccessRepository {
public:
    virtual ~AccessRepository() = default;

    /// Throws Error::uniqueness when the name is taken in the organization.
    virtual void insert_site(const Site& site, const Audit& audit) = 0;
    /// By id, or else by name (case-insensitively).
    virtual std::optional<Site> find_site(const std::string& org_id,
                                          const std::string& id_or_name) = 0;
    virtual std::vector<Site> list_sites(const std::string& org_id) = 0;
    virtual bool rename_site(const std::string& org_id,
                             const std::string& id,
                             const std::string& name,
                             const Audit& audit) = 0;
    /// Deletes the site with its grants and bindings.
    virtual bool delete_site(const std::string& org_id,
                             const std::string& id,
                             const Audit& audit) = 0;

    /// The account's grants: stored ones, and one per binding of each group it is in,
    /// directly or through nesting (source scim_group, source_ref the group's id).
    virtual std::vector<Grant> grants_of(const std::string& org_id, const std::string& user_id) = 0;
    /// The same for several accounts at once.
    virtual std::map<std::string, std::vector<Grant>> grants_of_many(
        const std::string& org_id, const std::vector<std::string>& user_ids) = 0;
    /// Adds the grant, or changes the role and expiry of the grant of the same account,
    /// scope, source and source_ref.
    virtual void put_grant(const Grant& grant, const Audit& audit) = 0;
    /// Removes the grants of `user_id` at `site_id` ("" = organization) of `source` (all
    /// sources when nullopt); returns how many.
    virtual int revoke_grants(const std::string& org_id,
                              const std::string& user_id,
                              const std::string& site_id,
                              std::optional<GrantSource> source,
                              const Audit& audit) = 0;
    /// Makes the account's grants of `source` exactly `grants` (a sync replaces only its own
    /// source's grants).
    virtual void replace_source_grants(const std::string& org_id,
                                       const std::string& user_id,
                                       GrantSource source,
                                       const std::vector<Grant>& grants,
                                       const Audit& audit) = 0;
    /// Removes each grant of the organization that expired at or before `now`, with a
    /// grant.expired audit row (actor "system"); returns how many. Expired grants count for
    /// nothing whether or not this has run: it only tidies and writes the trail.
    virtual int record_expired_grants(const std::string& org_id, const std::string& now) = 0;
    /// Stored grants expiring after `from` and at or before `until`, soonest first.
    virtual std::vector<Grant> expiring_grants(const std::string& org_id,
                                               const std::string& from,
                                               const std::string& until) = 0;
    /// Active accounts with an unexpired organization owner grant at `now`.
    virtual long long count_active_owners(const std::string& org_id, const std::string& now) = 0;

    virtual std::vector<GroupRole> group_roles(const std::string& org_id,
                                               const std::string& group_id) = 0;
    /// Makes the group's manual bindings exactly `roles` (rule bindings stay).
    virtual void set_group_roles(const std::string& org_id,
                                 const std::string& group_id,
                                 const std::vector<GroupRole>& roles,
                                 const Audit& audit) = 0;

    virtual std::vector<NamingRule> naming_rules(const std::string& org_id) = 0;
    /// Stores the rule and re-applies the organization's rules to every group.
    virtual void insert_rule(const NamingRule& rule, const Audit& audit) = 0;
    virtual bool delete_rule(const std::string& org_id,
                             const std::string& id,
                             const Audit& audit) = 0;
};

/// API keys of accounts, for the admin API.
class ApiKeyRepository {
public:
    virtual ~ApiKeyRepository() = default;
    virtual void insert(const ApiKey& key, const Audit& audit) = 0;
    virtual std::optional<ApiKey> find_by_hash(const std::string& hash) = 0;
    virtual std::vector<ApiKey> list(const std::string& org_id) = 0;
    virtual bool revoke(const std::string& org_id,
                        const std::string& id,
                        const std::string& at,
                        const Audit& audit) = 0;
    virtual void touch(const std::string& id, const std::string& at) = 0;
};

/// Invitations and their mail. Every write records its audit entries and writes its mail to
/// the outbox in its own transaction.
class InvitationRepository {
public:
    virtual ~InvitationRepository() = default;
    /// Stores `invitation` with `mail`, unless the organization has a pending, unexpired
    /// invitation of the same email (case-insensitively) and scope: that one is returned
    /// then, and nothing is written. The bool says whether `invitation` was stored.
    virtual std::pair<Invitation, bool> create(const Invitation& invitation,
                                               const OutboxMail& mail,
                                               const Audit& audit) = 0;
    /// create() for each, all in one transaction (a bulk file): all are stored or none.
    virtual std::vector<std::pair<Invitation, bool>> create_many(
        const std::vector<std::pair<Invitation, OutboxMail>>& invitations, const Audit& audit) = 0;
    virtual std::optional<Invitation> find(const std::string& org_id, const std::string& id) = 0;
    /// Any organization's invitation, by the hash of its link's secret.
    virtual std::optional<Invitation> find_by_token(const std::string& token_hash) = 0;
    /// The organization's invitations, newest first; `status` "" for all, or pending,
    /// accepted, expired or cancelled as status_at(now) says; `email` "" for all.
    virtual std::vector<Invitation> list(const std::string& org_id,
                                         const std::string& status,
                                         const std::string& email,
                                         const std::string& now,
                                         std::size_t limit) = 0;
    /// A pending invitation (expired or not) gets a new link (`token_hash`), a new expiry
    /// and `mail`; the old link stops working. nullopt when there is no pending invitation
    /// with that id.
    virtual std::optional<Invitation> resend(const std::string& org_id,
                                             const std::string& id,
                                             const std::string& token_hash,
                                             const std::string& expires_at,
                                             const OutboxMail& mail,
                                             const Audit& audit) = 0;
    /// A pending invitation is cancelled at `at`: its link stops working at once. nullopt
    /// when there is no pending invitation with that id.
    virtual std::optional<Invitation> cancel(const std::string& org_id,
                                             const std::string& id,
                                             const std::string& at,
                                             const Audit& audit) = 0;
    /// In one transaction: the invitation, still pending and unexpired at `at` with this
    /// link, becomes accepted by `account`, which is inserted (expected_version 0), updated
    /// from that version (> 0) or left as it is (< 0: active already), and gets `grant` (none
    /// for an invitation that only confirms the address); an account held back by the
    /// policy "invite" gets its access. Throws
    /// Error::conflict when the link was used or changed meanwhile, and the account write's errors
    /// (seats, uniqueness).
    virtual void accept(const Invitation& invitation,
                        const std::string& at,
                        const UserRecord& account,
                        std::int64_t expected_version,
                        const std::optional<Grant>& grant,
                        const Audit& audit) = 0;
    /// The mail written for `ref_id`, newest first.
    virtual std::vector<OutboxMail> mail_of(const std::string& org_id,
                                            const std::string& ref_id) = 0;
};

/// Email domains of organizations. Every write records its audit entries.
class DomainRepository {
public:
    virtual ~DomainRepository() = default;
    /// Throws Error::uniqueness when the organization has the domain already.
    virtual void insert(const Domain& domain, const Audit& audit) = 0;
    virtual std::vector<Domain> list(const std::string& org_id) = 0;
    virtual std::optional<Domain> find(const std::string& org_id, const std::string& id) = 0;
    /// The organization's verified domain `domain`, if it has one.
    virtual std::optional<Domain> find_verified(const std::string& org_id,
                                                const std::string& domain) = 0;
    /// Marks the domain verified at `at`. Throws Error::uniqueness when another organization
    /// holds the domain verified.
    virtual bool mark_verified(const std::string& org_id,
                               const std::string& id,
                               const std::string& at,
                               const Audit& audit) = 0;
    /// Sets auto-provisioning and the default grant.
    virtual bool update_settings(const Domain& domain, const Audit& audit) = 0;
    virtual bool remove(const std::string& org_id, const std::string& id, const Audit& audit) = 0;
    /// The organization's policy for unverified domains and whether it has verified any.
    virtual DomainPolicy policy(const std::string& org_id) = 0;
    /// The verified domain `domain` of whichever organization holds it.
    virtual std::optional<Domain> find_verified_anywhere(const std::string& domain) = 0;
};

/// Self-registrations (DESIGN §3 public endpoints).
class SignupRepository {
public:
    virtual ~SignupRepository() = default;
    /// Stores the request with its confirmation mail.
    virtual void create(const Signup& signup, const OutboxMail& mail) = 0;
    virtual std::optional<Signup> find_by_token(const std::string& token_hash) = 0;
    /// In one transaction: the request, still pending and unexpired at `at`, is confirmed
    /// by inserting `account` with `grant`. Throws Error::conflict when it was confirmed
    /// meanwhile, and the account write's errors (seats, uniqueness).
    virtual void confirm(const Signup& signup,
                         const std::string& at,
                         const UserRecord& account,
                         const Grant& grant,
                         const Audit& audit) = 0;
};

/// The outbox, as its delivery worker sees it: across organizations.
class OutboxRepository {
public:
    virtual ~OutboxRepository() = default;
    /// Pending mail whose next attempt is due at `now`, oldest first.
    virtual std::vector<OutboxMail> due(const std::string& now, std::size_t limit) = 0;
    virtual void mark_sent(const std::string& id, const std::string& at) = 0;
    /// Records a failed attempt: the mail is tried again at `next_attempt_at`, or is dead
    /// when that is nullopt.
    virtual void mark_failed(const std::string& id,
                             const std::string& error,
                             const std::optional<std::string>& next_attempt_at) = 0;
};

/// The audit trail, read.
class AuditRepository {
public:
    virtual ~AuditRepository() = default;
    virtual Page<AuditEvent> list(const std::string& org_id, const AuditQuery& query) = 0;
    /// Records entries that go with no change (a refused privileged attempt).
    virtual void append(const std::string& org_id, const Audit& audit) = 0;
};

}  // namespace scimd::core
