#include "scimd/core/csv.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/errors.hpp"
#include <gtest/gtest.h>

#include "scimd/error.hpp"

namespace scimd::core {
namespace {

using test::error_of;
using Fields = std::vector<std::string>;

// The detail of the error parse_csv throws for `text`, which must be a 400 invalidValue.
std::string csv_error(std::string_view text, const CsvLimits& limits = {}) {
    const Error e = error_of([&] { parse_csv(text, limits); });
    EXPECT_EQ(e.status(), 400);
    EXPECT_EQ(e.scim_type(), ScimType::kInvalidValue) << e.detail();
    return e.detail();
}

// "email\n" followed by `rows` data rows.
std::string with_rows(std::size_t rows) {
    std::string text = "email\n";
    for (std::size_t i = 0; i < rows; ++i) {
        text += "user" + std::to_string(i) + "@acme.example\n";
    }
    return text;
}

// --- records and fields ----------------------------------------------------------------------

TEST(CsvTest, ParsesHeaderAndRowsWithTheirLines) {
    const CsvTable t = parse_csv("email,name\nann@acme.example,Ann\nbob@acme.example,Bob\n");
    EXPECT_EQ(t.header, (Fields{"email", "name"}));
    ASSERT_EQ(t.rows.size(), 2u);
    EXPECT_EQ(t.rows[0].line, 2u);
    EXPECT_EQ(t.rows[0].fields, (Fields{"ann@acme.example", "Ann"}));
    EXPECT_EQ(t.rows[1].line, 3u);
    EXPECT_EQ(t.rows[1].fields, (Fields{"bob@acme.example", "Bob"}));
}

TEST(CsvTest, TrailingNewlineIsOptional) {
    const CsvTable with = parse_csv("email,name\nann@acme.example,Ann\n");
    const CsvTable without = parse_csv("email,name\nann@acme.example,Ann");
    ASSERT_EQ(with.rows.size(), 1u);
    ASSERT_EQ(without.rows.size(), 1u);
    EXPECT_EQ(with.rows[0].fields, without.rows[0].fields);
    EXPECT_EQ(without.rows[0].fields, (Fields{"ann@acme.example", "Ann"}));
}

TEST(CsvTest, SkipsUtf8ByteOrderMark) {
    const CsvTable t = parse_csv(
        "\xEF\xBB\xBF"
        "Email,Name\nann@acme.example,Ann\n");
    EXPECT_EQ(t.header, (Fields{"email", "name"}));
    ASSERT_EQ(t.rows.size(), 1u);
    EXPECT_EQ(t.rows[0].line, 2u);
}

TEST(CsvTest, AcceptsCrlfLfAndLoneCrLineEnds) {
    for (const std::string_view eol : {"\r\n", "\n", "\r"}) {
        const std::string text = "email,name" + std::string(eol) + "ann@acme.example,Ann" +
                                 std::string(eol) + "bob@acme.example,Bob" + std::string(eol);
        const CsvTable t = parse_csv(text);
        EXPECT_EQ(t.header, (Fields{"email", "name"}));
        ASSERT_EQ(t.rows.size(), 2u);
        EXPECT_EQ(t.rows[0].fields, (Fields{"ann@acme.example", "Ann"}));  // no stray CR
        EXPECT_EQ(t.rows[1].fields, (Fields{"bob@acme.example", "Bob"}));
        EXPECT_EQ(t.rows[1].line, 3u);
    }
    // Mixed in one file, each break counts one line.
    const CsvTable mixed = parse_csv("email\r\na@acme.example\rb@acme.example\nc@acme.example");
    ASSERT_EQ(mixed.rows.size(), 3u);
    EXPECT_EQ(mixed.rows[0].line, 2u);
    EXPECT_EQ(mixed.rows[1].line, 3u);
    EXPECT_EQ(mixed.rows[2].line, 4u);
}

TEST(CsvTest, QuotedFieldsHoldCommasQuotesAndLineBreaks) {
    const CsvTable t = parse_csv(
        "email,name,note\n"
        "ann@acme.example,\"Smith, Ann\",\"say \"\"hi\"\"\"\n"
        "bob@acme.example,\"Bob\",\"two\r\nlines\"\n"
        "cat@acme.example,\"\",\"\"\"\"\n");
    ASSERT_EQ(t.rows.size(), 3u);
    EXPECT_EQ(t.rows[0].fields, (Fields{"ann@acme.example", "Smith, Ann", "say \"hi\""}));
    EXPECT_EQ(t.rows[1].fields, (Fields{"bob@acme.example", "Bob", "two\r\nlines"}));
    EXPECT_EQ(t.rows[2].fields, (Fields{"cat@acme.example", "", "\""}));
    // The row after a two-line record starts on the line after both.
    EXPECT_EQ(t.rows[1].line, 3u);
    EXPECT_EQ(t.rows[2].line, 5u);
}

TEST(CsvTest, TrimsSpacesOutsideQuotesOnly) {
    const CsvTable t = parse_csv("email,name\n  ann@acme.example\t,  \"  Ann  \"  \n");
    ASSERT_EQ(t.rows.size(), 1u);
    EXPECT_EQ(t.rows[0].fields, (Fields{"ann@acme.example", "  Ann  "}));
    // Spaces inside an unquoted field stay.
    EXPECT_EQ(parse_csv("name\n Ann  Smith \n").rows.at(0).fields, (Fields{"Ann  Smith"}));
}

TEST(CsvTest, HeaderIsTrimmedAndLowerCased) {
    const CsvTable t = parse_csv("  EMAIL , Given Name ,\" Role \"\nann@acme.example,Ann,member\n");
    EXPECT_EQ(t.header, (Fields{"email", "given name", "role"}));
    // Data rows keep their case.
    EXPECT_EQ(t.rows.at(0).fields, (Fields{"ann@acme.example", "Ann", "member"}));
}

TEST(CsvTest, SkipsBlankLinesAndEmptyRows) {
    const CsvTable t = parse_csv(
        "\n\r\n  \nemail,name\n\nann@acme.example,Ann\n   \n,\n\t, \nbob@acme.example,Bob\n\n\n");
    EXPECT_EQ(t.header, (Fields{"email", "name"}));
    ASSERT_EQ(t.rows.size(), 2u);
    EXPECT_EQ(t.rows[0].line, 6u);
    EXPECT_EQ(t.rows[0].fields, (Fields{"ann@acme.example", "Ann"}));
    EXPECT_EQ(t.rows[1].line, 10u);
}

TEST(CsvTest, KeepsEmptyFieldsAndRaggedRows) {
    const CsvTable t = parse_csv("email,name,role\nann@acme.example,,\nbob@acme.example\n");
    ASSERT_EQ(t.rows.size(), 2u);
    EXPECT_EQ(t.rows[0].fields, (Fields{"ann@acme.example", "", ""}));
    EXPECT_EQ(t.rows[1].fields, (Fields{"bob@acme.example"}));
}

TEST(CsvTest, HeaderOnlyHasNoRows) {
    const CsvTable t = parse_csv("email\n");
    EXPECT_EQ(t.header, (Fields{"email"}));
    EXPECT_TRUE(t.rows.empty());
}

TEST(CsvTest, AcceptsMultiByteUtf8) {
    const CsvTable t = parse_csv("email,name\nzoe@acme.example,Zoë 日本 😀\n");
    EXPECT_EQ(t.rows.at(0).fields.at(1), "Zoë 日本 😀");
}

TEST(CsvTest, ColumnFindsHeaderNamesCaseInsensitively) {
    const CsvTable t = parse_csv("Email,Given Name,email\nann@acme.example,Ann,x\n");
    EXPECT_EQ(column(t, "email"), std::optional<std::size_t>(0));  // the first of two
    EXPECT_EQ(column(t, "EMAIL"), std::optional<std::size_t>(0));
    EXPECT_EQ(column(t, "given name"), std::optional<std::size_t>(1));
    EXPECT_EQ(column(t, "role"), std::nullopt);
    EXPECT_EQ(column(t, ""), std::nullopt);
}

// --- errors: each names its line ------------------------------------------------------------

TEST(CsvTest, RefusesTextOverMaxBytes) {
    const std::string big(CsvLimits{}.max_bytes + 1, 'a');
    EXPECT_EQ(csv_error(big), "the CSV file is 1048577 bytes; the limit is 1048576");

    const CsvLimits small{.max_bytes = 16};
    EXPECT_NO_THROW(parse_csv("email\nab@acme.ex", small));  // exactly 16 bytes
    EXPECT_EQ(csv_error("email\nab@acme.exa", small), "the CSV file is 17 bytes; the limit is 16");
}

TEST(CsvTest, RowLimitIsTenThousand) {
    const CsvTable t = parse_csv(with_rows(10000));
    EXPECT_EQ(t.rows.size(), 10000u);
    EXPECT_EQ(t.rows.back().line, 10001u);

    EXPECT_EQ(csv_error(with_rows(10001)), "line 10002: the CSV file has more than 10000 rows");
    // Blank lines do not count as rows.
    EXPECT_EQ(parse_csv(with_rows(10000) + "\n\n,\n").rows.size(), 10000u);
}

TEST(CsvTest, RefusesFieldOverMaxField) {
    const std::string at_limit(1024, 'x');
    EXPECT_EQ(parse_csv("email,note\na@acme.example," + at_limit + "\n").rows.at(0).fields.at(1),
              at_limit);
    EXPECT_EQ(csv_error("email,note\na@acme.example,\n\nb@acme.example," + at_limit + "y\n"),
              "line 4: field 2 is 1025 bytes long; the limit is 1024");
    // The limit applies to the value: quotes and the doubling of quotes do not count.
    const std::string quotes(512, '"');
    EXPECT_EQ(parse_csv("note\n\"" + quotes + quotes + "\"\n").rows.at(0).fields.at(0).size(),
              512u);
    // A quoted field is reported on the line where it starts.
    EXPECT_EQ(csv_error("note\n\"a\nb\"\n\"" + at_limit + "\n\"\n"),
              "line 4: field 1 is 1025 bytes long; the limit is 1024");
    // And for the header too.
    EXPECT_EQ(csv_error(at_limit + "y\n"), "line 1: field 1 is 1025 bytes long; the limit is 1024");
}

TEST(CsvTest, RefusesUnterminatedQuotedField) {
    const std::string d =
        csv_error("email,name\nann@acme.example,Ann\nbob@acme.example,\"Bob\nx\n");
    EXPECT_TRUE(d.starts_with("line 3: field 2 starts a quoted value that is never closed")) << d;
    EXPECT_TRUE(csv_error("\"email").starts_with("line 1: field 1 starts a quoted value"));
}

TEST(CsvTest, RefusesQuoteInsideUnquotedField) {
    const std::string d = csv_error("email,name\nann@acme.example,Ann\nbob@acme.example,Bo\"b\n");
    EXPECT_TRUE(d.starts_with("line 3: field 2 has a quote but does not start with one")) << d;
    EXPECT_TRUE(
        csv_error("email\nann@acme.example\"\n").starts_with("line 2: field 1 has a quote"));
}

TEST(CsvTest, RefusesCharactersAfterClosingQuote) {
    const std::string d = csv_error("email,name\nann@acme.example,\"Ann\"x\n");
    EXPECT_TRUE(d.starts_with("line 2: field 2 has characters after its closing quote")) << d;
    // Reported on the line where they are, after a quoted line break.
    const std::string multi = csv_error("email,note\nann@acme.example,\"a\nb\" c\n");
    EXPECT_TRUE(multi.starts_with("line 3: field 2 has characters after its closing quote"))
        << multi;
}

TEST(CsvTest, RefusesInvalidUtf8) {
    const std::vector<std::string> bad = {
        "\xFF",              // never valid
        "\xC3",              // truncated at the end
        "\xC3(",             // truncated before another character
        "\xC0\xAF",          // overlong '/'
        "\xE0\x80\xAF",      // overlong '/'
        "\xED\xA0\x80",      // a UTF-16 surrogate
        "\xF4\x90\x80\x80",  // above U+10FFFF
        "\x80",              // a lone continuation byte
    };
    for (const std::string& b : bad) {
        const std::string d =
            csv_error("email,name\nann@acme.example,Ann\n\nbob@acme.example," + b);
        EXPECT_TRUE(d.starts_with("line 4: the text is not valid UTF-8")) << d;
    }
    // A byte-order mark is only skipped at the very start.
    EXPECT_EQ(parse_csv("email\n\xEF\xBB\xBF"
                        "a@acme.example\n")
                  .rows.at(0)
                  .fields.at(0),
              "\xEF\xBB\xBF"
              "a@acme.example");
    EXPECT_TRUE(csv_error("\xEF\xBB"
                          "email\n")
                    .starts_with("line 1: the text is not valid UTF-8"));
}

TEST(CsvTest, RefusesEmptyFileAndFileWithoutHeader) {
    for (const std::string_view text : {"", "\n", "\r\n\r\n", "  \n\t\n", ",,\n", "\xEF\xBB\xBF"}) {
        const std::string d = csv_error(text);
        EXPECT_EQ(d, "line 1: the CSV file is empty; its first line must be a header row")
            << "input: " << text;
    }
}

}  // namespace
}  // namespace scimd::core
