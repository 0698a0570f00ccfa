// SPDX-License-Identifier: MIT
// JSON through nlohmann-json: status files, `status --json`, the web API and state.json.
// Writing never fails on a label or file name that is not UTF-8; reading treats the text
// as hostile (it may come from a disk).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ubc {

// Objects keep their keys in the order written: stable output for readers and golden tests.
using Json = nlohmann::ordered_json;

// One line, no trailing newline. Invalid UTF-8 in strings becomes U+FFFD.
std::string dump_json(const Json& value);
// The same, indented by two spaces, for files people read (state.json).
std::string dump_json_pretty(const Json& value);

// nullopt when the text is not one JSON object, is longer than max_bytes, or nests deeper
// than max_depth (objects and arrays, the outer object being depth 1).
std::optional<Json> parse_json_object(std::string_view text, std::size_t max_bytes = 1 << 20,
                                      int max_depth = 16);

// Typed members of an object; nullopt when missing or of another type.
std::optional<std::string> json_string(const Json& object, const std::string& key);
std::optional<std::int64_t> json_int(const Json& object, const std::string& key);
// A count: a non-negative integer up to 2^64-1; negative numbers read as 0.
std::optional<std::uint64_t> json_count(const Json& object, const std::string& key);
std::optional<double> json_number(const Json& object, const std::string& key);
std::optional<bool> json_bool(const Json& object, const std::string& key);

}  // namespace ubc
