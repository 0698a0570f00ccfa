// SPDX-License-Identifier: MIT
#include "sys/openssl_file_hasher.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "sys/device_reader.h"
#include "sys/unique_fd.h"

namespace ubc {

namespace {

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

// Hashes the copy's blocks in order and releases each to the reader once hashed. For a file
// read ahead it hashes on a thread of its own: SHA-256 is two thirds of the verification's
// CPU time, and on its own core it runs beside the reading and the comparison instead of
// after them. A small file is hashed on the caller's thread.
class HashStage {
 public:
  HashStage(Sha256& sha, DeviceReader& reader) : sha_(sha), reader_(reader) {
    if (reader_.reads_ahead()) thread_ = std::thread([this] { run(); });
  }
  // Without finish(), the blocks still queued are released unhashed.
  ~HashStage() { stop(true); }
  HashStage(const HashStage&) = delete;
  HashStage& operator=(const HashStage&) = delete;

  void add(const DeviceReader::Block& block) {
    if (!thread_.joinable()) {
      hash(block);
      return;
    }
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(block);
    }
    changed_.notify_all();
  }

  // Waits until every block is hashed: false when OpenSSL failed on one.
  bool finish() {
    stop(false);
    return !failed_;
  }

 private:
  void hash(const DeviceReader::Block& block) {
    if (!failed_ && !abandoned_ && !sha_.update(block.data, block.size)) failed_ = true;
    reader_.release();
  }

  void run() {
    for (;;) {
      DeviceReader::Block block;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return !queue_.empty() || stopping_; });
        if (queue_.empty()) return;
        block = queue_.front();
        queue_.pop_front();
      }
      hash(block);
    }
  }

  void stop(bool abandon) {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      abandoned_ = abandon;
    }
    changed_.notify_all();
    thread_.join();
  }

  Sha256& sha_;
  DeviceReader& reader_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<DeviceReader::Block> queue_;  // guarded by mutex_
  bool stopping_ = false;                  // guarded by mutex_
  std::atomic<bool> abandoned_{false};
  bool failed_ = false;  // the hashing thread's until it is joined
  std::thread thread_;
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

// The source is compared in pieces of this size: it needs no buffer as big as the copy's
// blocks, which are the verification's biggest share of the copier's memory.
constexpr std::size_t kSourcePiece = 64 << 10;

// Whether the source's next bytes equal the copy's block; at the copy's end (last) the
// source must end too. 0 when they are the same, 1 when they differ, else -errno.
int compare_source(int fd, const unsigned char* copy, std::size_t size, bool last, std::vector<unsigned char>& piece) {
  for (std::size_t at = 0; at < size; at += piece.size()) {
    const std::size_t want = std::min(piece.size(), size - at);
    const ssize_t n = read_full(fd, piece.data(), want);
    if (n < 0) return static_cast<int>(n);
    if (static_cast<std::size_t>(n) != want || std::memcmp(copy + at, piece.data(), want) != 0) return 1;
  }
  if (!last) return 0;
  const ssize_t more = read_full(fd, piece.data(), 1);
  if (more < 0) return static_cast<int>(more);
  return more == 0 ? 0 : 1;
}

template <typename KeepGoing>
HashOutcome hash_file(const std::string& path, const KeepGoing& keep_going) {
  OpenFile file = open_regular(path, true);
  if (!file.fd) return file.failure;
  Sha256 sha;
  if (!sha.started()) return failed(HashOutcome::Kind::error, "OpenSSL could not start a SHA-256 digest");
  DeviceReader reader(file.fd.get(), file.size);
  std::uint64_t bytes = 0;
  for (;;) {
    const DeviceReader::Block block = reader.next();
    if (block.error != 0) return read_failed(block.error);
    if (block.size == 0) break;
    if (!sha.update(block.data, block.size)) return failed(HashOutcome::Kind::error, "OpenSSL failed to hash a block");
    reader.release();
    bytes += block.size;
    if (!keep_going(bytes)) return failed(HashOutcome::Kind::cancelled, "stopped");
    if (block.size < reader.block_size()) break;
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
  // Three stages for a big file: the copy is read ahead (DeviceReader); this thread reads
  // the source (mostly from the page cache, the copy pass having just read it) and compares
  // it with the copy's block; the copy's block is hashed (HashStage).
  DeviceReader reader(cp.fd.get(), cp.size);
  HashStage hashing(sha, reader);
  std::vector<unsigned char> source_piece(kSourcePiece);
  std::uint64_t bytes = 0;
  for (;;) {
    const DeviceReader::Block block = reader.next();
    if (block.error != 0) {
      out.copy = read_failed(block.error);
      return out;
    }
    const bool last = block.size < reader.block_size();
    const int match = compare_source(src.fd.get(), block.data, block.size, last, source_piece);
    if (match < 0) {
      out.source = read_failed(-match);
      return out;
    }
    if (match != 0) return out;
    hashing.add(block);
    bytes += block.size;
    out.copy.bytes = bytes;
    if (block.size > 0 && !progress(bytes)) {
      out.copy = failed(HashOutcome::Kind::cancelled, "stopped");
      return out;
    }
    if (last) break;
  }
  if (!hashing.finish()) {
    out.copy = failed(HashOutcome::Kind::error, "OpenSSL failed to hash a block");
    return out;
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
