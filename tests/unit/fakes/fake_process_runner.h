// SPDX-License-Identifier: MIT
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <system_error>
#include <vector>

#include "fakes/fake_clock.h"
#include "ports/process_runner.h"

namespace ubc::test {

// One scripted run: each read() hands out the next chunk (after `delay` of fake time and
// the chunk's action, if any); when chunks run out the process exits with exit_code_, or,
// if hang_ is set, produces nothing forever (each read costs its full timeout).
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
};

class FakeProcessRunner final : public ProcessRunner {
 public:
  explicit FakeProcessRunner(FakeClock& clock) : clock_(clock) {}

  class FakeProcess final : public Process {
   public:
    FakeProcess(FakeProcessRunner& runner, ScriptedRun run) : runner_(runner), run_(std::move(run)) {}
    ProcessOutput read(std::chrono::milliseconds timeout) override {
      ProcessOutput o;
      if (terminated_) {
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
      o.exited = true;
      return o;
    }
    void terminate(std::chrono::milliseconds) override {
      terminated_ = true;
      ++runner_.terminations_;
    }
    int exit_code() const override { return terminated_ ? 128 + 15 : run_.exit_code; }

   private:
    FakeProcessRunner& runner_;
    ScriptedRun run_;
    std::size_t next_ = 0;
    bool exited_ = false;
    bool terminated_ = false;
  };

  std::unique_ptr<Process> start(const std::vector<std::string>& argv) override {
    started_.push_back(argv);
    if (fail_start_) throw std::system_error(ENOENT, std::generic_category(), "posix_spawnp " + argv.at(0));
    if (runs_.empty()) throw std::logic_error("FakeProcessRunner: no scripted run left");
    ScriptedRun run = std::move(runs_.front());
    runs_.pop_front();
    return std::make_unique<FakeProcess>(*this, std::move(run));
  }

  FakeClock& clock_;
  std::deque<ScriptedRun> runs_;
  std::vector<std::vector<std::string>> started_;
  bool fail_start_ = false;
  int terminations_ = 0;
};

}  // namespace ubc::test
