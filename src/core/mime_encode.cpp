// SPDX-License-Identifier: MIT
// The encodings a message needs: RFC 2045 bodies, RFC 2047 words, RFC 2231 parameters.
#include <algorithm>

#include "core/mime.h"
#include "core/text.h"

namespace ubc {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

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

std::string file_parameter(std::string_view param, std::string_view name) {
  std::string clean = one_line(name);
  if (clean.empty()) clean = "attachment.txt";
  bool tame = clean.size() <= 60;
  for (const char ch : clean) {
    if (!is_ascii_alnum(ch) && std::string_view(".-_+").find(ch) == std::string_view::npos) tame = false;
  }
  if (tame) return std::string(param) + "=\"" + clean + "\"";
  std::string encoded = std::string(param) + "*=utf-8''";
  std::size_t count = 0;
  for (std::size_t i = 0; i < clean.size() && count < 60;) {
    const std::size_t len = std::max<std::size_t>(1, utf8_sequence_length(clean, i));
    for (std::size_t k = i; k < i + len; ++k) {
      const char c = clean[k];
      const bool attr_char = is_ascii_alnum(c) || c == '.' || c == '-' || c == '_';
      encoded += attr_char ? std::string(1, c) : "%" + hex_byte(static_cast<unsigned char>(c));
    }
    i += len;
    ++count;
  }
  return encoded;
}

}  // namespace ubc
