#pragma once

#include <string>

#include "scimd/core/records.hpp"

namespace scimd::core {

/// What an invitation mail says (DESIGN §1 Invitation): who invites whom to what, until when.
struct InvitationFacts {
    std::string organization;
    std::string site;  ///< empty: the whole organization
    std::string role;
    std::string inviter;
    std::string expires_at;  ///< format_time text
    std::string link;        ///< where the person accepts
    bool resent = false;
};

struct MailText {
    std::string subject;
    std::string body;
};

/// The mail that confirms a self-registration: it names the organization and the expiry.
MailText signup_mail(const std::string& organization,
                     const std::string& link,
                     const std::string& expires_at);

/// The invitation mail: it names the organization, the site (for a site invitation), the
/// role, the inviter and the expiry.
MailText invitation_mail(const InvitationFacts& facts);

/// Where a person accepts an invitation, and confirms a sign-up: pages of the host
/// application at `public_url` (trailing slashes ignored) that carry the secret to the
/// public endpoints.
std::string invitation_link(const std::string& public_url, const std::string& secret);
std::string signup_link(const std::string& public_url, const std::string& secret);

/// `text` to `recipient` as a mail of the outbox, due at `at`: `kind` ("invitation",
/// "signup") and `ref_id` name what it was sent for.
OutboxMail queued_mail(std::string id,
                       std::string org_id,
                       std::string kind,
                       std::string ref_id,
                       std::string recipient,
                       const MailText& text,
                       const std::string& at);

/// A mail as an RFC 5322 message (CRLF line ends, UTF-8 text body), for the file drop and
/// SMTP. `message_id` is made unique by the caller.
std::string rfc5322_message(const std::string& from,
                            const std::string& to,
                            const MailText& text,
                            const std::string& date_rfc5322,
                            const std::string& message_id);

}  // namespace scimd::core
