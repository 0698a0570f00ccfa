// SPDX-License-Identifier: MIT
// Renders an Email (ports/mailer.h) into the bytes an SMTP server receives: RFC 5322
// headers, RFC 2047 encoded words, RFC 2045 bodies, multipart/mixed with the run log.
// Pure: the Date and the Message-ID are given, so the same input renders the same bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ports/mailer.h"

namespace ubc {

inline constexpr std::string_view kCrlf = "\r\n";
inline constexpr std::size_t kHeaderWidth = 78;  // RFC 5322 2.1.1: SHOULD; 998 is the hard limit

struct MessageMeta {
  std::int64_t date = 0;   // unix seconds, written as UTC
  std::string message_id;  // "<...@host>", see make_message_id()
};

// The whole message, lines ending in CRLF, none longer than 78 characters in the headers
// and 76 in the encoded bodies.
std::string render_message(const Email& mail, const MessageMeta& meta);

// "<20261123T010847Z.3f9c0a1b@backup01.example>"; unique_part is what makes it unique
// (random hex); characters not allowed in a Message-ID are dropped.
std::string make_message_id(std::int64_t date, std::string_view unique_part,
                            std::string_view host);

// "Mon, 23 Nov 2026 01:08:47 +0000" (RFC 5322 section 3.3).
std::string rfc5322_date(std::int64_t unix_seconds);

// One line of untrusted text made safe to show: control characters (CR and LF included)
// become spaces, invalid UTF-8 becomes U+FFFD, leading/trailing blanks are dropped.
std::string one_line(std::string_view text);

// Text made valid UTF-8 (invalid bytes become U+FFFD); line breaks are kept.
std::string valid_utf8(std::string_view text);

// A mail address as it may appear in a header or the SMTP envelope: everything that is
// not a visible ASCII character, and the characters that would end the address ("<>,;"
// and quotes), is removed.
std::string clean_address(std::string_view address);

// Building blocks, exposed for the tests.
std::string encode_base64(std::string_view data, std::size_t line_length);  // 0: one line
std::string encode_quoted_printable(std::string_view text);  // '\n' or "\r\n" end lines
// "Subject: ..." folded, with encoded words where the text needs them. No CRLF at the end.
std::string header_line(std::string_view name, std::string_view text);
// A file name as a Content-Type/-Disposition parameter: quoted when it is tame, otherwise
// RFC 2231 (param*=utf-8''%E2%82%AC) so that any character survives.
std::string file_parameter(std::string_view param, std::string_view name);

}  // namespace ubc
