// SPDX-License-Identifier: MIT
#include "sys/posix_process_runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <iterator>
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
// A child that writes in many small pieces (rsync: a line per file in a dry run over
// 100,000 files, a progress line per file in the copy) would wake the caller for each:
// 60,000 wake-ups and 200,000 reads for such a copy, CPU taken from rsync on a small
// server. Once output has come this often in a row within this long of the last, it is
// left to gather for this long before it is read. A child that writes a few pieces (a dry
// run with nothing to do, a short command) is read at once, without the wait.
constexpr milliseconds kGather{25};
constexpr int kQuickInARow = 8;
// The pipes hold what the child writes meanwhile: a copy's progress lines come at well
// under 1 MiB/s, and rsync writing into a full pipe would wait.
constexpr int kPipeBytes = 1 << 20;

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
      // Not when a pipe has closed: the child is ending, and the caller should hear at once.
      const bool hung_up =
          std::any_of(fds.begin(), fds.begin() + n, [](const pollfd& p) { return (p.revents & POLLHUP) != 0; });
      if (!hung_up && quick_in_a_row_ >= kQuickInARow && steady_clock::now() - last_output_ < kGather)
        nap(std::min(kGather, milliseconds(remaining_ms(deadline))));
      bool closed_one = false;
      for (nfds_t i = 0; i < n; ++i) {
        if (fds[i].revents == 0) continue;
        if (drain(*owners[i], *sinks[i])) closed_one = true;
      }
      // Output goes back at once; after an EOF, go round once more to notice exit.
      if (!result.out.empty() || !result.err.empty()) {
        const auto now = steady_clock::now();
        quick_in_a_row_ = now - last_output_ < kGather ? quick_in_a_row_ + 1 : 0;
        last_output_ = now;
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

  // The child too, in case it moved to a group of its own (setsid). Only while unreaped.
  void signal_all(int sig) const {
    (void)::kill(-pid_, sig);
    (void)::kill(pid_, sig);
  }

  // Helpers still hold files on the disk the caller unmounts next (docs/internals.md).
  // After the leader is reaped the group id lives exactly as long as a member does.
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
  steady_clock::time_point last_output_{};  // when read() last handed output back
  int quick_in_a_row_ = 0;                  // how many times in a row that came soon after the last
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
  // Best effort: a smaller pipe only makes the child wait for the reader now and then.
  (void)::fcntl(read_end.get(), F_SETPIPE_SZ, kPipeBytes);
  return read_end;
}

// Where execve finds argv[0]: as given when it holds a '/', else the first executable
// regular file of that name in PATH, as execvp searches. Done before fork: the child may
// only make async-signal-safe calls, and execvp is not one.
std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = ::getenv("PATH");
  const std::string dirs = path != nullptr && *path != '\0' ? path : "/usr/local/bin:/usr/bin:/bin";
  int error = ENOENT;
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t colon = std::min(dirs.find(':', start), dirs.size());
    const std::string dir = colon == start ? "." : dirs.substr(start, colon - start);
    start = colon + 1;
    const std::string candidate = dir + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    error = EACCES;
  }
  throw std::system_error(error, std::generic_category(), "'" + name + "' in PATH");
}

// Signals the child must not inherit as ignored: the copier ignores SIGPIPE, and a child
// that could not die of SIGTERM or SIGPIPE would behave unlike the same program in a shell.
constexpr int kDefaultSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE,
                                   SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2};

struct ChildPlan {
  pid_t parent;
  const char* path;
  char* const* argv;
  char* const* envp;
  int out;     // write end of the stdout pipe
  int err;     // write end of the stderr pipe
  int report;  // write end of the pipe that carries errno back if exec fails
};

// Between fork and exec: async-signal-safe calls only (another thread of the parent may
// have held malloc's lock at the fork), no logging, no exceptions; _exit on failure.
[[noreturn]] void run_child(const ChildPlan& plan) noexcept {
  // rsync must not outlive the copier (docs/internals.md). The signal comes when the
  // forking *thread* ends; a parent already gone means init adopted us: stop here.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != plan.parent) ::_exit(127);

  // The parent's signal handlers would run in this copy of it until exec: every signal is
  // still blocked (start() blocked them before fork), so set them to default first.
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction current {};
    if (sig == SIGKILL || sig == SIGSTOP || ::sigaction(sig, nullptr, &current) != 0) continue;
    const bool listed = std::find(std::begin(kDefaultSignals), std::end(kDefaultSignals), sig) !=
                        std::end(kDefaultSignals);
    if (current.sa_handler == SIG_DFL || (current.sa_handler == SIG_IGN && !listed)) continue;
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    (void)::sigaction(sig, &dfl, nullptr);
  }

  // Its own group, so terminate() reaches rsync's receiver and generator too.
  int error = 0;
  if (::setpgid(0, 0) != 0) error = errno;

  // Every source above 2 first: if the parent runs with stdio closed, a pipe may be fd 0-2
  // and one dup2 would overwrite another's source. The copies close on exec.
  const int report = ::fcntl(plan.report, F_DUPFD_CLOEXEC, 3);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int in = null_fd < 0 ? -1 : ::fcntl(null_fd, F_DUPFD_CLOEXEC, 3);
  const int out = ::fcntl(plan.out, F_DUPFD_CLOEXEC, 3);
  const int err = ::fcntl(plan.err, F_DUPFD_CLOEXEC, 3);
  if (error == 0 && (report < 0 || in < 0 || out < 0 || err < 0)) error = errno;
  if (error == 0 && (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0)) error = errno;

  sigset_t none;
  sigemptyset(&none);
  if (error == 0 && ::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) error = errno;
  if (error == 0) {
    ::execve(plan.path, plan.argv, plan.envp);
    error = errno;
  }
  const int fd = report >= 0 ? report : plan.report;
  (void)!::write(fd, &error, sizeof error);
  ::_exit(127);
}

// Blocks every signal for its scope, so that none is handled between fork and the child's
// reset of its handlers; the parent's mask comes back afterwards.
class AllSignalsBlocked {
 public:
  AllSignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    if (const int r = ::pthread_sigmask(SIG_SETMASK, &all, &saved_); r != 0) {
      throw std::system_error(r, std::generic_category(), "pthread_sigmask");
    }
  }
  ~AllSignalsBlocked() { (void)::pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
  AllSignalsBlocked(const AllSignalsBlocked&) = delete;
  AllSignalsBlocked& operator=(const AllSignalsBlocked&) = delete;

 private:
  sigset_t saved_;
};

}  // namespace

std::unique_ptr<Process> PosixProcessRunner::start(const std::vector<std::string>& argv) {
  if (argv.empty() || argv.front().empty()) {
    throw std::system_error(EINVAL, std::generic_category(), "execve: empty command line");
  }
  // Everything the child needs is prepared here: it must not allocate.
  const std::string path = find_program(argv.front());
  std::vector<char*> c_argv;
  c_argv.reserve(argv.size() + 1);
  for (const auto& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
  c_argv.push_back(nullptr);

  UniqueFd out_write;
  UniqueFd err_write;
  UniqueFd out_read = make_pipe(out_write);
  UniqueFd err_read = make_pipe(err_write);
  int report_fds[2];
  if (::pipe2(report_fds, O_CLOEXEC) < 0) throw errno_error("pipe2");
  UniqueFd report_read(report_fds[0]);
  UniqueFd report_write(report_fds[1]);

  const ChildPlan plan{::getpid(), path.c_str(), c_argv.data(), environ,
                       out_write.get(), err_write.get(), report_write.get()};
  pid_t pid = -1;
  {
    const AllSignalsBlocked blocked;
    pid = ::fork();
    if (pid == 0) run_child(plan);
    if (pid < 0) throw errno_error("fork for '" + argv.front() + "'");
  }
  // Only the child may hold the write ends, or we would never see EOF.
  out_write.reset();
  err_write.reset();
  report_write.reset();

  // EOF: exec succeeded (the report pipe closed on exec). An int: the errno of the step
  // that failed; the child has exited and is reaped here.
  int child_error = 0;
  ssize_t got;
  while ((got = ::read(report_read.get(), &child_error, sizeof child_error)) < 0 && errno == EINTR) {
  }
  if (got != 0) {
    const int error = got == static_cast<ssize_t>(sizeof child_error) ? child_error : EIO;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    throw std::system_error(error, std::generic_category(), "execve '" + path + "'");
  }
  return std::make_unique<PosixProcess>(pid, std::move(out_read), std::move(err_read));
}

}  // namespace ubc
