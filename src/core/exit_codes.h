// SPDX-License-Identifier: MIT
// Exit codes of every binary (DESIGN.md §3), documented in the README and man pages.
#pragma once

namespace ubc {

inline constexpr int kExitOk = 0;          // success, possibly with warnings
inline constexpr int kExitFailed = 1;      // the job failed
inline constexpr int kExitUsage = 2;       // bad command line
inline constexpr int kExitTempFail = 75;   // gave up waiting (Veeam, queue): try again later
inline constexpr int kExitConfig = 78;     // configuration error

}  // namespace ubc
