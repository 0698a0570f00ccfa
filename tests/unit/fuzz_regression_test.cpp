// SPDX-License-Identifier: MIT
// Inputs the fuzz targets (fuzz/) found to break a parser, each fed again exactly as found,
// with the outcome the parser must now give.
#include <gtest/gtest.h>

#include <string>

#include "core/lease.h"

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

}  // namespace
}  // namespace ubc
