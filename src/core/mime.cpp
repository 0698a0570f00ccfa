// SPDX-License-Identifier: MIT
#include "core/mime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "version.h"

namespace ubc {
namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::size_t kHeaderWidth = 78;  // RFC 5322 2.1.1: SHOULD; 998 is the hard limit
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at text[i], or 0 if it is not valid
// (overlong forms, surrogates and code points above U+10FFFF are invalid too).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // no UTF-16 surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return len;
}

bool is_plain_ascii(std::string_view text) {
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c > 0x7E) return false;
  }
  return text.find("=?") == std::string_view::npos;  // would be read as an encoded word
}

std::string hex_byte(unsigned char c) {
  static constexpr char digits[] = "0123456789ABCDEF";
  return {digits[c >> 4], digits[c & 0x0F]};
}

// Folds plain ASCII at its spaces; empty when a single word is too long to fit a line.
std::string fold_ascii(std::string_view prefix, std::string_view text) {
  std::string out(prefix);
  std::size_t line_length = prefix.size();
  std::size_t pos = 0;
  bool first = true;
  while (pos < text.size()) {
    const std::size_t space = text.find(' ', pos + 1);
    const std::size_t end = space == std::string_view::npos ? text.size() : space;
    const std::string_view word = text.substr(pos, end - pos);  // starts with ' ' if not first
    if (!first && line_length + word.size() > kHeaderWidth) {
      out += kCrlf;  // the word's own leading space becomes the folding white space
      line_length = 0;
    }
    if (line_length + word.size() > kHeaderWidth) return {};
    out += word;
    line_length += word.size();
    first = false;
    pos = end;
  }
  return out;
}

// RFC 2047 "B" encoded words of at most 42 bytes of text each, so that even the first line
// ("Subject: " + 68 characters) stays within 78. Multi-byte characters are never split.
std::string encoded_words(std::string_view prefix, std::string_view text) {
  constexpr std::size_t kChunk = 42;
  std::string out(prefix);
  std::size_t pos = 0;
  bool first = true;
  while (pos < text.size()) {
    std::size_t end = pos;
    while (end < text.size()) {
      const std::size_t len = std::max<std::size_t>(1, utf8_sequence_length(text, end));
      if (end + len - pos > kChunk) break;
      end += len;
    }
    if (!first) out += "\r\n ";
    out += "=?UTF-8?B?" + encode_base64(text.substr(pos, end - pos), 0) + "?=";
    first = false;
    pos = end;
  }
  return out;
}

std::string address_header(std::string_view name, const std::vector<std::string>& addresses) {
  std::string out = std::string(name) + ":";
  std::size_t line_length = out.size();
  std::size_t written = 0;
  for (const auto& raw : addresses) {
    const std::string address = clean_address(raw);
    if (address.empty()) continue;
    const std::size_t needed = address.size() + 2;  // " " before, "," after
    if (written > 0) {
      out += ",";
      if (line_length + needed > kHeaderWidth) {
        out += kCrlf;
        line_length = 0;
      }
    }
    out += " " + address;
    line_length += address.size() + 2;
    ++written;
  }
  return written > 0 ? out : std::string{};
}

// Content-Type/Content-Disposition parameter: quoted when the name is tame, otherwise
// RFC 2231 (param*=utf-8''%E2%82%AC) so that any character survives.
std::string file_parameter(std::string_view param, std::string_view name) {
  std::string clean = one_line(name);
  if (clean.empty()) clean = "attachment.txt";
  bool tame = clean.size() <= 60;
  for (const char ch : clean) {
    const auto c = static_cast<unsigned char>(ch);
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_' || c == '+';
    if (!ok) tame = false;
  }
  if (tame) return std::string(param) + "=\"" + clean + "\"";
  std::string encoded = std::string(param) + "*=utf-8''";
  std::size_t count = 0;
  for (std::size_t i = 0; i < clean.size() && count < 60;) {
    const std::size_t len = std::max<std::size_t>(1, utf8_sequence_length(clean, i));
    for (std::size_t k = i; k < i + len; ++k) {
      const auto c = static_cast<unsigned char>(clean[k]);
      const bool attr_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                             (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
      encoded += attr_char ? std::string(1, static_cast<char>(c)) : "%" + hex_byte(c);
    }
    i += len;
    ++count;
  }
  return encoded;
}

// Both encodings used below (quoted-printable, base64) can never produce "=_", so a
// boundary starting with it cannot occur in the parts (RFC 2045 6.7 and 6.8).
std::string make_boundary(const MessageMeta& meta) {
  std::uint64_t hash = 1469598103934665603ULL;  // FNV-1a: stable, and enough to look unique
  for (const char c : meta.message_id + std::to_string(meta.date)) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "=_ubc_%016llx", static_cast<unsigned long long>(hash));
  return buf;
}

std::string with_final_crlf(std::string text) {
  if (text.size() < 2 || text.compare(text.size() - 2, 2, kCrlf) != 0) text += kCrlf;
  return text;
}

}  // namespace

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t len = utf8_sequence_length(text, i);
    if (len == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::string one_line(std::string_view text) {
  const std::string valid = valid_utf8(text);
  std::string out;
  out.reserve(valid.size());
  for (std::size_t i = 0; i < valid.size(); ++i) {
    const auto c = static_cast<unsigned char>(valid[i]);
    if (c < 0x20 || c == 0x7F) {
      out += ' ';
    } else if (c == 0xC2 && i + 1 < valid.size() &&
               static_cast<unsigned char>(valid[i + 1]) <= 0x9F) {
      out += ' ';  // C1 controls (U+0080..U+009F), NEL among them
      ++i;
    } else if (c == 0xE2 && i + 2 < valid.size() && valid[i + 1] == '\x80' &&
               (valid[i + 2] == '\xA8' || valid[i + 2] == '\xA9')) {
      out += ' ';  // U+2028/U+2029: line and paragraph separators
      i += 2;
    } else {
      out += static_cast<char>(c);
    }
  }
  const std::size_t begin = out.find_first_not_of(' ');
  if (begin == std::string::npos) return {};
  const std::size_t end = out.find_last_not_of(' ');
  return out.substr(begin, end - begin + 1);
}

std::string clean_address(std::string_view address) {
  std::string out;
  for (const char ch : address) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7F) continue;
    if (std::string_view("<>,;:\"()\\").find(ch) != std::string_view::npos) continue;
    out += ch;
  }
  return out;
}

std::string encode_base64(std::string_view data, std::size_t line_length) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t column = 0;
  const auto put = [&](char c) {
    if (line_length > 0 && column == line_length) {
      out += kCrlf;
      column = 0;
    }
    out += c;
    ++column;
  };
  for (std::size_t i = 0; i < data.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, data.size() - i);
    std::uint32_t v = static_cast<unsigned char>(data[i]) << 16;
    if (n > 1) v |= static_cast<unsigned char>(data[i + 1]) << 8;
    if (n > 2) v |= static_cast<unsigned char>(data[i + 2]);
    put(alphabet[(v >> 18) & 63]);
    put(alphabet[(v >> 12) & 63]);
    put(n > 1 ? alphabet[(v >> 6) & 63] : '=');
    put(n > 2 ? alphabet[v & 63] : '=');
  }
  return out;
}

std::string encode_quoted_printable(std::string_view text) {
  constexpr std::size_t kMaxLine = 76;  // RFC 2045 6.7 (5), the soft-break '=' included
  std::string out;
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find('\n', start);
    const bool last_line = end == std::string_view::npos;
    if (last_line) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!last_line && !line.empty() && line.back() == '\r') line.remove_suffix(1);

    std::string current;
    for (std::size_t j = 0; j < line.size(); ++j) {
      const auto c = static_cast<unsigned char>(line[j]);
      const bool at_end = j + 1 == line.size();
      std::string token;
      if ((c == ' ' || c == '\t') && !at_end) {
        token = static_cast<char>(c);  // trailing blanks would be stripped in transit
      } else if (c >= 33 && c <= 126 && c != '=' && !(c == '.' && current.empty())) {
        token = static_cast<char>(c);  // a leading '.' is encoded: SMTP gives it meaning
      } else {
        token = "=" + hex_byte(c);
      }
      if (current.size() + token.size() > kMaxLine - 1) {
        out += current + "=\r\n";
        current.clear();
        if (token == ".") token = "=2E";
      }
      current += token;
    }
    out += current;
    if (last_line) break;
    out += kCrlf;
    start = end + 1;
  }
  return out;
}

std::string header_line(std::string_view name, std::string_view text) {
  const std::string clean = one_line(text);
  const std::string prefix = std::string(name) + ": ";
  if (is_plain_ascii(clean)) {
    if (prefix.size() + clean.size() <= kHeaderWidth) return prefix + clean;
    std::string folded = fold_ascii(prefix, clean);
    if (!folded.empty()) return folded;
  }
  return encoded_words(prefix, clean);
}

std::string rfc5322_date(std::int64_t unix_seconds) {
  using namespace std::chrono;
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const sys_seconds t{seconds{unix_seconds}};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const weekday wd{day};
  const hh_mm_ss hms{t - day};
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02lld:%02lld:%02lld +0000",
                kDays[wd.c_encoding()], static_cast<unsigned>(ymd.day()),
                kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                static_cast<long long>(hms.hours().count()),
                static_cast<long long>(hms.minutes().count()),
                static_cast<long long>(hms.seconds().count()));
  return buf;
}

std::string make_message_id(std::int64_t date, std::string_view unique_part,
                            std::string_view host) {
  const auto keep = [](std::string_view in, std::string_view extra) {
    std::string out;
    for (const char c : in) {
      const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (alnum || extra.find(c) != std::string_view::npos) out += c;
    }
    return out;
  };
  // dot-atom: no leading, trailing or doubled dots.
  std::string domain;
  for (const char c : keep(host, ".-")) {
    if (c == '.' && (domain.empty() || domain.back() == '.')) continue;
    domain += c;
  }
  while (!domain.empty() && domain.back() == '.') domain.pop_back();
  if (domain.empty()) domain = "localhost";
  using namespace std::chrono;
  const sys_seconds t{seconds{date}};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02lld%02lld%02lldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long long>(hms.hours().count()),
                static_cast<long long>(hms.minutes().count()),
                static_cast<long long>(hms.seconds().count()));
  std::string unique = keep(unique_part, "-_");
  if (unique.empty()) unique = "0";
  return "<" + std::string(buf) + "." + unique + "@" + domain + ">";
}

std::string render_message(const Email& mail, const MessageMeta& meta) {
  std::vector<std::string> headers;
  headers.push_back("Date: " + rfc5322_date(meta.date));
  headers.push_back("From: " + clean_address(mail.from));
  if (auto to = address_header("To", mail.to); !to.empty()) headers.push_back(to);
  if (auto cc = address_header("Cc", mail.cc); !cc.empty()) headers.push_back(cc);
  headers.push_back(header_line("Subject", mail.subject));
  std::string message_id;
  for (const char c : meta.message_id) {
    if (c > 0x20 && c < 0x7F) message_id += c;
  }
  headers.push_back("Message-ID: " + message_id);
  headers.push_back("MIME-Version: 1.0");
  headers.push_back("Auto-Submitted: auto-generated");  // RFC 3834: no auto-replies, please
  headers.push_back(std::string("X-Mailer: usb-backup-copier ") + kToolVersion);

  const std::string body = with_final_crlf(encode_quoted_printable(valid_utf8(mail.body)));
  const std::string text_part_headers =
      "Content-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n";

  std::string out;
  for (const auto& h : headers) out += h + "\r\n";
  if (mail.attachment_name.empty()) {
    out += text_part_headers;
    out += kCrlf;
    out += body;
    return out;
  }

  const std::string boundary = make_boundary(meta);
  out += "Content-Type: multipart/mixed;\r\n boundary=\"" + boundary + "\"\r\n";
  out += kCrlf;
  out += "This is a message in MIME format.\r\n";
  out += "\r\n--" + boundary + "\r\n";
  out += text_part_headers;
  out += kCrlf;
  out += body;
  out += "\r\n--" + boundary + "\r\n";
  // base64 keeps the log byte for byte: rsync output may hold '\r' and very long lines.
  out += "Content-Type: text/plain; charset=utf-8;\r\n " +
         file_parameter("name", mail.attachment_name) + "\r\n";
  out += "Content-Transfer-Encoding: base64\r\n";
  out += "Content-Disposition: attachment;\r\n " +
         file_parameter("filename", mail.attachment_name) + "\r\n";
  out += kCrlf;
  out += with_final_crlf(encode_base64(mail.attachment, 76));
  out += "\r\n--" + boundary + "--\r\n";
  return out;
}

}  // namespace ubc
