// SPDX-License-Identifier: MIT
#include "core/verification.h"

#include "core/rsync.h"

namespace ubc {

namespace {

bool inside_partial_dir(const std::string& path) {
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = path.find('/', start);
    if (slash == std::string::npos) return false;  // the last part is the file itself
    if (std::string_view(path).substr(start, slash - start) == kRsyncPartialDir) return true;
    start = slash + 1;
  }
}

}  // namespace

VerificationPlan plan_verification(VerifyMode mode, std::vector<DiskFile> on_disk, const Manifest& known) {
  VerificationPlan plan;
  if (mode == VerifyMode::none) return plan;
  for (auto& file : on_disk) {
    if (inside_partial_dir(file.path)) continue;
    if (mode == VerifyMode::written) {
      const auto it = known.find(file.path);
      if (it != known.end() && it->second.stamp == file.stamp) {
        plan.kept.insert(*it);
        continue;
      }
    }
    plan.bytes_to_check += file.stamp.size;
    plan.to_check.push_back(std::move(file));
  }
  return plan;
}

std::string printable_path(std::string_view path) {
  static const char digits[] = "0123456789abcdef";
  std::string out = "'";
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += digits[u >> 4];
      out += digits[u & 0xf];
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

}  // namespace ubc
