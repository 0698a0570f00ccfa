// SPDX-License-Identifier: MIT
#include "sys/log_setup.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>

#include "core/log_escape.h"

namespace ubc {

bool stderr_is_journal() {
  // systemd sets JOURNAL_STREAM=<dev>:<inode> of the stream it connected; a child whose
  // stderr was redirected elsewhere inherits the variable, so compare with fd 2 itself.
  const char* env = std::getenv("JOURNAL_STREAM");
  if (!env) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (fstat(2, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev && static_cast<unsigned long long>(st.st_ino) == ino;
}

void setup_logging(const std::string& program) {
  std::shared_ptr<spdlog::logger> logger;
  if (stderr_is_journal()) {
    auto sink = std::make_shared<spdlog::sinks::systemd_sink_mt>(program);
    sink->set_formatter(std::make_unique<EscapingFormatter>("%v"));
    logger = std::make_shared<spdlog::logger>(program, sink);
  } else {
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    sink->set_formatter(std::make_unique<EscapingFormatter>("%Y-%m-%d %H:%M:%S %^%l%$: %v"));
    logger = std::make_shared<spdlog::logger>(program, sink);
  }
  logger->set_level(spdlog::level::info);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

std::string add_log_file(const std::string& path) {
  try {
    auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, false);
    sink->set_formatter(std::make_unique<EscapingFormatter>("%Y-%m-%d %H:%M:%S [%P] %l: %v"));
    spdlog::default_logger()->sinks().push_back(sink);
    return {};
  } catch (const spdlog::spdlog_ex& e) {
    return e.what();
  }
}

}  // namespace ubc
