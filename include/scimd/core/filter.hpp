#pragma once

#include <optional>
#include <string>
#include <vector>

namespace scimd::core {

/// SCIM attribute data types (RFC 7643 §2.3).
enum class AttrType {
    kString,
    kBoolean,
    kDecimal,
    kInteger,
    kDateTime,
    kBinary,
    kReference,
    kComplex
};

/// An attribute path resolved against a resource type's schemas, with canonical names.
/// `emails[type eq "work"].value` and `emails.value` both resolve to name "emails", sub "value".
/// Inside a value-path filter the inner comparisons carry the outer attribute in `name` and
/// the compared sub-attribute in `sub` (`emails[type eq "work"]` → name "emails", sub "type").
struct AttrRef {
    std::string schema;      ///< URN of the schema that defines the attribute
    bool extension = false;  ///< stored under the schema URN key of the document
    std::string name;        ///< canonical top-level name: "userName", "emails", "meta", "id"
    std::string sub;         ///< canonical sub-attribute name, empty when none
    AttrType type = AttrType::kString;  ///< type of the addressed value (the sub's, if any)
    bool multi_valued = false;          ///< whether the top-level attribute is multi-valued
    bool case_exact = false;            ///< strings compare exactly, else case-insensitively

    /// "emails.value", "urn:…:User:employeeNumber" — for error details and logs.
    std::string display() const;
};

/// Comparison operators of RFC 7644 §3.4.2.2.
enum class CompareOp { kEq, kNe, kCo, kSw, kEw, kPr, kGt, kGe, kLt, kLe };

/// A literal from a filter (compValue).
struct Literal {
    enum class Kind { kString, kNumber, kBoolean, kNull };
    Kind kind = Kind::kNull;
    std::string string;    ///< kString: the unescaped value; kNumber: the literal as written
    double number = 0;     ///< kNumber
    bool boolean = false;  ///< kBoolean
};

/// A filter expression tree (RFC 7644 §3.4.2.2).
struct Filter {
    enum class Kind { kCompare, kAnd, kOr, kNot, kValuePath };
    Kind kind = Kind::kCompare;
    AttrRef attr;                   ///< kCompare: the compared attribute; kValuePath: the
                                    ///< multi-valued attribute the brackets apply to
    CompareOp op = CompareOp::kEq;  ///< kCompare
    Literal value;                  ///< kCompare (unused for kPr)
    std::vector<Filter>
        children;  ///< kAnd/kOr: two; kNot: one; kValuePath: one (over sub-attributes)
};

/// `sortBy` / `sortOrder` of RFC 7644 §3.4.2.3.
struct SortSpec {
    AttrRef attr;
    bool descending = false;
};

}  // namespace scimd::core
