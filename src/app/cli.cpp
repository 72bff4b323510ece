#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "scimd/app/app.hpp"
#include "scimd/core/email.hpp"
#include "scimd/error.hpp"
#include "scimd/protocol/filter.hpp"
#include "scimd/protocol/resource.hpp"
#include "scimd/util/crypto.hpp"

namespace scimd::app {
namespace {

constexpr const char* kUsage = R"(usage: scimd COMMAND [OPTIONS]

  serve  --db URL --listen HOST:PORT --cert FILE --key FILE [--public-url URL]
         [--threads N] [--workers N] [--body-limit BYTES] [--token-cache-seconds N]
         [--no-access-log] [--mail-transport file|smtp] [--mail-dir DIR]
         [--mail-from ADDRESS] [--smtp-url smtp://HOST:PORT] [--smtp-user USER]
         [--smtp-password PASSWORD] [--smtp-ca-file FILE] [--dns-server IP[:PORT]]
                                           mail (invitations) goes to one .eml file per
                                           mail under --mail-dir (data/mail) by default;
                                           --dns-server answers domain verification
                                           (default: the system's resolvers)
  migrate --db URL
  org create --db URL --name NAME [--owner EMAIL]
                                           prints the new organization's id; --owner makes
                                           its first account, an owner
  org list --db URL
  org update --db URL --org NAME_OR_ID [--seat-limit N|none] [--features LIST]
             [--unverified-domain-policy invite|allow|reject] [--invitation-days N]
                                           what the organization's plan allows; LIST is
                                           comma-separated: domain_provisioning, bulk_invite
  token create --db URL --org NAME_OR_ID --name LABEL [--expires-in DAYS]
                                           prints the secret alone on stdout
  token list --db URL --org NAME_OR_ID
  token revoke --db URL --org NAME_OR_ID --id TOKEN_ID
  apikey create --db URL --org NAME_OR_ID --account USERNAME_OR_ID --name LABEL
                [--expires-in DAYS]        an admin API key; prints the secret alone on stdout
  site create --db URL --org NAME_OR_ID --name NAME [--url URL]
                                           prints the new site's id
  site list --db URL --org NAME_OR_ID
  invite --db URL --org NAME_OR_ID --csv FILE [--dry-run] [--partial] [--public-url URL]
                                           bulk invitations from a CSV file (email, role,
                                           site): one line per row (line, status, email,
                                           role, site, reason); all rows or none unless
                                           --partial; the links point at --public-url
  domain add --db URL --org NAME_OR_ID --domain DOMAIN
                                           prints the new domain's id, and on stderr the
                                           DNS TXT record that verifies it
  domain list --db URL --org NAME_OR_ID
  review --db URL --org NAME_OR_ID [--inactive-days N] [--expiring-days N] [--pending-days N]
                                           invitations pending for N days (3), members not
                                           signed in for N days (30), grants expiring within
                                           N days (14), owners and admins
  audit --db URL --org NAME_OR_ID [--from TIME] [--to TIME] [--actor A] [--action A]
        [--target ID] [--count N]          the audit trail, oldest first, tab-separated

Every option can also come from the environment: --db is SCIMD_DB, --listen SCIMD_LISTEN,
--cert SCIMD_CERT, --key SCIMD_KEY, --public-url SCIMD_PUBLIC_URL, --threads SCIMD_THREADS,
--workers SCIMD_WORKERS, --body-limit SCIMD_BODY_LIMIT, --token-cache-seconds
SCIMD_TOKEN_CACHE_SECONDS, --smtp-password SCIMD_SMTP_PASSWORD (and so on: SCIMD_ and the
option's name in capitals). DB URLs: sqlite:PATH, postgresql://…
)";

// A usage mistake: exit status 2 with the usage text.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Options {
public:
    Options(const std::vector<std::string>& args, std::size_t first) {
        for (std::size_t i = first; i < args.size(); ++i) {
            const std::string& a = args[i];
            if (a.rfind("--", 0) != 0) {
                throw UsageError("unexpected argument \"" + a + "\"");
            }
            const auto eq = a.find('=');
            if (eq != std::string::npos) {
                values_[a.substr(2, eq - 2)] = a.substr(eq + 1);
            } else if (a == "--no-access-log" || a == "--dry-run" || a == "--partial") {
                values_.emplace(a.substr(2), "1");
            } else if (i + 1 < args.size()) {
                values_[a.substr(2)] = args[++i];
            } else {
                throw UsageError("option " + a + " needs a value");
            }
        }
    }

    std::optional<std::string> get(const std::string& name) {
        used_.push_back(name);
        if (auto it = values_.find(name); it != values_.end()) {
            return it->second;
        }
        std::string env = "SCIMD_";
        for (char c : name) {
            env.push_back(
                c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
        }
        if (const char* v = std::getenv(env.c_str()); v != nullptr && *v != '\0') {
            return std::string(v);
        }
        return std::nullopt;
    }

    std::string require(const std::string& name) {
        auto v = get(name);
        if (!v) {
            throw UsageError("missing --" + name);
        }
        return *v;
    }

    std::size_t number(const std::string& name, std::size_t fallback, bool zero_ok = false) {
        auto v = get(name);
        if (!v) {
            return fallback;
        }
        std::size_t n = 0;
        auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
        if (ec != std::errc() || ptr != v->data() + v->size() || (n == 0 && !zero_ok)) {
            throw UsageError("--" + name + " must be a " + (zero_ok ? "non-negative" : "positive") +
                             " integer, got \"" + *v + "\"");
        }
        return n;
    }

    // Options given but never asked for are mistakes, not silently ignored.
    void check_all_used() const {
        for (const auto& [k, v] : values_) {
            if (std::find(used_.begin(), used_.end(), k) == used_.end()) {
                throw UsageError("unknown option --" + k);
            }
        }
    }

private:
    std::map<std::string, std::string> values_;
    std::vector<std::string> used_;
};

// --expires-in DAYS of a secret: 0 (never) to 36,500.
std::size_t expires_in_days(Options& o) {
    const std::size_t days = o.number("expires-in", 0);
    if (days > 36500) {
        throw UsageError("--expires-in must be at most 36500 days");
    }
    return days;
}

core::Organization find_org(store::Database& db, const std::string& key) {
    store::SqlOrganizationRepository orgs(db);
    auto org = orgs.find(key);
    if (!org) {
        throw std::runtime_error("no organization \"" + key + "\"");
    }
    return *org;
}

core::Audit cli_audit(const std::string& now, std::vector<core::AuditEntry> entries = {}) {
    core::Audit a;
    a.actor = "cli";
    a.at = now;
    a.entries = std::move(entries);
    return a;
}

// An active account for `email`, as a SCIM create would store it.
core::UserRecord make_account(store::Database& db,
                              const std::string& org_id,
                              const std::string& email,
                              const std::string& now) {
    const auto& registry = protocol::SchemaRegistry::builtin();
    boost::json::object body{
        {"userName", email},
        {"emails", boost::json::array{boost::json::object{{"value", email}, {"primary", true}}}},
        {"active", true}};
    boost::json::object doc =
        protocol::normalize_resource(body, registry, *registry.resource_type("User"));
    core::UserRecord u;
    u.org_id = org_id;
    u.id = util::uuid_v4();
    protocol::prepare_user_record(doc, u);
    u.document = boost::json::serialize(doc);
    u.version = 1;
    u.created = u.last_modified = now;
    store::SqlUserRepository(db).insert(
        u, cli_audit(now, {{"account.created", "account", u.id, "", u.document}}));
    return u;
}

// An account by id, or by userName (case-insensitively).
core::UserRecord find_account(store::Database& db,
                              const std::string& org_id,
                              const std::string& key) {
    store::SqlUserRepository users(db);
    if (auto u = users.find(org_id, key)) {
        return *u;
    }
    const auto& registry = protocol::SchemaRegistry::builtin();
    const core::Filter f =
        protocol::parse_filter("userName eq " + boost::json::serialize(boost::json::string(key)),
                               registry, *registry.resource_type("User"));
    core::ListQuery q;
    q.filter = &f;
    q.count = 1;
    auto page = users.list(org_id, q);
    if (page.items.empty()) {
        throw std::runtime_error("no account \"" + key + "\" in the organization");
    }
    return page.items.front();
}

std::unique_ptr<store::Database> open_db(Options& o) {
    auto db = std::make_unique<store::Database>(store::DatabaseUrl::parse(o.require("db")), 1);
    db->migrate();
    return db;
}

int serve(Options& o) {
    http::ServerConfig config;
    const std::string listen = o.get("listen").value_or("127.0.0.1:8443");
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) {
        throw UsageError("--listen must be HOST:PORT, got \"" + listen + "\"");
    }
    config.host = listen.substr(0, colon);
    if (config.host.size() > 2 && config.host.front() == '[' && config.host.back() == ']') {
        config.host = config.host.substr(1, config.host.size() - 2);
    }
    unsigned port = 0;
    const std::string port_text = listen.substr(colon + 1);
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port > 65535) {
        throw UsageError("--listen port must be 0-65535, got \"" + port_text + "\"");
    }
    config.port = static_cast<std::uint16_t>(port);
    config.cert_file = o.require("cert");
    config.key_file = o.require("key");
    config.io_threads = o.number("threads", 2);
    config.workers = o.number("workers", 4);
    config.body_limit = o.number("body-limit", config.body_limit);
    config.access_log = !o.get("no-access-log").has_value();
    const std::size_t cache_seconds = o.number("token-cache-seconds", 5, true);
    if (cache_seconds > 3600) {
        throw UsageError("--token-cache-seconds must be at most 3600");
    }
    const std::string db_url = o.require("db");
    std::string public_url = o.get("public-url").value_or("");
    MailConfig mail;
    mail.transport = o.get("mail-transport").value_or(mail.transport);
    mail.dir = o.get("mail-dir").value_or(mail.dir);
    mail.from = o.get("mail-from").value_or(mail.from);
    mail.smtp_url = o.get("smtp-url").value_or("");
    mail.smtp_user = o.get("smtp-user").value_or("");
    mail.smtp_password = o.get("smtp-password").value_or("");
    mail.smtp_ca_file = o.get("smtp-ca-file").value_or("");
    const std::string dns_server = o.get("dns-server").value_or("");
    o.check_all_used();
    try {
        Mailer::check(mail);
    } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
    }
    if (public_url.empty()) {
        const std::string host =
            (config.host == "0.0.0.0" || config.host == "::" || config.host == "127.0.0.1")
                ? "localhost"
                : config.host;
        public_url = "https://" + host + ":" + std::to_string(config.port);
    }
    App app(db_url, config, public_url, std::chrono::seconds(cache_seconds), mail, dns_server);
    std::cerr << "scimd: serving SCIM at " << public_url << "/scim/v2 (listening on " << config.host
              << ":" << app.server().port() << ")" << std::endl;
    app.server().run_until_signal();
    std::cerr << "scimd: stopped" << std::endl;
    return 0;
}

int migrate(Options& o) {
    const std::string url = o.require("db");
    o.check_all_used();
    auto db = std::make_unique<store::Database>(store::DatabaseUrl::parse(url), 1);
    const int n = db->migrate();
    std::cerr << "scimd: " << n << " migration(s) applied" << std::endl;
    return 0;
}

boost::json::object plan_json(const core::Plan& p) {
    boost::json::array features;
    for (const auto& f : p.features) {
        features.emplace_back(f);
    }
    return {{"seat_limit", p.seat_limit ? boost::json::value(*p.seat_limit) : nullptr},
            {"features", std::move(features)},
            {"unverified_domain_policy", p.unverified_domain_policy},
            {"invitation_days", p.invitation_days}};
}

// Plans are the operator's: this command, never an API of the organization, changes them.
int org_update(Options& o) {
    const std::string org_key = o.require("org");
    const auto seats = o.get("seat-limit");
    const auto features = o.get("features");
    const auto policy = o.get("unverified-domain-policy");
    const auto days = o.get("invitation-days");
    o.require("db");
    if (!seats && !features && !policy && !days) {
        throw UsageError(
            "org update changes nothing without --seat-limit, --features, "
            "--unverified-domain-policy or --invitation-days");
    }
    core::Plan change;
    if (seats && *seats != "none") {
        const std::size_t n = o.number("seat-limit", 0);
        if (n == 0 || n > 10'000'000) {
            throw UsageError("--seat-limit must be 1 to 10000000, or none");
        }
        change.seat_limit = static_cast<long long>(n);
    }
    if (features) {
        std::size_t pos = 0;
        while (pos <= features->size()) {
            const auto comma = std::min(features->find(',', pos), features->size());
            const std::string f = features->substr(pos, comma - pos);
            if (f == "domain_provisioning" || f == "bulk_invite") {
                change.features.push_back(f);
            } else if (!f.empty()) {
                throw UsageError("unknown feature \"" + f +
                                 "\"; features are domain_provisioning and bulk_invite");
            }
            pos = comma + 1;
        }
    }
    if (policy && *policy != "invite" && *policy != "allow" && *policy != "reject") {
        throw UsageError("--unverified-domain-policy must be invite, allow or reject");
    }
    if (days) {
        const std::size_t n = o.number("invitation-days", 7);
        if (n == 0 || n > 365) {
            throw UsageError("--invitation-days must be 1 to 365");
        }
        change.invitation_days = static_cast<int>(n);
    }
    o.check_all_used();
    auto db = open_db(o);
    const core::Organization org = find_org(*db, org_key);
    core::Plan plan = org.plan;
    if (seats) {
        plan.seat_limit = change.seat_limit;
    }
    if (features) {
        plan.features = change.features;
    }
    if (policy) {
        plan.unverified_domain_policy = *policy;
    }
    if (days) {
        plan.invitation_days = change.invitation_days;
    }
    const std::string now = core::format_time(std::chrono::system_clock::now());
    store::SqlOrganizationRepository(*db).update_plan(
        org.id, plan,
        cli_audit(now, {{"organization.plan_changed", "organization", org.id,
                         boost::json::serialize(plan_json(org.plan)),
                         boost::json::serialize(plan_json(plan))}}));
    std::cout << boost::json::serialize(plan_json(plan)) << std::endl;
    return 0;
}

int org_command(const std::string& verb, Options& o) {
    if (verb == "create") {
        const std::string name = o.require("name");
        const std::string db_url = o.require("db");
        const std::optional<std::string> owner = o.get("owner");
        o.check_all_used();
        if (name.empty()) {
            throw UsageError("--name must not be empty");
        }
        if (owner && owner->find('@') == std::string::npos) {
            throw UsageError("--owner must be an email address");
        }
        auto db = open_db(o);
        store::SqlOrganizationRepository orgs(*db);
        const std::string now = core::format_time(std::chrono::system_clock::now());
        core::Organization org{util::uuid_v4(), name, now};
        orgs.insert(org);
        if (owner) {
            const core::UserRecord u = make_account(*db, org.id, *owner, now);
            core::Grant g;
            g.id = util::uuid_v4();
            g.org_id = org.id;
            g.user_id = u.id;
            g.role = core::Role::kOwner;
            g.source = core::GrantSource::kManual;
            g.created = now;
            g.created_by = "cli";
            store::SqlAccessRepository(*db).put_grant(g, cli_audit(now));
            std::cerr << "scimd: " << *owner << " (account " << u.id << ") owns " << name
                      << std::endl;
        }
        std::cout << org.id << std::endl;
        return 0;
    }
    if (verb == "list") {
        o.require("db");
        o.check_all_used();
        auto db = open_db(o);
        store::SqlOrganizationRepository orgs(*db);
        for (const auto& org : orgs.list()) {
            std::cout << org.id << '\t' << org.name << '\n';
        }
        return 0;
    }
    if (verb == "update") {
        return org_update(o);
    }
    throw UsageError("unknown command \"org " + verb + "\"");
}

int token_command(const std::string& verb, Options& o) {
    // Every option is read and checked before the database is opened (or created).
    if (verb == "create") {
        const std::string org_key = o.require("org");
        const std::string label = o.require("name");
        const std::size_t days = expires_in_days(o);
        o.require("db");
        o.check_all_used();
        auto db = open_db(o);
        const core::Organization org = find_org(*db, org_key);
        const auto now = std::chrono::system_clock::now();
        // 256 random bits behind a recognizable prefix (secret scanners key on it).
        const std::string secret = util::new_secret("scimd_");
        core::ScimToken t;
        t.id = util::uuid_v4();
        t.org_id = org.id;
        t.name = label;
        t.hash = util::sha256_hex(secret);
        t.created = core::format_time(now);
        if (days > 0) {
            t.expires = core::format_time(now + std::chrono::hours(24 * days));
        }
        store::SqlTokenRepository(*db).insert(
            t,
            cli_audit(t.created, {{"token.created", "token", t.id, "",
                                   boost::json::serialize(boost::json::object{{"name", label}})}}));
        std::cerr << "scimd: token " << t.id << " (\"" << label << "\") for organization "
                  << org.name << (t.expires ? ", expires " + *t.expires : std::string())
                  << std::endl;
        std::cout << secret << std::endl;
        return 0;
    }
    if (verb == "list") {
        const std::string org_key = o.require("org");
        o.require("db");
        o.check_all_used();
        auto db = open_db(o);
        const core::Organization org = find_org(*db, org_key);
        std::cout << "id\tname\tcreated\texpires\trevoked\tlast_used\n";
        for (const auto& t : store::SqlTokenRepository(*db).list(org.id)) {
            std::cout << t.id << '\t' << t.name << '\t' << t.created << '\t'
                      << t.expires.value_or("-") << '\t' << t.revoked.value_or("-") << '\t'
                      << t.last_used.value_or("-") << '\n';
        }
        return 0;
    }
    if (verb == "revoke") {
        const std::string org_key = o.require("org");
        const std::string id = o.require("id");
        o.require("db");
        o.check_all_used();
        auto db = open_db(o);
        const core::Organization org = find_org(*db, org_key);
        const std::string now = core::format_time(std::chrono::system_clock::now());
        if (!store::SqlTokenRepository(*db).revoke(
                org.id, id, now, cli_audit(now, {{"token.revoked", "token", id, "", ""}}))) {
            throw std::runtime_error("no active token " + id + " in organization " + org.name);
        }
        std::cerr << "scimd: token " << id << " revoked" << std::endl;
        return 0;
    }
    throw UsageError("unknown command \"token " + verb + "\"");
}

int apikey_command(const std::string& verb, Options& o) {
    if (verb != "create") {
        throw UsageError("unknown command \"apikey " + verb + "\"");
    }
    const std::string org_key = o.require("org");
    const std::string account = o.require("account");
    const std::string label = o.require("name");
    const std::size_t days = expires_in_days(o);
    o.require("db");
    o.check_all_used();
    auto db = open_db(o);
    const core::Organization org = find_org(*db, org_key);
    const core::UserRecord u = find_account(*db, org.id, account);
    const auto now = std::chrono::system_clock::now();
    const std::string secret = util::new_secret(api::kApiKeyPrefix);
    core::ApiKey k;
    k.id = util::uuid_v4();
    k.org_id = org.id;
    k.user_id = u.id;
    k.name = label;
    k.hash = util::sha256_hex(secret);
    k.created = core::format_time(now);
    if (days > 0) {
        k.expires = core::format_time(now + std::chrono::hours(24 * days));
    }
    store::SqlApiKeyRepository(*db).insert(
        k, cli_audit(k.created, {{"api_key.created", "api_key", k.id, "",
                                  boost::json::serialize(
                                      boost::json::object{{"name", label}, {"account", u.id}})}}));
    std::cerr << "scimd: API key " << k.id << " (\"" << label << "\") for " << u.user_name
              << std::endl;
    std::cout << secret << std::endl;
    return 0;
}

int site_command(const std::string& verb, Options& o) {
    const std::string org_key = o.require("org");
    if (verb == "create") {
        const std::string name = o.require("name");
        const std::string url = o.get("url").value_or("");
        o.require("db");
        o.check_all_used();
        if (name.empty() || name.find(':') != std::string::npos) {
            throw UsageError("--name must be non-empty and without \":\"");
        }
        auto db = open_db(o);
        const core::Organization org = find_org(*db, org_key);
        core::Site site{util::uuid_v4(), org.id, name, url,
                        core::format_time(std::chrono::system_clock::now())};
        store::SqlAccessRepository(*db).insert_site(site, cli_audit(site.created));
        std::cout << site.id << std::endl;
        return 0;
    }
    if (verb == "list") {
        o.require("db");
        o.check_all_used();
        auto db = open_db(o);
        const core::Organization org = find_org(*db, org_key);
        for (const auto& s : store::SqlAccessRepository(*db).list_sites(org.id)) {
            std::cout << s.id << '\t' << s.name << '\t' << s.url << '\n';
        }
        return 0;
    }
    throw UsageError("unknown command \"site " + verb + "\"");
}

int domain_command(const std::string& verb, Options& o) {
    const std::string org_key = o.require("org");
    if (verb == "add") {
        const std::string given = o.require("domain");
        o.require("db");
        o.check_all_used();
        const auto name = core::normalize_domain(given);
        if (!name) {
            throw UsageError("\"" + given + "\" is not a domain name");
        }
        if (core::is_public_mailbox_domain(*name)) {
            throw std::runtime_error(*name + " is a public mailbox provider; nobody can claim it");
        }
        auto db = open_db(o);
        const core::Organization org = find_org(*db, org_key);
        core::Domain d;
        d.id = util::uuid_v4();
        d.org_id = org.id;
        d.domain = *name;
        d.token = util::base64url(util::random_bytes(24));
        d.created_at = core::format_time(std::chrono::system_clock::now());
        d.created_by = "cli";
        store::SqlDomainRepository(*db).insert(d, cli_audit(d.created_at));
        std::cout << d.id << std::endl;
        std::cerr << "scimd: add this DNS record, then verify with POST /api/v1/domains/" << d.id
                  << "/verify:\n  " << d.domain << ". IN TXT \"" << d.txt_record() << "\""
                  << std::endl;
        return 0;
    }
    if (verb == "list") {
        o.require("db");
        o.check_all_used();
        auto db = open_db(o);
        const core::Organization org = find_org(*db, org_key);
        for (const auto& d : store::SqlDomainRepository(*db).list(org.id)) {
            std::cout << d.id << '\t' << d.domain << '\t'
                      << (d.verified_at ? "verified" : "pending") << '\t' << d.txt_record() << '\n';
        }
        return 0;
    }
    throw UsageError("unknown command \"domain " + verb + "\"");
}

// `scimd invite --csv FILE`: the admin API's bulk invitation, as the operator.
int invite_command(Options& o) {
    const std::string org_key = o.require("org");
    const std::string file = o.require("csv");
    const bool dry_run = o.get("dry-run").has_value();
    const bool partial = o.get("partial").has_value();
    const std::string public_url = o.get("public-url").value_or("https://localhost:8443");
    o.require("db");
    o.check_all_used();
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read " + file);
    }
    const std::string csv((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto db = open_db(o);
    const core::Organization org = find_org(*db, org_key);
    store::SqlOrganizationRepository orgs(*db);
    store::SqlUserRepository users(*db);
    store::SqlGroupRepository groups(*db);
    store::SqlAccessRepository access(*db);
    store::SqlTokenRepository tokens(*db);
    store::SqlApiKeyRepository keys(*db);
    store::SqlAuditRepository audit(*db);
    store::SqlInvitationRepository invitations(*db, users);
    store::SqlDomainRepository domains(*db);
    store::SqlSignupRepository signups(*db, users);
    core::SystemClock clock;
    const api::AdminApi admin(api::AdminContext{orgs, users, groups, access, tokens, keys, audit,
                                                invitations, domains, signups, clock, public_url,
                                                nullptr});
    core::Actor cli;
    cli.id = "cli";
    cli.system = true;
    protocol::Request req;
    req.method = "POST";
    req.target = std::string(api::kAdminPrefix) +
                 "/invitations/bulk?dry_run=" + (dry_run ? "true" : "false") +
                 "&partial=" + (partial ? "true" : "false");
    req.headers.emplace_back("content-type", "text/csv");
    req.body = csv;
    req.request_id = "cli";
    const protocol::Response res = admin.handle_as(cli, org.id, req);
    const boost::json::object body = boost::json::parse(res.body).as_object();
    if (const auto* rows = body.if_contains("rows")) {
        for (const auto& r : rows->as_array()) {
            const auto& row = r.as_object();
            const auto text = [&](const char* k) -> std::string {
                const auto* v = row.if_contains(k);
                return v && v->is_string() ? std::string(v->get_string()) : std::string();
            };
            std::cout << row.at("line").to_number<long long>() << '\t' << text("status") << '\t'
                      << text("email") << '\t' << text("role") << '\t' << text("site") << '\t'
                      << text("reason") << '\n';
        }
    }
    if (res.status >= 400) {
        const auto* message = body.if_contains("message");
        std::cerr << "scimd: "
                  << (message && message->is_string() ? std::string(message->get_string())
                                                      : res.body)
                  << std::endl;
        return 1;
    }
    std::cerr << "scimd: " << (dry_run ? "dry run, nothing applied" : "applied")
              << (dry_run ? ""
                          : ": " + std::to_string(body.at("applied").to_number<long long>()) +
                                " invitations (the server's mail worker sends them)")
              << std::endl;
    return 0;
}

int review_command(Options& o) {
    const std::string org_key = o.require("org");
    const std::size_t inactive = o.number("inactive-days", 30);
    const std::size_t expiring = o.number("expiring-days", 14);
    const std::size_t pending = o.number("pending-days", 3, true);
    if (inactive > 3650 || expiring > 3650 || pending > 3650) {
        throw UsageError("--inactive-days, --expiring-days and --pending-days are at most 3650");
    }
    o.require("db");
    o.check_all_used();
    auto db = open_db(o);
    const core::Organization org = find_org(*db, org_key);
    const auto t = std::chrono::system_clock::now();
    const std::string now = core::format_time(t);
    store::SqlUserRepository users(*db);
    store::SqlAccessRepository access(*db);
    store::SqlInvitationRepository invitations(*db, users);
    std::cout << "# invitations pending for " << pending << " days\n";
    const std::string sent_before = core::format_time(t - std::chrono::hours(24 * pending));
    for (const auto& inv : invitations.list(org.id, "pending", "", now, 1000)) {
        if (inv.created_at <= sent_before) {
            std::cout << inv.id << '\t' << inv.email << '\t'
                      << (inv.site_id.empty() ? "org" : "site:" + inv.site_id) << '\t' << inv.role
                      << '\t' << inv.created_at << '\n';
        }
    }
    std::cout << "# not signed in for " << inactive << " days\n";
    for (const auto& s : users.not_signed_in_since(
             org.id, core::format_time(t - std::chrono::hours(24 * inactive)), 1000)) {
        std::cout << s.id << '\t' << s.user_name << '\t' << s.last_sign_in.value_or("never")
                  << '\n';
    }
    std::cout << "# grants expiring within " << expiring << " days\n";
    for (const auto& g : access.expiring_grants(
             org.id, now, core::format_time(t + std::chrono::hours(24 * expiring)))) {
        std::cout << g.user_id << '\t' << (g.site_id.empty() ? "org" : "site:" + g.site_id) << '\t'
                  << core::role_name(g.role) << '\t' << *g.expires << '\n';
    }
    std::cout << "# owners and admins\n";
    core::ListQuery q;
    q.count = 200;
    for (;;) {
        const auto page = users.list(org.id, q);
        std::vector<std::string> ids;
        for (const auto& u : page.items) {
            ids.push_back(u.id);
        }
        auto grants = access.grants_of_many(org.id, ids);
        for (const auto& u : page.items) {
            const auto a = core::effective_access(grants[u.id], u.active, now);
            if (a.org_role && *a.org_role >= core::Role::kAdmin) {
                std::cout << u.id << '\t' << u.user_name << '\t' << core::role_name(*a.org_role)
                          << '\n';
            }
        }
        if (static_cast<long long>(page.items.size()) < q.count) {
            break;
        }
        q.start_index += q.count;
    }
    return 0;
}

int audit_command(Options& o) {
    const std::string org_key = o.require("org");
    core::AuditQuery q;
    q.actor = o.get("actor");
    q.action = o.get("action");
    q.target_id = o.get("target");
    for (const char* name : {"from", "to"}) {
        if (auto v = o.get(name)) {
            std::chrono::system_clock::time_point tp;
            if (!core::parse_time(*v, tp)) {
                throw UsageError(std::string("--") + name + " must be an RFC 3339 time");
            }
            (std::string_view(name) == "from" ? q.from : q.to) = core::format_time(tp);
        }
    }
    q.count = static_cast<long long>(o.number("count", 100));
    o.require("db");
    o.check_all_used();
    auto db = open_db(o);
    const core::Organization org = find_org(*db, org_key);
    const auto page = store::SqlAuditRepository(*db).list(org.id, q);
    std::cout << "at\tactor\taction\ttarget\tbefore\tafter\trequest_id\n";
    for (const auto& e : page.items) {
        std::cout << e.at << '\t' << e.actor << '\t' << e.action << '\t' << e.target_type << ':'
                  << e.target_id << '\t' << (e.before.empty() ? "-" : e.before) << '\t'
                  << (e.after.empty() ? "-" : e.after) << '\t'
                  << (e.request_id.empty() ? "-" : e.request_id) << '\n';
    }
    std::cerr << "scimd: " << page.items.size() << " of " << page.total << " events" << std::endl;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
            std::cout << kUsage;
            return args.empty() ? 2 : 0;
        }
        const std::string& cmd = args[0];
        if (cmd == "serve") {
            Options o(args, 1);
            return serve(o);
        }
        if (cmd == "migrate") {
            Options o(args, 1);
            return migrate(o);
        }
        if ((cmd == "org" || cmd == "token") && args.size() >= 2) {
            Options o(args, 2);
            return cmd == "org" ? org_command(args[1], o) : token_command(args[1], o);
        }
        if ((cmd == "apikey" || cmd == "site") && args.size() >= 2) {
            Options o(args, 2);
            return cmd == "apikey" ? apikey_command(args[1], o) : site_command(args[1], o);
        }
        if (cmd == "invite") {
            Options o(args, 1);
            return invite_command(o);
        }
        if (cmd == "domain" && args.size() >= 2) {
            Options o(args, 2);
            return domain_command(args[1], o);
        }
        if (cmd == "audit") {
            Options o(args, 1);
            return audit_command(o);
        }
        if (cmd == "review") {
            Options o(args, 1);
            return review_command(o);
        }
        throw UsageError("unknown command \"" + cmd + "\"");
    } catch (const UsageError& e) {
        std::cerr << "scimd: " << e.what() << "\n\n" << kUsage;
        return 2;
    } catch (const Error& e) {
        std::cerr << "scimd: " << e.detail() << std::endl;
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "scimd: " << e.what() << std::endl;
        return 1;
    }
}

}  // namespace scimd::app
