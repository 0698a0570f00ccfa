// SPDX-License-Identifier: MIT
// `usb-backup-copier copy` and `verify`: the composition root of the job.
#include <spdlog/spdlog.h>

#include <iostream>

#include "app/cli.h"
#include "app/commands.h"
#include "app/load_config.h"
#include "core/exit_codes.h"
#include "core/job.h"
#include "core/outbox_mailer.h"
#include "sys/cryptsetup_volumes.h"
#include "sys/curl_transport.h"
#include "sys/directory_enrollment_store.h"
#include "sys/directory_veeam_gate.h"
#include "sys/flock_run_lock.h"
#include "sys/forked_transport.h"
#include "sys/libmount_mounter.h"
#include "sys/log_setup.h"
#include "sys/logind_inhibitor.h"
#include "sys/openssl_file_hasher.h"
#include "sys/outbox_directory.h"
#include "sys/posix_file_system.h"
#include "sys/posix_process_runner.h"
#include "sys/process_info.h"
#include "sys/curl_pinger.h"
#include "sys/sqlite_history.h"
#include "sys/status_file_sink.h"
#include "sys/system_clock.h"
#include "sys/udev_device_finder.h"

namespace ubc {

namespace {

constexpr const char* kCopyUsage =
    "usage: usb-backup-copier [--config PATH] copy (--device /dev/sdX1 | --uuid UUID | --auto)\n"
    "                         [--allow-mass-delete]\n";
constexpr const char* kVerifyUsage =
    "usage: usb-backup-copier [--config PATH] verify (--device /dev/sdX1 | --uuid UUID) [--all]\n";

int run_job(const Invocation& inv, const JobRequest& request);

}  // namespace

int cmd_copy(const Invocation& inv) {
  std::vector<std::string> args = inv.args;
  std::string error;
  JobRequest request;
  const auto device = take_option(args, "--device", error);
  const auto uuid = take_option(args, "--uuid", error);
  const bool automatic = take_flag(args, "--auto");
  request.allow_mass_delete = take_flag(args, "--allow-mass-delete");
  if (!error.empty()) return usage_error(inv.program, error, kCopyUsage);
  if (!args.empty()) return usage_error(inv.program, "unexpected argument '" + args.front() + "'", kCopyUsage);
  if (int(device.has_value()) + int(uuid.has_value()) + int(automatic) != 1)
    return usage_error(inv.program, "copy needs exactly one of --device, --uuid or --auto", kCopyUsage);
  if (device) request = {JobRequest::By::device, *device, request.allow_mass_delete};
  if (uuid) request = {JobRequest::By::uuid, *uuid, request.allow_mass_delete};
  if (automatic) request = {JobRequest::By::first_present, "", request.allow_mass_delete};
  return run_job(inv, request);
}

int cmd_verify(const Invocation& inv) {
  std::vector<std::string> args = inv.args;
  std::string error;
  const auto device = take_option(args, "--device", error);
  const auto uuid = take_option(args, "--uuid", error);
  const bool all_points = take_flag(args, "--all");
  if (!error.empty()) return usage_error(inv.program, error, kVerifyUsage);
  if (!args.empty()) return usage_error(inv.program, "unexpected argument '" + args.front() + "'", kVerifyUsage);
  if (int(device.has_value()) + int(uuid.has_value()) != 1)
    return usage_error(inv.program, "verify needs exactly one of --device or --uuid", kVerifyUsage);
  JobRequest request;
  request.by = device ? JobRequest::By::device : JobRequest::By::uuid;
  request.value = device ? *device : *uuid;
  request.action = JobAction::verify;
  request.all_points = all_points;
  return run_job(inv, request);
}

namespace {

int run_job(const Invocation& inv, const JobRequest& request) {
  setup_logging("usb-backup-copier");
  // Stop requests must be seen from the very start: the unit may be stopped while waiting.
  SignalStop stop;
  notify_ready();
  std::vector<std::string> secret_warnings;
  const auto config = load_config_or_report(inv.config_path, &secret_warnings);
  if (!config) {
    spdlog::error("The configuration '{}' has errors (listed above); no copy was made. "
                  "Fix them, check with 'usb-backup-copier check-config', then plug the disk in again",
                  inv.config_path);
    return kExitConfig;
  }
  if (!config->log_file_path.empty()) {
    if (const auto e = add_log_file(config->log_file_path); !e.empty())
      spdlog::warn("Cannot write the log file '{}': {}, ignoring", config->log_file_path, e);
  }

  UdevDeviceFinder devices;
  LibmountMounter mounter;
  FlockRunLock run_lock;
  FlockJobSlots slots(config->runtime_directory);
  DirectoryVeeamGate veeam(*config, request.value);
  PosixProcessRunner processes;
  PosixFileSystem fs;
  OpensslFileHasher hasher;
  StatusFileSink status(config->runtime_directory);
  SqliteHistory history(config->state_directory, HistoryAccess::read_write, config->history_keep_days);
  LogindInhibitor inhibitor;
  SystemClock clock(&stop);
  // Every mail and ping goes from a child process, so that libcurl never counts in the
  // copier's own memory (DESIGN.md §11).
  CurlTransport curl_transport(*config, host_name());
  ForkedMailTransport transport(curl_transport);
  OutboxDirectory outbox(config->state_directory + "/outbox");
  OutboxMailer mailer(*config, transport, outbox, clock, &stop);
  CurlPinger curl_pinger;
  ForkedPinger pinger(curl_pinger);
  DirectoryEnrollmentStore enrollment(config->state_directory);
  CryptsetupVolumes volumes;
  Ports ports{devices, mounter, run_lock, slots, veeam, processes, fs, hasher, status,
              history, mailer, inhibitor, clock, stop, pinger, enrollment, volumes};

  Job job(*config, ports, JobContext{host_name(), process_id(), process_environment(), secret_warnings});
  const JobReport report = job.run(request);
  return exit_code(report);
}

}  // namespace

}  // namespace ubc
