// SPDX-License-Identifier: MIT
// The bytes a mail attempt or a ping in a child process hands back: whole answers read back
// as they were; anything cut short, altered or foreign is no answer.
#include <gtest/gtest.h>

#include "core/transmit_codec.h"

namespace ubc::test {
namespace {

using Kind = TransmitResult::Kind;

TransmitResult full_result() {
  return {Kind::refused, "SMTP server 'mail:25': the server said '554 no'", "554 5.7.1 no",
          {"a@example.com (550 unknown)", "", "b@example.com (452 full)"}};
}

void expect_same(const TransmitResult& a, const TransmitResult& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.error, b.error);
  EXPECT_EQ(a.server_reply, b.server_reply);
  EXPECT_EQ(a.refused_recipients, b.refused_recipients);
}

TEST(TransmitCodec, EveryKindReadsBackAsWritten) {
  for (const Kind kind : {Kind::delivered, Kind::temporary, Kind::refused, Kind::failed, Kind::stopped}) {
    TransmitResult result = full_result();
    result.kind = kind;
    const auto back = decode_transmit_result(encode_transmit_result(result));
    ASSERT_TRUE(back.has_value());
    expect_same(*back, result);
  }
}

TEST(TransmitCodec, AnyByteInTheTextsSurvives) {
  TransmitResult result;
  const char with_nul[] = "nul \0 and high \xff bytes";
  result.error = std::string(with_nul, sizeof with_nul - 1);
  result.server_reply = std::string(100000, 'x');
  const auto back = decode_transmit_result(encode_transmit_result(result));
  ASSERT_TRUE(back.has_value());
  expect_same(*back, result);
}

TEST(TransmitCodec, EveryCutOffAnswerIsNoAnswer) {
  const std::string bytes = encode_transmit_result(full_result());
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_FALSE(decode_transmit_result(bytes.substr(0, size)).has_value()) << "cut at " << size;
  }
}

TEST(TransmitCodec, TrailingBytesAreNoAnswer) {
  EXPECT_FALSE(decode_transmit_result(encode_transmit_result(full_result()) + "x").has_value());
}

TEST(TransmitCodec, GarbageIsNoAnswer) {
  EXPECT_FALSE(decode_transmit_result("").has_value());
  EXPECT_FALSE(decode_transmit_result("250 OK\r\n").has_value());
  EXPECT_FALSE(decode_transmit_result(encode_ping_result(std::nullopt)).has_value());
}

TEST(TransmitCodec, AnUnknownKindIsNoAnswer) {
  std::string bytes = encode_transmit_result(full_result());
  const std::size_t kind_at = bytes.find('\n') + 1;
  bytes[kind_at] = 9;
  EXPECT_FALSE(decode_transmit_result(bytes).has_value());
}

TEST(TransmitCodec, AHugeRecipientCountIsNoAnswer) {
  TransmitResult result;
  std::string bytes = encode_transmit_result(result);
  // The count is the last field: 0xffffffff recipients that are not there.
  bytes.replace(bytes.size() - 4, 4, "\xff\xff\xff\xff");
  EXPECT_FALSE(decode_transmit_result(bytes).has_value());
}

TEST(PingCodec, SuccessAndFailureReadBack) {
  const auto ok = decode_ping_result(encode_ping_result(std::nullopt));
  ASSERT_TRUE(ok.has_value());
  EXPECT_FALSE(ok->has_value());
  const auto failed = decode_ping_result(encode_ping_result(std::string("the server answered HTTP 404")));
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(*failed, std::optional<std::string>("the server answered HTTP 404"));
}

TEST(PingCodec, CutOffOrForeignBytesAreNoAnswer) {
  const std::string bytes = encode_ping_result(std::string("timeout"));
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_FALSE(decode_ping_result(bytes.substr(0, size)).has_value()) << "cut at " << size;
  }
  EXPECT_FALSE(decode_ping_result(bytes + "x").has_value());
  EXPECT_FALSE(decode_ping_result(encode_transmit_result({})).has_value());
}

}  // namespace
}  // namespace ubc::test
