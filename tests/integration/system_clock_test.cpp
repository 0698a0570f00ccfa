// SPDX-License-Identifier: MIT
// Real signals sent to this test process while a SignalStop is installed.
#include "sys/system_clock.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <system_error>
#include <thread>

namespace ubc {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

void (*current_handler(int sig))(int) {
  struct sigaction now {};
  (void)::sigaction(sig, nullptr, &now);
  return now.sa_handler;
}

TEST(SignalStop, NothingIsRequestedBeforeASignal) {
  SignalStop stop;
  EXPECT_FALSE(stop.stop_requested());
  EXPECT_EQ(stop.describe(), "");
}

TEST(SignalStop, SigtermRequestsAStopAndIsNamed) {
  SignalStop stop;
  ASSERT_EQ(::raise(SIGTERM), 0);
  EXPECT_TRUE(stop.stop_requested());
  EXPECT_EQ(stop.describe(), "SIGTERM");
}

TEST(SignalStop, SigintAndSighupRequestAStopToo) {
  {
    SignalStop stop;
    ASSERT_EQ(::raise(SIGINT), 0);
    EXPECT_TRUE(stop.stop_requested());
    EXPECT_EQ(stop.describe(), "SIGINT");
  }
  {
    SignalStop stop;
    EXPECT_FALSE(stop.stop_requested()) << "a new SignalStop starts clean";
    ASSERT_EQ(::raise(SIGHUP), 0);
    EXPECT_EQ(stop.describe(), "SIGHUP");
  }
}

TEST(SignalStop, TheFirstSignalIsTheOneReported) {
  SignalStop stop;
  ASSERT_EQ(::raise(SIGINT), 0);
  ASSERT_EQ(::raise(SIGTERM), 0);
  EXPECT_EQ(stop.describe(), "SIGINT");
}

TEST(SignalStop, RestoresThePreviousHandlersWhenDestroyed) {
  const auto before = current_handler(SIGTERM);
  {
    SignalStop stop;
    EXPECT_NE(current_handler(SIGTERM), before);
  }
  EXPECT_EQ(current_handler(SIGTERM), before);
  EXPECT_EQ(current_handler(SIGINT), SIG_DFL);
  EXPECT_EQ(current_handler(SIGHUP), SIG_DFL);
}

TEST(SignalStop, OnlyOneMayBeInstalledAtATime) {
  SignalStop stop;
  try {
    SignalStop second;
    FAIL() << "a second SignalStop was allowed";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EBUSY);
  }
  ASSERT_EQ(::raise(SIGTERM), 0);
  EXPECT_TRUE(stop.stop_requested()) << "the first one still works";
}

TEST(SystemClock, SleepEndsEarlyWhenAStopSignalArrives) {
  SignalStop stop;
  SystemClock clock(&stop);
  // Sent to the process, not to this thread: the self-pipe must wake the sleeper
  // whichever thread the kernel picks to run the handler.
  std::thread sender([] {
    std::this_thread::sleep_for(200ms);
    (void)::kill(::getpid(), SIGTERM);
  });
  const auto start = Steady::now();
  clock.sleep(10s);
  const auto took = Steady::now() - start;
  sender.join();
  EXPECT_GE(took, 150ms);
  EXPECT_LT(took, 3s);
  EXPECT_TRUE(stop.stop_requested());
  EXPECT_EQ(stop.describe(), "SIGTERM");
}

TEST(SystemClock, SleepLastsItsFullTimeWithoutASignal) {
  SignalStop stop;
  SystemClock clock(&stop);
  const auto start = Steady::now();
  clock.sleep(300ms);
  EXPECT_GE(Steady::now() - start, 290ms);
  EXPECT_LT(Steady::now() - start, 3s);
}

TEST(SystemClock, ASignalFromBeforeTheSleepDoesNotCutLaterSleepsShort) {
  // After a stop the job still sleeps between unmount retries; those pauses must last.
  SignalStop stop;
  SystemClock clock(&stop);
  ASSERT_EQ(::raise(SIGTERM), 0);
  const auto start = Steady::now();
  clock.sleep(300ms);
  EXPECT_GE(Steady::now() - start, 290ms);
}

TEST(SystemClock, SleepsWithoutAStopSignalToo) {
  SystemClock clock;
  const auto start = Steady::now();
  clock.sleep(200ms);
  EXPECT_GE(Steady::now() - start, 190ms);
}

TEST(SystemClock, ReadsWallAndMonotonicTime) {
  SystemClock clock;
  const auto wall = clock.now_unix();
  const auto reference = static_cast<std::int64_t>(std::time(nullptr));
  EXPECT_LE(std::abs(wall - reference), 2);
  const auto m1 = clock.monotonic();
  clock.sleep(50ms);
  const auto m2 = clock.monotonic();
  EXPECT_GE((m2 - m1).count(), 45);
  EXPECT_LT((m2 - m1).count(), 2000);
}

}  // namespace
}  // namespace ubc
