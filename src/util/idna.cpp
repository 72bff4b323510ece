#include "scimd/util/idna.hpp"

#include <memory>

#include <idn2.h>

namespace scimd::util {

namespace {

struct Idn2Free {
    void operator()(char* p) const noexcept { idn2_free(p); }
};

}  // namespace

std::optional<std::string> to_ascii_domain(std::string_view utf8) {
    // libidn2 reads a NUL-terminated string: an embedded NUL would cut the name short, and
    // the rest would then pass unchecked.
    if (utf8.find('\0') != std::string_view::npos) {
        return std::nullopt;
    }
    const std::string input(utf8);
    char* raw = nullptr;
    // Non-transitional: ß, ς and the joiners keep their IDNA2008 meaning instead of being
    // mapped to "ss", "σ" and nothing, as browsers and registries now do.
    const int rc = idn2_to_ascii_8z(input.c_str(), &raw, IDN2_NONTRANSITIONAL);
    const std::unique_ptr<char, Idn2Free> output(raw);
    if (rc != IDN2_OK || output == nullptr) {
        return std::nullopt;
    }
    return std::string(output.get());
}

}  // namespace scimd::util
