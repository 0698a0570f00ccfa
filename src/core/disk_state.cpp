// SPDX-License-Identifier: MIT
#include "core/disk_state.h"

#include "core/format.h"
#include "core/json.h"

namespace ubc {

std::string to_json(const DiskState& s) {
  JsonObject o;
  o.add("state", s.state)
      .add("source_host", s.source_host)
      .add("source", s.source)
      .add("started_at", s.started_at)
      .add("started", format_utc(s.started_at))
      .add("finished_at", s.finished_at)
      .add("finished", s.finished_at ? format_utc(s.finished_at) : std::string())
      .add("bytes", s.bytes)
      .add("files", s.files)
      .add("reason", s.reason)
      .add("tool_version", s.tool_version)
      .add("last_complete_at", s.last_complete_at);
  return o.str() + "\n";
}

std::optional<DiskState> disk_state_from_json(const std::string& json) {
  const auto obj = parse_flat_json_object(json);
  if (!obj) return std::nullopt;
  DiskState s;
  const auto state = json_string(*obj, "state");
  if (!state) return std::nullopt;
  s.state = *state;
  s.source_host = json_string(*obj, "source_host").value_or("");
  s.source = json_string(*obj, "source").value_or("");
  s.started_at = json_int(*obj, "started_at").value_or(0);
  s.finished_at = json_int(*obj, "finished_at").value_or(0);
  s.bytes = static_cast<std::uint64_t>(json_int(*obj, "bytes").value_or(0));
  s.files = static_cast<std::uint64_t>(json_int(*obj, "files").value_or(0));
  s.reason = json_string(*obj, "reason").value_or("");
  s.tool_version = json_string(*obj, "tool_version").value_or("");
  s.last_complete_at = json_int(*obj, "last_complete_at").value_or(0);
  return s;
}

}  // namespace ubc
