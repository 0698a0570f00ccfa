// SPDX-License-Identifier: MIT
// `veeam-lock` and `veeam-unlock`: the composition roots of core/veeam_lock. They run as
// Veeam pre-/post-job scripts (mostly over ssh), so everything goes to stdout/stderr,
// which Veeam shows in the job log; there is no log file.
//
// No signal handlers on purpose: a veeam-lock stopped by a signal (Veeam giving up on the
// script, an admin's Ctrl-C) dies with its lease in place. That is the safe side: Veeam
// may run the job anyway, and the lease is removed by veeam-unlock or expires.
#include <exception>
#include <iostream>
#include <optional>

#include "app/cli.h"
#include "app/commands.h"
#include "app/load_config.h"
#include "core/exit_codes.h"
#include "core/lease.h"
#include "core/outbox_mailer.h"
#include "core/veeam_lock.h"
#include "sys/curl_transport.h"
#include "sys/forked_transport.h"
#include "sys/directory_lease_store.h"
#include "sys/outbox_directory.h"
#include "sys/process_info.h"
#include "sys/system_clock.h"

namespace ubc {

namespace {

// Bad usage prints only the synopsis: it ends up in Veeam's job log.
constexpr const char* kLockUsage =
    "usage: veeam-lock [--config PATH] [--job NAME]\n"
    "       veeam-lock [--config PATH] --list\n";
constexpr const char* kLockHelp =
    "Takes a lease for the Veeam job NAME (default: 'default') so that no copy to a USB disk\n"
    "reads the repository while the job writes it; a running copy is paused (or, with\n"
    "copy-yields-to-veeam = no, waited for). --list shows the leases and the copier.\n"
    "Exit: 0 lease held; 1 lease not created; 2 usage; 75 the copy did not pause or finish\n"
    "in time; 78 configuration error.\n";

constexpr const char* kUnlockUsage = "usage: veeam-unlock [--config PATH] [--job NAME]\n";
constexpr const char* kUnlockHelp =
    "Gives back one lease of the Veeam job NAME (default: 'default'), the oldest.\n"
    "Exit: 0 removed, or there was none (a warning); 1 not removed; 2 usage; 78 configuration\n"
    "error.\n";

struct Options {
  std::string job{kDefaultJobName};
  bool list = false;
};

// nullopt with `exit_code` set when there is nothing more to do (help, bad usage).
std::optional<Options> parse(const Invocation& inv, bool lock, int& exit_code) {
  const char* usage = lock ? kLockUsage : kUnlockUsage;
  std::vector<std::string> args = inv.args;
  if (take_flag(args, "--help") || take_flag(args, "-h")) {
    std::cout << usage << (lock ? kLockHelp : kUnlockHelp);
    exit_code = kExitOk;
    return std::nullopt;
  }
  Options options;
  std::string error;
  const auto job = take_option(args, "--job", error);
  if (lock) options.list = take_flag(args, "--list");
  if (error.empty() && !args.empty()) error = "unexpected argument '" + args.front() + "'";
  if (error.empty() && options.list && job) error = "--list takes no --job";
  if (error.empty() && job) {
    if (const auto problem = job_name_problem(*job)) error = "bad --job: " + *problem;
    options.job = *job;
  }
  if (!error.empty()) {
    exit_code = usage_error(inv.program, error, usage);
    return std::nullopt;
  }
  return options;
}

int run(const Invocation& inv, bool lock) {
  int exit_code = kExitOk;
  const auto options = parse(inv, lock, exit_code);
  if (!options) return exit_code;

  const auto config = load_config_or_report(inv.config_path);
  if (!config) {
    std::cerr << inv.program << ": ERROR: the configuration '" << inv.config_path
              << "' has errors (listed above); no lease was " << (lock ? "taken" : "removed") << std::endl;
    return kExitConfig;
  }
  const std::string host = host_name();
  DirectoryLeaseStore store(*config);
  SystemClock clock;
  CurlTransport curl_transport(*config, host);
  ForkedMailTransport transport(curl_transport);  // libcurl only in a child, as in copy
  OutboxDirectory outbox(config->state_directory + "/outbox");
  OutboxMailer mailer(*config, transport, outbox, clock, nullptr);
  const VeeamCommandEnv env{*config, host, store, clock, mailer, std::cout, std::cerr};
  if (!lock) return run_veeam_unlock(env, options->job);
  return options->list ? run_veeam_list(env) : run_veeam_lock(env, options->job);
}

int guarded(const Invocation& inv, bool lock) {
  try {
    return run(inv, lock);
  } catch (const std::exception& e) {
    std::cerr << inv.program << ": ERROR: " << e.what() << std::endl;
  } catch (...) {
    std::cerr << inv.program << ": ERROR: unexpected failure" << std::endl;
  }
  return kExitFailed;
}

}  // namespace

int cmd_veeam_lock(const Invocation& inv) { return guarded(inv, true); }

int cmd_veeam_unlock(const Invocation& inv) { return guarded(inv, false); }

}  // namespace ubc
