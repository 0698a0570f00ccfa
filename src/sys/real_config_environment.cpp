// SPDX-License-Identifier: MIT
#include "sys/real_config_environment.h"

#include <sys/stat.h>

namespace ubc {

bool RealConfigEnvironment::is_directory(const std::string& path) const {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::optional<unsigned> RealConfigEnvironment::file_mode(const std::string& path) const {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return static_cast<unsigned>(st.st_mode & 07777);
}

}  // namespace ubc
