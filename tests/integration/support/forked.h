// SPDX-License-Identifier: MIT
// Races between real processes: runs body(i) in `count` forked children at once and
// returns their exit codes (or -1 for a child that did not exit normally), in order.
#pragma once

#include <functional>
#include <vector>

namespace ubc::test {

// body runs in the child and its result becomes the exit code (0..255); an exception
// escaping it exits 255. The child ends with _exit: no atexit handlers, no gtest output.
std::vector<int> run_in_children(int count, const std::function<int(int)>& body);

}  // namespace ubc::test
