#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "scimd/core/clock.hpp"
#include "scimd/core/repositories.hpp"
#include "scimd/protocol/message.hpp"

namespace scimd::api {

/// The path prefix of the admin API.
inline constexpr std::string_view kAdminPrefix = "/api/v1";

/// What the admin API works with.
struct AdminContext {
    core::OrganizationRepository& orgs;
    core::UserRepository& users;
    core::GroupRepository& groups;
    core::AccessRepository& access;
    core::TokenRepository& tokens;
    core::ApiKeyRepository& api_keys;
    core::AuditRepository& audit;
    core::InvitationRepository& invitations;
    core::DomainRepository& domains;
    core::SignupRepository& signups;
    const core::Clock& clock;
    /// Where invitation links point: `<public_url>/invitations/accept?token=…`, the page of
    /// the host application that calls the public accept endpoint.
    std::string public_url;
    /// The TXT records of a DNS name (domain verification); throws std::runtime_error when
    /// the question cannot be answered.
    std::function<std::vector<std::string>(const std::string&)> txt_records;
};

/// The admin REST API (DESIGN §3): JSON in and out, a bearer API key of an account, every
/// call authorized in core by that account's effective access (DESIGN §2). Errors are
/// `{"code": "…", "message": "…"}` with a stable code; bodies with unknown fields are
/// refused. A refused privileged attempt is recorded in the audit trail.
/// Counts requests per key in fixed windows, in memory; at most 100,000 keys are kept
/// (the oldest windows are dropped first when more come).
class RateLimit {
public:
    RateLimit(std::size_t per_window, std::chrono::seconds window)
        : per_window_(per_window), window_(window) {}
    /// Whether one more request of `key` at `now` is within the limit; counts it if so.
    bool allow(const std::string& key, std::chrono::system_clock::time_point now);

private:
    std::size_t per_window_;
    std::chrono::seconds window_;
    std::mutex m_;
    std::map<std::string, std::pair<std::chrono::system_clock::time_point, std::size_t>> counts_;
};

/// The limits of the endpoints that take no credentials.
struct PublicLimits {
    RateLimit signups_per_address{3, std::chrono::hours(1)};
    RateLimit signups_per_client{20, std::chrono::hours(1)};
};

class AdminApi {
public:
    explicit AdminApi(AdminContext ctx) : ctx_(ctx) {}

    /// Handles a request whose path starts with kAdminPrefix. Never throws.
    protocol::Response handle(const protocol::Request& req) const;

    /// Handles a request as `actor` of the organization `org_id` instead of the holder of an
    /// API key (the command line: `scimd invite --csv`). Never throws.
    protocol::Response handle_as(const core::Actor& actor,
                                 const std::string& org_id,
                                 const protocol::Request& req) const;

private:
    static protocol::Response answer(const std::function<protocol::Response()>& run);

    AdminContext ctx_;
    mutable PublicLimits limits_;
};

/// The prefix of the endpoints that take no API key: invitation lookup and acceptance.
inline constexpr std::string_view kPublicPrefix = "/api/v1/public/";

/// The API key secret's prefix: "scimdk_".
inline constexpr std::string_view kApiKeyPrefix = "scimdk_";

}  // namespace scimd::api
