// SPDX-License-Identifier: MIT
#include "core/transmit_codec.h"

#include <cstddef>
#include <cstdint>

namespace ubc {
namespace {

// A tag per kind of answer and format version: bytes from anything else (a stray write to
// the pipe, an older copier) never read as an answer.
constexpr std::string_view kTransmitTag = "ubc-transmit-1\n";
constexpr std::string_view kPingTag = "ubc-ping-1\n";

void put_u32(std::string& out, std::uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8) out += static_cast<char>((value >> shift) & 0xff);
}

// Each string is its length (4 bytes, little endian) and its bytes, so it may hold any byte.
void put_string(std::string& out, std::string_view text) {
  put_u32(out, static_cast<std::uint32_t>(text.size()));
  out.append(text);
}

// Reads from the front of its input; any read past the end, or a length longer than what
// is left, marks it failed and leaves the rest unread.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}

  bool tag(std::string_view expected) {
    if (rest_.substr(0, expected.size()) != expected) {
      fail();
      return false;
    }
    rest_.remove_prefix(expected.size());
    return true;
  }
  std::uint32_t u32() {
    if (rest_.size() < 4) {
      fail();
      return 0;
    }
    std::uint32_t value = 0;
    for (int i = 3; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(rest_[static_cast<std::size_t>(i)]);
    rest_.remove_prefix(4);
    return value;
  }
  std::string string() {
    const std::uint32_t size = u32();
    if (!ok_ || size > rest_.size()) {
      fail();
      return {};
    }
    std::string text(rest_.substr(0, size));
    rest_.remove_prefix(size);
    return text;
  }
  // Everything read, nothing left over.
  bool done() const { return ok_ && rest_.empty(); }
  bool ok() const { return ok_; }

 private:
  void fail() {
    ok_ = false;
    rest_ = {};
  }

  std::string_view rest_;
  bool ok_ = true;
};

}  // namespace

std::string encode_transmit_result(const TransmitResult& result) {
  std::string out(kTransmitTag);
  put_u32(out, static_cast<std::uint32_t>(result.kind));
  put_string(out, result.error);
  put_string(out, result.server_reply);
  put_u32(out, static_cast<std::uint32_t>(result.refused_recipients.size()));
  for (const auto& recipient : result.refused_recipients) put_string(out, recipient);
  return out;
}

std::optional<TransmitResult> decode_transmit_result(std::string_view bytes) {
  Reader in(bytes);
  if (!in.tag(kTransmitTag)) return std::nullopt;
  TransmitResult result;
  const std::uint32_t kind = in.u32();
  if (kind > static_cast<std::uint32_t>(TransmitResult::Kind::stopped)) return std::nullopt;
  result.kind = static_cast<TransmitResult::Kind>(kind);
  result.error = in.string();
  result.server_reply = in.string();
  const std::uint32_t count = in.u32();
  // Each recipient takes at least its 4-byte length: a count beyond that is garbage, and
  // must not reserve memory for it.
  if (!in.ok() || count > bytes.size() / 4) return std::nullopt;
  result.refused_recipients.reserve(count);
  for (std::uint32_t i = 0; i < count && in.ok(); ++i) result.refused_recipients.push_back(in.string());
  if (!in.done()) return std::nullopt;
  return result;
}

std::string encode_ping_result(const std::optional<std::string>& error) {
  std::string out(kPingTag);
  put_u32(out, error ? 1 : 0);
  if (error) put_string(out, *error);
  return out;
}

std::optional<std::optional<std::string>> decode_ping_result(std::string_view bytes) {
  Reader in(bytes);
  if (!in.tag(kPingTag)) return std::nullopt;
  const std::uint32_t failed = in.u32();
  if (failed > 1) return std::nullopt;
  std::optional<std::string> error;
  if (failed == 1) error = in.string();
  if (!in.done()) return std::nullopt;
  return error;
}

}  // namespace ubc
