#include "projections/log_range.h"

#include <algorithm>

namespace tally {

Result<uint64_t> LastSeqIn(const Log& log, const LogRange& range) {
  // Invariant: every seq <= low is in the range, every seq >= high is not.
  uint64_t low = 0;
  uint64_t high = std::min(log.head_seq(), range.at_seq) + 1;  // head < UINT64_MAX
  while (high - low > 1) {
    uint64_t mid = low + (high - low) / 2;
    int64_t recorded_at = 0;
    auto status = log.Scan(mid, [&](const LoggedEvent& event) {
      recorded_at = event.recorded_at_micros;
      return false;
    });
    if (!status.ok()) return status;
    (recorded_at <= range.as_of_micros ? low : high) = mid;
  }
  return low;
}

}  // namespace tally
