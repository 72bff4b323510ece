#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include "scimd/core/clock.hpp"
#include "scimd/core/repositories.hpp"

namespace scimd::app {

/// How the outbox is delivered (`scimd serve --mail-transport …`).
struct MailConfig {
    std::string transport = "file";  ///< "file" (one .eml per mail under dir) or "smtp"
    std::string dir = "data/mail";
    std::string smtp_url;  ///< smtp://host:port or smtps://host:port
    std::string smtp_user;
    std::string smtp_password;
    /// Certificates to trust for the SMTP server's TLS; empty: the system's.
    std::string smtp_ca_file;
    long smtp_timeout_seconds = 30;  ///< one delivery attempt at most
    std::string from = "no-reply@scimd.localhost";
    int max_attempts = 5;  ///< then the mail is dead
};

/// The outbox's delivery worker: sends what is due, records each outcome, and retries a
/// failed mail with a backoff that doubles from one minute (at most an hour) until its last
/// attempt.
class Mailer {
public:
    Mailer(core::OutboxRepository& outbox, const core::Clock& clock, MailConfig config);

    /// Sends the mail that is due now; returns how many were sent. One delivery runs at a
    /// time, so that no mail is sent twice.
    int deliver_due();

    /// Throws std::invalid_argument with a one-line reason for a configuration that cannot
    /// work (an unknown transport, SMTP without a URL).
    static void check(const MailConfig& config);

private:
    void send(const core::OutboxMail& mail);

    core::OutboxRepository& outbox_;
    const core::Clock& clock_;
    MailConfig config_;
    std::mutex delivering_;
};

}  // namespace scimd::app
