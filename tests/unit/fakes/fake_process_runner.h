// SPDX-License-Identifier: MIT
#pragma once

#include <cerrno>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "fakes/fake_clock.h"
#include "ports/process_runner.h"

namespace ubc::test {

// One scripted run: each read() hands out the next chunk (after `delay` of fake time and
// the chunk's action, if any); when chunks run out the process exits with exit_code_, or,
// if hang_ is set, produces nothing forever (each read costs its full timeout).
// tests/integration/process_runner_contract_test.cpp holds it to PosixProcessRunner's
// behaviour.
struct ScriptedRun {
  struct Chunk {
    std::string out;
    std::string err;
    std::chrono::milliseconds delay{100};
    std::function<void()> action;
  };
  std::vector<Chunk> chunks;
  int exit_code = 0;
  bool hang = false;
  // SIGTERM is ignored: terminate() ends the run with SIGKILL once its grace has passed.
  bool ignores_sigterm = false;
  // Not 0: start() throws std::system_error with this errno (ENOENT: no such program,
  // EACCES: not executable), naming the program as PosixProcessRunner does.
  int start_error = 0;
};

class FakeProcessRunner final : public ProcessRunner {
 public:
  explicit FakeProcessRunner(FakeClock& clock) : clock_(clock) {}

  class FakeProcess final : public Process {
   public:
    FakeProcess(FakeProcessRunner& runner, ScriptedRun run) : runner_(runner), run_(std::move(run)) {}
    ProcessOutput read(std::chrono::milliseconds timeout) override {
      ProcessOutput o;
      if (exited_) {
        o.exited = true;
        return o;
      }
      if (next_ < run_.chunks.size()) {
        auto& c = run_.chunks[next_++];
        runner_.clock_.advance(std::min(c.delay, timeout));
        if (c.action) c.action();
        o.out = c.out;
        o.err = c.err;
        return o;
      }
      if (run_.hang) {
        runner_.clock_.advance(timeout);
        return o;
      }
      exited_ = true;
      exit_code_ = run_.exit_code;
      o.exited = true;
      return o;
    }
    // Like the real one: a run that has already exited keeps its own exit code.
    void terminate(std::chrono::milliseconds grace) override {
      if (exited_) return;
      ++runner_.terminations_;
      if (run_.ignores_sigterm) runner_.clock_.advance(grace);
      exited_ = true;
      exit_code_ = 128 + (run_.ignores_sigterm ? kSigkill : kSigterm);
    }
    int exit_code() const override { return exit_code_; }

   private:
    static constexpr int kSigterm = 15;
    static constexpr int kSigkill = 9;
    FakeProcessRunner& runner_;
    ScriptedRun run_;
    std::size_t next_ = 0;
    bool exited_ = false;
    int exit_code_ = -1;
  };

  std::unique_ptr<Process> start(const std::vector<std::string>& argv) override {
    started_.push_back(argv);
    if (argv.empty() || argv.front().empty())
      throw std::system_error(EINVAL, std::generic_category(), "execve: empty command line");
    if (runs_.empty()) throw std::logic_error("FakeProcessRunner: no scripted run left");
    ScriptedRun run = std::move(runs_.front());
    runs_.pop_front();
    if (run.start_error != 0) {
      const std::string& name = argv.front();
      throw std::system_error(run.start_error, std::generic_category(),
                              name.find('/') == std::string::npos ? "'" + name + "' in PATH"
                                                                   : "execve '" + name + "'");
    }
    return std::make_unique<FakeProcess>(*this, std::move(run));
  }

  FakeClock& clock_;
  std::deque<ScriptedRun> runs_;
  std::vector<std::vector<std::string>> started_;
  int terminations_ = 0;
};

}  // namespace ubc::test
