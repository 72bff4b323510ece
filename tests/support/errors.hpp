#pragma once

#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "scimd/error.hpp"

namespace scimd::test {

/// Runs `f`, which must throw scimd::Error, and returns that error (a failure otherwise).
template <class F>
Error error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e;
    }
    ADD_FAILURE() << "no scimd::Error thrown";
    return Error(0, ScimType::kNone, "");
}

/// A JSON object from its text.
inline boost::json::object obj(std::string_view text) {
    return boost::json::parse(text).as_object();
}

}  // namespace scimd::test
