#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Reads one received message (raw RFC 5322 bytes) with Python's email package, as a mail
client would, and prints a flat JSON object the C++ tests assert on:

subject, from, to, cc, message_id, date (as written), date_unix (parsed), header_names
(one per line, in order), content_type, body (decoded text of the first inline
text/plain part, lines ending in "\n"), body_charset, body_encoding, attachments (count), attachment_filename,
attachment_content_type, attachment_charset, attachment (decoded text), defects (count
over all parts, headers included), max_line_length (longest raw line, CRLF excluded).
"""
import email
import email.policy
import email.utils
import json
import sys


def main():
    raw = open(sys.argv[1], "rb").read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    out = {
        "subject": str(msg.get("Subject", "")),
        "from": str(msg.get("From", "")),
        "to": str(msg.get("To", "")),
        "cc": str(msg.get("Cc", "")),
        "message_id": str(msg.get("Message-ID", "")),
        "date": str(msg.get("Date", "")),
        "header_names": "\n".join(msg.keys()),
        "content_type": msg.get_content_type(),
        "max_line_length": max(len(line) for line in raw.split(b"\r\n")),
    }
    date = msg.get("Date")
    out["date_unix"] = int(email.utils.parsedate_to_datetime(str(date)).timestamp()) if date else 0

    defects = len(msg.defects)
    for name in msg.keys():
        for value in msg.get_all(name):
            defects += len(getattr(value, "defects", ()))
    body_part = None
    attachments = []
    for part in msg.walk():
        defects += len(part.defects)
        if part.is_multipart():
            continue
        if part.get_content_disposition() == "attachment":
            attachments.append(part)
        elif body_part is None and part.get_content_type() == "text/plain":
            body_part = part
    out["defects"] = defects
    if body_part is not None:
        # The decoded text keeps the wire's CRLF; a mail client shows lines.
        out["body"] = body_part.get_content().replace("\r\n", "\n")
        out["body_charset"] = body_part.get_content_charset() or ""
        out["body_encoding"] = body_part.get("Content-Transfer-Encoding", "")
    out["attachments"] = len(attachments)
    if attachments:
        a = attachments[0]
        out["attachment_filename"] = a.get_filename() or ""
        out["attachment_content_type"] = a.get_content_type()
        out["attachment_charset"] = a.get_content_charset() or ""
        out["attachment"] = a.get_payload(decode=True).decode("utf-8", "replace")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
