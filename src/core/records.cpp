#include "scimd/core/records.hpp"

#include <algorithm>

#include "scimd/core/clock.hpp"

namespace scimd::core {

std::string invitation_expiry(std::chrono::system_clock::time_point now, int days) {
    return format_time(now + std::chrono::hours(24) * std::max(1, days));
}

}  // namespace scimd::core
