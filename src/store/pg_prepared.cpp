#include "store/pg_prepared.hpp"

#include <string_view>
#include <vector>

#include <soci/postgresql/soci-postgresql.h>

namespace scimd::store {
namespace {

// invalid_sql_statement_name: the connection has not prepared this statement (yet).
constexpr std::string_view kNoSuchStatement = "26000";

[[noreturn]] void fail(PGconn* conn, const PGresult* r) {
    const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    if (state == nullptr || PQstatus(conn) != CONNECTION_OK) {
        state = "08006";  // connection_failure
    }
    std::string message = r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(conn);
    while (!message.empty() && message.back() == '\n') {
        message.pop_back();
    }
    throw soci::postgresql_soci_error(message, state);
}

bool succeeded(const PGresult* r) {
    const ExecStatusType s = PQresultStatus(r);
    return s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK;
}

}  // namespace

PgResult pg_exec_prepared(soci::session& sql,
                          const char* name,
                          const char* text,
                          std::initializer_list<const std::string*> params) {
    PGconn* conn = static_cast<soci::postgresql_session_backend*>(sql.get_backend())->conn_;
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const std::string* p : params) {
        values.push_back(p != nullptr ? p->c_str() : nullptr);
    }
    const int n = static_cast<int>(values.size());
    for (int attempt = 0;; ++attempt) {
        PgResult r(PQexecPrepared(conn, name, n, values.data(), nullptr, nullptr, 0), &PQclear);
        if (r && succeeded(r.get())) {
            return r;
        }
        const char* state = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
        if (attempt > 0 || state == nullptr || state != kNoSuchStatement) {
            fail(conn, r.get());
        }
        PgResult prepared(PQprepare(conn, name, text, n, nullptr), &PQclear);
        if (!prepared || !succeeded(prepared.get())) {
            fail(conn, prepared.get());
        }
    }
}

}  // namespace scimd::store
