// SPDX-License-Identifier: MIT
// rsync's --stats block, its exit code's meaning and the error lines of its stderr: what
// rsync prints, file names and messages included, is outside input.
#include <cstdint>
#include <string>
#include <vector>

#include "core/rsync.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = ubc::fuzz::as_text(data, size);
  if (const auto stats = ubc::parse_rsync_stats(text)) {
    (void)stats->files_total;
  }
  const std::vector<std::string> lines = ubc::last_error_lines(text, 5);
  UBC_FUZZ_CHECK(lines.size() <= 5);
  for (const std::string& line : lines) {
    UBC_FUZZ_CHECK(!line.empty());
    UBC_FUZZ_CHECK(line.find_first_of("\r\n") == std::string::npos);
  }
  if (size >= 4) {
    std::uint32_t bits = 0;
    for (int i = 0; i < 4; ++i) bits = bits << 8 | data[i];
    UBC_FUZZ_CHECK(!ubc::rsync_exit_meaning(static_cast<int>(bits)).empty());
  }
  return 0;
}
