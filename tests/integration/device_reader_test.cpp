// SPDX-License-Identifier: MIT
// DeviceReader on real filesystems: straight from the device with O_DIRECT where the
// filesystem allows it (ext4 on a loop disk), through the page cache where it does not
// (ramfs), and the same bytes in the same blocks either way.
#include "sys/device_reader.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "support/loop_disk.h"
#include "sys/unique_fd.h"

namespace ubc::test {
namespace {

// Content whose every 4 KiB differs, so that a block read at the wrong offset shows.
std::string content_of(std::size_t size) {
  std::string content(size, '\0');
  for (std::size_t i = 0; i < size; ++i) content[i] = static_cast<char>((i * 7 + i / 4096) & 0xff);
  return content;
}

struct ReadBack {
  std::string bytes;
  std::vector<std::size_t> blocks;
  bool direct = false;
  bool ahead = false;
  int error = 0;
};

ReadBack read_back(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  EXPECT_TRUE(fd) << path;
  ReadBack out;
  DeviceReader reader(fd.get(), static_cast<std::uint64_t>(::lseek(fd.get(), 0, SEEK_END)));
  for (;;) {
    const DeviceReader::Block block = reader.next();
    if (block.error != 0) {
      out.error = block.error;
      break;
    }
    out.bytes.append(reinterpret_cast<const char*>(block.data), block.size);
    out.blocks.push_back(block.size);
    reader.release();
    if (block.size < reader.block_size()) break;
  }
  EXPECT_EQ(reader.next().size, 0u) << "nothing after the end";
  out.direct = reader.direct();
  out.ahead = reader.reads_ahead();
  return out;
}

// Sizes around the 4 KiB alignment, the 256 KiB block and the 4 MiB from which the reader
// reads ahead on a thread.
const std::vector<std::size_t> kSizes{0,        1,        4095,           4096,     (256u << 10) - 1, 256u << 10,
                                      (256u << 10) + 1, 1u << 20, (4u << 20) - 1, 4u << 20, (9u << 20) + 5};

void expect_every_size_read_whole(const std::string& dir, bool direct) {
  for (const std::size_t size : kSizes) {
    const std::string path = dir + "/f" + std::to_string(size);
    const std::string content = content_of(size);
    write_file(path, content);
    const ReadBack got = read_back(path);
    EXPECT_EQ(got.error, 0) << size;
    EXPECT_EQ(got.direct, direct) << size;
    EXPECT_EQ(got.ahead, size >= (4u << 20)) << size;
    EXPECT_TRUE(got.bytes == content) << "size " << size << ": " << got.bytes.size() << " bytes read";
    ASSERT_FALSE(got.blocks.empty()) << size;
    for (std::size_t i = 0; i + 1 < got.blocks.size(); ++i) EXPECT_EQ(got.blocks[i], got.blocks.front()) << size;
  }
}

TEST(DeviceReader, ReadsAFileOnExt4StraightFromTheDevice) {
  LoopDisk disk("ext4", "5b1f3c52-8f0e-4d7e-9b66-2f6a4d1e0c11", "reader", 64);
  const std::string dir = make_temp_dir("ubc-reader-ext4");
  run_ok({"mount", disk.devnode(), dir});
  expect_every_size_read_whole(dir, true);
  run_ok({"umount", dir});
  remove_tree(dir);
}

TEST(DeviceReader, ReadsThroughThePageCacheWhereTheFilesystemCannotReadDirectly) {
  const std::string dir = make_temp_dir("ubc-reader-ramfs");
  run_ok({"mount", "-t", "ramfs", "ramfs", dir});
  expect_every_size_read_whole(dir, false);
  run_ok({"umount", dir});
  remove_tree(dir);
}

TEST(DeviceReader, AReaderLeftHalfWayStopsItsThread) {
  const std::string dir = make_temp_dir("ubc-reader-stop");
  const std::string path = dir + "/big";
  write_file(path, content_of(16u << 20));
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd);
  {
    DeviceReader reader(fd.get(), 16u << 20);
    const DeviceReader::Block first = reader.next();
    EXPECT_EQ(first.size, reader.block_size());
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(first.data), 16), content_of(16));
  }  // the destructor stops the read-ahead thread that waits for a free block,
     // and joins it
  remove_tree(dir);
}

}  // namespace
}  // namespace ubc::test
