#include "scimd/protocol/group.hpp"

#include <unordered_set>

#include "scimd/error.hpp"
#include "scimd/protocol/filter.hpp"

namespace scimd::protocol {
namespace json = boost::json;

namespace {

constexpr std::string_view kGroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group";

// The sum of a request's member operations, in order: what the store applies.
class MemberDelta {
public:
    void add(const std::vector<std::string>& ids) {
        for (const std::string& id : ids) {
            remove_.erase(id);
            add_.insert(id);
        }
        count(ids.size());
    }
    void remove(const std::vector<std::string>& ids) {
        for (const std::string& id : ids) {
            add_.erase(id);
            if (!replace_all_) {
                remove_.insert(id);
            }
        }
        count(ids.size());
    }
    void replace(const std::vector<std::string>& ids) {
        replace_all_ = true;
        add_ = {ids.begin(), ids.end()};
        remove_.clear();
        count(ids.size());
    }
    core::MembershipChange change() const {
        core::MembershipChange c;
        c.replace_all = replace_all_;
        c.add.assign(add_.begin(), add_.end());
        c.remove.assign(remove_.begin(), remove_.end());
        return c;
    }

private:
    void count(std::size_t n) {
        named_ += n;
        if (named_ > kMaxMembersPerRequest) {
            throw Error::too_many("a request may name at most " +
                                  std::to_string(kMaxMembersPerRequest) + " members");
        }
    }
    bool replace_all_ = false;
    std::unordered_set<std::string> add_, remove_;
    std::size_t named_ = 0;
};

bool is_members(const ResolvedAttr& r) {
    return !r.extension && r.attr != nullptr && iequals(r.attr->name, "members");
}

// The ids of `value eq "id"` comparisons joined by `or`: the only member filters a removal
// takes.
void filter_ids(const core::Filter& f, std::vector<std::string>& out, const std::string& where) {
    if (f.kind == core::Filter::Kind::kOr) {
        filter_ids(f.children.at(0), out, where);
        filter_ids(f.children.at(1), out, where);
        return;
    }
    if (f.kind != core::Filter::Kind::kCompare || f.attr.sub != "value" ||
        f.op != core::CompareOp::kEq || f.value.kind != core::Literal::Kind::kString) {
        throw Error::invalid_filter(where + ": a members filter selects members by id: " +
                                    "members[value eq \"id\"] (several joined by \"or\")");
    }
    out.push_back(f.value.string);
}

}  // namespace

std::vector<std::string> parse_member_ids(const json::value& value, std::string_view where) {
    std::vector<std::string> ids;
    const auto one = [&](const json::value& v, std::size_t i) {
        const json::value* id = &v;
        if (const json::object* o = v.if_object()) {
            id = find_ci(*o, "value");
            if (id == nullptr) {
                throw Error::invalid_value(std::string(where) + "[" + std::to_string(i) +
                                           "] has no \"value\" (the member's id)");
            }
        }
        if (!id->is_string() || id->get_string().empty()) {
            throw Error::invalid_value(std::string(where) + "[" + std::to_string(i) +
                                       "]: a member is its id as a non-empty string, or an "
                                       "object whose \"value\" is that id");
        }
        ids.emplace_back(id->get_string());
    };
    if (const json::array* a = value.if_array()) {
        if (a->size() > kMaxMembersPerRequest) {
            throw Error::too_many(std::string(where) + " names more than " +
                                  std::to_string(kMaxMembersPerRequest) + " members");
        }
        ids.reserve(a->size());
        for (std::size_t i = 0; i < a->size(); ++i) {
            one((*a)[i], i);
        }
    } else if (!value.is_null()) {
        one(value, 0);
    }
    return ids;
}

GroupInput parse_group_input(const json::value& body,
                             const SchemaRegistry& registry,
                             const ResourceTypeDef& type) {
    const json::object* in = body.if_object();
    if (in == nullptr) {
        throw Error::invalid_syntax("the request body must be a JSON object");
    }
    GroupInput out;
    json::object rest;
    for (const auto& kv : *in) {
        const bool members = iequals(kv.key(), "members") ||
                             iequals(kv.key(), std::string(kGroupSchema) + ":members");
        if (!members) {
            rest.emplace(kv.key(), kv.value());
        } else if (!kv.value().is_null()) {
            out.members = parse_member_ids(kv.value(), "members");
        }
    }
    out.document = normalize_resource(rest, registry, type);
    return out;
}

GroupPatch split_group_patch(const std::vector<PatchOperation>& ops,
                             const SchemaRegistry& registry,
                             const ResourceTypeDef& type) {
    GroupPatch out;
    MemberDelta delta;
    for (std::size_t i = 0; i < ops.size(); ++i) {
        const PatchOperation& op = ops[i];
        const std::string where = "Operations[" + std::to_string(i) + "]";
        if (op.path) {
            PatchPath path = parse_patch_path(*op.path, registry, type);
            if (!is_members(path.attr)) {
                out.attribute_ops.push_back(op);
                continue;
            }
            if (path.attr.sub != nullptr || path.sub_after_filter != nullptr) {
                throw Error::invalid_path(where +
                                          ": a member's attributes cannot be changed; "
                                          "add or remove the member instead");
            }
            if (path.filter) {
                if (op.op != PatchOperation::Op::kRemove) {
                    throw Error::invalid_path(where +
                                              ": only \"remove\" takes a members filter; "
                                              "add members with path \"members\"");
                }
                std::vector<std::string> ids;
                filter_ids(*path.filter, ids, where);
                delta.remove(ids);
                continue;
            }
            const json::value none;
            const json::value& value = op.value ? *op.value : none;
            switch (op.op) {
                case PatchOperation::Op::kAdd:
                    delta.add(parse_member_ids(value, where + ".value"));
                    break;
                case PatchOperation::Op::kReplace:
                    delta.replace(parse_member_ids(value, where + ".value"));
                    break;
                case PatchOperation::Op::kRemove:
                    // with a list, only those members leave (Entra); without one, all.
                    if (op.value && !op.value->is_null()) {
                        delta.remove(parse_member_ids(value, where + ".value"));
                    } else {
                        delta.replace({});
                    }
                    break;
            }
            continue;
        }
        // Path-less: the value is an object of attributes, which may hold members.
        const json::object* value = op.value ? op.value->if_object() : nullptr;
        if (value == nullptr || op.op == PatchOperation::Op::kRemove) {
            out.attribute_ops.push_back(op);  // apply_patch says what is wrong with it
            continue;
        }
        json::object rest;
        for (const auto& kv : *value) {
            const bool members = iequals(kv.key(), "members") ||
                                 iequals(kv.key(), std::string(kGroupSchema) + ":members");
            if (!members) {
                rest.emplace(kv.key(), kv.value());
                continue;
            }
            std::vector<std::string> ids = parse_member_ids(kv.value(), where + ".value.members");
            if (op.op == PatchOperation::Op::kAdd) {
                delta.add(ids);
            } else {
                delta.replace(ids);
            }
        }
        if (!rest.empty() || value->empty()) {
            PatchOperation attributes = op;
            attributes.value = std::move(rest);
            out.attribute_ops.push_back(std::move(attributes));
        }
    }
    out.members = delta.change();
    return out;
}

bool projection_includes(const Projection& projection, std::string_view name) {
    // Any mention in `attributes` asks for the attribute; only the whole attribute in
    // `excludedAttributes` leaves it out.
    const auto named = [&](const std::vector<ResolvedAttr>& list, bool whole) {
        for (const ResolvedAttr& r : list) {
            if (!r.extension && r.attr != nullptr && iequals(r.attr->name, name) &&
                (!whole || r.sub == nullptr)) {
                return true;
            }
        }
        return false;
    };
    if (!projection.attributes.empty()) {
        return named(projection.attributes, false);
    }
    return !named(projection.excluded_attributes, true);
}

}  // namespace scimd::protocol
