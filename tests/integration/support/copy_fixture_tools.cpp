// SPDX-License-Identifier: MIT
// The tools of copy_fixture.h that need no disk: running programs, making and comparing trees.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/copy_fixture.h"

namespace ubc::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------
// Running the built binaries.

std::string binary_path(const std::string& name) {
  // The environment may point the tests at other binaries (an installed package, say),
  // as it does for the script tests.
  const char* dir = std::getenv("UBC_BIN_DIR");
  return std::string(dir && *dir ? dir : UBC_BIN_DIR) + "/" + name;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv) {
  if (argv.empty()) throw std::invalid_argument("ChildProcess: empty argv");
  // The output goes to an anonymous file, not a pipe: a child that logs a lot while the
  // test polls something else never blocks on a full pipe.
  out_fd_ = ::memfd_create("child-output", MFD_CLOEXEC);
  if (out_fd_ < 0) throw std::runtime_error("memfd_create failed: " + std::string(strerror(errno)));
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(out_fd_);
    throw std::runtime_error("fork failed");
  }
  if (pid_ == 0) {
    // Only async-signal-safe calls before exec. SIGTERM, not SIGKILL, if the test process
    // dies: the copier then still unmounts the disk.
    (void)::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) _exit(127);
    (void)::setpgid(0, 0);
    ::dup2(out_fd_, 1);
    ::dup2(out_fd_, 2);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::execvp(args[0], args.data());
    _exit(127);
  }
  // Both sides set the group: whichever runs first, it exists before anyone signals it.
  (void)::setpgid(pid_, pid_);
}

ChildProcess::~ChildProcess() {
  if (running()) {
    if (::kill(-pid_, SIGKILL) != 0) ::kill(pid_, SIGKILL);
    int status = 0;
    (void)::waitpid(pid_, &status, 0);
  }
  if (out_fd_ >= 0) ::close(out_fd_);
}

bool ChildProcess::running() {
  if (exit_code_) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  if (r == pid_)
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  else
    exit_code_ = -1;  // not our child any more: cannot happen, but never wait forever
  return false;
}

void ChildProcess::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

std::string ChildProcess::output_so_far() {
  std::string out;
  char buf[65536];
  off_t offset = 0;
  for (;;) {
    const ssize_t n = ::pread(out_fd_, buf, sizeof buf, offset);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    offset += n;
  }
  return out;
}

std::optional<CopierResult> ChildProcess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(20ms);
  }
  return CopierResult{*exit_code_, output_so_far()};
}

CopierResult run_program(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  ChildProcess child(argv);
  if (auto r = child.wait(timeout)) return *r;
  child.signal(SIGKILL);
  auto r = child.wait(10s);
  CopierResult out = r ? *r : CopierResult{-1, child.output_so_far()};
  out.output += "\n[killed after " + std::to_string(timeout.count()) + " ms]";
  return out;
}

void poll_pause() { std::this_thread::sleep_for(50ms); }

// ---------------------------------------------------------------------------------------
// Holding a copy mid-way.

namespace {

struct ProcStat {
  pid_t pid = 0, ppid = 0, pgrp = 0;
  char state = '?';
};

// "pid (comm) state ppid pgrp ...": comm may hold blanks and parentheses.
std::optional<ProcStat> read_stat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  const auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 1));
  ProcStat st;
  st.pid = pid;
  if (!(rest >> st.state >> st.ppid >> st.pgrp)) return std::nullopt;
  return st;
}

// Every process now, as far as /proc shows it.
std::vector<ProcStat> process_table() {
  std::vector<ProcStat> table;
  std::error_code ec;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (const auto st = read_stat(std::stoi(name))) table.push_back(*st);
  }
  return table;
}

std::string read_cmdline(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::replace(text.begin(), text.end(), '\0', ' ');
  return text;
}

// The copy rsync below copier, as the leader of its own process group; 0 while none runs.
pid_t find_copy_rsync(pid_t copier) {
  const std::vector<ProcStat> table = process_table();
  std::map<pid_t, pid_t> parent;
  for (const auto& p : table) parent[p.pid] = p.ppid;
  for (const auto& p : table) {
    if (p.pgrp != p.pid || p.pid == copier) continue;
    bool below = false;
    for (pid_t up = p.ppid; up > 1 && !below; ) {
      below = up == copier;
      const auto it = parent.find(up);
      if (it == parent.end()) break;
      up = it->second;
    }
    if (!below) continue;
    // Before its exec the spawned child still shows the copier's argv.
    const std::string cmd = read_cmdline(p.pid);
    if (cmd.find("--info=progress2") != std::string::npos && cmd.find("--dry-run") == std::string::npos)
      return p.pid;
  }
  return 0;
}

// SIGTERM in the "SigPnd:" or "ShdPnd:" mask of /proc/<pid>/status.
bool sigterm_pending(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("SigPnd:") && !line.starts_with("ShdPnd:")) continue;
    const auto mask = std::stoull(line.substr(line.find(':') + 1), nullptr, 16);
    if (mask & (1ULL << (SIGTERM - 1))) return true;
  }
  return false;
}

}  // namespace

std::vector<pid_t> live_processes_in_group(pid_t group) {
  std::vector<pid_t> out;
  for (const auto& p : process_table())
    if (p.pgrp == group && p.state != 'Z' && p.state != 'X') out.push_back(p.pid);
  return out;
}

RsyncFreezer::RsyncFreezer(pid_t copier, RsyncFreezerOptions options)
    : copier_(copier), options_(options), thread_([this] { watch(); }) {}

RsyncFreezer::~RsyncFreezer() {
  {
    std::lock_guard lock(mutex_);
    quit_ = true;
  }
  thread_.join();
  std::lock_guard lock(mutex_);
  if (frozen_) release_locked();
}

void RsyncFreezer::watch() {
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (quit_ || released_) return;
      if (!frozen_) {
        if (const pid_t rsync = find_copy_rsync(copier_); rsync > 0 && ::kill(-rsync, SIGSTOP) == 0) {
          group_ = rsync;
          frozen_ = true;
          frozen_at_ = std::chrono::steady_clock::now();
        }
      } else if (::kill(-group_, 0) != 0) {
        // The group is gone (killed outright): nothing left to hold.
        frozen_ = false;
        released_ = true;
      } else if (options_.continue_on_stop_signal && sigterm_pending(group_)) {
        on_stop_signal_ = true;
        release_locked();
      } else if (std::chrono::steady_clock::now() - frozen_at_ >= options_.hold) {
        release_locked();
      }
    }
    std::this_thread::sleep_for(2ms);
  }
}

void RsyncFreezer::release_locked() {
  if (frozen_) (void)::kill(-group_, SIGCONT);
  frozen_ = false;
  released_ = true;
}

bool RsyncFreezer::wait_frozen(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!frozen()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

bool RsyncFreezer::frozen() {
  std::lock_guard lock(mutex_);
  return frozen_;
}

pid_t RsyncFreezer::group() {
  std::lock_guard lock(mutex_);
  return group_;
}

void RsyncFreezer::pulse(std::chrono::milliseconds run) {
  std::lock_guard lock(mutex_);
  if (!frozen_) return;
  (void)::kill(-group_, SIGCONT);
  std::this_thread::sleep_for(run);
  (void)::kill(-group_, SIGSTOP);
}

void RsyncFreezer::resume() {
  std::lock_guard lock(mutex_);
  release_locked();
}

bool RsyncFreezer::stop_signal_pending() {
  std::lock_guard lock(mutex_);
  return group_ > 0 && sigterm_pending(group_);
}

bool RsyncFreezer::continued_on_stop_signal() {
  std::lock_guard lock(mutex_);
  return on_stop_signal_;
}

std::uint64_t file_bytes_below(const std::string& root, const std::vector<std::string>& skip_top) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (it.depth() == 0 &&
        std::find(skip_top.begin(), skip_top.end(), it->path().filename().string()) != skip_top.end()) {
      it.disable_recursion_pending();
      continue;
    }
    std::error_code file_ec;
    if (it->is_regular_file(file_ec) && !file_ec) {
      const auto size = it->file_size(file_ec);
      if (!file_ec) total += size;
    }
  }
  return total;
}

// ---------------------------------------------------------------------------------------
// Trees.

void make_file(const std::string& path, std::uint64_t size, unsigned seed) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ULL + size);
  std::vector<std::uint64_t> block(8192);
  std::uint64_t left = size;
  while (left > 0) {
    const std::uint64_t n = std::min<std::uint64_t>(left, block.size() * sizeof(std::uint64_t));
    for (std::size_t i = 0; i < (n + 7) / 8; ++i) block[i] = rng();
    f.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(n));
    left -= n;
  }
  if (!f) throw std::runtime_error("cannot write " + path);
}

namespace {

std::string file_digest(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return "unreadable";
  // FNV-1a over 64-bit words: enough to tell copies apart, fast on big files, and no
  // crypto library needed. Each block is filled completely so that the words fall at the
  // same offsets whatever sizes read() returns.
  std::uint64_t h = 1469598103934665603ULL;
  std::vector<std::uint64_t> buf(1 << 17);
  auto* bytes = reinterpret_cast<unsigned char*>(buf.data());
  const std::size_t cap = buf.size() * sizeof(std::uint64_t);
  std::uint64_t total = 0;
  for (;;) {
    std::size_t got = 0;
    while (got < cap) {
      const ssize_t n = ::read(fd, bytes + got, cap - got);
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    const std::size_t words = got / sizeof(std::uint64_t);
    for (std::size_t i = 0; i < words; ++i) h = (h ^ buf[i]) * 1099511628211ULL;
    for (std::size_t i = words * sizeof(std::uint64_t); i < got; ++i) h = (h ^ bytes[i]) * 1099511628211ULL;
    total += got;
    if (got < cap) break;
  }
  ::close(fd);
  return std::to_string(h) + ":" + std::to_string(total);
}

std::string octal(unsigned mode) {
  std::ostringstream s;
  s << std::oct << mode;
  return s.str();
}

}  // namespace

std::map<std::string, TreeEntry> scan_tree(const std::string& root, const std::vector<std::string>& skip_top) {
  std::map<std::string, TreeEntry> out;
  std::map<std::string, std::pair<dev_t, ino_t>> inodes;
  fs::recursive_directory_iterator it(root, fs::directory_options::none), end;
  for (; it != end; ++it) {
    // lexically: fs::relative() resolves symlinks, which would name a link by its target.
    const std::string rel = it->path().lexically_relative(root).string();
    const std::string top = rel.substr(0, rel.find('/'));
    if (std::find(skip_top.begin(), skip_top.end(), top) != skip_top.end()) {
      if (it.depth() == 0) it.disable_recursion_pending();
      continue;
    }
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) throw std::runtime_error("lstat failed: " + it->path().string());
    TreeEntry e;
    e.mode = st.st_mode & 07777;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    e.mtime = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    if (S_ISREG(st.st_mode)) {
      e.type = 'f';
      e.size = static_cast<std::uint64_t>(st.st_size);
      e.digest = file_digest(it->path());
      if (st.st_nlink > 1) inodes[rel] = {st.st_dev, st.st_ino};
    } else if (S_ISDIR(st.st_mode)) {
      e.type = 'd';
    } else if (S_ISLNK(st.st_mode)) {
      e.type = 'l';
      e.mtime = 0;
      e.mode = 0;  // Linux ignores a symlink's mode
      e.digest = fs::read_symlink(it->path()).string();
    } else {
      e.type = 'o';
    }
    out[rel] = e;
  }
  // Hard links: name each by the first path (in sorted order) of its inode, so that the
  // same structure on another filesystem compares equal.
  std::map<std::pair<dev_t, ino_t>, std::string> first;
  for (const auto& [rel, id] : inodes) {
    const auto [pos, inserted] = first.emplace(id, rel);
    out[rel].link_group = pos->second;
  }
  return out;
}

std::vector<std::string> tree_differences(const std::map<std::string, TreeEntry>& expected,
                                          const std::map<std::string, TreeEntry>& actual) {
  std::vector<std::string> d;
  for (const auto& [path, e] : expected) {
    const auto it = actual.find(path);
    if (it == actual.end()) {
      d.push_back("missing: " + path);
      continue;
    }
    const TreeEntry& a = it->second;
    if (e.type != a.type) {
      d.push_back("type differs: " + path + " " + e.type + " vs " + a.type);
      continue;
    }
    if (e.mode != a.mode) d.push_back("mode differs: " + path + " " + octal(e.mode) + " vs " + octal(a.mode));
    if (e.uid != a.uid || e.gid != a.gid)
      d.push_back("owner differs: " + path + " " + std::to_string(e.uid) + ":" + std::to_string(e.gid) + " vs " +
                  std::to_string(a.uid) + ":" + std::to_string(a.gid));
    const std::int64_t unit = e.type == 'd' ? 1000000000 : 1;
    if (e.mtime / unit != a.mtime / unit)
      d.push_back("mtime differs: " + path + " " + std::to_string(e.mtime) + " vs " + std::to_string(a.mtime));
    if (e.size != a.size)
      d.push_back("size differs: " + path + " " + std::to_string(e.size) + " vs " + std::to_string(a.size));
    if (e.digest != a.digest) d.push_back("content/target differs: " + path);
    if (e.link_group != a.link_group)
      d.push_back("hard link differs: " + path + " '" + e.link_group + "' vs '" + a.link_group + "'");
  }
  for (const auto& [path, a] : actual)
    if (!expected.count(path)) d.push_back("unexpected: " + path);
  return d;
}

const std::vector<std::string>& disk_own_entries() {
  static const std::vector<std::string> entries{"lost+found", ".usb-backup-copier"};
  return entries;
}

}  // namespace ubc::test
