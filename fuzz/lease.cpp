// SPDX-License-Identifier: MIT
// A Veeam lease file: anyone who can write the lease directory controls its content. A
// lease that parses must survive format_lease and parse_lease unchanged.
#include <cstdint>
#include <string>

#include "core/lease.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ubc::LeaseParse parsed = ubc::parse_lease(ubc::fuzz::as_text(data, size), "x.lease");
  if (!parsed.lease) {
    UBC_FUZZ_CHECK(!parsed.error.empty());
    return 0;
  }
  const ubc::Lease& lease = *parsed.lease;
  (void)ubc::describe_lease(lease, 1800000000);
  (void)ubc::is_expired(lease, 1800000000);
  (void)ubc::lease_file_name(lease, "1a2b3c4d");
  (void)ubc::summarize_jobs({lease, lease});
  const ubc::LeaseParse again = ubc::parse_lease(ubc::format_lease(lease), "x.lease");
  UBC_FUZZ_CHECK(again.lease.has_value());
  UBC_FUZZ_CHECK(again.lease->job == lease.job && again.lease->host == lease.host &&
                 again.lease->pid == lease.pid && again.lease->created_at == lease.created_at &&
                 again.lease->expires_at == lease.expires_at);
  return 0;
}
