// SPDX-License-Identifier: MIT
#include "sys/cryptsetup_volumes.h"

#include <blkid/blkid.h>
#include <fcntl.h>
#include <libcryptsetup.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>

#include "sys/fd_io.h"
#include "sys/unique_fd.h"

namespace ubc {

namespace {

constexpr std::uint64_t kMaxKeyBytes = 8192;

struct CryptDeleter {
  void operator()(crypt_device* cd) const noexcept { crypt_free(cd); }
};
using CryptPtr = std::unique_ptr<crypt_device, CryptDeleter>;

struct ProbeDeleter {
  void operator()(blkid_struct_probe* probe) const noexcept { blkid_free_probe(probe); }
};

// The library's own words for the last error, collected by its log callback (it would
// otherwise print them on stderr) and appended to ours.
thread_local std::string last_library_error;

void collect_log(int level, const char* message, void*) {
  if (level != CRYPT_LOG_ERROR || message == nullptr) return;
  last_library_error = message;
  while (!last_library_error.empty() && last_library_error.back() == '\n') last_library_error.pop_back();
}

std::string with_library_words(const std::string& what, int rc) {
  std::string text = what + " (" + std::strerror(rc < 0 ? -rc : rc);
  if (!last_library_error.empty()) text += "; " + last_library_error;
  return text + ")";
}

CryptPtr init(const std::string& devnode) {
  crypt_set_log_callback(nullptr, collect_log, nullptr);
  last_library_error.clear();
  crypt_device* cd = nullptr;
  const int rc = crypt_init(&cd, devnode.c_str());
  if (rc < 0) throw VolumeError(with_library_words("cannot open " + devnode, rc));
  return CryptPtr(cd);
}

std::string probe_value(blkid_probe probe, const char* name) {
  const char* value = nullptr;
  if (blkid_probe_lookup_value(probe, name, &value, nullptr) != 0 || value == nullptr) return {};
  return value;
}

// The argon2id cost: the library's two-second benchmark, with memory at most a quarter of
// this machine's RAM (and 1 GiB), so that opening never pushes a small server into swap.
crypt_pbkdf_type pbkdf_for_this_machine() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGESIZE);
  std::uint64_t quarter_kib = pages > 0 && page_size > 0
                                  ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size) / 4 / 1024
                                  : 262144;
  crypt_pbkdf_type pbkdf{};
  pbkdf.type = CRYPT_KDF_ARGON2ID;
  pbkdf.hash = "sha256";
  pbkdf.time_ms = 2000;
  pbkdf.max_memory_kb = static_cast<std::uint32_t>(std::min<std::uint64_t>(quarter_kib, 1048576));
  pbkdf.parallel_threads = 4;
  return pbkdf;
}

}  // namespace

std::string read_key_file(const std::string& path) {
  const std::string fix = "; make it root's alone: 'chown root:root " + path + "; chmod 600 " + path + "'";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    const int error = errno;
    if (error == ENOENT) throw VolumeError("there is no key file '" + path + "'");
    if (error == ELOOP) throw VolumeError("the key file '" + path + "' is a symbolic link; put the key file itself there");
    throw VolumeError("cannot open the key file '" + path + "': " + std::strerror(error));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw VolumeError("cannot stat the key file '" + path + "': " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw VolumeError("the key file '" + path + "' is not a regular file");
  if (st.st_uid != 0)
    throw VolumeError("the key file '" + path + "' is owned by uid " + std::to_string(st.st_uid) + ", not root" + fix);
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw VolumeError("the key file '" + path + "' has mode " + mode + ", so others may read it" + fix);
  }
  if (st.st_size <= 0 || static_cast<std::uint64_t>(st.st_size) > kMaxKeyBytes)
    throw VolumeError("the key file '" + path + "' is " + (st.st_size <= 0 ? "empty" : "larger than 8 KiB"));
  return read_all(fd.get(), path, kMaxKeyBytes);
}

OpenedVolume CryptsetupVolumes::open(const std::string& devnode, const std::string& name,
                                     const std::string& key_file) {
  const std::string key = read_key_file(key_file);
  CryptPtr cd = init(devnode);
  int rc = crypt_load(cd.get(), CRYPT_LUKS, nullptr);
  if (rc < 0) throw VolumeError(with_library_words(devnode + " holds no readable LUKS header", rc));
  rc = crypt_activate_by_passphrase(cd.get(), name.c_str(), CRYPT_ANY_SLOT, key.data(), key.size(), 0);
  // The mapping may fail before the key is tried (a name in use, no device-mapper): a wrong
  // key is the likelier cause to name, so try the key alone (no name: no mapping).
  if (rc < 0 && rc != -EPERM &&
      crypt_activate_by_passphrase(cd.get(), nullptr, CRYPT_ANY_SLOT, key.data(), key.size(), 0) == -EPERM)
    rc = -EPERM;
  if (rc == -EPERM) throw VolumeError("the key file '" + key_file + "' opens no keyslot of " + devnode);
  if (rc < 0) throw VolumeError(with_library_words("cannot open " + devnode + " as '" + name + "'", rc));

  OpenedVolume volume;
  volume.devnode = "/dev/mapper/" + name;
  std::unique_ptr<blkid_struct_probe, ProbeDeleter> probe(blkid_new_probe_from_filename(volume.devnode.c_str()));
  if (probe) {
    blkid_probe_enable_superblocks(probe.get(), 1);
    blkid_probe_set_superblocks_flags(probe.get(), BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL);
    if (blkid_do_safeprobe(probe.get()) == 0) {
      volume.fstype = probe_value(probe.get(), "TYPE");
      volume.label = probe_value(probe.get(), "LABEL");
    }
  }
  return volume;
}

bool CryptsetupVolumes::is_open(const std::string& name) {
  crypt_set_log_callback(nullptr, collect_log, nullptr);
  const crypt_status_info status = crypt_status(nullptr, name.c_str());
  return status == CRYPT_ACTIVE || status == CRYPT_BUSY;
}

CloseResult CryptsetupVolumes::close(const std::string& name) {
  crypt_set_log_callback(nullptr, collect_log, nullptr);
  last_library_error.clear();
  int rc = crypt_deactivate_by_name(nullptr, name.c_str(), 0);
  if (rc == 0) return CloseResult::closed;
  if (rc == -ENODEV) return CloseResult::not_open;
  if (rc == -EBUSY) {
    rc = crypt_deactivate_by_name(nullptr, name.c_str(), CRYPT_DEACTIVATE_DEFERRED);
    if (rc == 0) return CloseResult::deferred;
  }
  throw std::system_error(-rc, std::generic_category(),
                          "crypt_deactivate_by_name '" + name + "'" +
                              (last_library_error.empty() ? "" : " (" + last_library_error + ")"));
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  std::size_t filled = 0;
  while (filled < n) {
    const ssize_t got = ::getrandom(out.data() + filled, n - filled, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    filled += static_cast<std::size_t>(got);
  }
  return out;
}

std::string format_luks2(const std::string& devnode, const std::string& key,
                         const std::string& passphrase, const std::string& label) {
  CryptPtr cd = init(devnode);
  crypt_pbkdf_type pbkdf = pbkdf_for_this_machine();
  crypt_params_luks2 params{};
  params.pbkdf = &pbkdf;
  params.label = label.c_str();
  int rc = crypt_format(cd.get(), CRYPT_LUKS2, "aes", "xts-plain64", nullptr, nullptr, 64, &params);
  if (rc < 0) throw VolumeError(with_library_words("cannot make a LUKS2 container on " + devnode, rc));
  for (const std::string* secret : {&key, &passphrase}) {
    rc = crypt_keyslot_add_by_volume_key(cd.get(), CRYPT_ANY_SLOT, nullptr, 0, secret->data(), secret->size());
    if (rc < 0) throw VolumeError(with_library_words("cannot add a keyslot on " + devnode, rc));
  }
  const char* uuid = crypt_get_uuid(cd.get());
  if (uuid == nullptr) throw VolumeError("the new LUKS2 container on " + devnode + " has no UUID");
  return uuid;
}

}  // namespace ubc
