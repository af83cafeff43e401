// A prefix of the log: what every "as of" question reads. Reports are pure
// functions of the events in the prefix, so the same prefix always gives the
// same figures.
#pragma once

#include <cstdint>
#include <limits>

#include "events/status.h"
#include "ledger/ledger.h"

namespace tally {

// Events with seq <= at_seq and recorded_at <= as_of_micros (both
// inclusive). recorded_at never decreases along the log, so this is always
// a prefix.
struct LogRange {
  uint64_t at_seq = std::numeric_limits<uint64_t>::max();
  int64_t as_of_micros = std::numeric_limits<int64_t>::max();
  bool Contains(const LoggedEvent& event) const {
    return event.seq <= at_seq && event.recorded_at_micros <= as_of_micros;
  }
};

// The last seq in `range` (0 if none): a binary search over recorded_at,
// reading about log2(head) records.
Result<uint64_t> LastSeqIn(const Log& log, const LogRange& range);

}  // namespace tally
