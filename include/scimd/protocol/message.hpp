#pragma once

#include <string>
#include <utility>
#include <vector>

namespace scimd::protocol {

/// A request as the http layer hands it over: no sockets, no Beast.
struct Request {
    std::string method;  ///< "GET", "POST", ...
    std::string target;  ///< path and query as received ("/scim/v2/Users?filter=...")
    std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased
    std::string body;
    std::string request_id;
    std::string remote;  ///< the client's address, for limits per client

    /// The first header of that (lower-case) name, or nullptr.
    const std::string* header(std::string_view name) const {
        for (const auto& [k, v] : headers) {
            if (k == name) {
                return &v;
            }
        }
        return nullptr;
    }
};

/// A response for the http layer to write.
struct Response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;  ///< Content-Type included
    std::string body;
    std::string org_id;  ///< the tenant the request was authenticated as, for the access log
};

}  // namespace scimd::protocol
