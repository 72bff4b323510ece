#pragma once

#include <cstddef>
#include <string>
#include <string_view>

/// Small cryptographic helpers over OpenSSL, shared by the layers that mint and check
/// secrets. A leaf: it depends on nothing of scimd.
namespace scimd::util {

/// `n` bytes from the OpenSSL CSPRNG. Throws std::runtime_error if it fails.
std::string random_bytes(std::size_t n);

/// A random (version 4) UUID in lower-case text form.
std::string uuid_v4();

/// Lower-case hex of the SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

/// base64url without padding (RFC 4648 §5).
std::string base64url(std::string_view data);

/// Equality that takes the same time wherever the inputs differ.
bool constant_time_equals(std::string_view a, std::string_view b) noexcept;

/// A new secret: `prefix` (recognizable to secret scanners) and 256 random bits, base64url.
std::string new_secret(std::string_view prefix);
}  // namespace scimd::util
