// SPDX-License-Identifier: MIT
#include "core/status_report.h"

#include "core/format.h"
#include "core/json.h"
#include "core/log_escape.h"
#include "core/stale.h"
#include "core/text.h"

namespace ubc {

namespace {

const HistoryRow* row_of(const std::vector<HistoryRow>& rows, const std::string& uuid) {
  for (const auto& row : rows)
    if (iequals(row.uuid, uuid)) return &row;
  return nullptr;
}

// Everything `status` says about one whitelisted disk.
struct DiskView {
  const DiskEntry& entry;
  const HistoryRow* last_run;
  const HistoryRow* last_good;
  const HistoryRow* last_verification;
  bool stale;
  std::string label;  // of the newest run that knew it
  const DiskRestorePoints* points;  // none: a mirror, or never seen
};

DiskView view_of(const Config& config, const StatusOverview& o, const DiskEntry& d) {
  DiskView v{d, row_of(o.last_runs, d.uuid), row_of(o.last_good, d.uuid), row_of(o.last_verifications, d.uuid),
             false, {}, nullptr};
  for (const auto& p : o.restore_points)
    if (iequals(p.uuid, d.uuid) && !p.points.empty()) v.points = &p;
  v.stale = is_stale(v.last_good ? std::optional<std::int64_t>(v.last_good->finished_at) : std::nullopt,
                     config.stale_after_days, o.now);
  for (const HistoryRow* row : {v.last_run, v.last_good, v.last_verification})
    if (row && !row->label.empty() && v.label.empty()) v.label = row->label;
  return v;
}

std::string verification_text(const HistoryVerification& v) {
  return count_of(v.files, "file", "files") + " (" + format_bytes(v.bytes) + ") in " + format_duration(v.seconds) +
         ", " + count_of(v.mismatches, "mismatch", "mismatches");
}

// "2026-11-28T020000Z: 3.00 GiB in 10 files, verified"
std::string point_text(const RestorePoint& p) {
  return p.name + ": " + format_bytes(p.bytes) + " in " + count_of(p.files, "file", "files") +
         (p.verified ? ", verified" : ", not verified");
}

Json points_json(const DiskRestorePoints& d) {
  Json points = Json::array();
  for (const auto& p : d.points)
    points.push_back({{"name", p.name}, {"started_at", p.started_at}, {"files", p.files}, {"bytes", p.bytes},
                      {"verified", p.verified}});
  return Json{{"seen_at", d.seen_at}, {"points", std::move(points)}};
}

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
  for (const auto& d : config.disks) {
    const DiskView v = view_of(config, o, d);
    out += "  " + d.uuid + (v.label.empty() ? "" : " '" + v.label + "'") + ": ";
    if (v.last_good)
      out += "last good copy " + format_utc(v.last_good->finished_at) + " (" +
             format_duration(o.now - v.last_good->finished_at) + " ago, " + format_bytes(v.last_good->bytes) + ")";
    else
      out += "no good copy recorded";
    if (v.stale) out += ", STALE (stale-after-days = " + std::to_string(config.stale_after_days) + ")";
    out += "\n";
    const bool run_is_good_copy = v.last_run && v.last_good && v.last_run->id == v.last_good->id &&
                                  v.last_run->started_at == v.last_good->started_at;
    if (v.last_run && !run_is_good_copy) {
      out += "    last run " + format_utc(v.last_run->started_at) + (v.last_run->action == "verify" ? " verify " : " ") +
             v.last_run->outcome;
      if (!v.last_run->reason.empty()) out += " (" + v.last_run->reason + ")";
      out += "\n";
    }
    if (v.last_verification && v.last_verification->verification)
      out += "    last verification " + format_utc(v.last_verification->finished_at) + " " +
             (v.last_verification->action == "verify" ? "(verify)" : "(after a copy)") + ": " +
             verification_text(*v.last_verification->verification) + "\n";
    if (v.points) {
      out += "    restore points, as of " + format_utc(v.points->seen_at) + " (newest last):\n";
      for (const auto& p : v.points->points) out += "      " + point_text(p) + "\n";
    }
  }
  // Labels, reasons and file names came from disks, and this goes to a terminal.
  return escape_each_line(out);
}

std::string render_status_json(const Config& config, const StatusOverview& o) {
  Json jobs = Json::array(), leases = Json::array(), disks = Json::array();
  for (const auto& s : o.jobs) jobs.push_back(status_json(s));
  for (const auto& l : o.leases)
    leases.push_back({{"job", l.job}, {"host", l.host}, {"pid", l.pid}, {"created_at", l.created_at},
                      {"expires_at", l.expires_at}});
  for (const auto& d : config.disks) {
    const DiskView v = view_of(config, o, d);
    Json disk = {{"uuid", d.uuid}, {"label", v.label}, {"stale", v.stale},
                 {"stale_after_days", config.stale_after_days}};
    disk["last_good_copy"] = v.last_good ? Json{{"finished_at", v.last_good->finished_at},
                                                {"age_seconds", o.now - v.last_good->finished_at},
                                                {"bytes", v.last_good->bytes},
                                                {"files", v.last_good->files}}
                                         : Json(nullptr);
    disk["last_run"] = v.last_run ? Json{{"action", v.last_run->action},
                                         {"started_at", v.last_run->started_at},
                                         {"finished_at", v.last_run->finished_at},
                                         {"outcome", v.last_run->outcome},
                                         {"reason", v.last_run->reason},
                                         {"bytes", v.last_run->bytes},
                                         {"files", v.last_run->files}}
                                  : Json(nullptr);
    const HistoryRow* lv = v.last_verification;
    disk["last_verification"] = lv && lv->verification ? Json{{"action", lv->action},
                                                             {"finished_at", lv->finished_at},
                                                             {"outcome", lv->outcome},
                                                             {"files", lv->verification->files},
                                                             {"bytes", lv->verification->bytes},
                                                             {"mismatches", lv->verification->mismatches},
                                                             {"seconds", lv->verification->seconds}}
                                                       : Json(nullptr);
    // Only disks with restore points carry the key: a mirror's entry is as it always was.
    if (v.points) disk["restore_points"] = points_json(*v.points);
    disks.push_back(std::move(disk));
  }
  return dump_json(Json{{"now", o.now}, {"jobs", jobs}, {"veeam_leases", leases}, {"disks", disks}}) + "\n";
}

}  // namespace ubc
