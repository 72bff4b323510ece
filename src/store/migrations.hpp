#pragma once

#include <string_view>
#include <vector>

namespace scimd::store {

/// One versioned migration of one dialect, from src/store/migrations/<dialect>/NNN_name.sql.
struct Migration {
    std::string_view dialect;  ///< "sqlite" or "postgresql"
    int version;
    std::string_view name;
    std::string_view sql;  ///< statements separated by ";\n"
};

/// All migrations compiled into the binary, in file order.
const std::vector<Migration>& embedded_migrations();

}  // namespace scimd::store
