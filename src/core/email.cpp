#include "scimd/core/email.hpp"

#include <algorithm>
#include <cstddef>
#include <vector>

#include "scimd/util/idna.hpp"

namespace scimd::core {

// Generated at build time from src/core/public_mailbox_domains.txt (cmake/embed_text.cmake).
std::string_view embedded_public_mailbox_domains();

namespace {

constexpr std::size_t kMaxEmail = 254;
constexpr std::size_t kMaxLocalPart = 64;
constexpr std::size_t kMaxDomain = 253;
constexpr std::size_t kMaxLabel = 63;
// Longer input is refused before IDNA conversion: no name that long converts to 253 bytes.
constexpr std::size_t kMaxDomainInput = 1024;

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_space(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

// ASCII only: the bytes of a UTF-8 multi-byte sequence are all >= 0x80 and pass unchanged.
std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c); }

// RFC 5322 §3.2.3.
bool is_atext(char c) {
    constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~";
    return is_alnum(c) || kSpecials.find(c) != std::string_view::npos;
}

// A dot-atom of RFC 5322 §3.2.3 of 1–64 characters (RFC 5321 §4.5.3.1.1).
bool valid_local_part(std::string_view local) {
    if (local.empty() || local.size() > kMaxLocalPart || local.front() == '.' ||
        local.back() == '.') {
        return false;
    }
    char prev = '\0';
    for (const char c : local) {
        if (c == '.' ? prev == '.' : !is_atext(c)) {
            return false;
        }
        prev = c;
    }
    return true;
}

// RFC 1123 §2.1, lower case.
bool valid_label(std::string_view label) {
    if (label.empty() || label.size() > kMaxLabel || label.front() == '-' || label.back() == '-') {
        return false;
    }
    return std::all_of(label.begin(), label.end(),
                       [](char c) { return (c >= 'a' && c <= 'z') || is_digit(c) || c == '-'; });
}

bool valid_host_name(std::string_view name) {
    if (name.size() > kMaxDomain) {
        return false;
    }
    std::size_t labels = 0;
    std::string_view last;
    std::size_t start = 0;
    for (;;) {
        const std::size_t dot = name.find('.', start);
        const std::string_view label = name.substr(
            start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (!valid_label(label)) {
            return false;
        }
        ++labels;
        last = label;
        if (dot == std::string_view::npos) {
            break;
        }
        start = dot + 1;
    }
    // An all-digit top-level label makes "10.0.0.1" a name; no TLD is all digits.
    return labels >= 2 && !std::all_of(last.begin(), last.end(), is_digit);
}

const std::vector<std::string>& public_mailbox_domains() {
    static const std::vector<std::string> domains = [] {
        std::vector<std::string> out;
        std::string_view text = embedded_public_mailbox_domains();
        while (!text.empty()) {
            const std::size_t nl = text.find('\n');
            std::string_view line = text.substr(0, nl);
            text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
            line = trim(line.substr(0, line.find('#')));
            if (!line.empty()) {
                out.push_back(lower(line));
            }
        }
        std::sort(out.begin(), out.end());
        return out;
    }();
    return domains;
}

}  // namespace

std::optional<std::string> normalize_email(std::string_view email) {
    email = trim(email);
    const std::size_t at = email.find('@');
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    const std::string_view local = email.substr(0, at);
    const std::string_view domain_part = email.substr(at + 1);
    // normalize_domain trims and drops a trailing dot; an address has neither there.
    if (!valid_local_part(local) || domain_part.empty() || is_space(domain_part.front()) ||
        domain_part.back() == '.') {
        return std::nullopt;
    }
    const std::optional<std::string> domain = normalize_domain(domain_part);
    if (!domain) {
        return std::nullopt;  // a second '@' lands here too: it is no host name character
    }
    std::string out;
    out.reserve(local.size() + 1 + domain->size());
    out.append(local).append(1, '@').append(*domain);
    if (out.size() > kMaxEmail) {
        return std::nullopt;
    }
    return out;
}

std::string email_domain(std::string_view normalized_email) {
    const std::size_t at = normalized_email.rfind('@');
    return at == std::string_view::npos ? std::string()
                                        : std::string(normalized_email.substr(at + 1));
}

std::optional<std::string> normalize_domain(std::string_view domain) {
    domain = trim(domain);
    if (!domain.empty() && domain.back() == '.') {
        domain.remove_suffix(1);
    }
    if (domain.empty() || domain.size() > kMaxDomainInput) {
        return std::nullopt;
    }
    std::string name = lower(domain);
    const bool ascii = std::all_of(name.begin(), name.end(),
                                   [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    if (!ascii) {
        std::optional<std::string> converted = util::to_ascii_domain(name);
        if (!converted) {
            return std::nullopt;
        }
        name = lower(*converted);
    }
    if (!valid_host_name(name)) {
        return std::nullopt;
    }
    return name;
}

bool is_public_mailbox_domain(std::string_view normalized_domain) {
    const std::vector<std::string>& domains = public_mailbox_domains();
    const auto it = std::lower_bound(domains.begin(), domains.end(), normalized_domain,
                                     [](const std::string& entry, std::string_view value) {
                                         return std::string_view(entry) < value;
                                     });
    return it != domains.end() && std::string_view(*it) == normalized_domain;
}

}  // namespace scimd::core
