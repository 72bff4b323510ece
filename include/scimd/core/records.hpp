#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scimd/core/access.hpp"
#include "scimd/core/filter.hpp"

namespace scimd::core {

/// An organization (tenant). Every other record carries its id.
/// What an organization's plan allows. Set by operators (`scimd org update`); no API of the
/// organization can change its own.
struct Plan {
    std::optional<long long> seat_limit;  ///< active accounts at most; nullopt: unlimited
    std::vector<std::string> features;    ///< "domain_provisioning", "bulk_invite"
    std::string unverified_domain_policy = "invite";  ///< "invite", "allow" or "reject"
    int invitation_days = 7;                          ///< how long an invitation link works

    bool has(std::string_view feature) const {
        for (const auto& f : features) {
            if (f == feature) {
                return true;
            }
        }
        return false;
    }
};

struct Organization {
    std::string id;
    std::string name;
    std::string created;
    Plan plan;
};

/// An invitation to join an organization (site_id empty) or one site with a role. The
/// stored status is pending, accepted or cancelled; a pending invitation past expires_at is
/// expired (status_at), with no job needed to say so.
struct Invitation {
    std::string id;
    std::string org_id;
    std::string email;
    std::string site_id;  ///< empty: the organization
    std::string role;     ///< role_name() of a core::Role
    std::string status = "pending";
    std::string token_hash;  ///< SHA-256 of the link's secret; the secret is never stored
    std::string created_by;  ///< the actor, as in the audit trail
    std::string inviter;     ///< who invited, as the mail and the lookup name them
    std::string created_at;
    std::string expires_at;
    int resent_count = 0;
    std::optional<std::string> accepted_at;
    std::optional<std::string> accepted_user_id;
    std::optional<std::string> cancelled_at;

    std::string status_at(std::string_view now) const {
        return status == "pending" && expires_at <= now ? std::string("expired") : status;
    }
};

/// When an invitation made at `now` stops working: `days` (the plan's invitation_days, at
/// least 1) whole days later, as format_time writes it.
std::string invitation_expiry(std::chrono::system_clock::time_point now, int days);

/// A mail to send, written in the transaction of the change that sends it (the outbox);
/// the delivery worker moves it to sent, or to dead after its last attempt.
struct OutboxMail {
    std::string id;
    std::string org_id;
    std::string kind;    ///< "invitation", "signup"
    std::string ref_id;  ///< the invitation's (or sign-up's) id
    std::string recipient;
    std::string subject;
    std::string body;
    std::string status = "pending";  ///< pending, sent, dead
    int attempts = 0;
    std::string next_attempt_at;
    std::optional<std::string> last_error;
    std::string created_at;
    std::optional<std::string> sent_at;
};

/// One email of an account, extracted from the document for indexed lookups.
struct EmailRecord {
    std::string value;
    std::string type;
    bool primary = false;
};

/// An account (SCIM User) as stored: the canonical SCIM document plus the extracted columns
/// that are searched and kept unique.
struct UserRecord {
    std::string org_id;
    std::string id;
    std::string user_name;  ///< original casing; unique per org case-insensitively
    std::optional<std::string> external_id;
    std::optional<std::string> display_name;
    bool active = true;
    std::vector<EmailRecord> emails;
    std::string document;  ///< canonical JSON of the client-managed attributes (no id, no meta)
    std::int64_t version = 0;
    std::string created;        ///< RFC 3339, see format_time
    std::string last_modified;  ///< RFC 3339
    bool in_groups = false;     ///< read: the account is a member of some group
    /// write: when set, the account's grants of source scim_roles become exactly these, in
    /// the transaction of the write (the User `roles` attribute and the access extension).
    std::optional<std::vector<Grant>> role_grants;
    /// write: when set, the account's grants of source domain_default become exactly these
    /// (the default grant of a verified domain with automatic provisioning).
    std::optional<std::vector<Grant>> domain_grants;
    /// write: the IdP that manages the account ("scim_token:<id>"); an update that leaves it
    /// empty keeps what is stored. Accounts that invitations, sign-ups or the command line
    /// made have none until an IdP adopts them.
    std::optional<std::string> managed_by;
    /// An account that the policy "invite" holds back (DESIGN §2 rule 6): no access until the
    /// person accepts `invitation`, which the insert writes (with its mail) in its transaction.
    bool access_pending = false;
    std::optional<std::pair<Invitation, OutboxMail>> invitation;
};

/// A member of a group as returned: a User or a Group of the same organization.
struct MemberRef {
    std::string value;    ///< the member's id
    std::string type;     ///< "User" or "Group"
    std::string display;  ///< its displayName (a User without one: its userName)
};

/// A group (SCIM Group) as stored: its document without members, the extracted columns, and
/// its members, which are rows of their own (one per member) and read only when asked for.
struct GroupRecord {
    std::string org_id;
    std::string id;
    std::string display_name;  ///< unique per org case-insensitively
    std::optional<std::string> external_id;
    std::string document;  ///< canonical JSON of the client-managed attributes but members
    std::int64_t version = 0;
    std::string created;
    std::string last_modified;
    std::vector<MemberRef> members;  ///< filled only when the caller asks for members
};

/// A change of a group's members, applied in the write that records it. Its cost is the
/// size of the change, never the size of the group.
struct MembershipChange {
    bool replace_all = false;         ///< the members become exactly `add`
    std::vector<std::string> add;     ///< ids of Users or Groups; already members are kept
    std::vector<std::string> remove;  ///< ids; absent members are ignored (R-48)

    bool empty() const { return !replace_all && add.empty() && remove.empty(); }
};

/// A group an account or group belongs to, directly or through nested groups.
struct GroupMembership {
    std::string id;
    std::string display_name;
    bool direct = false;
};

/// When an account last signed in, for access reviews.
struct SignIn {
    std::string id;
    std::string user_name;
    std::optional<std::string> last_sign_in;  ///< nullopt: never
};

/// An email domain of an organization (DESIGN §1 Domain). It counts only once verified: the
/// DNS TXT record `scimd-verification=<token>` at the domain was seen. Verified domains
/// with auto_provision give their accounts the default grant (never owner).
struct Domain {
    std::string id;
    std::string org_id;
    std::string domain;  ///< normalized: lower case, ASCII (IDNA)
    std::string token;
    std::optional<std::string> verified_at;
    bool auto_provision = false;
    std::string default_site_id;  ///< empty: the organization
    std::string default_role = "viewer";
    std::string created_at;
    std::string created_by;

    std::string txt_record() const { return "scimd-verification=" + token; }
};

/// The grant a verified domain with automatic provisioning gives an account of it (source
/// domain_default, never owner), made at `at`.
Grant domain_grant(const Domain& domain, std::string grant_id, std::string user_id, std::string at);

/// What an account's email domain decides at an organization (DESIGN §2 rule 6): its policy
/// for unverified domains, and whether it has verified any domain at all.
struct DomainPolicy {
    std::string unverified_domain_policy = "invite";
    bool any_verified = false;
};

/// A self-registration on a verified domain with automatic provisioning: pending until its
/// link is followed (confirmed) or expires.
struct Signup {
    std::string id;
    std::string org_id;
    std::string domain_id;
    std::string email;
    std::string name;
    std::string token_hash;
    std::string status = "pending";  ///< pending, confirmed
    std::string created_at;
    std::string expires_at;
};

/// What a list request asks of a repository. The filter and sort are already resolved
/// against the schemas; the repository translates them to its query language.
struct ListQuery {
    const Filter* filter = nullptr;
    std::optional<SortSpec> sort;
    std::int64_t start_index = 1;  ///< 1-based
    std::int64_t count = 100;      ///< 0 asks for totalResults only
};

template <typename T>
struct Page {
    std::int64_t total = 0;
    std::vector<T> items;
};

/// A SCIM bearer token. Only the SHA-256 of the secret is stored.
struct ScimToken {
    std::string id;
    std::string org_id;
    std::string name;
    std::string hash;  ///< hex SHA-256 of the secret
    std::string created;
    std::optional<std::string> expires;
    std::optional<std::string> revoked;
    std::optional<std::string> last_used;
};

}  // namespace scimd::core
