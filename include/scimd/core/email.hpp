#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace scimd::core {

/// An email address in the form scimd stores and compares, or nullopt when it is not one.
/// Accepts the practical subset of RFC 5321 §4.1.2 that mailbox providers hand out:
/// surrounding whitespace is trimmed; the local part is 1–64 characters of atext
/// (RFC 5322 §3.2.3: letters, digits and !#$%&'*+-/=?^_`{|}~) and dots, with no leading,
/// trailing or doubled dot (no quoted strings, no comments); one '@'; the domain as
/// normalize_domain accepts it; 254 characters at most in all (RFC 5321 §4.5.3.1.3 with
/// the path's angle brackets removed). The domain is lower-cased and converted to ASCII;
/// the local part is kept as given, since RFC 5321 §2.4 lets its case matter.
std::optional<std::string> normalize_email(std::string_view email);

/// The domain of an address that normalize_email returned: what follows its '@' ("" when
/// there is none).
std::string email_domain(std::string_view normalized_email);

/// A DNS host name in the form scimd stores and compares, or nullopt when it is not one:
/// whitespace trimmed, one trailing dot removed, lower-cased, and a name with non-ASCII
/// characters converted to A-labels ("Bücher.example" → "xn--bcher-kva.example", see
/// util::to_ascii_domain; an ASCII name, "xn--" labels included, is kept as written). Then
/// it must have two labels or more, each 1–63 characters of
/// [a-z0-9-] neither starting nor ending with '-' (RFC 1123 §2.1), 253 characters at most,
/// and a last label that is not all digits (an IP address is not a domain).
std::optional<std::string> normalize_domain(std::string_view domain);

/// Whether a domain that normalize_domain returned belongs to a public mailbox provider
/// (gmail.com, outlook.com, …), where anyone can get an address, so that an address there
/// proves no affiliation with an organization. Exact match: subdomains of a listed domain
/// are not listed. The list is src/core/public_mailbox_domains.txt, compiled in.
bool is_public_mailbox_domain(std::string_view normalized_domain);

}  // namespace scimd::core
