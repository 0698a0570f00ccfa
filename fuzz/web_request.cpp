// SPDX-License-Identifier: MIT
// What a browser sends to `serve`: the path of /runs/<id>/log and the limit of
// /api/runs. The input is split at the first NUL byte into the two.
#include <cstdint>
#include <optional>
#include <string>

#include "core/web_api.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = ubc::fuzz::as_text(data, size);
  const std::size_t nul = input.find('\0');
  const std::string path(input.substr(0, nul));
  if (const auto id = ubc::parse_run_log_path(path)) {
    UBC_FUZZ_CHECK(*id > 0);
    UBC_FUZZ_CHECK(path.starts_with("/runs/") && path.ends_with("/log"));
  }
  std::optional<std::string> limit;
  if (nul != std::string_view::npos) limit = std::string(input.substr(nul + 1));
  if (const auto n = ubc::parse_runs_limit(limit))
    UBC_FUZZ_CHECK(*n >= 1 && *n <= ubc::kMaxRunsLimit);
  return 0;
}
