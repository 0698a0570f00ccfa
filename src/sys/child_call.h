// SPDX-License-Identifier: MIT
// Runs a piece of work in a forked child process and hands back the bytes it returned.
//
// For work that would leave lasting weight in the copier if it ran there: the libraries
// it loads and the memory it touches (libcurl and its TLS stack for one mail) end with
// the child, and never count in the copier's own peak RSS (DESIGN.md §11).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

namespace ubc {

struct ChildResult {
  enum class End {
    answered,   // the child returned from work and wrote all of its answer
    given_up,   // give_up() said so; the child was killed
    timed_out,  // no answer within the time limit; the child was killed
    no_answer,  // the child died, exited without an answer or answered too much
  };
  End end = End::no_answer;
  std::string answer;  // answered: what work returned
  std::string error;   // otherwise: what happened, e.g. "killed by signal 11 (Segmentation fault)"
};

// Forks; the child runs work() and _exit()s after writing its result into a pipe, so it
// runs no atexit handler and flushes none of the parent's stdio or log buffers. The parent
// waits for the answer, asks give_up (may be empty) at least once a second, and kills
// (SIGKILL) and reaps the child when give_up returns true, when time_limit has passed or
// when the answer grows beyond max_answer. The child is always reaped before this returns;
// it also dies with the parent (PR_SET_PDEATHSIG).
//
// The child is a copy of a process that must be single-threaded when it calls this: a
// fork copies only the calling thread, and a lock another thread held (in a library's
// cache, say) would stay locked in the child for ever. The copier sends mail and pings
// only between its steps, when no other thread runs.
//
// Throws std::system_error naming the call when the child cannot be started (pipe2, fork).
ChildResult call_in_child(const std::function<std::string()>& work, const std::function<bool()>& give_up,
                          std::chrono::milliseconds time_limit, std::size_t max_answer = 1 << 20);

}  // namespace ubc
