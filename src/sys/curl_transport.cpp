// SPDX-License-Identifier: MIT
#include "sys/curl_transport.h"

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

#include "core/mime.h"
#include "sys/fd_io.h"
#include "sys/unique_fd.h"

namespace ubc {
namespace {

using Kind = TransmitResult::Kind;

class CurlCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "curl"; }
  std::string message(int code) const override {
    return curl_easy_strerror(static_cast<CURLcode>(code));
  }
};

// curl_global_init: once per process, before any other curl call and (older libcurl) while
// no other thread uses it. Never undone: other users of libcurl may remain.
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

// libcurl asks this at least once a second, also while it waits for a silent server;
// non-zero ends the transfer with CURLE_ABORTED_BY_CALLBACK.
int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  try {
    return (*static_cast<const std::function<bool()>*>(user))() ? 1 : 0;
  } catch (...) {
    return 1;
  }
}

// The server's replies from libcurl's debug stream; of our commands only the verb and RCPT's
// recipient are kept, since AUTH's argument is the password.
struct Transcript {
  std::string last_reply;
  std::string last_command;  // "MAIL", "RCPT", "DATA", "AUTH", ...
  std::string pending_recipient;
  std::vector<std::string> refused;
  // After a failed command libcurl may say QUIT at once; its "221 Bye" must not hide the
  // reply that made the mail fail.
  bool quitting = false;
};

int on_debug(CURL*, curl_infotype type, char* data, size_t size, void* user) {
  auto* t = static_cast<Transcript*>(user);
  std::string text(data, size);
  if (type == CURLINFO_HEADER_OUT) {
    t->pending_recipient.clear();
    const std::size_t start = text.find_first_not_of("\r\n");
    const std::size_t end = start == std::string::npos ? start : text.find_first_of(" :\r\n", start);
    std::string verb = start == std::string::npos ? "" : text.substr(start, end - start).substr(0, 10);
    for (auto& ch : verb) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (verb == "QUIT") {
      t->quitting = true;
      return 0;
    }
    t->last_command = verb == "." ? "DATA" : verb;  // "." ends the message: its reply answers DATA
    if (text.size() > 8 && strncasecmp(text.c_str(), "RCPT TO:", 8) == 0) {
      t->pending_recipient = one_line(text.substr(8));
    }
    return 0;
  }
  if (type != CURLINFO_HEADER_IN || t->quitting) return 0;
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

// Temporary: unreachable, too slow, or 4xx. Refused: 5xx to this mail (the outbox counts
// it). Failed: what fails every mail alike (login, certificate, a missing feature).
Kind classify(CURLcode rc, long reply_code, const std::string& last_command) {
  if (rc == CURLE_ABORTED_BY_CALLBACK) return Kind::stopped;
  if (is_tls_verification_failure(rc)) return Kind::failed;
  if (reply_code >= 500) {
    const bool about_this_mail = last_command == "MAIL" || last_command == "RCPT" || last_command == "DATA";
    // 530: "authentication / STARTTLS required": the configuration, not the mail.
    return about_this_mail && reply_code != 530 ? Kind::refused : Kind::failed;
  }
  if (reply_code >= 400) return Kind::temporary;
  switch (rc) {
    case CURLE_LOGIN_DENIED:
    case CURLE_USE_SSL_FAILED:  // the server offers no STARTTLS
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
      return Kind::failed;
    default:
      return Kind::temporary;
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

struct Credentials {
  std::string username;
  std::string password;
};

// From password-file (trailing line break dropped) or the config; errors never show it.
std::string read_credentials(const Config& config, Credentials& out) {
  out.username = config.mail_username;
  out.password = config.mail_password;
  if (config.mail_password_file.empty()) return {};
  const std::string& path = config.mail_password_file;
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return "cannot read password-file '" + path + "': " + std::strerror(errno);
  std::string data;
  try {
    data = read_all(fd.get(), path, 64 * 1024);
  } catch (const std::system_error& e) {
    return "cannot read password-file '" + path + "': " + e.code().message();
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

long as_millis(std::chrono::milliseconds d) { return static_cast<long>(std::max<std::int64_t>(d.count(), 1)); }

}  // namespace

const std::error_category& curl_category() {
  static const CurlCategory category;
  return category;
}

CurlTransport::CurlTransport(const Config& config, std::string hostname, CurlTransportOptions options)
    : config_(config), hostname_(std::move(hostname)), options_(std::move(options)) {
  if (hostname_.empty()) hostname_ = "localhost";
  if (options_.ca_file.empty()) options_.ca_file = config_.mail_ca_file;
}

std::string CurlTransport::new_message_id(std::int64_t date) { return make_message_id(date, random_hex(), hostname_); }

std::string CurlTransport::server_name() const {
  const int port = config_.effective_mail_port();
  const bool ipv6 = config_.mail_server.find(':') != std::string::npos &&
                    config_.mail_server.front() != '[';
  return (ipv6 ? "[" + config_.mail_server + "]" : config_.mail_server) + ":" + std::to_string(port);
}

// The path of an SMTP URL is the name we greet the server with (EHLO); without it
// libcurl would send a name of its own choosing.
std::string CurlTransport::url() const {
  const char* scheme = config_.mail_security == MailSecurity::tls ? "smtps" : "smtp";
  return std::string(scheme) + "://" + server_name() + "/" + percent_encode(hostname_);
}

TransmitResult CurlTransport::transmit(const RenderedMail& mail, std::chrono::milliseconds time_limit,
                                       const std::function<bool()>& give_up) {
  try {
    return perform(mail, time_limit, give_up);
  } catch (const std::exception& e) {
    return {Kind::failed, e.what(), {}, {}};  // a libcurl without SMTP or TLS support
  }
}

TransmitResult CurlTransport::perform(const RenderedMail& mail, std::chrono::milliseconds time_limit,
                                      const std::function<bool()>& give_up) {
  // Here rather than in the constructor: libcurl is loaded on first use, and a transport
  // run in a child process (sys/forked_transport.h) must load it only there.
  init_curl_once();
  const std::string where = "SMTP server '" + server_name() + "' (security " +
                            security_name(config_.mail_security) + "): ";
  Credentials credentials;
  if (const std::string problem = read_credentials(config_, credentials); !problem.empty()) {
    return {Kind::failed, problem, {}, {}};
  }
  // Declared before the handle: closing the connection in curl_easy_cleanup (QUIT) still
  // calls the debug callback, which must find its transcript alive.
  Upload upload{&mail.message};
  Transcript transcript;
  char error_buffer[CURL_ERROR_SIZE] = {};
  const std::string target = url();
  const std::string mail_from = "<" + mail.from + ">";
  CurlSlistPtr rcpt_list;
  for (const auto& r : mail.recipients) {
    // On failure curl_slist_append returns NULL and leaves the list alone; on success it
    // returns the head, which is new only when the list was empty.
    curl_slist* head = curl_slist_append(rcpt_list.get(), ("<" + r + ">").c_str());
    if (!head) return {Kind::temporary, "curl_slist_append failed", {}, {}};
    (void)rcpt_list.release();
    rcpt_list.reset(head);
  }
  const CurlPtr curl(curl_easy_init());
  if (!curl) return {Kind::temporary, "curl_easy_init failed", {}, {}};
  CURL* c = curl.get();

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
  // are reported (refused_recipients).
  UBC_SETOPT(c, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
  UBC_SETOPT(c, CURLOPT_UPLOAD, 1L);
  UBC_SETOPT(c, CURLOPT_READFUNCTION, &read_message);
  UBC_SETOPT(c, CURLOPT_READDATA, &upload);
  // The whole attempt (connect, TLS, every reply, the upload) ends within time_limit.
  UBC_SETOPT(c, CURLOPT_CONNECTTIMEOUT_MS, as_millis(std::min(options_.connect_timeout, time_limit)));
  UBC_SETOPT(c, CURLOPT_TIMEOUT_MS, as_millis(time_limit));
  UBC_SETOPT(c, CURLOPT_NOPROGRESS, 0L);
  UBC_SETOPT(c, CURLOPT_XFERINFOFUNCTION, &on_progress);
  UBC_SETOPT(c, CURLOPT_XFERINFODATA, const_cast<std::function<bool()>*>(&give_up));
  UBC_SETOPT(c, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM for DNS timeouts: we may run threads
  UBC_SETOPT(c, CURLOPT_ERRORBUFFER, error_buffer);
  // The debug callback only runs in verbose mode; it prints nothing itself.
  UBC_SETOPT(c, CURLOPT_DEBUGFUNCTION, &on_debug);
  UBC_SETOPT(c, CURLOPT_DEBUGDATA, &transcript);
  UBC_SETOPT(c, CURLOPT_VERBOSE, 1L);

  const CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) return {Kind::delivered, {}, transcript.last_reply, transcript.refused};

  long reply_code = 0;
  (void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply_code);
  TransmitResult result;
  result.kind = classify(rc, reply_code, transcript.last_command);
  result.refused_recipients = transcript.refused;
  result.error = where + (error_buffer[0] != '\0' ? one_line(error_buffer) : curl_easy_strerror(rc));
  if (reply_code >= 400 && !transcript.last_reply.empty()) {
    result.server_reply = transcript.last_reply;
    result.error += "; the server said '" + transcript.last_reply + "'";
  }
  if (is_tls_verification_failure(rc)) {
    result.error += "; its certificate is not signed by a trusted CA or does not name '" +
                    config_.mail_server + "'";
  }
  return result;
}

}  // namespace ubc
