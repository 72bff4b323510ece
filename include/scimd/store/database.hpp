#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
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

    /// SQLite: runs `job` on the one writer connection and returns when its work is
    /// committed, rethrowing what it threw (its work then undone). The jobs queued while a
    /// transaction commits share the next one (group commit), each in its own savepoint, so
    /// that pages the writes share (the tail of a table, the organization's row) go to the
    /// write-ahead log once per batch instead of once per write. Called on the writer
    /// itself (a job that writes again), the job runs at once in the current transaction.
    void run_write(const std::function<void(soci::session&)>& job);

    /// Whether `sql` is the writer's connection, on which a transaction is a savepoint.
    bool is_writer(const soci::session& sql) const noexcept;

    /// SQLite: how many pages the write-ahead log takes before it is checkpointed, beside
    /// the writer (default 8,000: 32 MiB). Set before the first write.
    void checkpoint_every(int pages) noexcept { checkpoint_pages_ = pages; }

private:
    struct Writer;
    Backend backend_;
    std::size_t size_;
    std::string connection_;
    std::unique_ptr<soci::connection_pool> pool_;
    std::mutex write_mutex_;
    std::once_flag writer_once_;
    std::unique_ptr<Writer> writer_;
    std::atomic<Writer*> started_writer_{nullptr};  // read by is_writer() on any thread
    int checkpoint_pages_ = 8000;
};

}  // namespace scimd::store
