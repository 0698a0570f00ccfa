// SPDX-License-Identifier: MIT
#include "app/cli.h"

#include <cstdlib>
#include <exception>
#include <iostream>

#include "core/exit_codes.h"

namespace ubc {

Invocation parse_invocation(int argc, char** argv, std::string& error) {
  Invocation inv;
  const std::string program = argc > 0 ? argv[0] : "usb-backup-copier";
  inv.program = program.substr(program.find_last_of('/') + 1);
  for (int i = 1; i < argc; ++i) inv.args.emplace_back(argv[i]);
  if (auto path = take_option(inv.args, "--config", error)) {
    inv.config_path = *path;
  } else if (const char* env = std::getenv("USB_BACKUP_COPIER_CONFIG"); env && *env) {
    inv.config_path = env;
  } else {
    inv.config_path = kDefaultConfigPath;
  }
  return inv;
}

bool take_flag(std::vector<std::string>& args, const std::string& name) {
  for (auto it = args.begin(); it != args.end(); ++it)
    if (*it == name) {
      args.erase(it);
      return true;
    }
  return false;
}

std::optional<std::string> take_option(std::vector<std::string>& args, const std::string& name,
                                       std::string& error) {
  for (auto it = args.begin(); it != args.end(); ++it) {
    if (*it == name) {
      if (std::next(it) == args.end() || std::next(it)->empty()) {
        error = name + " needs a value";
        args.erase(it);
        return std::nullopt;
      }
      std::string value = *std::next(it);
      args.erase(it, it + 2);
      return value;
    }
    if (it->rfind(name + "=", 0) == 0) {
      std::string value = it->substr(name.size() + 1);
      args.erase(it);
      if (value.empty()) error = name + " needs a value";
      return value.empty() ? std::nullopt : std::optional<std::string>(value);
    }
  }
  return std::nullopt;
}

int run_main(int argc, char** argv, const char* usage, int (*command)(const Invocation&)) {
  std::string program = "usb-backup-copier";
  try {
    std::string error;
    const Invocation inv = parse_invocation(argc, argv, error);
    program = inv.program;
    if (!error.empty()) return usage_error(inv.program, error, usage);
    return command(inv);
  } catch (const std::exception& e) {
    std::cerr << program << ": ERROR: " << e.what() << std::endl;
  } catch (...) {
    std::cerr << program << ": ERROR: unexpected failure" << std::endl;
  }
  return kExitFailed;
}

int usage_error(const std::string& program, const std::string& message, const char* usage) {
  std::cerr << program << ": " << message << "\n" << usage;
  return kExitUsage;
}

}  // namespace ubc
