#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

namespace soci {
class connection_pool;
class session;
}  // namespace soci

namespace scimd::store {

enum class Backend { kSqlite, kPostgres };

/// A parsed `--db` URL: `sqlite:PATH` or `postgresql://…` / `postgres://…` (a libpq URI).
struct DatabaseUrl {
    Backend backend = Backend::kSqlite;
    std::string connection;  ///< what SOCI's backend gets (the path, or the URI)

    /// Throws std::invalid_argument with a one-line reason for anything else.
    static DatabaseUrl parse(const std::string& url);
};

/// A pool of connections to one database, with its migrations.
class Database {
public:
    /// Opens `size` connections. Throws std::runtime_error with a one-line reason when the
    /// database cannot be opened or reached.
    Database(const DatabaseUrl& url, std::size_t size);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    Backend backend() const noexcept { return backend_; }
    std::size_t size() const noexcept { return size_; }
    soci::connection_pool& pool() noexcept { return *pool_; }

    /// Applies pending migrations (idempotent); returns how many were applied.
    int migrate();

    /// True when a trivial query succeeds (for /readyz).
    bool ping();

    /// Serializes this process's SQLite writers: they queue here, in order, instead of
    /// polling in SQLite's busy handler (which sleeps up to 100 ms between tries). Other
    /// processes (the CLI) still meet the busy timeout.
    std::mutex& write_mutex() noexcept { return write_mutex_; }

private:
    Backend backend_;
    std::size_t size_;
    std::unique_ptr<soci::connection_pool> pool_;
    std::mutex write_mutex_;
};

}  // namespace scimd::store
