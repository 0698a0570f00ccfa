// SPDX-License-Identifier: MIT
// Figures as admins read them, in logs, mails, status lines and the web page.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>

namespace ubc {

// "0 B", "512 B", "1.5 KiB", "12.3 GiB", "1.20 TiB".
std::string format_bytes(std::uint64_t bytes);
// "95.2 MiB/s".
std::string format_rate(double bytes_per_second);
// "45 s", "12 min", "3 h 05 min", "2 d 4 h".
std::string format_duration(std::int64_t seconds);
// RFC 3339 UTC: "2026-11-23T01:08:47Z".
std::string format_utc(std::int64_t unix_seconds);
// The calendar fields of a UTC time, for fmt's chrono formatting ("{:%a, %d %b %Y}"). Unlike
// gmtime() it cannot fail, whatever a hostile state file says the time was.
std::tm utc_tm(std::int64_t unix_seconds);

// A double as a whole number, saturating: NaN and negatives are 0, values past the type's
// range are its maximum. Converting such a value with static_cast is undefined behaviour, and
// rates and estimates come from figures a state file or rsync may make absurd.
std::uint64_t saturate_to_u64(double value);
std::int64_t saturate_to_i64(double value);

}  // namespace ubc
