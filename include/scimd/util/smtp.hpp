#pragma once

#include <string>

namespace scimd::util {

/// Where and how SMTP delivery connects.
struct SmtpSettings {
    std::string
        url;  ///< smtp://host:port (STARTTLS when offered, required with a user) or smtps://
    std::string user;
    std::string password;
    std::string ca_file;  ///< certificates to trust for TLS; empty: the system's
    long timeout_seconds = 30;
};

/// Sends one RFC 5322 message through libcurl. Throws std::runtime_error with the server's or
/// the connection's reason when the mail is not accepted.
void smtp_send(const SmtpSettings& settings,
               const std::string& from_address,
               const std::string& to_address,
               const std::string& message);

}  // namespace scimd::util
