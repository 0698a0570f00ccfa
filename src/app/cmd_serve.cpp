// SPDX-License-Identifier: MIT
// `usb-backup-copier serve`: the status page, its JSON and the Prometheus metrics on
// webhost:webport. Reads what the copier publishes and writes nothing (DESIGN.md §9).
#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <iostream>
#include <string_view>
#include <system_error>

#include "app/cli.h"
#include "app/commands.h"
#include "app/load_config.h"
#include "app/status_overview.h"
#include "core/exit_codes.h"
#include "core/metrics.h"
#include "core/status_report.h"
#include "core/web_api.h"
#include "sys/http_server.h"
#include "sys/log_setup.h"
#include "sys/sqlite_history.h"
#include "sys/system_clock.h"
#include "web_assets.h"

namespace ubc {

namespace {

constexpr const char* kServeUsage = "usage: usb-backup-copier [--config PATH] serve\n";

HttpResponse text(int status, std::string body) { return {status, "text/plain; charset=utf-8", std::move(body)}; }

std::string_view content_type_of(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  return "application/octet-stream";
}

std::optional<HttpResponse> asset(std::string_view path) {
  const std::string_view name = path == "/" ? "index.html" : path.substr(1);
  for (const auto& a : web::kAssets)
    if (path.starts_with('/') && a.name == name)
      return HttpResponse{200, std::string(content_type_of(a.name)), std::string(a.body)};
  return std::nullopt;
}

// Every request reads afresh, through a connection of its own: requests run on several
// threads at once, and a database that appears after the start is found.
class StatusPage {
 public:
  explicit StatusPage(Config config) : config_(std::move(config)) {}

  HttpResponse answer(const HttpRequest& req) const {
    if (auto a = asset(req.path)) return *a;
    SqliteHistory history(config_.state_directory, HistoryAccess::read_only);
    if (req.path == "/api/status")
      return {200, "application/json", render_status_json(config_, overview(history))};
    if (req.path == "/api/runs") {
      const auto limit = parse_runs_limit(req.param("limit"));
      if (!limit)
        return text(400, "limit must be a whole number from 1 to " + std::to_string(kMaxRunsLimit) + "\n");
      return {200, "application/json", render_runs_json(history.recent(*limit))};
    }
    if (req.path == "/metrics") {
      const StatusOverview o = overview(history);
      return {200, "text/plain; version=0.0.4; charset=utf-8",
              render_metrics(config_, o, history.last_success_per_disk())};
    }
    if (const auto id = parse_run_log_path(req.path)) {
      if (auto log = history.run_log(*id)) return text(200, std::move(*log));
      return text(404, "No log is kept for run " + std::to_string(*id) + ".\n");
    }
    return text(404, "Not found. The page is at /, its data at /api/status, /api/runs and /metrics.\n");
  }

 private:
  StatusOverview overview(History& history) const {
    return gather_status(config_, history, static_cast<std::int64_t>(std::time(nullptr)));
  }

  Config config_;
};

std::string url_of(const std::string& host, int port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return "http://" + (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + "/";
}

}  // namespace

int cmd_serve(const Invocation& inv) {
  if (!inv.args.empty())
    return usage_error(inv.program, "unexpected argument '" + inv.args.front() + "'", kServeUsage);
  setup_logging("usb-backup-copier");
  SignalStop stop;
  const auto config = load_config_or_report(inv.config_path);
  if (!config) return kExitConfig;
  const std::string where = config->webhost + ":" + std::to_string(config->webport);

  const StatusPage page(*config);
  // The page and its data are all the page's own ('self'), and nothing may frame it.
  HttpServer server([&page](const HttpRequest& req) { return page.answer(req); },
                    {{"Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'"},
                     {"X-Content-Type-Options", "nosniff"},
                     {"Referrer-Policy", "no-referrer"},
                     {"Cache-Control", "no-store"}});
  try {
    server.start(config->webhost, config->webport);
  } catch (const std::system_error& e) {
    if (e.code() == std::errc::address_in_use)
      std::cerr << inv.program << ": cannot listen on " << where
                << ": another program already uses this port. Stop that program, or set another "
                   "port with `webport = ...` in [Webserver] of '"
                << inv.config_path << "'\n";
    else
      std::cerr << inv.program << ": cannot listen on " << where << ": " << e.what()
                << "; check webhost and webport in [Webserver] of '" << inv.config_path << "'\n";
    return kExitFailed;
  }
  spdlog::info("Serving the status page on {} (read-only)", url_of(config->webhost, config->webport));
  // The wait ends at once on SIGTERM or SIGINT; the period only notices a server that died.
  while (!stop.stop_requested() && server.running()) (void)stop.wait(std::chrono::seconds(1));
  server.stop();
  if (!stop.stop_requested()) {
    spdlog::error("The server on {} stopped by itself", where);
    return kExitFailed;
  }
  spdlog::info("Stopped by {}", stop.describe());
  return kExitOk;
}

}  // namespace ubc
