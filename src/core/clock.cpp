#include "scimd/core/clock.hpp"

#include <cstdio>
#include <ctime>

namespace scimd::core {

std::string format_time(std::chrono::system_clock::time_point t) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
    const std::time_t secs = static_cast<std::time_t>(ms.count() / 1000);
    const int millis = static_cast<int>(ms.count() % 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
    return buf;
}

bool parse_time(const std::string& text, std::chrono::system_clock::time_point& out) {
    int year = 0, mon = 0, day = 0, hour = 0, min = 0, sec = 0;
    int consumed = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &mon, &day, &hour, &min, &sec,
                    &consumed) != 6 ||
        consumed != 19) {
        return false;
    }
    std::size_t pos = 19;
    long millis = 0;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        int digits = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            if (digits < 3) {
                millis = millis * 10 + (text[pos] - '0');
            }
            ++digits;
            ++pos;
        }
        if (digits == 0) {
            return false;
        }
        for (; digits < 3; ++digits) {
            millis *= 10;
        }
    }
    long offset = 0;
    if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
        ++pos;
    } else if (pos + 6 == text.size() && (text[pos] == '+' || text[pos] == '-') &&
               text[pos + 3] == ':') {
        int oh = 0, om = 0;
        if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d", &oh, &om) != 2) {
            return false;
        }
        offset = (oh * 3600L + om * 60L) * (text[pos] == '+' ? 1 : -1);
        pos += 6;
    } else {
        return false;
    }
    // system_clock counts nanoseconds in 64 bits: years outside about 1678-2261 overflow it.
    if (pos != text.size() || year < 1700 || year > 2250 || mon < 1 || mon > 12 || day < 1 ||
        day > 31 || hour > 23 || min > 59 || sec > 60) {
        return false;
    }
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    const std::time_t secs = timegm(&tm);
    out = std::chrono::system_clock::time_point{std::chrono::seconds{secs - offset} +
                                                std::chrono::milliseconds{millis}};
    return true;
}

}  // namespace scimd::core
