// libFuzzer target for the filter and PATCH path parsers (RFC 7644 §3.4.2.2, §3.5.2): the
// bytes are untrusted query and body text. A scimd::Error is the expected answer to bad input;
// any other exception, a crash or a sanitizer report is a bug.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include "scimd/error.hpp"
#include "scimd/protocol/filter.hpp"
#include "scimd/protocol/schema.hpp"

namespace {

namespace json = boost::json;
using scimd::protocol::SchemaRegistry;

// A user with every kind of value the evaluator looks at, so that parsed filters also run.
const json::object& sample_user() {
    static const json::object user = json::parse(R"({
        "schemas":["urn:ietf:params:scim:schemas:core:2.0:User",
                   "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "id":"2819c223-7f76-453a-919d-413861904646","externalId":"701984",
        "userName":"bjensen@example.com","active":true,"title":"Tour Guide","userType":"Employee",
        "name":{"familyName":"O'Malley","givenName":"Barbara"},
        "emails":[{"value":"bjensen@example.com","type":"work","primary":true},
                  {"value":"babs@jensen.org","type":"home"},null],
        "ims":[{"value":"someaimhandle","type":"aim"}],"addresses":[],
        "meta":{"created":"2010-01-23T04:56:22Z","lastModified":"2011-05-13T04:42:34Z"},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{
            "employeeNumber":"701984","manager":{"value":"26118915-6090-4610-87e4-49d8ca9f808d"}}
    })")
                                         .as_object();
    return user;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const SchemaRegistry& registry = SchemaRegistry::builtin();
    const scimd::protocol::ResourceTypeDef* user = registry.resource_type("User");
    if (user == nullptr) {
        __builtin_trap();  // the built-in schemas must define User
    }
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    try {
        const scimd::core::Filter filter = scimd::protocol::parse_filter(text, registry, *user);
        (void)scimd::protocol::matches(filter, sample_user());
    } catch (const scimd::Error&) {
    }

    try {
        const scimd::protocol::PatchPath path =
            scimd::protocol::parse_patch_path(text, registry, *user);
        if (path.filter) {
            const json::object& doc = sample_user();
            for (const char* key : {"emails", "ims", "addresses"}) {
                for (const json::value& element : doc.at(key).as_array()) {
                    (void)scimd::protocol::matches_element(*path.filter, element);
                }
            }
        }
    } catch (const scimd::Error&) {
    }
    return 0;
}
