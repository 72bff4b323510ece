#pragma once

#include <string>

#include "scimd/core/clock.hpp"
#include "scimd/core/repositories.hpp"
#include "scimd/error.hpp"
#include "scimd/protocol/message.hpp"
#include "scimd/protocol/schema.hpp"

namespace scimd::protocol {

/// Everything the SCIM endpoints need, injected by the app.
struct ScimContext {
    core::UserRepository& users;
    core::TokenRepository& tokens;
    const core::Clock& clock;
    const SchemaRegistry& registry;
    std::string base_url;  ///< absolute SCIM base, e.g. "https://localhost:8443/scim/v2"
};

/// The path prefix the SCIM endpoints are served under.
inline constexpr std::string_view kScimPrefix = "/scim/v2";

/// The SCIM 2.0 endpoints (RFC 7644 §3): authentication by bearer token, Users, and the
/// discovery endpoints. Throws scimd::Error for every client-visible failure; the http
/// layer turns it into a response with error_response().
class ScimService {
public:
    explicit ScimService(ScimContext ctx) : ctx_(std::move(ctx)) {}

    /// Handles a request whose path starts with kScimPrefix.
    Response handle(const Request& req) const;

private:
    ScimContext ctx_;
};

/// The RFC 7644 §3.12 body for an error, with a JSON media type chosen from `req`'s Accept.
/// 401 carries `WWW-Authenticate: Bearer`.
Response error_response(const Request& req, const Error& e);

/// `application/json` when Accept names only that, else `application/scim+json`.
std::string response_media_type(const Request& req);

}  // namespace scimd::protocol
