// SPDX-License-Identifier: MIT
#include "sys/status_file_sink.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

#include "core/text.h"
#include "sys/dir.h"
#include "sys/fd_io.h"
#include "sys/unique_fd.h"

namespace ubc {

namespace {

std::string file_stem(const std::string& uuid) {
  if (uuid.empty()) throw std::system_error(EINVAL, std::generic_category(), "empty disk UUID");
  auto stem = uuid_file_stem(uuid);
  if (!stem) throw std::system_error(EINVAL, std::generic_category(), "disk UUID '" + uuid + "' as a file name");
  return std::move(*stem);
}

// sd_notify takes newline-separated assignments; a disk label is untrusted text and must
// not be able to add its own (READY=1, MAINPID=...).
std::string one_line(std::string text) {
  std::replace_if(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }, ' ');
  return text;
}

bool process_alive(int pid) {
  if (pid <= 0) return true;  // unknown: keep it
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

std::optional<std::string> read_small_file(int dir_fd, const char* name) {
  UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!fd) return std::nullopt;  // gone since readdir, or a symlink: not a status file
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  try {
    return read_all(fd.get(), name, kStatusMaxBytes);
  } catch (const std::system_error&) {
    return std::nullopt;  // unreadable or too big: not a status file of ours
  }
}

}  // namespace

StatusFileSink::StatusFileSink(std::string runtime_directory) : directory_(std::move(runtime_directory)) {}

void StatusFileSink::publish(const Status& status) {
  const std::string stem = file_stem(status.uuid);
  const std::string path = directory_ + "/" + stem + ".json";
  // A dot name that does not end in .json: readers never pick up a half-written file.
  const std::string tmp = directory_ + "/." + stem + ".json.tmp";

  if (::mkdir(directory_.c_str(), 0755) < 0 && errno != EEXIST) throw errno_error("mkdir", directory_);
  // Mode 0644 whatever the umask: readers (status, the web page) may run as other users.
  write_file_atomic(path, tmp, to_json(status) + "\n", 0644, false);

  // Outside systemd NOTIFY_SOCKET is unset and this does nothing; a failure only loses
  // the line in `systemctl status`, never the copy.
  (void)sd_notify(0, ("STATUS=" + one_line(status_line(status))).c_str());
}

void StatusFileSink::clear(const std::string& uuid) {
  const std::string path = directory_ + "/" + file_stem(uuid) + ".json";
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) throw errno_error("unlink", path);
}

std::vector<Status> read_all_status(const std::string& runtime_directory) {
  std::vector<Status> result;
  UniqueFd dir_fd(::open(runtime_directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd) {
    if (errno == ENOENT) return result;
    throw errno_error("open", runtime_directory);
  }
  for (const std::string& name : directory_names(dir_fd.get(), runtime_directory)) {
    if (name.front() == '.' || name.size() <= 5 || !name.ends_with(".json")) continue;
    const auto text = read_small_file(dir_fd.get(), name.c_str());
    if (!text) continue;
    auto status = status_from_json(*text);
    if (!status || !process_alive(status->pid)) continue;
    result.push_back(std::move(*status));
  }
  std::sort(result.begin(), result.end(), [](const Status& a, const Status& b) {
    return a.started_at != b.started_at ? a.started_at < b.started_at : a.uuid < b.uuid;
  });
  return result;
}

}  // namespace ubc
