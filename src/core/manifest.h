// SPDX-License-Identifier: MIT
// The disk's checksum manifest (DESIGN.md §8): .usb-backup-copier/SHA256SUMS in sha256sum's
// own format, so that `cd DISK && sha256sum -c .usb-backup-copier/SHA256SUMS` works on any
// Linux machine, and beside it the size and mtime each sum was taken at, so that a later
// run can keep the sums of files it did not touch without reading them again.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ubc {

inline constexpr const char* kManifestFile = ".usb-backup-copier/SHA256SUMS";
inline constexpr const char* kManifestStampFile = ".usb-backup-copier/SHA256SUMS.stamps";
// The disk's own manifest has a line (about 100 bytes) per file: 64 MiB is some 600,000
// files. Anything bigger is not ours, and is not read into memory.
inline constexpr std::uint64_t kManifestMaxBytes = 64ULL << 20;

// What a file looked like when its sum was taken.
struct FileStamp {
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

struct ManifestEntry {
  std::string sha256;  // 64 lower-case hex digits
  std::optional<FileStamp> stamp;  // unknown for a manifest written by another tool
};

// Path (relative to the copy's root, no leading "./") -> entry, sorted as sha256sum -c reads.
using Manifest = std::map<std::string, ManifestEntry>;

struct ParsedManifest {
  Manifest entries;
  std::vector<int> bad_lines;  // 1-based numbers of lines that are not "HASH  NAME"
};

// sha256sum's format: "HASH  NAME\n"; a name holding '\\', '\n' or '\r' is escaped and the
// line starts with a backslash, as coreutils does.
std::string render_sha256sums(const Manifest& manifest);
std::string render_stamps(const Manifest& manifest);
// Untrusted input: every line is checked; a path that is absolute or climbs out with ".."
// is a bad line, never an entry.
ParsedManifest parse_sha256sums(std::string_view text);
// Adds the stamps to entries that parse_sha256sums found; stamps of unknown paths are dropped.
void apply_stamps(std::string_view text, Manifest& manifest);

bool is_sha256_hex(std::string_view text);

}  // namespace ubc
