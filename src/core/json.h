// SPDX-License-Identifier: MIT
// The little JSON this project writes and reads back: flat objects of strings, integers
// and booleans (status files, the disk's state.json, `status --json`).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ubc {

std::string json_escape(std::string_view text);  // without the surrounding quotes

// Builds one object: {"a": 1, "b": "x"}. Keys are written in the order added.
class JsonObject {
 public:
  JsonObject& add(std::string_view key, std::string_view value);
  JsonObject& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
  JsonObject& add(std::string_view key, std::int64_t value);
  JsonObject& add(std::string_view key, std::uint64_t value);
  JsonObject& add(std::string_view key, int value) { return add(key, static_cast<std::int64_t>(value)); }
  JsonObject& add(std::string_view key, double value);
  JsonObject& add(std::string_view key, bool value);
  JsonObject& add_null(std::string_view key);
  // value must already be JSON (a nested object or array).
  JsonObject& add_raw(std::string_view key, std::string_view json);
  std::string str() const { return "{" + body_ + "}"; }

 private:
  void key(std::string_view k);
  std::string body_;
};

std::string json_array(const std::vector<std::string>& raw_elements);

using JsonValue = std::variant<std::nullptr_t, bool, std::int64_t, double, std::string>;

// Parses a flat object (values: string, number, bool, null; nested values are skipped).
// nullopt if it is not such an object.
std::optional<std::map<std::string, JsonValue>> parse_flat_json_object(std::string_view text);

std::optional<std::string> json_string(const std::map<std::string, JsonValue>& obj, const std::string& key);
std::optional<std::int64_t> json_int(const std::map<std::string, JsonValue>& obj, const std::string& key);
std::optional<bool> json_bool(const std::map<std::string, JsonValue>& obj, const std::string& key);

}  // namespace ubc
