// SPDX-License-Identifier: MIT
#include "core/mime.h"

#include <fmt/chrono.h>

#include <vector>

#include "core/format.h"
#include "core/text.h"
#include "version.h"

namespace ubc {
namespace {

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

// Both encodings used below (quoted-printable, base64) can never produce "=_", so a
// boundary starting with it cannot occur in the parts (RFC 2045 6.7 and 6.8).
std::string make_boundary(const MessageMeta& meta) {
  std::uint64_t hash = 1469598103934665603ULL;  // FNV-1a: stable, and enough to look unique
  for (const char c : meta.message_id + std::to_string(meta.date)) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return fmt::format("=_ubc_{:016x}", hash);
}

std::string with_final_crlf(std::string text) {
  if (text.size() < 2 || text.compare(text.size() - 2, 2, kCrlf) != 0) text += kCrlf;
  return text;
}

}  // namespace

std::string rfc5322_date(std::int64_t unix_seconds) {
  return fmt::format("{:%a, %d %b %Y %H:%M:%S +0000}", utc_tm(unix_seconds));
}

std::string make_message_id(std::int64_t date, std::string_view unique_part,
                            std::string_view host) {
  const auto keep = [](std::string_view in, std::string_view extra) {
    std::string out;
    for (const char c : in) {
      if (is_ascii_alnum(c) || extra.find(c) != std::string_view::npos) out += c;
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
  std::string unique = keep(unique_part, "-_");
  if (unique.empty()) unique = "0";
  return fmt::format("<{:%Y%m%dT%H%M%SZ}.{}@{}>", utc_tm(date), unique, domain);
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
