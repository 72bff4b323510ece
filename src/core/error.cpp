#include "scimd/error.hpp"

namespace scimd {

std::string_view to_string(ScimType type) noexcept {
    switch (type) {
        case ScimType::kNone:
            return "";
        case ScimType::kInvalidFilter:
            return "invalidFilter";
        case ScimType::kTooMany:
            return "tooMany";
        case ScimType::kUniqueness:
            return "uniqueness";
        case ScimType::kMutability:
            return "mutability";
        case ScimType::kInvalidSyntax:
            return "invalidSyntax";
        case ScimType::kInvalidPath:
            return "invalidPath";
        case ScimType::kNoTarget:
            return "noTarget";
        case ScimType::kInvalidValue:
            return "invalidValue";
        case ScimType::kInvalidVers:
            return "invalidVers";
        case ScimType::kSensitive:
            return "sensitive";
    }
    return "";
}

}  // namespace scimd
