#include "scimd/protocol/patch.hpp"

#include <algorithm>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/string.hpp>

#include "scimd/error.hpp"
#include "scimd/protocol/filter.hpp"
#include "scimd/protocol/resource.hpp"

// RFC 7644 §3.5.2 as real IdPs speak it. The pipeline follows idp-compat.md ("Suggested
// PATCH normalisation pipeline"): path-less values are expanded key by key into path
// operations, paths are resolved case-insensitively with URN prefixes folded, values
// go through normalize_value (string booleans R-41, manager shapes R-45, single objects R-66),
// and everything runs on a copy of the document that replaces the original only when every
// operation succeeded.

namespace scimd::protocol {

namespace json = boost::json;

namespace {

using Op = PatchOperation::Op;

void erase_ci(json::object& o, std::string_view name) {
    for (auto it = o.begin(); it != o.end();) {
        it = iequals(it->key(), name) ? o.erase(it) : std::next(it);
    }
}

// Sets `name` (canonical casing), dropping a differently-cased duplicate first.
void set_ci(json::object& o, std::string_view name, json::value v) {
    for (auto it = o.begin(); it != o.end();) {
        it = (it->key() != name && iequals(it->key(), name)) ? o.erase(it) : std::next(it);
    }
    o[name] = std::move(v);
}

std::string quoted(std::string_view where) { return "attribute \"" + std::string(where) + "\""; }

std::string_view op_name(Op op) {
    switch (op) {
        case Op::kAdd:
            return "add";
        case Op::kRemove:
            return "remove";
        case Op::kReplace:
            return "replace";
    }
    return "";
}

bool is_blank(const json::value& v) {
    return v.is_null() || (v.is_string() && v.get_string().empty());
}

bool is_primary(const json::value& v) {
    const json::object* o = v.if_object();
    if (o == nullptr) {
        return false;
    }
    const json::value* p = find_ci(*o, "primary");
    return p != nullptr && p->is_bool() && p->get_bool();
}

// Equality of two values of `attr` (strings honour caseExact).
bool same_scalar(const json::value& a, const json::value& b, const AttributeDef* attr) {
    if (a.is_string() && b.is_string() && attr != nullptr && !attr->case_exact) {
        return iequals(a.get_string(), b.get_string());
    }
    return a == b;
}

// Every member of `part` is in `whole` with an equal value.
bool contains_all(const json::object& whole, const json::object& part, const AttributeDef& attr) {
    for (const auto& kv : part) {
        const json::value* other = find_ci(whole, kv.key());
        if (other == nullptr || !same_scalar(*other, kv.value(), attr.sub(kv.key()))) {
            return false;
        }
    }
    return true;
}

// Whether the new element `e` denotes the existing element `x` of a multi-valued attribute:
// the same `value` (and `type`, when both carry one), or else all of `e` already in `x`.
bool same_element(const json::value& x, const json::value& e, const AttributeDef& attr) {
    const json::object* xo = x.if_object();
    const json::object* eo = e.if_object();
    if (xo == nullptr || eo == nullptr) {
        return same_scalar(x, e, &attr);
    }
    const AttributeDef* value_sub = attr.sub("value");
    const json::value* ev = find_ci(*eo, "value");
    if (value_sub != nullptr && ev != nullptr) {
        const json::value* xv = find_ci(*xo, "value");
        if (xv == nullptr || !same_scalar(*xv, *ev, value_sub)) {
            return false;
        }
        const json::value* et = find_ci(*eo, "type");
        const json::value* xt = find_ci(*xo, "type");
        return et == nullptr || xt == nullptr || same_scalar(*xt, *et, attr.sub("type"));
    }
    return contains_all(*xo, *eo, attr);
}

// Copies the members of `src` into `dst`; an immutable sub-attribute may not change.
void merge_into(json::object& dst,
                const json::object& src,
                const AttributeDef& attr,
                const std::string& where) {
    for (const auto& kv : src) {
        const AttributeDef* sub = attr.sub(kv.key());
        const std::string_view name =
            sub != nullptr ? std::string_view(sub->name) : std::string_view(kv.key());
        if (sub != nullptr && sub->mutability == Mutability::kImmutable) {
            const json::value* old = find_ci(dst, name);
            if (old != nullptr && !same_scalar(*old, kv.value(), sub)) {
                throw Error::mutability(quoted(where + "." + sub->name) + " is immutable");
            }
        }
        set_ci(dst, name, kv.value());
    }
}

// RFC 7643 §2.4 lets the server clear the old primary when a new one is set: keep the last
// touched element that says primary, set the others to false.
void clear_other_primaries(json::array& arr, const std::vector<std::size_t>& touched) {
    std::optional<std::size_t> keep;
    for (std::size_t i : touched) {
        if (i < arr.size() && is_primary(arr[i])) {
            keep = i;
        }
    }
    if (!keep) {
        return;
    }
    for (std::size_t i = 0; i < arr.size(); ++i) {
        if (i != *keep && is_primary(arr[i])) {
            set_ci(arr[i].get_object(), "primary", false);
        }
    }
}

// Drops null elements and empty objects.
void drop_empty(json::array& arr) {
    for (auto it = arr.begin(); it != arr.end();) {
        const bool empty = it->is_null() || (it->is_object() && it->get_object().empty());
        it = empty ? arr.erase(it) : std::next(it);
    }
}

// The literal of a filter comparison as a JSON value; nullopt for null.
std::optional<json::value> literal_value(const core::Literal& lit) {
    switch (lit.kind) {
        case core::Literal::Kind::kString:
            return json::value(json::string(lit.string));
        case core::Literal::Kind::kBoolean:
            return json::value(lit.boolean);
        case core::Literal::Kind::kNumber: {
            boost::system::error_code ec;
            json::value v = json::parse(lit.string, ec);
            if (!ec && v.is_number()) {
                return v;
            }
            return json::value(lit.number);
        }
        case core::Literal::Kind::kNull:
            break;
    }
    return std::nullopt;
}

// The element an `add` through a filter creates when nothing matches: the `eq`
// comparisons of the filter, e.g. `emails[type eq "work"]` → {"type": "work"}. False when
// the filter says more than equalities joined by `and`.
bool seed_from_filter(const core::Filter& f, const AttributeDef& attr, json::object& seed) {
    switch (f.kind) {
        case core::Filter::Kind::kValuePath:
            return f.children.size() == 1 && seed_from_filter(f.children.front(), attr, seed);
        case core::Filter::Kind::kAnd:
            return std::all_of(f.children.begin(), f.children.end(), [&](const core::Filter& c) {
                return seed_from_filter(c, attr, seed);
            });
        case core::Filter::Kind::kCompare: {
            if (f.op != core::CompareOp::kEq || f.attr.sub.empty()) {
                return false;
            }
            const AttributeDef* sub = attr.sub(f.attr.sub);
            std::optional<json::value> v = literal_value(f.value);
            if (sub == nullptr || !v) {
                return false;
            }
            set_ci(seed, sub->name, std::move(*v));
            return true;
        }
        default:
            return false;
    }
}

std::string display(const ResolvedAttr& r, const AttributeDef* sub) {
    std::string out;
    if (r.extension) {
        out = r.schema->id + ":";
    }
    out += r.attr->name;
    if (sub != nullptr) {
        out += "." + sub->name;
    }
    return out;
}

// One resolved target of an operation.
struct Target {
    ResolvedAttr attr;                     ///< the top-level attribute (attr.sub unused)
    const core::Filter* filter = nullptr;  ///< value filter in brackets, if any
    const AttributeDef* sub = nullptr;     ///< the addressed sub-attribute, if any
    std::string where;                     ///< for error details
};

class Patcher {
public:
    Patcher(json::object& doc, const SchemaRegistry& registry, const ResourceTypeDef& type)
        : doc_(doc), registry_(registry), type_(type) {}

    void apply(const PatchOperation& op) {
        if (op.op != Op::kRemove && !op.value) {
            throw Error::invalid_value("value is required for " + std::string(op_name(op.op)));
        }
        if (!op.path) {
            if (op.op == Op::kRemove) {
                throw Error::no_target("remove requires a path");  // RFC 7644 §3.5.2.2
            }
            apply_pathless(op.op, *op.value);
            return;
        }
        const json::value* value = op.value ? &*op.value : nullptr;
        if (const SchemaDef* ext = extension(*op.path)) {
            apply_extension(op.op, *ext, value);
            return;
        }
        const PatchPath path = parse_patch_path(*op.path, registry_, type_);
        Target t;
        t.attr = path.attr;
        if (path.filter) {
            t.filter = &*path.filter;
            t.sub = path.sub_after_filter;
        } else {
            t.sub = path.attr.sub;
        }
        t.attr.sub = nullptr;
        t.where = display(t.attr, t.sub);
        apply_target(op.op, t, value, true);
    }

    // Tidies the result, checks what must hold after every PATCH, and rebuilds `schemas`.
    void finish(const json::object& original) {
        const SchemaDef* core_schema = registry_.schema(type_.schema);
        if (core_schema != nullptr) {
            tidy(doc_, nullptr, core_schema->attributes);
        }
        for (const SchemaExtensionRef& ref : type_.extensions) {
            const SchemaDef* ext = registry_.schema(ref.schema);
            json::value* data = ext != nullptr ? find_ci(doc_, ext->id) : nullptr;
            if (data != nullptr && data->is_object()) {
                tidy(data->get_object(), ext, ext->attributes);
            }
        }
        check_replacement(original, doc_, registry_, type_);  // immutables, required
        rebuild_schemas(doc_, registry_, type_);
    }

private:
    const SchemaDef* extension(std::string_view urn) const {
        for (const SchemaExtensionRef& ref : type_.extensions) {
            if (iequals(ref.schema, urn)) {
                return registry_.schema(ref.schema);
            }
        }
        return nullptr;
    }

    json::object& holder(const ResolvedAttr& r) {
        if (!r.extension) {
            return doc_;
        }
        json::value* ext = find_ci(doc_, r.schema->id);
        if (ext == nullptr || !ext->is_object()) {
            set_ci(doc_, r.schema->id, json::object());
            ext = find_ci(doc_, r.schema->id);
        }
        return ext->get_object();
    }

    // A path-less add/replace: each key of the object is an operation of its own.
    void apply_pathless(Op op, const json::value& value) {
        const json::object* o = value.if_object();
        if (o == nullptr) {
            throw Error::invalid_value("value must be an object when the operation has no path");
        }
        for (const auto& kv : *o) {
            apply_key(op, kv.key(), kv.value());
        }
    }

    // One key of a path-less value: a plain, dotted ("name.givenName"), URN-qualified or
    // filtered ("emails[type eq \"work\"].value", Entra with aadOptscim062020) name, or an
    // extension object. Keys naming nothing are dropped like unknown attributes on POST.
    void apply_key(Op op, std::string_view key, const json::value& value) {
        if (iequals(key, "schemas")) {
            return;
        }
        if (const SchemaDef* ext = extension(key)) {
            apply_extension(op, *ext, &value);
            return;
        }
        if (iequals(key, type_.schema) && value.is_object()) {
            for (const auto& kv : value.get_object()) {
                apply_key(op, kv.key(), kv.value());  // core attributes nested under the core URN
            }
            return;
        }
        Target t;
        std::optional<PatchPath> path;
        if (key.find('[') != std::string_view::npos) {
            try {
                path = parse_patch_path(key, registry_, type_);
            } catch (const Error&) {
                return;
            }
            t.attr = path->attr;
            if (path->filter) {
                t.filter = &*path->filter;
                t.sub = path->sub_after_filter;
            } else {
                t.sub = path->attr.sub;
            }
        } else {
            std::optional<ResolvedAttr> r = registry_.resolve(type_, key);
            if (!r) {
                return;
            }
            t.attr = *r;
            t.sub = r->sub;
        }
        t.attr.sub = nullptr;
        t.where = display(t.attr, t.sub);
        apply_target(op, t, &value, false);
    }

    // The path (or a path-less key) is an extension URN: the value holds its attributes.
    void apply_extension(Op op, const SchemaDef& ext, const json::value* value) {
        if (op == Op::kRemove) {
            erase_ci(doc_, ext.id);
            return;
        }
        if (value->is_null()) {
            if (op == Op::kReplace) {
                erase_ci(doc_, ext.id);
            }
            return;
        }
        const json::object* o = value->if_object();
        if (o == nullptr) {
            throw Error::invalid_value(quoted(ext.id) + " must be an object");
        }
        for (const auto& kv : *o) {
            apply_key(op, ext.id + ":" + std::string(kv.key()), kv.value());
        }
    }

    void apply_target(Op op, const Target& t, const json::value* value, bool explicit_path) {
        const AttributeDef& attr = *t.attr.attr;
        if (attr.mutability == Mutability::kWriteOnly) {
            return;  // the password is not stored in the resource document
        }
        if (attr.mutability == Mutability::kReadOnly ||
            (t.sub != nullptr && t.sub->mutability == Mutability::kReadOnly)) {
            if (!explicit_path) {
                return;  // id, meta, groups echoed inside a path-less value
            }
            throw Error::mutability(quoted(t.where) + " is readOnly");
        }
        if (t.filter != nullptr) {
            if (attr.type != core::AttrType::kComplex) {
                throw Error::invalid_path(quoted(t.where) + " has no sub-attributes to filter on");
            }
            filtered(op, t, holder(t.attr), value);
        } else if (t.sub != nullptr) {
            sub_attribute(op, t, holder(t.attr), value);
        } else {
            whole(op, t, holder(t.attr), value);
        }
    }

    // "emails", "active", "name", "urn:…:enterprise:2.0:User:manager".
    void whole(Op op, const Target& t, json::object& h, const json::value* value) {
        const AttributeDef& attr = *t.attr.attr;
        if (op == Op::kRemove) {
            if (value != nullptr && !value->is_null() && attr.multi_valued) {
                remove_listed(h, attr, *value);  // only the listed values, never all
            } else if (value != nullptr && !value->is_null() &&
                       attr.type == core::AttrType::kComplex && attr.sub("value") != nullptr) {
                // removing a named reference ({"value": "<id>"}) removes it only if it is
                // the current one.
                const json::value named = normalize_value(*value, attr, t.where);
                const json::value* current = find_ci(h, attr.name);
                const auto id_of = [](const json::value* v) -> const json::value* {
                    const json::object* o = v != nullptr ? v->if_object() : nullptr;
                    return o != nullptr ? find_ci(*o, "value") : nullptr;
                };
                const json::value* want = id_of(&named);
                const json::value* have = id_of(current);
                if (want == nullptr || (have != nullptr && *want == *have)) {
                    erase_ci(h, attr.name);
                }
            } else {
                erase_ci(h, attr.name);
            }
            return;
        }
        json::value nv = normalize_value(*value, attr, t.where);
        if (attr.multi_valued) {
            if (nv.is_null()) {
                if (op == Op::kReplace) {
                    erase_ci(h, attr.name);  // replace with [] empties
                }
                return;
            }
            if (op == Op::kReplace) {
                set_ci(h, attr.name, std::move(nv));
                return;
            }
            json::value* existing = find_ci(h, attr.name);
            if (existing == nullptr || !existing->is_array()) {
                set_ci(h, attr.name, json::array());
                existing = find_ci(h, attr.name);
            }
            json::array& arr = existing->get_array();
            std::vector<std::size_t> touched;
            for (const json::value& element : nv.get_array()) {
                touched.push_back(upsert(arr, element, attr, t.where));  // idempotent
            }
            clear_other_primaries(arr, touched);
            return;
        }
        json::value* existing = find_ci(h, attr.name);
        if (attr.type == core::AttrType::kComplex && value->is_object() && existing != nullptr &&
            existing->is_object()) {
            // RFC 7644 §3.5.2.3: sub-attributes not in the value are left unchanged. A new
            // manager id, though, replaces the whole reference (its displayName is stale).
            const AttributeDef* value_sub = attr.sub("value");
            const bool new_reference = value_sub != nullptr && nv.is_object() &&
                                       find_ci(nv.get_object(), value_sub->name) != nullptr;
            if (!new_reference) {
                json::object& eo = existing->get_object();
                if (nv.is_object()) {
                    merge_into(eo, nv.get_object(), attr, t.where);
                }
                for (const auto& kv : value->get_object()) {
                    const AttributeDef* sub = attr.sub(kv.key());
                    if (sub != nullptr && is_blank(kv.value())) {
                        erase_ci(eo, sub->name);  // "" / null clear a sub-attribute
                    }
                }
                return;
            }
        }
        if (nv.is_null()) {
            if (op == Op::kAdd && value->is_null()) {
                return;  // nothing to add
            }
            if (attr.required) {
                return;  // "" on userName keeps the stored value
            }
            erase_ci(h, attr.name);
            return;
        }
        set_ci(h, attr.name, std::move(nv));
    }

    // Adds `element` to `arr` unless it is already there (then merged); returns its index.
    static std::size_t upsert(json::array& arr,
                              const json::value& element,
                              const AttributeDef& attr,
                              const std::string& where) {
        for (std::size_t i = 0; i < arr.size(); ++i) {
            if (same_element(arr[i], element, attr)) {
                if (arr[i].is_object() && element.is_object()) {
                    merge_into(arr[i].get_object(), element.get_object(), attr, where);
                }
                return i;
            }
        }
        arr.push_back(element);
        return arr.size() - 1;
    }

    // Whether `element` is one of `listed` (a remove value): complex elements compare by
    // `value`, anything else by equality.
    static bool listed(const json::value& element,
                       const json::array& items,
                       const AttributeDef& attr) {
        const AttributeDef* value_sub = attr.sub("value");
        const json::object* eo = element.if_object();
        const json::value* ev = eo != nullptr ? find_ci(*eo, "value") : nullptr;
        for (const json::value& item : items) {
            const json::value* key = &item;
            if (const json::object* io = item.if_object()) {
                key = find_ci(*io, "value");
                if (key == nullptr) {
                    if (eo != nullptr && contains_all(*eo, *io, attr)) {
                        return true;
                    }
                    continue;
                }
            }
            if (ev != nullptr) {
                if (same_scalar(*ev, *key, value_sub)) {
                    return true;
                }
            } else if (same_scalar(element, *key, &attr)) {
                return true;
            }
        }
        return false;
    }

    static void remove_listed(json::object& h, const AttributeDef& attr, const json::value& value) {
        json::value* existing = find_ci(h, attr.name);
        if (existing == nullptr || !existing->is_array()) {
            return;
        }
        json::array items;
        if (value.is_array()) {
            items = value.get_array();
        } else {
            items.push_back(value);
        }
        json::array& arr = existing->get_array();
        for (auto it = arr.begin(); it != arr.end();) {
            it = listed(*it, items, attr) ? arr.erase(it) : std::next(it);
        }
        if (arr.empty()) {
            erase_ci(h, attr.name);
        }
    }

    // "name.givenName", "urn:…:manager.value", "emails.type" (no filter).
    void sub_attribute(Op op, const Target& t, json::object& h, const json::value* value) {
        const AttributeDef& attr = *t.attr.attr;
        const AttributeDef& sub = *t.sub;
        json::value* existing = find_ci(h, attr.name);
        if (!attr.multi_valued) {
            json::object* eo = existing != nullptr ? existing->if_object() : nullptr;
            json::value nv;
            if (op != Op::kRemove) {
                nv = normalize_value(*value, sub, t.where);
                if (nv.is_null() && op == Op::kAdd && value->is_null()) {
                    return;
                }
            }
            if (nv.is_null()) {
                if (eo != nullptr) {
                    erase_ci(*eo, sub.name);
                }
                return;
            }
            if (eo == nullptr) {
                set_ci(h, attr.name, json::object());
                eo = &find_ci(h, attr.name)->get_object();
            }
            merge_into(*eo, json::object{{sub.name, std::move(nv)}}, attr,
                       display(t.attr, nullptr));
            return;
        }
        // A multi-valued attribute without a filter: every element.
        json::array* arr = existing != nullptr ? existing->if_array() : nullptr;
        json::value nv;
        if (op != Op::kRemove) {
            nv = normalize_value(*value, sub, t.where);
            if (arr == nullptr || arr->empty()) {
                if (!nv.is_null()) {
                    set_ci(h, attr.name, json::array{json::object{{sub.name, std::move(nv)}}});
                }
                return;
            }
        }
        if (arr == nullptr) {
            return;
        }
        for (json::value& element : *arr) {
            if (json::object* eo = element.if_object()) {
                if (nv.is_null()) {
                    erase_ci(*eo, sub.name);
                } else {
                    merge_into(*eo, json::object{{sub.name, nv}}, attr, display(t.attr, nullptr));
                }
            }
        }
    }

    // The one element a filtered add/replace writes: `value` normalized as an element.
    static json::value element_value(const json::value& value,
                                     const AttributeDef& attr,
                                     const std::string& where) {
        json::value nv = normalize_value(value, attr, where);
        if (nv.is_array()) {
            if (nv.get_array().size() != 1) {
                throw Error::invalid_value(quoted(where) + " must be a single value here");
            }
            return nv.get_array().front();
        }
        return nv;
    }

    // "emails[type eq \"work\"]", "emails[type eq \"work\"].value", "members[value eq \"…\"]",
    // and R-43's "manager[value eq \"…\"]" on a single-valued complex attribute.
    void filtered(Op op, const Target& t, json::object& h, const json::value* value) {
        const AttributeDef& attr = *t.attr.attr;
        const std::string base = display(t.attr, nullptr);
        json::array elems;
        if (json::value* existing = find_ci(h, attr.name)) {
            if (existing->is_array()) {
                elems = existing->get_array();
            } else if (existing->is_object()) {
                elems.push_back(*existing);
            }
        }
        std::vector<std::size_t> matched;
        for (std::size_t i = 0; i < elems.size(); ++i) {
            if (matches_element(*t.filter, elems[i])) {
                matched.push_back(i);
            }
        }
        std::vector<std::size_t> touched;
        if (op == Op::kRemove) {
            if (matched.empty()) {
                return;  // already gone: removing is idempotent
            }
            for (auto i = matched.rbegin(); i != matched.rend(); ++i) {
                if (t.sub == nullptr) {
                    elems.erase(elems.begin() + static_cast<std::ptrdiff_t>(*i));
                } else if (json::object* eo = elems[*i].if_object()) {
                    erase_ci(*eo, t.sub->name);
                }
            }
        } else {
            json::value nv = t.sub != nullptr ? normalize_value(*value, *t.sub, t.where)
                                              : element_value(*value, attr, base);
            if (matched.empty()) {
                if (nv.is_null()) {
                    return;
                }
                // add or replace through a filter that matches nothing creates the element
                // when the filter says what it is: Entra replaces
                // emails[type eq "work"].value on users who have no work email yet, and a
                // 400 there would fail that user on every cycle. A filter that cannot be
                // turned into an element stays noTarget (RFC 7644 §3.5.2.3).
                json::object seed;
                if (!seed_from_filter(*t.filter, attr, seed)) {
                    throw Error::no_target("no value of " + quoted(base) +
                                           " matches the filter of the path");
                }
                if (t.sub != nullptr) {
                    set_ci(seed, t.sub->name, std::move(nv));
                } else if (nv.is_object()) {
                    merge_into(seed, nv.get_object(), attr, base);
                }
                json::value element = element_value(seed, attr, base);
                if (element.is_null()) {
                    return;
                }
                if (!attr.multi_valued) {
                    elems.clear();  // a single-valued reference is replaced
                }
                elems.push_back(std::move(element));
                touched.push_back(elems.size() - 1);
            } else {
                for (std::size_t i : matched) {
                    json::object* eo = elems[i].if_object();
                    if (eo == nullptr) {
                        continue;
                    }
                    if (t.sub != nullptr) {
                        if (nv.is_null()) {
                            erase_ci(*eo, t.sub->name);
                        } else {
                            merge_into(*eo, json::object{{t.sub->name, nv}}, attr, base);
                        }
                    } else if (nv.is_object()) {
                        merge_into(*eo, nv.get_object(), attr, base);
                    }
                    touched.push_back(i);
                }
            }
        }
        clear_other_primaries(elems, touched);
        drop_empty(elems);
        if (elems.empty()) {
            erase_ci(h, attr.name);
        } else if (attr.multi_valued) {
            set_ci(h, attr.name, std::move(elems));
        } else {
            set_ci(h, attr.name, std::move(elems.front()));
        }
    }

    // Drops what became empty, and checks that at most one element is primary.
    static void tidy(json::object& holder,
                     const SchemaDef* ext,
                     const std::vector<AttributeDef>& attributes) {
        for (const AttributeDef& attr : attributes) {
            json::value* v = find_ci(holder, attr.name);
            if (v == nullptr) {
                continue;
            }
            const std::string where = ext != nullptr ? ext->id + ":" + attr.name : attr.name;
            bool empty = v->is_null();
            if (json::array* arr = v->if_array()) {
                drop_empty(*arr);
                empty = arr->empty();
                const auto primaries = std::count_if(arr->begin(), arr->end(), is_primary);
                if (primaries > 1) {
                    throw Error::invalid_value(quoted(where) +
                                               " must not have more than one primary value");
                }
            } else if (json::object* o = v->if_object()) {
                // A manager without its id is no manager.
                const AttributeDef* value_sub = attr.sub("value");
                empty = o->empty() || (!attr.multi_valued && value_sub != nullptr &&
                                       find_ci(*o, value_sub->name) == nullptr);
            }
            if (empty) {
                erase_ci(holder, attr.name);
            }
        }
    }

    json::object& doc_;
    const SchemaRegistry& registry_;
    const ResourceTypeDef& type_;
};

}  // namespace

std::vector<PatchOperation> parse_patch_request(const json::value& body) {
    const json::object* o = body.if_object();
    if (o == nullptr) {
        throw Error::invalid_syntax("the PatchOp body must be a JSON object");
    }
    // `Operations` case-insensitively, `schemas` not required.
    const json::value* ops = find_ci(*o, "Operations");
    if (ops == nullptr || !ops->is_array()) {
        throw Error::invalid_syntax("the PatchOp body must have an \"Operations\" array");
    }
    const json::array& list = ops->get_array();
    if (list.size() > kMaxPatchOperations) {
        throw Error::invalid_value("a PatchOp may hold at most " +
                                   std::to_string(kMaxPatchOperations) + " operations");
    }
    std::vector<PatchOperation> out;
    out.reserve(list.size());
    for (std::size_t i = 0; i < list.size(); ++i) {
        const std::string where = "Operations[" + std::to_string(i) + "]";
        const json::object* item = list[i].if_object();
        if (item == nullptr) {
            throw Error::invalid_syntax(where + " must be an object");
        }
        PatchOperation op;
        const json::value* name = find_ci(*item, "op");
        if (name == nullptr || !name->is_string()) {
            throw Error::invalid_syntax(where + ".op must be a string");
        }
        // Entra sends "Add"/"Replace"/"Remove".
        if (iequals(name->get_string(), "add")) {
            op.op = Op::kAdd;
        } else if (iequals(name->get_string(), "remove")) {
            op.op = Op::kRemove;
        } else if (iequals(name->get_string(), "replace")) {
            op.op = Op::kReplace;
        } else {
            throw Error::invalid_value(where + ".op must be \"add\", \"remove\" or \"replace\"");
        }
        if (const json::value* path = find_ci(*item, "path"); path != nullptr && !path->is_null()) {
            if (!path->is_string()) {
                throw Error::invalid_syntax(where + ".path must be a string");
            }
            if (!path->get_string().empty()) {
                op.path = std::string(path->get_string());
            }
        }
        if (const json::value* value = find_ci(*item, "value")) {
            op.value = *value;
        }
        if (op.op != Op::kRemove && !op.value) {
            throw Error::invalid_value(where + ".value is required for " +
                                       std::string(op_name(op.op)));
        }
        out.push_back(std::move(op));
    }
    return out;
}

void apply_patch(json::object& doc,
                 const std::vector<PatchOperation>& ops,
                 const SchemaRegistry& registry,
                 const ResourceTypeDef& type) {
    json::object work = doc;  // all or nothing: `doc` changes only at the very end
    Patcher patcher(work, registry, type);
    for (std::size_t i = 0; i < ops.size(); ++i) {
        try {
            patcher.apply(ops[i]);
        } catch (const Error& e) {
            // Name the offending operation.
            throw Error(e.status(), e.scim_type(),
                        "Operations[" + std::to_string(i) + "]: " + e.detail());
        }
    }
    patcher.finish(doc);
    doc = std::move(work);
}

}  // namespace scimd::protocol
