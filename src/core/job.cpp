// SPDX-License-Identifier: MIT
#include "core/job.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <system_error>

#include "core/config_values.h"
#include "core/disk_state.h"
#include "core/format.h"
#include "core/log_escape.h"
#include "core/mail_compose.h"
#include "core/monitoring_ping.h"
#include "core/run_log.h"
#include "core/text.h"
#include "version.h"

namespace ubc {

namespace {

constexpr const char* kLeaveGate = "leave the Veeam gate";

std::string join_jobs(const std::vector<Lease>& leases) {
  std::vector<std::string> names;
  for (const auto& l : leases)
    if (std::find(names.begin(), names.end(), l.job) == names.end()) names.push_back(l.job);
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
  return out;
}

}  // namespace

std::optional<std::string> kernel_fstype(const std::string& udev_fstype) {
  static const char* const supported[] = {"ext4", "ext3", "ext2", "xfs", "btrfs",
                                          "exfat", "vfat", "ntfs3"};
  if (udev_fstype == "ntfs") return "ntfs3";
  for (const char* t : supported)
    if (udev_fstype == t) return std::string(t);
  return std::nullopt;
}

std::string mount_options_for(const std::string& fstype) {
  // Nothing on the disk is executed, followed or trusted (DESIGN.md §10).
  std::string options = "nosuid,nodev,noexec,nosymfollow,noatime";
  // Filesystems without Unix ownership get one owner for everything: root, private.
  if (fstype == "vfat" || fstype == "exfat" || fstype == "ntfs3")
    options += ",uid=0,gid=0,umask=077";
  // FAT stores local times without a zone; the drivers read and write them in the
  // kernel's time zone unless told otherwise. Pinned to UTC, a DST change or a server whose
  // hardware clock runs on local time never makes every file look changed (a full
  // re-copy). exFAT records its offset, but entries without one follow time_offset.
  // NTFS keeps UTC itself.
  // Names in UTF-8 whatever the kernel's default character set: a source name is stored as
  // the characters Windows shows, and one that is not UTF-8 is refused instead of being
  // stored byte by byte as another name.
  if (fstype == "vfat") options += ",tz=UTC,utf8";
  if (fstype == "exfat") options += ",time_offset=0,iocharset=utf8";
  return options;
}

Job::Job(const Config& config, Ports& ports, JobContext context)
    : config_(config), ports_(ports), context_(std::move(context)),
      run_log_(std::make_shared<RunLogSink>()) {
  std::vector<spdlog::sink_ptr> sinks = spdlog::default_logger()->sinks();
  sinks.push_back(run_log_);
  log_ = std::make_shared<spdlog::logger>("job", sinks.begin(), sinks.end());
  log_->set_level(config_.debug ? spdlog::level::debug : spdlog::level::info);
  // The shared sinks keep their own formats; only the run log gets its own.
  run_log_->set_formatter(std::make_unique<EscapingFormatter>("%Y-%m-%d %H:%M:%S %l: %v"));
  log_->flush_on(spdlog::level::info);
}

Job::~Job() { cleanup(); }

JobReport Job::run(const JobRequest& request) {
  report_ = JobReport{};
  report_.action = request_action_ = request.action;
  report_.host = context_.host;
  report_.source = config_.backup_source;
  report_.mount_point = config_.backup_destination;
  report_.started_at = ports_.clock.now_unix();
  status_.pid = context_.pid;
  status_.started_at = report_.started_at;

  for (const auto& w : context_.config_warnings) warn(w);
  State state = State::identify;
  while (state != State::done) {
    if (state != State::identify && ports_.stop.stop_requested()) {
      state = stopped_from_outside();
      break;
    }
    try {
      state = step(state, request);
    } catch (const std::exception& e) {
      // Adapters throw for the unexpected (std::system_error naming the call); the step
      // that was running decides what it means for the admin.
      state = stop(Outcome::failed, std::string("Unexpected error: ") + e.what(),
                   "Check the log above; if the error persists, report it with this log");
    }
  }
  cleanup();
  report_.finished_at = ports_.clock.now_unix();
  if (report_.outcome != Outcome::not_whitelisted && report_.outcome != Outcome::already_running)
    conclude();
  return report_;
}

Job::State Job::step(State state, const JobRequest& request) {
  switch (state) {
    case State::identify: return identify(request);
    case State::claim: return claim();
    case State::queue: return queue();
    case State::wait_for_veeam: return wait_for_veeam();
    case State::check_source: return check_source();
    case State::mount: return mount();
    case State::lock: return lock();
    case State::estimate: return estimate(request);
    case State::check_space: return check_space();
    case State::copy: return copy();
    case State::sync: return sync();
    case State::verify: return verify();
    case State::finish: return finish();
    case State::check_disk: return check_disk(request.all_points);
    case State::done: break;
  }
  return State::done;
}

Job::State Job::identify(const JobRequest& request) {
  if (config_.debug) {
    log_->debug("Environment:");
    for (const auto& e : context_.environment) log_->debug("  {}", e);
    log_->debug("Configuration from '{}':", config_.path);
    for (const auto& line : describe_config(config_)) log_->debug("  {}", line);
  }
  std::optional<BlockDevice> device;
  switch (request.by) {
    case JobRequest::By::device:
      device = ports_.devices.by_devnode(request.value);
      report_.disk.devnode = request.value;  // recorded and mailed even when it is not there
      if (!device)
        return stop(Outcome::failed,
                    "Device '" + request.value + "' does not exist or carries no filesystem",
                    "Check the device name with 'lsblk -f'");
      break;
    case JobRequest::By::uuid:
      for (const auto& d : ports_.devices.all())
        if (iequals(d.uuid, request.value)) {
          device = d;
          break;
        }
      report_.disk.uuid = request.value;
      if (!device)
        return stop(Outcome::failed, "No disk with filesystem UUID " + request.value + " is connected",
                    "Plug the disk in, or check its UUID with 'lsblk -f'");
      break;
    case JobRequest::By::first_present:
      for (const auto& d : ports_.devices.all())
        if (config_.find_disk(d.uuid)) {
          device = d;
          break;
        }
      if (!device)
        return stop(Outcome::failed, "None of the whitelisted disks is connected",
                    "Plug in one of the disks listed in 'filesystem-ids-and-notification-mail-addresses'");
      break;
  }
  disk_ = *device;
  report_.disk = disk_;
  status_.uuid = device->uuid;
  status_.label = device->label;
  status_.devnode = device->devnode;
  const DiskEntry* entry = config_.find_disk(device->uuid);
  if (!entry) {
    report_.outcome = Outcome::not_whitelisted;
    log_->info("Disk {} (filesystem UUID {}) is not whitelisted; leaving it alone",
               device->devnode, device->uuid);
    return State::done;
  }
  report_.disk_mails = entry->mails;
  log_->info("Disk {} with filesystem UUID {}{} ({}) is whitelisted; starting the {}",
             device->devnode, device->uuid,
             device->label.empty() ? "" : ", label '" + device->label + "'", device->fstype,
             request.action == JobAction::verify ? "check of its copy" : "copy job");
  return State::claim;
}

Job::State Job::claim() {
  if (!ports_.slots.claim_disk(disk_.uuid)) {
    report_.outcome = Outcome::already_running;
    log_->info("A copy job for disk {} is already running; this one ends here", disk_.uuid);
    return State::done;
  }
  undo_.push("free the disk's job slot", [this] { ports_.slots.release(); });
  // ping-url: the copy of a whitelisted disk begins.
  if (!config_.ping_url.empty() && request_action_ == JobAction::copy)
    ping_monitor_url(start_ping_url(config_.ping_url));
  return State::queue;
}

Job::State Job::queue() {
  const auto deadline = now() + std::chrono::minutes(config_.wait_for_queue_minutes);
  bool announced = false;
  while (!ports_.slots.try_claim_copy()) {
    if (!announced) {
      log_->info("Another disk is being copied; this disk waits its turn (up to {} min)",
                 config_.wait_for_queue_minutes);
      set_phase(Phase::queued, "waiting for another disk's copy to finish");
      announced = true;
    }
    if (ports_.stop.stop_requested()) return stopped_from_outside();
    if (now() >= deadline)
      return stop(Outcome::gave_up,
                  "Gave up after waiting " + std::to_string(config_.wait_for_queue_minutes) +
                      " min for another disk's copy to finish",
                  "Plug this disk in again when the other copy is done, or raise 'wait-for-queue-minutes'");
    ports_.clock.sleep(std::chrono::seconds(1));
  }
  if (announced) log_->info("The other copy is done; continuing");
  // Checking a disk reads only the disk: neither Veeam nor the source is involved.
  return request_action_ == JobAction::verify ? State::mount : State::wait_for_veeam;
}

Job::WaitEnd Job::enter_veeam_gate() {
  const auto deadline = now() + std::chrono::minutes(config_.wait_for_veeam_minutes);
  std::string announced;
  for (;;) {
    GateResult r = ports_.veeam.try_enter();
    for (const auto& l : r.expired)
      warn("Removed the expired Veeam lease of job '" + l.job + "' from " + l.host + " (created " +
           format_utc(l.created_at) + ", expired " + format_utc(l.expires_at) +
           "): its post-job script never ran");
    if (r.entered) {
      entered_ = true;
      if (!undo_.pending(kLeaveGate))
        undo_.push(kLeaveGate, [this] {
          if (!entered_) return;
          entered_ = false;
          ports_.veeam.leave();
        });
      return WaitEnd::entered;
    }
    const std::string jobs = join_jobs(r.live);
    if (jobs != announced) {
      log_->info("Waiting for Veeam job {} to finish (up to {} min)", jobs, config_.wait_for_veeam_minutes);
      waiting_for_ = "Veeam job " + jobs;
      set_phase(phase_ == Phase::copying || phase_ == Phase::paused_for_veeam ? Phase::paused_for_veeam
                                                                             : Phase::waiting_for_veeam,
                "waiting for " + waiting_for_);
      announced = jobs;
    }
    if (ports_.stop.stop_requested()) return WaitEnd::stopped;
    if (now() >= deadline) return WaitEnd::timed_out;
    ports_.veeam.wait_for_change(std::min<std::chrono::milliseconds>(std::chrono::seconds(1), deadline - now()));
  }
}

Job::State Job::wait_for_veeam() {
  switch (enter_veeam_gate()) {
    case WaitEnd::entered: return State::check_source;
    case WaitEnd::stopped: return stopped_from_outside();
    case WaitEnd::timed_out: break;
  }
  return stop(Outcome::gave_up,
              "Gave up after waiting " + std::to_string(config_.wait_for_veeam_minutes) +
                  " min for " + waiting_for_,
              "Plug the disk in again after the Veeam job; if no job runs, the lease is stale: "
              "remove it with 'veeam-unlock --job NAME' (see 'veeam-lock --list')");
}

Job::State Job::check_source() {
  const std::string& src = config_.backup_source;
  // Mirroring an empty repository (a share that did not mount) with --delete would wipe
  // the last good offsite copy: refuse before the disk is touched.
  if (ports_.fs.kind(src) != PathKind::directory)
    return stop(Outcome::failed, "The backup source '" + src + "' does not exist or is not a directory",
                "Check 'backup-source' and that the repository is mounted; the disk was not touched");
  if (!ports_.fs.readable_directory(src))
    return stop(Outcome::failed, "The backup source '" + src + "' cannot be read",
                "Check its permissions and the repository mount; the disk was not touched");
  if (config_.source_must_be_mountpoint && !ports_.fs.is_mountpoint(src))
    return stop(Outcome::failed, "The backup source '" + src + "' is not a mount point",
                "Mount the repository there (source-must-be-mountpoint = yes); the disk was not touched");
  // What a filesystem keeps at its root by itself (lost+found, ...) and our own lock file are
  // no backups: a source holding only those is empty.
  const std::string lock = lock_path();
  std::uint64_t entries = 0;
  for (const auto& name : ports_.fs.list_entries(src)) {
    const auto& own = disk_own_entries();
    if (std::find(own.begin(), own.end(), name) != own.end()) continue;
    if (config_values::parent_path(lock) == src && src + "/" + name == lock) continue;
    ++entries;
  }
  if (entries == 0)
    return stop(Outcome::failed, "The backup source '" + src + "' is empty",
                "Check that the repository is mounted and holds the backups; the disk was not touched");
  log_->info("Backup source '{}' is present and holds {} entries", src, entries);
  return State::mount;
}

std::string Job::lock_path() const { return config_.backup_lockfile_path; }

}  // namespace ubc
