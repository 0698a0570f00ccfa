// SPDX-License-Identifier: MIT
// Real signals sent to this test process while a SignalStop is installed.
#include "sys/system_clock.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <system_error>
#include <thread>

#include "support/orphan_reaper.h"
#include "support/waiting.h"

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

// SignalStop::wait counts whole milliseconds, rounded down: it may end up to one early.
constexpr std::chrono::milliseconds kRounding{1};

TEST(SystemClock, SleepEndsEarlyWhenAStopSignalArrives) {
  // In a child process, which the test can end if the sleep does not. Its sleeping thread
  // blocks SIGTERM, so the handler runs on the other thread and only the self-pipe can wake
  // the sleeper; the signal goes to the process once the sleeper is asleep. Unwoken, the
  // sleep would last an hour.
  test::OrphanReaper reaper;
  int ready[2];
  ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    int code = 1;
    try {
      SignalStop stop;
      SystemClock clock(&stop);
      std::thread other([] {
        for (;;) ::pause();
      });
      other.detach();
      sigset_t term;
      sigemptyset(&term);
      sigaddset(&term, SIGTERM);
      if (::pthread_sigmask(SIG_BLOCK, &term, nullptr) == 0 && ::write(ready[1], "r", 1) == 1) {
        clock.sleep(1h);
        code = stop.describe() == "SIGTERM" ? 0 : 2;
      }
    } catch (...) {
    }
    ::_exit(code);
  }
  ::close(ready[1]);
  char byte = 0;
  const bool started = ::read(ready[0], &byte, 1) == 1;
  ::close(ready[0]);
  // After "ready" the sleeper blocks nowhere but in its wait: asleep ("S"), or gone.
  std::string state = test::process_state(child);
  const auto net = Steady::now() + 30s;
  while (started && (state == "R" || state == "D") && Steady::now() < net) {
    std::this_thread::sleep_for(1ms);
    state = test::process_state(child);
  }
  const bool asleep = started && state == "S";
  if (asleep) (void)::kill(child, SIGTERM);

  int status = 0;
  const bool ended = reaper.wait_for_end(child, 60s, &status);  // else its destructor kills it
  ASSERT_TRUE(started) << "the child did not get as far as its sleep";
  ASSERT_TRUE(asleep) << "the sleep ended before any signal (state '" << state << "')";
  ASSERT_TRUE(ended) << "SIGTERM did not wake the sleep";
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: an exception; 2: woken, but the stop was not 'SIGTERM'";
}

TEST(SystemClock, SleepLastsItsFullTimeWithoutASignal) {
  SignalStop stop;
  SystemClock clock(&stop);
  const auto start = Steady::now();
  EXPECT_TRUE(test::returns_within(60s, [&] { clock.sleep(300ms); })) << "a 300 ms sleep went on and on";
  EXPECT_GE(Steady::now(), start + 300ms - kRounding) << "the sleep ended before its time";
}

TEST(SystemClock, ASignalFromBeforeTheSleepDoesNotCutLaterSleepsShort) {
  // After a stop the job still sleeps between unmount retries; those pauses must last.
  SignalStop stop;
  SystemClock clock(&stop);
  ASSERT_EQ(::raise(SIGTERM), 0);
  const auto start = Steady::now();
  clock.sleep(300ms);
  EXPECT_GE(Steady::now(), start + 300ms - kRounding);
}

TEST(SystemClock, SleepsWithoutAStopSignalToo) {
  SystemClock clock;
  const auto start = Steady::now();
  EXPECT_TRUE(test::returns_within(60s, [&] { clock.sleep(200ms); })) << "a 200 ms sleep went on and on";
  EXPECT_GE(Steady::now(), start + 200ms);
}

// Whole units since the clock's epoch, rounded down, as the clock under test counts.
template <class Unit, class TimePoint>
std::int64_t whole(TimePoint t) {
  return std::chrono::duration_cast<Unit>(t.time_since_epoch()).count();
}

TEST(SystemClock, ReadsWallAndMonotonicTime) {
  SystemClock clock;
  // Each reading lies between two readings of the system's own clock around it.
  const auto wall_before = std::chrono::system_clock::now();
  const auto wall = clock.now_unix();
  const auto wall_after = std::chrono::system_clock::now();
  EXPECT_LE(whole<std::chrono::seconds>(wall_before), wall);
  EXPECT_LE(wall, whole<std::chrono::seconds>(wall_after));

  const auto steady_before = Steady::now();
  const auto m1 = clock.monotonic();
  clock.sleep(50ms);
  const auto m2 = clock.monotonic();
  const auto steady_after = Steady::now();
  EXPECT_LE(whole<std::chrono::milliseconds>(steady_before), m1.count());
  EXPECT_GE(m2 - m1, 50ms);
  EXPECT_LE(m2.count(), whole<std::chrono::milliseconds>(steady_after));
}

}  // namespace
}  // namespace ubc
