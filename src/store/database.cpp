#include "scimd/store/database.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

#include "store/migrations.hpp"
#include "store/sql_util.hpp"
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <sqlite3.h>

#include "scimd/core/clock.hpp"
#include "scimd/error.hpp"

namespace scimd::store {
namespace {

constexpr int kLeaseTimeoutMs = 5000;
constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
    "name TEXT NOT NULL, applied TEXT NOT NULL)";
constexpr const char* kSelectApplied = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
constexpr const char* kInsertApplied =
    "INSERT INTO schema_migrations (version, name, applied) VALUES (:version, :name, :applied)";
// Serializes concurrent migrators of one PostgreSQL database (several instances starting).
constexpr const char* kPgLock = "SELECT pg_advisory_xact_lock(7331001)";

// SOCI prepares one statement at a time, so a migration file is split on ";" at line ends.
std::vector<std::string> split_statements(std::string_view sql) {
    std::vector<std::string> out;
    std::string current;
    std::size_t start = 0;
    while (start < sql.size()) {
        std::size_t end = sql.find('\n', start);
        if (end == std::string_view::npos) {
            end = sql.size();
        }
        std::string_view line = sql.substr(start, end - start);
        current.append(line).push_back('\n');
        if (!line.empty() && line.back() == ';') {
            current.erase(current.find_last_of(';'));
            out.push_back(std::move(current));
            current.clear();
        }
        start = end + 1;
    }
    if (current.find_first_not_of(" \n\t") != std::string::npos) {
        out.push_back(std::move(current));
    }
    return out;
}

}  // namespace

DatabaseUrl DatabaseUrl::parse(const std::string& url) {
    constexpr std::string_view kSqlite = "sqlite:";
    if (url.rfind(kSqlite, 0) == 0) {
        std::string path = url.substr(kSqlite.size());
        if (path.rfind("//", 0) == 0) {
            path = path.substr(2);  // sqlite://relative/or//absolute
        }
        if (path.empty() || path == ":memory:") {
            throw std::invalid_argument("database URL \"" + url +
                                        "\": sqlite needs a file path (sqlite:PATH); an in-memory "
                                        "database cannot be shared by the connection pool");
        }
        return {Backend::kSqlite, path};
    }
    if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
        return {Backend::kPostgres, url};
    }
    throw std::invalid_argument("database URL \"" + url +
                                "\" is not sqlite:PATH or postgresql://… (a libpq URI)");
}

// Process-wide SQLite settings, made before the first connection initializes the library:
// each pooled connection is used by one thread at a time, so the per-connection mutexes
// (serialized mode) and the global memory-statistics mutex, which every allocation of every
// connection takes, only cost contention between the workers.
namespace {
void configure_sqlite_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        sqlite_api::sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
        sqlite_api::sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    });
}

// Opens one connection with the settings every connection of the backend gets.
void open_connection(soci::session& s, Backend backend, const std::string& connection) {
    const soci::backend_factory& factory =
        backend == Backend::kPostgres ? *soci::factory_postgresql() : *soci::factory_sqlite3();
    try {
        s.open(factory, connection);
        if (backend == Backend::kSqlite) {
            s << "PRAGMA journal_mode=WAL";
            s << "PRAGMA busy_timeout=10000";
            s << "PRAGMA foreign_keys=ON";
            s << "PRAGMA synchronous=NORMAL";
            // The committing writer checkpoints the write-ahead log every 8,000 pages
            // (32 MiB; SQLite's default is 1,000): fewer checkpoints, so fewer fsyncs in
            // the write path, and a log that stays bounded under a steady stream of
            // writes; the file is cut back to 64 MiB after a checkpoint.
            s << "PRAGMA wal_autocheckpoint=8000";
            s << "PRAGMA journal_size_limit=67108864";
        }
    } catch (const std::exception& e) {
        std::string what = e.what();
        while (!what.empty() && (what.back() == '\n' || what.back() == ' ')) {
            what.pop_back();
        }
        for (char& c : what) {
            if (c == '\n') {
                c = ' ';
            }
        }
        throw std::runtime_error("cannot open the database: " + what);
    }
}

// The most jobs one group commit takes: enough to take every waiting write handler.
constexpr std::size_t kMaxBatch = 64;

// The Database whose writer runs on this thread, if any.
thread_local const Database* writer_of_thread = nullptr;
}  // namespace

struct Database::Writer {
    struct Job {
        const std::function<void(soci::session&)>* fn;
        std::exception_ptr error;
        bool done = false;
    };

    soci::session session;
    std::mutex m;
    std::condition_variable wake, finished;
    std::deque<Job*> queue;
    bool stopping = false;
    std::thread thread;

    // The checkpointer: its own connection and thread, woken by the writer's commits.
    int checkpoint_pages = 0;
    soci::session checkpoint_session;
    std::mutex checkpoint_m;
    std::mutex checkpointing;  // held during a checkpoint, by the checkpointer or the writer
    std::condition_variable checkpoint_wake;
    bool checkpoint_wanted = false, checkpoint_stopping = false;
    std::thread checkpointer;

    void run(Database& db);
    void commit_batch(Database& db, const std::vector<Job*>& batch);
    void run_checkpoints();
    // SQLite's hook after every commit on the writer's connection, with the log's size.
    static int on_commit(void* self, sqlite_api::sqlite3* db, const char* name, int pages);
};

// The writer's write-ahead log is checkpointed on a thread of its own: a checkpoint copies
// the logged pages into the database file and syncs it, and on the writer every write queued
// meanwhile waited for it (tens of milliseconds, the writes' p99). Past twice
// Database::checkpoint_every() pages the writer checkpoints the rest itself, between two
// transactions, so that the log starts over even under writes that never pause.
int Database::Writer::on_commit(void* self, sqlite_api::sqlite3* db, const char*, int pages) {
    auto* w = static_cast<Writer*>(self);
    if (pages >= 2 * w->checkpoint_pages) {
        // The checkpointer fell behind the writes: the writer waits for its checkpoint to
        // end (SQLite would refuse a second one at once) and copies what is left.
        std::lock_guard one_at_a_time(w->checkpointing);
        sqlite_api::sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                              nullptr);
    } else if (pages >= w->checkpoint_pages) {
        {
            std::lock_guard lock(w->checkpoint_m);
            w->checkpoint_wanted = true;
        }
        w->checkpoint_wake.notify_one();
    }
    return SQLITE_OK;
}

void Database::Writer::run_checkpoints() {
    for (;;) {
        {
            std::unique_lock lock(checkpoint_m);
            checkpoint_wake.wait(lock, [this] { return checkpoint_stopping || checkpoint_wanted; });
            if (checkpoint_stopping) {
                return;
            }
            checkpoint_wanted = false;
        }
        try {
            // PASSIVE: copies what no reader still needs, without waiting for anyone.
            std::lock_guard one_at_a_time(checkpointing);
            checkpoint_session << "PRAGMA wal_checkpoint(PASSIVE)";
        } catch (const std::exception& e) {
            std::cerr << "scimd: checkpointing the write-ahead log failed: " << e.what()
                      << std::endl;
        }
    }
}

void Database::Writer::run(Database& db) {
    writer_of_thread = &db;
    for (;;) {
        std::vector<Job*> batch;
        {
            std::unique_lock lock(m);
            wake.wait(lock, [this] { return stopping || !queue.empty(); });
            if (queue.empty()) {
                return;  // stopping, and every queued job is done
            }
            while (!queue.empty() && batch.size() < kMaxBatch) {
                batch.push_back(queue.front());
                queue.pop_front();
            }
        }
        commit_batch(db, batch);
        {
            std::lock_guard lock(m);
            for (Job* job : batch) {
                job->done = true;
            }
        }
        finished.notify_all();
    }
}

void Database::Writer::commit_batch(Database& db, const std::vector<Job*>& batch) {
    std::lock_guard writers(db.write_mutex());
    std::exception_ptr failed;
    try {
        session << "BEGIN IMMEDIATE";
        for (Job* job : batch) {
            session << "SAVEPOINT job";
            try {
                (*job->fn)(session);
                session << "RELEASE job";
            } catch (...) {
                job->error = std::current_exception();
                session << "ROLLBACK TO job";
                session << "RELEASE job";
            }
        }
        session << "COMMIT";
    } catch (...) {
        // The transaction itself failed (the disk is full, the file is gone): nothing of
        // the batch is kept, and every job hears why.
        failed = std::current_exception();
        try {
            session << "ROLLBACK";
        } catch (const std::exception&) {
            // No transaction is open any more.
        }
    }
    if (failed) {
        for (Job* job : batch) {
            if (!job->error) {
                job->error = failed;
            }
        }
    }
}

void Database::run_write(const std::function<void(soci::session&)>& job) {
    if (writer_of_thread == this) {
        job(writer_->session);
        return;
    }
    std::call_once(writer_once_, [this] {
        auto w = std::make_unique<Writer>();
        open_connection(w->session, backend_, connection_);
        open_connection(w->checkpoint_session, backend_, connection_);
        w->checkpoint_pages = checkpoint_pages_;
        // Replaces the connection's own checkpoints (wal_autocheckpoint is this hook).
        auto* lite = static_cast<soci::sqlite3_session_backend*>(w->session.get_backend());
        sqlite_api::sqlite3_wal_hook(lite->conn_, &Writer::on_commit, w.get());
        w->checkpointer = std::thread([raw = w.get()] { raw->run_checkpoints(); });
        w->thread = std::thread([this, raw = w.get()] { raw->run(*this); });
        started_writer_.store(w.get(), std::memory_order_release);
        writer_ = std::move(w);
    });
    Writer::Job mine{&job};
    {
        std::lock_guard lock(writer_->m);
        writer_->queue.push_back(&mine);
    }
    writer_->wake.notify_one();
    {
        std::unique_lock lock(writer_->m);
        writer_->finished.wait(lock, [&] { return mine.done; });
    }
    if (mine.error) {
        std::rethrow_exception(mine.error);
    }
}

bool Database::is_writer(const soci::session& sql) const noexcept {
    const Writer* w = started_writer_.load(std::memory_order_acquire);
    return w != nullptr && &w->session == &sql;
}

Database::Database(const DatabaseUrl& url, std::size_t size)
    : backend_(url.backend),
      size_(size == 0 ? 1 : size),
      connection_(url.connection),
      pool_((configure_sqlite_once(), std::make_unique<soci::connection_pool>(size_))) {
    for (std::size_t i = 0; i < size_; ++i) {
        soci::session& s = pool_->at(i);  // at(): startup only, before any lease
        open_connection(s, backend_, url.connection);
    }
}

Database::~Database() {
    if (writer_) {
        {
            std::lock_guard lock(writer_->m);
            writer_->stopping = true;
        }
        writer_->wake.notify_one();
        writer_->thread.join();
        {
            std::lock_guard lock(writer_->checkpoint_m);
            writer_->checkpoint_stopping = true;
        }
        writer_->checkpoint_wake.notify_one();
        writer_->checkpointer.join();
    }
}

int Database::migrate() {
    const std::string_view dialect = backend_ == Backend::kPostgres ? "postgresql" : "sqlite";
    Lease lease(*this);
    soci::session& sql = *lease;
    sql << kCreateMigrationsTable;
    WriteTx tx(sql, *this);
    if (backend_ == Backend::kPostgres) {
        sql << kPgLock;
    }
    int current = 0;
    sql << kSelectApplied, soci::into(current);
    int applied = 0;
    const std::string now = core::format_time(std::chrono::system_clock::now());
    for (const Migration& m : embedded_migrations()) {
        if (m.dialect != dialect || m.version <= current) {
            continue;
        }
        for (const std::string& statement : split_statements(m.sql)) {
            sql << statement;
        }
        int version = m.version;
        std::string name(m.name);
        std::string at = now;
        sql << kInsertApplied, soci::use(version, "version"), soci::use(name, "name"),
            soci::use(at, "applied");
        ++applied;
    }
    tx.commit();
    return applied;
}

bool Database::ping() {
    try {
        // with_session: a lost connection is marked and reconnected, so that readiness
        // comes back by itself when the database does.
        return with_session(*this, [](soci::session& sql) {
            int one = 0;
            sql << "SELECT 1", soci::into(one);
            return one == 1;
        });
    } catch (const std::exception&) {
        return false;
    }
}

Lease::Lease(Database& db) : db_(db) {
    if (!db_.pool().try_lease(pos_, kLeaseTimeoutMs)) {
        throw Error::unavailable("the database is busy; try again");
    }
    session_ = &db_.pool().at(pos_);
}

Lease::~Lease() {
    if (broken_) {
        try {
            session_->reconnect();
        } catch (const std::exception&) {
            // Still unreachable: the next lease fails and tries again.
        }
    }
    db_.pool().give_back(pos_);
}

WriteTx::WriteTx(soci::session& sql, Database& db) : sql_(sql), savepoint_(db.is_writer(sql)) {
    if (savepoint_) {
        sql_ << "SAVEPOINT tx";
    } else if (db.backend() == Backend::kSqlite) {
        lock_ = std::unique_lock(db.write_mutex());
        sql_ << "BEGIN IMMEDIATE";
    } else {
        sql_ << "BEGIN";
    }
}

WriteTx::~WriteTx() {
    if (!done_) {
        try {
            if (savepoint_) {
                sql_ << "ROLLBACK TO tx";
                sql_ << "RELEASE tx";
            } else {
                sql_ << "ROLLBACK";
            }
        } catch (const std::exception&) {
            // The connection is broken; nothing more to undo on it.
        }
    }
}

void WriteTx::commit() {
    sql_ << (savepoint_ ? "RELEASE tx" : "COMMIT");
    done_ = true;
    if (lock_.owns_lock()) {
        lock_.unlock();
    }
}

void rethrow_translated(const soci::soci_error& e, Lease* lease) {
    if (const auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&e)) {
        const std::string state = pg->sqlstate();
        if (e.get_error_category() == soci::soci_error::connection_error ||
            state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03") {
            if (lease) {
                lease->mark_broken();
            }
            throw Error::unavailable("the database connection was lost; retry the request");
        }
        if (state == "40001" || state == "40P01") {
            throw Error::unavailable("the database was busy with a conflicting change; retry");
        }
    }
    if (const auto* lite = dynamic_cast<const soci::sqlite3_soci_error*>(&e)) {
        const int code = lite->result() & 0xff;
        if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
            throw Error::unavailable("the database is busy; retry the request");
        }
    }
    if (e.get_error_category() == soci::soci_error::connection_error) {
        if (lease) {
            lease->mark_broken();
        }
        throw Error::unavailable("the database connection was lost; retry the request");
    }
    throw;
}

void close_row(soci::statement& st) noexcept {
    if (auto* lite = dynamic_cast<soci::sqlite3_statement_backend*>(st.get_backend())) {
        sqlite_api::sqlite3_reset(lite->stmt_);
    }
}

soci::statement one_time(soci::session& sql, const std::string& text) {
    soci::statement st(sql);
    st.alloc();
    st.prepare(text, soci::details::st_one_time_query);
    return st;
}

std::string audit_time(const core::Audit& audit) {
    return audit.at.empty() ? core::format_time(std::chrono::system_clock::now()) : audit.at;
}

AuditWriter::AuditWriter(soci::session& sql, soci::details::statement_type type) : st_(sql) {
    st_.exchange(soci::use(org_, "org"));
    st_.exchange(soci::use(at_, "at"));
    st_.exchange(soci::use(actor_, "actor"));
    st_.exchange(soci::use(action_, "action"));
    st_.exchange(soci::use(type_, "type"));
    st_.exchange(soci::use(target_, "target"));
    st_.exchange(soci::use(before_, before_ind_, "before"));
    st_.exchange(soci::use(after_, after_ind_, "after"));
    st_.exchange(soci::use(request_, "request"));
    st_.alloc();
    st_.prepare(std::string(kInsertAudit) +
                    "VALUES (:org, :at, :actor, :action, :type, :target, :before, :after, "
                    ":request)",
                type);
    st_.define_and_bind();
}

void AuditWriter::write(const std::string& org_id, const core::Audit& audit) {
    org_ = org_id;
    at_ = audit_time(audit);
    actor_ = audit.actor;
    request_ = audit.request_id;
    for (const core::AuditEntry& e : audit.entries) {
        action_ = e.action;
        type_ = e.target_type;
        target_ = e.target_id;
        before_ = e.before;
        after_ = e.after;
        before_ind_ = e.before.empty() ? soci::i_null : soci::i_ok;
        after_ind_ = e.after.empty() ? soci::i_null : soci::i_ok;
        st_.execute(true);
    }
}

void write_audit(soci::session& sql, const std::string& org_id, const core::Audit& audit) {
    if (!audit.entries.empty()) {
        AuditWriter(sql, soci::details::st_one_time_query).write(org_id, audit);
    }
}

std::string with_doc(const char* text,
                     Backend backend,
                     const char* sqlite_form,
                     const char* pg_form) {
    std::string s = text;
    const auto pos = s.find("{doc}");
    s.replace(pos, 5, backend == Backend::kPostgres ? pg_form : sqlite_form);
    return s;
}

std::string json_array_of(const std::vector<std::string>& ids) {
    boost::json::array a;
    a.reserve(ids.size());
    for (const std::string& id : ids) {
        a.emplace_back(id);
    }
    return boost::json::serialize(a);
}

std::string json_ids_table(Backend backend, const std::string& param) {
    return backend == Backend::kSqlite
               ? "json_each(" + param + ") AS j"
               : "json_array_elements_text(CAST(" + param + " AS json)) AS j(value)";
}

bool is_unique_violation(const soci::soci_error& e) {
    if (const auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&e)) {
        return pg->sqlstate() == "23505";
    }
    if (const auto* lite = dynamic_cast<const soci::sqlite3_soci_error*>(&e)) {
        return (lite->result() & 0xff) == SQLITE_CONSTRAINT &&
               std::string_view(e.what()).find("UNIQUE") != std::string_view::npos;
    }
    return false;
}

}  // namespace scimd::store
