#include "scimd/core/email.hpp"

#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "scimd/util/idna.hpp"

namespace scimd::core {
namespace {

using Normalized = std::optional<std::string>;

// --- normalize_domain ------------------------------------------------------------------------

TEST(DomainTest, NormalizesCaseSpaceAndTrailingDot) {
    EXPECT_EQ(normalize_domain("acme.example"), Normalized("acme.example"));
    EXPECT_EQ(normalize_domain("  ACME.Example \t"), Normalized("acme.example"));
    EXPECT_EQ(normalize_domain("acme.example."), Normalized("acme.example"));
    EXPECT_EQ(normalize_domain("Mail.Acme.co.uk"), Normalized("mail.acme.co.uk"));
    EXPECT_EQ(normalize_domain("a-b.c0.example"), Normalized("a-b.c0.example"));
    EXPECT_EQ(normalize_domain("163.com"), Normalized("163.com"));  // digits are fine but last
}

TEST(DomainTest, ConvertsInternationalizedNamesToALabels) {
    EXPECT_EQ(normalize_domain("Bücher.example"), Normalized("xn--bcher-kva.example"));
    EXPECT_EQ(normalize_domain("BÜCHER.EXAMPLE."), Normalized("xn--bcher-kva.example"));
    // Decomposed input (u + combining diaeresis) is normalized to NFC first.
    EXPECT_EQ(normalize_domain("Bu\xCC\x88"
                               "cher.example"),
              Normalized("xn--bcher-kva.example"));
    EXPECT_EQ(normalize_domain("münchen.de"), Normalized("xn--mnchen-3ya.de"));
    // Non-transitional: ß stays ß instead of becoming "ss".
    EXPECT_EQ(normalize_domain("faß.de"), Normalized("xn--fa-hia.de"));
    // An A-label is kept as written.
    EXPECT_EQ(normalize_domain("XN--BCHER-KVA.example"), Normalized("xn--bcher-kva.example"));
}

TEST(DomainTest, RefusesInvalidNames) {
    for (const std::string_view bad : {
             "",
             " ",
             ".",
             "localhost",  // one label
             "acme.",      // one label once the dot is gone
             ".acme.example",
             "acme..example",
             "acme.example..",
             "-acme.example",
             "acme-.example",
             "acme.-example",
             "acme_x.example",
             "acme example.com",
             "acme.example/path",
             "ann@acme.example",
             "*.acme.example",
             "[::1]",
             "::1",
             "\xFF.example",  // not UTF-8
             "☃.example",     // IDNA2008 disallows symbols
         }) {
        EXPECT_EQ(normalize_domain(bad), std::nullopt) << "input: " << bad;
    }
    EXPECT_EQ(normalize_domain(std::string_view("acme\0.example", 13)), std::nullopt);
    EXPECT_EQ(normalize_domain(std::string_view("bü\0.example", 12)), std::nullopt);
}

TEST(DomainTest, RefusesIpAddresses) {
    EXPECT_EQ(normalize_domain("192.168.0.1"), std::nullopt);
    EXPECT_EQ(normalize_domain("10.0.0.1."), std::nullopt);
    EXPECT_EQ(normalize_domain("acme.123"), std::nullopt);
    EXPECT_EQ(normalize_domain("1.2"), std::nullopt);
    EXPECT_EQ(normalize_domain("acme.1x"), Normalized("acme.1x"));  // not all digits
}

TEST(DomainTest, EnforcesLabelAndNameLengths) {
    const std::string label63(63, 'a');
    EXPECT_EQ(normalize_domain(label63 + ".example"), Normalized(label63 + ".example"));
    EXPECT_EQ(normalize_domain(label63 + "a.example"), std::nullopt);

    const std::string name253 =
        label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
    ASSERT_EQ(name253.size(), 253u);
    EXPECT_EQ(normalize_domain(name253), Normalized(name253));
    EXPECT_EQ(normalize_domain(name253 + "."), Normalized(name253));  // the root dot is free
    EXPECT_EQ(normalize_domain(name253 + "b"), std::nullopt);
}

// --- util::to_ascii_domain -------------------------------------------------------------------

TEST(IdnaTest, ConvertsThroughLibidn2) {
    EXPECT_EQ(util::to_ascii_domain("Bücher.example"), Normalized("xn--bcher-kva.example"));
    EXPECT_EQ(util::to_ascii_domain("acme.example"), Normalized("acme.example"));
    EXPECT_EQ(util::to_ascii_domain("faß.de"), Normalized("xn--fa-hia.de"));
    EXPECT_EQ(util::to_ascii_domain("\xC3.example"), std::nullopt);  // truncated UTF-8
    EXPECT_EQ(util::to_ascii_domain(std::string_view("b\xC3\xBC\0.evil", 9)), std::nullopt);
}

// --- normalize_email -------------------------------------------------------------------------

TEST(EmailTest, NormalizesDomainAndKeepsLocalPart) {
    EXPECT_EQ(normalize_email("ann@acme.example"), Normalized("ann@acme.example"));
    EXPECT_EQ(normalize_email("  Ann.Smith@ACME.Example\r\n"),
              Normalized("Ann.Smith@acme.example"));
    EXPECT_EQ(normalize_email("ann+invites@mail.acme.example"),
              Normalized("ann+invites@mail.acme.example"));
    EXPECT_EQ(normalize_email("o'brien@acme.example"), Normalized("o'brien@acme.example"));
    EXPECT_EQ(normalize_email("!#$%&'*+-/=?^_`{|}~@acme.example"),
              Normalized("!#$%&'*+-/=?^_`{|}~@acme.example"));
    EXPECT_EQ(normalize_email("Jörg@Bücher.example"), std::nullopt);  // local part is ASCII
    EXPECT_EQ(normalize_email("joerg@Bücher.example"), Normalized("joerg@xn--bcher-kva.example"));
}

TEST(EmailTest, RefusesInvalidAddresses) {
    for (const std::string_view bad : {
             "",
             "ann",
             "ann.acme.example",
             "@acme.example",
             "ann@",
             "ann@@acme.example",
             "ann@bob@acme.example",
             ".ann@acme.example",
             "ann.@acme.example",
             "an..n@acme.example",
             "an n@acme.example",
             "ann @acme.example",
             "ann@ acme.example",
             "\"ann\"@acme.example",
             "ann(comment)@acme.example",
             "<ann@acme.example>",
             "ann@acme",
             "ann@acme.example.",
             "ann@-acme.example",
             "ann@acme..example",
             "ann@acme_x.example",
             "ann@192.168.0.1",
             "ann@[192.168.0.1]",
             "ann@acme.example,bob@acme.example",
         }) {
        EXPECT_EQ(normalize_email(bad), std::nullopt) << "input: " << bad;
    }
}

TEST(EmailTest, EnforcesLengths) {
    const std::string local64(64, 'a');
    EXPECT_EQ(normalize_email(local64 + "@acme.example"), Normalized(local64 + "@acme.example"));
    EXPECT_EQ(normalize_email(local64 + "a@acme.example"), std::nullopt);

    // 64 + 1 + 189 = 254 characters: the most an address may have.
    const std::string domain189 =
        std::string(63, 'b') + "." + std::string(63, 'c') + "." + std::string(61, 'd');
    ASSERT_EQ(domain189.size(), 189u);
    EXPECT_EQ(normalize_email(local64 + "@" + domain189), Normalized(local64 + "@" + domain189));
    EXPECT_EQ(normalize_email(local64 + "@" + domain189 + "d"), std::nullopt);
}

TEST(EmailTest, DomainOfAnAddress) {
    EXPECT_EQ(email_domain("Ann@acme.example"), "acme.example");
    EXPECT_EQ(email_domain(*normalize_email("Ann@Mail.ACME.example")), "mail.acme.example");
    EXPECT_EQ(email_domain("no-at-sign"), "");
}

// --- public mailbox providers ----------------------------------------------------------------

TEST(PublicMailboxTest, KnowsTheBigProviders) {
    for (const std::string_view domain :
         {"gmail.com",    "googlemail.com", "outlook.com",    "hotmail.com",    "hotmail.co.uk",
          "hotmail.fr",   "live.com",       "msn.com",        "yahoo.com",      "yahoo.co.uk",
          "yahoo.fr",     "ymail.com",      "rocketmail.com", "aol.com",        "icloud.com",
          "me.com",       "mac.com",        "proton.me",      "protonmail.com", "pm.me",
          "gmx.com",      "gmx.de",         "gmx.net",        "web.de",         "mail.com",
          "yandex.ru",    "yandex.com",     "mail.ru",        "zoho.com",       "tutanota.com",
          "fastmail.com", "hey.com",        "qq.com",         "163.com",        "126.com",
          "naver.com"}) {
        EXPECT_TRUE(is_public_mailbox_domain(domain)) << domain;
        // Each entry is in the form normalize_domain returns, or it could never match.
        EXPECT_EQ(normalize_domain(domain), Normalized(std::string(domain)));
    }
}

TEST(PublicMailboxTest, MatchesNormalizedDomainsExactly) {
    EXPECT_TRUE(is_public_mailbox_domain(*normalize_domain("GMAIL.COM")));
    EXPECT_TRUE(is_public_mailbox_domain(*normalize_domain(" gmail.com. ")));
    EXPECT_TRUE(is_public_mailbox_domain(email_domain(*normalize_email("Ann.Smith@GMail.com"))));

    EXPECT_FALSE(is_public_mailbox_domain("acme.com"));
    EXPECT_FALSE(is_public_mailbox_domain("mail.acme.com"));
    EXPECT_FALSE(is_public_mailbox_domain("mail.gmail.com"));  // subdomains are not listed
    EXPECT_FALSE(is_public_mailbox_domain("gmail.co"));
    EXPECT_FALSE(is_public_mailbox_domain("gmail"));
    EXPECT_FALSE(is_public_mailbox_domain(""));
    EXPECT_FALSE(is_public_mailbox_domain("google"));  // from a comment line of the list
}

}  // namespace
}  // namespace scimd::core
