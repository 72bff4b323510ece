#include "scimd/util/pattern.hpp"

#include <re2/re2.h>

namespace scimd::util {

struct Pattern::Impl {
    explicit Impl(std::string_view p) : re(re2::StringPiece(p.data(), p.size()), options()) {}
    static RE2::Options options() {
        RE2::Options o;
        o.set_log_errors(false);
        o.set_max_mem(1 << 20);  // a rule's program stays small
        return o;
    }
    RE2 re;
};

std::optional<Pattern> Pattern::compile(std::string_view pattern, std::string& error) {
    auto impl = std::make_shared<const Impl>(pattern);
    if (!impl->re.ok()) {
        error = impl->re.error();
        return std::nullopt;
    }
    return Pattern(std::move(impl));
}

int Pattern::captures() const { return impl_->re.NumberOfCapturingGroups(); }

int Pattern::named(std::string_view name) const {
    const auto& groups = impl_->re.NamedCapturingGroups();
    const auto it = groups.find(std::string(name));
    return it == groups.end() ? 0 : it->second;
}

std::optional<std::vector<std::string>> Pattern::full_match(std::string_view text) const {
    const int n = captures() + 1;
    std::vector<re2::StringPiece> pieces(static_cast<std::size_t>(n));
    const re2::StringPiece input(text.data(), text.size());
    if (!impl_->re.Match(input, 0, input.size(), RE2::ANCHOR_BOTH, pieces.data(), n)) {
        return std::nullopt;
    }
    std::vector<std::string> out;
    out.reserve(pieces.size());
    for (const auto& p : pieces) {
        out.emplace_back(p.data() == nullptr ? "" : std::string(p.data(), p.size()));
    }
    return out;
}

}  // namespace scimd::util
