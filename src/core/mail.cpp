#include "scimd/core/mail.hpp"

#include <utility>

namespace scimd::core {

namespace {

// "2026-12-05T09:30:00Z" → "2026-12-05 09:30 UTC".
std::string readable_time(const std::string& t) {
    if (t.size() < 16) {
        return t;
    }
    return t.substr(0, 10) + " " + t.substr(11, 5) + " UTC";
}

// A header value stays on its line: line breaks a value could carry are made spaces.
std::string one_line(std::string v) {
    for (char& c : v) {
        if (c == '\r' || c == '\n') {
            c = ' ';
        }
    }
    return v;
}

bool ascii(const std::string& v) {
    for (unsigned char c : v) {
        if (c >= 0x80) {
            return false;
        }
    }
    return true;
}

// RFC 2047 B-encoding of a header value that is not ASCII.
std::string encoded_word(const std::string& v) {
    if (ascii(v)) {
        return v;
    }
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < v.size(); i += 3) {
        const unsigned n = (static_cast<unsigned char>(v[i]) << 16) |
                           (static_cast<unsigned char>(v[i + 1]) << 8) |
                           static_cast<unsigned char>(v[i + 2]);
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += kAlphabet[(n >> 6) & 63];
        out += kAlphabet[n & 63];
    }
    if (i + 1 == v.size()) {
        const unsigned n = static_cast<unsigned char>(v[i]) << 16;
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += "==";
    } else if (i + 2 == v.size()) {
        const unsigned n =
            (static_cast<unsigned char>(v[i]) << 16) | (static_cast<unsigned char>(v[i + 1]) << 8);
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += kAlphabet[(n >> 6) & 63];
        out += '=';
    }
    return "=?UTF-8?B?" + out + "?=";
}

}  // namespace

MailText invitation_mail(const InvitationFacts& f) {
    const std::string where =
        f.site.empty() ? f.organization : f.site + " (" + f.organization + ")";
    MailText m;
    m.subject = f.inviter + " invited you to " + where;
    m.body = "Hello,\n\n" + f.inviter + " invited you to join " +
             (f.site.empty() ? "the organization " + f.organization
                             : "the site " + f.site + " of " + f.organization) +
             (f.role.empty() ? std::string() : " as " + f.role) + ".\n\n" +
             "Accept the invitation here:\n" + f.link + "\n\n" + "This link works until " +
             readable_time(f.expires_at) + "." +
             (f.resent ? " It replaces the link of the earlier mail, which no longer works." : "") +
             "\nIf it has expired, ask " + f.inviter + " to send the invitation again.\n\n" +
             "If you did not expect this invitation, you can ignore this mail.\n";
    return m;
}

MailText signup_mail(const std::string& organization,
                     const std::string& link,
                     const std::string& expires_at) {
    MailText m;
    m.subject = "Confirm your account at " + organization;
    m.body = "Hello,\n\nSomeone, probably you, asked for an account at " + organization +
             " with this address.\n\nConfirm it here:\n" + link + "\n\nThis link works until " +
             readable_time(expires_at) +
             ".\n\nIf you did not ask for an account, you can ignore this mail.\n";
    return m;
}

std::string rfc5322_message(const std::string& from,
                            const std::string& to,
                            const MailText& text,
                            const std::string& date,
                            const std::string& message_id) {
    std::string body;
    for (char c : text.body) {
        if (c == '\n') {
            body += "\r\n";
        } else if (c != '\r') {
            body += c;
        }
    }
    return "From: " + one_line(from) + "\r\nTo: " + one_line(to) +
           "\r\nSubject: " + encoded_word(one_line(text.subject)) + "\r\nDate: " + one_line(date) +
           "\r\nMessage-ID: <" + one_line(message_id) +
           ">\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\n" +
           body;
}

namespace {
std::string page(std::string public_url, const char* path, const std::string& secret) {
    while (!public_url.empty() && public_url.back() == '/') {
        public_url.pop_back();
    }
    return public_url + path + secret;
}
}  // namespace

std::string invitation_link(const std::string& public_url, const std::string& secret) {
    return page(public_url, "/invitations/accept?token=", secret);
}

std::string signup_link(const std::string& public_url, const std::string& secret) {
    return page(public_url, "/signup/confirm?token=", secret);
}

OutboxMail queued_mail(std::string id,
                       std::string org_id,
                       std::string kind,
                       std::string ref_id,
                       std::string recipient,
                       const MailText& text,
                       const std::string& at) {
    OutboxMail m;
    m.id = std::move(id);
    m.org_id = std::move(org_id);
    m.kind = std::move(kind);
    m.ref_id = std::move(ref_id);
    m.recipient = std::move(recipient);
    m.subject = text.subject;
    m.body = text.body;
    m.next_attempt_at = at;
    m.created_at = at;
    return m;
}

}  // namespace scimd::core
