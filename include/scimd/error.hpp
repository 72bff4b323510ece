#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace scimd {

/// The `scimType` values of RFC 7644 §3.12 (table 9).
enum class ScimType {
    kNone,
    kInvalidFilter,
    kTooMany,
    kUniqueness,
    kMutability,
    kInvalidSyntax,
    kInvalidPath,
    kNoTarget,
    kInvalidValue,
    kInvalidVers,
    kSensitive,
};

/// The wire spelling of a scimType ("invalidFilter", ...); empty for kNone.
std::string_view to_string(ScimType type) noexcept;

/// The one error type of scimd. core, protocol and store throw it; http turns it into an
/// RFC 7644 §3.12 body in exactly one place. detail() goes to the client: never SQL, file
/// paths or secrets.
class Error : public std::runtime_error {
public:
    Error(int status, ScimType type, std::string detail)
        : std::runtime_error(detail), status_(status), type_(type), detail_(std::move(detail)) {}

    static Error invalid_syntax(std::string d) {
        return {400, ScimType::kInvalidSyntax, std::move(d)};
    }
    static Error invalid_value(std::string d) {
        return {400, ScimType::kInvalidValue, std::move(d)};
    }
    static Error invalid_filter(std::string d) {
        return {400, ScimType::kInvalidFilter, std::move(d)};
    }
    static Error invalid_path(std::string d) { return {400, ScimType::kInvalidPath, std::move(d)}; }
    static Error no_target(std::string d) { return {400, ScimType::kNoTarget, std::move(d)}; }
    static Error mutability(std::string d) { return {400, ScimType::kMutability, std::move(d)}; }
    static Error invalid_vers(std::string d) { return {400, ScimType::kInvalidVers, std::move(d)}; }
    static Error too_many(std::string d) { return {400, ScimType::kTooMany, std::move(d)}; }
    static Error uniqueness(std::string d) { return {409, ScimType::kUniqueness, std::move(d)}; }
    static Error bad_request(std::string d) { return {400, ScimType::kNone, std::move(d)}; }
    static Error unauthorized(std::string d) { return {401, ScimType::kNone, std::move(d)}; }
    static Error forbidden(std::string d) { return {403, ScimType::kNone, std::move(d)}; }
    static Error not_found(std::string d) { return {404, ScimType::kNone, std::move(d)}; }
    static Error conflict(std::string d) { return {409, ScimType::kNone, std::move(d)}; }
    static Error precondition_failed(std::string d) { return {412, ScimType::kNone, std::move(d)}; }
    static Error unavailable(std::string d) { return {503, ScimType::kNone, std::move(d)}; }

    int status() const noexcept { return status_; }
    ScimType scim_type() const noexcept { return type_; }
    const std::string& detail() const noexcept { return detail_; }

private:
    int status_;
    ScimType type_;
    std::string detail_;
};

}  // namespace scimd
