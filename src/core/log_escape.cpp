// SPDX-License-Identifier: MIT
#include "core/log_escape.h"

#include <spdlog/pattern_formatter.h>

#include "core/text.h"

namespace ubc {

namespace {

// `\x1b` (prefix `\x`, 2 digits) or `\u2028` (prefix `\u`, 4 digits).
void append_escape(std::string& out, const char* prefix, unsigned value, int digits) {
  static const char hex[] = "0123456789abcdef";
  out += prefix;
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out += hex[(value >> shift) & 0xf];
}

}  // namespace

std::string escape_for_log(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t len = utf8_sequence_length(text, i);
    if (len == 0 || c < 0x20 || c == 0x7F) {
      append_escape(out, "\\x", c, 2);
      ++i;
      continue;
    }
    if (len == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
      append_escape(out, "\\u", static_cast<unsigned char>(text[i + 1]), 4);  // C1: CSI, NEL, ...
    } else if (len == 3 && text.substr(i, 2) == "\xE2\x80" && (text[i + 2] == '\xA8' || text[i + 2] == '\xA9')) {
      append_escape(out, "\\u", text[i + 2] == '\xA8' ? 0x2028U : 0x2029U, 4);
    } else {
      out.append(text.substr(i, len));
    }
    i += len;
  }
  return out;
}

std::string escape_each_line(std::string_view text) {
  std::string out;
  for (std::size_t begin = 0;;) {
    const std::size_t end = text.find('\n', begin);
    out += escape_for_log(text.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin));
    if (end == std::string_view::npos) return out;
    out += '\n';
    begin = end + 1;
  }
}

void log_lines(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view heading,
               std::string_view text) {
  logger.log(level, "{}", heading);
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    logger.log(level, "  {}", line);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
  }
}

EscapingFormatter::EscapingFormatter(std::string pattern, spdlog::pattern_time_type time_type)
    : pattern_(std::move(pattern)), time_type_(time_type),
      inner_(std::make_unique<spdlog::pattern_formatter>(pattern_, time_type_)) {}

void EscapingFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  const std::string escaped = escape_for_log(std::string_view(msg.payload.data(), msg.payload.size()));
  spdlog::details::log_msg copy = msg;
  copy.payload = spdlog::string_view_t(escaped.data(), escaped.size());
  inner_->format(copy, dest);
  // The colour sinks read where the level's colour goes from the message they passed.
  msg.color_range_start = copy.color_range_start;
  msg.color_range_end = copy.color_range_end;
}

std::unique_ptr<spdlog::formatter> EscapingFormatter::clone() const {
  return std::make_unique<EscapingFormatter>(pattern_, time_type_);
}

}  // namespace ubc
