// SPDX-License-Identifier: MIT
#include "core/disk_state.h"

#include "core/format.h"
#include "core/json.h"

namespace ubc {

std::string to_json(const DiskState& s) {
  const Json o = {
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
  return s;
}

}  // namespace ubc
