// SPDX-License-Identifier: MIT
#include "core/format.h"

#include <fmt/chrono.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <limits>

namespace ubc {

std::string format_bytes(std::uint64_t bytes) {
  static constexpr std::array<const char*, 6> units{"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < units.size()) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  // Three significant digits: 1.20 TiB, 12.3 GiB, 512 MiB.
  if (value < 10)
    std::snprintf(buf, sizeof buf, "%.2f %s", value, units[unit]);
  else if (value < 100)
    std::snprintf(buf, sizeof buf, "%.1f %s", value, units[unit]);
  else
    std::snprintf(buf, sizeof buf, "%.0f %s", value, units[unit]);
  return buf;
}

std::string format_rate(double bytes_per_second) {
  return format_bytes(saturate_to_u64(bytes_per_second)) + "/s";
}

std::uint64_t saturate_to_u64(double value) {
  // 2^64 is exactly representable; every double below it converts without overflow.
  constexpr double kLimit = 18446744073709551616.0;
  if (!(value > 0)) return 0;  // NaN too
  if (value >= kLimit) return std::numeric_limits<std::uint64_t>::max();
  return static_cast<std::uint64_t>(value);
}

std::int64_t saturate_to_i64(double value) {
  constexpr double kLimit = 9223372036854775808.0;  // 2^63
  if (!(value > 0)) return 0;
  if (value >= kLimit) return std::numeric_limits<std::int64_t>::max();
  return static_cast<std::int64_t>(value);
}

std::string format_duration(std::int64_t seconds) {
  if (seconds < 0) seconds = 0;
  char buf[48];
  if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%lld s", static_cast<long long>(seconds));
  } else if (seconds < 3600) {
    std::snprintf(buf, sizeof buf, "%lld min", static_cast<long long>((seconds + 30) / 60));
  } else if (seconds < 86400) {
    const long long minutes = (seconds + 30) / 60;
    std::snprintf(buf, sizeof buf, "%lld h %02lld min", minutes / 60, minutes % 60);
  } else {
    const long long hours = (seconds + 1800) / 3600;
    std::snprintf(buf, sizeof buf, "%lld d %lld h", hours / 24, hours % 24);
  }
  return buf;
}

std::tm utc_tm(std::int64_t unix_seconds) {
  using namespace std::chrono;
  // Times read from a disk or a lease file may be anything; far outside years 0 to 9999,
  // floor<days> overflows (undefined behaviour). Such a time is shown as the nearest end.
  constexpr std::int64_t kFirst = -62167219200;  // 0000-01-01T00:00:00Z
  constexpr std::int64_t kLast = 253402300799;   // 9999-12-31T23:59:59Z
  const sys_seconds t{seconds{std::clamp(unix_seconds, kFirst, kLast)}};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  std::tm tm{};
  tm.tm_year = static_cast<int>(ymd.year()) - 1900;
  tm.tm_mon = static_cast<int>(static_cast<unsigned>(ymd.month())) - 1;
  tm.tm_mday = static_cast<int>(static_cast<unsigned>(ymd.day()));
  tm.tm_wday = static_cast<int>(weekday{day}.c_encoding());
  tm.tm_hour = static_cast<int>(hms.hours().count());
  tm.tm_min = static_cast<int>(hms.minutes().count());
  tm.tm_sec = static_cast<int>(hms.seconds().count());
  return tm;
}

std::string format_utc(std::int64_t unix_seconds) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", utc_tm(unix_seconds));
}

}  // namespace ubc
