// SPDX-License-Identifier: MIT
// rsync's stdout as the copier reads it: the dry run's itemized lines (file names from the
// source, escaped by rsync), the copy's progress2 lines rewritten with '\r', messages.
// The first byte picks the disk's filesystem limits and how the stream is cut into reads;
// however it is cut, the reader must see the same lines.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/fs_limits.h"
#include "core/rsync.h"
#include "fuzz_check.h"

namespace {

struct Outcome {
  std::uint64_t largest = 0;
  std::vector<std::string> deleted;
  std::uint64_t skipped = 0;
  std::string text;
  std::uint64_t unstorable = 0;
  bool operator==(const Outcome&) const = default;
};

Outcome read_all(const ubc::FsLimits& limits, std::string_view stream, std::size_t chunk) {
  ubc::RsyncOutputReader reader(limits);
  Outcome out;
  while (!stream.empty()) {
    const std::size_t n = std::min(chunk, stream.size());
    reader.feed(stream.substr(0, n));
    stream.remove_prefix(n);
    if (const auto sample = reader.take_progress()) {
      UBC_FUZZ_CHECK(sample->percent >= 0 && sample->percent <= 100);
    }
  }
  reader.finish();
  out.largest = reader.largest_updated_file();
  out.deleted = reader.deleted_paths();
  out.skipped = reader.skipped_non_regular();
  out.text = reader.text();
  out.unstorable = reader.unstorable().count();
  UBC_FUZZ_CHECK(reader.unstorable().listed().size() <= ubc::UnstorableEntries::kListed);
  UBC_FUZZ_CHECK(reader.unstorable().listed().size() <= out.unstorable);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const char* const kFsTypes[] = {"ext4", "vfat", "exfat", "ntfs3"};
  const ubc::FsLimits limits = ubc::fs_limits(kFsTypes[data[0] & 3]);
  const std::size_t chunk = 1 + (data[0] >> 2);
  const std::string_view stream = ubc::fuzz::as_text(data + 1, size - 1);

  const Outcome whole = read_all(limits, stream, stream.size() + 1);
  const Outcome pieces = read_all(limits, stream, chunk);
  UBC_FUZZ_CHECK(whole == pieces);

  // Each line on its own, as the progress display calls it.
  std::size_t start = 0;
  while (start < stream.size()) {
    const std::size_t end = std::min(stream.find_first_of("\r\n", start), stream.size());
    if (const auto sample = ubc::parse_progress_line(stream.substr(start, end - start)))
      UBC_FUZZ_CHECK(sample->percent >= 0 && sample->percent <= 100);
    start = end + 1;
  }
  return 0;
}
