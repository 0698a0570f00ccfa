// SPDX-License-Identifier: MIT
#include "support/smtp_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "support/loop_disk.h"

namespace ubc::test {
namespace {

constexpr const char* kPython = "/usr/bin/python3";  // Debian's, which sees python3-aiosmtpd
const std::string kSupportDir = std::string(UBC_SOURCE_DIR) + "/tests/integration/support";

std::vector<std::string> files_with_suffix(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string path = entry.path().string();
    if (path.size() > suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(path);
    }
  }
  std::sort(out.begin(), out.end());  // NNNNNN.eml: arrival order
  return out;
}

}  // namespace

TestCertificates make_test_certificates(const std::string& dir, const std::vector<std::string>& alt_names) {
  TestCertificates c{dir + "/ca.pem", dir + "/server.pem", dir + "/server.key"};
  const std::string ca_key = dir + "/ca.key";
  const std::string csr = dir + "/server.csr";
  const std::string ext = dir + "/server.ext";
  std::string names;
  for (const auto& n : alt_names) names += (names.empty() ? "" : ",") + n;
  write_file(ext, "subjectAltName=" + names + "\nbasicConstraints=CA:FALSE\n"
                  "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n");
  // EC keys: made in milliseconds, unlike RSA.
  run_ok({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes", "-keyout", ca_key, "-out", c.ca_file, "-days", "2", "-subj", "/CN=ubc test CA",
          "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
  run_ok({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
          "-keyout", c.key_file, "-out", csr, "-subj", "/CN=ubc test server"});
  run_ok({"openssl", "x509", "-req", "-in", csr, "-CA", c.ca_file, "-CAkey", ca_key,
          "-CAcreateserial", "-out", c.cert_file, "-days", "2", "-extfile", ext});
  return c;
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("bind/getsockname on 127.0.0.1 failed");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

SmtpServer::SmtpServer(SmtpServerOptions options) {
  if (run({kPython, "-c", "import aiosmtpd"}) != 0) {
    throw std::runtime_error("python3-aiosmtpd is missing: run scripts/install-deps (as root)");
  }
  directory_ = make_temp_dir("ubc-smtp");
  maildir_ = directory_ + "/mail";
  std::filesystem::create_directory(maildir_);

  std::vector<std::string> argv = {kPython, kSupportDir + "/smtp_server.py", "--dir", maildir_,
                                   "--port", std::to_string(options.port),
                                   "--fail-code", std::to_string(options.fail_code),
                                   "--fail-count", std::to_string(options.fail_count)};
  if (!options.cert_file.empty()) {
    argv.insert(argv.end(), {"--cert", options.cert_file, "--key", options.key_file});
  }
  if (options.implicit_tls) argv.push_back("--implicit-tls");
  if (!options.username.empty()) argv.insert(argv.end(), {"--auth", options.username + ":" + options.password});
  if (options.auth_without_tls) argv.push_back("--auth-plaintext");
  for (const auto& r : options.refuse) argv.insert(argv.end(), {"--refuse", r});
  if (options.silent) argv.push_back("--silent");

  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  const std::string log_path = directory_ + "/server.log";
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // Only async-signal-safe calls before exec. The server dies with the test process.
    (void)::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) _exit(127);
    ::dup2(pipefd[1], 1);
    const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (log >= 0) ::dup2(log, 2);
    ::execv(args[0], args.data());
    _exit(127);
  }
  ::close(pipefd[1]);

  // Wait for "PORT <n>": only then does the server accept connections.
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (out.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{pipefd[0], POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    char buf[256];
    const ssize_t n = ::read(pipefd[0], buf, sizeof buf);
    if (n <= 0) break;  // the server exited
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(pipefd[0]);
  if (out.rfind("PORT ", 0) == 0) port_ = std::stoi(out.substr(5));
  if (port_ == 0) {
    const std::string why = log();
    stop();
    remove_tree(directory_);
    throw std::runtime_error("the test SMTP server did not start: " + why);
  }
}

SmtpServer::~SmtpServer() {
  stop();
  remove_tree(directory_);
}

void SmtpServer::stop() {
  if (pid_ <= 0) return;
  (void)::kill(pid_, SIGTERM);
  for (int i = 0; i < 50; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  (void)::kill(pid_, SIGKILL);
  (void)::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

namespace {

bool wait_for_files(const std::string& dir, const std::string& suffix, std::size_t count,
                    std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (files_with_suffix(dir, suffix).size() < count) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

}  // namespace

bool SmtpServer::wait_for_messages(std::size_t count, std::chrono::milliseconds timeout) const {
  return wait_for_files(maildir_, ".eml", count, timeout);
}

bool SmtpServer::wait_for_connections(std::size_t count, std::chrono::milliseconds timeout) const {
  return wait_for_files(maildir_, ".conn", count, timeout);
}

std::vector<std::string> SmtpServer::message_files() const { return files_with_suffix(maildir_, ".eml"); }

std::vector<std::string> SmtpServer::messages() const {
  std::vector<std::string> out;
  for (const auto& f : message_files()) out.push_back(read_file(f));
  return out;
}

std::vector<std::string> SmtpServer::envelopes() const {
  std::vector<std::string> out;
  for (const auto& f : files_with_suffix(maildir_, ".json")) out.push_back(read_file(f));
  return out;
}

std::string SmtpServer::log() const {
  try {
    return read_file(directory_ + "/server.log");
  } catch (const std::exception&) {
    return {};
  }
}

Json parse_mail(const std::string& eml_path) {
  std::string out;
  if (run({kPython, kSupportDir + "/parse_mail.py", eml_path}, &out) != 0) {
    throw std::runtime_error("parse_mail.py failed on " + eml_path + ": " + out);
  }
  auto parsed = parse_json_object(out, 256 << 20);
  if (!parsed) throw std::runtime_error("parse_mail.py printed no JSON object: " + out);
  return *parsed;
}

std::string field(const Json& summary, const std::string& key) {
  return json_string(summary, key).value_or("");
}

}  // namespace ubc::test
