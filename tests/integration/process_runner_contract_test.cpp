// SPDX-License-Identifier: MIT
// One behaviour suite for the ProcessRunner port, run against PosixProcessRunner with real
// programs and against the unit tests' FakeProcessRunner with scripted runs, so that the
// fake the job's tests stand on cannot drift from the real thing. Each case asks its world
// for a process in words ("writes this, then exits 3"); the real world builds it with sh,
// the fake one scripts it. What only the real runner can show is in
// posix_process_runner_test.cpp.
#include <errno.h>
#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "fakes/fake_process_runner.h"
#include "support/loop_disk.h"
#include "support/waiting.h"
#include "sys/posix_process_runner.h"

namespace ubc::test {
namespace {

using namespace std::chrono_literals;

// One thing a process writes, in order, and where.
struct Write {
  enum class To { out, err } to;
  std::string text;
};

class ProcessWorld {
 public:
  virtual ~ProcessWorld() = default;
  // Writes each text in turn, completely, then exits with code.
  virtual std::unique_ptr<Process> writes_then_exits(const std::vector<Write>& writes, int code) = 0;
  // Writes text on stdout, then stays silent and running until it is ended.
  virtual std::unique_ptr<Process> writes_then_stays(const std::string& text) = 0;
  // Silent and running until it is ended; returned once it ignores SIGTERM, if it does.
  virtual std::unique_ptr<Process> stays_silent(bool ignores_sigterm) = 0;
  // Kills itself with sig.
  virtual std::unique_ptr<Process> dies_of(int sig) = 0;
  // start() of a program that is nowhere in PATH.
  virtual std::unique_ptr<Process> start_missing(const std::string& name) = 0;
  // start() of an empty command line.
  virtual std::unique_ptr<Process> start_nothing() = 0;
  // The world's monotonic time: the steady clock, or the fake clock.
  virtual std::chrono::milliseconds now() = 0;
};

class RealWorld final : public ProcessWorld {
 public:
  RealWorld() : dir_(make_temp_dir("ubc-runner")) {}
  ~RealWorld() override { remove_tree(dir_); }

  std::unique_ptr<Process> writes_then_exits(const std::vector<Write>& writes, int code) override {
    // The texts go through files: any bytes, any size, each written completely by cat.
    std::vector<std::string> argv{"sh", "-c", "", "sh"};
    std::string script;
    for (const Write& w : writes) {
      argv.push_back(text_file(w.text));
      script += "cat \"${" + std::to_string(argv.size() - 4) + "}\"" + (w.to == Write::To::err ? " >&2" : "") + "; ";
    }
    argv[2] = script + "exit " + std::to_string(code);
    return runner_.start(argv);
  }
  std::unique_ptr<Process> writes_then_stays(const std::string& text) override {
    return runner_.start({"sh", "-c", "cat \"$1\"; exec sleep " + kLifetime, "sh", text_file(text)});
  }
  std::unique_ptr<Process> stays_silent(bool ignores_sigterm) override {
    if (!ignores_sigterm) return runner_.start({"sleep", kLifetime});
    // sleep runs as the shell's child, as rsync's helpers do: terminate() must end both.
    auto p = runner_.start({"sh", "-c", "trap '' TERM; echo ready; sleep " + kLifetime + "; echo survived"});
    EXPECT_EQ(read_until(*p, "ready\n"), "ready\n") << "the shell did not get as far as ignoring SIGTERM";
    return p;
  }
  std::unique_ptr<Process> dies_of(int sig) override {
    return runner_.start({"sh", "-c", "kill -" + std::to_string(sig) + " $$"});
  }
  std::unique_ptr<Process> start_missing(const std::string& name) override { return runner_.start({name, "--flag"}); }
  std::unique_ptr<Process> start_nothing() override { return runner_.start({}); }
  std::chrono::milliseconds now() override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch());
  }

 private:
  // Longer than any safety net here: within one, only the runner can end such a process.
  inline static const std::string kLifetime = "120";

  std::string text_file(const std::string& text) {
    const std::string path = dir_ + "/text" + std::to_string(files_++);
    write_file(path, text);
    return path;
  }

  std::string dir_;
  int files_ = 0;
  PosixProcessRunner runner_;
};

class FakeWorld final : public ProcessWorld {
 public:
  std::unique_ptr<Process> writes_then_exits(const std::vector<Write>& writes, int code) override {
    ScriptedRun run;
    for (const Write& w : writes) {
      ScriptedRun::Chunk c;
      (w.to == Write::To::out ? c.out : c.err) = w.text;
      run.chunks.push_back(c);
    }
    run.exit_code = code;
    return start(std::move(run));
  }
  std::unique_ptr<Process> writes_then_stays(const std::string& text) override {
    ScriptedRun run;
    run.chunks.emplace_back().out = text;
    run.hang = true;
    return start(std::move(run));
  }
  std::unique_ptr<Process> stays_silent(bool ignores_sigterm) override {
    ScriptedRun run;
    run.hang = true;
    run.ignores_sigterm = ignores_sigterm;
    return start(std::move(run));
  }
  std::unique_ptr<Process> dies_of(int sig) override {
    ScriptedRun run;
    run.exit_code = 128 + sig;
    return start(std::move(run));
  }
  std::unique_ptr<Process> start_missing(const std::string& name) override {
    ScriptedRun run;
    run.start_error = ENOENT;
    runner_.runs_.push_back(std::move(run));
    return runner_.start({name, "--flag"});
  }
  std::unique_ptr<Process> start_nothing() override { return runner_.start({}); }
  std::chrono::milliseconds now() override { return clock_.monotonic(); }

 private:
  std::unique_ptr<Process> start(ScriptedRun run) {
    runner_.runs_.push_back(std::move(run));
    return runner_.start({"scripted"});
  }

  FakeClock clock_;
  FakeProcessRunner runner_{clock_};
};

using WorldFactory = std::function<std::unique_ptr<ProcessWorld>()>;

class ProcessRunnerContract : public ::testing::TestWithParam<std::pair<const char*, WorldFactory>> {
 protected:
  void SetUp() override { world_ = GetParam().second(); }
  std::unique_ptr<ProcessWorld> world_;
};

// n bytes of lines that differ from each other, so that a lost, doubled or reordered piece
// shows.
std::string numbered_lines(char tag, std::size_t n) {
  std::string text;
  for (std::size_t i = 0; text.size() < n; ++i) text += std::string(1, tag) + " " + std::to_string(i) + "\n";
  text.resize(n);
  return text;
}

// The real runner counts time in whole milliseconds, rounded down, so it may come back up
// to a millisecond before a timeout or grace.
constexpr std::chrono::milliseconds kRounding{1};

TEST_P(ProcessRunnerContract, StdoutAndStderrArriveSeparatelyAndCompletely) {
  // Megabytes on both, stderr first: a runner that drained only stdout would leave the
  // process blocked on a full stderr pipe for ever.
  const std::string err = numbered_lines('e', 2'000'000);
  const std::string out = numbered_lines('o', 3'000'000);
  auto p = world_->writes_then_exits({{Write::To::err, err}, {Write::To::out, out}, {Write::To::err, "done\n"}}, 0);
  const Collected c = collect(*p);
  ASSERT_TRUE(c.exited);
  EXPECT_EQ(c.out.size(), out.size());
  EXPECT_TRUE(c.out == out) << "stdout differs";
  EXPECT_EQ(c.err.size(), err.size() + 5);
  EXPECT_TRUE(c.err == err + "done\n") << "stderr differs";
  EXPECT_EQ(p->exit_code(), 0);
}

TEST_P(ProcessRunnerContract, ReportsTheExitCodeOnceTheOutputIsDrainedAndKeepsSayingSo) {
  auto p = world_->writes_then_exits({{Write::To::out, "to-out\n"}, {Write::To::err, "to-err\n"}}, 3);
  const Collected c = collect(*p);
  ASSERT_TRUE(c.exited);
  EXPECT_EQ(c.out, "to-out\n");
  EXPECT_EQ(c.err, "to-err\n");
  EXPECT_EQ(p->exit_code(), 3);
  const ProcessOutput again = p->read(10ms);
  EXPECT_TRUE(again.exited);
  EXPECT_EQ(again.out + again.err, "");
}

TEST_P(ProcessRunnerContract, ReportsDeathBySignalAs128PlusTheSignal) {
  auto p = world_->dies_of(SIGKILL);
  ASSERT_TRUE(collect(*p).exited);
  EXPECT_EQ(p->exit_code(), 128 + SIGKILL);
}

TEST_P(ProcessRunnerContract, OutputArrivesWhileTheProcessStillRuns) {
  auto p = world_->writes_then_stays("first\n");
  EXPECT_EQ(read_until(*p, "first\n"), "first\n");
  const ProcessOutput o = p->read(50ms);
  EXPECT_FALSE(o.exited);
  p->terminate(5s);
  EXPECT_EQ(p->exit_code(), 128 + SIGTERM);
}

TEST_P(ProcessRunnerContract, AReadOfASilentProcessComesBackEmptyOnceItsTimeoutIsOver) {
  auto p = world_->stays_silent(false);
  const auto before = world_->now();
  const ProcessOutput o = p->read(300ms);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "");
  // The process runs on: the read came back for its timeout, not for the end.
  EXPECT_FALSE(o.exited);
  // And only then: a read that came back at once would make the job's loop spin.
  EXPECT_GE(world_->now() - before, 300ms - kRounding);
}

TEST_P(ProcessRunnerContract, TerminateEndsAProcessThatHeedsSigtermWithoutWaitingOutTheGrace) {
  auto p = world_->stays_silent(false);
  // A grace longer than the safety net: only a runner that waits it out fails to return.
  ASSERT_TRUE(returns_within(60s, [&] { p->terminate(150s); })) << "terminate() waited out its grace";
  EXPECT_EQ(p->exit_code(), 128 + SIGTERM);
  const ProcessOutput o = p->read(10ms);
  EXPECT_TRUE(o.exited);
  EXPECT_EQ(o.out + o.err, "");
}

TEST_P(ProcessRunnerContract, TerminateKillsAProcessThatIgnoresSigtermOnceTheGraceIsOver) {
  auto p = world_->stays_silent(true);
  const auto before = world_->now();
  p->terminate(500ms);
  EXPECT_GE(world_->now() - before, 500ms - kRounding) << "SIGKILL came before the grace was over";
  EXPECT_EQ(p->exit_code(), 128 + SIGKILL);
  // Nothing of it is left to write: it is over, with all it started.
  const Collected c = collect(*p);
  EXPECT_TRUE(c.exited);
  EXPECT_EQ(c.out, "");
}

TEST_P(ProcessRunnerContract, TerminateAfterTheEndKeepsTheProcesssOwnExitCode) {
  auto p = world_->writes_then_exits({}, 3);
  ASSERT_TRUE(collect(*p).exited);
  p->terminate(5s);
  EXPECT_EQ(p->exit_code(), 3);
  EXPECT_TRUE(p->read(10ms).exited);
}

TEST_P(ProcessRunnerContract, StartReportsAProgramThatDoesNotExistNamingIt) {
  try {
    (void)world_->start_missing("ubc-no-such-program-here");
    FAIL() << "start did not throw";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENOENT);
    EXPECT_NE(std::string(e.what()).find("ubc-no-such-program-here"), std::string::npos) << e.what();
  }
}

TEST_P(ProcessRunnerContract, StartRefusesAnEmptyCommandLine) {
  EXPECT_THROW((void)world_->start_nothing(), std::system_error);
}

INSTANTIATE_TEST_SUITE_P(
    Adapters, ProcessRunnerContract,
    ::testing::Values(std::make_pair("PosixProcessRunner", WorldFactory([] { return std::make_unique<RealWorld>(); })),
                      std::make_pair("FakeProcessRunner", WorldFactory([] { return std::make_unique<FakeWorld>(); }))),
    [](const auto& adapter) { return std::string(adapter.param.first); });

}  // namespace
}  // namespace ubc::test
