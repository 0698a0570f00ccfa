// SPDX-License-Identifier: MIT
// The [Mail] section: where the copier's mails go and how it logs in to send them.
#include <algorithm>
#include <functional>

#include "core/config_reader.h"
#include "core/config_values.h"
#include "core/text.h"

namespace ubc {

using config_values::has_space;

namespace {

// A password others can read: a warning, or with security-strict = yes an error, so that
// the copier refuses to start (exit 78) until the file is private.
std::function<void(int, std::string, std::string)> readable_secret(ConfigReader& r, const Config& c) {
  return [&r, strict = c.security_strict](int line, std::string key, std::string message) {
    if (strict)
      r.error(line, std::move(key), std::move(message) + " (security-strict = yes)");
    else
      r.warning(line, std::move(key), std::move(message));
  };
}

// username, password and password-file: never quoted in a message.
void read_login(ConfigReader& r, Config& c, const ConfigEnvironment& env) {
  if (const IniEntry* user = r.single("Mail", "username")) c.mail_username = user->value;
  const IniEntry* password = r.single("Mail", "password");
  if (password != nullptr) c.mail_password = password->value;
  const IniEntry* password_file = r.find("Mail", "password-file");
  if (auto file = r.read_path("Mail", "password-file", "/etc/usb-backup-copier/smtp-password")) {
    const auto mode = env.file_mode(*file);
    if (!c.mail_password.empty()) {
      r.error(password_file->line, "Mail.password-file",
              "password (line " + std::to_string(password->line) + ") and password-file are " +
                  "both set; delete the password line and keep the password in the file only");
    } else if (!mode || env.is_directory(*file)) {
      r.error(password_file->line, "Mail.password-file",
              quoted(*file) + " does not exist or is not a file; write the password into it " +
                  "and `chmod 600 " + *file + "`");
    } else {
      c.mail_password_file = *file;
      if ((*mode & 004U) != 0) {
        readable_secret(r, c)(password_file->line, "Mail.password-file",
                              quoted(*file) + " is readable by every user; `chmod 600 " + *file + "`");
      }
    }
  }
  if (!c.mail_password.empty()) {
    const auto mode = env.file_mode(c.path);
    if (mode && (*mode & 004U) != 0) {
      readable_secret(r, c)(password->line, "Mail.password",
                            "this file holds the mail password and is readable by every user; `chmod 600 " +
                                c.path + "`, or move the password to password-file");
    }
  }
  const bool has_password = !c.mail_password.empty() || !c.mail_password_file.empty();
  if (has_password && c.mail_username.empty()) {
    r.warning((password != nullptr ? password : password_file)->line, "Mail.username",
              "a password is set but no username, so the copier will not log in; add "
              "`username = ...` or drop the password");
  }
  const bool local_server =
      c.mail_server == "localhost" || c.mail_server == "127.0.0.1" || c.mail_server == "::1";
  if (c.mail_security == MailSecurity::none && has_password && !local_server) {
    r.warning(r.find("Mail", "security")->line, "Mail.security",
              "with security = none the password crosses the network unencrypted; write "
              "`security = starttls` or `security = tls`");
  }
}

}  // namespace

void read_mail(ConfigReader& r, Config& c, const ConfigEnvironment& env) {
  if (const IniEntry* server =
          r.required_single("Mail", "server",
                            "write `server = smtp.example.com` in [Mail]: the SMTP server that "
                            "sends the copier's mails")) {
    const std::string& host = server->value;
    if (host.find("://") != std::string::npos || has_space(host)) {
      r.error(server->line, "Mail.server",
              quoted(host) + " is not a host name; write only the server's name, e.g. " +
                  "`server = smtp.example.com` (security and port have keys of their own)");
    } else if (std::count(host.begin(), host.end(), ':') == 1) {
      r.error(server->line, "Mail.server",
              quoted(host) + " includes a port; write the host in `server = " +
                  host.substr(0, host.find(':')) +
                  "` and the port in `port = " + host.substr(host.find(':') + 1) + "`");
    } else {
      c.mail_server = host;
    }
  }

  if (const IniEntry* from =
          r.required_single("Mail", "from-mail-address",
                            "write `from-mail-address = backup@example.com` in [Mail]: the "
                            "sender of the copier's mails")) {
    if (r.check_mail(from->line, "Mail.from-mail-address", from->value)) c.from_mail = from->value;
  }

  if (r.required("Mail", "to-mail-addresses-sysop",
                 "write `to-mail-addresses-sysop = admin@example.com` in [Mail]: who gets every "
                 "mail (commas between several)")) {
    c.sysop_mails = r.read_mail_list("Mail", "to-mail-addresses-sysop");
  }
  c.cc_mails = r.read_mail_list("Mail", "cc");

  r.read_choice("Mail", "security",
              {{"starttls", MailSecurity::starttls}, {"tls", MailSecurity::tls}, {"none", MailSecurity::none}},
              "a security mode; write starttls (port 587), tls (implicit TLS, port 465, also called "
              "SSL) or none (unencrypted, port 25)",
              c.mail_security);
  r.read_int("Mail", "port", 1, 65535, "", c.mail_port, 587);
  if (const IniEntry* port = r.find("Mail", "port"); port != nullptr && c.mail_port != 0) {
    if (c.mail_port == 465 && c.mail_security == MailSecurity::starttls) {
      r.warning(port->line, "Mail.port",
                "port 465 expects implicit TLS, but security is starttls; write `security = tls`");
    } else if ((c.mail_port == 587 || c.mail_port == 25) && c.mail_security == MailSecurity::tls) {
      r.warning(port->line, "Mail.port",
                "port " + std::to_string(c.mail_port) +
                    " normally speaks STARTTLS, but security is tls; write `security = starttls`");
    }
  }

  read_login(r, c, env);
  r.read_existing_file(env, "Mail", "ca-file", "/etc/usb-backup-copier/mail-ca.pem",
                     "put the PEM certificate of the CA that signed the mail server's "
                     "certificate there, or delete this line",
                     c.mail_ca_file);
  r.read_bool("Mail", "send-start-mail", c.send_start_mail);
}

}  // namespace ubc
