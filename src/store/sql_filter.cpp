#include "store/sql_filter.hpp"

#include <chrono>
#include <cstdio>

#include "scimd/core/clock.hpp"
#include "scimd/error.hpp"

namespace scimd::store {
namespace {

using core::AttrRef;
using core::AttrType;
using core::CompareOp;
using core::Filter;
using core::Literal;

// The kind of SQL value an operand expression yields, which decides how it is compared.
enum class Operand {
    kFoldedText,  // text already case-folded (key columns): compare with a folded value
    kText,        // text compared as is (caseExact, or fold_sql() applied by the caller)
    kIntBool,     // 0/1 integer column
    kNumber,      // numeric
    kJsonBool,    // a JSON boolean as the dialect extracts it
};

struct Expr {
    std::string sql;
    Operand kind;
    bool fold_value = false;  // fold the literal before binding
};

// Names come from the schemas, but they still become SQL text: refuse anything odd.
void check_name(const std::string& name) {
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == ':' || c == '.' || c == '_' || c == '-' ||
                        c == '$';
        if (!ok) {
            throw Error::invalid_filter("attribute name \"" + name + "\" cannot be filtered");
        }
    }
}

// Path segments of an attribute in the document (URN key first for extensions).
std::vector<std::string> doc_path(const AttrRef& a, bool with_sub) {
    std::vector<std::string> path;
    if (a.extension) {
        path.push_back(a.schema);
    }
    path.push_back(a.name);
    if (with_sub && !a.sub.empty()) {
        path.push_back(a.sub);
    }
    for (const auto& p : path) {
        check_name(p);
    }
    return path;
}

std::string sqlite_json_path(const std::vector<std::string>& path) {
    std::string out = "$";
    for (const auto& p : path) {
        out += ".\"" + p + "\"";
    }
    return out;
}

std::string pg_json_path(const std::vector<std::string>& path) {
    std::string out = "{";
    for (std::size_t i = 0; i < path.size(); ++i) {
        out += (i ? ",\"" : "\"") + path[i] + "\"";
    }
    return out + "}";
}

// Case-insensitive text is compared in ASCII lower case on both dialects, as fold_case()
// writes the key columns and as protocol::matches() compares. SQLite's lower() is ASCII-only;
// PostgreSQL's folds every letter of the database's ctype, so a stored "Ünal" became "ünal"
// while the literal, folded by fold_case(), stayed "Ünal": the value did not equal itself.
std::string fold_sql(const std::string& x, Backend backend) {
    if (backend == Backend::kSqlite) {
        return "lower(" + x + ")";
    }
    return "translate(" + x + ", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')";
}

bool is_text_type(AttrType t) {
    return t == AttrType::kString || t == AttrType::kReference || t == AttrType::kDateTime ||
           t == AttrType::kBinary;
}

// A JSON value at `path` below `base` (a document or an array element), typed by `type`.
Expr json_expr(const std::string& base,
               const std::vector<std::string>& path,
               AttrType type,
               bool case_exact,
               Backend backend) {
    std::string raw;
    if (backend == Backend::kSqlite) {
        raw = path.empty() ? base : "json_extract(" + base + ", '" + sqlite_json_path(path) + "')";
    } else {
        raw = base + " #>> '" + pg_json_path(path) + "'";
    }
    if (type == AttrType::kBoolean) {
        // SQLite yields JSON booleans as 1/0 (json_extract and json_each alike); PostgreSQL's
        // #>> as 'true'/'false': leaf() compares with the dialect's form.
        return {raw, Operand::kJsonBool};
    }
    if (type == AttrType::kInteger || type == AttrType::kDecimal) {
        if (backend == Backend::kPostgres) {
            raw = "CAST(" + raw + " AS double precision)";
        }
        return {raw, Operand::kNumber};
    }
    if (is_text_type(type) && !case_exact) {
        return {fold_sql(raw, backend), Operand::kText, true};
    }
    return {raw, Operand::kText};
}

class Translator {
public:
    Translator(Backend backend, SqlParams& params, std::string org, Table table)
        : backend_(backend), params_(params), org_(std::move(org)), table_(table) {}

    std::string filter(const Filter& f) {
        switch (f.kind) {
            case Filter::Kind::kAnd:
            case Filter::Kind::kOr:
                return chain(f, [this](const Filter& c) { return filter(c); });
            case Filter::Kind::kNot:
                return "((" + filter(f.children.at(0)) + ") IS NOT TRUE)";
            case Filter::Kind::kValuePath:
                return value_path(f.attr, f.children.at(0));
            case Filter::Kind::kCompare:
                return compare_top(f);
        }
        return "(1=0)";
    }

private:
    // Most comparisons one filter may turn into: each costs the database work on every row
    // it considers, and SQLite's parser has a bounded stack.
    static constexpr int kMaxComparisons = 100;

    void count_comparison() {
        if (++comparisons_ > kMaxComparisons) {
            throw Error::invalid_filter("the filter has more than " +
                                        std::to_string(kMaxComparisons) + " comparisons");
        }
    }

    // `a and b and c` parses as ((a and b) and c): emit one flat (a AND b AND c), so that
    // long chains neither nest parentheses nor recurse.
    template <typename Emit>
    std::string chain(const Filter& f, Emit emit) {
        const char* op = f.kind == Filter::Kind::kAnd ? " AND " : " OR ";
        std::vector<const Filter*> terms;
        const Filter* left = &f;
        while (left->kind == f.kind) {
            terms.push_back(&left->children.at(1));
            left = &left->children.at(0);
        }
        terms.push_back(left);
        std::string out = "(";
        for (auto it = terms.rbegin(); it != terms.rend(); ++it) {
            if (it != terms.rbegin()) {
                out += op;
            }
            out += emit(**it);
        }
        return out + ")";
    }

    static void check_stored(const AttrRef& a) {
        if (!a.extension && a.name == "password") {
            throw Error::invalid_filter("filtering on " + a.name + " is not supported");
        }
    }

    // A column of the filtered table: users are aliased `u`, groups `g`.
    std::string col(const char* name) const {
        return std::string(table_ == Table::kUsers ? "u." : "g.") + name;
    }

    // A User's groups and a Group's members are rows of group_members, not document values.
    bool is_relation(const AttrRef& a) const {
        return !a.extension && ((table_ == Table::kUsers && a.name == "groups") ||
                                (table_ == Table::kGroups && a.name == "members"));
    }

    // `members[value eq "id"]`, `members.value eq "id"` (or several joined by `or`), and
    // `members pr`; on Users the same over `groups`, where a group counts through nesting:
    // the members of a group's member groups are its members too.
    std::string relation(const AttrRef& a, const Filter& inner) {
        if (inner.kind == Filter::Kind::kOr) {
            return chain(inner, [&](const Filter& c) { return relation(a, c); });
        }
        const bool on_value = inner.attr.sub.empty() || inner.attr.sub == "value";
        if (inner.kind == Filter::Kind::kCompare && on_value && inner.op == CompareOp::kPr) {
            count_comparison();
            return table_ == Table::kGroups
                       ? "(EXISTS (SELECT 1 FROM group_members m WHERE m.group_seq = g.seq))"
                       : "(EXISTS (SELECT 1 FROM group_members m WHERE m.org_id = u.org_id "
                         "AND m.member_id = u.id))";
        }
        if (inner.kind != Filter::Kind::kCompare || !on_value || inner.op != CompareOp::kEq ||
            inner.value.kind != Literal::Kind::kString) {
            throw Error::invalid_filter("filters on " + a.name + " compare its value with eq (" +
                                        a.name + ".value eq \"id\", or " + a.name +
                                        "[value eq \"id\"]) or test it with pr");
        }
        count_comparison();
        // Placeholders of their own: every bound name must appear in the statement.
        const std::string org = params_.add(org_);
        const std::string id = params_.add(inner.value.string);
        if (table_ == Table::kGroups) {
            return "(g.seq IN (SELECT m.group_seq FROM group_members m WHERE m.org_id = " + org +
                   " AND m.member_id = " + id + "))";
        }
        return "(u.id IN (WITH RECURSIVE down(seq) AS (SELECT c.seq FROM scim_groups c WHERE "
               "c.org_id = " +
               org + " AND c.id = " + id +
               " UNION SELECT c.seq FROM down JOIN group_members m ON m.group_seq = down.seq AND "
               "m.member_type = 'Group' JOIN scim_groups c ON c.org_id = m.org_id AND "
               "c.id = m.member_id) SELECT m.member_id FROM group_members m JOIN down ON "
               "m.group_seq = down.seq WHERE m.member_type = 'User'))";
    }

    // A comparison outside brackets.
    std::string compare_top(const Filter& f) {
        const AttrRef& a = f.attr;
        check_stored(a);
        if (a.multi_valued) {
            // emails.value eq "x" means: some element's value equals "x". "ne" and "eq null"
            // are negations over all the values, as in protocol::matches(): `emails.value ne
            // "x"` holds when no value equals "x" (also when there are no emails), and
            // `emails.value eq null` when no value is present.
            Filter positive = f;
            if (f.value.kind == Literal::Kind::kNull) {
                positive.op = CompareOp::kPr;  // ne null: some value is present
                return f.op == CompareOp::kEq ? "((" + value_path(a, positive) + ") IS NOT TRUE)"
                                              : value_path(a, positive);
            }
            if (f.op == CompareOp::kNe) {
                positive.op = CompareOp::kEq;
                return "((" + value_path(a, positive) + ") IS NOT TRUE)";
            }
            return value_path(a, f);
        }
        if (!a.extension) {
            if (a.name == "id") {
                return leaf({col("id"), Operand::kText}, f);
            }
            if (a.name == "externalId") {
                return leaf({col("external_id"), Operand::kText}, f);
            }
            if (a.name == "userName") {
                return leaf({"u.user_name_key", Operand::kFoldedText, true}, f);
            }
            if (a.name == "displayName") {
                return leaf({col("display_name_key"), Operand::kFoldedText, true}, f);
            }
            if (a.name == "active") {
                return leaf({"u.active", Operand::kIntBool}, f);
            }
            if (a.name == "meta") {
                return meta(f);
            }
        }
        return leaf(json_expr(col("document"), doc_path(a, true), a.type, a.case_exact, backend_),
                    f);
    }

    std::string meta(const Filter& f) {
        const std::string& sub = f.attr.sub;
        if (sub == "created" || sub == "lastModified") {
            Filter copy = f;
            // Stored times are fixed-width UTC text; bring the literal to that form so that
            // text order is time order.
            std::chrono::system_clock::time_point t;
            if (copy.value.kind == Literal::Kind::kString &&
                core::parse_time(copy.value.string, t)) {
                copy.value.string = core::format_time(t);
            }
            return leaf({col(sub == "created" ? "created" : "last_modified"), Operand::kText},
                        copy);
        }
        if (sub == "resourceType") {
            return leaf(
                {table_ == Table::kUsers ? "'user'" : "'group'", Operand::kFoldedText, true}, f);
        }
        throw Error::invalid_filter("filtering on meta." + sub + " is not supported");
    }

    // Some element of a multi-valued attribute satisfies `inner`; for a single-valued complex
    // attribute (R-43: manager[value eq "…"]), the attribute itself does.
    std::string value_path(const AttrRef& a, const Filter& inner) {
        check_stored(a);
        if (is_relation(a)) {
            return relation(a, inner);
        }
        if (!a.multi_valued) {
            const std::string object =
                backend_ == Backend::kSqlite
                    ? "json_extract(" + col("document") + ", '" +
                          sqlite_json_path(doc_path(a, false)) + "')"
                    : "(" + col("document") + " #> '" + pg_json_path(doc_path(a, false)) + "')";
            return element(inner, Element::kJson, object);
        }
        if (!a.extension && a.name == "emails" && email_columns_only(inner)) {
            // A placeholder of its own: SOCI's PostgreSQL backend numbers each occurrence.
            const std::string org = params_.add(org_);
            return "(u.seq IN (SELECT e.user_seq FROM user_emails e WHERE e.org_id = " + org +
                   " AND " + element(inner, Element::kEmailRow) + "))";
        }
        const std::string arr = backend_ == Backend::kSqlite
                                    ? "json_each(" + col("document") + ", '" +
                                          sqlite_json_path(doc_path(a, false)) + "')"
                                    : "jsonb_array_elements(" + col("document") + " #> '" +
                                          pg_json_path(doc_path(a, false)) + "')";
        return "(EXISTS (SELECT 1 FROM " + arr + " je WHERE " + element(inner, Element::kJson) +
               "))";
    }

    enum class Element { kEmailRow, kJson };

    static bool email_columns_only(const Filter& f) {
        if (f.kind == Filter::Kind::kCompare) {
            if (f.attr.sub == "primary") {
                // is_primary is 0 both for `"primary": false` and for no primary at all. Only a
                // comparison with true treats the two alike, as protocol::matches() does; the
                // rest (eq false, pr, null) must read the document.
                return (f.op == CompareOp::kEq || f.op == CompareOp::kNe) &&
                       f.value.kind == Literal::Kind::kBoolean && f.value.boolean;
            }
            return f.attr.sub == "value" || f.attr.sub == "type";
        }
        if (f.kind == Filter::Kind::kValuePath) {
            return false;
        }
        for (const Filter& c : f.children) {
            if (!email_columns_only(c)) {
                return false;
            }
        }
        return true;
    }

    // A filter over the sub-attributes of one element (`base` is its JSON expression).
    std::string element(const Filter& f, Element where, const std::string& base = "je.value") {
        switch (f.kind) {
            case Filter::Kind::kAnd:
            case Filter::Kind::kOr:
                return chain(f, [&](const Filter& c) { return element(c, where, base); });
            case Filter::Kind::kNot:
                return "((" + element(f.children.at(0), where, base) + ") IS NOT TRUE)";
            case Filter::Kind::kValuePath:
                throw Error::invalid_filter("a value path cannot be nested in another");
            case Filter::Kind::kCompare:
                break;
        }
        const AttrRef& a = f.attr;
        if (where == Element::kEmailRow) {
            if (a.sub == "value") {
                return leaf({"e.value_key", Operand::kFoldedText, true}, f);
            }
            if (a.sub == "type") {
                return leaf({"e.type_key", Operand::kFoldedText, true}, f);
            }
            return leaf({"e.is_primary", Operand::kIntBool}, f);
        }
        std::vector<std::string> path;
        if (!a.sub.empty()) {
            check_name(a.sub);
            path.push_back(a.sub);
        }
        return leaf(json_expr(base, path, a.type, a.case_exact, backend_), f);
    }

    // One comparison of an operand with the filter's literal. Positive comparisons stay plain
    // (`u.user_name_key = :p0`) so that the database can use its indexes; a comparison with
    // a missing value is NULL, which WHERE treats as false, and every negation is written
    // `(…) IS NOT TRUE`, so that NOT of a NULL is true, as protocol::matches() has it.
    std::string leaf(const Expr& e, const Filter& f) {
        count_comparison();
        std::string x = e.sql;
        // Order comparisons of text by bytes on PostgreSQL too, as SQLite and
        // protocol::matches() do, whatever the database's collation.
        if (backend_ == Backend::kPostgres &&
            (e.kind == Operand::kText || e.kind == Operand::kFoldedText) &&
            (f.op == CompareOp::kGt || f.op == CompareOp::kGe || f.op == CompareOp::kLt ||
             f.op == CompareOp::kLe)) {
            x = "(" + x + ") COLLATE \"C\"";
        }
        const Literal& v = f.value;
        if (f.op == CompareOp::kPr) {
            if (e.kind == Operand::kText || e.kind == Operand::kFoldedText) {
                return "((" + x + " IS NOT NULL AND " + x + " <> ''))";
            }
            return "(" + x + " IS NOT NULL)";
        }
        if (v.kind == Literal::Kind::kNull) {
            if (f.op == CompareOp::kEq) {
                return "(" + x + " IS NULL)";
            }
            if (f.op == CompareOp::kNe) {
                return "(" + x + " IS NOT NULL)";
            }
            throw Error::invalid_filter("null can only be compared with eq or ne");
        }
        if (e.kind == Operand::kIntBool || e.kind == Operand::kJsonBool) {
            bool b = v.boolean;
            if (v.kind == Literal::Kind::kString) {
                b = fold_case(v.string) == "true";
            }
            std::string rhs;
            if (e.kind == Operand::kIntBool || backend_ == Backend::kSqlite) {
                rhs = b ? "1" : "0";
            } else {
                rhs = b ? "'true'" : "'false'";
            }
            if (f.op == CompareOp::kEq) {
                return "((" + x + " = " + rhs + "))";
            }
            if (f.op == CompareOp::kNe) {
                return "((" + x + " = " + rhs + ") IS NOT TRUE)";
            }
            throw Error::invalid_filter("a boolean can only be compared with eq or ne");
        }
        if (e.kind == Operand::kNumber) {
            double n = v.number;
            if (v.kind != Literal::Kind::kNumber) {
                throw Error::invalid_filter("a number attribute must be compared with a number");
            }
            const std::string p = params_.add(n);
            switch (f.op) {
                case CompareOp::kEq:
                    return "((" + x + " = " + p + "))";
                case CompareOp::kNe:
                    return "((" + x + " = " + p + ") IS NOT TRUE)";
                case CompareOp::kGt:
                    return "((" + x + " > " + p + "))";
                case CompareOp::kGe:
                    return "((" + x + " >= " + p + "))";
                case CompareOp::kLt:
                    return "((" + x + " < " + p + "))";
                case CompareOp::kLe:
                    return "((" + x + " <= " + p + "))";
                default:
                    throw Error::invalid_filter("co, sw and ew apply to strings only");
            }
        }
        std::string value =
            v.kind == Literal::Kind::kBoolean ? (v.boolean ? "true" : "false") : v.string;
        if (e.fold_value) {
            value = fold_case(value);
        }
        if ((f.op == CompareOp::kCo || f.op == CompareOp::kSw || f.op == CompareOp::kEw) &&
            value.empty()) {
            return "(" + x + " IS NOT NULL)";
        }
        switch (f.op) {
            case CompareOp::kEq:
                return "((" + x + " = " + params_.add(value) + "))";
            case CompareOp::kNe:
                return "((" + x + " = " + params_.add(value) + ") IS NOT TRUE)";
            case CompareOp::kGt:
                return "((" + x + " > " + params_.add(value) + "))";
            case CompareOp::kGe:
                return "((" + x + " >= " + params_.add(value) + "))";
            case CompareOp::kLt:
                return "((" + x + " < " + params_.add(value) + "))";
            case CompareOp::kLe:
                return "((" + x + " <= " + params_.add(value) + "))";
            case CompareOp::kCo: {
                const std::string p = params_.add(value);
                return backend_ == Backend::kSqlite ? "((instr(" + x + ", " + p + ") > 0))"
                                                    : "((strpos(" + x + ", " + p + ") > 0))";
            }
            case CompareOp::kSw: {
                const std::string p1 = params_.add(value);
                const std::string p2 = params_.add(value);
                return "((substr(" + x + ", 1, length(" + p1 + ")) = " + p2 + "))";
            }
            case CompareOp::kEw: {
                const std::string p1 = params_.add(value);
                const std::string p2 = params_.add(value);
                return backend_ == Backend::kSqlite
                           ? "((substr(" + x + ", -length(" + p1 + ")) = " + p2 + "))"
                           : "((right(" + x + ", length(" + p1 + ")) = " + p2 + "))";
            }
            case CompareOp::kPr:
                break;
        }
        return "(1=0)";
    }

    Backend backend_;
    SqlParams& params_;
    std::string org_;
    Table table_;
    int comparisons_ = 0;
};

}  // namespace

std::string SqlParams::add(std::string value) {
    strings_.push_back(std::move(value));
    std::string name = prefix_ + std::to_string(slots_.size());
    slots_.push_back({false, strings_.size() - 1, name});
    return ":" + name;
}

std::string SqlParams::add(double value) {
    numbers_.push_back(value);
    std::string name = prefix_ + std::to_string(slots_.size());
    slots_.push_back({true, numbers_.size() - 1, name});
    return ":" + name;
}

void SqlParams::bind(soci::statement& st) {
    for (const Slot& s : slots_) {
        if (s.is_number) {
            st.exchange(soci::use(numbers_[s.index], s.name));
        } else {
            st.exchange(soci::use(strings_[s.index], s.name));
        }
    }
}

std::string user_filter_sql(const core::Filter& filter,
                            Backend backend,
                            SqlParams& params,
                            const std::string& org_id) {
    Translator t(backend, params, org_id, Table::kUsers);
    return t.filter(filter);
}

std::string group_filter_sql(const core::Filter& filter,
                             Backend backend,
                             SqlParams& params,
                             const std::string& org_id) {
    Translator t(backend, params, org_id, Table::kGroups);
    return t.filter(filter);
}

namespace {

std::string sort_sql(const core::SortSpec* sort, Backend backend, Table table) {
    const std::string t = table == Table::kUsers ? "u." : "g.";
    if (sort == nullptr) {
        return t + "seq";
    }
    const AttrRef& a = sort->attr;
    std::string x;
    if (!a.extension && a.name == "userName" && table == Table::kUsers) {
        x = "u.user_name_key";
    } else if (!a.extension && a.name == "displayName") {
        x = t + "display_name_key";
    } else if (!a.extension && a.name == "externalId") {
        x = t + "external_id";
    } else if (!a.extension && a.name == "id") {
        x = t + "id";
    } else if (!a.extension && a.name == "active" && table == Table::kUsers) {
        x = "u.active";
    } else if (!a.extension && a.name == "meta") {
        x = t + (a.sub == "lastModified" ? "last_modified" : "created");
    } else if (!a.extension && (a.name == "groups" || a.name == "members")) {
        throw Error::invalid_value("sortBy cannot name " + a.name);
    } else {
        std::vector<std::string> path = doc_path(a, false);
        if (a.multi_valued) {
            path.push_back("0");  // the first value stands for the attribute
        }
        // A complex attribute named whole ("sortBy=emails") sorts by its "value", not by the
        // text of the JSON object, which differs between the dialects (jsonb reorders keys).
        const bool whole_complex = a.type == AttrType::kComplex && a.sub.empty();
        const std::string sub = whole_complex ? "value" : a.sub;
        if (!sub.empty()) {
            check_name(sub);
            path.push_back(sub);
        }
        std::string raw;
        if (backend == Backend::kSqlite) {
            std::string p = "$";
            for (const auto& seg : path) {
                p += seg == "0" ? "[0]" : ".\"" + seg + "\"";
            }
            raw = "json_extract(" + t + "document, '" + p + "')";
        } else {
            std::string p = "{";
            for (std::size_t i = 0; i < path.size(); ++i) {
                p += (i ? ",\"" : "\"") + path[i] + "\"";
            }
            raw = t + "document #>> '" + p + "}'";
        }
        x = ((is_text_type(a.type) || whole_complex) && !a.case_exact) ? fold_sql(raw, backend)
                                                                       : raw;
    }
    // RFC 7644 §3.4.2.3: resources without a value come last when ascending and first when
    // descending, so that descending is exactly the reverse of ascending.
    const char* dir = sort->descending ? " DESC" : " ASC";
    // Text sorts by bytes on PostgreSQL too, whatever the database's collation.
    const bool text = !(!a.extension && (a.name == "active" || a.name == "meta")) &&
                      (is_text_type(a.type) || a.type == AttrType::kComplex);
    const std::string key = backend == Backend::kPostgres && text ? x + " COLLATE \"C\"" : x;
    return "(" + x + " IS NULL)" + dir + ", " + key + dir + ", " + t + "seq" + dir;
}

}  // namespace

std::string user_sort_sql(const core::SortSpec* sort, Backend backend) {
    return sort_sql(sort, backend, Table::kUsers);
}

std::string group_sort_sql(const core::SortSpec* sort, Backend backend) {
    return sort_sql(sort, backend, Table::kGroups);
}

std::string fold_case(const std::string& s) {
    std::string out = s;
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

}  // namespace scimd::store
