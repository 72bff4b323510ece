#include "scimd/app/mailer.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "scimd/core/mail.hpp"
#include "scimd/util/smtp.hpp"

namespace scimd::app {

namespace {
constexpr std::size_t kBatch = 50;

// RFC 5322 date of a moment: "Sat, 28 Nov 2026 09:30:00 +0000".
std::string mail_date(std::chrono::system_clock::time_point t) {
    const std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    return buf;
}
}  // namespace

Mailer::Mailer(core::OutboxRepository& outbox, const core::Clock& clock, MailConfig config)
    : outbox_(outbox), clock_(clock), config_(std::move(config)) {}

void Mailer::check(const MailConfig& c) {
    if (c.transport != "file" && c.transport != "smtp") {
        throw std::invalid_argument("mail transport \"" + c.transport + "\" is not file or smtp");
    }
    if (c.transport == "smtp" && c.smtp_url.rfind("smtp://", 0) != 0 &&
        c.smtp_url.rfind("smtps://", 0) != 0) {
        throw std::invalid_argument(
            "SMTP delivery needs --smtp-url smtp://host:port or smtps://host:port");
    }
}

void Mailer::send(const core::OutboxMail& m) {
    const std::string message = core::rfc5322_message(
        config_.from, m.recipient, {m.subject, m.body}, mail_date(clock_.now()), m.id + "@scimd");
    if (config_.transport == "smtp") {
        util::smtp_send({config_.smtp_url, config_.smtp_user, config_.smtp_password,
                         config_.smtp_ca_file, config_.smtp_timeout_seconds},
                        config_.from, m.recipient, message);
        return;
    }
    namespace fs = std::filesystem;
    fs::create_directories(config_.dir);
    // Written aside, then renamed: a reader of the directory never sees half a mail.
    const fs::path final_path =
        fs::path(config_.dir) / (m.created_at.substr(0, 19) + "-" + m.id + ".eml");
    fs::path tmp = final_path;
    tmp += ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary);
        out << message;
        if (!out.flush()) {
            throw std::runtime_error("cannot write " + tmp.string());
        }
    }
    fs::rename(tmp, final_path);
}

int Mailer::deliver_due() {
    std::lock_guard one_at_a_time(delivering_);
    int sent = 0;
    for (const core::OutboxMail& m : outbox_.due(core::format_time(clock_.now()), kBatch)) {
        try {
            send(m);
            outbox_.mark_sent(m.id, core::format_time(clock_.now()));
            ++sent;
        } catch (const std::exception& e) {
            const int attempt = m.attempts + 1;
            std::optional<std::string> next;
            if (attempt < config_.max_attempts) {
                const auto wait = std::chrono::minutes(std::min(60, 1 << std::min(attempt - 1, 6)));
                next = core::format_time(clock_.now() + wait);
            }
            outbox_.mark_failed(m.id, e.what(), next);
        }
    }
    return sent;
}

}  // namespace scimd::app
