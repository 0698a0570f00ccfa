// SPDX-License-Identifier: MIT
// Mail attempts and pings run in a child process: the inner transport's answer crosses
// back whole, a child that dies or hangs is a temporary failure, give_up kills it, and
// no child, descriptor or flushed buffer is left behind.
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes/fake_mail.h"
#include "fakes/fake_pinger.h"
#include "sys/child_call.h"
#include "sys/forked_transport.h"

namespace ubc::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using Kind = TransmitResult::Kind;

const RenderedMail kMail{"copier@example.com", {"ops@example.com"}, "Subject: done\r\n\r\nbody\r\n"};

bool no_child_left() { return ::waitpid(-1, nullptr, WNOHANG) < 0 && errno == ECHILD; }

int open_descriptors() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  while (::readdir(dir) != nullptr) ++count;
  (void)::closedir(dir);
  return count;
}

// An inner transport that ends its process with that status instead of answering.
FakeMailTransport::Hook exits_with(int status) {
  return [status](const RenderedMail&, std::chrono::milliseconds, const std::function<bool()>&) -> TransmitResult {
    ::_exit(status);
  };
}

// An inner transport that never answers.
FakeMailTransport::Hook hangs() {
  return [](const RenderedMail&, std::chrono::milliseconds, const std::function<bool()>&) -> TransmitResult {
    for (;;) ::pause();
  };
}

class ForkedMailTransportTest : public ::testing::Test {
 protected:
  FakeMailTransport inner_;
  ForkedMailTransport transport_{inner_, 0ms};
};

TEST_F(ForkedMailTransportTest, TheInnerAnswerComesBackFromAnotherProcess) {
  const pid_t parent = ::getpid();
  inner_.hook_ = [](const RenderedMail& mail, std::chrono::milliseconds limit, const std::function<bool()>&) {
    return TransmitResult{Kind::delivered, mail.recipients.at(0) + " in " + std::to_string(limit.count()) + " ms",
                          "250 OK from " + std::to_string(::getpid()), {"boss@example.com (550 unknown)"}};
  };
  const TransmitResult result = transport_.transmit(kMail, 5000ms, [] { return false; });
  EXPECT_EQ(result.kind, Kind::delivered);
  EXPECT_EQ(result.error, "ops@example.com in 5000 ms");
  EXPECT_THAT(result.server_reply, HasSubstr("250 OK from "));
  EXPECT_NE(result.server_reply, "250 OK from " + std::to_string(parent));
  EXPECT_EQ(result.refused_recipients, std::vector<std::string>{"boss@example.com (550 unknown)"});
  EXPECT_TRUE(inner_.attempts_.empty()) << "the attempt ran in the parent";
  EXPECT_TRUE(no_child_left());
}

TEST_F(ForkedMailTransportTest, ARefusalStaysARefusal) {
  inner_.script_ = {refusal()};
  const TransmitResult result = transport_.transmit(kMail, 5000ms, [] { return false; });
  EXPECT_EQ(result.kind, Kind::refused);
  EXPECT_EQ(result.server_reply, "554 5.7.0 message refused");
  EXPECT_EQ(result.error, refusal().error);
}

TEST_F(ForkedMailTransportTest, MessageIdsComeFromTheInnerTransport) {
  EXPECT_EQ(transport_.new_message_id(0), "<1@test>");
  EXPECT_EQ(inner_.ids_, 1);
}

TEST_F(ForkedMailTransportTest, AChildKilledBeforeItAnswersIsATemporaryFailure) {
  inner_.hook_ = [](const RenderedMail&, std::chrono::milliseconds, const std::function<bool()>&) {
    (void)::kill(::getpid(), SIGKILL);
    return TransmitResult{Kind::delivered, {}, {}, {}};
  };
  const TransmitResult result = transport_.transmit(kMail, 5000ms, [] { return false; });
  EXPECT_EQ(result.kind, Kind::temporary);
  EXPECT_THAT(result.error, HasSubstr("child process sending the mail was killed by signal 9"));
  EXPECT_TRUE(no_child_left());
}

TEST_F(ForkedMailTransportTest, AChildExitingWithoutAnAnswerIsATemporaryFailure) {
  inner_.hook_ = exits_with(3);
  const TransmitResult result = transport_.transmit(kMail, 5000ms, [] { return false; });
  EXPECT_EQ(result.kind, Kind::temporary);
  EXPECT_THAT(result.error, HasSubstr("exited with status 3 before it answered"));
}

TEST_F(ForkedMailTransportTest, AnEmptyAnswerIsATemporaryFailure) {
  inner_.hook_ = exits_with(0);
  const TransmitResult result = transport_.transmit(kMail, 5000ms, [] { return false; });
  EXPECT_EQ(result.kind, Kind::temporary);
  EXPECT_THAT(result.error, HasSubstr("gave an answer that cannot be read (0 bytes)"));
}

TEST_F(ForkedMailTransportTest, GivingUpKillsAndReapsTheChild) {
  inner_.hook_ = hangs();
  int asked = 0;
  const TransmitResult result = transport_.transmit(kMail, 3600s, [&] { return ++asked == 2; });
  EXPECT_EQ(result.kind, Kind::stopped);
  EXPECT_EQ(asked, 2);
  EXPECT_TRUE(no_child_left());
}

TEST_F(ForkedMailTransportTest, AChildHangingPastTheTimeLimitIsKilledAndATemporaryFailure) {
  inner_.hook_ = hangs();
  const TransmitResult result = transport_.transmit(kMail, 50ms, [] { return false; });
  EXPECT_EQ(result.kind, Kind::temporary);
  EXPECT_THAT(result.error, HasSubstr("gave no answer within 1 s"));
  EXPECT_TRUE(no_child_left());
}

TEST_F(ForkedMailTransportTest, NoDescriptorIsLeftOpen) {
  const int before = open_descriptors();
  (void)transport_.transmit(kMail, 5000ms, [] { return false; });
  inner_.script_ = {temporary_failure()};
  (void)transport_.transmit(kMail, 5000ms, [] { return true; });
  EXPECT_EQ(open_descriptors(), before);
}

// The child leaves with _exit: a buffer the parent has not written yet is not written a
// second time by the child.
TEST_F(ForkedMailTransportTest, TheChildDoesNotFlushTheParentsBuffers) {
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  std::fputs("written once\n", file);
  (void)transport_.transmit(kMail, 5000ms, [] { return false; });
  std::fflush(file);
  std::rewind(file);
  char text[64] = {};
  const std::size_t n = std::fread(text, 1, sizeof text - 1, file);
  std::fclose(file);
  EXPECT_EQ(std::string(text, n), "written once\n");
}

TEST(ForkedPinger, SuccessAndFailureComeBackFromTheChild) {
  FakePinger inner;
  ForkedPinger pinger(inner, 5s);
  EXPECT_EQ(pinger.ping("https://hc.example.com/abc"), std::nullopt);
  inner.error_ = "the server answered HTTP 404";
  EXPECT_EQ(pinger.ping("https://hc.example.com/abc"), std::optional<std::string>("the server answered HTTP 404"));
  EXPECT_TRUE(inner.urls_.empty()) << "the ping ran in the parent";
  EXPECT_TRUE(no_child_left());
}

class CrashingPinger final : public Pinger {
 public:
  std::optional<std::string> ping(const std::string&) override {
    (void)::kill(::getpid(), SIGKILL);
    return std::nullopt;
  }
};

TEST(ForkedPinger, AChildThatDiesIsAFailedPing) {
  CrashingPinger inner;
  ForkedPinger pinger(inner, 5s);
  const auto error = pinger.ping("https://hc.example.com/abc");
  ASSERT_TRUE(error.has_value());
  EXPECT_THAT(*error, HasSubstr("child process sending the ping was killed by signal 9"));
  EXPECT_TRUE(no_child_left());
}

TEST(CallInChild, AnAnswerLargerThanTheLimitIsNoAnswer) {
  const ChildResult result = call_in_child([] { return std::string(100000, 'x'); }, {}, 5s, 1000);
  EXPECT_EQ(result.end, ChildResult::End::no_answer);
  EXPECT_THAT(result.error, HasSubstr("answered more than 1000 bytes"));
  EXPECT_TRUE(result.answer.empty());
  EXPECT_TRUE(no_child_left());
}

TEST(CallInChild, AnAnswerLargerThanThePipeArrivesWhole) {
  const ChildResult result = call_in_child([] { return std::string(300000, 'y'); }, {}, 5s);
  EXPECT_EQ(result.end, ChildResult::End::answered);
  EXPECT_EQ(result.answer, std::string(300000, 'y'));
}

TEST(CallInChild, AGiveUpThatThrowsEndsAndReapsTheChild) {
  const ChildResult result = call_in_child([]() -> std::string { for (;;) ::pause(); },
                                           []() -> bool { throw std::runtime_error("broken flag"); }, 3600s);
  EXPECT_EQ(result.end, ChildResult::End::given_up);
  EXPECT_TRUE(no_child_left());
}

TEST(CallInChild, WorkThatThrowsIsNoAnswer) {
  const ChildResult result = call_in_child([]() -> std::string { throw std::runtime_error("boom"); }, {}, 5s);
  EXPECT_EQ(result.end, ChildResult::End::no_answer);
  EXPECT_THAT(result.error, HasSubstr("failed with an exception"));
}

}  // namespace
}  // namespace ubc::test
