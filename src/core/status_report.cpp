// SPDX-License-Identifier: MIT
#include "core/status_report.h"

#include "core/format.h"
#include "core/json.h"
#include "core/text.h"

namespace ubc {

namespace {

// The newest run of a disk, and its newest good run, from rows of last runs.
const HistoryRow* last_run_of(const StatusOverview& o, const std::string& uuid) {
  for (const auto& row : o.last_runs)
    if (lower(row.uuid) == uuid) return &row;
  return nullptr;
}

bool is_good(const HistoryRow& row) { return row.outcome == "success" || row.outcome == "warning"; }

}  // namespace

std::string render_status_text(const Config& config, const StatusOverview& o) {
  std::string out;
  if (o.jobs.empty()) out += "No copy is running.\n";
  for (const auto& s : o.jobs) {
    out += "Disk " + s.uuid + (s.label.empty() ? "" : " '" + s.label + "'") + " on " + s.devnode + " (pid " +
           std::to_string(s.pid) + "): " + status_line(s) + "\n";
  }
  if (!o.leases.empty()) {
    out += "Veeam leases:\n";
    for (const auto& l : o.leases)
      out += "  job '" + l.job + "' from " + l.host + ", since " + format_utc(l.created_at) + ", expires " +
             format_utc(l.expires_at) + "\n";
  }
  out += "Disks:\n";
  const std::int64_t stale_after = static_cast<std::int64_t>(config.stale_after_days) * 86400;
  for (const auto& d : config.disks) {
    const HistoryRow* row = last_run_of(o, d.uuid);
    out += "  " + d.uuid + ": ";
    if (!row) {
      out += "never copied\n";
      continue;
    }
    out += "last run " + format_utc(row->started_at) + (row->action == "verify" ? " verify " : " ") + row->outcome;
    if (!is_good(*row) && !row->reason.empty()) out += " (" + row->reason + ")";
    if (const auto& v = row->verification)
      out += ", verified " + std::to_string(v->files) + " files (" + format_bytes(v->bytes) + ") in " +
             format_duration(v->seconds) + ", " + std::to_string(v->mismatches) + " mismatches";
    if (is_good(*row)) {
      if (row->action != "verify") out += ", " + format_bytes(row->bytes) + " copied";
      if (o.now - row->finished_at > stale_after)
        out += ", STALE: last good copy " + format_duration(o.now - row->finished_at) + " ago";
    }
    out += "\n";
  }
  return out;
}

std::string render_status_json(const Config& config, const StatusOverview& o) {
  Json jobs = Json::array(), leases = Json::array(), disks = Json::array();
  for (const auto& s : o.jobs) jobs.push_back(status_json(s));
  for (const auto& l : o.leases)
    leases.push_back({{"job", l.job}, {"host", l.host}, {"pid", l.pid}, {"created_at", l.created_at},
                      {"expires_at", l.expires_at}});
  const std::int64_t stale_after = static_cast<std::int64_t>(config.stale_after_days) * 86400;
  for (const auto& d : config.disks) {
    Json disk = {{"uuid", d.uuid}};
    if (const HistoryRow* row = last_run_of(o, d.uuid)) {
      disk["last_run_started_at"] = row->started_at;
      disk["last_run_finished_at"] = row->finished_at;
      disk["last_outcome"] = row->outcome;
      disk["last_reason"] = row->reason;
      disk["last_bytes"] = row->bytes;
      disk["last_action"] = row->action;
      disk["stale"] = is_good(*row) ? o.now - row->finished_at > stale_after : true;
      if (const auto& v = row->verification) {
        disk["last_verified_files"] = v->files;
        disk["last_verified_bytes"] = v->bytes;
        disk["last_verify_mismatches"] = v->mismatches;
        disk["last_verify_seconds"] = v->seconds;
      } else {
        disk["last_verified_files"] = nullptr;
      }
    } else {
      disk["last_outcome"] = nullptr;
      disk["stale"] = true;
    }
    disks.push_back(std::move(disk));
  }
  return dump_json(Json{{"now", o.now}, {"jobs", jobs}, {"veeam_leases", leases}, {"disks", disks}}) + "\n";
}

}  // namespace ubc
