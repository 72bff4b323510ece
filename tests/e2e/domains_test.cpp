// Verified email domains (issue 4 §1, DESIGN §1 Domain and §2 rule 6) over HTTPS: adding a
// domain, verifying it by its DNS TXT record against a real DNS server on loopback (Debian's
// dnsmasq, started once the record's token is known), the default grant of automatic
// provisioning on SCIM creates, the plan feature that gates it, and the policy for
// unverified domains.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "e2e/fixture.hpp"
#include <unistd.h>

#include "scimd/core/access.hpp"
#include "scimd/core/mail.hpp"
#include "scimd/store/repositories.hpp"
#include "scimd/util/crypto.hpp"
#include "scimd/util/dns.hpp"

namespace scimd::test {
namespace {

namespace json = boost::json;

constexpr const char* kDnsmasq = "/usr/sbin/dnsmasq";

class Domains : public ServerFixture {
protected:
    void SetUp() override {
        ASSERT_EQ(::access(kDnsmasq, X_OK), 0)
            << kDnsmasq << " is missing: install dnsmasq-base (scripts/setup installs it)";
        dns_port_ = free_loopback_port();
        ServerFixture::SetUp();
        if (!app_) {
            return;
        }
        owner_ = make_account("olivia@acme.example", core::Role::kOwner);
    }

    void TearDown() override {
        dns_.reset();
        ServerFixture::TearDown();
    }

    std::string dns_server() const override { return "127.0.0.1:" + std::to_string(dns_port_); }

    /// Serves `records` ("name,text") on the fixture's port until the test ends.
    void start_dns(const std::vector<std::string>& records) {
        std::vector<std::string> args = {kDnsmasq,
                                         "--no-daemon",
                                         "--no-resolv",
                                         "--no-hosts",
                                         "--conf-file=/dev/null",
                                         "--port=" + std::to_string(dns_port_),
                                         "--listen-address=127.0.0.1",
                                         "--bind-interfaces",
                                         "--local=/example/"};
        for (const std::string& r : records) {
            args.push_back("--txt-record=" + r);
        }
        dns_ = std::make_unique<ChildProcess>(args);
        // Answering once a question about a name it serves gets an answer.
        for (int i = 0; i < 50; ++i) {
            if (!dns_->running()) {
                FAIL() << "dnsmasq exited at start (status " << dns_->status() << ") on "
                       << dns_server();
            }
            try {
                util::txt_records("probe.example", {dns_server(), 200, 1});
                return;
            } catch (const std::exception&) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
        }
        FAIL() << "dnsmasq did not answer on " << dns_server();
    }

    /// Adds acme.example, serves its verification record and verifies it; its id.
    std::string verified_acme() {
        const auto added = call("POST", "/domains", {{"domain", "acme.example"}});
        EXPECT_EQ(added.status, 201) << added.body;
        const json::value d = added.json();
        const std::string id(d.at("id").as_string());
        start_dns({"acme.example," + std::string(d.at("verification").at("value").as_string())});
        EXPECT_EQ(call("POST", "/domains/" + id + "/verify").status, 200);
        return id;
    }

    struct Account {
        std::string id;
        std::string key;
    };

    /// A SCIM User with a grant at the organization and an API key, set up through the store.
    Account make_account(const std::string& user_name, core::Role role) {
        Account a;
        a.id = create_user(user_name);
        core::Grant g;
        g.id = util::uuid_v4();
        g.org_id = org_id_;
        g.user_id = a.id;
        g.role = role;
        g.created = "2026-01-01T00:00:00.000Z";
        g.created_by = "test";
        store::SqlAccessRepository(app_->database()).put_grant(g, core::Audit{});
        a.key = "scimdk_" + util::base64url(util::random_bytes(32));
        core::ApiKey k;
        k.id = util::uuid_v4();
        k.org_id = org_id_;
        k.user_id = a.id;
        k.name = "test";
        k.hash = util::sha256_hex(a.key);
        k.created = "2026-01-01T00:00:00.000Z";
        store::SqlApiKeyRepository(app_->database()).insert(k, core::Audit{});
        return a;
    }

    HttpResponse call(const std::string& method,
                      const std::string& path,
                      const json::object& body = {}) {
        std::vector<std::pair<std::string, std::string>> headers{
            {"Authorization", "Bearer " + owner_.key}, {"Content-Type", "application/json"}};
        return client().request(method, "/api/v1" + path,
                                method == "GET" || method == "DELETE" ? "" : json::serialize(body),
                                headers);
    }

    static std::string code_of(const HttpResponse& res) {
        try {
            return std::string(res.json().at("code").as_string());
        } catch (const std::exception&) {
            return "<no code: " + res.body + ">";
        }
    }

    void set_plan(const std::vector<std::string>& features, const std::string& policy) {
        store::SqlOrganizationRepository orgs(app_->database());
        core::Plan plan = orgs.find(org_id_)->plan;
        plan.features = features;
        plan.unverified_domain_policy = policy;
        ASSERT_TRUE(orgs.update_plan(org_id_, plan, core::Audit{}));
    }

    /// POST /scim/v2/Users with a work email.
    HttpResponse scim_create(const std::string& email) {
        return client().post(
            "/scim/v2/Users",
            json::serialize(json::object{
                {"schemas", json::array{"urn:ietf:params:scim:schemas:core:2.0:User"}},
                {"userName", email},
                {"emails", json::array{json::object{
                               {"value", email}, {"type", "work"}, {"primary", true}}}}}));
    }

    /// "<scope> <role> <source>" of each grant of the member.
    std::vector<std::string> grants_of(const std::string& id) {
        const auto res = call("GET", "/members/" + id);
        EXPECT_EQ(res.status, 200) << res.body;
        std::vector<std::string> out;
        if (res.status != 200) {
            return out;
        }
        const json::value body = res.json();
        for (const auto& g : body.at("grants").as_array()) {
            out.push_back(std::string(g.at("scope").as_string()) + " " +
                          std::string(g.at("role").as_string()) + " " +
                          std::string(g.at("source").as_string()));
        }
        return out;
    }

    std::uint16_t dns_port_ = 0;
    std::unique_ptr<ChildProcess> dns_;
    Account owner_;
};

TEST_P(Domains, VerifiedByItsTxtRecordThenProvisionsWithTheDefaultGrant) {
    // Added: normalized, and waiting for its record.
    const auto added = call("POST", "/domains", {{"domain", " Acme.EXAMPLE. "}});
    ASSERT_EQ(added.status, 201) << added.body;
    const json::value d = added.json();
    const std::string id(d.at("id").as_string());
    EXPECT_EQ(d.at("domain"), json::value("acme.example"));
    EXPECT_EQ(d.at("status"), json::value("pending"));
    const std::string record(d.at("verification").at("value").as_string());
    EXPECT_EQ(record.rfind("scimd-verification=", 0), 0U) << record;
    EXPECT_EQ(call("POST", "/domains", {{"domain", "acme.example"}}).status, 409);

    // No DNS server yet: the check cannot be made, and says so.
    const auto unreachable = call("POST", "/domains/" + id + "/verify");
    EXPECT_EQ(unreachable.status, 503) << unreachable.body;
    EXPECT_EQ(code_of(unreachable), "dns_unavailable");

    // The DNS server answers other records first: not verified yet.
    ASSERT_EQ(call("POST", "/domains", {{"domain", "other.example"}}).status, 201);
    start_dns({"acme.example,v=spf1 -all", "acme.example," + record});
    const auto verified = call("POST", "/domains/" + id + "/verify");
    ASSERT_EQ(verified.status, 200) << verified.body;
    EXPECT_EQ(verified.json().at("status"), json::value("verified"));
    const auto list = call("GET", "/domains");
    const json::value listed = list.json();  // a range-for over a temporary's part dangles
    std::string other_id;
    for (const auto& x : listed.at("domains").as_array()) {
        if (x.at("domain") == json::value("other.example")) {
            other_id = std::string(x.at("id").as_string());
        }
    }
    ASSERT_FALSE(other_id.empty()) << list.body;
    const auto not_yet = call("POST", "/domains/" + other_id + "/verify");
    EXPECT_EQ(not_yet.status, 422) << not_yet.body;
    EXPECT_EQ(code_of(not_yet), "not_verified");

    // Another organization cannot hold the verified domain too.
    {
        store::SqlOrganizationRepository orgs(app_->database());
        core::Organization other{util::uuid_v4(), "globex", "2026-01-01T00:00:00.000Z"};
        orgs.insert(other);
        store::SqlDomainRepository domains(app_->database());
        core::Domain copy;
        copy.id = util::uuid_v4();
        copy.org_id = other.id;
        copy.domain = "acme.example";
        copy.token = "t";
        copy.created_at = copy.created_by = "x";
        domains.insert(copy, core::Audit{});
        try {
            domains.mark_verified(other.id, copy.id, "2026-01-02T00:00:00.000Z", core::Audit{});
            ADD_FAILURE() << "a second organization verified acme.example";
        } catch (const Error& e) {
            EXPECT_EQ(e.status(), 409);
        }
    }

    // Automatic provisioning is a plan feature.
    const json::object settings{
        {"auto_provision", true}, {"default_scope", "org"}, {"default_role", "user"}};
    const auto gated = call("PATCH", "/domains/" + id, settings);
    EXPECT_EQ(gated.status, 403) << gated.body;
    EXPECT_EQ(code_of(gated), "plan_feature");
    set_plan({"domain_provisioning"}, "invite");
    EXPECT_EQ(call("PATCH", "/domains/" + id, {{"default_role", "owner"}}).status, 400);
    const auto on = call("PATCH", "/domains/" + id, settings);
    ASSERT_EQ(on.status, 200) << on.body;
    EXPECT_EQ(on.json().at("auto_provision"), json::value(true));

    // An IdP creates a person on the domain: active at once with the default grant.
    const auto ann = scim_create("ann@acme.example");
    ASSERT_EQ(ann.status, 201) << ann.body;
    const std::string ann_id(ann.json().at("id").as_string());
    EXPECT_EQ(grants_of(ann_id), std::vector<std::string>{"org user domain_default"});
    // Off the domain: no grant from it.
    const auto bob = scim_create("bob@elsewhere.example");
    ASSERT_EQ(bob.status, 201) << bob.body;
    EXPECT_TRUE(grants_of(std::string(bob.json().at("id").as_string())).empty());
}

TEST_P(Domains, AddingRefusesMailboxProvidersAndNonDomains) {
    const auto gmail = call("POST", "/domains", {{"domain", "GMAIL.com"}});
    EXPECT_EQ(gmail.status, 400) << gmail.body;
    EXPECT_EQ(code_of(gmail), "personal_mailbox");
    const auto bad = call("POST", "/domains", {{"domain", "not a domain"}});
    EXPECT_EQ(bad.status, 400) << bad.body;
    EXPECT_EQ(code_of(bad), "invalid_value");
    const auto idn = call("POST", "/domains", {{"domain", "bücher.example"}});
    ASSERT_EQ(idn.status, 201) << idn.body;
    EXPECT_EQ(idn.json().at("domain"), json::value("xn--bcher-kva.example"));
    const std::string id(idn.json().at("id").as_string());
    EXPECT_EQ(call("DELETE", "/domains/" + id).status, 204);
    EXPECT_EQ(call("GET", "/domains/" + id).status, 404);
}

// DESIGN §2 rule 6: with the policy "reject", a SCIM create of an email on a domain the
// organization has not verified is refused, naming the domain.
TEST_P(Domains, RejectPolicyRefusesUnverifiedDomainsOnScimCreates) {
    set_plan({}, "reject");
    const auto refused = scim_create("bob@elsewhere.example");
    expect_scim_error(refused, 400, "invalidValue");
    EXPECT_NE(refused.body.find("elsewhere.example"), std::string::npos) << refused.body;
    set_plan({}, "allow");
    EXPECT_EQ(scim_create("bob@elsewhere.example").status, 201);
}

// Self-registration (issue 4 §4): on a verified domain with automatic provisioning, a sign-up
// mails a confirmation link that creates the account with the domain's default grant. The
// answer is the same for unknown domains; requests are limited per address; a used, unknown
// or expired link fails clearly.
TEST_P(Domains, SignUpOnAnAutoProvisionedDomainConfirmsByMail) {
    const std::string id = verified_acme();
    ASSERT_FALSE(HasFailure());
    set_plan({"domain_provisioning"}, "invite");
    ASSERT_EQ(call("PATCH", "/domains/" + id, {{"auto_provision", true}, {"default_role", "user"}})
                  .status,
              200);

    const auto anonymous = make_client("");
    const auto sign_up = [&](const std::string& email) {
        return anonymous->request("POST", "/api/v1/public/signup",
                                  json::serialize(json::object{{"email", email}, {"name", "Nia"}}),
                                  {{"Content-Type", "application/json"}});
    };
    const auto confirm = [&](const std::string& token) {
        return anonymous->request("POST", "/api/v1/public/signup/confirm",
                                  json::serialize(json::object{{"token", token}}),
                                  {{"Content-Type", "application/json"}});
    };
    const auto known = sign_up("nia@acme.example");
    const auto unknown = sign_up("nia@globex.example");
    EXPECT_EQ(known.status, 202) << known.body;
    EXPECT_EQ(unknown.status, 202) << unknown.body;
    EXPECT_EQ(known.json().as_object().size(), unknown.json().as_object().size());

    // One mail, to the known domain's address, with the link.
    app_->deliver_mail();
    std::vector<std::string> mails;
    for (const auto& e : std::filesystem::directory_iterator(mail_dir_)) {
        std::ifstream in(e.path(), std::ios::binary);
        mails.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    ASSERT_EQ(mails.size(), 1U);
    EXPECT_NE(mails[0].find("To: nia@acme.example"), std::string::npos) << mails[0];
    EXPECT_NE(mails[0].find("Confirm your account at acme"), std::string::npos) << mails[0];
    const std::size_t at = mails[0].find("/signup/confirm?token=");
    ASSERT_NE(at, std::string::npos) << mails[0];
    const std::size_t start = at + std::string("/signup/confirm?token=").size();
    const std::string token = mails[0].substr(start, mails[0].find_first_of("\r\n", start) - start);

    const auto made = confirm(token);
    ASSERT_EQ(made.status, 200) << made.body;
    const std::string member(made.json().at("member").as_string());
    EXPECT_EQ(grants_of(member), std::vector<std::string>{"org user domain_default"});
    EXPECT_EQ(confirm(token).status, 409);
    EXPECT_EQ(confirm("scimds_never-issued").status, 404);
    // Signed up: a second request sends nothing more.
    EXPECT_EQ(sign_up("nia@acme.example").status, 202);
    app_->deliver_mail();
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(mail_dir_),
                            std::filesystem::directory_iterator()),
              1);
    // Three requests an hour per address: the fourth is refused.
    EXPECT_EQ(sign_up("NIA@acme.example").status, 202);
    const auto limited = sign_up("nia@acme.example");
    EXPECT_EQ(limited.status, 429) << limited.body;
    EXPECT_EQ(code_of(limited), "too_many_requests");

    // An expired link.
    store::SqlUserRepository users(app_->database());
    store::SqlSignupRepository signups(app_->database(), users);
    core::Signup old;
    old.id = util::uuid_v4();
    old.org_id = org_id_;
    old.domain_id = id;
    old.email = "late@acme.example";
    old.name = "Late";
    old.token_hash = util::sha256_hex("scimds_old");
    old.created_at = "2026-01-01T00:00:00.000Z";
    old.expires_at = "2026-01-02T00:00:00.000Z";
    const core::OutboxMail m = core::queued_mail(util::uuid_v4(), org_id_, "signup", old.id,
                                                 old.email, {"x", "x"}, old.created_at);
    signups.create(old, m);
    const auto expired = confirm("scimds_old");
    EXPECT_EQ(expired.status, 410) << expired.body;
    EXPECT_EQ(code_of(expired), "expired");
}

// idp-compat §3.2: an account that an invitation made (no IdP manages it) and whose email is
// on a verified domain of the organization is adopted by the IdP's create, which answers 201
// with its id; once managed, or off the verified domains, a second create is 409.
TEST_P(Domains, IdpCreateAdoptsAnUnmanagedAccountOnAVerifiedDomain) {
    verified_acme();
    ASSERT_FALSE(HasFailure());
    const auto anonymous = make_client("");
    const auto invited_member = [&](const std::string& email) {
        const auto inv = call("POST", "/invitations", {{"email", email}, {"role", "viewer"}});
        EXPECT_EQ(inv.status, 201) << inv.body;
        const std::string link(inv.json().at("link").as_string());
        const auto accepted = anonymous->request(
            "POST", "/api/v1/public/invitations/accept",
            json::serialize(json::object{{"token", link.substr(link.find("token=") + 6)}}),
            {{"Content-Type", "application/json"}});
        EXPECT_EQ(accepted.status, 200) << accepted.body;
        return std::string(accepted.json().at("member").as_string());
    };
    const auto idp_create = [&](const std::string& email) {
        return client().post(
            "/scim/v2/Users",
            json::serialize(json::object{
                {"schemas", json::array{"urn:ietf:params:scim:schemas:core:2.0:User"}},
                {"userName", email},
                {"externalId", "okta-" + email},
                {"name", json::object{{"givenName", "Zed"}, {"familyName", "Example"}}},
                {"emails", json::array{json::object{{"value", email}, {"primary", true}}}}}));
    };
    const std::string zed = invited_member("zed@acme.example");
    const auto adopted = idp_create("zed@acme.example");
    ASSERT_EQ(adopted.status, 201) << adopted.body;
    EXPECT_EQ(adopted.json().at("id"), json::value(zed)) << "the existing account, adopted";
    EXPECT_EQ(adopted.json().at("externalId"), json::value("okta-zed@acme.example"));
    EXPECT_EQ(grants_of(zed), std::vector<std::string>{"org viewer invitation"})
        << "adoption keeps the access the invitation gave";
    // Managed now: another create of the same userName is a conflict.
    const auto again = idp_create("zed@acme.example");
    expect_scim_error(again, 409, "uniqueness");
    // Off the verified domains, an unmanaged account is not adopted.
    invited_member("yan@elsewhere.example");
    expect_scim_error(idp_create("yan@elsewhere.example"), 409, "uniqueness");

    // The lookup way (Okta, Entra): the IdP finds the account by userName and writes it;
    // from then on the IdP manages it, and a create of the same userName is a conflict.
    const std::string uma = invited_member("uma@acme.example");
    const auto found =
        client().get("/scim/v2/Users?filter=" + url_encode(R"(userName eq "uma@acme.example")"));
    ASSERT_EQ(found.status, 200) << found.body;
    const json::value listed = found.json();
    ASSERT_EQ(listed.at("totalResults"), json::value(1)) << found.body;
    EXPECT_EQ(listed.at("Resources").as_array()[0].at("id"), json::value(uma));
    const auto put = client().request(
        "PUT", "/scim/v2/Users/" + uma,
        json::serialize(json::object{
            {"schemas", json::array{"urn:ietf:params:scim:schemas:core:2.0:User"}},
            {"userName", "uma@acme.example"},
            {"externalId", "okta-uma"},
            {"emails",
             json::array{json::object{{"value", "uma@acme.example"}, {"primary", true}}}}}),
        {{"Content-Type", "application/scim+json"}});
    ASSERT_EQ(put.status, 200) << put.body;
    expect_scim_error(idp_create("uma@acme.example"), 409, "uniqueness");
}

// DESIGN §2 rule 6, policy "invite" (the default), once the organization has verified a
// domain: an IdP's account off the verified domains exists (the IdP gets its id) but has no
// access until the person accepts the invitation mailed to its address.
TEST_P(Domains, InvitePolicyHoldsAccessBackUntilTheAddressIsConfirmed) {
    verified_acme();
    ASSERT_FALSE(HasFailure());
    const auto idp_create = [&](const std::string& email) {
        return client().post(
            "/scim/v2/Users",
            json::serialize(json::object{
                {"schemas", json::array{"urn:ietf:params:scim:schemas:core:2.0:User"}},
                {"userName", email},
                {"emails", json::array{json::object{{"value", email}, {"primary", true}}}},
                {"roles", json::array{json::object{{"value", "org:user"}}}}}));
    };
    const auto bob = idp_create("bob@elsewhere.example");
    ASSERT_EQ(bob.status, 201) << bob.body;
    const std::string bob_id(bob.json().at("id").as_string());
    EXPECT_TRUE(grants_of(bob_id).empty()) << "held back until the address is confirmed";
    const auto carl = idp_create("carl@acme.example");
    ASSERT_EQ(carl.status, 201) << carl.body;
    EXPECT_EQ(grants_of(std::string(carl.json().at("id").as_string())),
              std::vector<std::string>{"org user scim_roles"})
        << "on the verified domain: access at once";

    app_->deliver_mail();
    std::vector<std::string> mails;
    for (const auto& e : std::filesystem::directory_iterator(mail_dir_)) {
        std::ifstream in(e.path(), std::ios::binary);
        mails.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    ASSERT_EQ(mails.size(), 1U) << "one mail, to bob";
    EXPECT_NE(mails[0].find("To: bob@elsewhere.example"), std::string::npos) << mails[0];
    const std::size_t at = mails[0].find("/invitations/accept?token=");
    ASSERT_NE(at, std::string::npos) << mails[0];
    const std::size_t start = at + std::string("/invitations/accept?token=").size();
    const std::string token = mails[0].substr(start, mails[0].find_first_of("\r\n", start) - start);
    const auto accepted = make_client("")->request("POST", "/api/v1/public/invitations/accept",
                                                   json::serialize(json::object{{"token", token}}),
                                                   {{"Content-Type", "application/json"}});
    ASSERT_EQ(accepted.status, 200) << accepted.body;
    EXPECT_EQ(accepted.json().at("member"), json::value(bob_id));
    EXPECT_EQ(grants_of(bob_id), std::vector<std::string>{"org user scim_roles"})
        << "confirmed: the access the IdP gave counts, and the invitation added none";
}

INSTANTIATE_TEST_SUITE_P(Backends, Domains, ::testing::Values(Db::kSqlite, Db::kPostgres), db_name);

}  // namespace
}  // namespace scimd::test
