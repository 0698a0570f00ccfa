// SPDX-License-Identifier: MIT
#include "core/status.h"

#include <algorithm>
#include <array>
#include <limits>
#include <utility>

#include "core/format.h"
#include "core/json.h"

namespace ubc {

namespace {

constexpr std::array<std::pair<Phase, const char*>, 11> kPhaseNames{{
    {Phase::starting, "starting"},
    {Phase::queued, "queued"},
    {Phase::waiting_for_veeam, "waiting-for-veeam"},
    {Phase::mounting, "mounting"},
    {Phase::estimating, "estimating"},
    {Phase::copying, "copying"},
    {Phase::paused_for_veeam, "paused-for-veeam"},
    {Phase::syncing, "syncing"},
    {Phase::verifying, "verifying"},
    {Phase::finishing, "finishing"},
    {Phase::done, "done"},
}};

std::optional<Phase> phase_from_string(const std::string& text) {
  for (const auto& [phase, name] : kPhaseNames) {
    if (text == name) return phase;
  }
  return std::nullopt;
}

// "12.3 GiB of 40.0 GiB (30%)"; the total is unknown until the dry run has finished.
std::string progress_text(const Status& s) {
  if (s.bytes_total == 0) return format_bytes(s.bytes_done);
  std::uint64_t percent = 100;
  if (s.bytes_done < s.bytes_total) {
    // Dividing first keeps byte counts near 2^64 from overflowing.
    percent = s.bytes_done <= std::numeric_limits<std::uint64_t>::max() / 100
                  ? s.bytes_done * 100 / s.bytes_total
                  : std::min<std::uint64_t>(s.bytes_done / (s.bytes_total / 100), 99);
  }
  return format_bytes(s.bytes_done) + " of " + format_bytes(s.bytes_total) + " (" +
         std::to_string(percent) + "%)";
}

std::string with_detail(std::string line, const Status& s) {
  if (!s.detail.empty()) line += ": " + s.detail;
  return line;
}

}  // namespace

const char* to_string(Phase phase) {
  for (const auto& [p, name] : kPhaseNames) {
    if (p == phase) return name;
  }
  return "unknown";
}

std::string status_line(const Status& s) {
  switch (s.phase) {
    case Phase::starting: return with_detail("starting", s);
    case Phase::queued: return with_detail("queued", s);
    case Phase::waiting_for_veeam: return with_detail("waiting for Veeam", s);
    case Phase::mounting: return with_detail("mounting", s);
    case Phase::estimating: return with_detail("estimating", s);
    case Phase::syncing: return with_detail("syncing the disk", s);
    case Phase::copying:
    case Phase::verifying: {
      std::string line = std::string(s.phase == Phase::copying ? "copying " : "verifying ") + progress_text(s);
      if (s.rate_bytes_per_second > 0) line += ", " + format_rate(s.rate_bytes_per_second);
      if (s.eta_seconds) line += ", " + format_duration(*s.eta_seconds) + " left";
      return line;
    }
    case Phase::paused_for_veeam:
      return with_detail("paused for Veeam at " + progress_text(s), s);
    case Phase::finishing: return with_detail("finishing", s);
    case Phase::done: return with_detail("done", s);
  }
  return "unknown";
}

Json status_json(const Status& s) {
  return Json{
      {"uuid", s.uuid},
      {"label", s.label},
      {"devnode", s.devnode},
      {"pid", s.pid},
      {"phase", to_string(s.phase)},
      {"detail", s.detail},
      {"bytes_done", s.bytes_done},
      {"bytes_total", s.bytes_total},
      {"rate_bytes_per_second", s.rate_bytes_per_second},
      {"eta_seconds", s.eta_seconds ? Json(*s.eta_seconds) : Json(nullptr)},
      {"started_at", s.started_at},
      {"updated_at", s.updated_at},
      {"line", status_line(s)},
  };
}

std::string to_json(const Status& s) { return dump_json(status_json(s)); }

std::optional<Status> status_from_json(const std::string& json) {
  const auto obj = parse_json_object(json, kStatusMaxBytes);
  if (!obj) return std::nullopt;
  const auto uuid = json_string(*obj, "uuid");
  const auto phase_name = json_string(*obj, "phase");
  if (!uuid || !phase_name) return std::nullopt;
  const auto phase = phase_from_string(*phase_name);
  if (!phase) return std::nullopt;

  Status s;
  s.uuid = *uuid;
  s.phase = *phase;
  s.label = json_string(*obj, "label").value_or("");
  s.devnode = json_string(*obj, "devnode").value_or("");
  s.detail = json_string(*obj, "detail").value_or("");
  s.pid = static_cast<int>(json_int(*obj, "pid").value_or(0));
  s.bytes_done = json_count(*obj, "bytes_done").value_or(0);
  s.bytes_total = json_count(*obj, "bytes_total").value_or(0);
  s.rate_bytes_per_second = json_number(*obj, "rate_bytes_per_second").value_or(0);
  s.eta_seconds = json_int(*obj, "eta_seconds");
  s.started_at = json_int(*obj, "started_at").value_or(0);
  s.updated_at = json_int(*obj, "updated_at").value_or(0);
  return s;
}

}  // namespace ubc
