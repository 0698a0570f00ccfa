// SPDX-License-Identifier: MIT
// config.ini as an admin may write it, typos and all: the INI reader (inih) and then
// build_config, the disk list included. Every problem must name a line of the file.
#include <algorithm>
#include <cstdint>
#include <string>

#include "core/config.h"
#include "fakes/fake_config_environment.h"
#include "fuzz_check.h"
#include "sys/ini_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = ubc::fuzz::as_text(data, size);
  const ubc::IniFile ini = ubc::parse_ini(text);
  const int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
  for (const ubc::ConfigProblem& p : ini.problems) UBC_FUZZ_CHECK(p.line >= 0 && p.line <= lines);

  // The directories the seed fixtures name, so that a valid file also gets past the checks
  // of paths and reaches everything after them.
  ubc::test::FakeConfigEnvironment env;
  env.directory("/srv/veeam")
      .directory("/media/usb-backup-copier")
      .directory("/media/usb-backup")
      .file("/etc/usb-backup-copier/smtp-password", 0600)
      .file("/etc/usb-backup-copier/config.ini", 0600);
  const ubc::ConfigResult result =
      ubc::build_config("/etc/usb-backup-copier/config.ini", ini.entries, env);
  for (const ubc::ConfigProblem& p : result.problems) {
    UBC_FUZZ_CHECK(p.line >= 0 && p.line <= lines);
    (void)ubc::format_problem(result.config.path, p);
  }
  if (!result.has_errors()) {
    for (const ubc::DiskEntry& disk : result.config.disks) {
      UBC_FUZZ_CHECK(ubc::is_valid_fs_uuid(disk.uuid));
      UBC_FUZZ_CHECK(result.config.find_disk(disk.uuid) != nullptr);
      for (const std::string& mail : disk.mails) UBC_FUZZ_CHECK(ubc::is_valid_mail_address(mail));
    }
    (void)result.config.effective_mail_port();
  }
  return 0;
}
