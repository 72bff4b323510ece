#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scimd::protocol {

/// The query parameters of a request, in order; names compared case-insensitively.
struct Query {
    std::vector<std::pair<std::string, std::string>> params;

    const std::string* get(std::string_view name) const;
};

/// A request target split into its path segments after the two-segment prefix (/scim/v2,
/// /api/v1), percent-decoded, and its query.
struct Target {
    std::vector<std::string> segments;
    Query query;
};

/// Splits by hand rather than with a strict URL parser: IdPs send raw brackets and quotes in
/// filters (`?filter=userName eq "bob"`), and a strict parser would refuse what every SCIM
/// client expects to work. Throws Error::bad_request for a target that is not a path.
Target parse_target(const std::string& target);

}  // namespace scimd::protocol
