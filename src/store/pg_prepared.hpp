#pragma once

#include <initializer_list>
#include <memory>
#include <string>

#include <libpq-fe.h>
#include <soci/soci.h>

namespace scimd::store {

/// A PostgreSQL result, freed with its owner.
using PgResult = std::unique_ptr<PGresult, decltype(&PQclear)>;

/// Runs the statement `name` on this PostgreSQL connection with text parameters, in one round
/// trip and without parsing or planning it again: it is prepared from `text` ($1, $2, …) the
/// first time the connection meets it, and again after a reconnect (the server forgets a
/// connection's statements; the error says so and the statement is prepared and run again).
/// SOCI 4.0 can only keep a prepared statement as a statement object tied to the connection
/// it was made on, which a reconnect leaves dangling; this keeps nothing on our side.
///
/// Failures are thrown as soci::postgresql_soci_error with the server's SQLSTATE (08006 when
/// the connection itself is gone), for with_session to translate.
PgResult pg_exec_prepared(soci::session& sql,
                          const char* name,
                          const char* text,
                          std::initializer_list<const std::string*> params);

/// The value of a column of a row of `r`; nullptr for SQL NULL.
inline const char* pg_value(const PgResult& r, int row, int column) {
    return PQgetisnull(r.get(), row, column) ? nullptr : PQgetvalue(r.get(), row, column);
}

}  // namespace scimd::store
