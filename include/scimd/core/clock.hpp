#pragma once

#include <chrono>
#include <string>

namespace scimd::core {

/// Time source; injected so that tests are deterministic.
class Clock {
public:
    virtual ~Clock() = default;
    virtual std::chrono::system_clock::time_point now() const = 0;
};

class SystemClock final : public Clock {
public:
    std::chrono::system_clock::time_point now() const override {
        return std::chrono::system_clock::now();
    }
};

/// RFC 3339 UTC with milliseconds, fixed width ("2026-11-28T02:03:24.123Z"), so that the
/// stored text sorts in time order.
std::string format_time(std::chrono::system_clock::time_point t);

/// Parses what format_time writes, and any RFC 3339 date-time with an offset; nullopt if bad.
bool parse_time(const std::string& text, std::chrono::system_clock::time_point& out);

}  // namespace scimd::core
