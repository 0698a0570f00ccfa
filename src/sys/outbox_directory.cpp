// SPDX-License-Identifier: MIT
#include "sys/outbox_directory.h"

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

#include "sys/dir.h"
#include "sys/fd_io.h"

namespace ubc {
namespace {

constexpr const char* kMagic = "ubc-outbox 1\n";
constexpr const char* kSuffix = ".mail";
constexpr const char* kLockName = ".lock";
constexpr const char* kFailedName = "failed";
// Our own files, but read whole: a limit keeps a damaged one from exhausting memory. A kept
// mail is its text and the run log attached, far below this.
constexpr std::uint64_t kMaxKeptMailBytes = 64ULL << 20;

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

class FlockHolder final : public OutboxStore::Lock {
 public:
  explicit FlockHolder(UniqueFd fd) : fd_(std::move(fd)) {}

 private:
  UniqueFd fd_;  // closing it releases the flock
};

}  // namespace

std::string serialize_kept_mail(const KeptMail& kept) {
  std::string out = kMagic;
  out += "from " + kept.mail.from + "\n";
  for (const auto& r : kept.mail.recipients) out += "rcpt " + r + "\n";
  if (kept.refusals > 0) out += "refusals " + std::to_string(kept.refusals) + "\n";
  out += "\n";
  out += kept.mail.message;
  return out;
}

std::optional<KeptMail> parse_kept_mail(const std::string& data) {
  if (data.rfind(kMagic, 0) != 0) return std::nullopt;
  KeptMail kept;
  std::size_t pos = std::string(kMagic).size();
  bool have_from = false;
  for (;;) {
    const std::size_t end = data.find('\n', pos);
    if (end == std::string::npos) return std::nullopt;  // cut off before the message
    const std::string line = data.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) break;
    if (line.rfind("from ", 0) == 0) {
      kept.mail.from = line.substr(5);
      have_from = true;
    } else if (line.rfind("rcpt ", 0) == 0) {
      kept.mail.recipients.push_back(line.substr(5));
    } else if (line.rfind("refusals ", 0) == 0) {
      const std::string count = line.substr(9);
      if (count.empty() || count.size() > 3 || count.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
      kept.refusals = std::stoi(count);
    } else {
      return std::nullopt;
    }
  }
  if (!have_from || kept.mail.recipients.empty()) return std::nullopt;
  kept.mail.message = data.substr(pos);
  return kept;
}

OutboxDirectory::OutboxDirectory(std::string directory) : directory_(std::move(directory)) {}

UniqueFd OutboxDirectory::open_directory(bool create) const {
  if (create && ::mkdir(directory_.c_str(), 0700) < 0 && errno != EEXIST) {
    throw errno_error("mkdir", directory_);
  }
  // O_NOFOLLOW: a symlink planted in place of the outbox must not redirect root's writes.
  UniqueFd fd(::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd && !(errno == ENOENT && !create)) throw errno_error("open", directory_);
  return fd;
}

void OutboxDirectory::write_entry(int dir, const std::string& name, const KeptMail& mail) {
  // The mail must survive a power cut right after the run: data first, then the name,
  // then the directory entry.
  write_file_atomic_at(dir, directory_, name, serialize_kept_mail(mail), 0600);
  if (::fsync(dir) < 0) throw errno_error("fsync", directory_);
}

std::string OutboxDirectory::add(const KeptMail& mail) {
  const UniqueFd dir = open_directory(true);
  const std::string name = new_name();
  write_entry(dir.get(), name, mail);
  return name;
}

void OutboxDirectory::replace(const std::string& name, const KeptMail& mail) {
  check_name(name);
  const UniqueFd dir = open_directory(false);
  if (!dir) throw errno_error("open", directory_);
  write_entry(dir.get(), name, mail);
}

std::vector<std::string> OutboxDirectory::list() {
  UniqueFd dir = open_directory(false);
  if (!dir) return {};
  std::vector<std::string> names;
  for (const std::string& name : directory_names(dir.get(), directory_)) {
    if (name[0] == '.' || !ends_with(name, kSuffix)) continue;
    struct stat st{};
    if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) continue;  // gone
    if (S_ISREG(st.st_mode)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<KeptMail> OutboxDirectory::load(const std::string& name) {
  check_name(name);
  const std::string path = directory_ + "/" + name;
  const UniqueFd dir = open_directory(false);
  if (!dir) throw errno_error("open", directory_);
  const UniqueFd fd(::openat(dir.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) throw errno_error("open", path);
  return parse_kept_mail(read_all(fd.get(), path, kMaxKeptMailBytes));
}

void OutboxDirectory::remove(const std::string& name) {
  check_name(name);
  const UniqueFd dir = open_directory(false);
  if (!dir) throw errno_error("open", directory_);
  if (::unlinkat(dir.get(), name.c_str(), 0) < 0) throw errno_error("unlink", directory_ + "/" + name);
  // Without this a power cut could bring the entry back and the mail would go out twice.
  (void)::fsync(dir.get());
}

void OutboxDirectory::set_aside(const std::string& name) {
  check_name(name);
  const UniqueFd dir = open_directory(false);
  if (!dir) throw errno_error("open", directory_);
  const std::string target = name + ".bad";
  if (::renameat(dir.get(), name.c_str(), dir.get(), target.c_str()) < 0) {
    throw errno_error("rename", directory_ + "/" + name);
  }
}

void OutboxDirectory::move_to_failed(const std::string& name) {
  check_name(name);
  const UniqueFd dir = open_directory(false);
  if (!dir) throw errno_error("open", directory_);
  const std::string failed = failed_location();
  if (::mkdirat(dir.get(), kFailedName, 0700) < 0 && errno != EEXIST) throw errno_error("mkdir", failed);
  const UniqueFd failed_dir(::openat(dir.get(), kFailedName, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!failed_dir) throw errno_error("open", failed);
  if (::renameat(dir.get(), name.c_str(), failed_dir.get(), name.c_str()) < 0) {
    throw errno_error("rename '" + directory_ + "/" + name + "' to", failed);
  }
  // Both names change: the mail must not come back into the outbox after a power cut.
  (void)::fsync(failed_dir.get());
  (void)::fsync(dir.get());
}

std::unique_ptr<OutboxStore::Lock> OutboxDirectory::try_lock() {
  const UniqueFd dir = open_directory(true);
  UniqueFd fd(::openat(dir.get(), kLockName, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) throw errno_error("open", directory_ + "/" + kLockName);
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
    if (errno == EWOULDBLOCK) return nullptr;
    if (errno != EINTR) throw errno_error("flock", directory_ + "/" + kLockName);
  }
  return std::make_unique<FlockHolder>(std::move(fd));
}

}  // namespace ubc
