#include "scimd/core/csv.hpp"

#include <algorithm>
#include <utility>

#include "scimd/error.hpp"

namespace scimd::core {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

[[noreturn]] void fail(std::size_t line, const std::string& reason) {
    throw Error::invalid_value("line " + std::to_string(line) + ": " + reason);
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_space(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
    return out;
}

// The length of the line break at `pos`: 2 for CRLF, 1 for a lone CR or LF, 0 for none.
std::size_t line_break(std::string_view text, std::size_t pos) {
    if (pos >= text.size()) {
        return 0;
    }
    if (text[pos] == '\n') {
        return 1;
    }
    if (text[pos] == '\r') {
        return pos + 1 < text.size() && text[pos + 1] == '\n' ? 2 : 1;
    }
    return 0;
}

// The length of the well-formed UTF-8 sequence at `pos`, or 0 when there is none there
// (RFC 3629 §4: no overlong forms, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence(std::string_view text, std::size_t pos) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char b0 = byte(pos);
    if (b0 < 0x80) {
        return 1;
    }
    std::size_t n = 0;
    unsigned char lo = 0x80;  // the range of the second byte, which RFC 3629 narrows
    unsigned char hi = 0xBF;  // for E0, ED, F0 and F4
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        n = 2;
    } else if (b0 == 0xE0) {
        n = 3;
        lo = 0xA0;
    } else if (b0 == 0xED) {
        n = 3;
        hi = 0x9F;
    } else if (b0 >= 0xE1 && b0 <= 0xEF) {
        n = 3;
    } else if (b0 == 0xF0) {
        n = 4;
        lo = 0x90;
    } else if (b0 == 0xF4) {
        n = 4;
        hi = 0x8F;
    } else if (b0 >= 0xF1 && b0 <= 0xF3) {
        n = 4;
    } else {
        return 0;
    }
    if (n > text.size() - pos || byte(pos + 1) < lo || byte(pos + 1) > hi) {
        return 0;
    }
    for (std::size_t i = 2; i < n; ++i) {
        if (byte(pos + i) < 0x80 || byte(pos + i) > 0xBF) {
            return 0;
        }
    }
    return n;
}

// Validated before parsing, so that the parser can work on bytes: every byte it looks for
// (quote, comma, CR, LF, space) is ASCII, and never part of a multi-byte sequence.
void check_utf8(std::string_view text) {
    std::size_t line = 1;
    std::size_t pos = 0;
    while (pos < text.size()) {
        if (const std::size_t br = line_break(text, pos); br > 0) {
            ++line;
            pos += br;
            continue;
        }
        const std::size_t n = utf8_sequence(text, pos);
        if (n == 0) {
            fail(line, "the text is not valid UTF-8 (save the file as \"CSV UTF-8\")");
        }
        pos += n;
    }
}

bool all_empty(const std::vector<std::string>& fields) {
    return std::all_of(fields.begin(), fields.end(),
                       [](const std::string& f) { return f.empty(); });
}

// Reads records one at a time, counting physical lines as it goes.
class Parser {
public:
    Parser(std::string_view text, const CsvLimits& limits) : text_(text), limits_(limits) {}

    bool at_end() const { return pos_ >= text_.size(); }
    std::size_t current_line() const { return line_; }

    // The next record; its line break, if any, is consumed.
    std::vector<std::string> record() {
        std::vector<std::string> fields;
        for (;;) {
            fields.push_back(field(fields.size() + 1));
            if (at_end()) {
                break;
            }
            if (text_[pos_] == ',') {
                ++pos_;
                continue;
            }
            // field() stops only at a comma, a line break or the end.
            pos_ += line_break(text_, pos_);
            ++line_;
            break;
        }
        return fields;
    }

private:
    bool at_field_end() const {
        return at_end() || text_[pos_] == ',' || line_break(text_, pos_) > 0;
    }

    void skip_spaces() {
        while (!at_end() && is_space(text_[pos_])) {
            ++pos_;
        }
    }

    std::string field(std::size_t index) {
        const std::size_t start_line = line_;
        const auto which = [index] { return "field " + std::to_string(index); };
        skip_spaces();
        std::string value;
        if (!at_end() && text_[pos_] == '"') {
            ++pos_;
            for (;;) {
                if (at_end()) {
                    fail(start_line, which() +
                                         " starts a quoted value that is never closed (a closing "
                                         "quote is missing)");
                }
                if (text_[pos_] == '"') {
                    if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
                        value += '"';  // "" is an escaped quote
                        pos_ += 2;
                        continue;
                    }
                    ++pos_;
                    break;
                }
                if (const std::size_t br = line_break(text_, pos_); br > 0) {
                    value.append(text_.substr(pos_, br));
                    pos_ += br;
                    ++line_;
                    continue;
                }
                value += text_[pos_];
                ++pos_;
            }
            skip_spaces();
            if (!at_field_end()) {
                fail(line_, which() +
                                " has characters after its closing quote (a quote inside a "
                                "quoted field is written twice: \"\")");
            }
        } else {
            const std::size_t begin = pos_;
            while (!at_field_end()) {
                if (text_[pos_] == '"') {
                    fail(line_, which() +
                                    " has a quote but does not start with one (enclose the "
                                    "field in quotes and write the quote twice: \"\")");
                }
                ++pos_;
            }
            value = std::string(trim(text_.substr(begin, pos_ - begin)));
        }
        if (value.size() > limits_.max_field) {
            fail(start_line, which() + " is " + std::to_string(value.size()) +
                                 " bytes long; the limit is " + std::to_string(limits_.max_field));
        }
        return value;
    }

    std::string_view text_;
    const CsvLimits& limits_;
    std::size_t pos_ = 0;
    std::size_t line_ = 1;
};

}  // namespace

CsvTable parse_csv(std::string_view text, const CsvLimits& limits) {
    if (text.size() > limits.max_bytes) {
        throw Error::invalid_value("the CSV file is " + std::to_string(text.size()) +
                                   " bytes; the limit is " + std::to_string(limits.max_bytes));
    }
    if (text.substr(0, kBom.size()) == kBom) {
        text.remove_prefix(kBom.size());
    }
    check_utf8(text);

    Parser parser(text, limits);
    CsvTable table;
    bool have_header = false;
    while (!parser.at_end()) {
        const std::size_t line = parser.current_line();
        std::vector<std::string> fields = parser.record();
        if (all_empty(fields)) {
            continue;
        }
        if (!have_header) {
            for (std::string& name : fields) {
                name = lower(trim(name));
            }
            table.header = std::move(fields);
            have_header = true;
            continue;
        }
        if (table.rows.size() >= limits.max_rows) {
            fail(line, "the CSV file has more than " + std::to_string(limits.max_rows) + " rows");
        }
        table.rows.push_back(CsvRow{line, std::move(fields)});
    }
    if (!have_header) {
        fail(1, "the CSV file is empty; its first line must be a header row");
    }
    return table;
}

std::optional<std::size_t> column(const CsvTable& table, std::string_view name) {
    const std::string wanted = lower(trim(name));
    for (std::size_t i = 0; i < table.header.size(); ++i) {
        if (table.header[i] == wanted) {
            return i;
        }
    }
    return std::nullopt;
}

}  // namespace scimd::core
