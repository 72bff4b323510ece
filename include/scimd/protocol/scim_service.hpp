#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "scimd/core/clock.hpp"
#include "scimd/core/repositories.hpp"
#include "scimd/error.hpp"
#include "scimd/protocol/message.hpp"
#include "scimd/protocol/schema.hpp"

namespace scimd::protocol {

/// Everything the SCIM endpoints need, injected by the app.
struct ScimContext {
    core::UserRepository& users;
    core::GroupRepository& groups;
    core::AccessRepository& access;
    core::TokenRepository& tokens;
    const core::Clock& clock;
    const SchemaRegistry& registry;
    std::string base_url;  ///< absolute SCIM base, e.g. "https://localhost:8443/scim/v2"
    /// How long a verified token is trusted without reading it again: revoking a token
    /// takes effect within this time. Zero reads the token on every request.
    std::chrono::milliseconds token_cache_ttl{std::chrono::seconds(5)};
    /// DESIGN §2 rule 6: the organization's policy for email domains it has not verified,
    /// and its verified domains' automatic provisioning. Without them, every domain is
    /// accepted and nothing is granted by domain.
    core::OrganizationRepository* orgs = nullptr;
    core::DomainRepository* domains = nullptr;
};

/// Values read recently, kept for a TTL so that requests don't each read them again: tokens
/// keyed by the hash of the secret (never the secret), organizations' domain policies by
/// organization id. A TTL of zero keeps nothing. Bounded; thread-safe.
template <typename V>
class TtlCache {
public:
    explicit TtlCache(std::chrono::milliseconds ttl) : ttl_(ttl) {}

    /// The value, if it was put less than the TTL ago.
    std::optional<V> get(const std::string& key) const {
        if (ttl_.count() <= 0) {
            return std::nullopt;
        }
        std::lock_guard lock(mutex_);
        auto it = entries_.find(key);
        if (it == entries_.end() || std::chrono::steady_clock::now() - it->second.second > ttl_) {
            return std::nullopt;
        }
        return it->second.first;
    }

    void put(const std::string& key, const V& value) const {
        if (ttl_.count() <= 0) {
            return;
        }
        std::lock_guard lock(mutex_);
        if (entries_.size() >= kMaxEntries) {
            entries_.clear();  // many distinct keys at once: start over rather than grow
        }
        entries_[key] = {value, std::chrono::steady_clock::now()};
    }

private:
    static constexpr std::size_t kMaxEntries = 10000;
    std::chrono::milliseconds ttl_;
    mutable std::mutex mutex_;
    mutable std::unordered_map<std::string, std::pair<V, std::chrono::steady_clock::time_point>>
        entries_;
};

using TokenCache = TtlCache<core::ScimToken>;
/// DESIGN §2 rule 6 reads an organization's domain policy on every account create; a plan or
/// domain change is seen within the TTL.
using PolicyCache = TtlCache<core::DomainPolicy>;

/// The path prefix the SCIM endpoints are served under.
inline constexpr std::string_view kScimPrefix = "/scim/v2";

/// The SCIM 2.0 endpoints (RFC 7644 §3): authentication by bearer token, Users, and the
/// discovery endpoints. Throws scimd::Error for every client-visible failure; the http
/// layer turns it into a response with error_response().
class ScimService {
public:
    explicit ScimService(ScimContext ctx)
        : ctx_(std::move(ctx)), tokens_(ctx_.token_cache_ttl), policies_(ctx_.token_cache_ttl) {}

    /// Handles a request whose path starts with kScimPrefix.
    Response handle(const Request& req) const;

private:
    ScimContext ctx_;
    TokenCache tokens_;
    PolicyCache policies_;
};

/// The RFC 7644 §3.12 body for an error, with a JSON media type chosen from `req`'s Accept.
/// 401 carries `WWW-Authenticate: Bearer`.
Response error_response(const Request& req, const Error& e);

/// `application/json` when Accept names only that, else `application/scim+json`.
std::string response_media_type(const Request& req);

}  // namespace scimd::protocol
