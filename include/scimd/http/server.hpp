#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scimd/protocol/message.hpp"

namespace scimd::http {

/// Everything the HTTPS server is told at start.
struct ServerConfig {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8443;   ///< 0 picks a free port (tests); see Server::port()
    std::string cert_file;       ///< PEM certificate chain
    std::string key_file;        ///< PEM private key
    std::size_t io_threads = 2;  ///< threads running the io_context
    std::size_t workers = 4;     ///< handler threads for reads (GET, HEAD)
    /// Handler threads of their own for every other method; 0 runs writes on `workers`.
    /// With SQLite, which takes one writer at a time, one writer thread queues writes in
    /// order instead of waking threads that can only wait for each other.
    std::size_t write_workers = 0;
    std::size_t queue_limit = 512;  ///< requests waiting for a worker before 503
    std::size_t max_connections = 1024;
    std::size_t body_limit = 1024 * 1024;  ///< bytes; larger bodies get 413
    /// Targets that take larger bodies than body_limit: (path prefix, limit).
    std::vector<std::pair<std::string, std::size_t>> body_limits;
    std::size_t header_limit = 16 * 1024;     ///< bytes of request line and headers
    std::chrono::seconds io_timeout{30};      ///< each read and write, and keep-alive idling
    std::chrono::seconds shutdown_grace{20};  ///< in-flight work allowed after stop()
    bool access_log = true;                   ///< one JSON line per request on stderr
};

/// Handles one request on a worker thread. May throw: scimd::Error becomes its SCIM error
/// body, anything else a logged 500.
using Handler = std::function<protocol::Response(const protocol::Request&)>;

/// The Beast HTTPS server: TLS 1.2+, keep-alive, deadlines, limits, a bounded worker pool,
/// request ids, access log, graceful shutdown.
class Server {
public:
    /// Binds and listens. Throws std::runtime_error with a one-line reason (certificate
    /// unreadable, address in use, …).
    Server(ServerConfig config, Handler handler);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// The bound port (useful with port 0).
    std::uint16_t port() const;

    /// Starts the I/O and worker threads and returns.
    void start();

    /// Stops accepting, lets in-flight requests finish (up to shutdown_grace), closes idle
    /// connections. Safe from any thread, idempotent; wait() returns afterwards.
    void stop();

    /// Blocks until the server has stopped and every thread has ended.
    void wait();

    /// start(), then wait() until SIGINT or SIGTERM arrives and the graceful stop is done.
    void run_until_signal();

    struct Impl;  ///< opaque; public only so that the connection code can name it

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace scimd::http
