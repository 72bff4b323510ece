#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "scimd/app/app.hpp"
#include "scimd/error.hpp"
#include "scimd/util/crypto.hpp"

namespace scimd::app {
namespace {

constexpr const char* kUsage = R"(usage: scimd COMMAND [OPTIONS]

  serve  --db URL --listen HOST:PORT --cert FILE --key FILE [--public-url URL]
         [--threads N] [--workers N] [--body-limit BYTES] [--token-cache-seconds N]
         [--no-access-log]
  migrate --db URL
  org create --db URL --name NAME          prints the new organization's id
  org list --db URL
  token create --db URL --org NAME_OR_ID --name LABEL [--expires-in DAYS]
                                           prints the secret alone on stdout
  token list --db URL --org NAME_OR_ID
  token revoke --db URL --org NAME_OR_ID --id TOKEN_ID

Every option can also come from the environment: --db is SCIMD_DB, --listen SCIMD_LISTEN,
--cert SCIMD_CERT, --key SCIMD_KEY, --public-url SCIMD_PUBLIC_URL, --threads SCIMD_THREADS,
--workers SCIMD_WORKERS, --body-limit SCIMD_BODY_LIMIT, --token-cache-seconds
SCIMD_TOKEN_CACHE_SECONDS. DB URLs: sqlite:PATH, postgresql://…
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
            } else if (a == "--no-access-log") {
                values_.emplace("no-access-log", "1");
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

core::Organization find_org(store::Database& db, const std::string& key) {
    store::SqlOrganizationRepository orgs(db);
    auto org = orgs.find(key);
    if (!org) {
        throw std::runtime_error("no organization \"" + key + "\"");
    }
    return *org;
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
    o.check_all_used();
    if (public_url.empty()) {
        const std::string host =
            (config.host == "0.0.0.0" || config.host == "::" || config.host == "127.0.0.1")
                ? "localhost"
                : config.host;
        public_url = "https://" + host + ":" + std::to_string(config.port);
    }
    App app(db_url, config, public_url, std::chrono::seconds(cache_seconds));
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

int org_command(const std::string& verb, Options& o) {
    if (verb == "create") {
        const std::string name = o.require("name");
        const std::string db_url = o.require("db");
        o.check_all_used();
        if (name.empty()) {
            throw UsageError("--name must not be empty");
        }
        auto db = open_db(o);
        store::SqlOrganizationRepository orgs(*db);
        core::Organization org{util::uuid_v4(), name,
                               core::format_time(std::chrono::system_clock::now())};
        orgs.insert(org);
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
    throw UsageError("unknown command \"org " + verb + "\"");
}

int token_command(const std::string& verb, Options& o) {
    // Every option is read and checked before the database is opened (or created).
    if (verb == "create") {
        const std::string org_key = o.require("org");
        const std::string label = o.require("name");
        const std::size_t days = o.number("expires-in", 0);
        if (days > 36500) {
            throw UsageError("--expires-in must be at most 36500 days");
        }
        o.require("db");
        o.check_all_used();
        auto db = open_db(o);
        const core::Organization org = find_org(*db, org_key);
        const auto now = std::chrono::system_clock::now();
        // 256 random bits behind a recognizable prefix (secret scanners key on it).
        const std::string secret = "scimd_" + util::base64url(util::random_bytes(32));
        core::ScimToken t;
        t.id = util::uuid_v4();
        t.org_id = org.id;
        t.name = label;
        t.hash = util::sha256_hex(secret);
        t.created = core::format_time(now);
        if (days > 0) {
            t.expires = core::format_time(now + std::chrono::hours(24 * days));
        }
        store::SqlTokenRepository(*db).insert(t);
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
        if (!store::SqlTokenRepository(*db).revoke(
                org.id, id, core::format_time(std::chrono::system_clock::now()))) {
            throw std::runtime_error("no active token " + id + " in organization " + org.name);
        }
        std::cerr << "scimd: token " << id << " revoked" << std::endl;
        return 0;
    }
    throw UsageError("unknown command \"token " + verb + "\"");
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
