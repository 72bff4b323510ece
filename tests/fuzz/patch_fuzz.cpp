// libFuzzer target for what a PATCH or a resource body goes through (RFC 7644 §3.5.2, R-35–R-46):
// the PatchOp parser, the PATCH engine on a User, the split of a Group PATCH into attribute
// operations and a membership delta, Group bodies, and the role values of a User. The bytes
// are an untrusted request body. A scimd::Error is the expected answer to bad input; any
// other exception, a crash or a sanitizer report is a bug.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include "scimd/error.hpp"
#include "scimd/protocol/group.hpp"
#include "scimd/protocol/patch.hpp"
#include "scimd/protocol/resource.hpp"
#include "scimd/protocol/roles.hpp"
#include "scimd/protocol/schema.hpp"

namespace {

namespace json = boost::json;
using scimd::protocol::SchemaRegistry;

const json::object& sample_user() {
    static const json::object user = json::parse(R"({
        "schemas":["urn:ietf:params:scim:schemas:core:2.0:User",
                   "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "userName":"bjensen@example.com","active":true,"title":"Tour Guide",
        "name":{"familyName":"O'Malley","givenName":"Barbara"},
        "emails":[{"value":"bjensen@example.com","type":"work","primary":true},
                  {"value":"babs@jensen.org","type":"home"}],
        "addresses":[{"type":"work","locality":"Hollywood"}],
        "roles":[{"value":"org:user"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{
            "employeeNumber":"701984","manager":{"value":"26118915-6090-4610-87e4-49d8ca9f808d"}}
    })")
                                         .as_object();
    return user;
}

template <typename F>
void expecting_errors(F&& f) {
    try {
        f();
    } catch (const scimd::Error&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const SchemaRegistry& registry = SchemaRegistry::builtin();
    const auto* user = registry.resource_type("User");
    const auto* group = registry.resource_type("Group");
    if (user == nullptr || group == nullptr) {
        __builtin_trap();  // the built-in schemas must define both
    }
    boost::system::error_code ec;
    const json::value body =
        json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec);
    if (ec) {
        return 0;
    }
    expecting_errors([&] {
        const auto ops = scimd::protocol::parse_patch_request(body);
        expecting_errors([&] {
            json::object doc = sample_user();
            scimd::protocol::apply_patch(doc, ops, registry, *user);
            expecting_errors([&] { (void)scimd::protocol::role_assignments(doc); });
        });
        expecting_errors([&] { (void)scimd::protocol::split_group_patch(ops, registry, *group); });
    });
    expecting_errors([&] {
        const json::object doc = scimd::protocol::normalize_resource(body, registry, *user);
        (void)scimd::protocol::role_assignments(doc);
    });
    expecting_errors([&] { (void)scimd::protocol::parse_group_input(body, registry, *group); });
    return 0;
}
