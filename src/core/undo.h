// SPDX-License-Identifier: MIT
// What a job has done and must undo (systemd's _cleanup_ idea): each step that succeeds
// pushes its undo; on the way out they run newest first, every one of them even when an
// earlier one fails, and a failure becomes a warning, never an exception.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace ubc {

class UndoStack {
 public:
  using Undo = std::function<void()>;
  using Warn = std::function<void(const std::string&)>;

  UndoStack() = default;
  UndoStack(const UndoStack&) = delete;
  UndoStack& operator=(const UndoStack&) = delete;

  // what: "unmount the disk", for the warning when it fails.
  void push(std::string what, Undo undo) { undos_.push_back({std::move(what), std::move(undo)}); }

  bool pending(const std::string& what) const {
    for (const auto& u : undos_)
      if (u.what == what) return true;
    return false;
  }

  // Runs one undo now, on the normal path (the lock removed before unmounting), and drops
  // it; what it throws is the caller's to handle.
  void run_now(const std::string& what) {
    for (auto it = undos_.begin(); it != undos_.end(); ++it)
      if (it->what == what) {
        Undo undo = std::move(it->undo);
        undos_.erase(it);
        undo();
        return;
      }
  }

  // Drops an undo that is no longer needed, without running it.
  void forget(const std::string& what) {
    for (auto it = undos_.begin(); it != undos_.end(); ++it)
      if (it->what == what) {
        undos_.erase(it);
        return;
      }
  }

  void unwind(const Warn& warn) noexcept {
    while (!undos_.empty()) {
      Entry e = std::move(undos_.back());
      undos_.pop_back();
      try {
        e.undo();
      } catch (const std::exception& ex) {
        report(warn, "Could not " + e.what + ": " + ex.what());
      } catch (...) {
        report(warn, "Could not " + e.what);
      }
    }
  }

 private:
  struct Entry {
    std::string what;
    Undo undo;
  };
  static void report(const Warn& warn, const std::string& text) noexcept {
    try {
      warn(text);
    } catch (...) {
      // Nothing is left to tell: the undo itself must go on.
    }
  }

  std::vector<Entry> undos_;
};

}  // namespace ubc
