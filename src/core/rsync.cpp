// SPDX-License-Identifier: MIT
#include "core/rsync.h"

#include <algorithm>
#include <array>
#include <filesystem>

#include "core/text.h"

namespace ubc {

namespace {


// The dry run's line per file: 11 itemize characters, the size, the name. The name comes
// last so that spaces in it need no quoting; rsync escapes the rest as \#ooo.
constexpr std::string_view kDryRunOutFormat = "%i %l %n";

// rsync treats a backslash as an escape only in patterns that hold a wildcard; a name
// without one is matched literally, backslashes included.
std::string rsync_literal_pattern(std::string_view name) {
  if (name.find_first_of("*?[") == std::string_view::npos) return std::string(name);
  std::string out;
  for (char c : name) {
    if (c == '*' || c == '?' || c == '[' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// The lock file's path below the source ("sub/x.lock"); nullopt outside it (rsync never
// sees it then). Lexical: both paths come from the same config.
std::optional<std::string> path_below(const std::string& root, const std::string& path) {
  namespace fs = std::filesystem;
  if (root.empty() || path.empty()) return std::nullopt;
  const fs::path rel = fs::path(path).lexically_normal().lexically_relative(
      fs::path(root).lexically_normal());
  if (rel.empty() || rel == "." || *rel.begin() == "..") return std::nullopt;
  return rel.generic_string();
}

// vfat/exfat/ntfs3 cannot store owners, modes, symlinks, devices or FIFOs: trying fails
// every such file and rsync exits 23. Symlinks, devices and FIFOs are skipped and reported
// instead ("skipping non-regular file"). FAT keeps times to 2 s. --hard-links is left out:
// the disk could not hold the links.
void add_without_ownership(std::vector<std::string>& argv) {
  for (const char* option : {"--no-owner", "--no-group", "--no-perms", "--no-links", "--no-devices",
                             "--no-specials", "--modify-window=2"})
    argv.emplace_back(option);
}

std::string with_trailing_slash(std::string path) {
  if (path.empty() || path.back() != '/') path += '/';
  return path;
}

// "1,234,567", or "1.234.567" where the locale's decimal point is a comma; advances pos.
std::optional<std::uint64_t> read_count(std::string_view s, std::size_t& pos) {
  const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  if (pos >= s.size() || !is_digit(s[pos])) return std::nullopt;
  std::uint64_t value = 0;
  while (pos < s.size()) {
    if (is_digit(s[pos])) {
      value = value * 10 + static_cast<std::uint64_t>(s[pos] - '0');
      ++pos;
    } else if ((s[pos] == ',' || s[pos] == '.') && pos + 1 < s.size() && is_digit(s[pos + 1])) {
      ++pos;
    } else {
      break;
    }
  }
  return value;
}

// The first count after `prefix` at the start of a line: "Total file size: 1,234 bytes".
std::optional<std::uint64_t> count_after(std::string_view line, std::string_view prefix) {
  if (!line.starts_with(prefix)) return std::nullopt;
  std::size_t pos = prefix.size();
  while (pos < line.size() && line[pos] == ' ') ++pos;
  return read_count(line, pos);
}

// Undoes rsync's "\#ooo" escapes in names; any other backslash is itself.
std::string unescape_name(std::string_view s) {
  const auto is_octal = [](char c) { return c >= '0' && c <= '7'; };
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 4 < s.size() && s[i + 1] == '#' && is_octal(s[i + 2]) &&
        is_octal(s[i + 3]) && is_octal(s[i + 4])) {
      out += static_cast<char>(((s[i + 2] - '0') << 6) | ((s[i + 3] - '0') << 3) |
                               (s[i + 4] - '0'));
      i += 4;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct ItemizedLine {
  std::string_view changes;  // the 11 itemize characters
  std::uint64_t size = 0;
  std::string_view name;     // still escaped
};

// "%i %l %n" lines: ">f.st...... 5242880 dir/name", "*deleting   0 old/". Strict, so
// that no message is taken for a file.
std::optional<ItemizedLine> parse_itemized(std::string_view l) {
  constexpr std::size_t width = 11;
  if (l.size() < width + 3 || l[width] != ' ') return std::nullopt;
  const std::string_view changes = l.substr(0, width);
  if (changes.starts_with("*")) {
    if (changes != "*deleting  ") return std::nullopt;
  } else {
    if (std::string_view("<>ch.").find(changes[0]) == std::string_view::npos) return std::nullopt;
    if (std::string_view("fdLDS").find(changes[1]) == std::string_view::npos) return std::nullopt;
    for (char c : changes.substr(2)) {
      const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      if (!letter && c != '.' && c != '+' && c != ' ' && c != '?') return std::nullopt;
    }
  }
  std::size_t pos = width + 1;
  const auto size = read_count(l, pos);
  // Exactly one space before the name: a name may itself start with spaces.
  if (!size || pos + 1 >= l.size() || l[pos] != ' ') return std::nullopt;
  return ItemizedLine{changes, *size, l.substr(pos + 1)};
}

}  // namespace

const std::vector<std::string>& disk_own_entries() {
  static const std::vector<std::string> entries{"lost+found", "System Volume Information",
                                                "$RECYCLE.BIN", ".usb-backup-copier"};
  return entries;
}

bool fs_has_unix_ownership(std::string_view fstype) {
  // "fuseblk": a FUSE driver (exfat-fuse, ntfs-3g), without Unix ownership too.
  static constexpr std::array<std::string_view, 8> without{
      "vfat", "msdos", "fat", "exfat", "ntfs", "ntfs3", "fuseblk", "umsdos"};
  return std::find(without.begin(), without.end(), fstype) == without.end();
}

std::vector<std::string> build_rsync_argv(const Config& config, const std::string& fstype,
                                          const std::string& mount_point, RsyncMode mode,
                                          const std::string& link_dest) {
  std::vector<std::string> argv{"rsync", "--archive",
                                // Why each option: README.md, "rsync options".
                                "--delete-before", "--numeric-ids"};
  // The dry run writes nothing, so it keeps no partial files, and it lists the same changes
  // without the option; with it, rsync (3.4 on) looks for a partial file beside every file,
  // walking the path one openat at a time: 5 system calls for each, where the rest of the
  // dry run makes 3.
  if (mode == RsyncMode::copy) argv.push_back("--partial-dir=" + std::string(kRsyncPartialDir));

  if (fs_has_unix_ownership(fstype)) {
    argv.emplace_back("--hard-links");
  } else {
    add_without_ownership(argv);
  }

  // Before the admin's exclude file: rsync obeys the first rule that matches.
  for (const std::string& entry : disk_own_entries()) {
    argv.push_back("--filter=P /" + std::string(entry));
    argv.push_back("--filter=H /" + std::string(entry));
  }
  // rsync adds this rule itself, but last, where the exclude file could shadow it.
  argv.push_back("--filter=-p " + std::string(kRsyncPartialDir) + "/");
  if (const auto lock = path_below(config.backup_source, config.backup_lockfile_path))
    argv.push_back("--exclude=/" + rsync_literal_pattern(*lock));

  if (!config.rsync_excludes_file.empty())
    argv.push_back("--exclude-from=" + config.rsync_excludes_file);
  if (!config.rsync_log_file_path.empty())
    argv.push_back("--log-file=" + config.rsync_log_file_path);

  // Absolute: rsync resolves a relative --link-dest against the destination directory.
  if (!link_dest.empty()) argv.push_back("--link-dest=" + link_dest);

  argv.emplace_back("--stats");
  if (mode == RsyncMode::dry_run) {
    argv.emplace_back("--dry-run");
    argv.push_back("--out-format=" + std::string(kDryRunOutFormat));
  } else {
    argv.emplace_back("--info=progress2");
    argv.emplace_back("--no-inc-recursive");
  }

  argv.push_back(with_trailing_slash(config.backup_source));
  argv.push_back(with_trailing_slash(mount_point));
  return argv;
}

std::vector<std::string> build_resume_argv(const Config& config, const std::string& fstype,
                                           const std::string& source_file,
                                           const std::string& partial_file) {
  // --append-verify sends only what lies beyond the partial copy, then checks the whole
  // file against the source's checksum; a partial copy that differs (the source changed
  // while the copy was paused, or the disk garbled it) fails that check and rsync sends the
  // file again in full. Appending never touches the file under its real name: the partial
  // copy is renamed into place only after this run succeeded. rsync refuses --append with
  // --partial-dir, which is why this is a run of its own, for this one file.
  std::vector<std::string> argv{"rsync", "--archive", "--numeric-ids", "--append-verify"};
  if (!fs_has_unix_ownership(fstype)) add_without_ownership(argv);
  if (!config.rsync_log_file_path.empty())
    argv.push_back("--log-file=" + config.rsync_log_file_path);
  // Progress only feeds the stall watchdog.
  argv.emplace_back("--info=progress2");
  argv.push_back(source_file);
  argv.push_back(partial_file);
  return argv;
}

std::vector<std::string> build_in_place_argv(const Config& config, const std::string& copy_root,
                                             const std::string& list_file) {
  // --inplace writes into the clone instead of a new file; --no-whole-file makes rsync use
  // its delta algorithm between local paths too, and a block found at its own offset is
  // then not written at all, so it stays shared with the restore point it was cloned from.
  // --ignore-times: every listed file differs from the source, but a clone made in the
  // second the source file was last written has its size and time, and rsync's quick check
  // would skip it. --files-from turns recursion off and names only these files;
  // --partial-dir cannot be combined with --inplace (a stopped run leaves the clone
  // half-updated, and the next run clones it afresh).
  std::vector<std::string> argv{"rsync", "--archive", "--numeric-ids", "--inplace", "--no-whole-file",
                                "--ignore-times", "--files-from=" + list_file, "--from0"};
  if (!config.rsync_log_file_path.empty())
    argv.push_back("--log-file=" + config.rsync_log_file_path);
  argv.emplace_back("--stats");
  argv.emplace_back("--info=progress2");
  argv.push_back(with_trailing_slash(config.backup_source));
  argv.push_back(with_trailing_slash(copy_root));
  return argv;
}

std::optional<std::string> partial_target(std::string_view path) {
  const std::string dir_part = "/" + std::string(kRsyncPartialDir) + "/";
  const std::string padded = "/" + std::string(path);
  const auto at = padded.rfind(dir_part);
  if (at == std::string::npos) return std::nullopt;
  const std::string name = padded.substr(at + dir_part.size());
  if (name.empty() || name.find('/') != std::string::npos) return std::nullopt;
  const std::string dir = padded.substr(1, at == 0 ? 0 : at);  // "a/b/" or ""
  return dir + name;
}

std::optional<RsyncStats> parse_rsync_stats(std::string_view text) {
  RsyncStats stats;
  bool have_files = false;
  bool have_transferred = false;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find_first_of("\r\n", start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    if (auto v = count_after(line, "Number of files:")) {
      stats.files_total = *v;
      have_files = true;
    } else if (auto r = count_after(line, "Number of regular files transferred:")) {
      stats.regular_files_transferred = *r;
    } else if (auto d = count_after(line, "Number of deleted files:")) {
      stats.files_deleted = *d;
    } else if (auto s = count_after(line, "Total file size:")) {
      stats.total_file_size = *s;
    } else if (auto t = count_after(line, "Total transferred file size:")) {
      stats.transferred_file_size = *t;
      have_transferred = true;
    }
    start = end + 1;
  }
  if (!have_files || !have_transferred) return std::nullopt;
  return stats;
}

std::optional<ProgressSample> parse_progress_line(std::string_view line) {
  // The "(xfr#, to-chk)" part only ends a file's line; the time may be "??:??:??".
  const std::string_view l = trim(line);
  std::size_t pos = 0;
  ProgressSample sample;
  const auto bytes = read_count(l, pos);
  if (!bytes || pos >= l.size() || l[pos] != ' ') return std::nullopt;
  sample.bytes = *bytes;

  while (pos < l.size() && l[pos] == ' ') ++pos;
  const auto percent = read_count(l, pos);
  if (!percent || *percent > 100 || pos >= l.size() || l[pos] != '%') return std::nullopt;
  sample.percent = static_cast<int>(*percent);
  ++pos;

  // The rate: the decimal point follows the locale, so it is only checked for its unit.
  while (pos < l.size() && l[pos] == ' ') ++pos;
  const auto rate_end = l.find(' ', pos);
  if (rate_end == std::string_view::npos || rate_end == pos) return std::nullopt;
  if (!l.substr(pos, rate_end - pos).ends_with("B/s")) return std::nullopt;
  pos = rate_end;

  while (pos < l.size() && l[pos] == ' ') ++pos;
  const auto time_end = std::min(l.find(' ', pos), l.size());
  const std::string_view time = l.substr(pos, time_end - pos);
  if (time.size() < 7 || time[time.size() - 3] != ':' || time[time.size() - 6] != ':')
    return std::nullopt;
  pos = time_end;

  const std::string_view rest = trim(l.substr(pos));
  if (rest.empty()) return sample;
  if (!rest.starts_with("(xfr#") || !rest.ends_with(")")) return std::nullopt;
  std::size_t xfr_pos = 5;
  const auto xfr = read_count(rest, xfr_pos);
  if (!xfr || rest.substr(xfr_pos).find("-chk=") == std::string_view::npos) return std::nullopt;
  sample.files_transferred = *xfr;
  return sample;
}

void RsyncOutputReader::feed(std::string_view chunk) {
  while (!chunk.empty()) {
    const auto end = chunk.find_first_of("\r\n");
    if (end == std::string_view::npos) {
      partial_.append(chunk);
      return;
    }
    if (partial_.empty()) {
      line(chunk.substr(0, end));
    } else {
      partial_.append(chunk.substr(0, end));
      line(partial_);
      partial_.clear();
    }
    chunk.remove_prefix(end + 1);
  }
}

void RsyncOutputReader::finish() {
  if (partial_.empty()) return;
  const std::string last = std::move(partial_);
  partial_.clear();
  line(last);
}

std::optional<ProgressSample> RsyncOutputReader::take_progress() {
  auto sample = progress_;
  progress_.reset();
  return sample;
}

void RsyncOutputReader::line(std::string_view l) {
  if (trim(l).empty()) return;
  if (auto sample = parse_progress_line(l)) {
    progress_ = sample;
    return;
  }
  if (const auto item = parse_itemized(l)) {
    if (item->changes.starts_with("*deleting")) {
      // Directories end in '/'; their files are listed one by one before them.
      if (!item->name.ends_with('/')) deleted_paths_.push_back(unescape_name(item->name));
      return;
    }
    if (unstorable_.limits().any())
      unstorable_.check(unescape_name(item->name), item->changes[1] == 'f', item->size);
    if (item->changes.starts_with(">f") && item->changes.substr(2) != "+++++++++") {
      // Received and not new: the new version is written beside the old one.
      largest_updated_file_ = std::max(largest_updated_file_, item->size);
      if (item->size >= kInPlaceMinBytes) big_updated_files_.push_back(unescape_name(item->name));
    }
    return;
  }
  if (l.starts_with("skipping non-regular file \"")) {
    ++skipped_non_regular_;
    return;
  }
  text_.append(l);
  text_ += '\n';
}

std::string rsync_exit_meaning(int code) {
  // rsync(1), EXIT VALUES.
  const char* meaning = nullptr;
  switch (code) {
    case 0: meaning = "Success"; break;
    case 1: meaning = "Syntax or usage error"; break;
    case 2: meaning = "Protocol incompatibility"; break;
    case 3: meaning = "Errors selecting input/output files, directories"; break;
    case 4: meaning = "Requested action not supported"; break;
    case 5: meaning = "Error starting client-server protocol"; break;
    case 10: meaning = "Error in socket I/O"; break;
    case 11: meaning = "Error in file I/O"; break;
    case 12: meaning = "Error in rsync protocol data stream"; break;
    case 13: meaning = "Errors with program diagnostics"; break;
    case 14: meaning = "Error in IPC code"; break;
    case 15: meaning = "Sibling process crashed"; break;
    case 16: meaning = "Sibling process was killed by a signal"; break;
    case 19: meaning = "Received SIGUSR1"; break;
    case 20: meaning = "Received SIGINT, SIGTERM, or SIGHUP"; break;
    case 21: meaning = "Some error returned by waitpid()"; break;
    case 22: meaning = "Error allocating core memory buffers"; break;
    case 23: meaning = "Partial transfer due to error"; break;
    case 24: meaning = "Partial transfer due to vanished source files"; break;
    case 25: meaning = "The --max-delete limit stopped deletions"; break;
    case 30: meaning = "Timeout in data send/receive"; break;
    case 35: meaning = "Timeout waiting for daemon connection"; break;
    // Not rsync's own: how a child that could not be executed, or died, is reported.
    case 127: meaning = "rsync could not be executed"; break;
    default: break;
  }
  if (meaning != nullptr) return std::string(meaning) + " (" + std::to_string(code) + ")";
  if (code > 128 && code < 128 + 65)
    return "rsync was killed by signal " + std::to_string(code - 128) + " (" +
           std::to_string(code) + ")";
  return "Unknown rsync exit code (" + std::to_string(code) + ")";
}

std::vector<std::string> last_error_lines(std::string_view stderr_text, std::size_t max) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= stderr_text.size()) {
    auto end = stderr_text.find_first_of("\r\n", start);
    if (end == std::string_view::npos) end = stderr_text.size();
    const std::string_view l = trim(stderr_text.substr(start, end - start));
    if (!l.empty()) lines.emplace_back(l);
    start = end + 1;
  }
  if (lines.size() > max)
    lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(max));
  return lines;
}

}  // namespace ubc
