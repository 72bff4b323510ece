#pragma once

#include <cstddef>
#include <string>

#include <soci/soci.h>

#include "scimd/store/database.hpp"

namespace scimd::store {

/// One connection leased from the pool for the life of the object. A pool that stays empty
/// for the lease timeout becomes 503, never an unbounded wait.
class Lease {
public:
    explicit Lease(Database& db);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    soci::session& operator*() noexcept { return *session_; }
    soci::session* operator->() noexcept { return session_; }

private:
    Database& db_;
    std::size_t pos_ = 0;
    soci::session* session_ = nullptr;
};

/// A write transaction. SQLite starts it with BEGIN IMMEDIATE so that two writers queue on
/// the busy timeout instead of failing when a read snapshot is upgraded. Rolls back in the
/// destructor unless committed.
class WriteTx {
public:
    WriteTx(soci::session& sql, Backend backend);
    ~WriteTx();
    WriteTx(const WriteTx&) = delete;
    WriteTx& operator=(const WriteTx&) = delete;
    void commit();

private:
    soci::session& sql_;
    bool done_ = false;
};

/// True for a unique-constraint violation, on either backend.
bool is_unique_violation(const soci::soci_error& e);

}  // namespace scimd::store
