// SPDX-License-Identifier: MIT
// Log lines carry text from disks and other programs (labels, file names, rsync's words).
// Whatever it holds, no control character reaches a terminal, the journal or a log file
// raw: an ESC would recolour or rewrite the admin's terminal, a CR or LF would forge log
// lines. Every sink's formatter escapes the message once, here.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/formatter.h>
#include <spdlog/logger.h>

namespace ubc {

// C0 controls, DEL and bytes that are not UTF-8 become "\xHH"; C1 controls (U+0080 to
// U+009F) and the line and paragraph separators U+2028/U+2029 become "\uHHHH". Everything
// else, other UTF-8 included, stays as it is.
std::string escape_for_log(std::string_view text);

// Text of several lines for a terminal: each line escaped as above, the '\n' between them
// kept.
std::string escape_each_line(std::string_view text);

// Logs heading, then each line of text as a log line of its own, indented: a block of text
// (a mail that could not be kept) stays readable although line breaks are escaped.
void log_lines(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view heading,
               std::string_view text);

// A pattern formatter (spdlog's pattern syntax) whose %v is the escaped message.
class EscapingFormatter final : public spdlog::formatter {
 public:
  explicit EscapingFormatter(std::string pattern,
                             spdlog::pattern_time_type time_type = spdlog::pattern_time_type::local);
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  std::string pattern_;
  spdlog::pattern_time_type time_type_;
  std::unique_ptr<spdlog::formatter> inner_;
};

}  // namespace ubc
