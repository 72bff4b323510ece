#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "scimd/core/filter.hpp"

namespace scimd::protocol {

inline constexpr std::string_view kUserSchema = "urn:ietf:params:scim:schemas:core:2.0:User";
inline constexpr std::string_view kEnterpriseUserSchema =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
inline constexpr std::string_view kListResponseSchema =
    "urn:ietf:params:scim:api:messages:2.0:ListResponse";
inline constexpr std::string_view kPatchOpSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
inline constexpr std::string_view kSearchRequestSchema =
    "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
inline constexpr std::string_view kErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error";

/// RFC 7643 §7 attribute characteristics.
enum class Mutability { kReadOnly, kReadWrite, kImmutable, kWriteOnly };
enum class Returned { kAlways, kNever, kDefault, kRequest };
enum class Uniqueness { kNone, kServer, kGlobal };

struct AttributeDef {
    std::string name;  ///< canonical casing
    core::AttrType type = core::AttrType::kString;
    bool multi_valued = false;
    bool required = false;
    bool case_exact = false;
    Mutability mutability = Mutability::kReadWrite;
    Returned returned = Returned::kDefault;
    Uniqueness uniqueness = Uniqueness::kNone;
    std::vector<std::string> canonical_values;
    std::vector<std::string> reference_types;
    std::vector<AttributeDef> sub_attributes;

    /// Sub-attribute by name, case-insensitively (RFC 7643 §2.1); nullptr if none.
    const AttributeDef* sub(std::string_view name) const;
};

struct SchemaDef {
    std::string id;  ///< the URN
    std::string name;
    std::vector<AttributeDef> attributes;
    boost::json::object json;  ///< as served by /Schemas (with meta added)

    /// Attribute by name, case-insensitively; nullptr if none.
    const AttributeDef* attribute(std::string_view name) const;
};

struct SchemaExtensionRef {
    std::string schema;
    bool required = false;
};

struct ResourceTypeDef {
    std::string id;        ///< "User"
    std::string name;      ///< "User"
    std::string endpoint;  ///< "/Users"
    std::string schema;    ///< core schema URN
    std::vector<SchemaExtensionRef> extensions;
    boost::json::object json;  ///< as served by /ResourceTypes (with meta added)
};

/// An attribute path resolved against a resource type.
struct ResolvedAttr {
    const SchemaDef* schema = nullptr;   ///< the defining schema (core or extension)
    bool extension = false;              ///< lives under the schema URN key of the document
    const AttributeDef* attr = nullptr;  ///< the top-level attribute
    const AttributeDef* sub = nullptr;   ///< the sub-attribute, or nullptr

    /// The filter/sort form of this path.
    core::AttrRef ref() const;
};

/// The schemas, resource types and service provider configuration scimd serves. Built from
/// the JSON documents of `schemas/*.json` (compiled into the binary; see builtin()).
class SchemaRegistry {
public:
    /// Classifies each document: one with "attributes" is a schema, one with "endpoint" a
    /// resource type, one whose `schemas` names ServiceProviderConfig is that. Throws
    /// std::runtime_error on a malformed document (a build-time mistake, not client input).
    explicit SchemaRegistry(const std::vector<std::string_view>& documents);

    /// The registry built from the schemas/*.json files compiled into the binary.
    static const SchemaRegistry& builtin();

    /// By URN, case-insensitively; nullptr if unknown.
    const SchemaDef* schema(std::string_view urn) const;
    /// By id ("User"), case-insensitively; nullptr if unknown.
    const ResourceTypeDef* resource_type(std::string_view id) const;

    const std::vector<SchemaDef>& schemas() const { return schemas_; }
    const std::vector<ResourceTypeDef>& resource_types() const { return resource_types_; }
    const boost::json::object& service_provider_config() const { return spc_; }
    /// `filter.maxResults` of the service provider configuration.
    std::int64_t max_results() const { return max_results_; }

    /// The common attributes of every resource (RFC 7643 §3.1): id, externalId, meta.
    const SchemaDef& common() const { return common_; }

    /// Resolves an attribute path of `type`: "userName", "name.givenName", "emails.value",
    /// "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName",
    /// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    /// "id", "externalId", "meta.lastModified". Names are case-insensitive. nullopt when the
    /// path names no attribute of the resource type.
    std::optional<ResolvedAttr> resolve(const ResourceTypeDef& type, std::string_view path) const;

    /// Resolves `sub` as a sub-attribute of an already resolved complex attribute.
    std::optional<ResolvedAttr> resolve_sub(const ResolvedAttr& parent, std::string_view sub) const;

private:
    std::vector<SchemaDef> schemas_;
    std::vector<ResourceTypeDef> resource_types_;
    boost::json::object spc_;
    std::int64_t max_results_ = 200;
    SchemaDef common_;
};

/// Case-insensitive ASCII equality (attribute names and URNs, RFC 7643 §2.1).
bool iequals(std::string_view a, std::string_view b) noexcept;

/// ASCII lower-case copy.
std::string to_lower(std::string_view s);

/// The member of `o` named `name` case-insensitively (attribute names are case-insensitive,
/// RFC 7643 §2.1: every lookup in a client document goes through these, never through
/// object::find); nullptr if none.
const boost::json::value* find_ci(const boost::json::object& o, std::string_view name);
boost::json::value* find_ci(boost::json::object& o, std::string_view name);

}  // namespace scimd::protocol
