// SPDX-License-Identifier: MIT
#include "sys/outbox.h"
#include "sys/fd_io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <system_error>

namespace ubc {
namespace {

constexpr const char* kMagic = "ubc-outbox 1\n";
constexpr const char* kSuffix = ".mail";
constexpr const char* kLockName = ".lock";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Entries are only ever names this class made; anything with a slash would leave the
// directory.
void check_name(const std::string& name) {
  if (name.empty() || name[0] == '.' || name.find('/') != std::string::npos) {
    throw std::system_error(EINVAL, std::generic_category(), "outbox entry name '" + name + "'");
  }
}

// "<seconds>.<nanoseconds>-<counter>-<pid>.mail": zero-padded, so sorting the names sorts
// by time, and the counter and pid keep two mails of one instant apart.
std::string new_name() {
  static std::atomic<unsigned> counter{0};
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%012lld.%09ld-%06u-%d%s", static_cast<long long>(ts.tv_sec),
                static_cast<long>(ts.tv_nsec), counter.fetch_add(1) % 1000000,
                static_cast<int>(::getpid()), kSuffix);
  return buf;
}

struct DirCloser {
  void operator()(DIR* dir) const noexcept { (void)::closedir(dir); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

}  // namespace

std::string serialize_queued_mail(const QueuedMail& mail) {
  std::string out = kMagic;
  out += "from " + mail.from + "\n";
  for (const auto& r : mail.recipients) out += "rcpt " + r + "\n";
  out += "\n";
  out += mail.message;
  return out;
}

std::optional<QueuedMail> parse_queued_mail(const std::string& data) {
  if (data.rfind(kMagic, 0) != 0) return std::nullopt;
  QueuedMail mail;
  std::size_t pos = std::string(kMagic).size();
  bool have_from = false;
  for (;;) {
    const std::size_t end = data.find('\n', pos);
    if (end == std::string::npos) return std::nullopt;  // cut off before the message
    const std::string line = data.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) break;
    if (line.rfind("from ", 0) == 0) {
      mail.from = line.substr(5);
      have_from = true;
    } else if (line.rfind("rcpt ", 0) == 0) {
      mail.recipients.push_back(line.substr(5));
    } else {
      return std::nullopt;
    }
  }
  if (!have_from || mail.recipients.empty()) return std::nullopt;
  mail.message = data.substr(pos);
  return mail;
}

Outbox::Outbox(std::string directory) : directory_(std::move(directory)) {}

UniqueFd Outbox::open_directory(bool create) const {
  if (create && ::mkdir(directory_.c_str(), 0700) < 0 && errno != EEXIST) {
    throw errno_error("mkdir", directory_);
  }
  // O_NOFOLLOW: a symlink planted in place of the outbox must not redirect root's writes.
  UniqueFd fd(::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd && !(errno == ENOENT && !create)) throw errno_error("open", directory_);
  return fd;
}

std::string Outbox::add(const QueuedMail& mail) {
  const UniqueFd dir = open_directory(true);
  const std::string name = new_name();
  const std::string tmp = "." + name + ".tmp";  // leading dot: list() never sees it
  const std::string tmp_path = directory_ + "/" + tmp;
  {
    UniqueFd fd(::openat(dir.get(), tmp.c_str(),
                         O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) throw errno_error("open", tmp_path);
    try {
      write_all(fd.get(), serialize_queued_mail(mail), tmp_path);
      // The mail must survive a power cut right after the run: data first, then the name.
      if (::fsync(fd.get()) < 0) throw errno_error("fsync", tmp_path);
    } catch (...) {
      (void)::unlinkat(dir.get(), tmp.c_str(), 0);
      throw;
    }
  }
  if (::renameat(dir.get(), tmp.c_str(), dir.get(), name.c_str()) < 0) {
    const std::system_error error = errno_error("rename", tmp_path);
    (void)::unlinkat(dir.get(), tmp.c_str(), 0);
    throw error;
  }
  if (::fsync(dir.get()) < 0) throw errno_error("fsync", directory_);
  return name;
}

std::vector<std::string> Outbox::list() const {
  UniqueFd dir = open_directory(false);
  if (!dir) return {};
  // fdopendir takes over the fd it is given; hand it a duplicate so UniqueFd stays sole owner.
  const int dup_fd = ::fcntl(dir.get(), F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) throw errno_error("fcntl(F_DUPFD_CLOEXEC)", directory_);
  DirPtr stream(::fdopendir(dup_fd));
  if (!stream) {
    const std::system_error error = errno_error("fdopendir", directory_);
    (void)::close(dup_fd);
    throw error;
  }
  std::vector<std::string> names;
  for (;;) {
    errno = 0;  // readdir reports its errors only through errno
    const dirent* entry = ::readdir(stream.get());
    if (!entry) {
      if (errno != 0) throw errno_error("readdir", directory_);
      break;
    }
    const std::string name = entry->d_name;
    if (name[0] == '.' || !ends_with(name, kSuffix)) continue;
    struct stat st{};
    if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) continue;  // gone
    if (S_ISREG(st.st_mode)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<QueuedMail> Outbox::load(const std::string& name) const {
  check_name(name);
  const std::string path = directory_ + "/" + name;
  const UniqueFd dir = open_directory(false);
  if (!dir) throw errno_error("open", directory_);
  const UniqueFd fd(::openat(dir.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) throw errno_error("open", path);
  std::string data;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw errno_error("read", path);
    }
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  return parse_queued_mail(data);
}

void Outbox::remove(const std::string& name) {
  check_name(name);
  const UniqueFd dir = open_directory(false);
  if (!dir) throw errno_error("open", directory_);
  if (::unlinkat(dir.get(), name.c_str(), 0) < 0) throw errno_error("unlink", directory_ + "/" + name);
  // Without this a power cut could bring the entry back and the mail would go out twice.
  (void)::fsync(dir.get());
}

void Outbox::set_aside(const std::string& name) {
  check_name(name);
  const UniqueFd dir = open_directory(false);
  if (!dir) throw errno_error("open", directory_);
  const std::string target = name + ".bad";
  if (::renameat(dir.get(), name.c_str(), dir.get(), target.c_str()) < 0) {
    throw errno_error("rename", directory_ + "/" + name);
  }
}

UniqueFd Outbox::try_lock() {
  const UniqueFd dir = open_directory(true);
  UniqueFd fd(::openat(dir.get(), kLockName, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) throw errno_error("open", directory_ + "/" + kLockName);
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
    if (errno == EWOULDBLOCK) return UniqueFd{};
    if (errno != EINTR) throw errno_error("flock", directory_ + "/" + kLockName);
  }
  return fd;
}

}  // namespace ubc
