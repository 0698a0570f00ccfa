// SPDX-License-Identifier: MIT
#include "sys/device_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <new>

namespace ubc {

namespace {

// Read requests of 256 KiB keep a disk streaming (on the benchmark's loop disks as fast as
// 512 KiB or 4 MiB ones) while the ring holds only 1 MiB of the copier's memory, whose peak
// the verification sets (DESIGN.md §11: 16 MiB).
constexpr std::size_t kBlock = 256 << 10;
// O_DIRECT wants buffers, offsets and lengths aligned to the device's logical block size;
// 4 KiB covers every device in use.
constexpr std::size_t kAlign = 4096;
// Files from this size on are read ahead on a second thread.
constexpr std::uint64_t kThreadFrom = 4 << 20;
// Blocks in the ring: one being read, one compared, one hashed, one read and waiting.
constexpr std::size_t kRing = 4;

// A block no bigger than the file (plus one byte, to see its end in the same read): a tree
// of 100,000 small files would otherwise clear a quarter of a megabyte for each of them.
std::size_t block_for(std::uint64_t file_size) {
  const auto wanted = static_cast<std::size_t>(std::min<std::uint64_t>(kBlock, file_size + 1));
  return (wanted + kAlign - 1) / kAlign * kAlign;
}

bool turn_direct(int fd, bool on) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return false;
  return ::fcntl(fd, F_SETFL, on ? (flags | O_DIRECT) : (flags & ~O_DIRECT)) == 0;
}

}  // namespace

// Mapped, not taken from malloc: page-aligned as O_DIRECT wants, and given back to the
// kernel when the file is done. Freeing blocks this big to malloc would raise its
// threshold for mapping, and the next file's blocks would come from the heap and stay in
// the copier's memory after the verification.
unsigned char* DeviceReader::allocate(std::size_t size) {
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return static_cast<unsigned char*>(p);
}

void DeviceReader::Unmap::operator()(unsigned char* p) const noexcept { (void)::munmap(p, size); }

DeviceReader::DeviceReader(int fd, std::uint64_t size) : fd_(fd), block_(block_for(size)) {
  const bool ahead = size >= kThreadFrom;
  const std::size_t count = ahead ? kRing : 1;
  for (std::size_t i = 0; i < count; ++i) buffers_.emplace_back(allocate(block_), Unmap{block_});
  ready_.resize(count);
  // Refused where the filesystem cannot read directly: then through the page cache.
  direct_ = turn_direct(fd_, true);
  if (ahead) thread_ = std::thread([this] { read_ahead(); });
}

DeviceReader::~DeviceReader() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

DeviceReader::Slot DeviceReader::read_block(std::uint64_t number) {
  Slot slot;
  slot.data = buffers_[number % buffers_.size()].get();
  const std::uint64_t start = number * block_;
  while (slot.size < block_) {
    const ssize_t n = ::pread(fd_, slot.data + slot.size, block_ - slot.size, static_cast<off_t>(start + slot.size));
    if (n < 0) {
      if (errno == EINTR) continue;
      // A direct read refused as unaligned (after a short read, or on a device with bigger
      // blocks): the rest is read through the page cache.
      if (errno == EINVAL && direct_ && turn_direct(fd_, false)) {
        direct_ = false;
        continue;
      }
      slot.error = errno;
      slot.size = 0;
      return slot;
    }
    if (n == 0) break;
    slot.size += static_cast<std::size_t>(n);
  }
  // Read through the page cache, what has been read need not stay cached.
  if (!direct_ && slot.size > 0)
    (void)::posix_fadvise(fd_, static_cast<off_t>(start), static_cast<off_t>(slot.size), POSIX_FADV_DONTNEED);
  return slot;
}

void DeviceReader::read_ahead() {
  for (std::uint64_t number = 0;; ++number) {
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return stop_ || number < released_ + buffers_.size(); });
      if (stop_) return;
    }
    const Slot slot = read_block(number);
    {
      std::lock_guard lock(mutex_);
      ready_[number % ready_.size()] = slot;
      produced_ = number + 1;
    }
    changed_.notify_all();
    if (slot.error != 0 || slot.size < block_) return;
  }
}

DeviceReader::Block DeviceReader::next() {
  if (ended_) return Block{};
  Slot slot;
  if (!thread_.joinable()) {
    slot = read_block(handed_++);
  } else {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return produced_ > handed_; });
    slot = ready_[handed_ % ready_.size()];
    ++handed_;
  }
  ended_ = slot.error != 0 || slot.size < block_;
  return Block{slot.data, slot.size, slot.error};
}

void DeviceReader::release() {
  if (!thread_.joinable()) return;  // one block, read again by the next call
  {
    std::lock_guard lock(mutex_);
    ++released_;
  }
  changed_.notify_all();
}

}  // namespace ubc
