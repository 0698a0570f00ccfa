// SPDX-License-Identifier: MIT
#include "sys/curl_mailer.h"

#include <errno.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <mutex>
#include <system_error>
#include <thread>

#include "core/mime.h"
#include "sys/outbox.h"
#include "sys/unique_fd.h"

namespace ubc {
namespace {

class CurlCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "curl"; }
  std::string message(int code) const override {
    return curl_easy_strerror(static_cast<CURLcode>(code));
  }
};

// curl_global_init must run before any other curl call and, in older libcurl builds, while
// no other thread uses libcurl: once per process. It is never undone; other users of
// libcurl in the process may remain.
void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) throw std::system_error(rc, curl_category(), "curl_global_init");
  });
}

template <typename T>
void set_option(CURL* curl, CURLoption option, T value, const char* name) {
  const CURLcode rc = curl_easy_setopt(curl, option, value);
  if (rc != CURLE_OK) throw std::system_error(rc, curl_category(), std::string("curl_easy_setopt(") + name + ")");
}
#define UBC_SETOPT(curl, option, value) set_option(curl, option, value, #option)

struct Upload {
  const std::string* data;
  std::size_t position = 0;
};

size_t read_message(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const std::size_t n = std::min(size * count, upload->data->size() - upload->position);
  std::memcpy(buffer, upload->data->data() + upload->position, n);
  upload->position += n;
  return n;
}

// What the server said, taken from libcurl's debug stream. Only server replies and the
// recipient of each RCPT command are kept: the commands we send include AUTH, whose
// argument is the password in base64.
struct Transcript {
  std::string last_reply;
  std::string pending_recipient;
  std::vector<std::string> refused;
};

int on_debug(CURL*, curl_infotype type, char* data, size_t size, void* user) {
  auto* t = static_cast<Transcript*>(user);
  std::string text(data, size);
  if (type == CURLINFO_HEADER_OUT) {
    t->pending_recipient.clear();
    if (text.size() > 8 && strncasecmp(text.c_str(), "RCPT TO:", 8) == 0) {
      t->pending_recipient = one_line(text.substr(8));
    }
    return 0;
  }
  if (type != CURLINFO_HEADER_IN) return 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = one_line(text.substr(start, end - start));
    start = end + 1;
    if (line.empty()) continue;
    t->last_reply = line.substr(0, 200);
    if (!t->pending_recipient.empty() && (line[0] == '4' || line[0] == '5')) {
      t->refused.push_back(t->pending_recipient + " (" + t->last_reply + ")");
    }
    if (line.size() < 4 || line[3] != '-') t->pending_recipient.clear();  // last reply line
  }
  return 0;
}

bool is_tls_verification_failure(CURLcode rc) {
  switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      return true;
    default:
      return false;
  }
}

// Temporary: the server could not be reached, or said "try again later" (4xx). A 5xx
// reply, a refused login and a certificate that fails verification will fail the same
// way a few seconds later: no point waiting for them.
bool is_temporary(CURLcode rc, long reply_code) {
  if (is_tls_verification_failure(rc)) return false;
  if (reply_code >= 500) return false;
  if (reply_code >= 400) return true;
  switch (rc) {
    case CURLE_LOGIN_DENIED:
    case CURLE_USE_SSL_FAILED:  // the server offers no STARTTLS
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
      return false;
    default:
      return true;
  }
}

std::string percent_encode(const std::string& text) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

std::string random_hex() {
  unsigned char bytes[8] = {};
  std::string out;
  if (::getrandom(bytes, sizeof bytes, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof bytes)) {
    // Early boot without entropy yet: time and pid still make the id unique enough.
    return std::to_string(::getpid()) + "-" + std::to_string(std::clock());
  }
  static constexpr char digits[] = "0123456789abcdef";
  for (const unsigned char b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

// The password, from password-file (trailing line break dropped) or from the config.
// The error text names the file, never its content.
std::string read_credentials(const Config& config, CurlMailer::Credentials& out) {
  out.username = config.mail_username;
  out.password = config.mail_password;
  if (config.mail_password_file.empty()) return {};
  const std::string& path = config.mail_password_file;
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return "cannot read password-file '" + path + "': " + std::strerror(errno);
  std::string data;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return "cannot read password-file '" + path + "': " + std::strerror(errno);
    }
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  while (!data.empty() && (data.back() == '\n' || data.back() == '\r')) data.pop_back();
  if (data.empty()) return "password-file '" + path + "' is empty";
  out.password = std::move(data);
  return {};
}

const char* security_name(MailSecurity security) {
  switch (security) {
    case MailSecurity::tls: return "tls";
    case MailSecurity::none: return "none";
    case MailSecurity::starttls: break;
  }
  return "starttls";
}

}  // namespace

const std::error_category& curl_category() {
  static const CurlCategory category;
  return category;
}

CurlMailer::CurlMailer(const Config& config, std::string hostname)
    : CurlMailer(config, std::move(hostname), CurlMailerOptions{}) {}

CurlMailer::CurlMailer(const Config& config, std::string hostname, CurlMailerOptions options)
    : config_(config), hostname_(std::move(hostname)), options_(std::move(options)) {
  if (hostname_.empty()) hostname_ = "localhost";
  if (options_.ca_file.empty()) options_.ca_file = config_.mail_ca_file;
  if (!options_.sleep) options_.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  init_curl_once();
}

std::string CurlMailer::server_name() const {
  const int port = config_.effective_mail_port();
  const bool ipv6 = config_.mail_server.find(':') != std::string::npos &&
                    config_.mail_server.front() != '[';
  return (ipv6 ? "[" + config_.mail_server + "]" : config_.mail_server) + ":" + std::to_string(port);
}

// The path of an SMTP URL is the name we greet the server with (EHLO); without it
// libcurl would send a name of its own choosing.
std::string CurlMailer::url() const {
  const char* scheme = config_.mail_security == MailSecurity::tls ? "smtps" : "smtp";
  return std::string(scheme) + "://" + server_name() + "/" + percent_encode(hostname_);
}

CurlMailer::Attempt CurlMailer::transmit_once(const std::string& from,
                                              const std::vector<std::string>& recipients,
                                              const std::string& message,
                                              const Credentials& credentials) {
  const CurlPtr curl(curl_easy_init());
  if (!curl) return {false, true, "curl_easy_init failed", {}};
  CURL* c = curl.get();

  CurlSlistPtr rcpt_list;
  for (const auto& r : recipients) {
    // On failure curl_slist_append returns NULL and leaves the list alone; on success it
    // returns the head, which is new only when the list was empty.
    curl_slist* head = curl_slist_append(rcpt_list.get(), ("<" + r + ">").c_str());
    if (!head) return {false, true, "curl_slist_append failed", {}};
    (void)rcpt_list.release();
    rcpt_list.reset(head);
  }

  const std::string target = url();
  const std::string mail_from = "<" + from + ">";
  Upload upload{&message};
  Transcript transcript;
  char error_buffer[CURL_ERROR_SIZE] = {};

  UBC_SETOPT(c, CURLOPT_URL, target.c_str());
  UBC_SETOPT(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  UBC_SETOPT(c, CURLOPT_USE_SSL, static_cast<long>(config_.mail_security == MailSecurity::none
                                                       ? CURLUSESSL_NONE : CURLUSESSL_ALL));
  UBC_SETOPT(c, CURLOPT_SSL_VERIFYPEER, 1L);
  UBC_SETOPT(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) UBC_SETOPT(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!credentials.username.empty()) {
    UBC_SETOPT(c, CURLOPT_USERNAME, credentials.username.c_str());
    UBC_SETOPT(c, CURLOPT_PASSWORD, credentials.password.c_str());
  }
  UBC_SETOPT(c, CURLOPT_MAIL_FROM, mail_from.c_str());
  UBC_SETOPT(c, CURLOPT_MAIL_RCPT, rcpt_list.get());
  // One mistyped disk address must not keep the mail from the sysops; the refused ones
  // are reported (Attempt::refused).
  UBC_SETOPT(c, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
  UBC_SETOPT(c, CURLOPT_UPLOAD, 1L);
  UBC_SETOPT(c, CURLOPT_READFUNCTION, &read_message);
  UBC_SETOPT(c, CURLOPT_READDATA, &upload);
  UBC_SETOPT(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(options_.connect_timeout.count()));
  UBC_SETOPT(c, CURLOPT_TIMEOUT, static_cast<long>(options_.transfer_timeout.count()));
  UBC_SETOPT(c, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM for DNS timeouts: we may run threads
  UBC_SETOPT(c, CURLOPT_ERRORBUFFER, error_buffer);
  // The debug callback only runs in verbose mode; it prints nothing itself.
  UBC_SETOPT(c, CURLOPT_DEBUGFUNCTION, &on_debug);
  UBC_SETOPT(c, CURLOPT_DEBUGDATA, &transcript);
  UBC_SETOPT(c, CURLOPT_VERBOSE, 1L);

  const CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) return {true, false, {}, transcript.refused};

  long reply_code = 0;
  (void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply_code);
  Attempt attempt;
  attempt.temporary = is_temporary(rc, reply_code);
  attempt.refused = transcript.refused;
  attempt.error = "SMTP server '" + server_name() + "' (security " +
                  security_name(config_.mail_security) + "): " +
                  (error_buffer[0] != '\0' ? one_line(error_buffer) : curl_easy_strerror(rc));
  if (reply_code >= 400 && !transcript.last_reply.empty()) {
    attempt.error += "; the server said '" + transcript.last_reply + "'";
  }
  if (is_tls_verification_failure(rc)) {
    attempt.error += "; its certificate is not signed by a trusted CA or does not name '" +
                     config_.mail_server + "'";
  }
  return attempt;
}

CurlMailer::Attempt CurlMailer::transmit(const std::string& from,
                                         const std::vector<std::string>& recipients,
                                         const std::string& message,
                                         const Credentials& credentials) {
  Attempt attempt;
  for (std::size_t i = 0;; ++i) {
    try {
      attempt = transmit_once(from, recipients, message, credentials);
    } catch (const std::system_error& e) {
      return {false, false, e.what(), {}};  // a libcurl without SMTP or TLS support
    }
    if (attempt.ok || !attempt.temporary || i >= options_.retry_delays.size()) break;
    options_.sleep(options_.retry_delays[i]);
  }
  return attempt;
}

MailResult CurlMailer::send(const Email& mail) {
  try {
    return send_or_keep(mail);
  } catch (const std::exception& e) {
    MailResult result;
    result.error = e.what();
    return result;
  } catch (...) {
    MailResult result;
    result.error = "unexpected error while sending mail";
    return result;
  }
}

MailResult CurlMailer::send_or_keep(const Email& mail) {
  MailResult result;
  if (config_.mail_server.empty()) {
    result.error = "no mail server is configured ([Mail] server)";
    return result;
  }
  std::vector<std::string> recipients;
  std::vector<std::string> seen;
  for (const auto* list : {&mail.to, &mail.cc}) {
    for (const auto& raw : *list) {
      const std::string address = clean_address(raw);
      std::string key = address;
      std::transform(key.begin(), key.end(), key.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      if (address.empty() || std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
      seen.push_back(key);
      recipients.push_back(address);
    }
  }
  if (recipients.empty()) {
    result.error = "the mail has no recipients ([Mail] to-mail-addresses-sysop)";
    return result;
  }

  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  QueuedMail item;
  item.from = clean_address(mail.from);
  item.recipients = recipients;
  item.message = render_message(mail, {now, make_message_id(now, random_hex(), hostname_)});

  Outbox outbox(config_.state_directory + "/outbox");
  const auto keep = [&](const std::string& why) {
    try {
      (void)outbox.add(item);
      result.kept_in_outbox = true;
      result.error = why;
    } catch (const std::system_error& e) {
      result.error = why + "; it could not be kept for later either: " + e.what();
    }
    return result;
  };

  Credentials credentials;
  if (const std::string problem = read_credentials(config_, credentials); !problem.empty()) {
    return keep(problem);
  }

  // Older mails first. A temporary failure stops the round (the server is away; the new
  // mail waits behind them to keep the order); a permanent one skips that mail only.
  std::string blocked;
  UniqueFd lock;
  try {
    lock = outbox.try_lock();
  } catch (const std::system_error&) {
    // No outbox directory can be made: nothing is kept there, and keep() will say why.
  }
  if (lock) {
    for (const auto& name : outbox.list()) {
      const std::optional<QueuedMail> queued = outbox.load(name);
      if (!queued) {
        outbox.set_aside(name);
        continue;
      }
      const Attempt attempt = transmit(queued->from, queued->recipients, queued->message, credentials);
      if (attempt.ok) {
        outbox.remove(name);
        ++result.outbox_sent;
      } else if (attempt.temporary) {
        blocked = attempt.error;
        break;
      }
    }
  }
  if (!blocked.empty()) return keep(blocked);

  const Attempt attempt = transmit(item.from, item.recipients, item.message, credentials);
  if (!attempt.ok) return keep(attempt.error);
  result.sent = true;
  if (!attempt.refused.empty()) {
    std::string list;
    for (const auto& r : attempt.refused) list += (list.empty() ? "" : ", ") + r;
    result.error = "sent, but the server refused these recipients: " + list;
  }
  return result;
}

}  // namespace ubc
