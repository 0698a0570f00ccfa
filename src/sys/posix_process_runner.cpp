// SPDX-License-Identifier: MIT
#include "sys/posix_process_runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <system_error>
#include <utility>

#include "sys/unique_fd.h"

extern char** environ;

namespace ubc {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// One read() hands back at most this much per pipe, so a child writing flat out cannot
// keep the caller from looking at its stop flag.
constexpr std::size_t kMaxReadPerCall = 1 << 20;
// How long terminate() waits for the rest of the child's process group after SIGKILL.
constexpr milliseconds kGroupExitWait{2000};

std::system_error errno_error(const std::string& what) {
  return std::system_error(errno, std::generic_category(), what);
}

void nap(milliseconds duration) {
  timespec ts{static_cast<time_t>(duration.count() / 1000), static_cast<long>(duration.count() % 1000) * 1000000L};
  (void)::nanosleep(&ts, nullptr);
}

int remaining_ms(steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

class SpawnFileActions {
 public:
  SpawnFileActions() {
    if (const int r = posix_spawn_file_actions_init(&actions_); r != 0) {
      throw std::system_error(r, std::generic_category(), "posix_spawn_file_actions_init");
    }
  }
  ~SpawnFileActions() { (void)posix_spawn_file_actions_destroy(&actions_); }
  SpawnFileActions(const SpawnFileActions&) = delete;
  SpawnFileActions& operator=(const SpawnFileActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

class SpawnAttr {
 public:
  SpawnAttr() {
    if (const int r = posix_spawnattr_init(&attr_); r != 0) {
      throw std::system_error(r, std::generic_category(), "posix_spawnattr_init");
    }
  }
  ~SpawnAttr() { (void)posix_spawnattr_destroy(&attr_); }
  SpawnAttr(const SpawnAttr&) = delete;
  SpawnAttr& operator=(const SpawnAttr&) = delete;
  posix_spawnattr_t* get() { return &attr_; }

 private:
  posix_spawnattr_t attr_;
};

class PosixProcess final : public Process {
 public:
  PosixProcess(pid_t pid, UniqueFd out, UniqueFd err) : pid_(pid), out_(std::move(out)), err_(std::move(err)) {}

  ~PosixProcess() override {
    if (reaped_) return;
    // The group's leader is not reaped yet, so its pid (and group id) cannot have been
    // reused: the signal reaches only our child and what it started.
    signal_all(SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    await_group_gone();
  }

  PosixProcess(const PosixProcess&) = delete;
  PosixProcess& operator=(const PosixProcess&) = delete;

  ProcessOutput read(milliseconds timeout) override {
    ProcessOutput result;
    const auto deadline = steady_clock::now() + timeout;
    for (;;) {
      std::array<pollfd, 2> fds{};
      std::array<UniqueFd*, 2> owners{};
      std::array<std::string*, 2> sinks{};
      nfds_t n = 0;
      if (out_) {
        fds[n] = {out_.get(), POLLIN, 0};
        owners[n] = &out_;
        sinks[n++] = &result.out;
      }
      if (err_) {
        fds[n] = {err_.get(), POLLIN, 0};
        owners[n] = &err_;
        sinks[n++] = &result.err;
      }

      if (n == 0) {
        // Both pipes are closed; the child is exiting or has exited.
        if (reaped_ || try_reap()) {
          result.exited = true;
          return result;
        }
        const int left = remaining_ms(deadline);
        if (left == 0) return result;
        nap(milliseconds(std::min(left, 10)));
        continue;
      }

      const int ready = ::poll(fds.data(), n, remaining_ms(deadline));
      if (ready < 0) {
        // A signal (SIGTERM for the job) ends the wait early so the caller can react.
        if (errno == EINTR) return result;
        throw errno_error("poll on the pipes of child " + std::to_string(pid_));
      }
      if (ready == 0) return result;
      bool closed_one = false;
      for (nfds_t i = 0; i < n; ++i) {
        if (fds[i].revents == 0) continue;
        if (drain(*owners[i], *sinks[i])) closed_one = true;
      }
      // Output goes back at once; after an EOF, go round once more to notice exit.
      if (!result.out.empty() || !result.err.empty()) {
        if (!out_ && !err_ && try_reap()) result.exited = true;
        return result;
      }
      if (!closed_one) return result;
    }
  }

  void terminate(milliseconds grace) override {
    if (reaped_) return;
    signal_all(SIGTERM);
    const auto deadline = steady_clock::now() + grace;
    while (!leader_exited() && remaining_ms(deadline) > 0) {
      nap(milliseconds(std::min(remaining_ms(deadline), 10)));
    }
    // Whatever is left of the group (the child ignoring SIGTERM, or helpers it started)
    // goes now; the leader's pid is still ours because it is not reaped yet.
    signal_all(SIGKILL);
    int status = 0;
    pid_t r;
    while ((r = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
    }
    if (r < 0) throw errno_error("waitpid for child " + std::to_string(pid_));
    record(status);
    await_group_gone();
  }

  int exit_code() const override { return reaped_ ? exit_code_ : -1; }

 private:
  // Reads what is there; returns true when the pipe reached EOF (and closes it).
  static bool drain(UniqueFd& fd, std::string& sink) {
    char buf[65536];
    std::size_t taken = 0;
    while (taken < kMaxReadPerCall) {
      const ssize_t got = ::read(fd.get(), buf, sizeof buf);
      if (got > 0) {
        sink.append(buf, static_cast<std::size_t>(got));
        taken += static_cast<std::size_t>(got);
        continue;
      }
      if (got == 0) {
        fd.reset();
        return true;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
      throw errno_error("read from child pipe");
    }
    return false;
  }

  // The child's process group, and the child itself in case it moved to another group
  // (setsid): then the group may be empty and kill(-pid) would miss it. Only called while
  // the child is unreaped.
  void signal_all(int sig) const {
    (void)::kill(-pid_, sig);
    (void)::kill(pid_, sig);
  }

  // SIGKILL is delivered asynchronously and only the leader can be waited for, but its
  // helpers (rsync's receiver, a command started by flock(1)) hold files, locks and a
  // working directory on the disk until they are really gone; the caller unmounts next.
  // Called after the leader is reaped: the group id then lives exactly as long as a
  // member does. Bounded, for a helper that stopped dying (stuck in the kernel).
  void await_group_gone() const noexcept {
    const auto deadline = steady_clock::now() + kGroupExitWait;
    while (::kill(-pid_, 0) == 0 && remaining_ms(deadline) > 0) nap(milliseconds(2));
  }

  // Whether the child has exited, without reaping it (WNOWAIT keeps its pid reserved).
  bool leader_exited() {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) < 0) {
      if (errno == EINTR) return false;
      throw errno_error("waitid for child " + std::to_string(pid_));
    }
    return info.si_pid == pid_;
  }

  bool try_reap() {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r < 0) {
      if (errno == EINTR) return false;
      throw errno_error("waitpid for child " + std::to_string(pid_));
    }
    if (r == 0) return false;
    record(status);
    return true;
  }

  void record(int status) {
    reaped_ = true;
    out_.reset();
    err_.reset();
    if (WIFEXITED(status)) {
      exit_code_ = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      exit_code_ = 128 + WTERMSIG(status);
    } else {
      exit_code_ = 255;
    }
  }

  pid_t pid_;
  UniqueFd out_;
  UniqueFd err_;
  bool reaped_ = false;
  int exit_code_ = -1;
};

UniqueFd make_pipe(UniqueFd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) throw errno_error("pipe2");
  UniqueFd read_end(fds[0]);
  write_end.reset(fds[1]);
  const int flags = ::fcntl(read_end.get(), F_GETFL);
  if (flags < 0 || ::fcntl(read_end.get(), F_SETFL, flags | O_NONBLOCK) < 0) {
    throw errno_error("fcntl O_NONBLOCK on a pipe");
  }
  return read_end;
}

void check_spawn(int r, const char* call) {
  if (r != 0) throw std::system_error(r, std::generic_category(), call);
}

}  // namespace

std::unique_ptr<Process> PosixProcessRunner::start(const std::vector<std::string>& argv) {
  if (argv.empty() || argv.front().empty()) {
    throw std::system_error(EINVAL, std::generic_category(), "posix_spawnp: empty command line");
  }
  UniqueFd out_write;
  UniqueFd err_write;
  UniqueFd out_read = make_pipe(out_write);
  UniqueFd err_read = make_pipe(err_write);

  SpawnFileActions actions;
  check_spawn(posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0),
              "posix_spawn_file_actions_addopen");
  // dup2 clears O_CLOEXEC on the target; the pipe ends themselves close on exec.
  check_spawn(posix_spawn_file_actions_adddup2(actions.get(), out_write.get(), 1),
              "posix_spawn_file_actions_adddup2");
  check_spawn(posix_spawn_file_actions_adddup2(actions.get(), err_write.get(), 2),
              "posix_spawn_file_actions_adddup2");

  SpawnAttr attr;
  // The parent may block signals (to wait for them) or ignore SIGPIPE; both would be
  // inherited across exec and change how the child behaves.
  sigset_t empty;
  sigemptyset(&empty);
  check_spawn(posix_spawnattr_setsigmask(attr.get(), &empty), "posix_spawnattr_setsigmask");
  sigset_t defaults;
  sigemptyset(&defaults);
  for (const int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2}) {
    sigaddset(&defaults, sig);
  }
  check_spawn(posix_spawnattr_setsigdefault(attr.get(), &defaults), "posix_spawnattr_setsigdefault");
  // Its own process group, so terminate() reaches the helpers it forks too (rsync starts
  // a receiver and a generator).
  check_spawn(posix_spawnattr_setpgroup(attr.get(), 0), "posix_spawnattr_setpgroup");
  check_spawn(posix_spawnattr_setflags(attr.get(), POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                                       POSIX_SPAWN_SETPGROUP),
              "posix_spawnattr_setflags");

  std::vector<char*> c_argv;
  c_argv.reserve(argv.size() + 1);
  for (const auto& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
  c_argv.push_back(nullptr);

  pid_t pid = -1;
  if (const int r = posix_spawnp(&pid, c_argv[0], actions.get(), attr.get(), c_argv.data(), environ); r != 0) {
    throw std::system_error(r, std::generic_category(), "posix_spawnp '" + argv.front() + "'");
  }
  // Only the child may hold the write ends, or we would never see EOF.
  out_write.reset();
  err_write.reset();
  return std::make_unique<PosixProcess>(pid, std::move(out_read), std::move(err_read));
}

}  // namespace ubc
