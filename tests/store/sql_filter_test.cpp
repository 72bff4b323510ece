// The SQL translation of filters (src/store/sql_filter.cpp) must agree with the RFC 7644
// semantics that protocol::matches() implements in memory. Each filter of the table runs on
// the database and on every seeded document; the sets of ids must be equal, on every backend.

#include "store/sql_filter.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "store/store_fixture.hpp"
#include <gtest/gtest.h>

#include "scimd/error.hpp"
#include "scimd/protocol/filter.hpp"

namespace scimd::test {
namespace {

// Varied users: core attributes, multi-valued attributes with and without type/primary,
// the enterprise extension, absent attributes, mixed case, a quote and non-ASCII text.
constexpr const char* kUsers[] = {
    R"({"userName":"bjensen","externalId":"EXT-bjensen","displayName":"Babs Jensen",
        "name":{"givenName":"Barbara","familyName":"Jensen"},"title":"Tour Guide",
        "userType":"Employee","active":true,
        "emails":[{"value":"bjensen@example.com","type":"work","primary":true},
                  {"value":"babs@jensen.org","type":"home"}],
        "phoneNumbers":[{"value":"555-555-8377","type":"work"}],
        "addresses":[{"type":"work","locality":"Hollywood","country":"USA","primary":true}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{
          "employeeNumber":"701984","department":"Tour Operations","manager":{"value":"m-1"}}})",
    R"({"userName":"JSmith","externalId":"ext-jsmith","name":{"givenName":"John","familyName":"Smith"},
        "title":"Engineer","userType":"Contractor","active":false,
        "emails":[{"value":"John.Smith@Example.COM","type":"Work"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{
          "employeeNumber":"1002","department":"Engineering"}})",
    R"({"userName":"omalley","name":{"givenName":"Pat","familyName":"O'Malley"},"active":true,
        "phoneNumbers":[{"value":"+1 555 0100","type":"mobile","primary":true}],
        "addresses":[{"locality":"Dublin","country":"IE","type":"home"}]})",
    R"({"userName":"alice","title":"Senior Engineer","userType":"Employee","active":true,
        "emails":[{"value":"alice@work.example","type":"work"},
                  {"value":"alice@home.example","type":"home","primary":true}],
        "x509Certificates":[{"value":"MIIBase64=="}],"ims":[{"value":"alice_im","type":"xmpp"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{
          "department":"engineering","manager":{"value":"u-bjensen","displayName":"Barbara"}}})",
    R"({"userName":"bob","displayName":"Bob","active":true,"nickName":"Bobby"})",
    R"({"userName":"carol","displayName":"Carol C","nickName":"CC","active":false,
        "emails":[{"value":"carol@example.com"}]})",
    R"({"userName":"dave","externalId":"DAVE-1","title":"","active":true,
        "emails":[{"value":"dave@example.org","type":"other","primary":false}]})",
    R"({"userName":"Eve.Adams","name":{"givenName":"Eve","familyName":"Adams"},"active":true,
        "userType":"employee","title":"Tour Operator",
        "phoneNumbers":[{"value":"555-0199","type":"work","primary":true},
                        {"value":"555-0100","type":"home"}]})",
    R"({"userName":"frank","active":true,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{
          "employeeNumber":"0042","costCenter":"CC-7"}})",
    R"({"userName":"grace","name":{"familyName":"Ünal","givenName":"Grâce"},"active":true,
        "title":"ÉLÈVE"})",
    R"({"userName":"heidi","active":true,
        "emails":[{"value":"heidi@EXAMPLE.com","type":"WORK","primary":true}]})",
    R"({"userName":"ivan","active":true})",
    R"({"userName":"judy","active":false,"emails":[{"value":"judy@example.com","type":"work"}]})",
};

constexpr const char* kEnt = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

// {id3} is replaced by the id of kUsers[3], {ID3} by the same in upper case, {t5} by the
// creation time of kUsers[5] (users are created one minute apart).
const std::vector<std::string>& filters() {
    static const std::vector<std::string> table = [] {
        const std::string ent = kEnt;
        return std::vector<std::string>{
            // userName: indexed key column, case-insensitive, every operator
            R"(userName eq "bjensen")",
            R"(userName eq "BJENSEN")",
            R"(USERNAME Eq "jsmith")",
            R"(userName ne "bjensen")",
            R"(userName co "A")",
            R"(userName sw "J")",
            R"(userName ew "N")",
            R"(userName gt "frank")",
            R"(userName ge "frank")",
            R"(userName lt "c")",
            R"(userName le "carol")",
            R"(userName pr)",
            // caseExact columns
            R"(externalId eq "EXT-bjensen")",
            R"(externalId eq "ext-bjensen")",
            R"(externalId sw "ext")",
            R"(externalId pr)",
            R"(not (externalId pr))",
            R"(id eq "{id3}")",
            R"(id eq "{ID3}")",
            R"(displayName eq "babs jensen")",
            R"(displayName pr)",
            R"(displayName lt "c")",
            // booleans
            R"(active eq true)",
            R"(active eq false)",
            R"(active ne false)",
            R"(not (active eq true))",
            // emails: served by the user_emails table
            R"(emails eq "bjensen@example.com")",
            R"(emails.value eq "JOHN.SMITH@example.com")",
            R"(emails co "example.com")",
            R"(emails.value ew ".ORG")",
            R"(emails.type eq "work")",
            R"(emails.primary eq true)",
            R"(emails[type eq "work" and primary eq true])",
            R"(emails[type eq "work"].value eq "john.smith@example.com")",
            R"(emails[type eq "work"].value sw "alice")",
            R"(emails[not (type eq "work")])",
            R"(emails[type eq "home" or value sw "heidi"])",
            R"(emails[type ne "work"])",
            R"(emails pr)",
            R"(not (emails pr))",
            R"(emails[not (primary eq true)])",
            R"(emails[primary pr])",
            R"(emails[primary ne true and type eq "home"])",
            R"(emails.value ne "bjensen@example.com")",
            R"(emails[primary eq false])",
            R"(emails.primary ne true)",
            R"(emails.value eq null)",
            R"(emails.type ne "work")",
            // phoneNumbers, addresses, ims, x509Certificates: JSON
            R"(phoneNumbers[type eq "work" and value sw "555"])",
            R"(phoneNumbers.primary eq true)",
            R"(phoneNumbers[primary eq true and type eq "MOBILE"])",
            R"(phoneNumbers.value co "0100")",
            R"(phoneNumbers pr)",
            R"(phoneNumbers.value ne "555-0100")",
            R"(phoneNumbers[primary eq false])",
            R"(addresses[locality eq "dublin"])",
            R"(addresses.country eq "usa")",
            R"(addresses[type eq "work" and primary eq true])",
            R"(ims[type eq "xmpp"])",
            R"(x509Certificates.value eq "MIIBase64==")",
            R"(x509Certificates.value eq "miibase64==")",
            // name, title, other core strings: JSON
            R"(name.familyName co "O'Malley")",
            R"(name.familyName eq "o'malley")",
            R"(name.givenName sw "b")",
            R"(name pr)",
            R"(name.familyName eq "Ünal")",
            R"(name.familyName eq "ünal")",
            R"(name.givenName co "RÂ")",
            R"(title eq "élève")",
            R"(title pr)",
            R"(not (title pr))",
            R"(title eq null)",
            R"(title ne null)",
            R"(title co "engineer")",
            R"(title ne "Engineer")",
            R"(title gt "s")",
            R"(title le "tour guide")",
            R"(userType eq "employee")",
            R"(nickName eq "cc")",
            // schemas and meta
            "schemas eq \"" + ent + "\"",
            R"(schemas eq "urn:ietf:params:scim:schemas:core:2.0:user")",
            "schemas ne \"" + ent + "\"",
            R"(meta.resourceType eq "User")",
            R"(meta.created gt "{t5}")",
            R"(meta.created ge "{t5}")",
            R"(meta.lastModified lt "{t5}")",
            R"(meta.created gt "2026-03-01T12:04:30+02:00")",
            R"(meta.created pr)",
            R"(meta.created eq "2026-03-01T10:05:00Z")",
            R"(meta.resourceType eq "group")",
            // the enterprise extension
            ent + R"(:employeeNumber eq "701984")",
            ent + R"(:employeeNumber eq 701984)",
            ent + R"(:employeeNumber lt "2")",
            ent + R"(:employeeNumber pr)",
            ent + R"(:department eq "ENGINEERING")",
            ent + R"(:manager.value eq "u-bjensen")",
            R"(manager eq "m-1")",
            ent + R"(:manager pr)",
            // and/or/not precedence
            R"(userName eq "alice" or userName eq "bob" and active eq false)",
            R"((userName eq "alice" or userName eq "carol") and active eq false)",
            R"(userName eq "carol" and active eq false or userName eq "bob")",
            R"(not (userName sw "b") and emails.type eq "work")",
            R"(not (userName sw "b" or title pr))",
            R"(title pr and (emails pr or phoneNumbers pr) and not (active eq false))",
        };
    }();
    return table;
}

std::string to_upper(std::string s) {
    for (char& c : s) {
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
        }
    }
    return s;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
    for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
        s.replace(pos, from.size(), to);
    }
}

// The userNames of `ids`, plus a count of ids that are none of `users` (another tenant's).
std::string show(const std::set<std::string>& ids, const std::vector<core::UserRecord>& users) {
    std::string out = "{";
    std::size_t known = 0;
    for (const auto& u : users) {
        if (ids.count(u.id) != 0) {
            out += (out.size() > 1 ? ", " : "") + u.user_name;
            ++known;
        }
    }
    out += "}";
    if (known != ids.size()) {
        out += " and " + std::to_string(ids.size() - known) + " of another organization";
    }
    return out;
}

class SqlFilterTest : public StoreTest {};

TEST_P(SqlFilterTest, AgreesWithTheInMemoryEvaluator) {
    const std::string org = make_org("acme");
    const std::string other = make_org("globex");
    store::SqlUserRepository repo(*db_);
    std::vector<core::UserRecord> users;
    int minute = 0;
    for (const char* body : kUsers) {
        users.push_back(make_user(org, body, test_time(minute)));
        repo.insert(users.back());
        // A twin in another organization matches the same filters and must never show up.
        repo.insert(make_user(other, body, test_time(minute)));
        ++minute;
    }
    std::vector<boost::json::object> views;
    for (const auto& u : users) {
        views.push_back(evaluator_view(u));
    }

    int nonempty = 0;
    for (std::string text : filters()) {
        replace_all(text, "{id3}", users[3].id);
        replace_all(text, "{ID3}", to_upper(users[3].id));
        replace_all(text, "{t5}", users[5].created);
        SCOPED_TRACE(text);

        const core::Filter f = protocol::parse_filter(text, registry(), user_type());
        std::set<std::string> expected;
        for (std::size_t i = 0; i < users.size(); ++i) {
            if (protocol::matches(f, views[i])) {
                expected.insert(users[i].id);
            }
        }
        core::ListQuery q;
        q.filter = &f;
        q.count = 1000;
        const core::Page<core::UserRecord> page = repo.list(org, q);
        std::set<std::string> got;
        for (const auto& u : page.items) {
            got.insert(u.id);
        }
        EXPECT_EQ(page.total, static_cast<std::int64_t>(page.items.size()));
        EXPECT_EQ(got, expected) << "SQL: " << show(got, users)
                                 << "\nevaluator: " << show(expected, users);
        nonempty += expected.empty() ? 0 : 1;
    }
    // The table is not vacuous: most filters select someone.
    EXPECT_GT(nonempty, static_cast<int>(filters().size()) * 3 / 4);
}

// An account without `active` is active in the document too, and an email without a value is
// still indexed: the SQL and the evaluator agree on both.
TEST_P(SqlFilterTest, ImplicitActiveAndValuelessEmailsAgree) {
    const std::string org = make_org("acme");
    store::SqlUserRepository repo(*db_);
    std::vector<core::UserRecord> users = {
        make_user(org, R"({"userName":"none"})"),
        make_user(org, R"({"userName":"off","active":false})"),
        make_user(org, R"({"userName":"kim","active":true,
                           "emails":[{"type":"work","display":"no address yet"}]})"),
    };
    ASSERT_TRUE(users[0].active);
    ASSERT_EQ(users[2].emails.size(), 1U);
    for (const auto& u : users) {
        repo.insert(u);
    }
    const std::vector<std::pair<std::string, std::set<std::string>>> table = {
        {"active eq true", {"none", "kim"}},
        {"active pr", {"none", "off", "kim"}},
        {"not (active eq true)", {"off"}},
        {R"(emails.type eq "work")", {"kim"}},
        {R"(emails[type eq "work"])", {"kim"}},
        {R"(emails.type ne "work")", {"none", "off"}},
        {"emails.value pr", {}},
    };
    for (const auto& [text, expected] : table) {
        SCOPED_TRACE(text);
        const core::Filter f = protocol::parse_filter(text, registry(), user_type());
        core::ListQuery q;
        q.filter = &f;
        std::set<std::string> sql;
        for (const auto& u : repo.list(org, q).items) {
            sql.insert(u.user_name);
        }
        std::set<std::string> evaluator;
        for (const auto& u : users) {
            if (protocol::matches(f, evaluator_view(u))) {
                evaluator.insert(u.user_name);
            }
        }
        EXPECT_EQ(sql, expected);
        EXPECT_EQ(evaluator, expected);
    }
}

TEST_P(SqlFilterTest, ValuesAreBoundNotSpliced) {
    const std::string org = make_org("acme");
    store::SqlUserRepository repo(*db_);
    const core::UserRecord u = make_user(org, R"({"userName":"x' OR '1'='1","title":"a\"b"})");
    repo.insert(u);
    repo.insert(make_user(org, R"({"userName":"other"})"));
    for (const char* text :
         {R"(userName eq "x' OR '1'='1")", R"(title eq "a\"b")", R"(userName co "'")"}) {
        SCOPED_TRACE(text);
        const core::Filter f = protocol::parse_filter(text, registry(), user_type());
        core::ListQuery q;
        q.filter = &f;
        const auto page = repo.list(org, q);
        ASSERT_EQ(page.total, 1);
        EXPECT_EQ(page.items.at(0).id, u.id);
    }
    const core::Filter none =
        protocol::parse_filter(R"(userName eq "' OR 1=1 --")", registry(), user_type());
    core::ListQuery q;
    q.filter = &none;
    EXPECT_EQ(repo.list(org, q).total, 0);
}

TEST_P(SqlFilterTest, MetaLocationIsRefused) {
    const std::string org = make_org("acme");
    const core::Filter f =
        protocol::parse_filter(R"(meta.location eq "x")", registry(), user_type());
    core::ListQuery q;
    q.filter = &f;
    try {
        store::SqlUserRepository(*db_).list(org, q);
        FAIL() << "meta.location was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.status(), 400);
        EXPECT_EQ(e.scim_type(), ScimType::kInvalidFilter);
    }
}

INSTANTIATE_TEST_SUITE_P(Backends, SqlFilterTest, kBackends, backend_name);

}  // namespace
}  // namespace scimd::test
