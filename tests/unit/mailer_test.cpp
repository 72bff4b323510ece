// The outbox's delivery worker (DESIGN §1 Outbox): a failed attempt is retried after a
// backoff that doubles from one minute, the last attempt leaves the mail dead, and a mail
// that goes out is marked sent; the file transport writes one RFC 5322 message per mail.
#include "scimd/app/mailer.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "scimd/core/mail.hpp"
#include "scimd/core/records.hpp"
#include "scimd/util/crypto.hpp"

namespace scimd::test {
namespace {

namespace chr = std::chrono;

class FixedClock final : public core::Clock {
public:
    chr::system_clock::time_point now() const override { return at; }
    chr::system_clock::time_point at = chr::sys_days(chr::year{2026} / chr::November / 28);
};

// An outbox of one mail that records what the worker says about it.
class OneMail final : public core::OutboxRepository {
public:
    std::vector<core::OutboxMail> due(const std::string&, std::size_t) override {
        return mail.status == "pending" ? std::vector<core::OutboxMail>{mail}
                                        : std::vector<core::OutboxMail>{};
    }
    void mark_sent(const std::string&, const std::string& at) override {
        mail.status = "sent";
        mail.sent_at = at;
        ++mail.attempts;
    }
    void mark_failed(const std::string&,
                     const std::string& error,
                     const std::optional<std::string>& next) override {
        ++mail.attempts;
        mail.last_error = error;
        if (next) {
            mail.next_attempt_at = *next;
        } else {
            mail.status = "dead";
        }
    }
    core::OutboxMail mail;
};

core::OutboxMail invitation_mail() {
    core::OutboxMail m;
    m.id = "6f1c2b1e-0000-4000-8000-000000000001";
    m.recipient = "kim@agency.example";
    m.subject = "Ann invited you to shop (Acme)";
    m.body = "Hello,\nline two\n";
    m.created_at = "2026-11-28T00:00:00.000Z";
    return m;
}

TEST(Mailer, FailedAttemptsBackOffThenTheMailIsDead) {
    FixedClock clock;
    OneMail outbox;
    outbox.mail = invitation_mail();
    app::MailConfig config;
    config.transport = "smtp";
    config.smtp_url = "smtp://127.0.0.1:1";  // nothing listens on port 1
    app::Mailer mailer(outbox, clock, config);
    const std::vector<int> waits{1, 2, 4, 8};  // minutes after attempts 1..4
    for (int wait : waits) {
        EXPECT_EQ(mailer.deliver_due(), 0);
        ASSERT_EQ(outbox.mail.status, "pending");
        EXPECT_EQ(outbox.mail.next_attempt_at, core::format_time(clock.at + chr::minutes(wait)));
        ASSERT_TRUE(outbox.mail.last_error.has_value());
        EXPECT_NE(outbox.mail.last_error->find("SMTP delivery failed"), std::string::npos)
            << *outbox.mail.last_error;
    }
    EXPECT_EQ(mailer.deliver_due(), 0);
    EXPECT_EQ(outbox.mail.status, "dead") << "the fifth failure is the last";
    EXPECT_EQ(outbox.mail.attempts, 5);
    EXPECT_EQ(mailer.deliver_due(), 0) << "a dead mail is not tried again";
    EXPECT_EQ(outbox.mail.attempts, 5);
}

TEST(Mailer, FileTransportWritesOneMessagePerMail) {
    FixedClock clock;
    OneMail outbox;
    outbox.mail = invitation_mail();
    app::MailConfig config;
    config.dir =
        (std::filesystem::temp_directory_path() / ("scimd-mail-" + util::uuid_v4())).string();
    config.from = "team@scimd.example";
    app::Mailer mailer(outbox, clock, config);
    EXPECT_EQ(mailer.deliver_due(), 1);
    EXPECT_EQ(outbox.mail.status, "sent");
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(config.dir)) {
        files.push_back(e.path());
    }
    ASSERT_EQ(files.size(), 1U);
    EXPECT_EQ(files[0].extension(), ".eml");
    std::ifstream in(files[0], std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    const std::string eml = text.str();
    EXPECT_NE(eml.find("From: team@scimd.example\r\n"), std::string::npos) << eml;
    EXPECT_NE(eml.find("To: kim@agency.example\r\n"), std::string::npos) << eml;
    EXPECT_NE(eml.find("Subject: Ann invited you to shop (Acme)\r\n"), std::string::npos) << eml;
    EXPECT_NE(eml.find("Date: Sat, 28 Nov 2026 00:00:00 +0000\r\n"), std::string::npos) << eml;
    EXPECT_NE(eml.find("\r\n\r\nHello,\r\nline two\r\n"), std::string::npos) << eml;
    EXPECT_EQ(mailer.deliver_due(), 0) << "sent once";
    std::filesystem::remove_all(config.dir);
}

TEST(Mailer, UnknownTransportsAndSmtpWithoutAUrlAreRefused) {
    app::MailConfig config;
    config.transport = "pigeon";
    EXPECT_THROW(app::Mailer::check(config), std::invalid_argument);
    config.transport = "smtp";
    EXPECT_THROW(app::Mailer::check(config), std::invalid_argument);
    config.smtp_url = "smtp://mail.example:587";
    EXPECT_NO_THROW(app::Mailer::check(config));
}

// The invitation mail names the organization, the site, the role, the inviter and the expiry.
TEST(InvitationMail, NamesEverythingThePersonNeeds) {
    const core::MailText site =
        core::invitation_mail({"Acme", "shop", "viewer", "Ann Admin", "2026-12-05T09:30:00.000Z",
                               "https://app.example/invitations/accept?token=t", false});
    EXPECT_EQ(site.subject, "Ann Admin invited you to shop (Acme)");
    for (const char* part : {"the site shop of Acme", "as viewer", "2026-12-05 09:30 UTC",
                             "https://app.example/invitations/accept?token=t", "ask Ann Admin"}) {
        EXPECT_NE(site.body.find(part), std::string::npos) << part << "\n" << site.body;
    }
    const core::MailText org = core::invitation_mail(
        {"Acme", "", "admin", "Ann Admin", "2026-12-05T09:30:00.000Z", "https://x/y", true});
    EXPECT_NE(org.body.find("the organization Acme as admin"), std::string::npos) << org.body;
    EXPECT_NE(org.body.find("replaces the link of the earlier mail"), std::string::npos);
    // A non-ASCII subject is encoded for the header.
    const std::string msg =
        core::rfc5322_message("a@b.example", "c@d.example", {"Zoë invited you", "x"}, "d", "id");
    EXPECT_NE(msg.find("Subject: =?UTF-8?B?"), std::string::npos) << msg;
}

// The links a mail carries point at the host application's pages, whatever trailing slashes
// its public URL was given with; a queued mail is due at once.
TEST(InvitationMail, LinksAndTheQueuedMail) {
    EXPECT_EQ(core::invitation_link("https://app.example//", "s1"),
              "https://app.example/invitations/accept?token=s1");
    EXPECT_EQ(core::signup_link("https://app.example/team", "s2"),
              "https://app.example/team/signup/confirm?token=s2");
    const core::OutboxMail m = core::queued_mail("m1", "o1", "signup", "r1", "kim@acme.example",
                                                 {"Subject", "Body"}, "2026-12-05T09:30:00.000Z");
    EXPECT_EQ(m.id, "m1");
    EXPECT_EQ(m.org_id, "o1");
    EXPECT_EQ(m.kind, "signup");
    EXPECT_EQ(m.ref_id, "r1");
    EXPECT_EQ(m.recipient, "kim@acme.example");
    EXPECT_EQ(m.subject, "Subject");
    EXPECT_EQ(m.body, "Body");
    EXPECT_EQ(m.status, "pending");
    EXPECT_EQ(m.attempts, 0);
    EXPECT_EQ(m.next_attempt_at, "2026-12-05T09:30:00.000Z");
    EXPECT_EQ(m.created_at, m.next_attempt_at);
}

// Expiry arithmetic: whole days of 24 hours in UTC from the moment the invitation is made
// (7 by default, at least 1), and an invitation is expired from its expiry on, with no job.
TEST(InvitationExpiry, WholeDaysFromNowAndExpiredFromTheExpiryOn) {
    const chr::system_clock::time_point made =
        chr::sys_days(chr::year{2026} / chr::March / 28) + chr::hours(23) + chr::minutes(30);
    EXPECT_EQ(core::invitation_expiry(made, 7), "2026-04-04T23:30:00.000Z");
    EXPECT_EQ(core::invitation_expiry(made, 30), "2026-04-27T23:30:00.000Z");
    EXPECT_EQ(core::invitation_expiry(made, 0), "2026-03-29T23:30:00.000Z") << "at least a day";
    core::Invitation inv;
    inv.expires_at = core::invitation_expiry(made, 7);
    EXPECT_EQ(inv.status_at("2026-04-04T23:29:59.999Z"), "pending");
    EXPECT_EQ(inv.status_at("2026-04-04T23:30:00.000Z"), "expired");
    inv.status = "accepted";
    EXPECT_EQ(inv.status_at("2027-01-01T00:00:00.000Z"), "accepted") << "only pending expires";
    inv.status = "cancelled";
    EXPECT_EQ(inv.status_at("2027-01-01T00:00:00.000Z"), "cancelled");
}

}  // namespace
}  // namespace scimd::test
