// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace ubc {

// Reads a copy on the disk block by block, in order, from the device.
//
// Where the filesystem allows it the file is read with O_DIRECT: the bytes come from the
// device without being copied through the page cache (a quarter of the verification's CPU
// time before), and reading a backup does not push the server's own cached files out. Where
// it does not (ramfs, some FUSE filesystems) or a read is refused as unaligned, it reads
// through the page cache, with the file's cached pages dropped before (by the caller) and
// behind the reader.
//
// A big file is read ahead on a second thread into a ring of blocks, so that the device
// keeps reading while the caller compares and hashes them; a small one is read on the caller's
// thread, where a thread per file would cost more than it saves in a tree of small files.
class DeviceReader {
 public:
  struct Block {
    const unsigned char* data = nullptr;
    std::size_t size = 0;  // shorter than block_size() (0 included) only at the end
    int error = 0;         // errno of a failed read; then size is 0
  };

  // fd is open for reading, a regular file of size bytes; it is not owned and must outlive
  // the reader.
  DeviceReader(int fd, std::uint64_t size);
  ~DeviceReader();
  DeviceReader(const DeviceReader &) = delete;
  DeviceReader& operator=(const DeviceReader&) = delete;

  // The next block. Its bytes stay valid until it is released. After a block shorter than
  // block_size(), or an error, there is nothing more to read.
  Block next();
  // Done with the oldest block handed out and not yet released: the reader may read into
  // it again. May be called from another thread than next(), one thread at a time.
  void release();

  std::size_t block_size() const { return block_; }
  // Whether big files are read ahead on a second thread (and a caller's own stages may
  // then run on threads too).
  bool reads_ahead() const { return thread_.joinable(); }
  // Whether the blocks so far came straight from the device (O_DIRECT).
  bool direct() const { return direct_; }

 private:
  struct Slot {
    unsigned char* data = nullptr;
    std::size_t size = 0;
    int error = 0;
  };
  struct Unmap {
    std::size_t size;
    void operator()(unsigned char* p) const noexcept;
  };
  static unsigned char* allocate(std::size_t size);

  Slot read_block(std::uint64_t number);
  void read_ahead();

  const int fd_;
  const std::size_t block_;
  std::vector<std::unique_ptr<unsigned char, Unmap>> buffers_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Slot> ready_;     // by block number modulo the ring (guarded by mutex_)
  std::uint64_t produced_ = 0;  // blocks read (guarded by mutex_)
  std::uint64_t handed_ = 0;    // blocks handed out (guarded by mutex_)
  std::uint64_t released_ = 0;  // blocks released (guarded by mutex_)
  bool stop_ = false;           // the caller is done (guarded by mutex_)
  std::atomic<bool> direct_{false};
  bool ended_ = false;  // the caller's thread only
  std::thread thread_;
};

}  // namespace ubc
