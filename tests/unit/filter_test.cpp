#include "scimd/protocol/filter.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "scimd/error.hpp"

namespace scimd::protocol {
namespace {

namespace json = boost::json;
using core::AttrType;
using core::CompareOp;
using core::Filter;
using core::Literal;

constexpr std::string_view kEnterprise =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

// A registry of our own for what the built-in schemas lack: a Group type with the RFC 7643
// §8.7.1 members, and a Widget type with every attribute type and two extensions that both
// define "color" (an unqualified name that is ambiguous).
constexpr std::string_view kTestDocuments[] = {
    R"({"id":"urn:ietf:params:scim:schemas:core:2.0:Group","name":"Group","attributes":[
        {"name":"displayName","type":"string","multiValued":false,"required":true},
        {"name":"members","type":"complex","multiValued":true,"subAttributes":[
          {"name":"value","type":"string","mutability":"immutable"},
          {"name":"$ref","type":"reference","referenceTypes":["User","Group"],"mutability":"immutable"},
          {"name":"display","type":"string","mutability":"immutable"},
          {"name":"type","type":"string","canonicalValues":["User","Group"],"mutability":"immutable"}]}]})",
    R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],"id":"Group","name":"Group",
        "endpoint":"/Groups","schema":"urn:ietf:params:scim:schemas:core:2.0:Group"})",
    R"({"id":"urn:example:scimd:test:Widget","name":"Widget","attributes":[
        {"name":"count","type":"integer","multiValued":false},
        {"name":"ratio","type":"decimal","multiValued":false},
        {"name":"flag","type":"boolean","multiValued":false},
        {"name":"code","type":"string","multiValued":false,"caseExact":true},
        {"name":"when","type":"dateTime","multiValued":false},
        {"name":"tags","type":"string","multiValued":true},
        {"name":"blob","type":"binary","multiValued":false},
        {"name":"parts","type":"complex","multiValued":true,"subAttributes":[
          {"name":"value","type":"string"},{"name":"size","type":"integer"}]}]})",
    R"({"id":"urn:example:scimd:test:Ext1","name":"Ext1","attributes":[
        {"name":"color","type":"string"},{"name":"size","type":"integer"}]})",
    R"({"id":"urn:example:scimd:test:Ext2","name":"Ext2","attributes":[{"name":"color","type":"string"}]})",
    R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],"id":"Widget","name":"Widget",
        "endpoint":"/Widgets","schema":"urn:example:scimd:test:Widget","schemaExtensions":[
          {"schema":"urn:example:scimd:test:Ext1","required":false},
          {"schema":"urn:example:scimd:test:Ext2","required":false}]})",
};

const SchemaRegistry& test_registry() {
    static const SchemaRegistry registry(
        std::vector<std::string_view>(std::begin(kTestDocuments), std::end(kTestDocuments)));
    return registry;
}

const SchemaRegistry& builtin() { return SchemaRegistry::builtin(); }

const ResourceTypeDef& user_type() {
    const ResourceTypeDef* t = builtin().resource_type("User");
    if (t == nullptr) {
        throw std::runtime_error("the built-in registry has no User type");
    }
    return *t;
}
const ResourceTypeDef& group_type() { return *test_registry().resource_type("Group"); }
const ResourceTypeDef& widget_type() { return *test_registry().resource_type("Widget"); }

Filter parse(std::string_view text) { return parse_filter(text, builtin(), user_type()); }
Filter parse_widget(std::string_view text) {
    return parse_filter(text, test_registry(), widget_type());
}

json::object doc(std::string_view text) { return json::parse(text).as_object(); }

std::string literal(const Literal& v) {
    switch (v.kind) {
        case Literal::Kind::kString:
            return "\"" + v.string + "\"";
        case Literal::Kind::kNumber:
            return v.string;
        case Literal::Kind::kBoolean:
            return v.boolean ? "true" : "false";
        case Literal::Kind::kNull:
            return "null";
    }
    return "?";
}

std::string op_name(CompareOp op) {
    constexpr const char* kNames[] = {"eq", "ne", "co", "sw", "ew", "pr", "gt", "ge", "lt", "le"};
    return kNames[static_cast<int>(op)];
}

// The tree as an S-expression: (and (pr title) (eq userType "Employee")); a value path is
// (emails[] <filter over sub-attributes>).
std::string show(const Filter& f) {
    switch (f.kind) {
        case Filter::Kind::kCompare:
            return "(" + op_name(f.op) + " " + f.attr.display() +
                   (f.op == CompareOp::kPr ? "" : " " + literal(f.value)) + ")";
        case Filter::Kind::kAnd:
            return "(and " + show(f.children.at(0)) + " " + show(f.children.at(1)) + ")";
        case Filter::Kind::kOr:
            return "(or " + show(f.children.at(0)) + " " + show(f.children.at(1)) + ")";
        case Filter::Kind::kNot:
            return "(not " + show(f.children.at(0)) + ")";
        case Filter::Kind::kValuePath:
            return "(" + f.attr.display() + "[] " + show(f.children.at(0)) + ")";
    }
    return "?";
}

// Runs `fn`, expects an Error of `type`, returns its detail.
template <class Fn>
std::string error_of(ScimType type, Fn fn) {
    try {
        fn();
    } catch (const Error& e) {
        EXPECT_EQ(e.status(), 400);
        EXPECT_EQ(e.scim_type(), type) << e.detail();
        return e.detail();
    }
    ADD_FAILURE() << "no error thrown";
    return "";
}

std::string filter_error(std::string_view text) {
    return error_of(ScimType::kInvalidFilter, [&] { parse(text); });
}
std::string path_error(std::string_view text, ScimType type = ScimType::kInvalidPath) {
    return error_of(type, [&] { parse_patch_path(text, builtin(), user_type()); });
}

// ---------------------------------------------------------------------------------------------
// RFC 7644 §3.4.2.2: every example of the section, parsed and evaluated
// ---------------------------------------------------------------------------------------------

struct RfcExample {
    const char* filter;
    const char* tree;
    const char* matching;
    const char* not_matching;
};

const RfcExample kRfcExamples[] = {
    {R"(userName eq "bjensen")", R"((eq userName "bjensen"))", R"({"userName":"BJensen"})",
     R"({"userName":"bjensen2"})"},
    {R"(name.familyName co "O'Malley")", R"((co name.familyName "O'Malley"))",
     R"({"name":{"familyName":"Ann O'malley-Smith"}})", R"({"name":{"familyName":"Malley"}})"},
    {R"(userName sw "J")", R"((sw userName "J"))", R"({"userName":"jsmith"})",
     R"({"userName":"bj"})"},
    {R"(urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J")", R"((sw userName "J"))",
     R"({"userName":"Jsmith"})", R"({"userName":"smithj"})"},
    {R"(title pr)", R"((pr title))", R"({"title":"Tour Guide"})", R"({"title":""})"},
    {R"(meta.lastModified gt "2011-05-13T04:42:34Z")",
     R"((gt meta.lastModified "2011-05-13T04:42:34.000Z"))",
     R"({"meta":{"lastModified":"2011-05-13T04:42:34.001Z"}})",
     R"({"meta":{"lastModified":"2011-05-13T06:42:34+02:00"}})"},
    {R"(meta.lastModified ge "2011-05-13T04:42:34Z")",
     R"((ge meta.lastModified "2011-05-13T04:42:34.000Z"))",
     R"({"meta":{"lastModified":"2011-05-13T06:42:34+02:00"}})",
     R"({"meta":{"lastModified":"2011-05-13T04:42:33Z"}})"},
    {R"(meta.lastModified lt "2011-05-13T04:42:34Z")",
     R"((lt meta.lastModified "2011-05-13T04:42:34.000Z"))",
     R"({"meta":{"lastModified":"2010-12-31T23:59:59Z"}})",
     R"({"meta":{"lastModified":"2011-05-13T04:42:34Z"}})"},
    {R"(meta.lastModified le "2011-05-13T04:42:34Z")",
     R"((le meta.lastModified "2011-05-13T04:42:34.000Z"))",
     R"({"meta":{"lastModified":"2011-05-13T04:42:34.000Z"}})",
     R"({"meta":{"lastModified":"2011-05-13T04:42:35Z"}})"},
    {R"(title pr and userType eq "Employee")", R"((and (pr title) (eq userType "Employee")))",
     R"({"title":"Guide","userType":"employee"})", R"({"title":"Guide","userType":"Intern"})"},
    {R"(title pr or userType eq "Intern")", R"((or (pr title) (eq userType "Intern")))",
     R"({"userType":"Intern"})", R"({"userType":"Employee"})"},
    {R"(schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")",
     R"((eq schemas "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"))",
     R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]})",
     R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]})"},
    {R"(userType eq "Employee" and (emails co "example.com" or emails.value co "example.org"))",
     R"((and (eq userType "Employee") (or (co emails.value "example.com") (co emails.value "example.org"))))",
     R"({"userType":"Employee","emails":[{"value":"x@example.net"},{"value":"b@EXAMPLE.org"}]})",
     R"({"userType":"Employee","emails":[{"value":"b@example.net"}]})"},
    {R"(userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org"))",
     R"((and (ne userType "Employee") (not (or (co emails.value "example.com") (co emails.value "example.org")))))",
     R"({"userType":"Intern","emails":[{"value":"b@example.net"}]})",
     R"({"userType":"Intern","emails":[{"value":"b@example.com"}]})"},
    {R"(userType eq "Employee" and (emails.type eq "work"))",
     R"((and (eq userType "Employee") (eq emails.type "work")))",
     R"({"userType":"Employee","emails":[{"type":"home"},{"type":"work"}]})",
     R"({"userType":"Employee","emails":[{"type":"home"}]})"},
    {R"(userType eq "Employee" and emails[type eq "work" and value co "@example.com"])",
     R"((and (eq userType "Employee") (emails[] (and (eq emails.type "work") (co emails.value "@example.com")))))",
     R"({"userType":"Employee","emails":[{"type":"work","value":"b@example.com"}]})",
     // Both conditions hold, but for different elements: no single element satisfies both.
     R"({"userType":"Employee","emails":[{"type":"work","value":"b@example.org"},
                                          {"type":"home","value":"b@example.com"}]})"},
    {R"(emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"])",
     R"((or (emails[] (and (eq emails.type "work") (co emails.value "@example.com"))) )"
     R"((ims[] (and (eq ims.type "xmpp") (co ims.value "@foo.com")))))",
     R"({"ims":[{"type":"xmpp","value":"babs@foo.com"}]})",
     R"({"ims":[{"type":"aim","value":"babs@foo.com"}],"emails":[{"type":"home","value":"b@example.com"}]})"},
};

TEST(FilterRfc7644, EveryExampleOfSection3_4_2_2ParsesAndEvaluates) {
    for (const RfcExample& ex : kRfcExamples) {
        SCOPED_TRACE(ex.filter);
        const Filter f = parse(ex.filter);
        EXPECT_EQ(show(f), ex.tree);
        EXPECT_TRUE(matches(f, doc(ex.matching)));
        EXPECT_FALSE(matches(f, doc(ex.not_matching)));
    }
}

TEST(FilterRfc7644, AttributeRefsCarryTypeAndCaseExactness) {
    const Filter f = parse(R"(meta.lastModified gt "2011-05-13T04:42:34Z")");
    EXPECT_EQ(f.attr.type, AttrType::kDateTime);
    EXPECT_EQ(f.attr.name, "meta");
    EXPECT_EQ(f.attr.sub, "lastModified");
    EXPECT_FALSE(f.attr.extension);

    const Filter id = parse(R"(id eq "abc")");
    EXPECT_TRUE(id.attr.case_exact);
    const Filter emails = parse(R"(emails co "x")");
    EXPECT_TRUE(emails.attr.multi_valued);
    EXPECT_EQ(emails.attr.type, AttrType::kString);
}

// ---------------------------------------------------------------------------------------------
// IdP compatibility (research/idp-compat.md)
// ---------------------------------------------------------------------------------------------

TEST(FilterIdp, R15KeywordsOperatorsAndAttributeNamesAreCaseInsensitive) {
    EXPECT_EQ(show(parse(R"(username Eq "x")")), R"((eq userName "x"))");  // PingOne
    EXPECT_EQ(show(parse(R"(USERNAME EQ "x" AND TITLE PR OR NOT (Title Pr))")),
              R"((or (and (eq userName "x") (pr title)) (not (pr title))))");
    EXPECT_EQ(show(parse(R"(Emails.VALUE Co "x")")), R"((co emails.value "x"))");
    EXPECT_EQ(
        show(parse(
            R"(URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:EMPLOYEENUMBER eq "1")")),
        std::string("(eq ") + std::string(kEnterprise) + R"(:employeeNumber "1"))");
}

TEST(FilterIdp, R15EntraValuePathWithSubAttributeAfterBrackets) {
    const Filter f = parse(R"(emails[type eq "other"].Value eq "a@b.example")");
    EXPECT_EQ(show(f),
              R"((emails[] (and (eq emails.type "other") (eq emails.value "a@b.example"))))");
    EXPECT_TRUE(matches(
        f,
        doc(R"({"emails":[{"type":"work","value":"x"},{"type":"other","value":"A@B.example"}]})")));
    // The type and the value belong to different elements.
    EXPECT_FALSE(matches(
        f,
        doc(R"({"emails":[{"type":"other","value":"x"},{"type":"work","value":"a@b.example"}]})")));
    EXPECT_EQ(show(parse(R"(emails[type eq "work"].value pr)")),
              R"((emails[] (and (eq emails.type "work") (pr emails.value))))");
}

TEST(FilterIdp, R13EqOnEveryMatchingAttribute) {
    const json::object user = doc(R"({
        "id":"2819c223-7f76-453a-919d-413861904646","externalId":"701984","userName":"bjensen@example.com",
        "emails":[{"type":"work","value":"bjensen@example.com"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"E-4410"}})");
    const char* hits[] = {
        R"(userName eq "bjensen@example.com")",
        R"(externalId eq "701984")",
        R"(id eq "2819c223-7f76-453a-919d-413861904646")",
        R"(emails.value eq "bjensen@example.com")",
        R"(emails[type eq "work"].value eq "bjensen@example.com")",
        R"(urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "E-4410")",
    };
    for (const char* text : hits) {
        SCOPED_TRACE(text);
        EXPECT_TRUE(matches(parse(text), user));
    }
    const Filter ext = parse(
        R"(urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "E-4410")");
    EXPECT_TRUE(ext.attr.extension);
    EXPECT_EQ(ext.attr.schema, kEnterprise);
    EXPECT_EQ(ext.attr.name, "employeeNumber");
    // The extension attribute is looked up under the URN key, not at the top level.
    EXPECT_FALSE(matches(ext, doc(R"({"employeeNumber":"E-4410"})")));
    EXPECT_FALSE(matches(
        parse(
            R"(urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "E-4411")"),
        user));
}

TEST(FilterIdp, R13GroupDisplayNameAndExternalId) {
    const Filter f = parse_filter(R"(displayName eq "Admins" and externalId eq "g-1")",
                                  test_registry(), group_type());
    EXPECT_EQ(show(f), R"((and (eq displayName "Admins") (eq externalId "g-1")))");
    EXPECT_TRUE(matches(f, doc(R"({"displayName":"admins","externalId":"g-1"})")));
    EXPECT_FALSE(matches(f, doc(R"({"displayName":"admins","externalId":"G-1"})")));
}

TEST(FilterIdp, R16UserNameAndEmailsCompareCaseInsensitivelyButIdsExactly) {
    EXPECT_TRUE(matches(parse(R"(userName eq "BJENSEN@Example.com")"),
                        doc(R"({"userName":"bjensen@example.com"})")));
    EXPECT_TRUE(
        matches(parse(R"(emails.value eq "B@X.ORG")"), doc(R"({"emails":[{"value":"b@x.org"}]})")));
    // id and externalId are caseExact (RFC 7643 §3.1).
    EXPECT_FALSE(matches(parse(R"(id eq "ABC")"), doc(R"({"id":"abc"})")));
    EXPECT_FALSE(matches(parse(R"(externalId eq "ABC")"), doc(R"({"externalId":"abc"})")));
    EXPECT_TRUE(matches(parse(R"(externalId eq "abc")"), doc(R"({"externalId":"abc"})")));
}

TEST(FilterIdp, R14EntraManagerReferenceCheckWithUnqualifiedManager) {
    // research/idp-compat.md: GET /Users?filter=id eq "u-2001" and manager eq "u-3391"
    const Filter f = parse(R"(id eq "u-2001" and manager eq "u-3391")");
    EXPECT_EQ(show(f), std::string(R"((and (eq id "u-2001") (eq )") + std::string(kEnterprise) +
                           R"(:manager.value "u-3391")))");
    EXPECT_TRUE(matches(f, doc(R"({"id":"u-2001",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"u-3391"}}})")));
    EXPECT_FALSE(matches(f, doc(R"({"id":"u-2001",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"u-3392"}}})")));
}

TEST(FilterIdp, R21ValuesWithPlusAtAndQuotes) {
    const Filter f = parse(R"(userName eq "o'brien+\"test\"@example.com")");
    EXPECT_EQ(f.value.string, R"(o'brien+"test"@example.com)");
    EXPECT_TRUE(matches(f, doc(R"({"userName":"O'Brien+\"test\"@example.com"})")));
}

TEST(FilterIdp, R43ManagerBracketFilterInFilters) {
    const Filter f = parse(R"(manager[value eq "u-1"])");
    EXPECT_EQ(show(f), "(" + std::string(kEnterprise) + ":manager[] (eq " +
                           std::string(kEnterprise) + R"(:manager.value "u-1")))");
    EXPECT_TRUE(matches(
        f,
        doc(R"({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"u-1"}}})")));
    EXPECT_FALSE(matches(
        f,
        doc(R"({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"u-2"}}})")));
}

// ---------------------------------------------------------------------------------------------
// Grammar details
// ---------------------------------------------------------------------------------------------

TEST(FilterGrammar, PrecedenceIsNotThenAndThenOrLeftAssociative) {
    EXPECT_EQ(show(parse(R"(title pr or userType eq "a" and nickName pr)")),
              R"((or (pr title) (and (eq userType "a") (pr nickName))))");
    EXPECT_EQ(show(parse(R"(title pr and userType eq "a" or nickName pr)")),
              R"((or (and (pr title) (eq userType "a")) (pr nickName)))");
    EXPECT_EQ(show(parse(R"(title pr or nickName pr or locale pr)")),
              R"((or (or (pr title) (pr nickName)) (pr locale)))");
    EXPECT_EQ(show(parse(R"(not (title pr) and nickName pr)")),
              R"((and (not (pr title)) (pr nickName)))");
    EXPECT_EQ(show(parse(R"((title pr or nickName pr) and locale pr)")),
              R"((and (or (pr title) (pr nickName)) (pr locale)))");
    EXPECT_EQ(show(parse(R"(((title pr)))")), R"((pr title))");
}

TEST(FilterGrammar, BlanksAreLenient) {
    EXPECT_EQ(show(parse("  userName\t eq  \"x\"  ")), R"((eq userName "x"))");
    EXPECT_EQ(show(parse(R"(not(title pr))")), R"((not (pr title)))");
    EXPECT_EQ(show(parse(R"((title pr)and(nickName pr))")), R"((and (pr title) (pr nickName)))");
}

TEST(FilterGrammar, ValuePathInsideBracketsSupportsOrAndNotAndParens) {
    // Errata 7322: emails[type eq "work" or (type eq "home" and value ew "@example.com")]
    const Filter f =
        parse(R"(emails[type eq "work" or (type eq "home" and not (value ew "@example.com"))])");
    EXPECT_EQ(show(f), R"((emails[] (or (eq emails.type "work") (and (eq emails.type "home") )"
                       R"((not (ew emails.value "@example.com"))))))");
    EXPECT_TRUE(matches(f, doc(R"({"emails":[{"type":"home","value":"a@example.org"}]})")));
    EXPECT_FALSE(matches(f, doc(R"({"emails":[{"type":"home","value":"a@example.com"}]})")));
}

TEST(FilterGrammar, StringEscapes) {
    const Filter f = parse(R"(userName eq "q\"b\\s\/n\n t\t u\u00e9 e\ud83d\ude00")");
    EXPECT_EQ(f.value.kind, Literal::Kind::kString);
    EXPECT_EQ(f.value.string, "q\"b\\s/n\n t\t u\xC3\xA9 e\xF0\x9F\x98\x80");
    // Raw UTF-8 passes through.
    EXPECT_EQ(parse("userName eq \"J\xC3\xB6rg\"").value.string, "J\xC3\xB6rg");
}

TEST(FilterGrammar, NumbersIntegerDecimalExponent) {
    const Filter i = parse_widget("count eq 42");
    EXPECT_EQ(i.value.kind, Literal::Kind::kNumber);
    EXPECT_EQ(i.value.number, 42);
    EXPECT_EQ(i.value.string, "42");
    EXPECT_EQ(parse_widget("ratio gt -0.5").value.number, -0.5);
    EXPECT_EQ(parse_widget("ratio lt 1.5E+3").value.number, 1500);
    EXPECT_EQ(parse_widget("count ge 1e2").value.number, 100);
    EXPECT_EQ(parse_widget(R"(count eq "7")").value.kind, Literal::Kind::kNumber);  // coerced

    const json::object w = doc(R"({"count":42,"ratio":0.25})");
    EXPECT_TRUE(matches(parse_widget("count eq 42.0"), w));
    EXPECT_TRUE(matches(parse_widget("count gt 41 and count lt 43"), w));
    EXPECT_FALSE(matches(parse_widget("count gt 42"), w));
    EXPECT_TRUE(matches(parse_widget("ratio le 2.5e-1"), w));
    EXPECT_FALSE(matches(parse_widget("ratio lt 0.25"), w));
}

TEST(FilterGrammar, TrueFalseNullAreCaseInsensitive) {
    EXPECT_TRUE(parse("active eq TRUE").value.boolean);
    EXPECT_EQ(parse("active eq False").value.kind, Literal::Kind::kBoolean);
    EXPECT_EQ(parse("title eq NULL").value.kind, Literal::Kind::kNull);
}

TEST(FilterGrammar, BooleanAttributeAcceptsQuotedBooleans) {
    const Filter f = parse(R"(active eq "True")");
    EXPECT_EQ(f.value.kind, Literal::Kind::kBoolean);
    EXPECT_TRUE(f.value.boolean);
    EXPECT_TRUE(matches(f, doc(R"({"active":true})")));
    EXPECT_FALSE(matches(f, doc(R"({"active":false})")));
    EXPECT_TRUE(matches(parse("active ne false"), doc(R"({"active":true})")));
    EXPECT_TRUE(matches(parse(R"(emails[primary eq true].value co "@w")"),
                        doc(R"({"emails":[{"value":"a@h"},{"value":"a@w","primary":true}]})")));
}

TEST(FilterGrammar, StringAttributeTakesANumberAsItsDigits) {
    const Filter f = parse(
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq 701984");
    EXPECT_EQ(f.value.kind, Literal::Kind::kString);
    EXPECT_EQ(f.value.string, "701984");
}

TEST(FilterGrammar, DateTimeLiteralsAreNormalized) {
    const Filter f = parse(R"(meta.created eq "2011-05-13T06:42:34+02:00")");
    EXPECT_EQ(f.value.string, "2011-05-13T04:42:34.000Z");
    EXPECT_TRUE(matches(f, doc(R"({"meta":{"created":"2011-05-13T04:42:34Z"}})")));
}

TEST(FilterGrammar, UnqualifiedExtensionAttributeOnlyWhenUnambiguous) {
    const Filter f = parse_widget("size gt 3");
    EXPECT_TRUE(f.attr.extension);
    EXPECT_EQ(f.attr.schema, "urn:example:scimd:test:Ext1");
    EXPECT_TRUE(matches(f, doc(R"({"urn:example:scimd:test:Ext1":{"size":4}})")));
    // Two extensions define "color": the client must name the URN.
    EXPECT_NE(error_of(ScimType::kInvalidFilter, [] { parse_widget(R"(color eq "red")"); })
                  .find(R"(unknown attribute "color")"),
              std::string::npos);
    EXPECT_EQ(parse_widget(R"(urn:example:scimd:test:Ext2:color eq "red")").attr.schema,
              "urn:example:scimd:test:Ext2");
}

TEST(FilterGrammar, NestingUpToTheLimitIsAccepted) {
    const std::string f =
        std::string(kMaxFilterDepth, '(') + "title pr" + std::string(kMaxFilterDepth, ')');
    EXPECT_EQ(show(parse(f)), "(pr title)");
    const std::string n = "not (" + std::string(kMaxFilterDepth - 1, '(') + "title pr" +
                          std::string(kMaxFilterDepth, ')');
    EXPECT_EQ(show(parse(n)), "(not (pr title))");
}

TEST(FilterGrammar, LongAndChainWithinTheLengthLimit) {
    std::string f = "title pr";
    while (f.size() + 13 < kMaxFilterLength) {
        f += " and title pr";
    }
    const Filter parsed = parse(f);
    EXPECT_EQ(parsed.kind, Filter::Kind::kAnd);
    EXPECT_TRUE(matches(parsed, doc(R"({"title":"x"})")));
}

// ---------------------------------------------------------------------------------------------
// Evaluation semantics
// ---------------------------------------------------------------------------------------------

TEST(FilterMatch, PresentMeansNotNullNotEmpty) {
    const Filter title = parse("title pr");
    EXPECT_FALSE(matches(title, doc(R"({})")));
    EXPECT_FALSE(matches(title, doc(R"({"title":null})")));
    EXPECT_FALSE(matches(title, doc(R"({"title":""})")));
    const Filter emails = parse("emails pr");
    EXPECT_FALSE(matches(emails, doc(R"({"emails":[]})")));
    EXPECT_FALSE(matches(emails, doc(R"({"emails":[{}]})")));
    EXPECT_TRUE(matches(emails, doc(R"({"emails":[{"value":"a"}]})")));
    EXPECT_TRUE(matches(parse("active pr"), doc(R"({"active":false})")));
    EXPECT_TRUE(matches(parse("name pr"), doc(R"({"name":{"givenName":"B"}})")));
}

TEST(FilterMatch, NeOnMissingIsTrueAndNeIsNotEq) {
    // Our choice (RFC 7644 leaves it open): "ne" is the negation of "eq".
    EXPECT_TRUE(matches(parse(R"(title ne "x")"), doc(R"({})")));
    EXPECT_FALSE(matches(parse(R"(title ne "X")"), doc(R"({"title":"x"})")));
    EXPECT_FALSE(matches(parse(R"(emails.value ne "a")"),
                         doc(R"({"emails":[{"value":"a"},{"value":"b"}]})")));
    EXPECT_TRUE(matches(parse(R"(emails.value ne "c")"),
                        doc(R"({"emails":[{"value":"a"},{"value":"b"}]})")));
}

TEST(FilterMatch, NullLiteral) {
    EXPECT_TRUE(matches(parse("title eq null"), doc(R"({"title":null})")));
    EXPECT_TRUE(matches(parse("title eq null"), doc(R"({})")));
    EXPECT_FALSE(matches(parse("title eq null"), doc(R"({"title":"x"})")));
    EXPECT_TRUE(matches(parse("title ne null"), doc(R"({"title":"x"})")));
}

TEST(FilterMatch, StringOperatorsAndOrdering) {
    const json::object u = doc(R"({"userName":"Barbara"})");
    EXPECT_TRUE(matches(parse(R"(userName ew "ARA")"), u));
    EXPECT_FALSE(matches(parse(R"(userName ew "bar")"), u));
    EXPECT_TRUE(matches(parse(R"(userName gt "b")"), u));  // "barbara" > "b", case-insensitively
    EXPECT_TRUE(matches(parse(R"(userName lt "BZ")"), u));
    EXPECT_FALSE(matches(parse(R"(userName ge "c")"), u));
    // caseExact attribute: exact comparison.
    EXPECT_FALSE(matches(parse_widget(R"(code sw "ab")"), doc(R"({"code":"ABC"})")));
    EXPECT_TRUE(matches(parse_widget(R"(code sw "AB")"), doc(R"({"code":"ABC"})")));
}

TEST(FilterMatch, MultiValuedSimpleAttribute) {
    const Filter f = parse_widget(R"(tags eq "blue")");
    EXPECT_TRUE(f.attr.multi_valued);
    EXPECT_TRUE(matches(f, doc(R"({"tags":["red","Blue"]})")));
    EXPECT_FALSE(matches(f, doc(R"({"tags":["red"]})")));
}

TEST(FilterMatch, DateTimeComparesAsTimePoints) {
    const Filter f = parse_widget(R"(when gt "2020-01-01T00:00:00Z")");
    EXPECT_TRUE(matches(f, doc(R"({"when":"2020-01-01T01:00:00+00:30"})")));
    EXPECT_FALSE(matches(f, doc(R"({"when":"2020-01-01T01:00:00+01:00"})")));
    EXPECT_FALSE(matches(f, doc(R"({"when":"not a date"})")));
    EXPECT_FALSE(
        matches(f, doc(R"({"when":"9999-12-31T23:59:59Z"})")));  // unrepresentable: no match
    EXPECT_TRUE(matches(f, doc(R"({"when":"2250-12-31T23:59:59Z"})")));
}

TEST(FilterMatch, ParseValueFilterAndMatchesElement) {
    const std::optional<ResolvedAttr> emails = builtin().resolve(user_type(), "emails");
    ASSERT_TRUE(emails);
    const Filter f =
        parse_value_filter(R"(type eq "work" and value co "@acme")", builtin(), *emails);
    EXPECT_EQ(show(f), R"((and (eq emails.type "work") (co emails.value "@acme")))");
    EXPECT_TRUE(matches_element(f, json::parse(R"({"type":"Work","value":"a@ACME.example"})")));
    EXPECT_FALSE(matches_element(f, json::parse(R"({"type":"home","value":"a@acme.example"})")));
    EXPECT_FALSE(matches_element(f, json::parse(R"("a@acme")")));

    EXPECT_NE(error_of(ScimType::kInvalidFilter,
                       [&] {
                           parse_value_filter(R"(type eq "work" and emails[type pr])", builtin(),
                                              *emails);
                       })
                  .find("brackets cannot appear inside brackets"),
              std::string::npos);
    EXPECT_NE(error_of(ScimType::kInvalidFilter,
                       [&] { parse_value_filter(R"(userName eq "x")", builtin(), *emails); })
                  .find(R"(unknown attribute "userName" of "emails" at position 0)"),
              std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// R-17: malformed filters are 400 invalidFilter with a detail that says what is wrong
// ---------------------------------------------------------------------------------------------

struct BadFilter {
    std::string filter;
    std::string detail;  // a substring of the detail
};

TEST(FilterErrors, R17MalformedFiltersNameTheProblem) {
    const std::vector<BadFilter> cases = {
        {R"(foo eq "x")", R"(unknown attribute "foo" at position 0)"},
        {R"(name.foo eq "x")", R"(unknown attribute "name.foo" at position 0)"},
        {R"(urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:nope eq "x")",
         "unknown attribute"},
        {"userName eq ", R"(expected a value after "eq" at position 12)"},
        {"userName eq", R"(expected a value after "eq" at position 11)"},
        {"userName eq and title pr", R"(expected a value after "eq" at position 12, found "and")"},
        {"userName", R"(expected an operator after "userName" at position 8)"},
        {R"(userName xx "x")", R"(unknown operator "xx" at position 9)"},
        {R"(userName == "x")", R"(unknown operator "==" at position 9)"},
        {R"((userName eq "x")", R"~(missing ")" for "(" at position 0)~"},
        {R"(((title pr) and (nickName pr))", R"~(missing ")" for "(" at position 0)~"},
        {R"(userName eq "x"))", R"~(unexpected ")" at position 15)~"},
        {")", R"~(unexpected ")" at position 0)~"},
        {R"(userName eq "x" garbage)", R"(unexpected "garbage" at position 16)"},
        {R"(title pr "x")", R"(unexpected "x" at position 9)"},
        {R"(userName eq "x" and)", R"(expected an attribute name after "and" at position 19)"},
        {R"(and title pr)", R"(unknown attribute "and")"},
        {R"("x" eq userName)", "expected an attribute name at position 0"},
        {"not title pr", R"(expected "(" after "not" at position 4)"},
        {"not", R"(expected "(" after "not" at position 3)"},
        {"()", R"~(unexpected ")" at position 1)~"},
        {R"(userName eq "abc)", "unterminated string starting at position 12"},
        {R"(userName eq "abc\")", "unterminated string starting at position 12"},
        {R"(userName eq "a\qb")", R"(invalid escape "\q" in string at position 14)"},
        {R"(userName eq "\u12G4")", "invalid \\u escape in string at position 13"},
        {R"(userName eq "\ud800")", "unpaired surrogate"},
        {R"(userName eq "\udc00\ud800")", "unpaired surrogate"},
        {"userName eq \"a\tb\"", "control character in string at position 14"},
        {"userName eq \"\xff\"", "invalid UTF-8 in string at position 13"},
        {"userName eq \"\xC0\xAF\"", "invalid UTF-8"},      // overlong "/"
        {"userName eq \"\xED\xA0\x80\"", "invalid UTF-8"},  // encoded surrogate
        {"userName eq 12abc", R"(invalid number "12abc" at position 12)"},
        {"userName eq 01", R"(invalid number "01")"},
        {"userName eq -", R"(invalid number "-")"},
        {"userName eq 1.", R"(invalid number "1.")"},
        {"userName eq maybe", R"(expected a value after "eq" at position 12, found "maybe")"},
        {"userName eq true", R"(expected a string for "userName")"},
        {"userName gt null", R"(operator "gt" cannot compare with null)"},
        {R"(active co "x")",
         R"(operator "co" needs a string attribute, but "active" is boolean at position 7)"},
        {R"(active sw "t")", R"(operator "sw" needs a string attribute)"},
        {"active gt true", R"(operator "gt" cannot order boolean "active")"},
        {R"(active eq "yes")", R"(expected true or false for "active")"},
        {"active eq 1", R"(expected true or false for "active")"},
        {R"(meta.lastModified gt "yesterday")",
         R"(expected an RFC 3339 dateTime for "meta.lastModified")"},
        {R"(meta.lastModified gt "2011-13-13T04:42:34Z")", "expected an RFC 3339 dateTime"},
        {"meta.created eq 2011", "expected an RFC 3339 dateTime"},
        // Beyond what a 64-bit nanosecond system_clock holds (found by the fuzzer).
        {R"(meta.lastModified gt "7488-05-13T04:42:34Z")", "expected an RFC 3339 dateTime"},
        {R"(meta.lastModified gt "0001-01-01T00:00:00Z")", "expected an RFC 3339 dateTime"},
        {R"(meta.created co "2011")",
         R"(operator "co" needs a string attribute, but "meta.created" is dateTime)"},
        {R"(name eq "x")", R"("name" is complex: compare one of its sub-attributes at position 5)"},
        {R"(name gt "x")", R"("name" is complex)"},
        {R"(emails[type eq "work")", R"(missing "]" for "[" at position 6)"},
        {R"(emails[type eq "work" and emails[type pr]])",
         "brackets cannot appear inside brackets at position 32"},
        {R"(userName[value eq "x"])", R"("userName" is not a multi-valued complex attribute)"},
        {R"(name[givenName eq "x"])", R"("name" is not a multi-valued complex attribute)"},
        {R"(emails.value[type eq "x"])", "is not a multi-valued complex attribute"},
        {R"(emails[foo eq "x"])", R"(unknown attribute "foo" of "emails" at position 7)"},
        {R"(emails[type eq "work"].foo eq "x")",
         R"(unknown attribute "foo" of "emails" at position 23)"},
        {R"(emails[type eq "work"].value)", R"(expected an operator after ".value")"},
        {R"(emails[type eq "work"] eq "x")", R"(unexpected "eq" at position 23)"},
        {R"(emails[])", R"(unexpected "]" at position 7)"},
        {"", "empty filter"},
        {" \t ", "empty filter"},
        {"userName eq \"" + std::string(kMaxFilterLength, 'x') + "\"",
         "filter is longer than " + std::to_string(kMaxFilterLength) + " characters"},
        {std::string(kMaxFilterDepth + 1, '(') + "title pr" + std::string(kMaxFilterDepth + 1, ')'),
         "filter nests deeper than " + std::to_string(kMaxFilterDepth) + " levels at position " +
             std::to_string(kMaxFilterDepth)},
        {std::string(kMaxFilterLength / 2, '('), "filter nests deeper than"},
        {"not (" + std::string(kMaxFilterDepth, '(') + "title pr" +
             std::string(kMaxFilterDepth + 1, ')'),
         "filter nests deeper than"},
    };
    for (const BadFilter& c : cases) {
        SCOPED_TRACE(c.filter.substr(0, 80));
        const std::string detail = filter_error(c.filter);
        EXPECT_NE(detail.find(c.detail), std::string::npos) << "detail: " << detail;
    }
}

TEST(FilterErrors, WidgetTypeChecks) {
    const std::vector<BadFilter> cases = {
        {R"(count eq "many")", R"(expected a number for "count")"},
        {"count eq 1.5", R"(expected an integer for "count")"},
        {"count co 1", R"(operator "co" needs a string attribute, but "count" is integer)"},
        {"ratio eq true", R"(expected a number for "ratio")"},
        {"ratio eq 1e999", R"(number "1e999" is out of range)"},
        {"parts.size co 1",
         R"(operator "co" needs a string attribute, but "parts.size" is integer)"},
    };
    for (const BadFilter& c : cases) {
        SCOPED_TRACE(c.filter);
        const std::string detail =
            error_of(ScimType::kInvalidFilter, [&] { parse_widget(c.filter); });
        EXPECT_NE(detail.find(c.detail), std::string::npos) << "detail: " << detail;
    }
}

TEST(FilterErrors, DetailQuotesUntrustedBytesSafely) {
    const std::string detail = filter_error("\x01\xfe" + std::string(100, 'a') + " eq \"x\"");
    EXPECT_NE(detail.find("unknown attribute \"??aaaa"), std::string::npos) << detail;
    EXPECT_NE(detail.find("...\""), std::string::npos) << detail;
    EXPECT_LT(detail.size(), 120U);
}

// ---------------------------------------------------------------------------------------------
// PATCH paths (RFC 7644 §3.5.2)
// ---------------------------------------------------------------------------------------------

PatchPath user_path(std::string_view text) {
    return parse_patch_path(text, builtin(), user_type());
}
PatchPath group_path(std::string_view text) {
    return parse_patch_path(text, test_registry(), group_type());
}

TEST(PatchPathRfc7644, AttrPathForms) {
    const PatchPath members = group_path("members");  // §3.5.2 figure, §3.5.2.1 and §3.5.2.2
    EXPECT_EQ(members.attr.attr->name, "members");
    EXPECT_EQ(members.attr.sub, nullptr);
    EXPECT_FALSE(members.filter);
    EXPECT_EQ(members.sub_after_filter, nullptr);

    const PatchPath family = user_path("name.familyName");
    EXPECT_EQ(family.attr.attr->name, "name");
    ASSERT_NE(family.attr.sub, nullptr);
    EXPECT_EQ(family.attr.sub->name, "familyName");
    EXPECT_FALSE(family.filter);
}

TEST(PatchPathRfc7644, ValuePathForms) {
    const PatchPath work = user_path(R"(addresses[type eq "work"])");
    EXPECT_EQ(work.attr.attr->name, "addresses");
    ASSERT_TRUE(work.filter);
    EXPECT_EQ(show(*work.filter), R"((eq addresses.type "work"))");
    EXPECT_EQ(work.sub_after_filter, nullptr);
    EXPECT_TRUE(matches_element(*work.filter, json::parse(R"({"type":"work","locality":"x"})")));

    const PatchPath member =
        group_path(R"(members[value eq "2819c223-7f76-453a-919d-413861904646"])");
    ASSERT_TRUE(member.filter);
    EXPECT_EQ(show(*member.filter), R"((eq members.value "2819c223-7f76-453a-919d-413861904646"))");
    EXPECT_TRUE(matches_element(
        *member.filter, json::parse(R"({"value":"2819c223-7f76-453a-919d-413861904646"})")));
    EXPECT_FALSE(matches_element(
        *member.filter, json::parse(R"({"value":"902c246b-6245-4190-8e05-00816be7344a"})")));

    // §3.5.2.2: remove every work address ending in example.com.
    const PatchPath emails = user_path(R"(emails[type eq "work" and value ew "example.com"])");
    ASSERT_TRUE(emails.filter);
    EXPECT_EQ(show(*emails.filter),
              R"((and (eq emails.type "work") (ew emails.value "example.com")))");

    // §3.5.2.3: replace a sub-attribute of the matching elements.
    const PatchPath street = user_path(R"(addresses[type eq "work"].streetAddress)");
    ASSERT_TRUE(street.filter);
    ASSERT_NE(street.sub_after_filter, nullptr);
    EXPECT_EQ(street.sub_after_filter->name, "streetAddress");
    EXPECT_EQ(street.attr.sub, nullptr);
}

TEST(PatchPathRfc7644, FigureExampleWithSubAttributeAfterMemberFilter) {
    // The §3.5.2 figure writes `members[value eq "…"].displayName`, a sub-attribute the RFC 7643
    // §8.7.1 Group schema does not define; the schema's own `display` resolves, and an
    // undefined one is invalidPath.
    const PatchPath p =
        group_path(R"(members[value eq "2819c223-7f76-453a-919d-413861904646"].display)");
    ASSERT_NE(p.sub_after_filter, nullptr);
    EXPECT_EQ(p.sub_after_filter->name, "display");
    const std::string detail = error_of(ScimType::kInvalidPath, [] {
        group_path(R"(members[value eq "2819c223-7f76-453a-919d-413861904646"].displayName)");
    });
    EXPECT_NE(detail.find(R"(unknown attribute "displayName" of "members")"), std::string::npos)
        << detail;
}

TEST(PatchPathIdp, R38EntraAndOktaPathForms) {
    const PatchPath active = user_path("active");
    EXPECT_EQ(active.attr.attr->name, "active");

    const PatchPath mail = user_path(R"(emails[type eq "work"].value)");
    EXPECT_EQ(show(*mail.filter), R"((eq emails.type "work"))");
    ASSERT_NE(mail.sub_after_filter, nullptr);
    EXPECT_EQ(mail.sub_after_filter->name, "value");

    const PatchPath phone = user_path(R"(phoneNumbers[type eq "mobile"].value)");
    EXPECT_EQ(phone.attr.attr->name, "phoneNumbers");

    const PatchPath manager =
        user_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager");
    EXPECT_TRUE(manager.attr.extension);
    EXPECT_EQ(manager.attr.schema->id, kEnterprise);
    EXPECT_EQ(manager.attr.attr->name, "manager");

    const PatchPath number =
        user_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber");
    EXPECT_EQ(number.attr.attr->name, "employeeNumber");
    EXPECT_TRUE(number.attr.extension);

    const PatchPath core_qualified =
        user_path("urn:ietf:params:scim:schemas:core:2.0:User:userName");
    EXPECT_EQ(core_qualified.attr.attr->name, "userName");
    EXPECT_FALSE(core_qualified.attr.extension);
}

TEST(PatchPathIdp, R15PathsAreCaseInsensitive) {
    const PatchPath p = user_path(R"(Emails[TYPE Eq "work"].Value)");
    EXPECT_EQ(p.attr.attr->name, "emails");
    EXPECT_EQ(show(*p.filter), R"((eq emails.type "work"))");
    EXPECT_EQ(p.sub_after_filter->name, "value");
    EXPECT_EQ(user_path("NAME.GIVENNAME").attr.sub->name, "givenName");
}

TEST(PatchPathIdp, R43ManagerValueFilterOnSingleValuedManager) {
    for (
        const char* text :
        {R"(manager[value eq "u-3391"])",
         R"(urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[value eq "u-3391"])"}) {
        SCOPED_TRACE(text);
        const PatchPath p = user_path(text);
        EXPECT_TRUE(p.attr.extension);
        EXPECT_EQ(p.attr.attr->name, "manager");
        ASSERT_TRUE(p.filter);
        EXPECT_TRUE(matches_element(*p.filter, json::parse(R"({"value":"u-3391"})")));
        EXPECT_FALSE(matches_element(*p.filter, json::parse(R"({"value":"u-3392"})")));
    }
}

TEST(PatchPathErrors, InvalidPaths) {
    const std::vector<BadFilter> cases = {
        {"", "empty path"},
        {"foo", R"(unknown attribute "foo" in path)"},
        {"name.foo", R"(unknown attribute "name.foo" in path)"},
        {"emails.", R"(unknown attribute "emails." in path)"},
        {"name.givenName.x", "unknown attribute"},
        {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:nope", "unknown attribute"},
        {R"(foo[value eq "x"])", R"(unknown attribute "foo" in path)"},
        {R"(name[givenName eq "x"])",
         R"("name" is not a multi-valued complex attribute, so it takes no filter)"},
        {R"(userName[value eq "x"])", R"("userName" is not a multi-valued complex attribute)"},
        {R"(emails.value[value eq "x"])", "is not a multi-valued complex attribute"},
        {R"(emails[type eq "work"]x)", R"(unexpected "x" after "]" at position 22)"},
        {R"(emails[type eq "work"] .value)", R"(unexpected " .value" after "]")"},
        {R"(emails[type eq "work"].foo)",
         R"(unknown attribute "foo" of "emails" in path at position 23)"},
        {R"(emails[type eq "work"].value.x)", R"(unknown attribute "value.x" of "emails")"},
        {R"(emails[type eq "work"][type eq "home"])", R"(unexpected "[type eq "home"]" after "]")"},
        {std::string(kMaxFilterLength + 1, 'a'), "path is longer than"},
    };
    for (const BadFilter& c : cases) {
        SCOPED_TRACE(c.filter.substr(0, 80));
        const std::string detail = path_error(c.filter);
        EXPECT_NE(detail.find(c.detail), std::string::npos) << "detail: " << detail;
    }
}

TEST(PatchPathErrors, FilterErrorsInsideBracketsAreInvalidFilter) {
    // RFC 7644 §3.12 table 9 lists invalidFilter for "PATCH (Path Filter)".
    const std::vector<BadFilter> cases = {
        {R"(emails[type eq])", R"(expected a value after "eq" at position 14)"},
        {R"(emails[type eq "work")", R"(missing "]" for "[" at position 6)"},
        {R"(emails[foo eq "x"])", R"(unknown attribute "foo" of "emails" at position 7)"},
        {R"(emails[type eq "work" and emails[type pr]])", "brackets cannot appear inside brackets"},
        {R"(emails[primary co "x"])", R"(operator "co" needs a string attribute)"},
        {R"(emails[type eq "wo)", "unterminated string starting at position 15"},
        {R"(emails[])", R"(unexpected "]" at position 7)"},
    };
    for (const BadFilter& c : cases) {
        SCOPED_TRACE(c.filter);
        const std::string detail = path_error(c.filter, ScimType::kInvalidFilter);
        EXPECT_NE(detail.find(c.detail), std::string::npos) << "detail: " << detail;
    }
}

}  // namespace
}  // namespace scimd::protocol
