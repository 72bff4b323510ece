#pragma once

#include <optional>
#include <string>
#include <vector>

namespace scimd::core {

/// One access change as the audit trail records it.
struct AuditEntry {
    std::string action;       ///< "account.created", "grant.revoked", "group.member_added", …
    std::string target_type;  ///< "account", "group", "site", "grant", "token", "api_key", …
    std::string target_id;
    std::string before;  ///< JSON text of the state before, or empty
    std::string after;   ///< JSON text of the state after, or empty
};

/// Who makes a change, when, under which request, and the entries it records. A repository
/// write that takes an Audit writes its entries (and those it finds itself, such as each
/// member a membership change adds or removes) in the transaction of the change, so that no
/// change exists without its audit rows and no audit row without its change.
struct Audit {
    std::string actor = "system";  ///< "scim_token:<id>", "api_key:<id>", "cli", "system"
    std::string request_id;
    std::string at;  ///< format_time text
    std::vector<AuditEntry> entries;
};

/// A stored audit event.
struct AuditEvent {
    long long seq = 0;
    std::string org_id;
    std::string at;
    std::string actor;
    std::string action;
    std::string target_type;
    std::string target_id;
    std::string before;
    std::string after;
    std::string request_id;
};

/// What GET /api/v1/audit and `scimd audit` ask for; empty fields don't filter.
struct AuditQuery {
    std::optional<std::string> from, to;  ///< at >= from, at < to
    std::optional<std::string> actor, action, target_id;
    long long start_index = 1;
    long long count = 100;
};

}  // namespace scimd::core
