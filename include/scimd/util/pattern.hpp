#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scimd::util {

/// A regular expression matched in linear time (RE2): patterns written by a tenant's admin
/// run on every group create and rename, and a backtracking engine would let one pattern
/// such as ^(a+)+$ stall a server thread. RE2's syntax is ECMAScript's without
/// backreferences and lookaround; named groups are written (?P<name>…) or (?<name>…).
class Pattern {
public:
    /// nullopt and `error` set when the pattern does not compile.
    static std::optional<Pattern> compile(std::string_view pattern, std::string& error);

    /// The number of capturing groups.
    int captures() const;
    /// The index of the named group, or 0 when there is none.
    int named(std::string_view name) const;
    /// When the whole of `text` matches: the captures, [0] being the whole text.
    std::optional<std::vector<std::string>> full_match(std::string_view text) const;

private:
    struct Impl;
    explicit Pattern(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
    std::shared_ptr<const Impl> impl_;
};

}  // namespace scimd::util
