// SPDX-License-Identifier: MIT
#include "core/json.h"

#include <limits>

namespace ubc {

namespace {

struct TooDeep {};

const Json* member(const Json& object, const std::string& key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

}  // namespace

std::string dump_json(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string dump_json_pretty(const Json& value) {
  return value.dump(2, ' ', false, Json::error_handler_t::replace);
}

std::optional<Json> parse_json_object(std::string_view text, std::size_t max_bytes, int max_depth) {
  if (text.size() > max_bytes) return std::nullopt;
  // The callback sees each value's depth as it is opened; throwing ends the parse before
  // a deep document is built (the outer object is depth 0 to the callback).
  const Json::parser_callback_t limit = [max_depth](int depth, Json::parse_event_t event, Json&) {
    if ((event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start) &&
        depth >= max_depth)
      throw TooDeep{};
    return true;
  };
  try {
    Json value = Json::parse(text.begin(), text.end(), limit, /*allow_exceptions=*/false);
    if (!value.is_object()) return std::nullopt;
    return value;
  } catch (const TooDeep&) {
    return std::nullopt;
  }
}

std::optional<std::string> json_string(const Json& object, const std::string& key) {
  const Json* v = member(object, key);
  if (!v || !v->is_string()) return std::nullopt;
  return v->get<std::string>();
}

std::optional<std::int64_t> json_int(const Json& object, const std::string& key) {
  const Json* v = member(object, key);
  if (!v || !v->is_number_integer()) return std::nullopt;
  if (v->is_number_unsigned() && v->get<std::uint64_t>() > std::numeric_limits<std::int64_t>::max())
    return std::nullopt;
  return v->get<std::int64_t>();
}

std::optional<std::uint64_t> json_count(const Json& object, const std::string& key) {
  const Json* v = member(object, key);
  if (!v || !v->is_number_integer()) return std::nullopt;
  if (v->is_number_unsigned()) return v->get<std::uint64_t>();
  return v->get<std::int64_t>() < 0 ? 0 : static_cast<std::uint64_t>(v->get<std::int64_t>());
}

std::optional<double> json_number(const Json& object, const std::string& key) {
  const Json* v = member(object, key);
  if (!v || !v->is_number()) return std::nullopt;
  return v->get<double>();
}

std::optional<bool> json_bool(const Json& object, const std::string& key) {
  const Json* v = member(object, key);
  if (!v || !v->is_boolean()) return std::nullopt;
  return v->get<bool>();
}

}  // namespace ubc
