// SPDX-License-Identifier: MIT
#include "sys/openssl_file_hasher.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include "sys/unique_fd.h"

namespace ubc {

namespace {

constexpr std::size_t kBlock = 1 << 20;
// Files from this size on have the copy's next block read on a second thread.
constexpr std::uint64_t kThreadFrom = 4 << 20;

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

HashOutcome failed(HashOutcome::Kind kind, std::string error) {
  HashOutcome out;
  out.kind = kind;
  out.error = std::move(error);
  return out;
}

HashOutcome read_failed(int error) {
  return failed(HashOutcome::Kind::error, std::string("read: ") + std::strerror(error));
}

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    ok_ = ctx_ && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1;
  }
  bool started() const { return ok_; }
  bool update(const unsigned char* data, std::size_t size) {
    return EVP_DigestUpdate(ctx_.get(), data, size) == 1;
  }
  std::optional<std::string> finish() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned size = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), digest, &size) != 1) return std::nullopt;
    return lower_hex(digest, size);
  }

 private:
  MdCtxPtr ctx_;
  bool ok_ = false;
};

// A file open for reading and known to be a regular file, or why it is not.
struct OpenFile {
  UniqueFd fd;
  std::uint64_t size = 0;
  HashOutcome failure;  // kind ok when fd is open
};

// from_device drops the file's cached pages, so that what is read comes from the device.
OpenFile open_regular(const std::string& path, bool from_device) {
  OpenFile file;
  // O_NONBLOCK: a FIFO in place of a file must not block the open.
  file.fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!file.fd) {
    const int error = errno;
    if (error == ENOENT || error == ENOTDIR) file.failure = failed(HashOutcome::Kind::missing, "no such file");
    else if (error == ELOOP) file.failure = failed(HashOutcome::Kind::not_regular, "a symbolic link");
    else file.failure = failed(HashOutcome::Kind::error, std::string("open: ") + std::strerror(error));
    return file;
  }
  struct stat st {};
  if (::fstat(file.fd.get(), &st) != 0) {
    file.failure = failed(HashOutcome::Kind::error, std::string("fstat: ") + std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    file.failure = failed(HashOutcome::Kind::not_regular, "not a regular file");
  }
  if (file.failure.kind != HashOutcome::Kind::ok) {
    file.fd = UniqueFd();
    return file;
  }
  file.size = static_cast<std::uint64_t>(st.st_size);
  // Back to blocking reads now that it is known to be a regular file.
  (void)::fcntl(file.fd.get(), F_SETFL, O_RDONLY);
  if (from_device) (void)::posix_fadvise(file.fd.get(), 0, 0, POSIX_FADV_DONTNEED);
  (void)::posix_fadvise(file.fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  return file;
}

// A buffer no bigger than the file (plus one byte, to see its end in the same read): a
// tree of 100,000 small files would otherwise clear megabytes of buffers for each of them.
std::size_t block_for(std::uint64_t file_size) {
  return static_cast<std::size_t>(std::min<std::uint64_t>(kBlock, file_size + 1));
}

// Reads until the buffer is full or the file ends: the bytes read, or -errno.
ssize_t read_full(int fd, unsigned char* buffer, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, buffer + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

// What has been read from the device need not stay cached: the verification must not push
// the server's own working set out of memory.
void drop_behind(int fd, std::uint64_t offset, std::size_t size) {
  (void)::posix_fadvise(fd, static_cast<off_t>(offset), static_cast<off_t>(size), POSIX_FADV_DONTNEED);
}

template <typename KeepGoing>
HashOutcome hash_file(const std::string& path, const KeepGoing& keep_going) {
  OpenFile file = open_regular(path, true);
  if (!file.fd) return file.failure;
  Sha256 sha;
  if (!sha.started()) return failed(HashOutcome::Kind::error, "OpenSSL could not start a SHA-256 digest");
  std::vector<unsigned char> buffer(block_for(file.size));
  std::uint64_t bytes = 0;
  for (;;) {
    const ssize_t n = read_full(file.fd.get(), buffer.data(), buffer.size());
    if (n < 0) return read_failed(static_cast<int>(-n));
    if (n == 0) break;
    if (!sha.update(buffer.data(), static_cast<std::size_t>(n)))
      return failed(HashOutcome::Kind::error, "OpenSSL failed to hash a block");
    drop_behind(file.fd.get(), bytes, static_cast<std::size_t>(n));
    bytes += static_cast<std::uint64_t>(n);
    if (!keep_going(bytes)) return failed(HashOutcome::Kind::cancelled, "stopped");
    if (static_cast<std::size_t>(n) < buffer.size()) break;  // read_full stops short only at the end
  }
  auto sum = sha.finish();
  if (!sum) return failed(HashOutcome::Kind::error, "OpenSSL failed to finish the digest");
  HashOutcome out;
  out.sha256 = std::move(*sum);
  out.bytes = bytes;
  return out;
}

}  // namespace

std::string lower_hex(const unsigned char* bytes, std::size_t size) {
  static const char digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    hex += digits[bytes[i] >> 4];
    hex += digits[bytes[i] & 0xf];
  }
  return hex;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned size = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("EVP_Digest (SHA-256) failed");
  return lower_hex(digest, size);
}

HashOutcome OpensslFileHasher::hash_copy(const std::string& copy, const HashProgress& progress) {
  return hash_file(copy, progress);
}

CompareOutcome OpensslFileHasher::compare_and_hash(const std::string& source, const std::string& copy,
                                                   const HashProgress& progress) {
  CompareOutcome out;
  OpenFile src = open_regular(source, false);
  if (!src.fd) {
    out.source = std::move(src.failure);
    out.copy = hash_file(copy, progress);
    return out;
  }
  OpenFile cp = open_regular(copy, true);
  if (!cp.fd) {
    out.copy = std::move(cp.failure);
    return out;
  }
  if (src.size != cp.size) return out;  // differs; nothing to read
  Sha256 sha;
  if (!sha.started()) {
    out.copy = failed(HashOutcome::Kind::error, "OpenSSL could not start a SHA-256 digest");
    return out;
  }
  // The copy's blocks alternate between two buffers: while one is hashed and compared, the
  // next is read into the other. The source's block is read on this thread, just before
  // it is compared. A small file is read on this thread alone (deferred): a thread per
  // file would cost more than the overlap saves in a tree of small files.
  const std::size_t block = block_for(cp.size);
  const auto policy = cp.size < kThreadFrom ? std::launch::deferred : std::launch::async;
  std::array<std::vector<unsigned char>, 2> copy_blocks{std::vector<unsigned char>(block),
                                                        std::vector<unsigned char>(policy == std::launch::async ? block : 0)};
  std::vector<unsigned char> source_block(block);
  const int copy_fd = cp.fd.get();
  auto read_copy = [copy_fd, &copy_blocks](int slot) {
    return read_full(copy_fd, copy_blocks[slot].data(), copy_blocks[slot].size());
  };
  int slot = 0;
  std::future<ssize_t> pending = std::async(policy, read_copy, slot);
  std::uint64_t bytes = 0;
  for (;;) {
    const ssize_t n = pending.get();
    if (n < 0) {
      out.copy = read_failed(static_cast<int>(-n));
      return out;
    }
    const auto got = static_cast<std::size_t>(n);
    const bool last = got < block;  // read_full stops short only at the end
    const int this_slot = slot;
    if (!last) {
      // Deferred, the next read runs only when asked for, after this block is done with.
      if (policy == std::launch::async) slot = 1 - slot;
      pending = std::async(policy, read_copy, slot);
    }
    const unsigned char* data = copy_blocks[this_slot].data();
    const ssize_t s = read_full(src.fd.get(), source_block.data(), block);
    if (s < 0) {
      out.source = read_failed(static_cast<int>(-s));
      return out;  // a pending read of the copy is waited for by its future's destructor
    }
    if (static_cast<std::size_t>(s) != got || std::memcmp(data, source_block.data(), got) != 0) return out;
    if (!sha.update(data, got)) {
      out.copy = failed(HashOutcome::Kind::error, "OpenSSL failed to hash a block");
      return out;
    }
    drop_behind(copy_fd, bytes, got);
    bytes += got;
    out.copy.bytes = bytes;
    if (got > 0 && !progress(bytes)) {
      out.copy = failed(HashOutcome::Kind::cancelled, "stopped");
      return out;
    }
    if (last) break;
  }
  auto sum = sha.finish();
  if (!sum) {
    out.copy = failed(HashOutcome::Kind::error, "OpenSSL failed to finish the digest");
    return out;
  }
  out.copy.sha256 = std::move(*sum);
  out.source.bytes = bytes;
  out.equal = true;
  return out;
}

}  // namespace ubc
