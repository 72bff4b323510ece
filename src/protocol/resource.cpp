#include "scimd/protocol/resource.hpp"

#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "scimd/core/clock.hpp"
#include "scimd/error.hpp"

namespace scimd::protocol {

namespace json = boost::json;

namespace {

std::string quoted_name(const std::string& where) { return "attribute \"" + where + "\""; }

// Sets `name` (canonical casing), dropping a differently-cased duplicate first.
void set_ci(json::object& o, std::string_view name, json::value v) {
    for (auto it = o.begin(); it != o.end();) {
        if (it->key() != name && iequals(it->key(), name)) {
            it = o.erase(it);
        } else {
            ++it;
        }
    }
    o[name] = std::move(v);
}

std::string quoted(std::string_view where) { return "attribute \"" + std::string(where) + "\""; }

[[noreturn]] void type_error(std::string_view where, std::string_view what) {
    throw Error::invalid_value(quoted(where) + " must be " + std::string(what));
}

// A string, reference or binary value; "" is "no value".
json::value norm_string(const json::value& in, std::string_view where) {
    if (!in.is_string()) {
        type_error(where, "a string");
    }
    if (in.get_string().empty()) {
        return nullptr;
    }
    return in;
}

json::value norm_scalar(const json::value& in, const AttributeDef& attr, std::string_view where) {
    using core::AttrType;
    switch (attr.type) {
        case AttrType::kString:
        case AttrType::kReference:
        case AttrType::kBinary:
            return norm_string(in, where);
        case AttrType::kBoolean: {
            // Entra sends "True"/"False".
            if (std::optional<bool> b = coerce_bool(in)) {
                return *b;
            }
            type_error(where, "a boolean");
        }
        case AttrType::kInteger: {
            if (in.is_int64() || in.is_uint64()) {
                return in;
            }
            if (in.is_double()) {
                const double d = in.get_double();
                if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.0e18) {
                    return static_cast<std::int64_t>(d);
                }
            }
            type_error(where, "an integer");
        }
        case AttrType::kDecimal:
            if (in.is_number()) {
                return in;
            }
            type_error(where, "a number");
        case AttrType::kDateTime: {
            if (!in.is_string()) {
                type_error(where, "a dateTime string");
            }
            if (in.get_string().empty()) {
                return nullptr;
            }
            std::chrono::system_clock::time_point parsed;
            if (!core::parse_time(std::string(in.get_string()), parsed)) {
                type_error(where, "a dateTime (RFC 3339, e.g. \"2024-01-31T12:00:00Z\")");
            }
            return in;
        }
        case AttrType::kComplex:
            break;
    }
    type_error(where, "an object");
}

// Entra's app-role assignments carry the element as JSON text in `value`:
// {"value": "{\"id\":\"…\",\"value\":\"Admin\",\"displayName\":\"Admin\"}"}.
json::value decode_role_element(const json::value& in) {
    const json::value* text = &in;
    const json::object* outer = in.if_object();
    if (outer != nullptr) {
        text = find_ci(*outer, "value");
    }
    if (text == nullptr || !text->is_string() || text->get_string().empty() ||
        text->get_string().front() != '{') {
        return in;
    }
    boost::system::error_code ec;
    json::value inner = json::parse(text->get_string(), ec);
    if (ec || !inner.is_object()) {
        return in;
    }
    json::object out;
    if (outer != nullptr) {
        for (const auto& kv : *outer) {
            if (!iequals(kv.key(), "value")) {
                out[kv.key()] = kv.value();
            }
        }
    }
    for (const auto& kv : inner.get_object()) {
        if (iequals(kv.key(), "displayName")) {
            if (find_ci(out, "display") == nullptr) {
                out["display"] = kv.value();
            }
        } else {
            set_ci(out, kv.key(), kv.value());
        }
    }
    return out;
}

json::value norm_multi(const json::value& in, const AttributeDef& attr, const std::string& where);

// One value of `attr`: the attribute's value when single-valued, one element when
// `element` is set.
json::value norm_one(const json::value& in,
                     const AttributeDef& attr,
                     const std::string& where,
                     bool element) {
    if (in.is_null()) {
        return nullptr;
    }
    if (attr.type != core::AttrType::kComplex) {
        return norm_scalar(in, attr, where);
    }
    const AttributeDef* value_sub = attr.sub("value");
    if (in.is_array() && !element) {
        // Older Microsoft docs send the manager as an array of one object.
        const json::array& arr = in.get_array();
        if (arr.empty()) {
            return nullptr;
        }
        if (arr.size() > 1) {
            type_error(where, "a single value, not an array");
        }
        return norm_one(arr.front(), attr, where, element);
    }
    if (in.is_string() && value_sub != nullptr) {
        // A bare id where a {value} object is expected: Entra's manager, member ids.
        return norm_one(json::object{{value_sub->name, in}}, attr, where, element);
    }
    if (!in.is_object()) {
        type_error(where, "an object");
    }
    json::object out;
    for (const auto& kv : in.get_object()) {
        // $ref is computed on output from value; unknown sub-attributes are dropped.
        const AttributeDef* sub = attr.sub(kv.key());
        if (sub == nullptr || sub->name == "$ref" || kv.value().is_null()) {
            continue;
        }
        const std::string sub_where = where + "." + sub->name;
        json::value v = sub->multi_valued ? norm_multi(kv.value(), *sub, sub_where)
                                          : norm_one(kv.value(), *sub, sub_where, false);
        if (!v.is_null()) {
            set_ci(out, sub->name, std::move(v));
        }
    }
    if (out.empty()) {
        return nullptr;
    }
    // A single-valued reference (the manager) without its id is no value.
    if (!element && value_sub != nullptr && find_ci(out, value_sub->name) == nullptr) {
        return nullptr;
    }
    return out;
}

json::value norm_multi(const json::value& in, const AttributeDef& attr, const std::string& where) {
    if (in.is_null()) {
        return nullptr;
    }
    json::array single;
    const json::array* items = in.if_array();
    if (items == nullptr) {
        single.push_back(in);  // one object where an array is expected
        items = &single;
    }
    if (items->size() > kMaxMultiValues) {
        throw Error::invalid_value(quoted_name(where) + " has " + std::to_string(items->size()) +
                                   " values; at most " + std::to_string(kMaxMultiValues) +
                                   " are accepted");
    }
    json::array out;
    int primaries = 0;
    for (std::size_t i = 0; i < items->size(); ++i) {
        const std::string item_where = where + "[" + std::to_string(i) + "]";
        json::value item = (*items)[i];
        if (attr.type == core::AttrType::kComplex && iequals(attr.name, "roles")) {
            item = decode_role_element(item);
        }
        json::value v = norm_one(item, attr, item_where, true);
        if (v.is_null()) {
            continue;
        }
        if (const json::object* o = v.if_object()) {
            const json::value* primary = find_ci(*o, "primary");
            if (primary != nullptr && primary->is_bool() && primary->get_bool()) {
                ++primaries;
            }
        }
        out.push_back(std::move(v));
    }
    if (primaries > 1) {
        throw Error::invalid_value(quoted(where) + " must not have more than one primary value");
    }
    if (out.empty()) {
        return nullptr;
    }
    return out;
}

std::string display_name(const ResolvedAttr& r) {
    std::string out;
    if (r.extension) {
        out = r.schema->id + ":";
    }
    out += r.attr->name;
    if (r.sub != nullptr) {
        out += "." + r.sub->name;
    }
    return out;
}

const SchemaDef* extension_by_urn(const SchemaRegistry& registry,
                                  const ResourceTypeDef& type,
                                  std::string_view urn) {
    for (const SchemaExtensionRef& ext : type.extensions) {
        if (iequals(ext.schema, urn)) {
            return registry.schema(ext.schema);
        }
    }
    return nullptr;
}

// The object holding `r`'s attribute: the document itself, or its extension object.
json::object& container_for(json::object& doc, const ResolvedAttr& r) {
    if (!r.extension) {
        return doc;
    }
    json::value* ext = find_ci(doc, r.schema->id);
    if (ext == nullptr || !ext->is_object()) {
        set_ci(doc, r.schema->id, json::object{});
        ext = find_ci(doc, r.schema->id);
    }
    return ext->get_object();
}

const json::value* lookup(const json::object& doc, const SchemaDef* ext, const AttributeDef& attr) {
    if (ext == nullptr) {
        return find_ci(doc, attr.name);
    }
    const json::value* obj = find_ci(doc, ext->id);
    if (obj == nullptr || !obj->is_object()) {
        return nullptr;
    }
    return find_ci(obj->get_object(), attr.name);
}

// Places one client-sent attribute (`r` resolved from its key) into the canonical document.
void place(json::object& out, const ResolvedAttr& r, const json::value& in) {
    const AttributeDef& attr = *r.attr;
    // id, meta, groups are server-owned and echoed back by Okta/Entra; the password is
    // never stored.
    if (attr.mutability == Mutability::kReadOnly || attr.mutability == Mutability::kWriteOnly ||
        in.is_null()) {
        return;
    }
    const std::string where = display_name(r);
    if (r.sub != nullptr) {
        // "name.givenName" as a key: only meaningful for a single-valued complex attribute.
        if (attr.multi_valued) {
            return;
        }
        json::value v = norm_one(in, *r.sub, where, false);
        if (v.is_null()) {
            return;
        }
        json::object& holder = container_for(out, r);
        json::value* existing = find_ci(holder, attr.name);
        if (existing == nullptr || !existing->is_object()) {
            set_ci(holder, attr.name, json::object{});
            existing = find_ci(holder, attr.name);
        }
        set_ci(existing->get_object(), r.sub->name, std::move(v));
        return;
    }
    json::value v = normalize_value(in, attr, where);
    if (v.is_null()) {
        return;
    }
    json::object& holder = container_for(out, r);
    json::value* existing = find_ci(holder, attr.name);
    if (existing != nullptr && existing->is_object() && v.is_object() && !attr.multi_valued) {
        for (auto& kv : v.get_object()) {
            set_ci(existing->get_object(), kv.key(), kv.value());
        }
        return;
    }
    set_ci(holder, attr.name, std::move(v));
}

void check_required(const json::object& doc,
                    const SchemaRegistry& registry,
                    const ResourceTypeDef& type) {
    const SchemaDef* core_schema = registry.schema(type.schema);
    if (core_schema == nullptr) {
        throw std::logic_error("resource type " + type.id + " has no schema");
    }
    for (const AttributeDef& attr : core_schema->attributes) {
        if (attr.required && attr.mutability != Mutability::kReadOnly &&
            lookup(doc, nullptr, attr) == nullptr) {
            throw Error::invalid_value(attr.name + " is required");
        }
    }
    for (const SchemaExtensionRef& ref : type.extensions) {
        const SchemaDef* ext = registry.schema(ref.schema);
        if (ext == nullptr || (!ref.required && find_ci(doc, ext->id) == nullptr)) {
            continue;
        }
        for (const AttributeDef& attr : ext->attributes) {
            if (attr.required && attr.mutability != Mutability::kReadOnly &&
                lookup(doc, ext, attr) == nullptr) {
                throw Error::invalid_value(ext->id + ":" + attr.name + " is required");
            }
        }
    }
}

bool values_equal(const json::value& a, const json::value& b, const AttributeDef& attr);

bool objects_equal(const json::object& a, const json::object& b, const AttributeDef& attr) {
    if (a.size() != b.size()) {
        return false;
    }
    for (const auto& kv : a) {
        const json::value* other = find_ci(b, kv.key());
        if (other == nullptr) {
            return false;
        }
        const AttributeDef* sub = attr.sub(kv.key());
        if (sub != nullptr ? !values_equal(kv.value(), *other, *sub) : kv.value() != *other) {
            return false;
        }
    }
    return true;
}

bool values_equal(const json::value& a, const json::value& b, const AttributeDef& attr) {
    if (a.is_string() && b.is_string()) {
        return attr.case_exact ? a.get_string() == b.get_string()
                               : iequals(a.get_string(), b.get_string());
    }
    if (a.is_object() && b.is_object()) {
        return objects_equal(a.get_object(), b.get_object(), attr);
    }
    if (a.is_array() && b.is_array()) {
        const json::array& x = a.get_array();
        const json::array& y = b.get_array();
        if (x.size() != y.size()) {
            return false;
        }
        for (std::size_t i = 0; i < x.size(); ++i) {
            if (!values_equal(x[i], y[i], attr)) {
                return false;
            }
        }
        return true;
    }
    return a == b;
}

void check_immutable(const json::value* old_value,
                     const json::value* new_value,
                     const AttributeDef& attr,
                     const std::string& where) {
    if (old_value == nullptr) {
        return;  // an immutable attribute may be set once
    }
    if (new_value == nullptr || !values_equal(*old_value, *new_value, attr)) {
        throw Error::mutability(quoted(where) + " is immutable and cannot be changed");
    }
}

void check_attribute_immutables(const json::object& old_doc,
                                const json::object& new_doc,
                                const SchemaDef* ext,
                                const AttributeDef& attr) {
    const std::string where = ext != nullptr ? ext->id + ":" + attr.name : attr.name;
    const json::value* old_value = lookup(old_doc, ext, attr);
    const json::value* new_value = lookup(new_doc, ext, attr);
    if (attr.mutability == Mutability::kImmutable) {
        check_immutable(old_value, new_value, attr, where);
        return;
    }
    if (attr.type != core::AttrType::kComplex || attr.multi_valued || old_value == nullptr ||
        !old_value->is_object()) {
        return;
    }
    for (const AttributeDef& sub : attr.sub_attributes) {
        if (sub.mutability != Mutability::kImmutable) {
            continue;
        }
        const json::value* new_sub = nullptr;
        if (new_value != nullptr && new_value->is_object()) {
            new_sub = find_ci(new_value->get_object(), sub.name);
        }
        check_immutable(find_ci(old_value->get_object(), sub.name), new_sub, sub,
                        where + "." + sub.name);
    }
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

std::vector<ResolvedAttr> resolve_list(std::string_view list,
                                       const SchemaRegistry& registry,
                                       const ResourceTypeDef& type) {
    std::vector<ResolvedAttr> out;
    while (!list.empty()) {
        const std::size_t comma = list.find(',');
        const std::string_view name = trim(list.substr(0, comma));
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        if (name.empty()) {
            continue;
        }
        if (const SchemaDef* ext = extension_by_urn(registry, type, name)) {
            ResolvedAttr whole;
            whole.schema = ext;
            whole.extension = true;
            out.push_back(whole);
        } else if (std::optional<ResolvedAttr> r = registry.resolve(type, name)) {
            out.push_back(*r);
        }
    }
    return out;
}

// What the projection says about one top-level attribute.
struct Selection {
    bool named = false;                     ///< the attribute itself (or its extension) listed
    std::vector<const AttributeDef*> subs;  ///< sub-attributes listed
};

Selection select(const std::vector<ResolvedAttr>& list,
                 const SchemaDef* ext,
                 const AttributeDef& attr) {
    Selection out;
    for (const ResolvedAttr& r : list) {
        if (r.extension != (ext != nullptr)) {
            continue;
        }
        if (ext != nullptr && (r.schema == nullptr || !iequals(r.schema->id, ext->id))) {
            continue;
        }
        if (r.attr == nullptr) {
            out.named = true;  // the whole extension
        } else if (iequals(r.attr->name, attr.name)) {
            if (r.sub == nullptr) {
                out.named = true;
            } else {
                out.subs.push_back(r.sub);
            }
        }
    }
    return out;
}

bool contains(const std::vector<const AttributeDef*>& list, const AttributeDef& sub) {
    for (const AttributeDef* d : list) {
        if (iequals(d->name, sub.name)) {
            return true;
        }
    }
    return false;
}

// Filters the sub-attributes of one complex value. `only` non-empty: keep just those (and
// `always` ones); otherwise drop `excluded` and `request` sub-attributes.
json::object filter_subs(const json::object& value,
                         const AttributeDef& attr,
                         const std::vector<const AttributeDef*>& only,
                         const std::vector<const AttributeDef*>& excluded) {
    json::object out;
    for (const auto& kv : value) {
        const AttributeDef* sub = attr.sub(kv.key());
        if (sub == nullptr) {
            if (only.empty()) {
                out[kv.key()] = kv.value();
            }
            continue;
        }
        if (sub->returned == Returned::kNever) {
            continue;
        }
        bool keep = false;
        if (!only.empty()) {
            keep = contains(only, *sub) || sub->returned == Returned::kAlways;
        } else {
            keep = sub->returned != Returned::kRequest && !contains(excluded, *sub);
        }
        if (keep) {
            out[kv.key()] = kv.value();
        }
    }
    return out;
}

std::optional<json::value> project_value(const json::value& value,
                                         const AttributeDef& attr,
                                         const std::vector<const AttributeDef*>& only,
                                         const std::vector<const AttributeDef*>& excluded) {
    if (attr.type != core::AttrType::kComplex) {
        return value;
    }
    if (const json::object* o = value.if_object()) {
        json::object filtered = filter_subs(*o, attr, only, excluded);
        if (filtered.empty()) {
            return std::nullopt;
        }
        return json::value(std::move(filtered));
    }
    if (const json::array* arr = value.if_array()) {
        json::array out;
        for (const json::value& item : *arr) {
            if (const json::object* o = item.if_object()) {
                json::object filtered = filter_subs(*o, attr, only, excluded);
                if (!filtered.empty()) {
                    out.push_back(std::move(filtered));
                }
            } else if (only.empty()) {
                out.push_back(item);
            }
        }
        if (out.empty()) {
            return std::nullopt;
        }
        return json::value(std::move(out));
    }
    return value;
}

// The returned form of one top-level attribute, or nullopt when it is left out.
std::optional<json::value> render_attribute(const json::value& value,
                                            const SchemaDef* ext,
                                            const AttributeDef& attr,
                                            const Projection& p) {
    if (attr.returned == Returned::kNever) {
        return std::nullopt;
    }
    static const std::vector<const AttributeDef*> kNone;
    if (attr.returned == Returned::kAlways) {
        return project_value(value, attr, kNone, kNone);
    }
    if (!p.attributes.empty()) {
        const Selection sel = select(p.attributes, ext, attr);
        if (sel.named) {
            return project_value(value, attr, kNone, kNone);
        }
        if (!sel.subs.empty()) {
            return project_value(value, attr, sel.subs, kNone);
        }
        return std::nullopt;
    }
    if (attr.returned == Returned::kRequest) {
        return std::nullopt;
    }
    const Selection excluded = select(p.excluded_attributes, ext, attr);
    if (excluded.named) {
        return std::nullopt;
    }
    return project_value(value, attr, kNone, excluded.subs);
}

}  // namespace

std::optional<bool> coerce_bool(const json::value& v) {
    if (v.is_bool()) {
        return v.get_bool();
    }
    if (v.is_string()) {
        if (iequals(v.get_string(), "true")) {
            return true;
        }
        if (iequals(v.get_string(), "false")) {
            return false;
        }
    }
    return std::nullopt;
}

json::value normalize_value(const json::value& input,
                            const AttributeDef& attr,
                            const std::string& where) {
    return attr.multi_valued ? norm_multi(input, attr, where) : norm_one(input, attr, where, false);
}

void rebuild_schemas(json::object& doc,
                     const SchemaRegistry& registry,
                     const ResourceTypeDef& type) {
    json::array schemas;
    schemas.emplace_back(type.schema);
    for (const SchemaExtensionRef& ref : type.extensions) {
        const SchemaDef* ext = registry.schema(ref.schema);
        const std::string& urn = ext != nullptr ? ext->id : ref.schema;
        const json::value* data = find_ci(doc, urn);
        if (data == nullptr) {
            continue;
        }
        if (data->is_object() && !data->get_object().empty()) {
            schemas.emplace_back(urn);
            continue;
        }
        for (auto it = doc.begin(); it != doc.end();) {
            it = iequals(it->key(), urn) ? doc.erase(it) : std::next(it);
        }
    }
    if (json::value* existing = find_ci(doc, "schemas")) {
        *existing = std::move(schemas);
    } else {
        // Keep `schemas` first, as every RFC example shows it.
        json::object out;
        out["schemas"] = std::move(schemas);
        for (auto& kv : doc) {
            out[kv.key()] = std::move(kv.value());
        }
        doc = std::move(out);
    }
}

json::object normalize_resource(const json::value& input,
                                const SchemaRegistry& registry,
                                const ResourceTypeDef& type) {
    const json::object* in = input.if_object();
    if (in == nullptr) {
        throw Error::invalid_syntax("the resource must be a JSON object");
    }
    json::object out;
    out["schemas"] = json::array();  // rebuilt at the end; a placeholder keeps it first
    for (const auto& kv : *in) {
        const std::string_view key = kv.key();
        if (iequals(key, "schemas")) {
            continue;
        }
        if (iequals(key, type.schema) && kv.value().is_object()) {
            // Core attributes nested under the core URN, as some clients send them.
            for (const auto& inner : kv.value().get_object()) {
                if (std::optional<ResolvedAttr> r = registry.resolve(type, inner.key())) {
                    place(out, *r, inner.value());
                }
            }
            continue;
        }
        if (const SchemaDef* ext = extension_by_urn(registry, type, key)) {
            if (kv.value().is_null()) {
                continue;
            }
            if (!kv.value().is_object()) {
                type_error(ext->id, "an object");
            }
            for (const auto& inner : kv.value().get_object()) {
                const std::string qualified = ext->id + ":" + std::string(inner.key());
                if (std::optional<ResolvedAttr> r = registry.resolve(type, qualified)) {
                    place(out, *r, inner.value());
                }
            }
            continue;
        }
        // Plain, dotted and URN-qualified names; anything else (unknown attributes, objects
        // under unknown schema URNs) is dropped.
        if (std::optional<ResolvedAttr> r = registry.resolve(type, key)) {
            place(out, *r, kv.value());
        }
    }
    check_required(out, registry, type);
    rebuild_schemas(out, registry, type);
    return out;
}

namespace {

void check_size(const json::object& holder, const AttributeDef& attr, const std::string& prefix) {
    if (!attr.multi_valued) {
        return;
    }
    for (const auto& kv : holder) {
        if (iequals(kv.key(), attr.name) && kv.value().is_array() &&
            kv.value().get_array().size() > kMaxMultiValues) {
            throw Error::invalid_value(quoted_name(prefix + attr.name) + " would have " +
                                       std::to_string(kv.value().get_array().size()) +
                                       " values; at most " + std::to_string(kMaxMultiValues) +
                                       " are accepted");
        }
    }
}

// Multi-valued attributes stay within kMaxMultiValues, also when PATCH adds grow them.
void check_sizes(const json::object& doc,
                 const SchemaRegistry& registry,
                 const ResourceTypeDef& type) {
    if (const SchemaDef* core_schema = registry.schema(type.schema)) {
        for (const AttributeDef& attr : core_schema->attributes) {
            check_size(doc, attr, "");
        }
    }
    for (const SchemaExtensionRef& ref : type.extensions) {
        const SchemaDef* ext = registry.schema(ref.schema);
        const json::value* data = ext != nullptr ? doc.if_contains(ext->id) : nullptr;
        if (data != nullptr && data->is_object()) {
            for (const AttributeDef& attr : ext->attributes) {
                check_size(data->get_object(), attr, ext->id + ":");
            }
        }
    }
}

}  // namespace

void check_replacement(const json::object& old_doc,
                       const json::object& new_doc,
                       const SchemaRegistry& registry,
                       const ResourceTypeDef& type) {
    for (const AttributeDef& attr : registry.common().attributes) {
        if (attr.mutability != Mutability::kReadOnly) {
            check_attribute_immutables(old_doc, new_doc, nullptr, attr);
        }
    }
    if (const SchemaDef* core_schema = registry.schema(type.schema)) {
        for (const AttributeDef& attr : core_schema->attributes) {
            check_attribute_immutables(old_doc, new_doc, nullptr, attr);
        }
    }
    for (const SchemaExtensionRef& ref : type.extensions) {
        if (const SchemaDef* ext = registry.schema(ref.schema)) {
            for (const AttributeDef& attr : ext->attributes) {
                check_attribute_immutables(old_doc, new_doc, ext, attr);
            }
        }
    }
    check_required(new_doc, registry, type);
    check_sizes(new_doc, registry, type);
}

Projection parse_projection(std::string_view attributes,
                            std::string_view excluded,
                            const SchemaRegistry& registry,
                            const ResourceTypeDef& type) {
    if (!trim(attributes).empty() && !trim(excluded).empty()) {
        throw Error::invalid_value("attributes and excludedAttributes cannot both be given");
    }
    Projection p;
    p.attributes = resolve_list(attributes, registry, type);
    p.excluded_attributes = resolve_list(excluded, registry, type);
    return p;
}

json::object render_resource(const json::object& doc,
                             const std::string& id,
                             const json::object& meta,
                             const SchemaRegistry& registry,
                             const ResourceTypeDef& type,
                             const Projection& projection) {
    json::object out;
    if (const json::value* schemas = find_ci(doc, "schemas")) {
        out["schemas"] = *schemas;
    } else {
        out["schemas"] = json::array{json::string(type.schema)};
    }
    out["id"] = id;
    const SchemaDef* core_schema = registry.schema(type.schema);
    for (const auto& kv : doc) {
        const std::string_view key = kv.key();
        if (iequals(key, "schemas")) {
            continue;
        }
        if (const SchemaDef* ext = extension_by_urn(registry, type, key)) {
            const json::object* data = kv.value().if_object();
            if (data == nullptr) {
                continue;
            }
            json::object rendered;
            for (const auto& inner : *data) {
                const AttributeDef* attr = ext->attribute(inner.key());
                if (attr == nullptr) {
                    continue;
                }
                if (auto v = render_attribute(inner.value(), ext, *attr, projection)) {
                    rendered[attr->name] = std::move(*v);
                }
            }
            if (!rendered.empty()) {
                out[ext->id] = std::move(rendered);
            }
            continue;
        }
        const AttributeDef* attr = core_schema != nullptr ? core_schema->attribute(key) : nullptr;
        if (attr == nullptr) {
            attr = registry.common().attribute(key);
            // id and meta come from the arguments, never from the stored document.
            if (attr == nullptr || iequals(attr->name, "id") || iequals(attr->name, "meta")) {
                continue;
            }
        }
        if (auto v = render_attribute(kv.value(), nullptr, *attr, projection)) {
            out[attr->name] = std::move(*v);
        }
    }
    if (!meta.empty()) {
        if (const AttributeDef* meta_attr = registry.common().attribute("meta")) {
            if (auto v = render_attribute(meta, nullptr, *meta_attr, projection)) {
                out["meta"] = std::move(*v);
            }
        } else {
            out["meta"] = meta;
        }
    }
    return out;
}

void prepare_user_record(json::object& doc, core::UserRecord& rec) {
    if (!doc.contains("active")) {
        doc["active"] = true;
    }
    rec.user_name.clear();
    rec.external_id.reset();
    rec.display_name.reset();
    rec.emails.clear();
    if (const auto* v = doc.if_contains("userName"); v && v->is_string()) {
        rec.user_name = v->get_string();
    }
    if (const auto* v = doc.if_contains("externalId"); v && v->is_string()) {
        rec.external_id = std::string(v->get_string());
    }
    if (const auto* v = doc.if_contains("displayName"); v && v->is_string()) {
        rec.display_name = std::string(v->get_string());
    }
    const auto* active = doc.if_contains("active");
    rec.active = active == nullptr || !active->is_bool() || active->get_bool();
    if (const auto* v = doc.if_contains("emails"); v && v->is_array()) {
        for (const auto& e : v->get_array()) {
            if (!e.is_object()) {
                continue;
            }
            core::EmailRecord er;
            if (const auto* x = e.get_object().if_contains("value"); x && x->is_string()) {
                er.value = x->get_string();
            }
            if (const auto* x = e.get_object().if_contains("type"); x && x->is_string()) {
                er.type = x->get_string();
            }
            if (const auto* x = e.get_object().if_contains("primary"); x && x->is_bool()) {
                er.primary = x->get_bool();
            }
            rec.emails.push_back(std::move(er));
        }
    }
}

namespace {

// Whether every attribute of `type` that a stored document can hold is in the default
// representation: true unless some attribute or sub-attribute (other than password, which
// is never stored) is returned "never" or "request".
bool default_is_verbatim(const SchemaRegistry& registry, const ResourceTypeDef& type) {
    const auto hidden = [](const AttributeDef& a) {
        return (a.returned == Returned::kNever || a.returned == Returned::kRequest) &&
               !iequals(a.name, "password");
    };
    std::vector<const SchemaDef*> schemas{registry.schema(type.schema)};
    for (const SchemaExtensionRef& ref : type.extensions) {
        schemas.push_back(registry.schema(ref.schema));
    }
    for (const SchemaDef* schema : schemas) {
        if (schema == nullptr) {
            return false;
        }
        for (const AttributeDef& a : schema->attributes) {
            if (hidden(a)) {
                return false;
            }
            for (const AttributeDef& sub : a.sub_attributes) {
                if (hidden(sub)) {
                    return false;
                }
            }
        }
    }
    return true;
}

void append_member(std::string& out, std::string_view key, const json::value& value) {
    out += ',';
    out += json::serialize(json::string_view(key.data(), key.size()));
    out += ':';
    out += json::serialize(value);
}

// The stored document as written by json::serialize from a normalized resource: `schemas`
// first, a list of URNs (no escapes, no brackets), then the other attributes. Returns the
// text after the schemas array (starting with ',' or '}') and the array itself, or nullopt
// when the text has another shape (PostgreSQL's jsonb orders keys its own way).
std::optional<std::pair<std::string_view, std::string_view>> split_schemas(std::string_view doc) {
    constexpr std::string_view kStart = "{\"schemas\":[";
    if (doc.substr(0, kStart.size()) != kStart) {
        return std::nullopt;
    }
    const std::size_t close = doc.find(']', kStart.size());
    if (close == std::string_view::npos || close + 1 >= doc.size()) {
        return std::nullopt;
    }
    const std::string_view array = doc.substr(kStart.size() - 1, close - kStart.size() + 2);
    for (const char c : array) {
        const bool urn = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '[' || c == ']' || c == '"' || c == ',' ||
                         c == ':' || c == '.' || c == '-' || c == '_';
        if (!urn) {
            return std::nullopt;
        }
    }
    const std::string_view rest = doc.substr(close + 1);
    if (rest.front() != ',' && rest.front() != '}') {
        return std::nullopt;
    }
    return std::pair(array, rest);
}

}  // namespace

std::optional<std::string> render_default_text(std::string_view document,
                                               const std::string& id,
                                               const json::object& meta,
                                               const SchemaRegistry& registry,
                                               const ResourceTypeDef& type,
                                               const std::function<void(json::object&)>& adjust) {
    // The answer depends only on the (immutable) registry and type: remember the last one.
    thread_local const ResourceTypeDef* checked_type = nullptr;
    thread_local const SchemaRegistry* checked_registry = nullptr;
    thread_local bool verbatim = false;
    if (checked_type != &type || checked_registry != &registry) {
        verbatim = default_is_verbatim(registry, type);
        checked_type = &type;
        checked_registry = &registry;
    }
    if (!verbatim) {
        return std::nullopt;
    }
    // Nothing to adjust: the stored text is spliced, not parsed. It never holds id, meta or
    // a password (server-owned and write-only attributes are not stored).
    if (!adjust) {
        if (auto parts = split_schemas(document)) {
            const auto [schemas, rest] = *parts;
            std::string out;
            out.reserve(document.size() + 384);
            out += "{\"schemas\":";
            out += schemas;
            append_member(out, "id", json::string(id));
            out += rest.substr(0, rest.size() - 1);  // without the closing brace
            append_member(out, "meta", meta);
            out += '}';
            return out;
        }
    }
    unsigned char buffer[8192];
    json::monotonic_resource arena(buffer, sizeof buffer);
    json::value parsed = json::parse(document, &arena);
    json::object* doc = parsed.if_object();
    if (doc == nullptr) {
        return std::nullopt;
    }
    if (adjust) {
        adjust(*doc);
    }
    std::string out;
    out.reserve(document.size() + 384);
    out += "{\"schemas\":";
    if (const json::value* schemas = doc->if_contains("schemas")) {
        out += json::serialize(*schemas);
    } else {
        out += json::serialize(json::array{json::string(type.schema)});
    }
    append_member(out, "id", json::string(id));
    for (const auto& kv : *doc) {
        if (kv.key() == "schemas" || kv.key() == "id" || kv.key() == "meta" ||
            kv.key() == "password") {
            continue;
        }
        append_member(out, kv.key(), kv.value());
    }
    append_member(out, "meta", meta);
    out += '}';
    return out;
}

}  // namespace scimd::protocol
