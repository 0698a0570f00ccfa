// SPDX-License-Identifier: MIT
// What the disk holds that no copy of ours put there (DESIGN.md §10): symbolic links,
// device nodes, FIFOs and sockets where the source has none. They are harmless -- the disk
// is mounted nosuid,nodev,noexec,nosymfollow, rsync replaces or deletes an entry without
// following or opening it, and our own files are read with O_NOFOLLOW | O_NONBLOCK -- but
// someone or something else wrote them, and the admin should hear of it.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "core/disk_state.h"
#include "core/job.h"
#include "core/restore_points.h"
#include "core/rsync.h"
#include "core/text.h"

namespace ubc {
namespace {

constexpr std::size_t kNamedExamples = 3;

// A name from the disk is data: every byte a terminal or a mail header could act on is
// shown as \xNN.
std::string printable_name(const std::string& name) {
  std::string out;
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '\\') {
      out += c;
    } else {
      constexpr std::string_view digits = "0123456789abcdef";
      out += "\\x";
      out += digits[u >> 4];
      out += digits[u & 0xf];
    }
  }
  return out;
}

}  // namespace

void Job::note_foreign_entries() {
  // Only the filesystem's own entries are left out: the contents of .usb-backup-copier are
  // ours, so anything special in there (or the directory itself as a link) is foreign too.
  std::vector<std::string> leave_out;
  for (const std::string& entry : disk_own_entries())
    if (entry != kDiskStateDir) leave_out.push_back(entry);

  std::array<std::uint64_t, 4> counts{};  // by SpecialKind
  std::uint64_t total = 0;
  std::vector<std::string> examples;
  try {
    ports_.fs.walk_special(config_.backup_destination, leave_out, [&](const std::string& path, SpecialKind kind) {
      // The link naming the newest restore point is ours.
      if (path == kLatestLink && kind == SpecialKind::symlink) return;
      // A copy's own symlink (or FIFO, device node) of the source -- the mirror's, a restore
      // point's or the in-progress one's: not foreign.
      if (ports_.fs.kind(config_.backup_source + "/" + std::string(source_path_of(path))) == PathKind::other) return;
      ++counts[static_cast<std::size_t>(kind)];
      ++total;
      if (examples.size() < kNamedExamples) examples.push_back(ubc::quoted(printable_name(path)));
    });
  } catch (const std::system_error& e) {
    warn("Could not look through the disk for entries the copy did not put there (" + std::string(e.what()) +
         "); the copy goes on");
    return;
  }
  if (total == 0) return;

  std::vector<std::string> kinds;
  if (counts[0] > 0) kinds.push_back(count_of(counts[0], "symbolic link", "symbolic links"));
  if (counts[1] > 0) kinds.push_back(count_of(counts[1], "device node", "device nodes"));
  if (counts[2] > 0) kinds.push_back(count_of(counts[2], "FIFO", "FIFOs"));
  if (counts[3] > 0) kinds.push_back(count_of(counts[3], "socket", "sockets"));
  warn("The disk held " + join(kinds, ", ") + " that the source does not have (" +
       (total > examples.size() ? "e.g. " : "") + join(examples, ", ") +
       "), put there by someone or something else; none was followed or opened, and rsync "
       "replaces or deletes them like anything else that differs from the source");
}

}  // namespace ubc
