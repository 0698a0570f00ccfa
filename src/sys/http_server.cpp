// SPDX-License-Identifier: MIT
#include "sys/http_server.h"

#include <errno.h>
#include <httplib.h>
#include <netdb.h>
#include <sys/socket.h>

#include <system_error>

#include "sys/unique_fd.h"

namespace ubc {

namespace {

// Whether host:port can be bound, with the errno of the first address that cannot. cpp-
// httplib only answers false, and errno after it is whatever its last call left.
int probe_bind(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (const int r = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); r != 0)
    throw std::system_error(EINVAL, std::generic_category(),
                            "getaddrinfo '" + host + "': " + ::gai_strerror(r));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, ::freeaddrinfo);
  int error = EADDRNOTAVAIL;
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd) {
      error = errno;
      continue;
    }
    // As the server will: a port left in TIME_WAIT by an earlier run is free to take.
    const int yes = 1;
    (void)::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0) return 0;
    error = errno;
  }
  return error;
}

}  // namespace

std::optional<std::string> HttpRequest::param(const std::string& name) const {
  const auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

HttpServer::HttpServer(HttpHandler handler, HttpHeaders headers)
    : handler_(std::move(handler)), server_(std::make_unique<httplib::Server>()) {
  httplib::Headers defaults;
  for (auto& [name, value] : headers) defaults.emplace(std::move(name), std::move(value));
  server_->set_default_headers(std::move(defaults));
  server_->set_payload_max_length(64 * 1024);  // GET only: no request needs a body
  // Every request is answered here, so no route table and no regular expressions.
  server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.method != "GET" && req.method != "HEAD") {
      res.status = 405;
      res.set_header("Allow", "GET, HEAD");
      res.set_content("Only GET and HEAD are answered here: the page is read-only.\n", "text/plain; charset=utf-8");
      return httplib::Server::HandlerResponse::Handled;
    }
    HttpRequest request;
    request.path = req.path;
    request.query.insert(req.params.begin(), req.params.end());
    HttpResponse response;
    try {
      response = handler_(request);
    } catch (const std::exception& e) {
      response = {500, "text/plain; charset=utf-8", std::string("Internal error: ") + e.what() + "\n"};
    }
    res.status = response.status;
    res.set_content(response.body, response.content_type);
    return httplib::Server::HandlerResponse::Handled;
  });
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start(const std::string& host, int port) {
  if (const int error = probe_bind(host, port); error != 0)
    throw std::system_error(error, std::generic_category(), "bind " + host + ":" + std::to_string(port));
  if (!server_->bind_to_port(host, port))
    throw std::system_error(EADDRINUSE, std::generic_category(), "bind " + host + ":" + std::to_string(port));
  listening_ = true;
  thread_ = std::thread([this] {
    (void)server_->listen_after_bind();
    listening_ = false;
  });
}

bool HttpServer::running() const { return listening_; }

void HttpServer::stop() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace ubc
