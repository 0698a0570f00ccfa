// SPDX-License-Identifier: MIT
// `usb-backup-copier match UUID`: the udev rule's question "is this one of our disks?".
// It runs for every filesystem that appears, so it reads the configuration file and
// nothing else, prints nothing and answers with its exit code.
#include <optional>
#include <string>

#include "app/cli.h"
#include "app/commands.h"
#include "core/config.h"
#include "core/exit_codes.h"
#include "ports/config_environment.h"
#include "sys/ini_file.h"

namespace ubc {
namespace {

// Validation would stat backup-source and friends. A source on a network share that has
// stopped answering would then hang udev's worker for every block device; the disk list
// needs none of it, so every path is taken as absent and the resulting errors ignored.
class NoFileSystem final : public ConfigEnvironment {
 public:
  bool is_directory(const std::string&) const override { return false; }
  std::optional<unsigned> file_mode(const std::string&) const override { return std::nullopt; }
};

}  // namespace

int cmd_match(const Invocation& inv) {
  if (inv.args.size() != 1) {
    return usage_error(
        inv.program,
        inv.args.empty() ? "match needs a filesystem UUID" : "match takes exactly one UUID",
        "usage: usb-backup-copier [--config PATH] match UUID\n");
  }
  // Errors elsewhere in the file do not hide a disk the list names: the copy unit then
  // starts and fails loudly, with those errors in its journal, where a silently ignored
  // disk would leave the admin wondering why nothing happens.
  const IniFile file = read_ini_file(inv.config_path);
  const ConfigResult result = build_config(inv.config_path, file.entries, NoFileSystem{});
  constexpr int kNotWhitelisted = 1;
  return result.config.find_disk(inv.args.front()) != nullptr ? kExitOk : kNotWhitelisted;
}

}  // namespace ubc
