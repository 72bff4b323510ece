#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "scimd/core/records.hpp"
#include "scimd/protocol/patch.hpp"
#include "scimd/protocol/resource.hpp"
#include "scimd/protocol/schema.hpp"

namespace scimd::protocol {

/// Most member ids one request may name: Okta pushes a group's whole membership in one PUT
/// or PATCH, and one PATCH may add 10,000 members.
inline constexpr std::size_t kMaxMembersPerRequest = 100000;

/// The member ids of a `members` value as IdPs send it: an array of `{"value": id, …}`
/// objects (`display`, `$ref`, `type` ignored: the server knows what an id is), of bare id
/// strings, or one such element alone. Throws Error::invalid_value naming `where` and the
/// element.
std::vector<std::string> parse_member_ids(const boost::json::value& value, std::string_view where);

/// A Group from a POST or PUT body: the canonical document without members, and the member
/// ids (nullopt when the body has no `members`).
struct GroupInput {
    boost::json::object document;
    std::optional<std::vector<std::string>> members;
};
GroupInput parse_group_input(const boost::json::value& body,
                             const SchemaRegistry& registry,
                             const ResourceTypeDef& type);

/// A PatchOp on a Group, split in two: the operations on the group's own attributes (for
/// apply_patch on its document) and one membership change, the sum of the member operations
/// in their order, which the store applies without reading the other members. Member forms
/// `add`/`replace` `members` with a list, `remove` `members` with a list
/// (only those members; R-42) or without (all), `remove members[value eq "id"]` (several ids
/// joined by `or` too), and path-less values holding `members`. Throws invalidPath /
/// invalidFilter / invalidValue naming the operation.
struct GroupPatch {
    std::vector<PatchOperation> attribute_ops;
    core::MembershipChange members;
};
GroupPatch split_group_patch(const std::vector<PatchOperation>& ops,
                             const SchemaRegistry& registry,
                             const ResourceTypeDef& type);

/// True when the representation asked for by `projection` contains the top-level attribute
/// `name` of the core schema (so that e.g. members are read only when they are returned).
bool projection_includes(const Projection& projection, std::string_view name);

}  // namespace scimd::protocol
