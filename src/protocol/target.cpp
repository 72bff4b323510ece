#include "scimd/protocol/target.hpp"

#include "scimd/error.hpp"
#include "scimd/protocol/schema.hpp"

namespace scimd::protocol {

const std::string* Query::get(std::string_view name) const {
    for (const auto& [k, v] : params) {
        if (iequals(k, name)) {
            return &v;
        }
    }
    return nullptr;
}

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// Percent-decodes once; a "%" not followed by two hex digits stays as it is.
std::string percent_decode(std::string_view s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
            hex_value(s[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
            i += 2;
        } else if (s[i] == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

}  // namespace

Target parse_target(const std::string& target) {
    Target t;
    const auto qmark = target.find('?');
    const std::string_view path = std::string_view(target).substr(0, qmark);
    if (path.empty() || path.front() != '/') {
        throw Error::bad_request("the request target must be an absolute path");
    }
    std::size_t pos = 1;
    while (pos <= path.size()) {
        auto end = path.find('/', pos);
        if (end == std::string_view::npos) {
            end = path.size();
        }
        t.segments.push_back(percent_decode(path.substr(pos, end - pos), false));
        pos = end + 1;
    }
    // Drop the /scim/v2 prefix and the empty segment of a trailing slash.
    if (t.segments.size() >= 2) {
        t.segments.erase(t.segments.begin(), t.segments.begin() + 2);
    }
    while (!t.segments.empty() && t.segments.back().empty()) {
        t.segments.pop_back();
    }
    if (qmark == std::string::npos) {
        return t;
    }
    const std::string_view query = std::string_view(target).substr(qmark + 1);
    // "+" means a space only in a query that does not spell spaces as %20 (form encoding);
    // otherwise it is a plus, as in "ann+tag@example.com".
    const bool plus_is_space = query.find("%20") == std::string_view::npos;
    pos = 0;
    while (pos <= query.size()) {
        auto end = query.find('&', pos);
        if (end == std::string_view::npos) {
            end = query.size();
        }
        const std::string_view pair = query.substr(pos, end - pos);
        pos = end + 1;
        // unknown and empty parameters are tolerated (Entra's ?aadOptscim062020, a
        // trailing "&" from OneLogin).
        if (pair.empty()) {
            continue;
        }
        const auto eq = pair.find('=');
        std::string key = percent_decode(pair.substr(0, eq), plus_is_space);
        std::string value =
            eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1), plus_is_space);
        if (!key.empty()) {
            t.query.params.emplace_back(std::move(key), std::move(value));
        }
    }
    return t;
}

}  // namespace scimd::protocol
