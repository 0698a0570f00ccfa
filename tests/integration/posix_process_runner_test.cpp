// SPDX-License-Identifier: MIT
// Real programs through PosixProcessRunner. The tests use sh to build odd children; the
// runner itself never does.
#include "sys/posix_process_runner.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <system_error>

#include "support/orphan_reaper.h"

namespace ubc {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Collected {
  std::string out;
  std::string err;
  bool exited = false;
};

// Reads until the child has exited or the deadline passes.
Collected collect(Process& p, std::chrono::milliseconds limit = 20s) {
  Collected c;
  const auto deadline = Clock::now() + limit;
  while (!c.exited && Clock::now() < deadline) {
    ProcessOutput o = p.read(200ms);
    c.out += o.out;
    c.err += o.err;
    c.exited = o.exited;
  }
  return c;
}

// Reads until stdout contains text (or the deadline passes).
std::string read_until(Process& p, const std::string& text, std::chrono::milliseconds limit = 10s) {
  std::string out;
  const auto deadline = Clock::now() + limit;
  while (out.find(text) == std::string::npos && Clock::now() < deadline) {
    ProcessOutput o = p.read(100ms);
    out += o.out;
    if (o.exited) break;
  }
  return out;
}

class PosixProcessRunnerTest : public ::testing::Test {
 protected:
  PosixProcessRunner runner_;
};

TEST_F(PosixProcessRunnerTest, EchoPrintsItsArgumentsAndExitsZero) {
  auto p = runner_.start({"echo", "hello", "world"});
  const Collected c = collect(*p);
  ASSERT_TRUE(c.exited);
  EXPECT_EQ(c.out, "hello world\n");
  EXPECT_EQ(c.err, "");
  EXPECT_EQ(p->exit_code(), 0);
}

TEST_F(PosixProcessRunnerTest, ArgumentsReachTheProgramUntouchedByAnyShell) {
  auto p = runner_.start({"echo", "$HOME; `id` * 'q'"});
  const Collected c = collect(*p);
  ASSERT_TRUE(c.exited);
  EXPECT_EQ(c.out, "$HOME; `id` * 'q'\n");
}

TEST_F(PosixProcessRunnerTest, SeparatesStderrAndReportsTheExitStatus) {
  auto p = runner_.start({"sh", "-c", "echo to-out; echo to-err >&2; exit 3"});
  const Collected c = collect(*p);
  ASSERT_TRUE(c.exited);
  EXPECT_EQ(c.out, "to-out\n");
  EXPECT_EQ(c.err, "to-err\n");
  EXPECT_EQ(p->exit_code(), 3);
}

TEST_F(PosixProcessRunnerTest, StdinIsDevNull) {
  auto p = runner_.start({"cat"});
  const Collected c = collect(*p, 5s);
  ASSERT_TRUE(c.exited) << "cat did not see EOF on stdin";
  EXPECT_EQ(c.out, "");
  EXPECT_EQ(p->exit_code(), 0);
}

TEST_F(PosixProcessRunnerTest, MissingProgramThrowsNamingIt) {
  try {
    (void)runner_.start({"ubc-no-such-program-here", "--flag"});
    FAIL() << "start did not throw";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENOENT);
    EXPECT_NE(std::string(e.what()).find("ubc-no-such-program-here"), std::string::npos) << e.what();
  }
}

TEST_F(PosixProcessRunnerTest, EmptyCommandLineThrows) {
  EXPECT_THROW((void)runner_.start({}), std::system_error);
}

TEST_F(PosixProcessRunnerTest, ReadReturnsOutputBeforeTheChildExits) {
  auto p = runner_.start({"sh", "-c", "echo first; exec sleep 30"});
  const auto start = Clock::now();
  const std::string out = read_until(*p, "first\n");
  EXPECT_EQ(out, "first\n");
  EXPECT_LT(Clock::now() - start, 5s);
  const ProcessOutput o = p->read(50ms);
  EXPECT_FALSE(o.exited);
  p->terminate(5s);
}

TEST_F(PosixProcessRunnerTest, ReadWaitsNoLongerThanItsTimeout) {
  auto p = runner_.start({"sleep", "30"});
  const auto start = Clock::now();
  const ProcessOutput o = p->read(300ms);
  const auto took = Clock::now() - start;
  EXPECT_FALSE(o.exited);
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);
}

TEST_F(PosixProcessRunnerTest, TerminateStopsASleepingChildWithSigterm) {
  auto p = runner_.start({"sleep", "30"});
  const auto start = Clock::now();
  p->terminate(10s);
  EXPECT_LT(Clock::now() - start, 5s);
  EXPECT_EQ(p->exit_code(), 128 + SIGTERM);
  EXPECT_TRUE(p->read(10ms).exited);
}

TEST_F(PosixProcessRunnerTest, TerminateKillsAChildThatIgnoresSigtermAfterTheGrace) {
  auto p = runner_.start({"sh", "-c", "trap '' TERM; echo ready; sleep 30; echo survived"});
  ASSERT_EQ(read_until(*p, "ready\n"), "ready\n");
  const auto start = Clock::now();
  p->terminate(500ms);
  const auto took = Clock::now() - start;
  EXPECT_GE(took, 450ms) << "SIGKILL came before the grace period ended";
  EXPECT_LT(took, 5s);
  EXPECT_EQ(p->exit_code(), 128 + SIGKILL);
  // The sleep it had started is gone too: nothing holds the pipes any more.
  const Collected c = collect(*p, 5s);
  EXPECT_TRUE(c.exited);
  EXPECT_EQ(c.out.find("survived"), std::string::npos);
}

// "R", "S", "Z", ... from /proc/<pid>/stat, or "" once the process is gone entirely.
std::string process_state(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return "";
  const auto close_paren = line.rfind(')');
  return close_paren == std::string::npos ? "" : line.substr(close_paren + 2, 1);
}

TEST_F(PosixProcessRunnerTest, TerminateReturnsOnlyWhenTheChildsHelpersAreGoneToo) {
  // Like rsync's receiver: a helper process that holds files (and the pipes) open. When
  // terminate() returns, the caller unmounts; the helper must not be alive any more.
  auto p = runner_.start({"sh", "-c", "sleep 30 & echo $!; wait"});
  const std::string out = read_until(*p, "\n");
  ASSERT_FALSE(out.empty());
  const pid_t helper = std::stoi(out);
  ASSERT_NE(process_state(helper), "");
  p->terminate(5s);
  const std::string state = process_state(helper);
  EXPECT_TRUE(state.empty() || state == "Z") << "helper still running, state " << state;
}

TEST_F(PosixProcessRunnerTest, ReportsDeathBySignalAs128PlusSignal) {
  auto p = runner_.start({"sh", "-c", "kill -KILL $$"});
  ASSERT_TRUE(collect(*p).exited);
  EXPECT_EQ(p->exit_code(), 128 + SIGKILL);
}

TEST_F(PosixProcessRunnerTest, LargeOutputOnBothPipesDoesNotDeadlock) {
  // stderr first: a runner that drained only stdout would leave the child blocked on a
  // full stderr pipe forever.
  auto p = runner_.start({"sh", "-c", "head -c 2000000 /dev/zero >&2; head -c 3000000 /dev/zero; echo done >&2"});
  const Collected c = collect(*p, 30s);
  ASSERT_TRUE(c.exited);
  EXPECT_EQ(c.out.size(), 3000000u);
  EXPECT_EQ(c.err.size(), 2000000u + 5);
  EXPECT_EQ(c.err.substr(c.err.size() - 5), "done\n");
  EXPECT_EQ(p->exit_code(), 0);
}

TEST_F(PosixProcessRunnerTest, ChildGetsDefaultSignalsEvenWhenTheParentBlocksOrIgnoresThem) {
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigset_t old_mask;
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &term, &old_mask), 0);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_pipe {};
  ASSERT_EQ(sigaction(SIGPIPE, &ignore, &old_pipe), 0);

  auto sleeper = runner_.start({"sleep", "30"});
  // A shell cannot undo a signal ignored at its start, so it survives SIGPIPE only if the
  // parent's SIG_IGN leaked through.
  auto piper = runner_.start({"sh", "-c", "kill -PIPE $$; echo survived"});

  (void)sigaction(SIGPIPE, &old_pipe, nullptr);
  (void)pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);

  const auto start = Clock::now();
  sleeper->terminate(10s);
  EXPECT_LT(Clock::now() - start, 5s) << "the child inherited a blocked SIGTERM";
  EXPECT_EQ(sleeper->exit_code(), 128 + SIGTERM);

  const Collected c = collect(*piper);
  ASSERT_TRUE(c.exited);
  EXPECT_EQ(c.out, "");
  EXPECT_EQ(piper->exit_code(), 128 + SIGPIPE);
}

TEST_F(PosixProcessRunnerTest, DestroyingTheProcessKillsAndReapsTheChild) {
  auto p = runner_.start({"sh", "-c", "echo $$; exec sleep 30"});
  const std::string out = read_until(*p, "\n");
  ASSERT_FALSE(out.empty());
  const pid_t pid = std::stoi(out);
  ASSERT_EQ(::kill(pid, 0), 0);
  const auto start = Clock::now();
  p.reset();
  EXPECT_LT(Clock::now() - start, 5s);
  // Reaped, not a zombie: the pid no longer exists at all.
  errno = 0;
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST_F(PosixProcessRunnerTest, AChildDiesWithTheProcessThatStartedItEvenWhenThatIsKilled) {
  // A holder process starts a long sleep through the runner and is SIGKILLed: no
  // destructor runs, nobody writes to the sleep, only the kernel can end it.
  test::OrphanReaper reaper;
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  const pid_t holder = ::fork();
  ASSERT_GE(holder, 0);
  if (holder == 0) {
    ::close(fds[0]);
    try {
      PosixProcessRunner runner;
      auto sleeper = runner.start({"sh", "-c", "echo $$; exec sleep 600"});
      const std::string pid = read_until(*sleeper, "\n");
      if (::write(fds[1], pid.data(), pid.size()) != static_cast<ssize_t>(pid.size())) ::_exit(1);
      ::close(fds[1]);
      for (;;) ::pause();
    } catch (...) {
    }
    ::_exit(1);
  }
  ::close(fds[1]);
  std::string line;
  char buf[32];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) line.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  ASSERT_FALSE(line.empty()) << "the holder did not start its child";
  const pid_t sleeper = std::stoi(line);

  ASSERT_EQ(::kill(holder, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(holder, &status, 0), holder);
  ASSERT_TRUE(reaper.wait_for_end(sleeper, 30s, &status)) << "the child outlived the holder";
  EXPECT_TRUE(WIFSIGNALED(status)) << "status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

TEST_F(PosixProcessRunnerTest, ReportsAProgramThatIsNotExecutable) {
  const std::string path = "/tmp/ubc-runner-not-executable.sh";
  std::ofstream(path) << "#!/bin/sh\necho ran\n";
  try {
    (void)runner_.start({path});
    ::unlink(path.c_str());
    FAIL() << "start did not throw";
  } catch (const std::system_error& e) {
    ::unlink(path.c_str());
    EXPECT_EQ(e.code().value(), EACCES);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST_F(PosixProcessRunnerTest, ALaterChildDoesNotHoldAnEarlierChildsPipesOpen) {
  // Without O_CLOEXEC on the pipes the long sleeper would inherit the short child's write
  // ends, and the short child's EOF would wait for the sleeper.
  auto short_child = runner_.start({"sleep", "0.3"});
  auto long_child = runner_.start({"sleep", "30"});
  const auto start = Clock::now();
  const Collected c = collect(*short_child, 10s);
  EXPECT_TRUE(c.exited);
  EXPECT_LT(Clock::now() - start, 5s);
  EXPECT_EQ(short_child->exit_code(), 0);
}

}  // namespace
}  // namespace ubc
