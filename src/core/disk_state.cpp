// SPDX-License-Identifier: MIT
#include "core/disk_state.h"

#include "core/format.h"
#include "core/json.h"

namespace ubc {

namespace {

Json point_json(const RestorePoint& p) {
  return Json{{"name", p.name},   {"started_at", p.started_at}, {"started", format_utc(p.started_at)},
              {"files", p.files}, {"bytes", p.bytes},           {"verified", p.verified}};
}

std::optional<RestorePoint> point_from(const Json& obj) {
  if (!obj.is_object()) return std::nullopt;
  RestorePoint p;
  const auto name = json_string(obj, "name");
  if (!name) return std::nullopt;
  p.name = *name;
  p.started_at = json_int(obj, "started_at").value_or(0);
  p.files = json_count(obj, "files").value_or(0);
  p.bytes = json_count(obj, "bytes").value_or(0);
  p.verified = json_bool(obj, "verified").value_or(false);
  return p;
}

}  // namespace

std::string to_json(const RestorePoint& p) { return dump_json_pretty(point_json(p)) + "\n"; }

std::optional<RestorePoint> restore_point_from_json(const std::string& json) {
  const auto obj = parse_json_object(json, kDiskStateMaxBytes);
  if (!obj) return std::nullopt;
  return point_from(*obj);
}

std::string to_json(const std::vector<RestorePoint>& points) {
  Json list = Json::array();
  for (const auto& p : points) list.push_back(point_json(p));
  return dump_json(list);
}

std::vector<RestorePoint> restore_points_from_json(const std::string& json) {
  std::vector<RestorePoint> points;
  const Json list = Json::parse(json, nullptr, false);
  if (!list.is_array()) return points;
  for (const Json& p : list)
    if (auto point = point_from(p)) points.push_back(std::move(*point));
  return points;
}

std::string to_json(const DiskState& s) {
  Json o = {
      {"state", s.state},
      {"source_host", s.source_host},
      {"source", s.source},
      {"started_at", s.started_at},
      {"started", format_utc(s.started_at)},
      {"finished_at", s.finished_at},
      {"finished", s.finished_at ? format_utc(s.finished_at) : std::string()},
      {"bytes", s.bytes},
      {"files", s.files},
      {"reason", s.reason},
      {"tool_version", s.tool_version},
      {"last_complete_at", s.last_complete_at},
  };
  // A mirror disk's state.json stays as it always was.
  if (!s.restore_points.empty()) {
    Json points = Json::array();
    for (const auto& p : s.restore_points) points.push_back(point_json(p));
    o["restore_points"] = std::move(points);
    o["latest"] = s.restore_points.back().name;
  }
  return dump_json_pretty(o) + "\n";
}

std::optional<DiskState> disk_state_from_json(const std::string& json) {
  const auto obj = parse_json_object(json, kDiskStateMaxBytes);
  if (!obj) return std::nullopt;
  DiskState s;
  const auto state = json_string(*obj, "state");
  if (!state) return std::nullopt;
  s.state = *state;
  s.source_host = json_string(*obj, "source_host").value_or("");
  s.source = json_string(*obj, "source").value_or("");
  s.started_at = json_int(*obj, "started_at").value_or(0);
  s.finished_at = json_int(*obj, "finished_at").value_or(0);
  s.bytes = json_count(*obj, "bytes").value_or(0);
  s.files = json_count(*obj, "files").value_or(0);
  s.reason = json_string(*obj, "reason").value_or("");
  s.tool_version = json_string(*obj, "tool_version").value_or("");
  s.last_complete_at = json_int(*obj, "last_complete_at").value_or(0);
  if (const auto it = obj->find("restore_points"); it != obj->end() && it->is_array())
    for (const Json& p : *it)
      if (auto point = point_from(p)) s.restore_points.push_back(std::move(*point));
  return s;
}

}  // namespace ubc
