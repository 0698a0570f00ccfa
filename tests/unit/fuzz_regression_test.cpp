// SPDX-License-Identifier: MIT
// Inputs the fuzz targets (fuzz/) found to break a parser, each fed again exactly as found,
// with the outcome the parser must now give.
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "core/disk_state.h"
#include "core/format.h"
#include "core/lease.h"
#include "core/status.h"

namespace ubc {
namespace {

// fuzz_lease: "job=J\r\r" lost one '\r' and kept the other in the job name, which then
// reached log lines and did not survive format_lease/parse_lease.
TEST(FuzzRegression, LeaseWithACarriageReturnInTheJobNameIsRefused) {
  const std::string input =
      "\r\nhost=M\njoa=ever\r\ncreated=10\r\nexiires=20\r\n#"
      "\xb7\xb7\xb7\xb7\xb7\xb7\xb7\xb7\xb7\xb7\xb7\xb7\xb7\xb7\xb7\xb7\xb7\xb7\xb7\xb7"
      "\n\r\njob=J\r\r\n\nfs=rea:ted=10\r\nexpires=40\r\n";
  const LeaseParse parsed = parse_lease(input, "x.lease");
  EXPECT_FALSE(parsed.lease);
  EXPECT_EQ(parsed.error, "'job' contains a control character");
}

// The same kind of lease by hand: a pid beyond int, and a host with a terminal escape.
TEST(FuzzRegression, LeaseWithAPidBeyondIntOrAControlCharacterInTheHostIsRefused) {
  EXPECT_EQ(parse_lease("job=J\npid=4294967296\ncreated=1\nexpires=2\n", "x.lease").error,
            "'pid' is out of range: '4294967296'");
  EXPECT_EQ(parse_lease("job=J\nhost=a\x1b[2Jb\ncreated=1\nexpires=2\n", "x.lease").error,
            "'host' contains a control character");
}

// fuzz_lease: a created time near -2^63 overflowed the calendar arithmetic of format_utc
// (undefined behaviour) when the lease was written back or described.
TEST(FuzzRegression, LeaseWithATimeFarOutsideTheCalendarIsRefused) {
  const LeaseParse parsed = parse_lease("job=$\ncreated=-09223372036854775807\nexpires=-4", "x.lease");
  EXPECT_FALSE(parsed.lease);
  EXPECT_EQ(parsed.error, "'created' is out of range: '-09223372036854775807'");
  EXPECT_EQ(parse_lease("job=J\ncreated=1\nexpires=253402300800\n", "x.lease").error,
            "'expires' is out of range: '253402300800'");
}

// The same times from a disk's state.json, which the job formats for its log and writes back.
TEST(FuzzRegression, TimesFarOutsideTheCalendarAreShownAsItsEnds) {
  EXPECT_EQ(format_utc(-9223372036854775807 - 1), "0000-01-01T00:00:00Z");
  EXPECT_EQ(format_utc(9223372036854775807), "9999-12-31T23:59:59Z");
  EXPECT_EQ(format_utc(1795395600), "2026-11-23T01:00:00Z");
  const auto state = disk_state_from_json(R"({"state": "complete", "started_at": -9223372036854775808})");
  ASSERT_TRUE(state);
  EXPECT_NE(to_json(*state).find("\"started\": \"0000-01-01T00:00:00Z\""), std::string::npos) << to_json(*state);
}

// fuzz_status_file: a status file whose rate was 9.96e20 bytes/s reached format_rate, whose
// conversion to an integer overflowed (undefined behaviour) in `status` and on the page.
TEST(FuzzRegression, AnAbsurdRateInAStatusFileIsShownAtTheEndOfTheScale) {
  const auto status = status_from_json(
      R"({"uuid":"1A2B-3C4D","label":"X","devnode":"/dev/sdc1","pid":1,"phase":"copying",)"
      R"("detail":"","bytes_done":1,"bytes_total":2,"rate_bytes_per_second":9.96147e+20,)"
      R"("eta_seconds":32,"started_at":1799999400,"updated_at":1799999999})");
  ASSERT_TRUE(status);
  EXPECT_NE(status_line(*status).find("16384 PiB/s"), std::string::npos) << status_line(*status);
}

TEST(FuzzRegression, RatesAndEstimatesSaturateInsteadOfOverflowing) {
  EXPECT_EQ(format_rate(9.96147e+20), "16384 PiB/s");
  EXPECT_EQ(format_rate(1e300), "16384 PiB/s");
  EXPECT_EQ(format_rate(-5), "0 B/s");
  EXPECT_EQ(format_rate(std::numeric_limits<double>::quiet_NaN()), "0 B/s");
  EXPECT_EQ(format_rate(std::numeric_limits<double>::infinity()), "16384 PiB/s");
  EXPECT_EQ(format_rate(1536), "1.50 KiB/s");
  EXPECT_EQ(saturate_to_u64(18446744073709551616.0), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(saturate_to_u64(4096.9), 4096u);
  EXPECT_EQ(saturate_to_i64(1e19), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(saturate_to_i64(-1e19), 0);
  EXPECT_EQ(saturate_to_i64(59.5), 59);
}

}  // namespace
}  // namespace ubc
