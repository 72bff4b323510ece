#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scimd::core {

/// Bounds on an uploaded CSV file; parse_csv refuses input beyond them.
struct CsvLimits {
    std::size_t max_bytes = 1 << 20;  ///< the whole text, a byte-order mark included
    std::size_t max_rows = 10000;     ///< data rows, the header not counted
    std::size_t max_field = 1024;     ///< bytes of one field's value, after unquoting
};

/// One data record.
struct CsvRow {
    std::size_t line;  ///< 1-based physical line where the record starts
    std::vector<std::string> fields;
};

/// A parsed CSV file: the header row and the data rows under it. A row may have fewer or
/// more fields than the header: index `fields` with a bounds check.
struct CsvTable {
    std::vector<std::string> header;  ///< names trimmed and lower-cased (ASCII)
    std::vector<CsvRow> rows;
};

/// Parses CSV text as RFC 4180 describes it, with the leniencies of files that people
/// export from spreadsheets:
/// - a UTF-8 byte-order mark at the start is skipped; the rest must be valid UTF-8;
/// - a record ends at CRLF, LF or a lone CR, or at the end of the text;
/// - a field enclosed in double quotes may hold commas, line breaks and quotes written
///   twice (`"say ""hi"""`); spaces and tabs around the quotes are ignored, and its value
///   is kept as written between them;
/// - an unquoted field has its surrounding spaces and tabs trimmed, and holds no quote;
/// - a record whose fields are all empty (a blank line, or `,,` as spreadsheets write an
///   empty row) is skipped;
/// - the first record that remains is the header.
///
/// Throws scimd::Error (400 invalidValue) naming the line and the reason when the text is
/// over `limits.max_bytes`, has more than `limits.max_rows` data rows, a field over
/// `limits.max_field`, an unterminated quoted field, a quote inside an unquoted field,
/// characters after a closing quote, invalid UTF-8, or no header row at all.
CsvTable parse_csv(std::string_view text, const CsvLimits& limits = {});

/// The index of the header column called `name` (compared case-insensitively, ASCII), or
/// nullopt when the header has none; the first one when it has several.
std::optional<std::size_t> column(const CsvTable& table, std::string_view name);

}  // namespace scimd::core
