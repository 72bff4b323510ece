#include "scimd/protocol/filter.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <compare>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include "scimd/core/clock.hpp"
#include "scimd/error.hpp"

namespace scimd::protocol {

namespace json = boost::json;

namespace {

using core::AttrRef;
using core::AttrType;
using core::CompareOp;
using core::Filter;
using core::Literal;

// ---------------------------------------------------------------------------------------------
// Error details
// ---------------------------------------------------------------------------------------------

// Details go back to the client inside a JSON body, so quoted input is cut short and anything
// that is not printable ASCII is replaced: a fuzzer's bytes must not make the error body invalid.
std::string quote(std::string_view s) {
    constexpr std::size_t kMaxQuoted = 64;
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size() && i < kMaxQuoted; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
    }
    if (s.size() > kMaxQuoted) {
        out += "...";
    }
    out += '"';
    return out;
}

std::string at(std::size_t pos) { return " at position " + std::to_string(pos); }

[[noreturn]] void fail_filter(std::string detail) {
    throw Error::invalid_filter(std::move(detail));
}

// ---------------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------------

struct Token {
    enum class Kind { kEnd, kLParen, kRParen, kLBracket, kRBracket, kWord, kString, kNumber };
    Kind kind = Kind::kEnd;
    std::size_t pos = 0;  // offset of the first byte in the whole text
    std::size_t end = 0;  // one past the last byte
    std::string text;     // kWord, kNumber: as written; kString: the unescaped value
};

// RFC 7644 asks for exactly one SP between tokens; IdPs and hand-written URLs are less tidy,
// so any run of blanks separates tokens and none is needed next to a bracket or quote.
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_delimiter(char c) {
    return is_space(c) || c == '(' || c == ')' || c == '[' || c == ']' || c == '"';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The length of the JSON number (ECMA-404) at the start of `s`, or 0 if there is none.
std::size_t scan_number(std::string_view s) {
    std::size_t i = 0;
    if (i < s.size() && s[i] == '-') {
        ++i;
    }
    if (i < s.size() && s[i] == '0') {
        ++i;
    } else if (i < s.size() && is_digit(s[i])) {
        while (i < s.size() && is_digit(s[i])) {
            ++i;
        }
    } else {
        return 0;
    }
    if (i < s.size() && s[i] == '.') {
        ++i;
        if (i >= s.size() || !is_digit(s[i])) {
            return 0;
        }
        while (i < s.size() && is_digit(s[i])) {
            ++i;
        }
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
            ++i;
        }
        if (i >= s.size() || !is_digit(s[i])) {
            return 0;
        }
        while (i < s.size() && is_digit(s[i])) {
            ++i;
        }
    }
    return i;
}

// Parses `s` when all of it is one finite JSON number.
bool parse_number(std::string_view s, double& out) {
    if (s.empty() || scan_number(s) != s.size()) {
        return false;
    }
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && ptr == s.data() + s.size() && std::isfinite(out);
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// The length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF), or 0.
std::size_t utf8_length(std::string_view s) {
    const auto b0 = static_cast<unsigned char>(s[0]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
        cp = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        cp = b0 & 0x0F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        cp = b0 & 0x07;
    } else {
        return 0;
    }
    if (s.size() < len) {
        return 0;
    }
    for (std::size_t i = 1; i < len; ++i) {
        const auto b = static_cast<unsigned char>(s[i]);
        if ((b & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    const bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
        return 0;
    }
    return len;
}

// Splits filter text into tokens. Every error is invalidFilter with the offset in the whole
// text, so that a PATCH path's bracket filter reports positions within the path.
class Lexer {
public:
    // With `stop_at_bracket`, lexing ends after the "]" that closes a bracket opened just
    // before `start` (the rest of a PATCH path is no filter).
    Lexer(std::string_view text, std::size_t start, bool stop_at_bracket)
        : text_(text), pos_(start), stop_at_bracket_(stop_at_bracket) {}

    std::vector<Token> run() {
        std::vector<Token> tokens;
        int brackets = 0;
        for (;;) {
            while (pos_ < text_.size() && is_space(text_[pos_])) {
                ++pos_;
            }
            if (pos_ >= text_.size()) {
                break;
            }
            Token t = next();
            if (t.kind == Token::Kind::kLBracket) {
                ++brackets;
            } else if (t.kind == Token::Kind::kRBracket && --brackets < 0 && stop_at_bracket_) {
                tokens.push_back(std::move(t));
                break;
            }
            tokens.push_back(std::move(t));
        }
        Token end;
        end.pos = end.end = pos_;
        tokens.push_back(std::move(end));
        return tokens;
    }

private:
    Token next() {
        Token t;
        t.pos = pos_;
        switch (text_[pos_]) {
            case '(':
                t.kind = Token::Kind::kLParen;
                break;
            case ')':
                t.kind = Token::Kind::kRParen;
                break;
            case '[':
                t.kind = Token::Kind::kLBracket;
                break;
            case ']':
                t.kind = Token::Kind::kRBracket;
                break;
            case '"':
                return string_token();
            default:
                return word_or_number();
        }
        t.text = std::string(1, text_[pos_]);
        t.end = ++pos_;
        return t;
    }

    Token word_or_number() {
        Token t;
        t.pos = pos_;
        std::size_t end = pos_;
        while (end < text_.size() && !is_delimiter(text_[end])) {
            ++end;
        }
        t.text = std::string(text_.substr(pos_, end - pos_));
        t.end = end;
        // ATTRNAME starts with ALPHA and a URN with "urn", so a digit or "-" starts a number.
        const char first = text_[pos_];
        if (is_digit(first) || first == '-') {
            if (scan_number(t.text) != t.text.size()) {
                fail_filter("invalid number " + quote(t.text) + at(t.pos));
            }
            t.kind = Token::Kind::kNumber;
        } else {
            t.kind = Token::Kind::kWord;
        }
        pos_ = end;
        return t;
    }

    // A JSON string (ECMA-404): escapes \" \\ \/ \b \f \n \r \t \uXXXX (with surrogate pairs),
    // no raw control characters, and well-formed UTF-8, since the value is later bound to SQL.
    Token string_token() {
        Token t;
        t.kind = Token::Kind::kString;
        t.pos = pos_;
        std::size_t i = pos_ + 1;
        for (;;) {
            if (i >= text_.size()) {
                fail_filter("unterminated string starting" + at(t.pos));
            }
            const char c = text_[i];
            if (c == '"') {
                ++i;
                break;
            }
            if (c == '\\') {
                i = escape(i, t.text);
                continue;
            }
            const auto u = static_cast<unsigned char>(c);
            if (u < 0x20) {
                fail_filter("control character in string" + at(i));
            }
            if (u < 0x80) {
                t.text += c;
                ++i;
                continue;
            }
            const std::size_t len = utf8_length(text_.substr(i));
            if (len == 0) {
                fail_filter("invalid UTF-8 in string" + at(i));
            }
            t.text.append(text_.substr(i, len));
            i += len;
        }
        t.end = pos_ = i;
        return t;
    }

    // Decodes the escape at text_[i] == '\\' into `out`; returns the offset after it.
    std::size_t escape(std::size_t i, std::string& out) {
        const std::size_t start = i;
        if (i + 1 >= text_.size()) {
            fail_filter("unterminated string starting" + at(start));
        }
        const char e = text_[i + 1];
        switch (e) {
            case '"':
                out += '"';
                return i + 2;
            case '\\':
                out += '\\';
                return i + 2;
            case '/':
                out += '/';
                return i + 2;
            case 'b':
                out += '\b';
                return i + 2;
            case 'f':
                out += '\f';
                return i + 2;
            case 'n':
                out += '\n';
                return i + 2;
            case 'r':
                out += '\r';
                return i + 2;
            case 't':
                out += '\t';
                return i + 2;
            case 'u':
                break;
            default:
                fail_filter("invalid escape " + quote(text_.substr(i, 2)) + " in string" +
                            at(start));
        }
        std::uint32_t cp = 0;
        if (!hex4(i + 2, cp)) {
            fail_filter("invalid \\u escape in string" + at(start));
        }
        i += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            // A high surrogate must be followed by an escaped low surrogate.
            std::uint32_t low = 0;
            if (i + 1 >= text_.size() || text_[i] != '\\' || text_[i + 1] != 'u' ||
                !hex4(i + 2, low) || low < 0xDC00 || low > 0xDFFF) {
                fail_filter("unpaired surrogate in \\u escape" + at(start));
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            i += 6;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail_filter("unpaired surrogate in \\u escape" + at(start));
        }
        append_utf8(out, cp);
        return i;
    }

    bool hex4(std::size_t i, std::uint32_t& out) const {
        if (i + 4 > text_.size()) {
            return false;
        }
        out = 0;
        for (std::size_t k = i; k < i + 4; ++k) {
            const char c = text_[k];
            std::uint32_t d = 0;
            if (c >= '0' && c <= '9') {
                d = static_cast<std::uint32_t>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                d = static_cast<std::uint32_t>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                d = static_cast<std::uint32_t>(c - 'A' + 10);
            } else {
                return false;
            }
            out = out * 16 + d;
        }
        return true;
    }

    std::string_view text_;
    std::size_t pos_;
    bool stop_at_bracket_;
};

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

// core::parse_time, guarded: libstdc++'s system_clock counts nanoseconds in 64 bits, so only
// years 1678-2261 are representable and parse_time overflows (undefined behaviour, found by
// the fuzzer) outside them. Until it checks the range itself, such dates are rejected here.
bool parse_datetime(std::string_view text, std::chrono::system_clock::time_point& out) {
    constexpr int kMinYear = 1678;
    constexpr int kMaxYear = 2261;
    int year = 0;
    if (text.size() < 5 || text[4] != '-' ||
        std::from_chars(text.data(), text.data() + 4, year).ptr != text.data() + 4 ||
        year < kMinYear || year > kMaxYear) {
        return false;
    }
    return core::parse_time(std::string(text), out);
}

std::optional<CompareOp> parse_op(std::string_view s) {
    static constexpr std::pair<std::string_view, CompareOp> kOps[] = {
        {"eq", CompareOp::kEq}, {"ne", CompareOp::kNe}, {"co", CompareOp::kCo},
        {"sw", CompareOp::kSw}, {"ew", CompareOp::kEw}, {"pr", CompareOp::kPr},
        {"gt", CompareOp::kGt}, {"ge", CompareOp::kGe}, {"lt", CompareOp::kLt},
        {"le", CompareOp::kLe},
    };
    for (const auto& [name, op] : kOps) {
        if (iequals(s, name)) {
            return op;
        }
    }
    return std::nullopt;
}

bool is_substring_op(CompareOp op) {
    return op == CompareOp::kCo || op == CompareOp::kSw || op == CompareOp::kEw;
}
bool is_ordering_op(CompareOp op) {
    return op == CompareOp::kGt || op == CompareOp::kGe || op == CompareOp::kLt ||
           op == CompareOp::kLe;
}

std::string_view type_name(AttrType t) {
    switch (t) {
        case AttrType::kString:
            return "string";
        case AttrType::kBoolean:
            return "boolean";
        case AttrType::kDecimal:
            return "decimal";
        case AttrType::kInteger:
            return "integer";
        case AttrType::kDateTime:
            return "dateTime";
        case AttrType::kBinary:
            return "binary";
        case AttrType::kReference:
            return "reference";
        case AttrType::kComplex:
            return "complex";
    }
    return "unknown";
}

// Brackets need a multi-valued complex attribute; R-43 adds the single-valued complex
// enterprise `manager`, which Okta and Entra address as `manager[value eq "<id>"]`.
bool brackets_allowed(const ResolvedAttr& ra) {
    if (ra.sub != nullptr || ra.attr->type != AttrType::kComplex) {
        return false;
    }
    return ra.attr->multi_valued || (ra.extension && iequals(ra.attr->name, "manager"));
}

// `schemas` (RFC 7643 §3) is in every resource but in no schema's attribute list, and RFC 7644
// §3.4.2.2 filters on it: `schemas eq "urn:…:enterprise:2.0:User"`. URNs are case-insensitive.
const AttributeDef& schemas_attribute() {
    static const AttributeDef def = [] {
        AttributeDef d;
        d.name = "schemas";
        d.type = AttrType::kReference;
        d.multi_valued = true;
        d.case_exact = false;
        d.mutability = Mutability::kReadOnly;
        return d;
    }();
    return def;
}

// SchemaRegistry::resolve wants the URN for an extension attribute, but Entra writes the
// enterprise manager unqualified: `id eq "u-2001" and manager eq "u-3391"` and
// `manager[value eq "u-3391"]`. An unqualified name that no core or common attribute
// has is therefore looked up in the type's extensions, and accepted when exactly one defines it.
std::optional<ResolvedAttr> resolve_attr(const SchemaRegistry& registry,
                                         const ResourceTypeDef& type,
                                         std::string_view path) {
    if (std::optional<ResolvedAttr> ra = registry.resolve(type, path)) {
        return ra;
    }
    if (path.empty() || path.find(':') != std::string_view::npos) {
        return std::nullopt;
    }
    std::optional<ResolvedAttr> found;
    for (const SchemaExtensionRef& ext : type.extensions) {
        std::optional<ResolvedAttr> ra =
            registry.resolve(type, ext.schema + ":" + std::string(path));
        if (ra) {
            if (found) {
                return std::nullopt;  // ambiguous: the client must name the URN
            }
            found = ra;
        }
    }
    return found;
}

Filter combine(Filter::Kind kind, Filter lhs, Filter rhs) {
    Filter f;
    f.kind = kind;
    f.children.reserve(2);
    f.children.push_back(std::move(lhs));
    f.children.push_back(std::move(rhs));
    return f;
}

// Recursive descent over the RFC 7644 §3.4.2.2 grammar, with the precedence of its rules
// (not > and > or, both left-associative) and the errata 4690/7322 reading of valFilter (no
// brackets inside brackets). The recursion only descends through "(", "not (" and "[", each of
// which counts against kMaxFilterDepth; and/or chains are loops, so untrusted input cannot
// exhaust the stack (the tree of a 4096-byte filter is at most a few hundred nodes deep).
class Parser {
public:
    Parser(std::vector<Token> tokens,
           const SchemaRegistry& registry,
           const ResourceTypeDef* type,
           std::optional<ResolvedAttr> parent)
        : tokens_(std::move(tokens)),
          registry_(registry),
          type_(type),
          parent_(std::move(parent)) {}

    // The whole token stream is one filter.
    Filter parse_all(int depth) {
        Filter f = parse_or(depth);
        expect_end();
        return f;
    }

    // The tokens of a PATCH path after "[" (at `open`): a filter, then "]". Returns the filter;
    // `close_end` receives the offset after the "]".
    Filter parse_bracket(std::size_t open, std::size_t& close_end) {
        Filter f = parse_or(1);
        expect_close(Token::Kind::kRBracket, open);
        close_end = tokens_[index_ - 1].end;
        return f;
    }

private:
    const Token& peek(std::size_t ahead = 0) const {
        return tokens_[std::min(index_ + ahead, tokens_.size() - 1)];
    }
    const Token& take() {
        const Token& t = tokens_[index_];
        if (index_ + 1 < tokens_.size()) {
            ++index_;
        }
        return t;
    }

    static std::string describe(const Token& t) {
        return t.kind == Token::Kind::kEnd ? std::string("the end of the filter") : quote(t.text);
    }
    static bool is_keyword(const Token& t, std::string_view word) {
        return t.kind == Token::Kind::kWord && iequals(t.text, word);
    }

    void check_depth(int depth, const Token& at_token) const {
        if (depth > kMaxFilterDepth) {
            fail_filter("filter nests deeper than " + std::to_string(kMaxFilterDepth) + " levels" +
                        at(at_token.pos));
        }
    }

    void expect_close(Token::Kind kind, std::size_t open) {
        const Token& t = peek();
        const char* close = kind == Token::Kind::kRParen ? "\")\"" : "\"]\"";
        const char* opener = kind == Token::Kind::kRParen ? "\"(\"" : "\"[\"";
        if (t.kind == kind) {
            take();
            return;
        }
        if (t.kind == Token::Kind::kEnd) {
            fail_filter(std::string("missing ") + close + " for " + opener + at(open));
        }
        fail_filter(std::string("expected ") + close + at(t.pos) + ", found " + describe(t));
    }

    void expect_end() {
        const Token& t = peek();
        if (t.kind == Token::Kind::kEnd) {
            return;
        }
        if (t.kind == Token::Kind::kRParen || t.kind == Token::Kind::kRBracket) {
            fail_filter("unexpected " + quote(t.text) + at(t.pos));
        }
        fail_filter("unexpected " + quote(t.text) + at(t.pos) +
                    ": expected \"and\", \"or\" or the end of the filter");
    }

    Filter parse_or(int depth) {
        Filter lhs = parse_and(depth);
        while (is_keyword(peek(), "or")) {
            take();
            lhs = combine(Filter::Kind::kOr, std::move(lhs), parse_and(depth));
        }
        return lhs;
    }

    Filter parse_and(int depth) {
        Filter lhs = parse_unary(depth);
        while (is_keyword(peek(), "and")) {
            take();
            lhs = combine(Filter::Kind::kAnd, std::move(lhs), parse_unary(depth));
        }
        return lhs;
    }

    Filter parse_unary(int depth) {
        const Token& t = peek();
        switch (t.kind) {
            case Token::Kind::kLParen: {
                take();
                check_depth(depth + 1, t);
                Filter inner = parse_or(depth + 1);
                expect_close(Token::Kind::kRParen, t.pos);
                return inner;
            }
            case Token::Kind::kWord:
                if (iequals(t.text, "not")) {
                    return parse_not(depth);
                }
                return parse_attr_exp(depth);
            case Token::Kind::kRParen:
            case Token::Kind::kRBracket:
            case Token::Kind::kLBracket:
                fail_filter("unexpected " + quote(t.text) + at(t.pos));
            case Token::Kind::kEnd:
            case Token::Kind::kString:
            case Token::Kind::kNumber:
                break;
        }
        std::string detail = "expected an attribute name";
        if (index_ > 0) {
            detail += " after " + quote(tokens_[index_ - 1].text);
        }
        fail_filter(detail + at(t.pos) + ", found " + describe(t));
    }

    // `*1"not" "(" FILTER ")"`: the RFC gives "not" only to a parenthesized filter.
    Filter parse_not(int depth) {
        const Token& word = take();
        const Token& open = peek();
        if (open.kind != Token::Kind::kLParen) {
            fail_filter("expected \"(\" after " + quote(word.text) + at(open.pos) + ", found " +
                        describe(open));
        }
        take();
        check_depth(depth + 1, open);
        Filter f;
        f.kind = Filter::Kind::kNot;
        f.children.push_back(parse_or(depth + 1));
        expect_close(Token::Kind::kRParen, open.pos);
        return f;
    }

    ResolvedAttr resolve(const Token& name) const {
        std::optional<ResolvedAttr> ra;
        if (parent_) {
            ra = registry_.resolve_sub(*parent_, name.text);
            if (!ra) {
                fail_filter("unknown attribute " + quote(name.text) + " of " +
                            quote(parent_->attr->name) + at(name.pos));
            }
            return *ra;
        }
        ra = resolve_attr(registry_, *type_, name.text);
        if (!ra && iequals(name.text, "schemas")) {
            ra.emplace();
            ra->schema = registry_.schema(type_->schema);
            ra->attr = &schemas_attribute();
        }
        if (!ra || ra->schema == nullptr) {
            fail_filter("unknown attribute " + quote(name.text) + at(name.pos));
        }
        return *ra;
    }

    Filter parse_attr_exp(int depth) {
        const Token& name = take();
        if (parent_ && peek().kind == Token::Kind::kLBracket) {
            fail_filter("brackets cannot appear inside brackets" + at(peek().pos));
        }
        const ResolvedAttr ra = resolve(name);
        if (peek().kind == Token::Kind::kLBracket) {
            return parse_value_path(ra, name, depth);
        }
        return parse_comparison(ra, name.text);
    }

    // valuePath = attrPath "[" valFilter "]", plus Entra's `emails[type eq "work"].value eq "x"`,
    // which becomes a value path over `type eq "work" and value eq "x"`: some element of the
    // attribute satisfies both.
    Filter parse_value_path(const ResolvedAttr& ra, const Token& name, int depth) {
        const Token& open = take();
        if (!brackets_allowed(ra)) {
            fail_filter(quote(name.text) +
                        " is not a multi-valued complex attribute, so it takes no "
                        "filter in brackets" +
                        at(open.pos));
        }
        check_depth(depth + 1, open);
        parent_ = ra;
        Filter inner = parse_or(depth + 1);
        expect_close(Token::Kind::kRBracket, open.pos);
        parent_.reset();
        const Token& close = tokens_[index_ - 1];

        const Token& next = peek();
        if (next.kind == Token::Kind::kWord && next.pos == close.end && next.text.front() == '.') {
            take();
            const std::string_view sub_name = std::string_view(next.text).substr(1);
            const std::optional<ResolvedAttr> sub = registry_.resolve_sub(ra, sub_name);
            if (!sub) {
                fail_filter("unknown attribute " + quote(sub_name) + " of " + quote(ra.attr->name) +
                            at(next.pos + 1));
            }
            inner =
                combine(Filter::Kind::kAnd, std::move(inner), parse_comparison(*sub, next.text));
        }
        Filter f;
        f.kind = Filter::Kind::kValuePath;
        f.attr = ra.ref();
        f.children.push_back(std::move(inner));
        return f;
    }

    // attrExp: (attrPath SP "pr") / (attrPath SP compareOp SP compValue). `label` is the
    // attribute as written, for error details.
    Filter parse_comparison(ResolvedAttr ra, std::string_view label) {
        const Token& op_token = peek();
        if (op_token.kind != Token::Kind::kWord) {
            fail_filter("expected an operator after " + quote(label) + at(op_token.pos) +
                        ", found " + describe(op_token));
        }
        const std::optional<CompareOp> op = parse_op(op_token.text);
        if (!op) {
            fail_filter("unknown operator " + quote(op_token.text) + at(op_token.pos));
        }
        take();

        Filter f;
        f.kind = Filter::Kind::kCompare;
        f.op = *op;
        if (*op != CompareOp::kPr) {
            const Token& v = peek();
            if (v.kind == Token::Kind::kString) {
                f.value.kind = Literal::Kind::kString;
                f.value.string = v.text;
            } else if (v.kind == Token::Kind::kNumber) {
                f.value.kind = Literal::Kind::kNumber;
                f.value.string = v.text;
                if (!parse_number(v.text, f.value.number)) {
                    fail_filter("number " + quote(v.text) + " is out of range" + at(v.pos));
                }
            } else if (is_keyword(v, "true") || is_keyword(v, "false")) {
                f.value.kind = Literal::Kind::kBoolean;
                f.value.boolean = iequals(v.text, "true");
            } else if (is_keyword(v, "null")) {
                f.value.kind = Literal::Kind::kNull;
            } else {
                fail_filter("expected a value after " + quote(op_token.text) + at(v.pos) +
                            ", found " + describe(v));
            }
            take();
        }

        // A complex attribute compared as a whole compares its "value" (RFC 7644 §3.4.2.2:
        // `emails co "example.com"`; Entra's `manager eq "<id>"`).
        if (ra.sub == nullptr && ra.attr->type == AttrType::kComplex && *op != CompareOp::kPr) {
            std::optional<ResolvedAttr> value = registry_.resolve_sub(ra, "value");
            if (!value) {
                fail_filter(quote(label) + " is complex: compare one of its sub-attributes" +
                            at(op_token.pos));
            }
            ra = *value;
        }
        f.attr = ra.ref();
        check_types(f, op_token);
        return f;
    }

    // Rejects comparisons that cannot mean anything for the attribute's type, and coerces the
    // literals IdPs send in the wrong JSON type (`active eq "True"`, `employeeNumber eq 42`).
    // dateTime literals are rewritten in core::format_time's fixed-width form, so that the
    // store can compare them with stored timestamps as text.
    void check_types(Filter& f, const Token& op_token) const {
        if (f.op == CompareOp::kPr) {
            return;
        }
        Literal& v = f.value;
        const std::string where = at(op_token.pos);
        const std::string attr = quote(f.attr.display());
        const std::string op = quote(op_token.text);
        const AttrType type = f.attr.type;
        if (v.kind == Literal::Kind::kNull) {
            if (f.op != CompareOp::kEq && f.op != CompareOp::kNe) {
                fail_filter("operator " + op + " cannot compare with null" + where);
            }
            return;
        }
        const bool stringish =
            type == AttrType::kString || type == AttrType::kReference || type == AttrType::kBinary;
        if (is_substring_op(f.op) && !stringish) {
            fail_filter("operator " + op + " needs a string attribute, but " + attr + " is " +
                        std::string(type_name(type)) + where);
        }
        if (is_ordering_op(f.op) && (type == AttrType::kBoolean || type == AttrType::kComplex)) {
            fail_filter("operator " + op + " cannot order " + std::string(type_name(type)) + " " +
                        attr + where);
        }
        switch (type) {
            case AttrType::kBoolean:
                if (v.kind == Literal::Kind::kString &&
                    (iequals(v.string, "true") || iequals(v.string, "false"))) {
                    v.boolean = iequals(v.string, "true");
                    v.kind = Literal::Kind::kBoolean;
                    v.string.clear();
                }
                if (v.kind != Literal::Kind::kBoolean) {
                    fail_filter("expected true or false for " + attr + where);
                }
                return;
            case AttrType::kInteger:
            case AttrType::kDecimal:
                if (v.kind == Literal::Kind::kString && parse_number(v.string, v.number)) {
                    v.kind = Literal::Kind::kNumber;
                }
                if (v.kind != Literal::Kind::kNumber) {
                    fail_filter("expected a number for " + attr + where);
                }
                if (type == AttrType::kInteger && (v.number != std::trunc(v.number) ||
                                                   std::fabs(v.number) > 9.007199254740992e15)) {
                    fail_filter("expected an integer for " + attr + where);
                }
                return;
            case AttrType::kDateTime: {
                std::chrono::system_clock::time_point t;
                if (v.kind != Literal::Kind::kString || !parse_datetime(v.string, t)) {
                    fail_filter("expected an RFC 3339 dateTime for " + attr + where);
                }
                v.string = core::format_time(t);
                return;
            }
            case AttrType::kString:
            case AttrType::kReference:
            case AttrType::kBinary:
                if (v.kind == Literal::Kind::kNumber) {
                    v.kind = Literal::Kind::kString;  // the digits as written
                    v.number = 0;
                }
                if (v.kind != Literal::Kind::kString) {
                    fail_filter("expected a string for " + attr + where);
                }
                return;
            case AttrType::kComplex:
                break;
        }
        fail_filter(attr + " is complex: compare one of its sub-attributes" + where);
    }

    std::vector<Token> tokens_;
    std::size_t index_ = 0;
    const SchemaRegistry& registry_;
    const ResourceTypeDef* type_;
    std::optional<ResolvedAttr> parent_;
};

void check_filter_text(std::string_view text) {
    if (text.size() > kMaxFilterLength) {
        fail_filter("filter is longer than " + std::to_string(kMaxFilterLength) + " characters");
    }
    if (std::all_of(text.begin(), text.end(), is_space)) {
        fail_filter("empty filter");
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------

// Documents carry canonical names, but a member is still found case-insensitively (RFC 7643
// §2.1) in case a document was stored by a client that wrote `Emails`.
const json::value* member(const json::object& o, std::string_view key) {
    if (auto it = o.find(key); it != o.end()) {
        return &it->value();
    }
    for (const auto& kv : o) {
        if (iequals(kv.key(), key)) {
            return &kv.value();
        }
    }
    return nullptr;
}

// The values a comparison looks at: the elements of an array, else the value itself; nulls
// count as unassigned (RFC 7643 §2.5).
void flatten(const json::value& v, std::vector<const json::value*>& out) {
    if (v.is_array()) {
        for (const json::value& e : v.get_array()) {
            if (!e.is_null()) {
                out.push_back(&e);
            }
        }
    } else if (!v.is_null()) {
        out.push_back(&v);
    }
}

const json::value* top_level(const AttrRef& ref, const json::object& resource) {
    const json::object* container = &resource;
    if (ref.extension) {
        const json::value* ext = member(resource, ref.schema);
        if (ext == nullptr || !ext->is_object()) {
            return nullptr;
        }
        container = &ext->get_object();
    }
    return member(*container, ref.name);
}

void sub_values(const json::value& element,
                const std::string& sub,
                std::vector<const json::value*>& out) {
    if (sub.empty()) {
        flatten(element, out);
    } else if (element.is_object()) {
        if (const json::value* v = member(element.get_object(), sub)) {
            flatten(*v, out);
        }
    }
}

// RFC 7644 §3.4.2.2 "pr": the attribute has a non-empty value, or a non-empty node.
bool present(const json::value& v) {
    if (v.is_null()) {
        return false;
    }
    if (v.is_string()) {
        return !v.get_string().empty();
    }
    if (v.is_array()) {
        const json::array& a = v.get_array();
        return std::any_of(a.begin(), a.end(), [](const json::value& e) { return present(e); });
    }
    if (v.is_object()) {
        const json::object& o = v.get_object();
        return std::any_of(o.begin(), o.end(), [](const auto& kv) { return present(kv.value()); });
    }
    return true;
}

template <class T>
bool ordered(CompareOp op, const T& a, const T& b) {
    switch (op) {
        case CompareOp::kEq:
            return a == b;
        case CompareOp::kGt:
            return a > b;
        case CompareOp::kGe:
            return a >= b;
        case CompareOp::kLt:
            return a < b;
        case CompareOp::kLe:
            return a <= b;
        default:
            return false;
    }
}

bool compare_string(const AttrRef& ref,
                    CompareOp op,
                    std::string_view value,
                    std::string_view literal) {
    std::string a(value);
    std::string b(literal);
    if (!ref.case_exact) {
        a = to_lower(a);
        b = to_lower(b);
    }
    switch (op) {
        case CompareOp::kCo:
            return a.find(b) != std::string::npos;
        case CompareOp::kSw:
            return a.starts_with(b);
        case CompareOp::kEw:
            return a.ends_with(b);
        default:
            return ordered(op, a, b);
    }
}

// One attribute value against the literal, for every operator but pr and ne.
bool compare_one(const AttrRef& ref, CompareOp op, const Literal& lit, const json::value& v) {
    switch (ref.type) {
        case AttrType::kBoolean: {
            bool b = false;
            if (v.is_bool()) {
                b = v.get_bool();
            } else if (v.is_string() &&
                       (iequals(v.get_string(), "true") || iequals(v.get_string(), "false"))) {
                b = iequals(v.get_string(), "true");
            } else {
                return false;
            }
            return lit.kind == Literal::Kind::kBoolean && op == CompareOp::kEq && b == lit.boolean;
        }
        case AttrType::kInteger:
        case AttrType::kDecimal: {
            if (!v.is_number() || lit.kind != Literal::Kind::kNumber) {
                return false;
            }
            return ordered(op, v.to_number<double>(), lit.number);
        }
        case AttrType::kDateTime: {
            std::chrono::system_clock::time_point a;
            std::chrono::system_clock::time_point b;
            if (!v.is_string() || lit.kind != Literal::Kind::kString ||
                !parse_datetime(v.get_string(), a) || !parse_datetime(lit.string, b)) {
                return false;
            }
            return ordered(op, a, b);
        }
        case AttrType::kString:
        case AttrType::kReference:
        case AttrType::kBinary:
        case AttrType::kComplex:
            break;
    }
    if (!v.is_string() || lit.kind != Literal::Kind::kString) {
        return false;
    }
    return compare_string(ref, op, v.get_string(), lit.string);
}

// A comparison over all values of the attribute: a multi-valued attribute matches when any
// value does. "ne" is the negation of "eq", so an unassigned attribute is "ne" anything
// (`title ne "x"` matches a user without a title), and `emails.value ne "a"` is false for a
// user having "a" among other addresses. `eq null` matches an unassigned attribute, `ne null`
// an assigned one.
bool evaluate_compare(const Filter& f, const std::vector<const json::value*>& values) {
    auto any = [&values](auto&& pred) { return std::any_of(values.begin(), values.end(), pred); };
    if (f.op == CompareOp::kPr) {
        return any([](const json::value* v) { return present(*v); });
    }
    if (f.value.kind == Literal::Kind::kNull) {
        const bool assigned = any([](const json::value* v) { return present(*v); });
        return f.op == CompareOp::kNe ? assigned : (f.op == CompareOp::kEq && !assigned);
    }
    if (f.op == CompareOp::kNe) {
        return !any([&f](const json::value* v) {
            return compare_one(f.attr, CompareOp::kEq, f.value, *v);
        });
    }
    return any([&f](const json::value* v) { return compare_one(f.attr, f.op, f.value, *v); });
}

}  // namespace

core::Filter parse_filter(std::string_view text,
                          const SchemaRegistry& registry,
                          const ResourceTypeDef& type) {
    check_filter_text(text);
    Parser parser(Lexer(text, 0, false).run(), registry, &type, std::nullopt);
    return parser.parse_all(0);
}

core::Filter parse_value_filter(std::string_view text,
                                const SchemaRegistry& registry,
                                const ResolvedAttr& parent) {
    check_filter_text(text);
    if (parent.schema == nullptr || parent.attr == nullptr || !brackets_allowed(parent)) {
        fail_filter("a value filter needs a multi-valued complex attribute");
    }
    Parser parser(Lexer(text, 0, false).run(), registry, nullptr, parent);
    // The brackets around the text count as one level, as in a filter's value path.
    return parser.parse_all(1);
}

// Errors in the structure of the path are invalidPath; errors inside the brackets are
// invalidFilter, as RFC 7644 §3.12 (table 9) lists invalidFilter for "PATCH (Path Filter)".
PatchPath parse_patch_path(std::string_view text,
                           const SchemaRegistry& registry,
                           const ResourceTypeDef& type) {
    if (text.size() > kMaxFilterLength) {
        throw Error::invalid_path("path is longer than " + std::to_string(kMaxFilterLength) +
                                  " characters");
    }
    if (text.empty()) {
        throw Error::invalid_path("empty path");
    }
    const std::size_t open = text.find('[');
    const std::string_view attr_text = text.substr(0, open);
    const std::optional<ResolvedAttr> ra = resolve_attr(registry, type, attr_text);
    if (!ra) {
        throw Error::invalid_path("unknown attribute " + quote(attr_text) + " in path");
    }
    PatchPath out;
    out.attr = *ra;
    if (open == std::string_view::npos) {
        return out;
    }
    if (!brackets_allowed(*ra)) {
        throw Error::invalid_path(
            quote(attr_text) +
            " is not a multi-valued complex attribute, so it takes no filter in "
            "brackets" +
            at(open));
    }
    Parser parser(Lexer(text, open + 1, true).run(), registry, &type, *ra);
    std::size_t close_end = 0;
    out.filter = parser.parse_bracket(open, close_end);

    const std::string_view rest = text.substr(close_end);
    if (rest.empty()) {
        return out;
    }
    if (rest.front() != '.') {
        throw Error::invalid_path("unexpected " + quote(rest) + " after \"]\"" + at(close_end));
    }
    const std::optional<ResolvedAttr> sub = registry.resolve_sub(*ra, rest.substr(1));
    if (!sub) {
        throw Error::invalid_path("unknown attribute " + quote(rest.substr(1)) + " of " +
                                  quote(ra->attr->name) + " in path" + at(close_end + 1));
    }
    out.sub_after_filter = sub->sub;
    return out;
}

bool matches(const core::Filter& filter, const boost::json::object& resource) {
    switch (filter.kind) {
        case Filter::Kind::kCompare: {
            std::vector<const json::value*> values;
            if (const json::value* top = top_level(filter.attr, resource)) {
                if (top->is_array() && !filter.attr.sub.empty()) {
                    for (const json::value& e : top->get_array()) {
                        sub_values(e, filter.attr.sub, values);
                    }
                } else {
                    sub_values(*top, filter.attr.sub, values);
                }
            }
            return evaluate_compare(filter, values);
        }
        case Filter::Kind::kAnd:
            return std::all_of(filter.children.begin(), filter.children.end(),
                               [&resource](const Filter& c) { return matches(c, resource); });
        case Filter::Kind::kOr:
            return std::any_of(filter.children.begin(), filter.children.end(),
                               [&resource](const Filter& c) { return matches(c, resource); });
        case Filter::Kind::kNot:
            return !filter.children.empty() && !matches(filter.children.front(), resource);
        case Filter::Kind::kValuePath: {
            const json::value* top = top_level(filter.attr, resource);
            if (top == nullptr || filter.children.empty()) {
                return false;
            }
            const Filter& inner = filter.children.front();
            if (top->is_array()) {
                const json::array& a = top->get_array();
                return std::any_of(a.begin(), a.end(), [&inner](const json::value& e) {
                    return matches_element(inner, e);
                });
            }
            return top->is_object() && matches_element(inner, *top);
        }
    }
    return false;
}

bool matches_element(const core::Filter& filter, const boost::json::value& element) {
    switch (filter.kind) {
        case Filter::Kind::kCompare: {
            std::vector<const json::value*> values;
            sub_values(element, filter.attr.sub, values);
            return evaluate_compare(filter, values);
        }
        case Filter::Kind::kAnd:
            return std::all_of(filter.children.begin(), filter.children.end(),
                               [&element](const Filter& c) { return matches_element(c, element); });
        case Filter::Kind::kOr:
            return std::any_of(filter.children.begin(), filter.children.end(),
                               [&element](const Filter& c) { return matches_element(c, element); });
        case Filter::Kind::kNot:
            return !filter.children.empty() && !matches_element(filter.children.front(), element);
        case Filter::Kind::kValuePath:
            return false;  // brackets never nest (RFC 7644 errata 4690)
    }
    return false;
}

}  // namespace scimd::protocol
