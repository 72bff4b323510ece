#include "scimd/store/repositories.hpp"

#include <map>

#include "store/pg_prepared.hpp"
#include "store/sql_filter.hpp"
#include "store/sql_util.hpp"
#include <boost/json.hpp>
#include <soci/soci.h>

#include "scimd/error.hpp"

namespace scimd::store {
namespace {

// --- organizations -------------------------------------------------------------------------
constexpr const char* kInsertOrg =
    "INSERT INTO organizations (id, name, created) VALUES (:id, :name, :created)";
constexpr const char* kOrgColumns =
    "SELECT id, name, created, seat_limit, features, unverified_domain_policy, invitation_days "
    "FROM organizations ";
constexpr const char* kSelectOrg =
    "WHERE id = :key OR name = :key2 ORDER BY CASE WHEN id = :key3 THEN 0 ELSE 1 END LIMIT 1";
constexpr const char* kListOrgs = "ORDER BY name";

// --- tokens --------------------------------------------------------------------------------
constexpr const char* kInsertToken =
    "INSERT INTO scim_tokens (id, org_id, name, hash, created, expires) "
    "VALUES (:id, :org_id, :name, :hash, :created, :expires)";
constexpr const char* kTokenColumns =
    "SELECT id, org_id, name, hash, created, expires, revoked, last_used FROM scim_tokens ";
constexpr const char* kRevokeToken =
    "UPDATE scim_tokens SET revoked = :at WHERE org_id = :org_id AND id = :id AND revoked IS NULL";
constexpr const char* kTouchToken = "UPDATE scim_tokens SET last_used = :at WHERE id = :id";

// --- users ---------------------------------------------------------------------------------
constexpr const char* kInsertUser =
    "INSERT INTO users (id, org_id, user_name, user_name_key, external_id, display_name, "
    "display_name_key, active, document, version, created, last_modified, managed_by, "
    "access_pending) VALUES (:id, :org_id, :user_name, :user_name_key, :external_id, "
    ":display_name, :display_name_key, :active, {doc}, :version, :created, :last_modified, "
    ":managed_by, :access_pending) RETURNING seq";
constexpr const char* kUpdateUserSqlite =
    "UPDATE users SET user_name = :user_name, user_name_key = :user_name_key, "
    "external_id = :external_id, display_name = :display_name, "
    "display_name_key = :display_name_key, active = :active, document = :document, "
    "version = :version, last_modified = :last_modified, "
    "managed_by = COALESCE(:managed_by, managed_by) "
    "WHERE org_id = :org_id AND id = :id AND version = :expected";
constexpr const char* kDeleteEmailsById =
    "DELETE FROM user_emails WHERE user_seq = "
    "(SELECT seq FROM users WHERE org_id = :org_id AND id = :id)";
constexpr const char* kInsertEmailById =
    "INSERT INTO user_emails (user_seq, org_id, value_key, type_key, is_primary) "
    "SELECT seq, org_id, :value_key, :type_key, :is_primary FROM users "
    "WHERE org_id = :org_id AND id = :id";
// Without RETURNING: a prepared statement that stays open on its row would keep SQLite
// from committing; the new row's id comes from get_last_insert_id instead.
constexpr const char* kInsertUserSqlite =
    "INSERT INTO users (id, org_id, user_name, user_name_key, external_id, display_name, "
    "display_name_key, active, document, version, created, last_modified, managed_by, "
    "access_pending) VALUES (:id, :org_id, :user_name, :user_name_key, :external_id, "
    ":display_name, :display_name_key, :active, :document, :version, :created, :last_modified, "
    ":managed_by, :access_pending)";
constexpr const char* kUpdateUser =
    "UPDATE users SET user_name = :user_name, user_name_key = :user_name_key, "
    "external_id = :external_id, display_name = :display_name, "
    "display_name_key = :display_name_key, active = :active, document = {doc}, "
    "version = :version, last_modified = :last_modified, "
    "managed_by = COALESCE(:managed_by, managed_by) "
    "WHERE org_id = :org_id AND id = :id AND version = :expected RETURNING seq";
constexpr const char* kDeleteEmails = "DELETE FROM user_emails WHERE user_seq = :seq";
constexpr const char* kInsertEmail =
    "INSERT INTO user_emails (user_seq, org_id, value_key, type_key, is_primary) "
    "VALUES (:seq, :org_id, :value_key, :type_key, :is_primary)";
constexpr const char* kDeleteUser = "DELETE FROM users WHERE org_id = :org_id AND id = :id";
constexpr const char* kBulkInsertUsersPg =
    "INSERT INTO users (id, org_id, user_name, user_name_key, external_id, display_name, "
    "display_name_key, active, document, version, created, last_modified) "
    "SELECT r.id, r.org_id, r.user_name, r.user_name_key, r.external_id, r.display_name, "
    "r.display_name_key, r.active, CAST(r.document AS jsonb), r.version, r.created, "
    "r.last_modified FROM json_to_recordset(CAST(:rows AS json)) AS r(id text, org_id text, "
    "user_name text, user_name_key text, external_id text, display_name text, "
    "display_name_key text, active integer, document text, version bigint, created text, "
    "last_modified text)";
constexpr const char* kBulkInsertEmailsPg =
    "INSERT INTO user_emails (user_seq, org_id, value_key, type_key, is_primary) "
    "SELECT u.seq, e.org_id, e.value_key, e.type_key, e.is_primary "
    "FROM json_to_recordset(CAST(:emails AS json)) AS e(user_id text, org_id text, "
    "value_key text, type_key text, is_primary integer) JOIN users u ON u.id = e.user_id";
// organizations.user_count is kept in the transaction of every insert and delete, so that
// an unfiltered list answers totalResults without counting the tenant's rows.
constexpr const char* kSeatLimit = "SELECT seat_limit FROM organizations WHERE id = :org";
constexpr const char* kCountUsers =
    "UPDATE organizations SET user_count = user_count + :delta WHERE id = :org_id";
constexpr const char* kUserColumns =
    "SELECT u.id, u.org_id, u.user_name, u.external_id, u.display_name, u.active, {doc}, "
    "u.version, u.created, u.last_modified, EXISTS (SELECT 1 FROM group_members m WHERE "
    "m.org_id = u.org_id AND m.member_id = u.id) FROM users u ";

std::string user_columns(Backend b) {
    return with_doc(kUserColumns, b, "u.document", "u.document::text");
}

// Row buffers for reading a user with the statement API.
struct UserRow {
    std::string id, org_id, user_name, external_id, display_name, document, created, modified;
    soci::indicator ext_ind = soci::i_ok, dn_ind = soci::i_ok;
    int active = 0;
    int in_groups = 0;
    long long version = 0;

    void define(soci::statement& st) {
        st.exchange(soci::into(id));
        st.exchange(soci::into(org_id));
        st.exchange(soci::into(user_name));
        st.exchange(soci::into(external_id, ext_ind));
        st.exchange(soci::into(display_name, dn_ind));
        st.exchange(soci::into(active));
        st.exchange(soci::into(document));
        st.exchange(soci::into(version));
        st.exchange(soci::into(created));
        st.exchange(soci::into(modified));
        st.exchange(soci::into(in_groups));
    }

    // Moves the fetched values out; the buffers are refilled by the next fetch.
    core::UserRecord record() {
        core::UserRecord u;
        u.id = std::move(id);
        u.org_id = std::move(org_id);
        u.user_name = std::move(user_name);
        if (ext_ind == soci::i_ok) {
            u.external_id = std::move(external_id);
        }
        if (dn_ind == soci::i_ok) {
            u.display_name = std::move(display_name);
        }
        u.active = active != 0;
        u.document = std::move(document);
        u.version = version;
        u.created = std::move(created);
        u.last_modified = std::move(modified);
        u.in_groups = in_groups != 0;
        return u;
    }
};

// Bound copies of a record's columns: use() binds by reference, so they must be named.
struct UserBinds {
    std::string id, org_id, user_name, user_name_key, external_id, display_name, display_key,
        document, created, modified, managed_by;
    soci::indicator ext_ind, dn_ind, managed_ind;
    int active;
    int access_pending;
    long long version;

    explicit UserBinds(const core::UserRecord& u)
        : id(u.id),
          org_id(u.org_id),
          user_name(u.user_name),
          user_name_key(fold_case(u.user_name)),
          external_id(u.external_id.value_or("")),
          display_name(u.display_name.value_or("")),
          display_key(fold_case(u.display_name.value_or(""))),
          document(u.document),
          created(u.created),
          modified(u.last_modified),
          managed_by(u.managed_by.value_or("")),
          ext_ind(u.external_id ? soci::i_ok : soci::i_null),
          dn_ind(u.display_name ? soci::i_ok : soci::i_null),
          managed_ind(u.managed_by ? soci::i_ok : soci::i_null),
          active(u.active ? 1 : 0),
          access_pending(u.access_pending ? 1 : 0),
          version(u.version) {}
};

// Binds the columns an account write names (:id, :org_id, …, :last_modified, and :created
// for an insert) to `st`, by reference to `b`.
void use_user_columns(soci::statement& st, UserBinds& b, bool insert) {
    st.exchange(soci::use(b.id, "id"));
    st.exchange(soci::use(b.org_id, "org_id"));
    st.exchange(soci::use(b.user_name, "user_name"));
    st.exchange(soci::use(b.user_name_key, "user_name_key"));
    st.exchange(soci::use(b.external_id, b.ext_ind, "external_id"));
    st.exchange(soci::use(b.display_name, b.dn_ind, "display_name"));
    st.exchange(soci::use(b.display_key, b.dn_ind, "display_name_key"));
    st.exchange(soci::use(b.active, "active"));
    st.exchange(soci::use(b.document, "document"));
    st.exchange(soci::use(b.version, "version"));
    st.exchange(soci::use(b.modified, "last_modified"));
    st.exchange(soci::use(b.managed_by, b.managed_ind, "managed_by"));
    if (insert) {
        st.exchange(soci::use(b.created, "created"));
        st.exchange(soci::use(b.access_pending, "access_pending"));
    }
}

// A statement over `text` with the account's columns bound; `extra` binds what else it names.
template <typename Extra>
soci::statement user_statement(soci::session& sql,
                               const std::string& text,
                               UserBinds& b,
                               bool insert,
                               soci::details::statement_type type,
                               Extra extra) {
    soci::statement st(sql);
    use_user_columns(st, b, insert);
    extra(st);
    st.alloc();
    st.prepare(text, type);
    st.define_and_bind();
    return st;
}

void add_to_count(soci::session& sql, const std::string& org_id, long long delta) {
    std::string org = org_id;
    sql << kCountUsers, soci::use(delta, "delta"), soci::use(org, "org_id");
}

// Bound copies of one email's indexed columns (:value_key, :type_key, :is_primary).
struct EmailBinds {
    std::string value, type;
    soci::indicator value_ind = soci::i_ok, type_ind = soci::i_ok;
    int primary = 0;

    void set(const core::EmailRecord& e) {
        value = fold_case(e.value);
        value_ind = e.value.empty() ? soci::i_null : soci::i_ok;
        type = fold_case(e.type);
        type_ind = e.type.empty() ? soci::i_null : soci::i_ok;
        primary = e.primary ? 1 : 0;
    }
};

// PostgreSQL: reading one account is the hottest statement there is, so it is prepared once
// per connection instead of parsed and planned on every request (a quarter of the machine's
// time under GET /Users/{id} load went to PostgreSQL's parser and planner).
// PostgreSQL: an account by id, and by folded userName (the lookup IdPs send before every
// create, R-13), as statements prepared once per connection (pg_exec_prepared).
struct PgUserRead {
    const char* name;
    const char* text;
};
constexpr PgUserRead kFindUserPostgres{
    "scimd_find_user",
    "SELECT id, org_id, user_name, external_id, display_name, active, document::text, version, "
    "created, last_modified, EXISTS (SELECT 1 FROM group_members m WHERE m.org_id = $1 AND "
    "m.member_id = $2) FROM users WHERE org_id = $1 AND id = $2"};
constexpr PgUserRead kFindUserByNamePostgres{
    "scimd_find_user_by_name",
    "SELECT u.id, u.org_id, u.user_name, u.external_id, u.display_name, u.active, "
    "u.document::text, u.version, u.created, u.last_modified, EXISTS (SELECT 1 FROM "
    "group_members m WHERE m.org_id = $1 AND m.member_id = u.id) FROM users u WHERE u.org_id = "
    "$1 AND u.user_name_key = $2"};

std::optional<core::UserRecord> find_postgres(soci::session& sql,
                                              const PgUserRead& read,
                                              const std::string& org_id,
                                              const std::string& key) {
    const PgResult r = pg_exec_prepared(sql, read.name, read.text, {&org_id, &key});
    if (PQntuples(r.get()) == 0) {
        return std::nullopt;
    }
    const auto text = [&](int column) { return std::string(pg_value(r, 0, column)); };
    const auto optional = [&](int column) -> std::optional<std::string> {
        const char* v = pg_value(r, 0, column);
        return v != nullptr ? std::optional<std::string>(v) : std::nullopt;
    };
    core::UserRecord u;
    u.id = text(0);
    u.org_id = text(1);
    u.user_name = text(2);
    u.external_id = optional(3);
    u.display_name = optional(4);
    u.active = text(5) != "0";
    u.document = text(6);
    u.version = std::stoll(text(7));
    u.created = text(8);
    u.last_modified = text(9);
    u.in_groups = text(10) == "t";
    return u;
}

// Whether the account (just written inactive) holds an unexpired owner grant: its
// deactivation then must leave another active owner.
bool holds_owner_grant(soci::session& sql, const core::UserRecord& user, const std::string& now) {
    std::string org = user.org_id, id = user.id, at = now;
    long long n = 0;
    sql << "SELECT COUNT(*) FROM grants WHERE org_id = :org AND user_id = :id AND site_id = '' "
           "AND role = 'owner' AND (expires IS NULL OR expires > :now)",
        soci::use(org, "org"), soci::use(id, "id"), soci::use(at, "now"), soci::into(n);
    return n > 0;
}

// DESIGN §2 rule 7 for a write of an account: read before the write (whether it takes a
// seat it didn't have), checked after it. Costs one read of the organization's row unless
// the organization has a seat limit.
class SeatCheck {
public:
    SeatCheck(soci::session& sql, const core::UserRecord& user) {
        if (user.active) {
            limit_ = seat_limit_of(sql, user.org_id);
        }
        if (limit_) {
            std::string org = user.org_id, id = user.id;
            int active = 1;
            sql << "SELECT active FROM users WHERE org_id = :org AND id = :id",
                soci::use(org, "org"), soci::use(id, "id"), soci::into(active);
            takes_seat_ = sql.got_data() && active == 0;
        }
    }
    void check(soci::session& sql, const core::UserRecord& user) const {
        if (takes_seat_) {
            ensure_seats(sql, user.org_id, *limit_);
        }
    }
    static void for_new(soci::session& sql, const core::UserRecord& user) {
        if (user.active) {
            if (const auto limit = seat_limit_of(sql, user.org_id)) {
                ensure_seats(sql, user.org_id, *limit);
            }
        }
    }

private:
    std::optional<long long> limit_;
    bool takes_seat_ = false;
};

// The account's scim_roles and domain_default grants, when the write carries them.
void write_role_grants(soci::session& sql, const core::UserRecord& user, const core::Audit& audit) {
    if (user.role_grants) {
        replace_source_grants_in(sql, user.org_id, user.id, core::GrantSource::kScimRoles,
                                 *user.role_grants, audit);
    }
    if (user.domain_grants) {
        replace_source_grants_in(sql, user.org_id, user.id, core::GrantSource::kDomainDefault,
                                 *user.domain_grants, audit);
    }
}

void write_emails(soci::session& sql, long long seq, const core::UserRecord& u, bool replace) {
    if (replace) {
        sql << kDeleteEmails, soci::use(seq, "seq");
    }
    if (u.emails.empty()) {
        return;
    }
    std::string org = u.org_id;
    EmailBinds m;
    // An account has a handful of emails: one one-time insert each costs fewer round trips
    // than preparing a statement by name.
    for (const core::EmailRecord& e : u.emails) {
        m.set(e);
        sql << kInsertEmail, soci::use(seq, "seq"), soci::use(org, "org_id"),
            soci::use(m.value, m.value_ind, "value_key"), soci::use(m.type, m.type_ind, "type_key"),
            soci::use(m.primary, "is_primary");
    }
}

}  // namespace

namespace {
// The statements of type T prepared for `sql`, made on its first use.
template <typename T>
T& prepared_for(std::mutex& m,
                std::unordered_map<soci::session*, std::unique_ptr<T>>& cache,
                soci::session& sql) {
    std::lock_guard lock(m);
    auto& slot = cache[&sql];
    if (!slot) {
        slot = std::make_unique<T>(sql);
    }
    return *slot;
}

// The folded userName of a filter that is exactly `userName eq "…"`, the lookup IdPs send
// before every create, if `filter` is one.
std::optional<std::string> user_name_equality(const core::Filter* filter) {
    if (filter == nullptr || filter->kind != core::Filter::Kind::kCompare ||
        filter->op != core::CompareOp::kEq || filter->attr.extension ||
        filter->attr.name != "userName" || !filter->attr.sub.empty() ||
        filter->value.kind != core::Literal::Kind::kString) {
        return std::nullopt;
    }
    return fold_case(filter->value.string);
}
}  // namespace

// SQLite: the reads behind an IdP's lookup before every create (userName eq), every PATCH
// and GET of an account (by id), and an import's paging (the default order, no filter),
// prepared once per connection: compiling their SQL was as costly as running it. Each is
// reset after its rows are read, so that no connection keeps an old snapshot open.
struct SqlUserRepository::SqliteReads {
    std::string org, key;
    long long limit = 0, offset = 0, total = 0;
    UserRow row;
    soci::statement by_id, by_user_name, page;

    explicit SqliteReads(soci::session& sql)
        : by_id(reading(sql,
                        user_columns(Backend::kSqlite) + "WHERE u.org_id = :org AND u.id = :key",
                        [](soci::statement&) {})),
          by_user_name(reading(
              sql,
              user_columns(Backend::kSqlite) + "WHERE u.org_id = :org AND u.user_name_key = :key",
              [](soci::statement&) {})),
          page(reading(sql, page_text(), [this](soci::statement& st) {
              st.exchange(soci::use(limit, "limit"));
              st.exchange(soci::use(offset, "offset"));
              st.exchange(soci::into(total));
          })) {}

    // Resets a kept statement once its rows are read, or its reading failed.
    struct Reset {
        soci::statement& st;
        ~Reset() { close_row(st); }
    };

    // The account `st` finds for `org` and `key`, if any.
    std::optional<core::UserRecord> fetch_one(soci::statement& st) {
        Reset reset{st};
        row.ext_ind = row.dn_ind = soci::i_ok;
        const bool found = st.execute(true);
        if (!found) {
            return std::nullopt;
        }
        return row.record();
    }

private:
    // A statement over `text` binding :org (and :key when named) and reading a UserRow.
    template <typename Extra>
    soci::statement reading(soci::session& sql, const std::string& text, Extra extra) {
        soci::statement st(sql);
        st.exchange(soci::use(org, "org"));
        if (text.find(":org2") != std::string::npos) {
            st.exchange(soci::use(org, "org2"));
        }
        if (text.find(":key") != std::string::npos) {
            st.exchange(soci::use(key, "key"));
        }
        row.define(st);
        extra(st);
        st.alloc();
        st.prepare(text, soci::details::st_repeatable_query);
        st.define_and_bind();
        return st;
    }

    // A page in the default order, with totalResults from the organization's count.
    static std::string page_text() {
        std::string text = user_columns(Backend::kSqlite);
        text.insert(text.find(" FROM users u"),
                    ", (SELECT user_count FROM organizations WHERE id = :org2)");
        const std::string order = " ORDER BY " + user_sort_sql(nullptr, Backend::kSqlite);
        return text + "WHERE u.seq IN (SELECT u.seq FROM users u WHERE u.org_id = :org" + order +
               " LIMIT :limit OFFSET :offset)" + order;
    }
};

// --- organizations -------------------------------------------------------------------------

void SqlOrganizationRepository::insert(const core::Organization& org) {
    return with_write_session(db_, [&](soci::session& sql) {
        std::string id = org.id, name = org.name, created = org.created;
        try {
            sql << kInsertOrg, soci::use(id, "id"), soci::use(name, "name"),
                soci::use(created, "created");
        } catch (const soci::soci_error& e) {
            if (is_unique_violation(e)) {
                throw Error::uniqueness("an organization named \"" + org.name +
                                        "\" already exists");
            }
            throw;
        }
    });
}

namespace {

std::vector<core::Organization> read_orgs(soci::session& sql,
                                          const std::string& where,
                                          std::vector<std::string> keys) {
    std::vector<core::Organization> out;
    core::Organization org;
    long long seat_limit = 0;
    soci::indicator seat_ind = soci::i_ok;
    std::string features;
    int days = 7;
    soci::statement st = one_time(sql, std::string(kOrgColumns) + where);
    for (std::size_t i = 0; i < keys.size(); ++i) {
        st.exchange(
            soci::use(keys[i], i == 0 ? std::string("key") : "key" + std::to_string(i + 1)));
    }
    st.exchange(soci::into(org.id));
    st.exchange(soci::into(org.name));
    st.exchange(soci::into(org.created));
    st.exchange(soci::into(seat_limit, seat_ind));
    st.exchange(soci::into(features));
    st.exchange(soci::into(org.plan.unverified_domain_policy));
    st.exchange(soci::into(days));
    st.define_and_bind();
    st.execute(false);
    while (st.fetch()) {
        core::Organization o = org;
        o.plan.seat_limit =
            seat_ind == soci::i_ok ? std::optional<long long>(seat_limit) : std::nullopt;
        o.plan.invitation_days = days;
        std::size_t pos = 0;
        while (pos < features.size()) {
            const auto comma = std::min(features.find(',', pos), features.size());
            if (comma > pos) {
                o.plan.features.push_back(features.substr(pos, comma - pos));
            }
            pos = comma + 1;
        }
        out.push_back(std::move(o));
        seat_ind = soci::i_ok;
    }
    return out;
}

}  // namespace

std::optional<core::Organization> SqlOrganizationRepository::find(const std::string& id_or_name) {
    return with_session(db_, [&](soci::session& sql) -> std::optional<core::Organization> {
        auto orgs = read_orgs(sql, kSelectOrg, {id_or_name, id_or_name, id_or_name});
        if (orgs.empty()) {
            return std::nullopt;
        }
        return orgs.front();
    });
}

std::vector<core::Organization> SqlOrganizationRepository::list() {
    return with_session(db_, [&](soci::session& sql) { return read_orgs(sql, kListOrgs, {}); });
}

bool SqlOrganizationRepository::update_plan(const std::string& id,
                                            const core::Plan& plan,
                                            const core::Audit& audit) {
    return with_write_session(db_, [&](soci::session& sql) {
        std::string key = id, features, policy = plan.unverified_domain_policy;
        for (const auto& f : plan.features) {
            features += (features.empty() ? "" : ",") + f;
        }
        long long seats = plan.seat_limit.value_or(0);
        soci::indicator seat_ind = plan.seat_limit ? soci::i_ok : soci::i_null;
        int days = plan.invitation_days;
        WriteTx tx(sql, db_);
        soci::statement st =
            one_time(sql,
                     "UPDATE organizations SET seat_limit = :seats, features = :features, "
                     "unverified_domain_policy = :policy, invitation_days = :days WHERE id = :id");
        st.exchange(soci::use(seats, seat_ind, "seats"));
        st.exchange(soci::use(features, "features"));
        st.exchange(soci::use(policy, "policy"));
        st.exchange(soci::use(days, "days"));
        st.exchange(soci::use(key, "id"));
        st.define_and_bind();
        st.execute(true);
        if (st.get_affected_rows() == 0) {
            return false;
        }
        write_audit(sql, id, audit);
        tx.commit();
        return true;
    });
}

std::optional<long long> seat_limit_of(soci::session& sql, const std::string& org_id) {
    std::string org = org_id;
    long long limit = 0;
    soci::indicator ind = soci::i_null;
    sql << kSeatLimit, soci::use(org, "org"), soci::into(limit, ind);
    return ind == soci::i_ok ? std::optional<long long>(limit) : std::nullopt;
}

void ensure_seats(soci::session& sql, const std::string& org_id, long long limit) {
    lock_organization(sql, org_id);
    std::string org = org_id;
    long long over = limit + 1, n = 0;
    sql << "SELECT COUNT(*) FROM (SELECT 1 FROM users WHERE org_id = :org AND active = 1 "
           "LIMIT :n) t",
        soci::use(org, "org"), soci::use(over, "n"), soci::into(n);
    if (n > limit) {
        throw Error::forbidden("user limit reached: " + std::to_string(limit) + " of " +
                               std::to_string(limit) + " seats used");
    }
}

// --- tokens --------------------------------------------------------------------------------

void SqlTokenRepository::insert(const core::ScimToken& t, const core::Audit& audit) {
    return with_write_session(db_, [&](soci::session& sql) {
        std::string id = t.id, org = t.org_id, name = t.name, hash = t.hash, created = t.created,
                    expires = t.expires.value_or("");
        soci::indicator exp_ind = t.expires ? soci::i_ok : soci::i_null;
        WriteTx tx(sql, db_);
        sql << kInsertToken, soci::use(id, "id"), soci::use(org, "org_id"), soci::use(name, "name"),
            soci::use(hash, "hash"), soci::use(created, "created"),
            soci::use(expires, exp_ind, "expires");
        write_audit(sql, t.org_id, audit);
        tx.commit();
    });
}

namespace {
// Typed row buffers: every request authenticates, so this read avoids SOCI's dynamic rows.
std::vector<core::ScimToken> read_tokens(soci::session& sql,
                                         const std::string& where,
                                         std::string key) {
    std::vector<core::ScimToken> out;
    core::ScimToken t;
    std::string expires, revoked, last_used;
    soci::indicator exp_ind = soci::i_ok, rev_ind = soci::i_ok, used_ind = soci::i_ok;
    soci::statement st = one_time(sql, std::string(kTokenColumns) + where);
    st.exchange(soci::use(key, "key"));
    st.exchange(soci::into(t.id));
    st.exchange(soci::into(t.org_id));
    st.exchange(soci::into(t.name));
    st.exchange(soci::into(t.hash));
    st.exchange(soci::into(t.created));
    st.exchange(soci::into(expires, exp_ind));
    st.exchange(soci::into(revoked, rev_ind));
    st.exchange(soci::into(last_used, used_ind));
    st.define_and_bind();
    st.execute(false);
    while (st.fetch()) {
        core::ScimToken row = t;
        if (exp_ind == soci::i_ok) {
            row.expires = expires;
        }
        if (rev_ind == soci::i_ok) {
            row.revoked = revoked;
        }
        if (used_ind == soci::i_ok) {
            row.last_used = last_used;
        }
        out.push_back(std::move(row));
    }
    return out;
}
}  // namespace

std::optional<core::ScimToken> SqlTokenRepository::find_by_hash(const std::string& hash) {
    return with_session(db_, [&](soci::session& sql) -> std::optional<core::ScimToken> {
        auto tokens = read_tokens(sql, "WHERE hash = :key", hash);
        if (tokens.empty()) {
            return std::nullopt;
        }
        return tokens.front();
    });
}

std::vector<core::ScimToken> SqlTokenRepository::list(const std::string& org_id) {
    return with_session(db_, [&](soci::session& sql) {
        return read_tokens(sql, "WHERE org_id = :key ORDER BY created, id", org_id);
    });
}

bool SqlTokenRepository::revoke(const std::string& org_id,
                                const std::string& id,
                                const std::string& at,
                                const core::Audit& audit) {
    return with_write_session(db_, [&](soci::session& sql) {
        std::string o = org_id, i = id, a = at;
        WriteTx tx(sql, db_);
        soci::statement st = one_time(sql, kRevokeToken);
        st.exchange(soci::use(a, "at"));
        st.exchange(soci::use(o, "org_id"));
        st.exchange(soci::use(i, "id"));
        st.define_and_bind();
        st.execute(true);
        const bool revoked = st.get_affected_rows() > 0;
        if (revoked) {
            write_audit(sql, org_id, audit);
        }
        tx.commit();
        return revoked;
    });
}

void SqlTokenRepository::touch(const std::string& id, const std::string& at) {
    return with_write_session(db_, [&](soci::session& sql) {
        std::string i = id, a = at;
        sql << kTouchToken, soci::use(a, "at"), soci::use(i, "id");
    });
}

// --- users ---------------------------------------------------------------------------------

std::optional<core::UserRecord> SqlUserRepository::find(const std::string& org_id,
                                                        const std::string& id) {
    return with_session(db_, [&](soci::session& sql) -> std::optional<core::UserRecord> {
        if (db_.backend() == Backend::kPostgres) {
            return find_postgres(sql, kFindUserPostgres, org_id, id);
        }
        SqliteReads& r = prepared_for(cache_mutex_, sqlite_reads_, sql);
        r.org = org_id;
        r.key = id;
        return r.fetch_one(r.by_id);
    });
}

std::optional<core::UserRecord> SqlUserRepository::find_by_email(const std::string& org_id,
                                                                 const std::string& email) {
    return with_session(db_, [&](soci::session& sql) -> std::optional<core::UserRecord> {
        std::string org = org_id, key = fold_case(email);
        UserRow row;
        soci::statement st = one_time(
            sql, user_columns(db_.backend()) +
                     "WHERE u.org_id = :org AND (u.user_name_key = :key OR u.seq IN (SELECT "
                     "e.user_seq FROM user_emails e WHERE e.org_id = :org2 AND e.value_key = "
                     ":key2)) ORDER BY u.seq LIMIT 1");
        st.exchange(soci::use(org, "org"));
        st.exchange(soci::use(key, "key"));
        st.exchange(soci::use(org, "org2"));
        st.exchange(soci::use(key, "key2"));
        row.define(st);
        st.define_and_bind();
        if (!st.execute(true)) {
            return std::nullopt;
        }
        return row.record();
    });
}

std::optional<core::UserRecord> SqlUserRepository::find_unmanaged(const std::string& org_id,
                                                                  const std::string& user_name) {
    return with_session(db_, [&](soci::session& sql) -> std::optional<core::UserRecord> {
        std::string org = org_id, key = fold_case(user_name);
        UserRow row;
        soci::statement st = one_time(sql, user_columns(db_.backend()) +
                                               "WHERE u.org_id = :org AND u.user_name_key = :key "
                                               "AND u.managed_by IS NULL");
        st.exchange(soci::use(org, "org"));
        st.exchange(soci::use(key, "key"));
        row.define(st);
        st.define_and_bind();
        if (!st.execute(true)) {
            return std::nullopt;
        }
        return row.record();
    });
}

long long SqlUserRepository::count_active(const std::string& org_id) {
    return with_session(db_, [&](soci::session& sql) {
        std::string org = org_id;
        long long n = 0;
        sql << "SELECT COUNT(*) FROM users WHERE org_id = :org AND active = 1",
            soci::use(org, "org"), soci::into(n);
        return n;
    });
}

// SQLite: the statements of an account insert, prepared once per connection and bound to the
// members below (use() binds by reference), so that the single writer thread doesn't compile
// five statements for every account it creates. SQLite connections are never reconnected,
// so the statements live as long as the repository.
struct SqlUserRepository::SqliteInsert {
    UserBinds b{core::UserRecord{}};
    long long seq = 0;
    std::string org;
    EmailBinds m;
    long long delta = 1;
    long long seat_limit = 0;
    soci::indicator seat_ind = soci::i_null;
    soci::statement insert_user, insert_email, count, seats;
    AuditWriter audit;

    explicit SqliteInsert(soci::session& sql)
        : insert_user(user_statement(sql,
                                     kInsertUserSqlite,
                                     b,
                                     true,
                                     soci::details::st_repeatable_query,
                                     [](soci::statement&) {})),
          insert_email((sql.prepare << kInsertEmail,
                        soci::use(seq, "seq"),
                        soci::use(org, "org_id"),
                        soci::use(m.value, m.value_ind, "value_key"),
                        soci::use(m.type, m.type_ind, "type_key"),
                        soci::use(m.primary, "is_primary"))),
          count((sql.prepare << kCountUsers, soci::use(delta, "delta"), soci::use(org, "org_id"))),
          seats(
              (sql.prepare << kSeatLimit, soci::use(org, "org"), soci::into(seat_limit, seat_ind))),
          audit(sql, soci::details::st_repeatable_query) {}
};

// SQLite: the statements of an account update, prepared once per connection like the insert.
struct SqlUserRepository::SqliteUpdate {
    UserBinds b{core::UserRecord{}};
    long long expected = 0;
    EmailBinds m;
    // What the rules need to know before the write, in one read: the seat limit, whether the
    // account holds an owner grant, and whether it was active.
    std::string now;
    long long seat_limit = 0, owner_grants = 0;
    int was_active = 1;
    soci::indicator seat_ind = soci::i_null, active_ind = soci::i_null;
    soci::statement guard, update_user, delete_emails, insert_email;
    AuditWriter audit;

    explicit SqliteUpdate(soci::session& sql)
        : guard((sql.prepare << "SELECT (SELECT seat_limit FROM organizations WHERE id = :org), "
                                "(SELECT COUNT(*) FROM grants WHERE org_id = :org2 AND user_id = "
                                ":id AND site_id = '' AND role = 'owner' AND (expires IS NULL OR "
                                "expires > :now)), (SELECT active FROM users WHERE org_id = "
                                ":org3 AND id = :id2)",
                 soci::use(b.org_id, "org"),
                 soci::use(b.org_id, "org2"),
                 soci::use(b.id, "id"),
                 soci::use(now, "now"),
                 soci::use(b.org_id, "org3"),
                 soci::use(b.id, "id2"),
                 soci::into(seat_limit, seat_ind),
                 soci::into(owner_grants),
                 soci::into(was_active, active_ind))),
          update_user(user_statement(
              sql,
              kUpdateUserSqlite,
              b,
              false,
              soci::details::st_repeatable_query,
              [this](soci::statement& st) { st.exchange(soci::use(expected, "expected")); })),
          delete_emails((sql.prepare << kDeleteEmailsById,
                         soci::use(b.org_id, "org_id"),
                         soci::use(b.id, "id"))),
          insert_email((sql.prepare << kInsertEmailById,
                        soci::use(m.value, m.value_ind, "value_key"),
                        soci::use(m.type, m.type_ind, "type_key"),
                        soci::use(m.primary, "is_primary"),
                        soci::use(b.org_id, "org_id"),
                        soci::use(b.id, "id"))),
          audit(sql, soci::details::st_repeatable_query) {}
};

SqlUserRepository::SqlUserRepository(Database& db) : db_(db) {}

bool SqlUserRepository::update_sqlite(soci::session& sql,
                                      const core::UserRecord& user,
                                      std::int64_t expected_version,
                                      const core::Audit& audit) {
    SqliteUpdate* s = &prepared_for(cache_mutex_, sqlite_updates_, sql);
    s->b = UserBinds(user);
    s->expected = expected_version;
    s->now = audit_time(audit);
    s->seat_ind = s->active_ind = soci::i_null;
    s->guard.execute(true);
    close_row(s->guard);
    s->update_user.execute(true);
    if (s->update_user.get_affected_rows() == 0) {
        return false;
    }
    s->delete_emails.execute(true);
    for (const core::EmailRecord& e : user.emails) {
        s->m.set(e);
        s->insert_email.execute(true);
    }
    write_role_grants(sql, user, audit);
    if (!user.active) {
        ensure_an_owner_remains(sql, user.org_id, s->owner_grants > 0, s->now);
    }
    if (user.active && s->seat_ind == soci::i_ok && s->active_ind == soci::i_ok &&
        s->was_active == 0) {
        ensure_seats(sql, user.org_id, s->seat_limit);
    }
    s->audit.write(user.org_id, audit);
    return true;
}

SqlUserRepository::~SqlUserRepository() = default;

void SqlUserRepository::insert_sqlite(soci::session& sql,
                                      const core::UserRecord& user,
                                      const core::Audit& audit) {
    SqliteInsert* s = &prepared_for(cache_mutex_, sqlite_inserts_, sql);
    s->b = UserBinds(user);
    s->org = user.org_id;
    s->insert_user.execute(true);
    sql.get_last_insert_id("users", s->seq);
    for (const core::EmailRecord& e : user.emails) {
        s->m.set(e);
        s->insert_email.execute(true);
    }
    s->count.execute(true);
    write_role_grants(sql, user, audit);
    if (user.active) {
        s->seat_ind = soci::i_null;
        s->seats.execute(true);
        close_row(s->seats);
        if (s->seat_ind == soci::i_ok) {
            ensure_seats(sql, user.org_id, s->seat_limit);
        }
    }
    s->audit.write(user.org_id, audit);
}

void SqlUserRepository::insert(const core::UserRecord& user, const core::Audit& audit) {
    with_write_session(db_, [&](soci::session& sql) {
        WriteTx tx(sql, db_);
        insert_in(sql, user, audit);
        tx.commit();
    });
}

void SqlUserRepository::insert_in(soci::session& sql,
                                  const core::UserRecord& user,
                                  const core::Audit& audit) {
    write_account(sql, user, audit);
    if (user.invitation) {
        create_invitation_in(sql, user.invitation->first, user.invitation->second, audit);
    }
}

void SqlUserRepository::write_account(soci::session& sql,
                                      const core::UserRecord& user,
                                      const core::Audit& audit) {
    try {
        if (db_.backend() == Backend::kSqlite) {
            insert_sqlite(sql, user, audit);
            return;
        }
        UserBinds b(user);
        long long seq = 0;
        user_statement(
            sql, with_doc(kInsertUser, db_.backend(), ":document", "CAST(:document AS jsonb)"), b,
            true, soci::details::st_one_time_query,
            [&](soci::statement& st) { st.exchange(soci::into(seq)); })
            .execute(true);
        write_emails(sql, seq, user, false);
        add_to_count(sql, b.org_id, 1);
        write_role_grants(sql, user, audit);
        SeatCheck::for_new(sql, user);
        write_audit(sql, user.org_id, audit);
    } catch (const soci::soci_error& e) {
        if (is_unique_violation(e)) {
            throw Error::uniqueness("userName \"" + user.user_name + "\" is already in use");
        }
        throw;
    }
}

void SqlUserRepository::insert_many(const std::vector<core::UserRecord>& users) {
    if (users.empty()) {
        return;
    }
    if (db_.backend() == Backend::kPostgres) {
        return insert_many_postgres(users);
    }
    return with_write_session(db_, [&](soci::session& sql) {
        WriteTx tx(sql, db_);
        UserBinds b(users.front());
        long long seq = 0;
        // The statement is finished before COMMIT: SQLite refuses to commit while an
        // INSERT … RETURNING is still open ("SQL statements in progress").
        {
            soci::statement st = user_statement(
                sql, with_doc(kInsertUser, db_.backend(), ":document", "CAST(:document AS jsonb)"),
                b, true, soci::details::st_repeatable_query,
                [&](soci::statement& s) { s.exchange(soci::into(seq)); });
            try {
                for (const core::UserRecord& u : users) {
                    b = UserBinds(u);
                    st.execute(true);
                    write_emails(sql, seq, u, false);
                    add_to_count(sql, b.org_id, 1);
                }
            } catch (const soci::soci_error& e) {
                if (is_unique_violation(e)) {
                    throw Error::uniqueness("userName \"" + b.user_name + "\" is already in use");
                }
                throw;
            }
        }
        tx.commit();
    });
}

// PostgreSQL: a batch is two statements, whatever its size (a round trip per row would
// cost about a minute per 100,000 accounts): the rows travel as one JSON parameter.
void SqlUserRepository::insert_many_postgres(const std::vector<core::UserRecord>& users) {
    namespace json = boost::json;
    json::array rows;
    json::array emails;
    std::map<std::string, long long> per_org;
    const auto text_or_null = [](const std::optional<std::string>& v) -> json::value {
        return v ? json::value(json::string(*v)) : json::value(nullptr);
    };
    for (const core::UserRecord& u : users) {
        rows.push_back(json::object{
            {"id", u.id},
            {"org_id", u.org_id},
            {"user_name", u.user_name},
            {"user_name_key", fold_case(u.user_name)},
            {"external_id", text_or_null(u.external_id)},
            {"display_name", text_or_null(u.display_name)},
            {"display_name_key", u.display_name
                                     ? json::value(json::string(fold_case(*u.display_name)))
                                     : json::value(nullptr)},
            {"active", u.active ? 1 : 0},
            {"document", u.document},
            {"version", u.version},
            {"created", u.created},
            {"last_modified", u.last_modified}});
        for (const core::EmailRecord& e : u.emails) {
            emails.push_back(json::object{
                {"user_id", u.id},
                {"org_id", u.org_id},
                {"value_key", e.value.empty() ? json::value(nullptr)
                                              : json::value(json::string(fold_case(e.value)))},
                {"type_key", e.type.empty() ? json::value(nullptr)
                                            : json::value(json::string(fold_case(e.type)))},
                {"is_primary", e.primary ? 1 : 0}});
        }
        ++per_org[u.org_id];
    }
    std::string rows_text = json::serialize(rows);
    std::string emails_text = json::serialize(emails);
    with_write_session(db_, [&](soci::session& sql) {
        WriteTx tx(sql, db_);
        try {
            sql << kBulkInsertUsersPg, soci::use(rows_text, "rows");
        } catch (const soci::soci_error& e) {
            if (is_unique_violation(e)) {
                throw Error::uniqueness("a userName of the batch is already in use");
            }
            throw;
        }
        sql << kBulkInsertEmailsPg, soci::use(emails_text, "emails");
        for (const auto& [org, n] : per_org) {
            add_to_count(sql, org, n);
        }
        tx.commit();
    });
}

bool SqlUserRepository::update(const core::UserRecord& user,
                               std::int64_t expected_version,
                               const core::Audit& audit) {
    return with_write_session(db_, [&](soci::session& sql) {
        WriteTx tx(sql, db_);
        if (!update_in(sql, user, expected_version, audit)) {
            return false;
        }
        tx.commit();
        return true;
    });
}

bool SqlUserRepository::update_in(soci::session& sql,
                                  const core::UserRecord& user,
                                  std::int64_t expected_version,
                                  const core::Audit& audit) {
    try {
        if (db_.backend() == Backend::kSqlite) {
            return update_sqlite(sql, user, expected_version, audit);
        }
        UserBinds b(user);
        long long expected = expected_version;
        long long seq = 0;
        const SeatCheck seats(sql, user);
        soci::statement st = user_statement(
            sql, with_doc(kUpdateUser, db_.backend(), ":document", "CAST(:document AS jsonb)"), b,
            false, soci::details::st_one_time_query, [&](soci::statement& s) {
                s.exchange(soci::use(expected, "expected"));
                s.exchange(soci::into(seq));
            });
        if (!st.execute(true)) {  // no row: the version moved, or the account is gone
            return false;
        }
        write_emails(sql, seq, user, true);
        write_role_grants(sql, user, audit);
        if (!user.active) {
            const std::string now = audit_time(audit);
            ensure_an_owner_remains(sql, user.org_id, holds_owner_grant(sql, user, now), now);
        }
        seats.check(sql, user);
        write_audit(sql, user.org_id, audit);
        return true;
    } catch (const soci::soci_error& e) {
        if (is_unique_violation(e)) {
            throw Error::uniqueness("userName \"" + user.user_name + "\" is already in use");
        }
        throw;
    }
}

bool SqlUserRepository::remove(const std::string& org_id,
                               const std::string& id,
                               const core::Audit& audit) {
    return with_write_session(db_, [&](soci::session& sql) {
        std::string org = org_id, key = id;
        WriteTx tx(sql, db_);
        const std::string now = audit_time(audit);
        const bool was_owner = active_owner(sql, org_id, id, now);
        soci::statement st = one_time(sql, kDeleteUser);
        st.exchange(soci::use(org, "org_id"));
        st.exchange(soci::use(key, "id"));
        st.define_and_bind();
        st.execute(true);
        const bool removed = st.get_affected_rows() > 0;
        if (removed) {
            add_to_count(sql, org, -1);
            leave_all_groups(sql, org, key, audit);
            audit_removed_access(sql, org, RemovedAccess::kGrantsOfAccount, key, audit);
            // Its grants and API keys go with it (DESIGN §2 rule 5).
            for (const char* text :
                 {"DELETE FROM grants WHERE org_id = :org_id AND user_id = :id",
                  "DELETE FROM api_keys WHERE org_id = :org_id AND user_id = :id"}) {
                sql << text, soci::use(org, "org_id"), soci::use(key, "id");
            }
            ensure_an_owner_remains(sql, org, was_owner, now);
            write_audit(sql, org, audit);
        }
        tx.commit();
        return removed;
    });
}

core::Page<core::UserRecord> SqlUserRepository::list(const std::string& org_id,
                                                     const core::ListQuery& query) {
    // The filter is translated twice, once per use in the statement: SOCI's PostgreSQL
    // backend numbers every placeholder occurrence, so each use binds values of its own.
    SqlParams page_params("p");
    SqlParams count_params("c");
    std::string page_where = "WHERE u.org_id = :org";
    std::string count_where = "WHERE u.org_id = :org2";
    if (query.filter != nullptr) {
        page_where += " AND " + user_filter_sql(*query.filter, db_.backend(), page_params, org_id);
        count_where +=
            " AND " + user_filter_sql(*query.filter, db_.backend(), count_params, org_id);
    }
    const long long offset = query.start_index > 1 ? query.start_index - 1 : 0;
    return with_session(db_, [&](soci::session& sql) {
        core::Page<core::UserRecord> page;
        if (!query.sort) {
            if (auto name = user_name_equality(query.filter)) {
                // userName is unique in an organization: one account or none.
                std::optional<core::UserRecord> found;
                if (db_.backend() == Backend::kPostgres) {
                    found = find_postgres(sql, kFindUserByNamePostgres, org_id, *name);
                } else {
                    SqliteReads& r = prepared_for(cache_mutex_, sqlite_reads_, sql);
                    r.org = org_id;
                    r.key = std::move(*name);
                    found = r.fetch_one(r.by_user_name);
                }
                page.total = found ? 1 : 0;
                if (found && offset == 0 && query.count > 0) {
                    page.items.push_back(std::move(*found));
                }
                return page;
            }
            if (db_.backend() == Backend::kSqlite && query.filter == nullptr && query.count > 0) {
                SqliteReads& r = prepared_for(cache_mutex_, sqlite_reads_, sql);
                r.org = org_id;
                r.limit = query.count;
                r.offset = offset;
                {
                    SqliteReads::Reset reset{r.page};
                    r.row.ext_ind = r.row.dn_ind = soci::i_ok;
                    r.page.execute(false);
                    while (r.page.fetch()) {
                        page.items.push_back(r.row.record());
                        r.row.ext_ind = r.row.dn_ind = soci::i_ok;
                    }
                }
                page.total = r.total;
                if (!page.items.empty() || offset == 0) {
                    return page;
                }
                page.total = 0;  // past the end: counted below
            }
        }
        std::string org = org_id;
        std::string org2 = org_id;
        if (query.count > 0) {
            // One statement returns the page and, through an uncorrelated subquery that the
            // database computes once, totalResults: both come from the same snapshot, and an
            // IdP's lookup costs one round trip.
            long long limit = query.count;
            long long off = offset;
            long long total = 0;
            const core::SortSpec* sort = query.sort ? &*query.sort : nullptr;
            std::string text = user_columns(db_.backend());
            text.insert(text.find(" FROM users u"),
                        query.filter == nullptr
                            ? ", (SELECT user_count FROM organizations WHERE id = :org2)"
                            : ", (SELECT COUNT(*) FROM users u " + count_where + ")");
            // The page's rows are chosen first by their keys alone (an index-only scan when
            // the filter and order allow it), and only those rows are read whole: OFFSET
            // then skips index entries, not documents.
            const std::string order = " ORDER BY " + user_sort_sql(sort, db_.backend());
            soci::statement st =
                one_time(sql, text + "WHERE u.seq IN (SELECT u.seq FROM users u " + page_where +
                                  order + " LIMIT :limit OFFSET :offset)" + order);
            st.exchange(soci::use(org2, "org2"));
            count_params.bind(st);
            st.exchange(soci::use(org, "org"));
            page_params.bind(st);
            st.exchange(soci::use(limit, "limit"));
            st.exchange(soci::use(off, "offset"));
            UserRow row;
            row.define(st);
            st.exchange(soci::into(total));
            st.define_and_bind();
            st.execute(false);
            while (st.fetch()) {
                page.items.push_back(row.record());
                row.ext_ind = soci::i_ok;
                row.dn_ind = soci::i_ok;
            }
            page.total = total;
            if (!page.items.empty() || offset == 0) {
                return page;
            }
        }
        // No page asked for, or a page past the end: count alone.
        long long total = 0;
        soci::statement st = one_time(sql, "SELECT COUNT(*) FROM users u " + page_where);
        st.exchange(soci::use(org, "org"));
        page_params.bind(st);
        st.exchange(soci::into(total));
        st.define_and_bind();
        st.execute(true);
        page.total = total;
        return page;
    });
}

bool SqlUserRepository::record_sign_in(const std::string& org_id,
                                       const std::string& id,
                                       const std::string& at) {
    return with_write_session(db_, [&](soci::session& sql) {
        std::string org = org_id, key = id, when = at;
        WriteTx tx(sql, db_);
        soci::statement st =
            one_time(sql, "UPDATE users SET last_sign_in = :at WHERE org_id = :org AND id = :id");
        st.exchange(soci::use(when, "at"));
        st.exchange(soci::use(org, "org"));
        st.exchange(soci::use(key, "id"));
        st.define_and_bind();
        st.execute(true);
        const bool found = st.get_affected_rows() > 0;
        tx.commit();
        return found;
    });
}

std::vector<core::SignIn> SqlUserRepository::not_signed_in_since(const std::string& org_id,
                                                                 const std::string& cutoff,
                                                                 std::size_t limit) {
    return with_session(db_, [&](soci::session& sql) {
        std::vector<core::SignIn> out;
        std::string org = org_id, before = cutoff, id, name, last;
        long long n = static_cast<long long>(limit);
        soci::indicator last_ind = soci::i_ok;
        soci::statement st =
            one_time(sql,
                     "SELECT id, user_name, last_sign_in FROM users WHERE org_id = :org AND "
                     "active = 1 AND (last_sign_in IS NULL OR last_sign_in < :cutoff) ORDER BY "
                     "last_sign_in IS NOT NULL, last_sign_in, seq LIMIT :n");
        st.exchange(soci::use(org, "org"));
        st.exchange(soci::use(before, "cutoff"));
        st.exchange(soci::use(n, "n"));
        st.exchange(soci::into(id));
        st.exchange(soci::into(name));
        st.exchange(soci::into(last, last_ind));
        st.define_and_bind();
        st.execute(false);
        while (st.fetch()) {
            out.push_back({id, name, last_ind == soci::i_ok ? std::optional(last) : std::nullopt});
            last_ind = soci::i_ok;
        }
        return out;
    });
}

}  // namespace scimd::store
