// SPDX-License-Identifier: MIT
// Status files in a real directory, and STATUS= datagrams on a real notify socket.
#include "sys/status_file_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "support/loop_disk.h"
#include "sys/unique_fd.h"

namespace ubc {
namespace {

Status sample(const std::string& uuid, std::int64_t started_at) {
  Status s;
  s.uuid = uuid;
  s.label = "Büro \"Dienstag\"";
  s.devnode = "/dev/sdc1";
  s.pid = static_cast<int>(::getpid());
  s.phase = Phase::copying;
  s.bytes_done = 3ULL << 30;
  s.bytes_total = 10ULL << 30;
  s.rate_bytes_per_second = 50.0 * (1 << 20);
  s.eta_seconds = 143;
  s.started_at = started_at;
  s.updated_at = started_at + 60;
  return s;
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

class StatusFileSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::make_temp_dir("ubc-status");
    runtime_ = dir_ + "/run";
    ::unsetenv("NOTIFY_SOCKET");
  }
  void TearDown() override {
    ::unsetenv("NOTIFY_SOCKET");
    test::remove_tree(dir_);
  }

  std::string dir_;
  std::string runtime_;
};

TEST_F(StatusFileSinkTest, PublishWritesAFileThatReadsBackAsTheSameStatus) {
  StatusFileSink sink(runtime_);
  const Status s = sample("0B5E1C2A-7D4F-4C8E-9A61-3F2D8E7C6B5A", 1795000000);
  sink.publish(s);

  const std::string path = runtime_ + "/0b5e1c2a-7d4f-4c8e-9a61-3f2d8e7c6b5a.json";
  const auto back = status_from_json(test::read_file(path));
  ASSERT_TRUE(back);
  EXPECT_EQ(to_json(*back), to_json(s));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  ASSERT_EQ(::stat(runtime_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  // Nothing else is left behind (no temporary file).
  EXPECT_EQ(names_in(runtime_), std::vector<std::string>{"0b5e1c2a-7d4f-4c8e-9a61-3f2d8e7c6b5a.json"});
}

TEST_F(StatusFileSinkTest, PublishReplacesTheFileInsteadOfRewritingIt) {
  StatusFileSink sink(runtime_);
  Status s = sample("ABCD-1234", 100);
  sink.publish(s);
  const std::string path = runtime_ + "/abcd-1234.json";
  // A reader that opened the old file keeps reading the whole old text: the new one
  // arrived by rename, never by truncating the file under the reader.
  UniqueFd reader(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(reader);
  s.bytes_done += 1 << 20;
  s.phase = Phase::finishing;
  sink.publish(s);

  std::string old_text(4096, '\0');
  const ssize_t n = ::read(reader.get(), old_text.data(), old_text.size());
  ASSERT_GT(n, 0);
  old_text.resize(static_cast<std::size_t>(n));
  const auto old_status = status_from_json(old_text);
  ASSERT_TRUE(old_status);
  EXPECT_EQ(old_status->phase, Phase::copying);
  const auto new_status = status_from_json(test::read_file(path));
  ASSERT_TRUE(new_status);
  EXPECT_EQ(new_status->phase, Phase::finishing);
  EXPECT_EQ(new_status->bytes_done, s.bytes_done);
}

TEST_F(StatusFileSinkTest, ClearRemovesTheFileAndAMissingFileIsFine) {
  StatusFileSink sink(runtime_);
  sink.publish(sample("ABCD-1234", 100));
  sink.clear("ABCD-1234");
  EXPECT_TRUE(names_in(runtime_).empty());
  EXPECT_NO_THROW(sink.clear("ABCD-1234"));
}

TEST_F(StatusFileSinkTest, ASymlinkAtTheTemporaryPathIsRemovedNotFollowed) {
  ASSERT_EQ(::mkdir(runtime_.c_str(), 0755), 0);
  const std::string target = dir_ + "/elsewhere";
  ASSERT_EQ(::symlink(target.c_str(), (runtime_ + "/.abcd-1234.json.tmp").c_str()), 0);
  StatusFileSink sink(runtime_);
  sink.publish(sample("ABCD-1234", 100));
  struct stat st {};
  EXPECT_NE(::lstat(target.c_str(), &st), 0) << "publish wrote through the symlink";
  EXPECT_NE(::lstat((runtime_ + "/.abcd-1234.json.tmp").c_str(), &st), 0);
  EXPECT_EQ(::lstat((runtime_ + "/abcd-1234.json").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(StatusFileSinkTest, AFailedRenameThrowsAndLeavesNoTemporaryFile) {
  // A directory in the way: rename(2) of a file over a directory fails with EISDIR.
  ASSERT_EQ(::mkdir(runtime_.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((runtime_ + "/abcd-1234.json").c_str(), 0755), 0);
  StatusFileSink sink(runtime_);
  try {
    sink.publish(sample("ABCD-1234", 100));
    FAIL() << "publish did not report the failed rename";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EISDIR);
    EXPECT_NE(std::string(e.what()).find("rename"), std::string::npos) << e.what();
  }
  EXPECT_EQ(names_in(runtime_), std::vector<std::string>{"abcd-1234.json"});
}

TEST_F(StatusFileSinkTest, RefusesUuidsThatAreNotFileNames) {
  StatusFileSink sink(runtime_);
  EXPECT_THROW(sink.publish(sample("../escape", 1)), std::system_error);
  EXPECT_THROW(sink.clear("a/b"), std::system_error);
}

TEST_F(StatusFileSinkTest, ReadAllStatusListsLiveJobsOldestFirst) {
  StatusFileSink sink(runtime_);
  sink.publish(sample("BBBB-0002", 2000));
  sink.publish(sample("AAAA-0001", 1000));

  // A job that was killed hard: its file is still there, its process is not.
  const pid_t dead = ::fork();
  ASSERT_GE(dead, 0);
  if (dead == 0) ::_exit(0);
  int status = 0;
  ASSERT_EQ(::waitpid(dead, &status, 0), dead);
  Status gone = sample("CCCC-0003", 500);
  gone.pid = static_cast<int>(dead);
  sink.publish(gone);

  test::write_file(runtime_ + "/garbage.json", "{not json");
  test::write_file(runtime_ + "/disk-aaaa-0001.lock", "");
  test::write_file(runtime_ + "/.dddd-0004.json.tmp", to_json(sample("DDDD-0004", 1)));

  const auto all = read_all_status(runtime_);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].uuid, "AAAA-0001");
  EXPECT_EQ(all[1].uuid, "BBBB-0002");
  EXPECT_EQ(all[0].label, "Büro \"Dienstag\"");
}

TEST_F(StatusFileSinkTest, ReadAllStatusOfAMissingDirectoryIsEmpty) {
  EXPECT_TRUE(read_all_status(dir_ + "/nothing-here").empty());
}

// A stand-in for systemd's notify socket.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd_) throw std::system_error(errno, std::generic_category(), "socket");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0) {
      throw std::system_error(errno, std::generic_category(), "bind " + path);
    }
  }

  // The next datagram, or "" when none arrives in time.
  std::string receive(int timeout_ms = 2000) {
    pollfd pfd{fd_.get(), POLLIN, 0};
    if (::poll(&pfd, 1, timeout_ms) != 1) return "";
    std::string buf(4096, '\0');
    const ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), 0);
    buf.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return buf;
  }

 private:
  std::string path_;
  UniqueFd fd_;
};

TEST_F(StatusFileSinkTest, PublishSendsTheStatusLineToTheNotifySocket) {
  const std::string socket_path = dir_ + "/notify";
  NotifySocket socket(socket_path);
  ASSERT_EQ(::setenv("NOTIFY_SOCKET", socket_path.c_str(), 1), 0);

  StatusFileSink sink(runtime_);
  const Status s = sample("ABCD-1234", 100);
  sink.publish(s);
  EXPECT_EQ(socket.receive(), "STATUS=copying 3.00 GiB of 10.0 GiB (30%), 50.0 MiB/s, 2 min left");
  EXPECT_EQ(socket.receive(200), "") << "one datagram per publish";
}

TEST_F(StatusFileSinkTest, AnUntrustedDetailCannotAddNotifyAssignments) {
  const std::string socket_path = dir_ + "/notify";
  NotifySocket socket(socket_path);
  ASSERT_EQ(::setenv("NOTIFY_SOCKET", socket_path.c_str(), 1), 0);

  StatusFileSink sink(runtime_);
  Status s = sample("ABCD-1234", 100);
  s.phase = Phase::queued;
  s.detail = "behind disk 'evil\nREADY=1\nMAINPID=1'";
  sink.publish(s);
  const std::string got = socket.receive();
  EXPECT_EQ(got.rfind("STATUS=queued: behind disk 'evil", 0), 0u) << got;
  EXPECT_EQ(got.find('\n'), std::string::npos) << got;
}

TEST_F(StatusFileSinkTest, PublishWorksWithoutANotifySocket) {
  StatusFileSink sink(runtime_);
  EXPECT_NO_THROW(sink.publish(sample("ABCD-1234", 100)));
  EXPECT_EQ(read_all_status(runtime_).size(), 1u);
}

}  // namespace
}  // namespace ubc
