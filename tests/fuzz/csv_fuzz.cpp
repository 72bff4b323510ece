// libFuzzer target for the CSV parser of bulk invitations (RFC 4180 with the leniencies of
// core/csv.hpp): the bytes are an untrusted uploaded file. A scimd::Error is the expected
// answer to bad input; any other exception, a crash, a sanitizer report or a broken
// invariant of the result is a bug.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "scimd/core/csv.hpp"
#include "scimd/error.hpp"

namespace {

using scimd::core::CsvLimits;
using scimd::core::CsvTable;

// What parse_csv promises about a table it returns.
void check(const CsvTable& table, const CsvLimits& limits) {
    if (table.header.empty() || table.rows.size() > limits.max_rows) {
        __builtin_trap();
    }
    for (const std::string& name : table.header) {
        if (name.size() > limits.max_field) {
            __builtin_trap();
        }
        for (const char c : name) {
            if (c >= 'A' && c <= 'Z') {
                __builtin_trap();  // the header is lower-cased
            }
        }
    }
    std::size_t previous = 1;  // the header starts on line 1 or later
    for (const scimd::core::CsvRow& row : table.rows) {
        if (row.line < 2 || row.line <= previous || row.fields.empty()) {
            __builtin_trap();  // data rows follow the header, each on a later line
        }
        previous = row.line;
        for (const std::string& field : row.fields) {
            if (field.size() > limits.max_field) {
                __builtin_trap();
            }
        }
    }
}

void parse(std::string_view text, const CsvLimits& limits) {
    try {
        check(scimd::core::parse_csv(text, limits), limits);
    } catch (const scimd::Error&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    parse(text, CsvLimits{});
    // Tight limits, so that inputs of the fuzzer's sizes reach every limit too.
    parse(text, CsvLimits{.max_bytes = 2048, .max_rows = 4, .max_field = 8});
    return 0;
}
