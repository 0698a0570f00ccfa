// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "core/text.h"
#include "ports/enrollment_store.h"

namespace ubc::test {

// Records in a map. Secrets are counted ("secret-1", ... padded to 64 hex digits) and the
// digest is a keyed mix of the text, not SHA-256: what the contract asks (64 lower-case hex
// digits, equal texts give equal digests, different ones different) and nothing more.
class FakeEnrollmentStore final : public EnrollmentStore {
 public:
  std::optional<Enrollment> find(const std::string& uuid) override {
    if (!fail_.empty()) throw std::system_error(EIO, std::generic_category(), fail_);
    const auto it = records_.find(lower(uuid));
    if (it == records_.end()) return std::nullopt;
    return it->second;
  }
  std::vector<Enrollment> list() override {
    std::vector<Enrollment> out;
    for (const auto& [uuid, e] : records_) out.push_back(e);
    return out;
  }
  void save(const Enrollment& enrollment) override {
    const auto stem = uuid_file_stem(enrollment.uuid);
    if (!stem) throw std::invalid_argument("'" + enrollment.uuid + "' is not a filesystem UUID");
    Enrollment e = enrollment;
    e.uuid = *stem;
    records_[*stem] = e;
  }
  bool remove(const std::string& uuid) override { return records_.erase(lower(uuid)) > 0; }
  std::string new_secret() override {
    std::string n = std::to_string(++secrets_made_);
    return std::string(64 - n.size(), 'a') + n;
  }
  std::string digest(const std::string& text) override {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (std::uint64_t lane = 1; lane <= 4; ++lane) {
      std::uint64_t h = 1469598103934665603ULL ^ (lane * 0x9E3779B97F4A7C15ULL);
      for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
      for (int shift = 60; shift >= 0; shift -= 4) out += digits[(h >> shift) & 0xf];
    }
    return out;
  }

  std::map<std::string, Enrollment> records_;  // by lower-case UUID
  int secrets_made_ = 0;
  std::string fail_;  // non-empty: find() throws with this text
};

}  // namespace ubc::test
