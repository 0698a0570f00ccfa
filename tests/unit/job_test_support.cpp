// SPDX-License-Identifier: MIT
#include "job_test_support.h"

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "core/manifest.h"
#include "core/restore_points.h"

namespace ubc::test {

namespace {

std::string with_commas(std::uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

std::string stats_block(int files, std::uint64_t bytes, int deleted, std::uint64_t total_size) {
  return "\nNumber of files: " + with_commas(static_cast<std::uint64_t>(files) + 1) + " (reg: " +
         with_commas(static_cast<std::uint64_t>(files)) + ", dir: 1)\n"
         "Number of created files: " + std::to_string(files) + " (reg: " + std::to_string(files) + ")\n"
         "Number of deleted files: " + std::to_string(deleted) + (deleted ? " (reg: " + std::to_string(deleted) + ")" : "") + "\n"
         "Number of regular files transferred: " + std::to_string(files) + "\n"
         "Total file size: " + with_commas(total_size) + " bytes\n"
         "Total transferred file size: " + with_commas(bytes) + " bytes\n"
         "Literal data: 0 bytes\nMatched data: 0 bytes\nFile list size: 0\n"
         "File list generation time: 0.001 seconds\nFile list transfer time: 0.000 seconds\n"
         "Total bytes sent: 1,234\nTotal bytes received: 56\n\n"
         "sent 1,234 bytes  received 56 bytes  2,580.00 bytes/sec\n"
         "total size is " + with_commas(total_size) + "  speedup is 1.00 (DRY RUN)\n";
}

}  // namespace

std::string dry_run_output(int files, std::uint64_t size, int deleted, std::uint64_t updated_size) {
  std::string out;
  for (int i = 0; i < deleted; ++i) out += "*deleting   0 old/file" + std::to_string(i) + ".vbk\n";
  out += "cd+++++++++ 0 jobs/\n";
  for (int i = 0; i < files; ++i) out += ">f+++++++++ " + std::to_string(size) + " jobs/f" + std::to_string(i) + ".vib\n";
  if (updated_size) out += ">f.st...... " + std::to_string(updated_size) + " jobs/chain.vbm\n";
  return out + stats_block(files, size * static_cast<std::uint64_t>(files) + updated_size, deleted,
                           size * static_cast<std::uint64_t>(files) + updated_size);
}

std::vector<ScriptedRun::Chunk> copy_chunks(std::uint64_t total, int files, int steps) {
  std::vector<ScriptedRun::Chunk> chunks;
  for (int i = 1; i <= steps; ++i) {
    const std::uint64_t done = total * static_cast<std::uint64_t>(i) / static_cast<std::uint64_t>(steps);
    ScriptedRun::Chunk c;
    c.out = "     " + with_commas(done) + "  " + std::to_string(100 * i / steps) + "%   10.00MB/s    0:00:0" +
            std::to_string(i) + " (xfr#" + std::to_string(i) + ", to-chk=" + std::to_string(steps - i) + "/" +
            std::to_string(steps) + ")\r";
    c.delay = std::chrono::milliseconds(500);
    chunks.push_back(c);
  }
  ScriptedRun::Chunk end;
  end.out = "\n" + stats_block(files, total, 0, total);
  chunks.push_back(end);
  return chunks;
}

ScriptedRun dry_run(int files, std::uint64_t size, int deleted, std::uint64_t updated_size) {
  ScriptedRun r;
  r.chunks.push_back({dry_run_output(files, size, deleted, updated_size), "", std::chrono::milliseconds(100), {}});
  return r;
}

ScriptedRun copy_run(std::uint64_t total, int files) {
  ScriptedRun r;
  r.chunks = copy_chunks(total, files);
  return r;
}

JobTest::JobTest() {
  // The job logs through the default logger's sinks plus its own run log; keep test output quiet.
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>()));
  config_.path = "/etc/usb-backup-copier/config.ini";
  config_.disks.push_back({kUuid, {"owner@example.com"}, 3});
  config_.backup_source = kSource;
  config_.backup_destination = kMount;
  config_.backup_lockfile_path = std::string(kSource) + "/.usb-backup-copier.lock";
  config_.sysop_mails = {"sysop@example.com"};
  config_.from_mail = "copier@example.com";
  config_.mail_server = "mail.example.com";
  config_.free_space_threshold_gb = 1;
  veeam_.clock_ = &clock_;
  devices_.devices_.push_back({kDev, "0A1B2C3D-1111-4222-8333-444455556666", "OFFSITE1", "ext4"});
  fs_.files_[std::string(kSource) + "/jobs/backup.vbk"] = "data";
  fs_.dirs_.insert(kMount);
  fs_.space_[kMount] = SpaceInfo{100ULL << 30, 200ULL << 30};
  ports_ = std::make_unique<Ports>(Ports{devices_, mounter_, run_lock_, slots_, veeam_, processes_, fs_, hasher_, status_,
                                         history_, mailer_, inhibitor_, clock_, stop_, pinger_, enrollment_, volumes_});
}

JobReport JobTest::run_job(JobRequest request) {
  Job job(config_, *ports_, JobContext{"repo1", 4242, {"PATH=/usr/bin"}, {}});
  return job.run(request);
}

std::optional<DiskState> JobTest::disk_state() {
  const auto it = disk().find(kDiskStateFile);
  if (it == disk().end()) return std::nullopt;
  return disk_state_from_json(it->second);
}

void JobTest::point_on_disk(const std::string& name, const std::map<std::string, std::string>& files) {
  Manifest m;
  for (const auto& [path, content] : files) {
    mounter_.disks_[kDev][name + "/" + path] = content;
    m[path] = ManifestEntry{FakeFileHasher::digest(content), FileStamp{content.size(), 0}};
  }
  mounter_.disks_[kDev][name + "/" + kManifestFile] = render_sha256sums(m);
  mounter_.disks_[kDev][name + "/" + kManifestStampFile] = render_stamps(m);
  mounter_.disks_[kDev][name + "/" + kPointRecordFile] = to_json(RestorePoint{name, 0, files.size(), 0, true});
}

bool JobTest::logged(const std::string& text, const JobReport& report) const {
  return report.run_log.find(text) != std::string::npos;
}

void JobTest::expect_undone(const JobReport& report) {
  EXPECT_FALSE(mounter_.is_mounted(kMount)) << "the disk must be unmounted";
  EXPECT_FALSE(run_lock_.held_) << "the run lock must be released";
  EXPECT_FALSE(inhibitor_.held_) << "the inhibitor must be released";
  EXPECT_FALSE(veeam_.entered_) << "the copier must have left the Veeam gate";
  EXPECT_FALSE(slots_.copy_claimed_) << "the copy slot must be free";
  EXPECT_TRUE(status_.cleared_.count(report.disk.uuid)) << "the status file must be removed";
}

}  // namespace ubc::test
