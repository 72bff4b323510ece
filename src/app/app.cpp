#include "scimd/app/app.hpp"

#include <algorithm>
#include <iostream>

#include <boost/json.hpp>

#include "scimd/util/dns.hpp"

namespace scimd::app {
namespace json = boost::json;

namespace {
constexpr std::size_t kGroupBodyLimit = 10 * 1024 * 1024;
constexpr std::size_t kSqliteWriteWorkers = 8;
}  // namespace

App::App(const std::string& db_url,
         http::ServerConfig config,
         const std::string& public_url,
         std::chrono::milliseconds token_cache_ttl,
         MailConfig mail,
         std::string dns_server) {
    Mailer::check(mail);
    const store::DatabaseUrl url = store::DatabaseUrl::parse(db_url);
    if (url.backend == store::Backend::kSqlite && config.write_workers == 0) {
        // SQLite's writes are committed in groups by the store's one writer; these threads
        // run the write handlers' own work (parsing, PATCH, rendering) meanwhile, and how
        // many wait for the writer is how many writes one commit can take.
        config.write_workers = kSqliteWriteWorkers;
    }
    // R-64: a group's whole membership comes in one PUT or PATCH (Okta pushes every member
    // of a large group at once): Groups take bodies of up to 10 MiB.
    config.body_limits.emplace_back(std::string(protocol::kScimPrefix) + "/Groups",
                                    std::max(config.body_limit, kGroupBodyLimit));
    // One connection per handler thread, so that a handler never waits for a connection.
    db_ = std::make_unique<store::Database>(
        url, (config.workers ? config.workers : 1) + config.write_workers);
    db_->migrate();
    users_ = std::make_unique<store::SqlUserRepository>(*db_);
    tokens_ = std::make_unique<store::SqlTokenRepository>(*db_);
    groups_ = std::make_unique<store::SqlGroupRepository>(*db_);
    access_ = std::make_unique<store::SqlAccessRepository>(*db_);
    api_keys_ = std::make_unique<store::SqlApiKeyRepository>(*db_);
    audit_ = std::make_unique<store::SqlAuditRepository>(*db_);
    orgs_ = std::make_unique<store::SqlOrganizationRepository>(*db_);
    invitations_ = std::make_unique<store::SqlInvitationRepository>(*db_, *users_);
    outbox_ = std::make_unique<store::SqlOutboxRepository>(*db_);
    domains_ = std::make_unique<store::SqlDomainRepository>(*db_);
    signups_ = std::make_unique<store::SqlSignupRepository>(*db_, *users_);
    mailer_ = std::make_unique<Mailer>(*outbox_, clock_, std::move(mail));
    std::string base = public_url;
    while (!base.empty() && base.back() == '/') {
        base.pop_back();
    }
    admin_ = std::make_unique<api::AdminApi>(api::AdminContext{
        *orgs_, *users_, *groups_, *access_, *tokens_, *api_keys_, *audit_, *invitations_,
        *domains_, *signups_, clock_, base,
        [dns = util::DnsSettings{std::move(dns_server)}](const std::string& name) {
            return util::txt_records(name, dns);
        }});
    scim_ = std::make_unique<protocol::ScimService>(protocol::ScimContext{
        *users_, *groups_, *access_, *tokens_, clock_, protocol::SchemaRegistry::builtin(),
        base + std::string(protocol::kScimPrefix), token_cache_ttl, orgs_.get(), domains_.get()});
    server_ = std::make_unique<http::Server>(
        std::move(config), [this](const protocol::Request& r) { return route(r); });
    // Housekeeping on one thread: mail every second, expired grants every minute.
    sweeper_ = std::thread([this] {
        std::unique_lock lock(sweep_mutex_);
        auto next_sweep = std::chrono::steady_clock::now() + std::chrono::minutes(1);
        while (!sweep_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; })) {
            lock.unlock();
            try {
                deliver_mail();
            } catch (const std::exception& e) {
                std::cerr << "scimd: delivering mail failed: " << e.what() << std::endl;
            }
            if (std::chrono::steady_clock::now() >= next_sweep) {
                next_sweep += std::chrono::minutes(1);
                try {
                    sweep_expired_grants();
                } catch (const std::exception& e) {
                    std::cerr << "scimd: recording expired grants failed: " << e.what()
                              << std::endl;
                }
            }
            lock.lock();
        }
    });
}

App::~App() {
    {
        std::lock_guard lock(sweep_mutex_);
        stopping_ = true;
    }
    sweep_cv_.notify_all();
    if (sweeper_.joinable()) {
        sweeper_.join();
    }
}

int App::sweep_expired_grants() {
    const std::string now = core::format_time(clock_.now());
    int n = 0;
    for (const core::Organization& org : orgs_->list()) {
        n += access_->record_expired_grants(org.id, now);
    }
    return n;
}

protocol::Response App::route(const protocol::Request& req) {
    const std::string path = req.target.substr(0, req.target.find('?'));
    const auto plain = [](int status, std::string body) {
        protocol::Response res;
        res.status = status;
        res.headers.emplace_back("Content-Type", "application/json");
        res.body = std::move(body);
        return res;
    };
    if (path == "/healthz") {
        return plain(200, R"({"status":"ok"})");
    }
    if (path == "/readyz") {
        return db_->ping() ? plain(200, R"({"status":"ready"})")
                           : plain(503, R"({"status":"database unreachable"})");
    }
    if (path == protocol::kScimPrefix ||
        path.rfind(std::string(protocol::kScimPrefix) + "/", 0) == 0) {
        return scim_->handle(req);
    }
    if (path.rfind(std::string(api::kAdminPrefix) + "/", 0) == 0) {
        return admin_->handle(req);
    }
    throw Error::not_found("no endpoint " + path + "; SCIM is served under " +
                           std::string(protocol::kScimPrefix));
}

}  // namespace scimd::app
