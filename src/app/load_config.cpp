// SPDX-License-Identifier: MIT
#include "app/load_config.h"

#include <algorithm>
#include <iostream>
#include <utility>

#include "sys/ini_file.h"
#include "sys/real_config_environment.h"

namespace ubc {

ConfigResult load_config(const std::string& path) {
  IniFile file = read_ini_file(path);
  if (file.entries.empty() && !file.problems.empty() && file.problems.front().line == 0) {
    // Unreadable: "section [Backup] is missing" and the like would only bury the reason.
    ConfigResult unreadable;
    unreadable.config.path = path;
    unreadable.problems = std::move(file.problems);
    return unreadable;
  }
  const RealConfigEnvironment env;
  ConfigResult result = build_config(path, file.entries, env);
  // Both lists are in file order; keep the merged one so.
  result.problems.insert(result.problems.end(), file.problems.begin(), file.problems.end());
  std::stable_sort(result.problems.begin(), result.problems.end(),
                   [](const ConfigProblem& a, const ConfigProblem& b) { return a.line < b.line; });
  return result;
}

std::optional<Config> load_config_or_report(const std::string& path, std::vector<std::string>* secret_warnings) {
  ConfigResult result = load_config(path);
  for (const ConfigProblem& problem : result.problems) {
    std::cerr << format_problem(path, problem) << "\n";
    if (secret_warnings && problem.severity == ConfigProblem::Severity::warning &&
        (problem.key == "Mail.password" || problem.key == "Mail.password-file"))
      secret_warnings->push_back(format_problem(path, problem));
  }
  if (result.has_errors()) return std::nullopt;
  return std::move(result.config);
}

}  // namespace ubc
