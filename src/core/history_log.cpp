// SPDX-License-Identifier: MIT
#include "core/history_log.h"

namespace ubc {

std::string cap_run_log(std::string_view log, std::size_t limit) {
  if (log.size() <= limit) return std::string(log);
  std::size_t head = limit / 2;
  std::size_t tail_start = log.size() - (limit - head);
  // Whole lines where the cut allows: a line end in the last quarter of the head, and one
  // in the first quarter of the tail. Cutting at a line end also never splits a UTF-8
  // character; a log without line ends is cut where it is.
  if (const auto nl = head > 0 ? log.rfind('\n', head - 1) : std::string_view::npos;
      nl != std::string_view::npos && nl + 1 >= head - head / 4)
    head = nl + 1;
  if (const auto nl = log.find('\n', tail_start);
      nl != std::string_view::npos && nl + 1 <= tail_start + (log.size() - tail_start) / 4)
    tail_start = nl + 1;
  std::string out(log.substr(0, head));
  if (!out.empty() && out.back() != '\n') out += '\n';
  out += "[... " + std::to_string(tail_start - head) + " bytes left out ...]\n";
  out += log.substr(tail_start);
  return out;
}

}  // namespace ubc
