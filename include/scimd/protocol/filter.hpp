#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "scimd/core/filter.hpp"
#include "scimd/protocol/schema.hpp"

namespace scimd::protocol {

/// Limits on untrusted filter text.
inline constexpr std::size_t kMaxFilterLength = 4096;
inline constexpr int kMaxFilterDepth = 32;

/// Parses a filter (RFC 7644 §3.4.2.2, the whole grammar) and resolves every attribute path
/// against `type`. Keywords, operators and attribute names are case-insensitive. Throws
/// Error::invalid_filter with a detail naming what is wrong (position, token, attribute).
core::Filter parse_filter(std::string_view text,
                          const SchemaRegistry& registry,
                          const ResourceTypeDef& type);

/// Parses a filter that appears inside brackets of a value path whose multi-valued
/// attribute is `parent` (used by PATCH paths): attribute names are sub-attributes of it.
core::Filter parse_value_filter(std::string_view text,
                                const SchemaRegistry& registry,
                                const ResolvedAttr& parent);

/// A PATCH operation path (RFC 7644 §3.5.2): attrPath / valuePath [ "." subAttr ].
struct PatchPath {
    ResolvedAttr attr;  ///< the top-level attribute (attr.sub set for "name.givenName")
    std::optional<core::Filter> filter;              ///< the value-path filter in brackets, if any
    const AttributeDef* sub_after_filter = nullptr;  ///< "emails[...].value" → value
};

/// Parses and resolves a PATCH path. Throws Error::invalid_path naming what is wrong.
PatchPath parse_patch_path(std::string_view text,
                           const SchemaRegistry& registry,
                           const ResourceTypeDef& type);

/// Evaluates a filter against a resource document in memory (used for PATCH value-path
/// filters and tests, never for listing a tenant). Attribute names in `resource` are the
/// canonical ones; extension attributes sit under their URN key; common attributes (id,
/// meta) at the top level.
bool matches(const core::Filter& filter, const boost::json::object& resource);

/// Evaluates a value-path filter (inner comparisons use `attr.sub`) against one element of
/// a multi-valued attribute.
bool matches_element(const core::Filter& filter, const boost::json::value& element);

}  // namespace scimd::protocol
