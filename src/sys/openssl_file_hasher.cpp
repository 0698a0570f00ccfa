// SPDX-License-Identifier: MIT
#include "sys/openssl_file_hasher.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <future>
#include <memory>
#include <stdexcept>
#include <vector>

#include "sys/unique_fd.h"

namespace ubc {

namespace {

constexpr std::size_t kBlock = 1 << 20;
// Files from this size on have their source read on a second thread, beside the copy.
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

// Hashes path; from_device drops its cached pages first and behind the reader. keep_going
// is asked after every block.
template <typename KeepGoing>
HashOutcome hash_file(const std::string& path, bool from_device, const KeepGoing& keep_going) {
  // O_NONBLOCK: a FIFO in place of a file must not block the open.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    const int error = errno;
    if (error == ENOENT || error == ENOTDIR) return failed(HashOutcome::Kind::missing, "no such file");
    if (error == ELOOP) return failed(HashOutcome::Kind::not_regular, "a symbolic link");
    return failed(HashOutcome::Kind::error, std::string("open: ") + std::strerror(error));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return failed(HashOutcome::Kind::error, std::string("fstat: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return failed(HashOutcome::Kind::not_regular, "not a regular file");
  // Back to blocking reads now that it is known to be a regular file.
  (void)::fcntl(fd.get(), F_SETFL, O_RDONLY);
  if (from_device) (void)::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);
  (void)::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);

  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    return failed(HashOutcome::Kind::error, "OpenSSL could not start a SHA-256 digest");
  // No bigger than the file (plus one byte, to see its end in the same read): a tree of
  // 100,000 small files would otherwise clear 2 MiB of buffers for each of them.
  std::vector<unsigned char> buffer(
      static_cast<std::size_t>(std::min<std::uint64_t>(kBlock, static_cast<std::uint64_t>(st.st_size) + 1)));
  HashOutcome out;
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      out = failed(HashOutcome::Kind::error, std::string("read: ") + std::strerror(errno));
      return out;
    }
    if (n == 0) break;
    if (EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<std::size_t>(n)) != 1)
      return failed(HashOutcome::Kind::error, "OpenSSL failed to hash a block");
    // What has been hashed need not stay cached: the verification must not push the
    // server's own working set out of memory.
    if (from_device)
      (void)::posix_fadvise(fd.get(), static_cast<off_t>(out.bytes), n, POSIX_FADV_DONTNEED);
    out.bytes += static_cast<std::uint64_t>(n);
    if (!keep_going(out.bytes)) return failed(HashOutcome::Kind::cancelled, "stopped");
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned size = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest, &size) != 1)
    return failed(HashOutcome::Kind::error, "OpenSSL failed to finish the digest");
  const std::uint64_t bytes = out.bytes;
  out = HashOutcome{};
  out.sha256 = lower_hex(digest, size);
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
  return hash_file(copy, true, progress);
}

std::pair<HashOutcome, HashOutcome> OpensslFileHasher::hash_source_and_copy(const std::string& source,
                                                                            const std::string& copy,
                                                                            const HashProgress& progress) {
  // A small file is read in one go: a thread to overlap two such reads costs more than it
  // saves, and a tree of small files would start one per file.
  struct stat st {};
  if (::lstat(copy.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
      static_cast<std::uint64_t>(st.st_size) < kThreadFrom) {
    HashOutcome copy_hash = hash_file(copy, true, progress);
    if (copy_hash.kind == HashOutcome::Kind::cancelled) return {copy_hash, std::move(copy_hash)};
    return {hash_file(source, false, [](std::uint64_t) { return true; }), std::move(copy_hash)};
  }
  // The caller's progress callback runs on the caller's thread only (with the copy);
  // stopping the copy stops the source too.
  std::atomic<bool> stop{false};
  auto source_hash = std::async(std::launch::async, [&] {
    return hash_file(source, false, [&](std::uint64_t) { return !stop.load(); });
  });
  HashOutcome copy_hash = hash_file(copy, true, [&](std::uint64_t bytes) {
    if (progress(bytes)) return true;
    stop = true;
    return false;
  });
  if (copy_hash.kind != HashOutcome::Kind::ok) stop = true;  // no need to finish the source
  return {source_hash.get(), std::move(copy_hash)};
}

}  // namespace ubc
