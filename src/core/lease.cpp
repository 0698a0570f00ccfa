// SPDX-License-Identifier: MIT
#include "core/lease.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <set>
#include <tuple>
#include <utility>

#include "core/format.h"

namespace ubc {

namespace {

constexpr std::size_t kMaxJobName = 128;
constexpr std::size_t kMaxSlug = 40;
constexpr std::int64_t kLastTime = 253402300799;  // 9999-12-31T23:59:59Z

template <typename Int>
std::optional<Int> parse_int(std::string_view text) {
  Int value{};
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end || text.empty()) return std::nullopt;
  return value;
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

std::optional<std::string> job_name_problem(std::string_view job) {
  if (job.empty()) return "the job name is empty";
  if (job.size() > kMaxJobName)
    return "the job name is longer than " + std::to_string(kMaxJobName) + " bytes";
  for (const char c : job) {
    const auto u = static_cast<unsigned char>(c);
    // A newline would end the lease file's job= line early and forge the next key.
    if (u < 0x20 || u == 0x7f) return "the job name contains a control character";
  }
  if (job.front() == '-') return "the job name must not start with '-' (it would read as an option)";
  if (is_blank(job.front()) || is_blank(job.back())) return "the job name must not start or end with a blank";
  return std::nullopt;
}

Lease make_lease(std::string job, std::string host, int pid, std::int64_t now, int ttl_hours) {
  Lease lease;
  lease.job = std::move(job);
  lease.host = std::move(host);
  lease.pid = pid;
  lease.created_at = now;
  lease.expires_at = now + static_cast<std::int64_t>(ttl_hours) * 3600;
  return lease;
}

std::string format_lease(const Lease& lease) {
  std::string out = "# Veeam lease: written by veeam-lock, removed by veeam-unlock or when it expires\n";
  out += "job=" + lease.job + "\n";
  out += "host=" + lease.host + "\n";
  out += "pid=" + std::to_string(lease.pid) + "\n";
  out += "created=" + std::to_string(lease.created_at) + "\n";
  out += "expires=" + std::to_string(lease.expires_at) + "\n";
  out += "created-utc=" + format_utc(lease.created_at) + "\n";
  out += "expires-utc=" + format_utc(lease.expires_at) + "\n";
  return out;
}

LeaseParse parse_lease(std::string_view text, std::string file_name) {
  LeaseParse result;
  Lease lease;
  lease.file = std::move(file_name);
  std::set<std::string, std::less<>> seen;
  int line_number = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // edited on Windows
    if (line.empty() || line.front() == '#') continue;
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      result.error = "line " + std::to_string(line_number) + " is not key=value";
      return result;
    }
    const std::string_view key = line.substr(0, eq);
    const std::string_view value = line.substr(eq + 1);
    if (key == "job" || key == "host" || key == "pid" || key == "created" || key == "expires") {
      if (!seen.emplace(key).second) {
        result.error = "'" + std::string(key) + "' appears twice";
        return result;
      }
    }
    if (key == "job") {
      lease.job = value;
    } else if (key == "host") {
      lease.host = value;
    } else if (key == "pid" || key == "created" || key == "expires") {
      const auto number = parse_int<std::int64_t>(value);
      if (!number) {
        result.error = "'" + std::string(key) + "' is not a number: '" + std::string(value) + "'";
        return result;
      }
      if (key == "pid" && (*number < 0 || *number > std::numeric_limits<int>::max())) {
        result.error = "'pid' is out of range: '" + std::string(value) + "'";
        return result;
      }
      // Unix seconds up to the year 9999: arithmetic with now can then never overflow.
      if (key != "pid" && (*number < 0 || *number > kLastTime)) {
        result.error = "'" + std::string(key) + "' is out of range: '" + std::string(value) + "'";
        return result;
      }
      if (key == "pid")
        lease.pid = static_cast<int>(*number);
      else if (key == "created")
        lease.created_at = *number;
      else
        lease.expires_at = *number;
    }
  }
  for (const char* required : {"job", "created", "expires"}) {
    if (!seen.contains(std::string_view(required))) {
      result.error = std::string("'") + required + "' is missing";
      return result;
    }
  }
  if (lease.job.empty()) {
    result.error = "'job' is empty";
    return result;
  }
  // A control character (a '\r' left by an editor, a terminal escape) would reach log lines
  // and mails, and the next format_lease would not write the same lease back.
  const auto control = [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; };
  if (std::any_of(lease.job.begin(), lease.job.end(), control)) {
    result.error = "'job' contains a control character";
    return result;
  }
  if (std::any_of(lease.host.begin(), lease.host.end(), control)) {
    result.error = "'host' contains a control character";
    return result;
  }
  result.lease = std::move(lease);
  return result;
}

std::string lease_file_name(const Lease& lease, std::string_view nonce) {
  std::string slug;
  for (const char c : lease.job) {
    if (slug.size() >= kMaxSlug) break;
    const bool plain =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    slug += plain ? c : '_';
  }
  return std::to_string(lease.created_at) + "-" + slug + "-" + std::to_string(lease.pid) + "-" +
         std::string(nonce) + std::string(kLeaseSuffix);
}

bool is_lease_file_name(std::string_view name) {
  return name.size() > kLeaseSuffix.size() && name.front() != '.' && name.ends_with(kLeaseSuffix);
}

bool is_expired(const Lease& lease, std::int64_t now) { return now >= lease.expires_at; }

LeasesByExpiry split_by_expiry(std::vector<Lease> leases, std::int64_t now) {
  LeasesByExpiry out;
  for (auto& lease : leases) (is_expired(lease, now) ? out.expired : out.live).push_back(std::move(lease));
  return out;
}

std::map<std::string, int> count_by_job(const std::vector<Lease>& leases) {
  std::map<std::string, int> counts;
  for (const auto& lease : leases) ++counts[lease.job];
  return counts;
}

std::optional<Lease> lease_to_remove(const std::vector<Lease>& leases, std::string_view job) {
  const Lease* oldest = nullptr;
  for (const auto& lease : leases) {
    if (lease.job != job) continue;
    if (oldest == nullptr ||
        std::tie(lease.created_at, lease.file) < std::tie(oldest->created_at, oldest->file))
      oldest = &lease;
  }
  if (oldest == nullptr) return std::nullopt;
  return *oldest;
}

std::string summarize_jobs(const std::vector<Lease>& leases) {
  std::string out;
  for (const auto& [job, count] : count_by_job(leases)) {
    if (!out.empty()) out += ", ";
    out += "'" + job + "'";
    if (count > 1) out += " (" + std::to_string(count) + " leases)";
  }
  return out;
}

std::string describe_lease(const Lease& lease, std::int64_t now) {
  std::string out = "job '" + lease.job + "'";
  if (!lease.host.empty()) out += " from " + lease.host;
  if (lease.pid > 0) out += " (pid " + std::to_string(lease.pid) + ")";
  out += ", created " + format_utc(lease.created_at) + ", expire";
  if (is_expired(lease, now))
    out += "d " + format_utc(lease.expires_at) + " (" + format_duration(now - lease.expires_at) + " ago)";
  else
    out += "s " + format_utc(lease.expires_at) + " (in " + format_duration(lease.expires_at - now) + ")";
  return out;
}

}  // namespace ubc
