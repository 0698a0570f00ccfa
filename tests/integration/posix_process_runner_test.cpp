// SPDX-License-Identifier: MIT
// Real programs through PosixProcessRunner: what only the real runner can show (no shell,
// stdin, process groups, signal dispositions, the death signal, pipes and exec). What every
// ProcessRunner does is in process_runner_contract_test.cpp. The tests use sh to build odd
// children; the runner itself never does.
#include "sys/posix_process_runner.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <system_error>

#include "support/loop_disk.h"
#include "support/orphan_reaper.h"
#include "support/waiting.h"

namespace ubc {
namespace {

using test::collect;
using test::Collected;
using test::process_state;
using test::read_until;
using test::returns_within;

using namespace std::chrono_literals;

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

TEST_F(PosixProcessRunnerTest, StdinIsDevNull) {
  auto p = runner_.start({"cat"});
  const Collected c = collect(*p);
  ASSERT_TRUE(c.exited) << "cat did not see EOF on stdin";
  EXPECT_EQ(c.out, "");
  EXPECT_EQ(p->exit_code(), 0);
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

  // A child that inherited the blocked SIGTERM would outlast the grace and die of SIGKILL.
  sleeper->terminate(10s);
  EXPECT_EQ(sleeper->exit_code(), 128 + SIGTERM) << "the child inherited a blocked SIGTERM";

  const Collected c = collect(*piper);
  ASSERT_TRUE(c.exited);
  EXPECT_EQ(c.out, "");
  EXPECT_EQ(piper->exit_code(), 128 + SIGPIPE);
}

TEST_F(PosixProcessRunnerTest, DestroyingTheProcessKillsAndReapsTheChild) {
  // The child never ends by itself: the destructor returns only once it has killed it.
  auto p = runner_.start({"sh", "-c", "echo $$; exec sleep infinity"});
  const std::string out = read_until(*p, "\n");
  ASSERT_FALSE(out.empty());
  const pid_t pid = std::stoi(out);
  ASSERT_EQ(::kill(pid, 0), 0);
  EXPECT_TRUE(returns_within(60s, [&] { p.reset(); }, [&] { (void)::kill(pid, SIGKILL); }))
      << "the destructor waited for a child that does not end by itself";
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
  // Without O_CLOEXEC on the pipes the later child would inherit the earlier child's write
  // ends, and the earlier child's EOF would wait for the later one. The earlier child
  // blocks on a FIFO until the later one runs, then the test lets it end.
  const std::string dir = test::make_temp_dir("ubc-runner");
  const std::string fifo = dir + "/go";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto earlier = runner_.start({"sh", "-c", "read line < \"$1\"", "sh", fifo});
  auto later = runner_.start({"sleep", "infinity"});
  {
    std::ofstream go(fifo);  // opens once the earlier child has opened its end
    go << "go\n";
  }
  const Collected c = collect(*earlier);
  test::remove_tree(dir);
  EXPECT_TRUE(c.exited) << "the earlier child's end was not seen while the later one runs";
  EXPECT_EQ(earlier->exit_code(), 0);
  EXPECT_FALSE(later->read(0ms).exited);
}

}  // namespace
}  // namespace ubc
