#include <algorithm>
#include <chrono>
#include <string>
#include <unordered_set>
#include <vector>

#include "store/sql_filter.hpp"
#include "store/sql_util.hpp"
#include <boost/json.hpp>
#include <soci/soci.h>

#include "scimd/core/clock.hpp"
#include "scimd/error.hpp"
#include "scimd/store/repositories.hpp"

namespace scimd::store {
namespace {

constexpr const char* kGroupColumns =
    "SELECT g.seq, g.id, g.org_id, g.display_name, g.external_id, {doc}, g.version, g.created, "
    "g.last_modified FROM scim_groups g ";
constexpr const char* kInsertGroup =
    "INSERT INTO scim_groups (id, org_id, display_name, display_name_key, external_id, document, "
    "version, created, last_modified) VALUES (:id, :org_id, :display_name, :display_name_key, "
    ":external_id, {doc}, :version, :created, :last_modified)";
constexpr const char* kUpdateGroup =
    "UPDATE scim_groups SET display_name = :display_name, display_name_key = :display_name_key, "
    "external_id = :external_id, document = {doc}, version = :version, "
    "last_modified = :last_modified WHERE org_id = :org_id AND id = :id AND version = :expected";
constexpr const char* kTouchGroup =
    "UPDATE scim_groups SET version = version + 1, last_modified = :at "
    "WHERE org_id = :org_id AND id = :id";
constexpr const char* kGroupSeq = "SELECT seq FROM scim_groups WHERE org_id = :org_id AND id = :id";
// The groups that contain a member are modified when it leaves them.
constexpr const char* kBumpContainers =
    "UPDATE scim_groups SET version = version + 1, last_modified = :at WHERE seq IN "
    "(SELECT group_seq FROM group_members WHERE org_id = :org_id AND member_id = :id)";
constexpr const char* kDeleteMemberships =
    "DELETE FROM group_members WHERE org_id = :org_id AND member_id = :id";
constexpr const char* kDeleteGroup = "DELETE FROM scim_groups WHERE seq = :seq";
constexpr const char* kDeleteAllMembers = "DELETE FROM group_members WHERE group_seq = :seq";
constexpr const char* kMembers =
    "SELECT m.member_id, m.member_type, COALESCE(u.display_name, u.user_name, c.display_name) "
    "FROM group_members m "
    "LEFT JOIN users u ON m.member_type = 'User' AND u.org_id = m.org_id AND u.id = m.member_id "
    "LEFT JOIN scim_groups c ON m.member_type = 'Group' AND c.org_id = m.org_id "
    "AND c.id = m.member_id WHERE m.group_seq = :seq ORDER BY ";
// Up the nesting: the groups a member is in directly (1), then the groups those are in (0).
constexpr const char* kGroupsOf =
    "WITH RECURSIVE up(seq, direct) AS ("
    "SELECT m.group_seq, 1 FROM group_members m WHERE m.org_id = :org_id AND m.member_id = :id "
    "UNION SELECT m.group_seq, 0 FROM up JOIN scim_groups g ON g.seq = up.seq "
    "JOIN group_members m ON m.org_id = g.org_id AND m.member_id = g.id) "
    "SELECT g.id, g.display_name, MAX(up.direct) FROM up JOIN scim_groups g ON g.seq = up.seq "
    "GROUP BY g.id, g.display_name ORDER BY ";

// Several statements that must read one state (a group and its members; a count and its
// page): a read-only transaction, ended by a rollback.
class Snapshot {
public:
    Snapshot(soci::session& sql, Backend backend) : sql_(sql) {
        sql_ << (backend == Backend::kPostgres ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                                               : "BEGIN");
    }
    ~Snapshot() {
        try {
            sql_ << "ROLLBACK";
        } catch (const std::exception&) {
            // The connection is gone; nothing was written.
        }
    }
    Snapshot(const Snapshot&) = delete;
    Snapshot& operator=(const Snapshot&) = delete;

private:
    soci::session& sql_;
};

// Ids sort by bytes on both dialects.
std::string by_bytes(Backend b, const std::string& column) {
    return b == Backend::kPostgres ? column + " COLLATE \"C\"" : column;
}

// Cap on the ids one error detail names.
constexpr std::size_t kNamedInError = 5;

// A PostgreSQL text[] literal of `ids`: every element quoted, quotes and backslashes escaped.
std::string pg_text_array(const std::vector<std::string>& ids) {
    std::string out = "{";
    for (std::size_t i = 0; i < ids.size(); ++i) {
        out += i ? ",\"" : "\"";
        for (const char c : ids[i]) {
            if (c == '"' || c == '\\') {
                out += '\\';
            }
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

struct GroupRow {
    long long seq = 0;
    std::string id, org_id, display_name, external_id, document, created, modified;
    soci::indicator ext_ind = soci::i_ok;
    long long version = 0;

    void define(soci::statement& st) {
        st.exchange(soci::into(seq));
        st.exchange(soci::into(id));
        st.exchange(soci::into(org_id));
        st.exchange(soci::into(display_name));
        st.exchange(soci::into(external_id, ext_ind));
        st.exchange(soci::into(document));
        st.exchange(soci::into(version));
        st.exchange(soci::into(created));
        st.exchange(soci::into(modified));
    }

    core::GroupRecord record() {
        core::GroupRecord g;
        g.id = std::move(id);
        g.org_id = std::move(org_id);
        g.display_name = std::move(display_name);
        if (ext_ind == soci::i_ok) {
            g.external_id = std::move(external_id);
        }
        ext_ind = soci::i_ok;
        g.document = std::move(document);
        g.version = version;
        g.created = std::move(created);
        g.last_modified = std::move(modified);
        return g;
    }
};

// Bound copies of a group's columns for an insert or an update.
struct GroupBinds {
    std::string id, org_id, display_name, display_key, external_id, document, created, modified;
    soci::indicator ext_ind;
    long long version;

    explicit GroupBinds(const core::GroupRecord& g)
        : id(g.id),
          org_id(g.org_id),
          display_name(g.display_name),
          display_key(fold_case(g.display_name)),
          external_id(g.external_id.value_or("")),
          document(g.document),
          created(g.created),
          modified(g.last_modified),
          ext_ind(g.external_id ? soci::i_ok : soci::i_null),
          version(g.version) {}

    void use(soci::statement& st, bool insert) {
        st.exchange(soci::use(id, "id"));
        st.exchange(soci::use(org_id, "org_id"));
        st.exchange(soci::use(display_name, "display_name"));
        st.exchange(soci::use(display_key, "display_name_key"));
        st.exchange(soci::use(external_id, ext_ind, "external_id"));
        st.exchange(soci::use(document, "document"));
        st.exchange(soci::use(version, "version"));
        st.exchange(soci::use(modified, "last_modified"));
        if (insert) {
            st.exchange(soci::use(created, "created"));
        }
    }
};

std::optional<long long> group_seq(soci::session& sql,
                                   const std::string& org_id,
                                   const std::string& id) {
    std::string org = org_id, key = id;
    long long seq = 0;
    soci::indicator ind = soci::i_null;
    sql << kGroupSeq, soci::use(org, "org_id"), soci::use(key, "id"), soci::into(seq, ind);
    if (!sql.got_data() || ind != soci::i_ok) {
        return std::nullopt;
    }
    return seq;
}

// Runs `text` with :org_id, :id bound.
void exec_org_id(soci::session& sql,
                 const char* text,
                 const std::string& org_id,
                 const std::string& id) {
    std::string org = org_id, key = id;
    soci::statement st = one_time(sql, text);
    st.exchange(soci::use(org, "org_id"));
    st.exchange(soci::use(key, "id"));
    st.define_and_bind();
    st.execute(true);
}

std::string named_ids(const std::vector<std::string>& ids) {
    std::string out;
    for (std::size_t i = 0; i < ids.size() && i < kNamedInError; ++i) {
        out += (i ? ", \"" : "\"") + ids[i] + "\"";
    }
    if (ids.size() > kNamedInError) {
        out += " and " + std::to_string(ids.size() - kNamedInError) + " more";
    }
    return out;
}

// Applies `change` to the members of the group `seq` (id `group_id`) inside the caller's
// transaction. Every id to add must be a User or a Group of the organization, and no Group
// may contain the group itself, directly or through nesting: otherwise invalidValue is
// thrown and the caller's transaction rolls back.
// One audit row per member id that joined (`added`) or left the group, all of one type,
// written by one statement whatever their number.
void audit_member_ids(soci::session& sql,
                      Backend backend,
                      const std::string& org_id,
                      const std::string& group_id,
                      const core::Audit& audit,
                      bool added,
                      const std::vector<std::string>& member_ids,
                      const std::string& member_type) {
    if (member_ids.empty()) {
        return;
    }
    std::string org = org_id, at = audit_time(audit), actor = audit.actor,
                request = audit.request_id, gid = group_id, ids = json_array_of(member_ids),
                type = member_type;
    const std::string value = R"('{"member":"' || j.value || '","type":"' || :a_type || '"}')";
    soci::statement st =
        one_time(sql, std::string(kInsertAudit) + "SELECT :a_org, :a_at, :a_actor, " +
                          (added ? "'group.member_added', 'group', :a_gid, NULL, " + value
                                 : "'group.member_removed', 'group', :a_gid, " + value + ", NULL") +
                          ", :a_request FROM " + json_ids_table(backend, ":ids"));
    st.exchange(soci::use(org, "a_org"));
    st.exchange(soci::use(at, "a_at"));
    st.exchange(soci::use(actor, "a_actor"));
    st.exchange(soci::use(gid, "a_gid"));
    st.exchange(soci::use(type, "a_type"));
    st.exchange(soci::use(request, "a_request"));
    st.exchange(soci::use(ids, "ids"));
    st.define_and_bind();
    st.execute(true);
}

// Applies `change` to the members of the group `seq` (id `group_id`) inside the caller's
// transaction, with an audit row for each member that joins or leaves. Every id to add must
// be a User or a Group of the organization, and no Group may contain the group itself,
// directly or through nesting: otherwise invalidValue is thrown and the caller's
// transaction rolls back.
void apply_change(soci::session& sql,
                  Backend backend,
                  const std::string& org_id,
                  long long seq,
                  const std::string& group_id,
                  const core::MembershipChange& change,
                  const core::Audit& audit) {
    if (change.replace_all || !change.remove.empty()) {
        // Replacing: the members not in the new list leave; removing: the listed ones do. The
        // rows the delete returns are the ones audited: a removal of an absent member records
        // nothing, and no statement reads the group's other members.
        std::string ids = json_array_of(change.replace_all ? change.add : change.remove);
        std::vector<std::string> left_users, left_groups;
        {
            std::string id, type;
            // PostgreSQL plans "IN (rows of a JSON array)" as a hash over the whole group's
            // rows; "= ANY(array)" is one index probe per id.
            const bool by_array = backend == Backend::kPostgres && !change.replace_all;
            if (by_array) {
                ids = pg_text_array(change.remove);
            }
            const std::string which = by_array ? "= ANY(CAST(:ids AS text[]))"
                                               : std::string(change.replace_all ? "NOT IN" : "IN") +
                                                     " (SELECT j.value FROM " +
                                                     json_ids_table(backend, ":ids") + ")";
            soci::statement st =
                one_time(sql, "DELETE FROM group_members WHERE group_seq = :seq AND member_id " +
                                  which + " RETURNING member_id, member_type");
            st.exchange(soci::use(seq, "seq"));
            st.exchange(soci::use(ids, "ids"));
            st.exchange(soci::into(id));
            st.exchange(soci::into(type));
            st.define_and_bind();
            st.execute(false);
            while (st.fetch()) {
                (type == "Group" ? left_groups : left_users).push_back(id);
            }
        }
        audit_member_ids(sql, backend, org_id, group_id, audit, false, left_users, "User");
        audit_member_ids(sql, backend, org_id, group_id, audit, false, left_groups, "Group");
    }
    if (change.add.empty()) {
        return;
    }
    // What each id is: a User, a Group, or nothing of this organization. On PostgreSQL the
    // rows found are locked (FOR KEY SHARE) until the commit, so that a concurrent delete of a
    // member waits for this write and then removes the new member row with the rest of its
    // memberships, instead of leaving a row that names nothing.
    std::vector<std::string> users, groups, unknown;
    // The ids drive the join (CROSS JOIN keeps SQLite from scanning the organization's rows
    // and probing the list instead): one index lookup per id.
    const std::string lock = backend == Backend::kPostgres ? " FOR KEY SHARE OF t" : "";
    std::string ids = json_array_of(change.add);
    const auto found = [&](const char* table, std::vector<std::string>& out) {
        std::string o = org_id, id;
        soci::statement st =
            one_time(sql, "SELECT t.id FROM " + json_ids_table(backend, ":ids") + " CROSS JOIN " +
                              table + " t WHERE t.id = j.value AND t.org_id = :org" + lock);
        st.exchange(soci::use(o, "org"));
        st.exchange(soci::use(ids, "ids"));
        st.exchange(soci::into(id));
        st.define_and_bind();
        st.execute(false);
        while (st.fetch()) {
            out.push_back(id);
        }
    };
    if (backend == Backend::kPostgres) {
        found("users", users);  // FOR KEY SHARE cannot lock through a UNION
        found("scim_groups", groups);
    } else {
        // One statement for both kinds on SQLite, whose writer is the bottleneck.
        std::string o = org_id, o2 = org_id, ids2 = ids, id, type;
        soci::statement st = one_time(
            sql, "SELECT t.id, 'User' FROM " + json_ids_table(backend, ":ids") +
                     " CROSS JOIN users t WHERE t.id = j.value AND t.org_id = :org UNION ALL "
                     "SELECT c.id, 'Group' FROM json_each(:ids2) AS k CROSS JOIN scim_groups c "
                     "WHERE c.id = k.value AND c.org_id = :org2");
        st.exchange(soci::use(ids, "ids"));
        st.exchange(soci::use(o, "org"));
        st.exchange(soci::use(ids2, "ids2"));
        st.exchange(soci::use(o2, "org2"));
        st.exchange(soci::into(id));
        st.exchange(soci::into(type));
        st.define_and_bind();
        st.execute(false);
        while (st.fetch()) {
            (type == "User" ? users : groups).push_back(id);
        }
    }
    if (users.size() + groups.size() < change.add.size()) {
        std::unordered_set<std::string> known(users.begin(), users.end());
        known.insert(groups.begin(), groups.end());
        for (const std::string& id : change.add) {
            if (known.insert(id).second) {
                unknown.push_back(id);
            }
        }
    }
    if (!unknown.empty()) {
        throw Error::invalid_value("members not found in this organization: " + named_ids(unknown) +
                                   "; no member was changed");
    }
    if (!groups.empty()) {
        if (std::find(groups.begin(), groups.end(), group_id) != groups.end()) {
            throw Error::invalid_value("a group cannot be a member of itself (\"" + group_id +
                                       "\")");
        }
        if (backend == Backend::kPostgres) {
            // Two concurrent nestings could each pass the check below and make a cycle
            // together: nesting changes of one organization take turns. NO KEY UPDATE, so
            // that the foreign-key checks of inserts (KEY SHARE) don't wait for it.
            std::string o = org_id;
            sql << "SELECT id FROM organizations WHERE id = :org FOR NO KEY UPDATE",
                soci::use(o, "org");
        }
        std::string group_ids = json_array_of(groups);
        std::string org3 = org_id;
        long long cycles = 0;
        soci::statement st = one_time(
            sql, "WITH RECURSIVE down(seq) AS (SELECT c.seq FROM " +
                     json_ids_table(backend, ":ids") +
                     " CROSS JOIN scim_groups c WHERE c.id = j.value AND c.org_id = :org UNION "
                     "SELECT c.seq FROM down JOIN group_members m ON m.group_seq = down.seq "
                     "AND m.member_type = 'Group' JOIN scim_groups c ON c.org_id = m.org_id AND "
                     "c.id = m.member_id) SELECT COUNT(*) FROM down WHERE seq = :seq");
        st.exchange(soci::use(org3, "org"));
        st.exchange(soci::use(group_ids, "ids"));
        st.exchange(soci::use(seq, "seq"));
        st.exchange(soci::into(cycles));
        st.define_and_bind();
        st.execute(true);
        if (cycles > 0) {
            throw Error::invalid_value("adding " + named_ids(groups) + " to group \"" + group_id +
                                       "\" would make a cycle: it already contains that group");
        }
    }
    for (auto* list : {&users, &groups}) {
        if (list->empty()) {
            continue;
        }
        std::sort(list->begin(), list->end());
        list->erase(std::unique(list->begin(), list->end()), list->end());
        std::string member_ids = json_array_of(*list);
        std::string type = list == &users ? "User" : "Group";
        // The rows the insert returns are the members that joined: only they are audited.
        std::vector<std::string> joined;
        {
            std::string o = org_id, id;
            soci::statement st = one_time(
                sql,
                "INSERT INTO group_members (group_seq, org_id, member_id, member_type) SELECT "
                "CAST(:seq AS BIGINT), :org, j.value, :type FROM " +
                    json_ids_table(backend, ":ids") +
                    " WHERE true ON CONFLICT (group_seq, member_id) DO NOTHING RETURNING "
                    "member_id");
            st.exchange(soci::use(seq, "seq"));
            st.exchange(soci::use(o, "org"));
            st.exchange(soci::use(type, "type"));
            st.exchange(soci::use(member_ids, "ids"));
            st.exchange(soci::into(id));
            st.define_and_bind();
            st.execute(false);
            while (st.fetch()) {
                joined.push_back(id);
            }
        }
        audit_member_ids(sql, backend, org_id, group_id, audit, true, joined, type);
    }
}

std::vector<core::MemberRef> members_of(soci::session& sql, Backend backend, long long seq) {
    std::vector<core::MemberRef> out;
    constexpr std::size_t kBatch = 1000;
    std::vector<std::string> ids(kBatch), types(kBatch), names(kBatch);
    std::vector<soci::indicator> name_ind(kBatch);
    soci::statement st = one_time(sql, std::string(kMembers) + by_bytes(backend, "m.member_id"));
    st.exchange(soci::use(seq, "seq"));
    st.exchange(soci::into(ids));
    st.exchange(soci::into(types));
    st.exchange(soci::into(names, name_ind));
    st.define_and_bind();
    if (st.execute(true)) {
        do {
            for (std::size_t i = 0; i < ids.size(); ++i) {
                out.push_back({std::move(ids[i]), std::move(types[i]),
                               name_ind[i] == soci::i_ok ? std::move(names[i]) : std::string()});
            }
            ids.resize(kBatch);
            types.resize(kBatch);
            names.resize(kBatch);
            name_ind.resize(kBatch);
        } while (st.fetch());
    }
    return out;
}

}  // namespace

void leave_all_groups(soci::session& sql,
                      const std::string& org_id,
                      const std::string& member_id,
                      const core::Audit& audit) {
    std::string org = org_id, org2 = org_id, key = member_id, at = audit_time(audit),
                actor = audit.actor, request = audit.request_id;
    {
        soci::statement st = one_time(
            sql,
            std::string(kInsertAudit) +
                "SELECT :org, :at, :actor, "
                "'group.member_removed', 'group', g.id, '{\"member\":\"' || m.member_id || "
                "'\",\"type\":\"' || m.member_type || '\"}', NULL, :request FROM group_members m "
                "JOIN scim_groups g ON g.seq = m.group_seq WHERE m.org_id = :org2 AND "
                "m.member_id = :id");
        st.exchange(soci::use(org, "org"));
        st.exchange(soci::use(at, "at"));
        st.exchange(soci::use(actor, "actor"));
        st.exchange(soci::use(request, "request"));
        st.exchange(soci::use(org2, "org2"));
        st.exchange(soci::use(key, "id"));
        st.define_and_bind();
        st.execute(true);
    }
    {
        // The groups it leaves are modified at the time of the write.
        std::string org3 = org_id, key2 = member_id, at2 = at;
        soci::statement st = one_time(sql, kBumpContainers);
        st.exchange(soci::use(at2, "at"));
        st.exchange(soci::use(org3, "org_id"));
        st.exchange(soci::use(key2, "id"));
        st.define_and_bind();
        st.execute(true);
    }
    exec_org_id(sql, kDeleteMemberships, org_id, member_id);
}

std::optional<core::GroupRecord> SqlGroupRepository::find(const std::string& org_id,
                                                          const std::string& id,
                                                          bool with_members) {
    return with_session(db_, [&](soci::session& sql) -> std::optional<core::GroupRecord> {
        std::optional<Snapshot> snapshot;
        if (with_members) {
            snapshot.emplace(sql, db_.backend());
        }
        std::string org = org_id, key = id;
        GroupRow row;
        soci::statement st =
            one_time(sql, with_doc(kGroupColumns, db_.backend(), "g.document", "g.document::text") +
                              "WHERE g.org_id = :org AND g.id = :id");
        st.exchange(soci::use(org, "org"));
        st.exchange(soci::use(key, "id"));
        row.define(st);
        st.define_and_bind();
        if (!st.execute(true)) {
            return std::nullopt;
        }
        const long long seq = row.seq;
        core::GroupRecord g = row.record();
        if (with_members) {
            g.members = members_of(sql, db_.backend(), seq);
        }
        return g;
    });
}

void SqlGroupRepository::insert(const core::GroupRecord& group,
                                const std::vector<std::string>& members,
                                const core::Audit& audit) {
    with_write_session(db_, [&](soci::session& sql) {
        GroupBinds b(group);
        WriteTx tx(sql, db_);
        try {
            soci::statement st = one_time(sql, with_doc(kInsertGroup, db_.backend(), ":document",
                                                        "CAST(:document AS jsonb)"));
            b.use(st, true);
            st.define_and_bind();
            st.execute(true);
        } catch (const soci::soci_error& e) {
            if (is_unique_violation(e)) {
                throw Error::uniqueness("displayName \"" + group.display_name +
                                        "\" is already in use");
            }
            throw;
        }
        if (!members.empty()) {
            const auto seq = group_seq(sql, group.org_id, group.id);
            core::MembershipChange change;
            change.add = members;
            apply_change(sql, db_.backend(), group.org_id, *seq, group.id, change, audit);
        }
        apply_naming_rules(sql, group.org_id, group.id, group.display_name, audit);
        write_audit(sql, group.org_id, audit);
        tx.commit();
    });
}

bool SqlGroupRepository::update(const core::GroupRecord& group,
                                std::int64_t expected_version,
                                const core::MembershipChange& change,
                                const core::Audit& audit) {
    return with_write_session(db_, [&](soci::session& sql) {
        GroupBinds b(group);
        long long expected = expected_version;
        WriteTx tx(sql, db_);
        try {
            soci::statement st = one_time(sql, with_doc(kUpdateGroup, db_.backend(), ":document",
                                                        "CAST(:document AS jsonb)"));
            b.use(st, false);
            st.exchange(soci::use(expected, "expected"));
            st.define_and_bind();
            st.execute(true);
            if (st.get_affected_rows() == 0) {
                return false;
            }
        } catch (const soci::soci_error& e) {
            if (is_unique_violation(e)) {
                throw Error::uniqueness("displayName \"" + group.display_name +
                                        "\" is already in use");
            }
            throw;
        }
        if (!change.empty()) {
            const auto seq = group_seq(sql, group.org_id, group.id);
            apply_change(sql, db_.backend(), group.org_id, *seq, group.id, change, audit);
        }
        apply_naming_rules(sql, group.org_id, group.id, group.display_name, audit);
        write_audit(sql, group.org_id, audit);
        tx.commit();
        return true;
    });
}

bool SqlGroupRepository::change_members(const std::string& org_id,
                                        const std::string& id,
                                        const core::MembershipChange& change,
                                        const std::string& at,
                                        const core::Audit& audit) {
    return with_write_session(db_, [&](soci::session& sql) {
        std::string org = org_id, key = id, when = at;
        WriteTx tx(sql, db_);
        long long seq = 0;
        {
            // Finished before the next statement: SQLite keeps an open RETURNING statement
            // from committing.
            soci::statement st = one_time(sql, std::string(kTouchGroup) + " RETURNING seq");
            st.exchange(soci::use(when, "at"));
            st.exchange(soci::use(org, "org_id"));
            st.exchange(soci::use(key, "id"));
            st.exchange(soci::into(seq));
            st.define_and_bind();
            if (!st.execute(true)) {
                return false;
            }
        }
        apply_change(sql, db_.backend(), org_id, seq, id, change, audit);
        write_audit(sql, org_id, audit);
        tx.commit();
        return true;
    });
}

bool SqlGroupRepository::remove(const std::string& org_id,
                                const std::string& id,
                                const core::Audit& audit) {
    return with_write_session(db_, [&](soci::session& sql) {
        WriteTx tx(sql, db_);
        auto seq = group_seq(sql, org_id, id);
        if (!seq) {
            return false;
        }
        leave_all_groups(sql, org_id, id, audit);
        audit_removed_access(sql, org_id, RemovedAccess::kBindingsOfGroup, id, audit);
        exec_org_id(sql, "DELETE FROM group_roles WHERE org_id = :org_id AND group_id = :id",
                    org_id, id);
        // Its own member rows: the foreign key cascades too, but a group's rows must never
        // outlive it, whatever a connection's settings.
        for (const char* text : {kDeleteAllMembers, kDeleteGroup}) {
            soci::statement st = one_time(sql, text);
            st.exchange(soci::use(*seq, "seq"));
            st.define_and_bind();
            st.execute(true);
        }
        write_audit(sql, org_id, audit);
        tx.commit();
        return true;
    });
}

core::Page<core::GroupRecord> SqlGroupRepository::list(const std::string& org_id,
                                                       const core::ListQuery& query,
                                                       bool with_members) {
    SqlParams page_params("p");
    SqlParams count_params("c");
    std::string page_where = "WHERE g.org_id = :org";
    std::string count_where = "WHERE g.org_id = :org";
    if (query.filter != nullptr) {
        page_where += " AND " + group_filter_sql(*query.filter, db_.backend(), page_params, org_id);
        count_where +=
            " AND " + group_filter_sql(*query.filter, db_.backend(), count_params, org_id);
    }
    const long long offset = query.start_index > 1 ? query.start_index - 1 : 0;
    return with_session(db_, [&](soci::session& sql) {
        Snapshot snapshot(sql, db_.backend());
        core::Page<core::GroupRecord> page;
        {
            std::string org = org_id;
            long long total = 0;
            soci::statement st = one_time(sql, "SELECT COUNT(*) FROM scim_groups g " + count_where);
            st.exchange(soci::use(org, "org"));
            count_params.bind(st);
            st.exchange(soci::into(total));
            st.define_and_bind();
            st.execute(true);
            page.total = total;
        }
        if (query.count <= 0 || offset >= page.total) {
            return page;
        }
        std::string org = org_id;
        long long limit = query.count, off = offset;
        const core::SortSpec* sort = query.sort ? &*query.sort : nullptr;
        soci::statement st =
            one_time(sql, with_doc(kGroupColumns, db_.backend(), "g.document", "g.document::text") +
                              page_where + " ORDER BY " + group_sort_sql(sort, db_.backend()) +
                              " LIMIT :limit OFFSET :offset");
        st.exchange(soci::use(org, "org"));
        page_params.bind(st);
        st.exchange(soci::use(limit, "limit"));
        st.exchange(soci::use(off, "offset"));
        GroupRow row;
        row.define(st);
        st.define_and_bind();
        st.execute(false);
        std::vector<long long> seqs;
        while (st.fetch()) {
            seqs.push_back(row.seq);
            page.items.push_back(row.record());
        }
        if (with_members) {
            for (std::size_t i = 0; i < seqs.size(); ++i) {
                page.items[i].members = members_of(sql, db_.backend(), seqs[i]);
            }
        }
        return page;
    });
}

std::vector<core::GroupMembership> SqlGroupRepository::groups_of(const std::string& org_id,
                                                                 const std::string& member_id) {
    return with_session(db_, [&](soci::session& sql) {
        std::string org = org_id, key = member_id, id, name;
        int direct = 0;
        std::vector<core::GroupMembership> out;
        soci::statement st =
            one_time(sql, std::string(kGroupsOf) + by_bytes(db_.backend(), "g.id"));
        st.exchange(soci::use(org, "org_id"));
        st.exchange(soci::use(key, "id"));
        st.exchange(soci::into(id));
        st.exchange(soci::into(name));
        st.exchange(soci::into(direct));
        st.define_and_bind();
        st.execute(false);
        while (st.fetch()) {
            out.push_back({id, name, direct != 0});
        }
        return out;
    });
}

}  // namespace scimd::store
