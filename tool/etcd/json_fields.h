// Reading etcd's JSON gateway answers: 64-bit integers come as strings, and fields whose value is
// zero (or empty, or false) are left out altogether.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace buildlock::etcd {

// The integer `name` of `object` ("123" or 123), 0 when absent or not a number.
std::int64_t integer_field(const nlohmann::json& object, const char* name);

// The string `name` of `object`, "" when absent or not a string.
std::string string_field(const nlohmann::json& object, const char* name);

} // namespace buildlock::etcd
