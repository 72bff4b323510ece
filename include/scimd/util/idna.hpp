#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace scimd::util {

/// The ASCII form of a UTF-8 domain name, its non-ASCII labels as A-labels ("xn--…",
/// RFC 5891 §4), by IDNA2008 with UTS #46 non-transitional processing (libidn2): the name
/// is mapped (case folded, NFC) first, so "Bücher.example" → "xn--bcher-kva.example" and
/// "faß.de" → "xn--fa-hia.de". nullopt when libidn2 refuses the name (invalid UTF-8,
/// disallowed code points, a label over 63 bytes, …) or it holds a NUL. Checks no hostname
/// syntax beyond what IDNA requires: the caller does.
std::optional<std::string> to_ascii_domain(std::string_view utf8);

}  // namespace scimd::util
