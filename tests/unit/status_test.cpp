// SPDX-License-Identifier: MIT
#include "core/status.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <iterator>
#include <set>
#include <string>
#include <utility>

#include "core/json.h"

namespace ubc {
namespace {

constexpr std::uint64_t kGiB = 1024ULL * 1024 * 1024;

Status with_phase(Phase phase, std::string detail = "") {
  Status s;
  s.uuid = "0b5e1c2a-7d4f-4c8e-9a61-3f2d8e7c6b5a";
  s.phase = phase;
  s.detail = std::move(detail);
  return s;
}

TEST(PhaseNames, AreDistinctWords) {
  const Phase all[] = {Phase::starting, Phase::queued,           Phase::waiting_for_veeam,
                       Phase::mounting, Phase::estimating,       Phase::copying,
                       Phase::paused_for_veeam, Phase::finishing, Phase::done};
  std::set<std::string> names;
  for (const Phase p : all) names.insert(to_string(p));
  EXPECT_EQ(names.size(), std::size(all));
  EXPECT_STREQ(to_string(Phase::waiting_for_veeam), "waiting-for-veeam");
  EXPECT_STREQ(to_string(Phase::copying), "copying");
}

TEST(StatusLine, NamesEachPhaseAndItsDetail) {
  EXPECT_EQ(status_line(with_phase(Phase::starting)), "starting");
  EXPECT_EQ(status_line(with_phase(Phase::queued, "behind disk 'Monday'")), "queued: behind disk 'Monday'");
  EXPECT_EQ(status_line(with_phase(Phase::waiting_for_veeam, "job 'Nightly'")), "waiting for Veeam: job 'Nightly'");
  EXPECT_EQ(status_line(with_phase(Phase::mounting, "/dev/sdb1 at '/mnt/usb'")), "mounting: /dev/sdb1 at '/mnt/usb'");
  EXPECT_EQ(status_line(with_phase(Phase::estimating)), "estimating");
  EXPECT_EQ(status_line(with_phase(Phase::finishing, "unmounting")), "finishing: unmounting");
  EXPECT_EQ(status_line(with_phase(Phase::done, "success")), "done: success");
}

TEST(StatusLine, CopyingShowsProgressRateAndTimeLeft) {
  Status s = with_phase(Phase::copying);
  s.bytes_done = 3 * kGiB;
  s.bytes_total = 10 * kGiB;
  s.rate_bytes_per_second = 95.2 * 1024 * 1024;
  s.eta_seconds = 300;
  EXPECT_EQ(status_line(s), "copying 3.00 GiB of 10.0 GiB (30%), 95.2 MiB/s, 5 min left");
}

TEST(StatusLine, CopyingLeavesOutWhatIsNotKnownYet) {
  Status s = with_phase(Phase::copying);
  s.bytes_done = 512;
  EXPECT_EQ(status_line(s), "copying 512 B");
  s.bytes_total = 1024;
  EXPECT_EQ(status_line(s), "copying 512 B of 1.00 KiB (50%)");
}

TEST(StatusLine, PercentNeverPassesHundred) {
  Status s = with_phase(Phase::copying);
  s.bytes_done = 2 * kGiB;
  s.bytes_total = kGiB;
  EXPECT_EQ(status_line(s), "copying 2.00 GiB of 1.00 GiB (100%)");
  s.bytes_done = UINT64_MAX - 1;
  s.bytes_total = UINT64_MAX;
  EXPECT_NE(status_line(s).find("(99%)"), std::string::npos) << status_line(s);
}

TEST(StatusLine, PausedShowsWhereItStopped) {
  Status s = with_phase(Phase::paused_for_veeam, "job 'Nightly'");
  s.bytes_done = kGiB;
  s.bytes_total = 4 * kGiB;
  EXPECT_EQ(status_line(s), "paused for Veeam at 1.00 GiB of 4.00 GiB (25%): job 'Nightly'");
}

Status full_status() {
  Status s;
  s.uuid = "0b5e1c2a-7d4f-4c8e-9a61-3f2d8e7c6b5a";
  s.label = "Büro \"Montag\"\n";
  s.devnode = "/dev/sdb1";
  s.pid = 4242;
  s.phase = Phase::paused_for_veeam;
  s.detail = "job 'Nightly' \\ backslash";
  s.bytes_done = 123456789012;
  s.bytes_total = 987654321098;
  s.rate_bytes_per_second = 104857600.25;
  s.eta_seconds = 7512;
  s.started_at = 1795000000;
  s.updated_at = 1795000123;
  return s;
}

TEST(StatusJson, RoundTripsEveryField) {
  const Status in = full_status();
  const auto out = status_from_json(to_json(in));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->uuid, in.uuid);
  EXPECT_EQ(out->label, in.label);
  EXPECT_EQ(out->devnode, in.devnode);
  EXPECT_EQ(out->pid, in.pid);
  EXPECT_EQ(out->phase, in.phase);
  EXPECT_EQ(out->detail, in.detail);
  EXPECT_EQ(out->bytes_done, in.bytes_done);
  EXPECT_EQ(out->bytes_total, in.bytes_total);
  EXPECT_DOUBLE_EQ(out->rate_bytes_per_second, in.rate_bytes_per_second);
  EXPECT_EQ(out->eta_seconds, in.eta_seconds);
  EXPECT_EQ(out->started_at, in.started_at);
  EXPECT_EQ(out->updated_at, in.updated_at);
}

TEST(StatusJson, RoundTripsEveryPhaseAndAnUnknownEta) {
  for (const Phase p : {Phase::starting, Phase::queued, Phase::waiting_for_veeam, Phase::mounting, Phase::estimating,
                        Phase::copying, Phase::paused_for_veeam, Phase::finishing, Phase::done}) {
    Status in = with_phase(p);
    const auto out = status_from_json(to_json(in));
    ASSERT_TRUE(out) << to_string(p);
    EXPECT_EQ(out->phase, p);
    EXPECT_FALSE(out->eta_seconds);
  }
}

TEST(StatusJson, CarriesTheStatusLineForReaders) {
  const Status s = full_status();
  const auto obj = parse_json_object(to_json(s));
  ASSERT_TRUE(obj);
  EXPECT_EQ(json_string(*obj, "line"), status_line(s));
  EXPECT_EQ(json_string(*obj, "phase"), "paused-for-veeam");
}

TEST(StatusJson, RejectsWhatIsNotAStatus) {
  EXPECT_FALSE(status_from_json("not json"));
  EXPECT_FALSE(status_from_json(R"({"phase": "copying"})"));                     // no uuid
  EXPECT_FALSE(status_from_json(R"({"uuid": "x"})"));                            // no phase
  EXPECT_FALSE(status_from_json(R"({"uuid": "x", "phase": "teleporting"})"));   // unknown phase
  EXPECT_FALSE(status_from_json(R"({"uuid": 5, "phase": "copying"})"));         // wrong type
}

TEST(StatusJson, NegativeByteCountsReadAsZero) {
  const auto s = status_from_json(R"({"uuid": "x", "phase": "copying", "bytes_done": -5})");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->bytes_done, 0u);
}

}  // namespace
}  // namespace ubc
