// SPDX-License-Identifier: MIT
#include "core/metrics.h"

#include <cstdint>

#include "core/mime.h"
#include "core/text.h"

namespace ubc {

namespace {

constexpr std::string_view kPrefix = "usb_backup_copier_";

const HistoryRow* row_of(const std::vector<HistoryRow>& rows, const std::string& uuid) {
  for (const auto& row : rows)
    if (iequals(row.uuid, uuid)) return &row;
  return nullptr;
}

// The samples of one metric family, written under its # HELP and # TYPE lines.
class Family {
 public:
  Family(std::string_view name, std::string_view help) : name_(kPrefix), help_(help) { name_ += name; }

  void add(const std::vector<std::pair<std::string, std::string>>& labels, std::string value) {
    samples_ += name_;
    if (!labels.empty()) {
      samples_ += '{';
      for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i > 0) samples_ += ',';
        samples_ += labels[i].first + "=\"" + escape_label_value(labels[i].second) + '"';
      }
      samples_ += '}';
    }
    samples_ += ' ' + value + '\n';
  }

  // Families without samples are left out: a scraper then sees no series rather than a
  // lone HELP line.
  void write(std::string& out) const {
    if (samples_.empty()) return;
    out += "# HELP " + name_ + ' ' + help_ + '\n';
    out += "# TYPE " + name_ + " gauge\n";
    out += samples_;
  }

 private:
  std::string name_;
  std::string help_;
  std::string samples_;
};

std::string number(std::int64_t v) { return std::to_string(v); }
std::string number(std::uint64_t v) { return std::to_string(v); }

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  for (const char c : valid_utf8(value)) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string render_metrics(const Config& config, const StatusOverview& o, const std::vector<HistoryRow>& last_successes) {
  Family success("last_success_timestamp_seconds",
                 "Unix time the last good copy (success or warning) finished; 0: none recorded.");
  Family outcome("last_run_outcome", "The outcome of the disk's newest run (copy or verify), as a label; always 1.");
  Family bytes("last_run_bytes", "Bytes copied by the disk's newest run.");
  Family duration("last_run_duration_seconds", "Duration of the disk's newest run.");
  Family verified("last_verified_bytes", "Bytes read back and compared by the disk's newest run; 0: none.");
  Family stale("disk_stale", "1 when the disk has had no good copy for stale-after-days, else 0.");
  Family done("job_bytes_done", "Bytes the running job has copied or verified so far.");
  Family total("job_bytes_total", "Bytes the running job has to copy or verify in all; 0: not known yet.");
  Family phase("job_phase", "The phase of the running job, as a label; always 1.");

  const std::int64_t stale_after = static_cast<std::int64_t>(config.stale_after_days) * 86400;
  for (const auto& disk : config.disks) {
    const HistoryRow* last = row_of(o.last_runs, disk.uuid);
    const HistoryRow* good = row_of(last_successes, disk.uuid);
    const std::string label = last ? last->label : good ? good->label : std::string();
    const std::vector<std::pair<std::string, std::string>> id{{"uuid", disk.uuid}, {"label", label}};
    success.add(id, number(good ? good->finished_at : std::int64_t{0}));
    stale.add(id, !good || o.now - good->finished_at > stale_after ? "1" : "0");
    if (!last) continue;
    outcome.add({{"uuid", disk.uuid}, {"label", label}, {"action", last->action}, {"outcome", last->outcome}}, "1");
    bytes.add(id, number(last->bytes));
    duration.add(id, number(std::max<std::int64_t>(0, last->finished_at - last->started_at)));
    verified.add(id, number(last->verification ? last->verification->bytes : std::uint64_t{0}));
  }
  for (const auto& job : o.jobs) {
    const std::vector<std::pair<std::string, std::string>> id{{"uuid", job.uuid}, {"label", job.label}};
    done.add(id, number(job.bytes_done));
    total.add(id, number(job.bytes_total));
    phase.add({{"uuid", job.uuid}, {"label", job.label}, {"phase", to_string(job.phase)}}, "1");
  }

  std::string out;
  for (const Family* f : {&success, &outcome, &bytes, &duration, &verified, &stale, &done, &total, &phase})
    f->write(out);
  return out;
}

}  // namespace ubc
