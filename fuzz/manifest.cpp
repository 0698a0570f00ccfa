// SPDX-License-Identifier: MIT
// The disk's SHA256SUMS and SHA256SUMS.stamps, read back from a disk anyone may have
// prepared (the input is split at the first NUL byte into the two files). No entry may
// name a path outside the copy, and what parses must survive rendering and parsing again.
#include <cstdint>
#include <string>

#include "core/manifest.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = ubc::fuzz::as_text(data, size);
  const std::size_t nul = input.find('\0');
  const std::string_view sums = input.substr(0, nul);
  const std::string_view stamps =
      nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);

  ubc::ParsedManifest parsed = ubc::parse_sha256sums(sums);
  for (const auto& [path, entry] : parsed.entries) {
    UBC_FUZZ_CHECK(!path.empty() && path.front() != '/');
    UBC_FUZZ_CHECK(path != ".." && !path.starts_with("../") && !path.ends_with("/..") &&
                   path.find("/../") == std::string::npos);
    UBC_FUZZ_CHECK(ubc::is_sha256_hex(entry.sha256));
  }
  ubc::apply_stamps(stamps, parsed.entries);

  ubc::ParsedManifest again = ubc::parse_sha256sums(ubc::render_sha256sums(parsed.entries));
  UBC_FUZZ_CHECK(again.bad_lines.empty());
  ubc::apply_stamps(ubc::render_stamps(parsed.entries), again.entries);
  UBC_FUZZ_CHECK(again.entries.size() == parsed.entries.size());
  for (const auto& [path, entry] : parsed.entries) {
    const auto it = again.entries.find(path);
    UBC_FUZZ_CHECK(it != again.entries.end());
    UBC_FUZZ_CHECK(it->second.sha256 == entry.sha256 && it->second.stamp == entry.stamp);
  }
  return 0;
}
