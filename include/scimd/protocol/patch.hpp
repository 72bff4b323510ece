#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "scimd/protocol/schema.hpp"

namespace scimd::protocol {

inline constexpr std::size_t kMaxPatchOperations = 1000;

/// One operation of a PatchOp request.
struct PatchOperation {
    enum class Op { kAdd, kRemove, kReplace };
    Op op = Op::kAdd;
    std::optional<std::string> path;  ///< raw path text; nullopt when absent
    std::optional<boost::json::value> value;
};

/// Parses a PatchOp body (RFC 7644 §3.5.2) leniently as real IdPs send it:
/// `op` and the `Operations` key case-insensitively, a missing `schemas` tolerated. Throws
/// Error::invalid_syntax / invalid_value naming the operation index and field.
std::vector<PatchOperation> parse_patch_request(const boost::json::value& body);

/// Applies all operations to the canonical document `doc` of a resource of `type`, in order.
/// `doc` is modified only if every operation succeeds (all or nothing, R-49): on error the
/// function throws (invalidPath, noTarget, invalidValue, mutability) and `doc` is unchanged.
/// Values are normalized like resource input (see resource.hpp): canonical names, string
/// booleans, dotted and URN keys in path-less values, manager shapes.
void apply_patch(boost::json::object& doc,
                 const std::vector<PatchOperation>& ops,
                 const SchemaRegistry& registry,
                 const ResourceTypeDef& type);

}  // namespace scimd::protocol
