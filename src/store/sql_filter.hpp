#pragma once

#include <deque>
#include <string>
#include <vector>

#include <soci/soci.h>

#include "scimd/core/filter.hpp"
#include "scimd/store/database.hpp"

namespace scimd::store {

/// The values a generated WHERE clause binds, in order. Every value from a filter is bound,
/// never spliced into SQL text; only attribute names from the schemas become SQL text.
class SqlParams {
public:
    /// `prefix` names the placeholders (":p0", ":p1", …): two sets bound to one statement
    /// need different prefixes.
    explicit SqlParams(std::string prefix = "p") : prefix_(std::move(prefix)) {}

    /// Returns the placeholder (":p3") for a new bound string.
    std::string add(std::string value);
    /// Returns the placeholder for a new bound number.
    std::string add(double value);
    /// Binds every value to `st` (call before define_and_bind()).
    void bind(soci::statement& st);

private:
    struct Slot {
        bool is_number;
        std::size_t index;
        std::string name;
    };
    std::string prefix_;
    std::deque<std::string> strings_;
    std::deque<double> numbers_;
    std::vector<Slot> slots_;
};

/// Translates a resolved filter over Users into a SQL boolean expression over the table
/// alias `u`; `org_id` scopes the subqueries. Attributes with indexed columns (id,
/// userName, externalId, displayName, active, emails, meta.created/lastModified) use them;
/// every other attribute goes through the dialect's JSON functions. Throws
/// Error::invalid_filter for comparisons that have no meaning (e.g. meta.location).
std::string user_filter_sql(const core::Filter& filter,
                            Backend backend,
                            SqlParams& params,
                            const std::string& org_id);

/// The same over Groups, on the table alias `g`: id, externalId, displayName and meta use
/// their columns; `members.value eq "id"` / `members[value eq "id"]` and `members pr` read the
/// member rows. On Users, `groups.value eq "id"` selects the group's members, also through
/// nested groups.
std::string group_filter_sql(const core::Filter& filter,
                             Backend backend,
                             SqlParams& params,
                             const std::string& org_id);

/// ORDER BY terms (without the keyword) for sortBy, ending with the stable tie-break.
std::string user_sort_sql(const core::SortSpec* sort, Backend backend);
std::string group_sort_sql(const core::SortSpec* sort, Backend backend);

/// The table a filter is translated over.
enum class Table { kUsers, kGroups };

/// ASCII lower-case: the key form of case-insensitive columns, shared by writes and filters.
std::string fold_case(const std::string& s);

}  // namespace scimd::store
