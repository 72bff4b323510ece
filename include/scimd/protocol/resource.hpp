#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "scimd/core/records.hpp"
#include "scimd/protocol/schema.hpp"

namespace scimd::protocol {

/// Most values one multi-valued attribute may hold (emails, phoneNumbers, roles, …): larger
/// inputs are refused with 400 invalidValue rather than processed.
inline constexpr std::size_t kMaxMultiValues = 100;

/// Turns a client-sent resource (POST/PUT body) into the canonical document scimd stores:
/// - attribute names in canonical casing; extension attributes under their URN key; keys in
///   the core schema's URN form ("urn:…:User:userName") folded in;
/// - readOnly attributes dropped (id, meta, groups, …: R-26), `password` dropped (writeOnly,
///   never stored or returned), nulls and unknown schema URNs / unknown attributes dropped
///   "" on an optional attribute = absent;
/// - types checked (400 invalidValue naming the attribute), string booleans coerced,
///   a single object accepted where an array is expected, at most one `primary: true`
///   per multi-valued attribute (400 invalidValue otherwise), manager as string/object/array
///   stored as an object, canonicalValues not enforced;
/// - `schemas` rebuilt: the core URN plus each extension URN with data present.
/// Required attributes are checked (400 invalidValue naming the attribute).
/// Throws Error::invalid_syntax when the body is not a JSON object.
boost::json::object normalize_resource(const boost::json::value& input,
                                       const SchemaRegistry& registry,
                                       const ResourceTypeDef& type);

/// Normalizes one attribute value as `normalize_resource` would (PATCH uses it). `where` names
/// the attribute in error details ("emails", "urn:…:User:manager"). Returns null when the value
/// amounts to "no value" (null, "", [], a manager without value). A multi-valued attribute
/// always comes back as an array.
boost::json::value normalize_value(const boost::json::value& input,
                                   const AttributeDef& attr,
                                   const std::string& where);

/// Rebuilds `schemas` of a canonical document (the core URN, then each extension URN whose
/// object holds data) and drops empty extension objects. (Added for apply_patch.)
void rebuild_schemas(boost::json::object& doc,
                     const SchemaRegistry& registry,
                     const ResourceTypeDef& type);

/// Checks that a new document keeps every `immutable` attribute of `old` (400 mutability
/// naming the attribute) and that required attributes are present (400 invalidValue).
/// An immutable value of `old_doc` that is missing from `new_doc` counts as a change; an
/// immutable attribute `old_doc` lacks may be set. Checked: top-level attributes and the
/// sub-attributes of single-valued complex ones.
void check_replacement(const boost::json::object& old_doc,
                       const boost::json::object& new_doc,
                       const SchemaRegistry& registry,
                       const ResourceTypeDef& type);

/// `attributes` / `excludedAttributes` of RFC 7644 §3.4.2.5, resolved.
/// An entry with `attr == nullptr` names a whole extension schema (its URN was listed).
struct Projection {
    std::vector<ResolvedAttr> attributes;  ///< empty: the default set
    std::vector<ResolvedAttr> excluded_attributes;
};

/// Parses the comma-separated lists; unknown names are ignored (RFC 7644 lets a service
/// provider ignore them). Throws Error::invalid_value when both lists are given.
Projection parse_projection(std::string_view attributes,
                            std::string_view excluded,
                            const SchemaRegistry& registry,
                            const ResourceTypeDef& type);

/// Builds the resource to return: the canonical document plus `id` and `meta`, filtered by
/// `returned` (never: dropped; request: only when asked; always: kept) and the projection.
/// `schemas` and `id` are always returned.
boost::json::object render_resource(const boost::json::object& doc,
                                    const std::string& id,
                                    const boost::json::object& meta,
                                    const SchemaRegistry& registry,
                                    const ResourceTypeDef& type,
                                    const Projection& projection);

/// The default representation (no attributes / excludedAttributes asked for) as JSON text,
/// straight from the stored document: `schemas`, `id`, the document's attributes, `meta`.
/// Equal, as JSON, to serializing render_resource() with an empty projection, but without
/// building a second tree: the parse uses one arena and each member is serialized as it is;
/// without `adjust`, a document in the shape the store writes (`schemas` first) is not parsed
/// at all but spliced as text. `adjust` may change the parsed document first (e.g. add
/// `$ref`s). nullopt when the
/// resource type has attributes that the default representation leaves out (returned
/// "never" or "request" other than `password`, which is never stored): use render_resource.
std::optional<std::string> render_default_text(
    std::string_view document,
    const std::string& id,
    const boost::json::object& meta,
    const SchemaRegistry& registry,
    const ResourceTypeDef& type,
    const std::function<void(boost::json::object&)>& adjust);

/// Coerces "true"/"True"/"FALSE"… to a boolean; other strings → nullopt.
std::optional<bool> coerce_bool(const boost::json::value& v);

/// Prepares a canonical User document for storage and fills the record's indexed columns
/// from it: an account is active unless the document says otherwise, and `"active": true`
/// is written into a document that has no `active`, so that what is served, what is
/// filtered and the column agree. Every element of `emails` is indexed, with or without a
/// value.
void prepare_user_record(boost::json::object& doc, core::UserRecord& rec);

}  // namespace scimd::protocol
