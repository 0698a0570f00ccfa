// SPDX-License-Identifier: MIT
// state-directory/stale-alerts: "UUID UNIX-TIME" lines that check-stale reads back.
#include <cstdint>

#include "core/stale.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ubc::StaleAlerts alerts = ubc::parse_stale_alerts(ubc::fuzz::as_text(data, size));
  UBC_FUZZ_CHECK(ubc::parse_stale_alerts(ubc::render_stale_alerts(alerts)) == alerts);
  return 0;
}
