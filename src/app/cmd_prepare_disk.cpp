// SPDX-License-Identifier: MIT
// `usb-backup-copier prepare-disk`: a new disk becomes a rotation disk in one command --
// checked, confirmed, partitioned, formatted, given its .usb-backup-copier directory and
// added to the whitelist. Destructive, so every refusal comes before the first write.
#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "app/cli.h"
#include "app/commands.h"
#include "app/load_config.h"
#include "core/config_reader.h"
#include "core/exit_codes.h"
#include "core/format.h"
#include "core/prepare_disk.h"
#include "core/text.h"
#include "core/encrypted_disk.h"
#include "sys/block_disk.h"
#include "sys/cryptsetup_volumes.h"
#include "sys/fd_io.h"
#include "sys/ini_file.h"
#include "sys/posix_file_system.h"
#include "sys/posix_process_runner.h"
#include "sys/process_info.h"
#include "sys/real_config_environment.h"
#include "sys/udev_device_finder.h"

namespace ubc {

namespace {

constexpr const char* kUsage =
    "usage: usb-backup-copier [--config PATH] prepare-disk --device /dev/sdX\n"
    "                         [--encrypt] [--fs ext4|xfs] [--label NAME] [--yes]\n"
    "  Erases the whole disk: one GPT partition, a filesystem, the copier's directory,\n"
    "  and its UUID added to the whitelist. Without --yes it asks to type the disk's\n"
    "  model and size back. A disk that is not removable must be named by\n"
    "  /dev/disk/by-id/.... --encrypt: LUKS2 opened by a key file in the keys\n"
    "  directory, plus a recovery passphrase (the next line of stdin when it is not\n"
    "  a terminal, else one is made and shown once).\n";

constexpr const char* kPartitionName = "usb-backup-copier";

// Runs a tool to its end; its stdout and stderr together, and its exit code.
struct ToolResult {
  int exit_code = 0;
  std::string output;
};

ToolResult run_tool(const std::vector<std::string>& argv) {
  PosixProcessRunner runner;
  const auto process = runner.start(argv);
  ToolResult result;
  for (;;) {
    const ProcessOutput out = process->read(std::chrono::seconds(1));
    result.output += out.out + out.err;
    if (out.exited) break;
  }
  result.exit_code = process->exit_code();
  return result;
}

void run_or_throw(const std::vector<std::string>& argv) {
  const ToolResult result = run_tool(argv);
  if (result.exit_code != 0) {
    throw std::runtime_error("'" + join(argv, " ") + "' failed (exit " +
                             std::to_string(result.exit_code) + "): " +
                             std::string(trim(result.output)));
  }
}

std::string mkfs_program(const std::string& fstype) { return "mkfs." + fstype; }

// The one partition the new table holds, once udev has made its node.
std::string new_partition(const std::string& disk) {
  run_or_throw({"udevadm", "settle", "--timeout=60"});
  DiskFacts facts = read_disk_facts(disk);
  if (facts.partitions.empty()) {
    // A kernel built without the GPT parser re-reads nothing; partx hands it the partition.
    run_or_throw({"partx", "--add", disk});
    run_or_throw({"udevadm", "settle", "--timeout=60"});
    facts = read_disk_facts(disk);
  }
  if (facts.partitions.size() != 1) {
    throw std::runtime_error("after partitioning, the kernel shows " +
                             std::to_string(facts.partitions.size()) + " partitions on " +
                             quoted(disk) + " instead of 1");
  }
  return facts.partitions.front();
}

// Adds uuid to the whitelist in config.ini; false (and nothing changed) when the file cannot
// be rewritten safely, in which case the caller prints the line for the admin.
bool whitelist(const std::string& config_path, const std::string& uuid, std::string& why) {
  PosixFileSystem fs;
  const auto text = fs.read_file(config_path, 4 * 1024 * 1024);
  if (!text) {
    why = "it is not a regular file this command may replace";
    return false;
  }
  const IniFile file = parse_ini(*text);
  const IniEntry* list = nullptr;
  for (const IniEntry& entry : file.entries) {
    if (iequals(entry.section, "Backup") && iequals(entry.key, kDiskListKey)) list = &entry;
  }
  if (list == nullptr) {
    why = "it has no " + std::string(kDiskListKey) + " in [Backup]";
    return false;
  }
  const auto updated = add_disk_to_config_text(*text, DiskListEntry{list->line, list->value}, uuid);
  if (!updated) {
    why = "its disk list could not be located line by line";
    return false;
  }
  // The new text must read as the old one plus this disk, or it is not written.
  const ConfigResult result =
      build_config(config_path, parse_ini(*updated).entries, RealConfigEnvironment{});
  if (result.config.find_disk(uuid) == nullptr) {
    why = "the edited file did not list the disk when read back";
    return false;
  }
  try {
    rewrite_file(config_path, *updated);
  } catch (const std::system_error& e) {
    why = e.what();
    return false;
  }
  return true;
}

// The recovery passphrase: the next line of stdin when a program or a file feeds it, else a
// new one that is shown once.
struct Passphrase {
  std::string text;
  bool generated = false;
};

std::optional<Passphrase> read_or_make_passphrase() {
  if (!stdin_is_terminal()) {
    std::string line;
    if (std::getline(std::cin, line) && !line.empty()) {
      if (const auto problem = passphrase_problem(line)) {
        std::cerr << "usb-backup-copier: prepare-disk: " << *problem << "; nothing was changed.\n";
        return std::nullopt;
      }
      return Passphrase{line, false};
    }
  }
  return Passphrase{recovery_passphrase(random_bytes(25)), true};
}

// The LUKS2 container on `partition`, its key file written and the container open while this
// lives; closed on the way out whatever happens.
class NewContainer {
 public:
  NewContainer(const Config& config, const std::string& partition, const std::string& label,
               const std::string& passphrase) {
    const std::string key = random_bytes(64);
    uuid_ = format_luks2(partition, key, passphrase, label);
    const auto key_path = key_file_path(config, uuid_);
    name_ = mapping_name(uuid_).value_or("");
    if (!key_path || name_.empty()) throw std::runtime_error("the new container's UUID " + quoted(uuid_) + " is not a UUID");
    PosixFileSystem().make_directories(key_directory(config), 0700);
    write_file_atomic(*key_path, *key_path + ".tmp", key, 0600, true);
    key_path_ = *key_path;
    devnode_ = volumes_.open(partition, name_, key_path_).devnode;
  }
  ~NewContainer() {
    try {
      (void)volumes_.close(name_);
    } catch (const std::exception& e) {
      std::cerr << "usb-backup-copier: prepare-disk: closing " << devnode_ << ": " << e.what() << "\n";
    }
  }
  NewContainer(const NewContainer&) = delete;
  NewContainer& operator=(const NewContainer&) = delete;
  const std::string& uuid() const { return uuid_; }
  const std::string& devnode() const { return devnode_; }
  const std::string& key_path() const { return key_path_; }

 private:
  CryptsetupVolumes volumes_;
  std::string uuid_, name_, key_path_, devnode_;
};

void make_filesystem(const std::string& device, const std::string& fstype, const std::string& label) {
  std::cout << "Making an " << fstype << " filesystem on " << device << "\n";
  run_or_throw(fstype == "xfs"
                   ? std::vector<std::string>{mkfs_program(fstype), "-q", "-f", "-L", label, device}
                   : std::vector<std::string>{mkfs_program(fstype), "-q", "-F", "-L", label, device});
  TemporaryMount mount(device, fstype);
  PosixFileSystem().make_directories(mount.path() + "/.usb-backup-copier", 0700);
}

int prepare(const Config& config, const std::string& config_path, const std::string& device,
            const std::string& fstype, const std::string& label, bool yes, bool encrypt) {
  const DiskFacts disk = read_disk_facts(device);
  std::vector<DiskUse> uses;
  if (disk.is_block_device && !disk.is_partition) uses = read_disk_uses(disk, config.backup_source);
  if (const auto refusal = prepare_refusal(disk, uses, config.backup_source)) {
    std::cerr << "usb-backup-copier: prepare-disk: " << *refusal << ". Nothing was changed.\n";
    return kExitFailed;
  }
  const std::string phrase = confirmation_phrase(disk);
  std::cout << "This ERASES everything on " << disk.devnode << " (" << phrase
            << (disk.partitions.empty() ? "" : ", partitions " + join(disk.partitions, " "))
            << ") and makes it a rotation disk: a GPT with one partition, "
            << (encrypt ? "LUKS2, " : "") << fstype
            << " labelled " << quoted(label) << ".\n";
  if (!yes) {
    std::cout << "Type the disk's model and size to confirm (" << phrase << "): " << std::flush;
    std::string typed;
    std::getline(std::cin, typed);
    if (!confirmation_matches(typed, disk)) {
      std::cerr << "usb-backup-copier: prepare-disk: what was typed does not match "
                << quoted(phrase) << "; nothing was changed.\n";
      return kExitFailed;
    }
  }
  std::optional<Passphrase> passphrase;
  if (encrypt && !(passphrase = read_or_make_passphrase())) return kExitFailed;

  for (const std::string& partition : disk.partitions) run_or_throw({"wipefs", "--all", "--quiet", partition});
  std::cout << "Writing a new partition table on " << disk.devnode << "\n";
  write_single_partition_gpt(disk.devnode, kPartitionName);
  const std::string partition = new_partition(disk.devnode);
  std::string uuid;
  if (encrypt) {
    std::cout << "Encrypting " << partition << " (LUKS2, argon2id: this takes some seconds)\n";
    NewContainer container(config, partition, label, passphrase->text);
    make_filesystem(container.devnode(), fstype, label);
    uuid = container.uuid();
    std::cout << "Key file: " << container.key_path()
              << " (back the keys directory up apart from the disks: without it or the recovery "
                 "passphrase the disk cannot be read)\n";
    if (passphrase->generated) {
      std::cout << "\nRecovery passphrase -- WRITE THIS DOWN and keep it apart from the disk; it is "
                   "shown only now:\n\n    "
                << passphrase->text << "\n\n";
    }
  } else {
    make_filesystem(partition, fstype, label);
  }
  // udev learns of the new filesystem from a change event; ask for one and wait for it.
  run_or_throw({"udevadm", "trigger", "--action=change", "--settle", partition});
  const auto found = UdevDeviceFinder().by_devnode(partition);
  if (!found || found->uuid.empty())
    throw std::runtime_error("udev reports no filesystem UUID on " + quoted(partition));
  if (!uuid.empty() && !iequals(uuid, found->uuid))
    throw std::runtime_error("udev reports UUID " + found->uuid + " on " + quoted(partition) +
                             " instead of the container's " + uuid);
  uuid = found->uuid;

  std::cout << "Disk ready: " << partition << (encrypt ? ", LUKS2 with " : ", ") << fstype
            << ", label " << quoted(label) << ", UUID " << uuid << "\n";
  Config enrolling = config;
  if (config.find_disk(uuid) != nullptr) {
    std::cout << "It is already whitelisted in " << config_path << ".\n";
  } else {
    std::string why;
    if (whitelist(config_path, uuid, why))
      std::cout << "Added to " << kDiskListKey << " in " << config_path << ".\n";
    else
      std::cout << "Could not add it to " << config_path << " (" << why << "). Add it yourself: in "
                << "[Backup], give " << kDiskListKey << " one more line:\n    " << uuid << "\n";
    // The disk is ours whether or not the file could be edited: enrol it as if listed.
    enrolling.disks.push_back(DiskEntry{lower(uuid), {}, 0});
  }
  if (enroll_device("usb-backup-copier: prepare-disk", enrolling, partition) != kExitOk) {
    std::cout << "The disk is ready but not enrolled; enrol it with 'usb-backup-copier enroll --device "
              << partition << "'.\n";
    return kExitFailed;
  }
  std::cout << "Plug it in to make its first copy.\n";
  return kExitOk;
}

}  // namespace

int cmd_prepare_disk(const Invocation& inv) {
  std::vector<std::string> args = inv.args;
  std::string error;
  const auto device = take_option(args, "--device", error);
  const auto fs_option = take_option(args, "--fs", error);
  const auto label_option = take_option(args, "--label", error);
  const bool yes = take_flag(args, "--yes");
  const bool encrypt = take_flag(args, "--encrypt");
  if (!error.empty()) return usage_error(inv.program, error, kUsage);
  if (!args.empty()) return usage_error(inv.program, "unexpected argument '" + args.front() + "'", kUsage);
  if (!device) return usage_error(inv.program, "prepare-disk needs --device", kUsage);
  const std::string fstype = fs_option.value_or("ext4");
  if (fstype != "ext4" && fstype != "xfs")
    return usage_error(inv.program, "--fs must be ext4 or xfs, not " + quoted(fstype), kUsage);
  const std::string label = label_option.value_or(kDefaultDiskLabel);
  if (const auto problem = label_problem(fstype, label))
    return usage_error(inv.program, "--label: " + *problem, kUsage);

  const auto config = load_config_or_report(inv.config_path);
  if (!config) {
    std::cerr << "usb-backup-copier: prepare-disk: the configuration " << quoted(inv.config_path)
              << " has errors (listed above); fix them first, nothing was changed.\n";
    return kExitConfig;
  }
  try {
    return prepare(*config, inv.config_path, *device, fstype, label, yes, encrypt);
  } catch (const std::exception& e) {
    std::cerr << "usb-backup-copier: prepare-disk: " << e.what()
              << ". The disk may now be partly prepared; run prepare-disk on it again.\n";
    return kExitFailed;
  }
}

}  // namespace ubc
