// SPDX-License-Identifier: MIT
#include "sys/directory_enrollment_store.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "core/json.h"
#include "core/text.h"
#include "sys/dir.h"
#include "sys/fd_io.h"
#include "sys/openssl_file_hasher.h"
#include "sys/unique_fd.h"

namespace ubc {
namespace {

constexpr const char* kSuffix = ".json";
// A record is a few hundred bytes; the limit only keeps a damaged file from costing memory.
constexpr std::uint64_t kMaxRecordBytes = 64 * 1024;

std::string stem_of(const std::string& uuid) {
  const auto stem = uuid_file_stem(uuid);
  if (!stem) throw std::invalid_argument("'" + uuid + "' is not a filesystem UUID");
  return *stem;
}

bool is_hex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

DirectoryEnrollmentStore::DirectoryEnrollmentStore(const std::string& state_directory)
    : dir_(state_directory + "/enrolled") {}

std::optional<Enrollment> DirectoryEnrollmentStore::read(const std::string& name) {
  const std::string path = dir_ + "/" + name;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    throw errno_error("open", path);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw errno_error("fstat", path);
  if (!S_ISREG(st.st_mode)) throw errno_error("open", path, EINVAL);
  const auto json = parse_json_object(read_all(fd.get(), path, kMaxRecordBytes));
  Enrollment e;
  if (json) {
    e.uuid = json_string(*json, "uuid").value_or("");
    e.label = json_string(*json, "label").value_or("");
    e.enrolled_at = json_int(*json, "enrolled_at").value_or(0);
    e.secret_sha256 = json_string(*json, "secret_sha256").value_or("");
  }
  // A record that cannot be what save() wrote must not pass as "no record": that would let
  // a damaged store switch the check off for the disk.
  if (!json || uuid_file_stem(e.uuid).value_or("") + kSuffix != name || !is_hex64(e.secret_sha256))
    throw std::runtime_error("The enrollment record '" + path + "' is damaged; enroll the disk again");
  return e;
}

std::optional<Enrollment> DirectoryEnrollmentStore::find(const std::string& uuid) {
  const auto stem = uuid_file_stem(uuid);
  if (!stem) return std::nullopt;
  return read(*stem + kSuffix);
}

std::vector<Enrollment> DirectoryEnrollmentStore::list() {
  UniqueFd fd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return {};
    throw errno_error("open", dir_);
  }
  std::vector<Enrollment> out;
  for (const auto& name : directory_names(fd.get(), dir_)) {
    // Leftover temporary files of an interrupted save start with a dot.
    if (name.empty() || name[0] == '.' || name.size() <= 5 || name.substr(name.size() - 5) != kSuffix)
      continue;
    if (auto e = read(name)) out.push_back(std::move(*e));
  }
  std::sort(out.begin(), out.end(), [](const Enrollment& a, const Enrollment& b) { return a.uuid < b.uuid; });
  return out;
}

void DirectoryEnrollmentStore::save(const Enrollment& enrollment) {
  const std::string stem = stem_of(enrollment.uuid);
  if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) throw errno_error("mkdir", dir_);
  UniqueFd dir(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) throw errno_error("open", dir_);
  Json j;
  j["uuid"] = stem;
  j["label"] = enrollment.label;
  j["enrolled_at"] = enrollment.enrolled_at;
  j["secret_sha256"] = enrollment.secret_sha256;
  write_file_atomic_at(dir.get(), dir_, stem + kSuffix, dump_json_pretty(j) + "\n", 0600);
  // The rename must survive a crash: a disk whose new secret the server forgot is refused.
  if (::fsync(dir.get()) != 0) throw errno_error("fsync", dir_);
}

bool DirectoryEnrollmentStore::remove(const std::string& uuid) {
  const std::string path = dir_ + "/" + stem_of(uuid) + kSuffix;
  if (::unlink(path.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  throw errno_error("unlink", path);
}

std::string DirectoryEnrollmentStore::new_secret() {
  unsigned char bytes[32];
  std::size_t got = 0;
  while (got < sizeof bytes) {
    // Blocks only until the kernel's pool is initialised, once after boot.
    const ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw errno_error("getrandom", "");
    got += static_cast<std::size_t>(n);
  }
  return lower_hex(bytes, sizeof bytes);
}

std::string DirectoryEnrollmentStore::digest(const std::string& text) { return sha256_hex(text); }

}  // namespace ubc
