#include "scimd/core/filter.hpp"

namespace scimd::core {

std::string AttrRef::display() const {
    std::string out;
    if (extension) {
        out = schema + ":";
    }
    out += name;
    if (!sub.empty()) {
        out += "." + sub;
    }
    return out;
}

}  // namespace scimd::core
