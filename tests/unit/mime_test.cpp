// SPDX-License-Identifier: MIT
#include "core/mime.h"

#include <gtest/gtest.h>

#include <sstream>

namespace ubc {
namespace {

// Independent decoders, so that the tests check the encodings rather than restate them.
std::string decode_base64(const std::string& in) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : in) {
    const auto pos = alphabet.find(c);
    if (pos == std::string::npos) continue;  // CRLF, padding
    buffer = (buffer << 6) | static_cast<std::uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

std::string decode_quoted_printable(const std::string& in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '=') {
      out += in[i];
    } else if (in.compare(i + 1, 2, "\r\n") == 0) {
      i += 2;  // soft line break
    } else {
      out += static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16));
      i += 2;
    }
  }
  return out;
}

std::vector<std::string> split_crlf(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find("\r\n", start)) != std::string::npos; start = end + 2) {
    lines.push_back(text.substr(start, end - start));
  }
  lines.push_back(text.substr(start));
  return lines;
}

std::string header_block(const std::string& message) { return message.substr(0, message.find("\r\n\r\n")); }

// Header lines that start a field (not continuation lines).
std::vector<std::string> field_names(const std::string& message) {
  std::vector<std::string> names;
  for (const auto& line : split_crlf(header_block(message))) {
    if (line.empty() || line[0] == ' ' || line[0] == '\t') continue;
    names.push_back(line.substr(0, line.find(':')));
  }
  return names;
}

// Decodes "=?UTF-8?B?...?=" words of an unfolded header value.
std::string decode_encoded_words(const std::string& value) {
  std::string out;
  std::size_t pos = 0;
  while ((pos = value.find("=?UTF-8?B?", pos)) != std::string::npos) {
    const std::size_t end = value.find("?=", pos + 10);
    out += decode_base64(value.substr(pos + 10, end - pos - 10));
    pos = end + 2;
  }
  return out;
}

std::string subject_value(const std::string& message) {
  const std::string headers = header_block(message);
  std::size_t pos = headers.find("\r\nSubject: ");
  std::string value;
  std::size_t start = pos + 11;
  std::size_t end = headers.find("\r\n", start);
  value = headers.substr(start, end - start);
  while (end != std::string::npos && end + 2 < headers.size() && headers[end + 2] == ' ') {
    const std::size_t next = headers.find("\r\n", end + 2);
    value += headers.substr(end + 2, next - end - 2);
    end = next;
  }
  return value;
}

Email sample_mail() {
  Email mail;
  mail.from = "copier@example.com";
  mail.to = {"ops@example.com", "disk-owner@example.com"};
  mail.cc = {"boss@example.com"};
  mail.subject = "[usb-backup-copier] backup01, disk Offsite-3: OK";
  mail.body = "Result: OK. The copy is complete.\nDisk: Offsite-3\n";
  return mail;
}

const MessageMeta kMeta{1700000000, "<20231114T221320Z.abc@backup01>"};

TEST(MimeTest, DateIsRfc5322InUtc) {
  EXPECT_EQ(rfc5322_date(1700000000), "Tue, 14 Nov 2023 22:13:20 +0000");
  EXPECT_EQ(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(rfc5322_date(951782400), "Tue, 29 Feb 2000 00:00:00 +0000");
}

TEST(MimeTest, MessageIdHasTimeUniquePartAndCleanDomain) {
  EXPECT_EQ(make_message_id(1700000000, "3f9c0a1b", "backup01.example"),
            "<20231114T221320Z.3f9c0a1b@backup01.example>");
  EXPECT_EQ(make_message_id(1700000000, "a b>c", ".evil..host>\r\nX: y."), "<20231114T221320Z.abc@evil.hostXy>");
  EXPECT_EQ(make_message_id(1700000000, "", ""), "<20231114T221320Z.0@localhost>");
}

TEST(MimeTest, RendersTheHeadersOfAPlainMessage) {
  const std::string m = render_message(sample_mail(), kMeta);
  const std::string headers = header_block(m);
  EXPECT_NE(headers.find("Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"), std::string::npos);
  EXPECT_NE(headers.find("From: copier@example.com\r\n"), std::string::npos);
  EXPECT_NE(headers.find("To: ops@example.com, disk-owner@example.com\r\n"), std::string::npos);
  EXPECT_NE(headers.find("Cc: boss@example.com\r\n"), std::string::npos);
  EXPECT_NE(headers.find("Subject: [usb-backup-copier] backup01, disk Offsite-3: OK\r\n"), std::string::npos);
  EXPECT_NE(headers.find("Message-ID: <20231114T221320Z.abc@backup01>\r\n"), std::string::npos);
  EXPECT_NE(headers.find("MIME-Version: 1.0\r\n"), std::string::npos);
  EXPECT_NE(headers.find("Content-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(headers.find("Content-Transfer-Encoding: quoted-printable"), std::string::npos);
  EXPECT_EQ(decode_quoted_printable(m.substr(m.find("\r\n\r\n") + 4)),
            "Result: OK. The copy is complete.\r\nDisk: Offsite-3\r\n");
}

TEST(MimeTest, EveryLineEndsInCrlfAndStaysShort) {
  Email mail = sample_mail();
  mail.subject = std::string(300, 'x') + " \xC3\xA9t\xC3\xA9 " + std::string(100, 'y');
  mail.body = std::string(2000, 'a') + "\n" + std::string(500, '\xE2') + "\nend";
  mail.attachment_name = "run.log";
  mail.attachment = std::string(5000, 'z') + "\r" + std::string(3000, '\n');
  for (int i = 0; i < 30; ++i) mail.to.push_back("someone" + std::to_string(i) + "@example.com");
  const std::string m = render_message(mail, kMeta);
  EXPECT_EQ(m.find('\n'), m.find("\r\n") + 1);
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\n') {
      ASSERT_EQ(m[i - 1], '\r') << "bare LF at " << i;
    }
    if (m[i] == '\r') {
      ASSERT_EQ(m[i + 1], '\n') << "bare CR at " << i;
    }
  }
  for (const auto& line : split_crlf(m)) EXPECT_LE(line.size(), 78u) << line;
}

TEST(MimeTest, Utf8SubjectBecomesEncodedWordsThatDecodeToTheOriginal) {
  Email mail = sample_mail();
  const std::string subject = "[usb-backup-copier] backup01, disk Sicherung-M\xC3\xBCnchen-\xE2\x82\xAC-\xF0\x9F\x92\xBE: OK";
  mail.subject = subject;
  const std::string m = render_message(mail, kMeta);
  const std::string value = subject_value(m);
  EXPECT_EQ(value.rfind("=?UTF-8?B?", 0), 0u) << value;
  EXPECT_EQ(decode_encoded_words(value), subject);
  for (const auto& line : split_crlf(header_block(m))) EXPECT_LE(line.size(), 78u);
}

TEST(MimeTest, LongAsciiSubjectIsFoldedAtSpacesNotEncoded) {
  Email mail = sample_mail();
  std::string subject;
  for (int i = 0; i < 20; ++i) subject += "word" + std::to_string(i) + " ";
  subject += "end";
  mail.subject = subject;
  const std::string m = render_message(mail, kMeta);
  const std::string value = subject_value(m);
  EXPECT_EQ(value.find("=?"), std::string::npos);
  EXPECT_EQ(value, subject);  // unfolding (dropping CRLF) gives the text back
  EXPECT_NE(header_block(m).find("\r\n word"), std::string::npos);
}

TEST(MimeTest, CrLfInTheSubjectCannotStartAHeader) {
  Email mail = sample_mail();
  mail.subject = "disk x\r\nBcc: evil@x\r\n\r\nforged body";
  const std::string m = render_message(mail, kMeta);
  for (const auto& name : field_names(m)) EXPECT_NE(name, "Bcc");
  EXPECT_EQ(subject_value(m), "disk x  Bcc: evil@x    forged body");
  // The header block still ends where the renderer ended it.
  EXPECT_EQ(m.find("forged body"), m.find("Subject: ") + 9 + 23);
}

TEST(MimeTest, LoneCrOrLfOrUnicodeLineSeparatorsCannotStartAHeader) {
  for (const std::string trick : {"a\rBcc: evil@x", "a\nBcc: evil@x", "a\xC2\x85" "Bcc: evil@x",
                                  "a\xE2\x80\xA8" "Bcc: evil@x", "\xC3\xA9\nBcc: evil@x"}) {
    Email mail = sample_mail();
    mail.subject = trick;
    const std::string m = render_message(mail, kMeta);
    for (const auto& name : field_names(m)) EXPECT_NE(name, "Bcc") << trick;
  }
}

TEST(MimeTest, AddressesLoseWhatCouldEndOrExtendTheField) {
  Email mail = sample_mail();
  mail.from = "copier@example.com\r\nBcc: evil@x";
  mail.to = {"ops@example.com>, evil@x", "\r\n"};
  const std::string m = render_message(mail, kMeta);
  for (const auto& name : field_names(m)) EXPECT_NE(name, "Bcc");
  EXPECT_NE(m.find("From: copier@example.comBcc"), std::string::npos);
  EXPECT_NE(m.find("To: ops@example.comevil@x\r\n"), std::string::npos);
  EXPECT_EQ(clean_address(" a@b.c\t"), "a@b.c");
}

TEST(MimeTest, ManyRecipientsAreFoldedAfterCommas) {
  Email mail = sample_mail();
  mail.to.clear();
  for (int i = 0; i < 10; ++i) mail.to.push_back("recipient" + std::to_string(i) + "@example.com");
  const std::string m = render_message(mail, kMeta);
  const std::string headers = header_block(m);
  const std::size_t start = headers.find("To: ");
  const std::size_t end = headers.find("\r\nCc:");
  std::string value = headers.substr(start + 4, end - start - 4);
  EXPECT_NE(value.find(",\r\n "), std::string::npos);
  std::string unfolded;
  for (const auto& part : split_crlf(value)) unfolded += part;
  EXPECT_EQ(unfolded.find("recipient0@example.com, recipient1@example.com"), 0u);
  EXPECT_NE(unfolded.find("recipient9@example.com"), std::string::npos);
}

TEST(MimeTest, QuotedPrintableEncodesWhatMustBeEncodedAndRoundTrips) {
  const std::string text = "caf\xC3\xA9 = 1 \ntrailing tab\t\n.leading dot\n" + std::string(200, 'q') + "\nend";
  const std::string qp = encode_quoted_printable(text);
  EXPECT_NE(qp.find("caf=C3=A9 =3D 1=20\r\n"), std::string::npos);
  EXPECT_NE(qp.find("trailing tab=09\r\n"), std::string::npos);
  EXPECT_NE(qp.find("\r\n=2Eleading dot"), std::string::npos);
  for (const auto& line : split_crlf(qp)) {
    EXPECT_LE(line.size(), 76u);
    EXPECT_NE(line.empty() ? 'x' : line[0], '.');
  }
  std::string expected = text;
  std::string crlf;
  for (const char c : expected) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  EXPECT_EQ(decode_quoted_printable(qp), crlf);
}

TEST(MimeTest, Base64MatchesKnownValuesAndWrapsLines) {
  EXPECT_EQ(encode_base64("", 0), "");
  EXPECT_EQ(encode_base64("f", 0), "Zg==");
  EXPECT_EQ(encode_base64("fo", 0), "Zm8=");
  EXPECT_EQ(encode_base64("foobar", 0), "Zm9vYmFy");
  const std::string wrapped = encode_base64(std::string(100, 'x'), 76);
  EXPECT_EQ(wrapped.find("\r\n"), 76u);
  EXPECT_EQ(decode_base64(wrapped), std::string(100, 'x'));
}

TEST(MimeTest, AttachmentIsASecondPartWithTheLogByteForByte) {
  Email mail = sample_mail();
  mail.attachment_name = "usb-backup-copier-1234-ABCD.log";
  mail.attachment = "line 1\nprogress\r  50%\rline \xC3\xA9\n--=_ubc_not_a_boundary\n";
  const std::string m = render_message(mail, kMeta);
  const std::string headers = header_block(m);
  const std::size_t b = headers.find("boundary=\"");
  ASSERT_NE(b, std::string::npos);
  const std::string boundary = headers.substr(b + 10, headers.find('"', b + 10) - b - 10);
  EXPECT_EQ(boundary.rfind("=_", 0), 0u);
  EXPECT_NE(headers.find("Content-Type: multipart/mixed;"), std::string::npos);

  // preamble, text part, attachment, epilogue
  std::vector<std::string> parts;
  std::size_t pos = m.find("\r\n--" + boundary + "\r\n");
  while (pos != std::string::npos) {
    const std::size_t start = pos + boundary.size() + 6;
    const std::size_t next = m.find("\r\n--" + boundary, start);
    parts.push_back(m.substr(start, next - start));
    pos = m.compare(next + 4 + boundary.size(), 2, "--") == 0 ? std::string::npos : next;
  }
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_NE(parts[0].find("Content-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(parts[0].find("Content-Transfer-Encoding: quoted-printable"), std::string::npos);
  EXPECT_NE(parts[1].find("Content-Disposition: attachment;\r\n filename=\"usb-backup-copier-1234-ABCD.log\""),
            std::string::npos);
  EXPECT_NE(parts[1].find("Content-Transfer-Encoding: base64"), std::string::npos);
  EXPECT_EQ(decode_base64(parts[1].substr(parts[1].find("\r\n\r\n") + 4)), mail.attachment);
  EXPECT_NE(m.find("\r\n--" + boundary + "--\r\n"), std::string::npos);
}

TEST(MimeTest, UnusualAttachmentNamesUseRfc2231) {
  Email mail = sample_mail();
  mail.attachment_name = "log \xC3\xA9t\xC3\xA9\"\r\nX-Evil: 1.txt";
  mail.attachment = "x";
  const std::string m = render_message(mail, kMeta);
  for (const auto& name : field_names(m)) EXPECT_NE(name, "X-Evil");
  EXPECT_NE(m.find("filename*=utf-8''log%20%C3%A9t%C3%A9%22%20%20X-Evil%3A%201.txt"), std::string::npos);
}

TEST(MimeTest, RenderingIsPureForTheSameInput) {
  Email mail = sample_mail();
  mail.attachment_name = "a.log";
  mail.attachment = "log";
  EXPECT_EQ(render_message(mail, kMeta), render_message(mail, kMeta));
  EXPECT_NE(render_message(mail, kMeta), render_message(mail, {kMeta.date + 1, kMeta.message_id}));
}

TEST(MimeTest, OneLineReplacesControlsAndInvalidUtf8) {
  EXPECT_EQ(one_line("  a\r\nb\tc\x7f" "d  "), "a  b c d");
  EXPECT_EQ(one_line("ok \xC3\xA9"), "ok \xC3\xA9");
  EXPECT_EQ(one_line("bad \xC3 \xFF end"), "bad \xEF\xBF\xBD \xEF\xBF\xBD end");
  EXPECT_EQ(one_line("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  EXPECT_EQ(one_line("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");               // overlong '/'
  EXPECT_EQ(valid_utf8("a\nb\xFF"), "a\nb\xEF\xBF\xBD");
}

}  // namespace
}  // namespace ubc
