// SPDX-License-Identifier: MIT
// How much of a run's log the history keeps. A run that loops on an error can log without
// end; the start (what was asked) and the end (how it finished) are what an admin reads.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ubc {

inline constexpr std::size_t kMaxStoredRunLog = 2 * 1024 * 1024;

// log itself when it fits in limit bytes; else its head and its tail, cut at line ends
// where one is near, with a line "[... N bytes left out ...]" between them. The result
// never exceeds limit bytes plus that line.
std::string cap_run_log(std::string_view log, std::size_t limit = kMaxStoredRunLog);

}  // namespace ubc
