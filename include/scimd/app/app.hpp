#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "scimd/api/admin_api.hpp"
#include "scimd/app/mailer.hpp"
#include "scimd/core/clock.hpp"
#include "scimd/http/server.hpp"
#include "scimd/protocol/scim_service.hpp"
#include "scimd/store/database.hpp"
#include "scimd/store/repositories.hpp"

namespace scimd::app {

/// The wired server: database, repositories, SCIM service, admin API and the top-level routes
/// (/healthz, /readyz, /scim/v2/…, /api/v1/…). Used by `scimd serve` and by the end-to-end tests.
class App {
public:
    /// Opens (and migrates) the database with one connection per worker. `dns_server`
    /// ("IP" or "IP:PORT"; empty: the system's resolvers) answers domain verification.
    App(const std::string& db_url,
        http::ServerConfig config,
        const std::string& public_url,
        std::chrono::milliseconds token_cache_ttl = std::chrono::seconds(5),
        MailConfig mail = {},
        std::string dns_server = "");

    ~App();
    App(const App&) = delete;
    App& operator=(const App&) = delete;

    http::Server& server() { return *server_; }
    store::Database& database() { return *db_; }

    /// Removes every grant that has expired, each with a grant.expired audit row in its
    /// organization. Runs every minute on a thread of its own; returns how many.
    int sweep_expired_grants();

    /// Sends the outbox's mail that is due. Runs every second on the sweeper's thread.
    int deliver_mail() { return mailer_->deliver_due(); }

private:
    protocol::Response route(const protocol::Request& req);

    core::SystemClock clock_;
    std::unique_ptr<store::Database> db_;
    std::unique_ptr<store::SqlUserRepository> users_;
    std::unique_ptr<store::SqlTokenRepository> tokens_;
    std::unique_ptr<store::SqlGroupRepository> groups_;
    std::unique_ptr<store::SqlAccessRepository> access_;
    std::unique_ptr<store::SqlApiKeyRepository> api_keys_;
    std::unique_ptr<store::SqlAuditRepository> audit_;
    std::unique_ptr<store::SqlOrganizationRepository> orgs_;
    std::unique_ptr<store::SqlInvitationRepository> invitations_;
    std::unique_ptr<store::SqlDomainRepository> domains_;
    std::unique_ptr<store::SqlSignupRepository> signups_;
    std::unique_ptr<store::SqlOutboxRepository> outbox_;
    std::unique_ptr<Mailer> mailer_;
    std::unique_ptr<api::AdminApi> admin_;
    std::unique_ptr<protocol::ScimService> scim_;
    std::unique_ptr<http::Server> server_;
    std::mutex sweep_mutex_;
    std::condition_variable sweep_cv_;
    bool stopping_ = false;
    std::thread sweeper_;
};

/// Runs the `scimd` command line; returns the process exit status.
int main(int argc, char** argv);

}  // namespace scimd::app
