// SPDX-License-Identifier: MIT
// A small HTTP server for `serve`, over cpp-httplib: GET and HEAD go to one handler, every
// other method gets 405. The handler runs on the library's worker threads, several at once.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace httplib {
class Server;
}

namespace ubc {

struct HttpRequest {
  std::string path;  // decoded, without the query
  std::multimap<std::string, std::string> query;
  std::optional<std::string> param(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

class HttpServer {
 public:
  // headers are sent with every response, the 405s included.
  HttpServer(HttpHandler handler, HttpHeaders headers);
  ~HttpServer();  // stops and joins
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port and serves from a thread of its own. Throws std::system_error: with
  // EADDRINUSE when something else listens there, else naming what failed.
  void start(const std::string& host, int port);
  // False once the listening thread has ended (stop(), or the socket failed).
  bool running() const;
  // Closes the socket and waits for the requests in progress.
  void stop();

 private:
  HttpHandler handler_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> listening_{false};
};

}  // namespace ubc
