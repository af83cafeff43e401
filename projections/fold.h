// Reading a prefix of the log: the basis of every report and of "as of"
// queries. A report is a pure function of the events it folds, so folding
// the same prefix always gives the same figures.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>

#include "events/status.h"
#include "ledger/ledger.h"

namespace tally {

// Which prefix of the log to read: events with seq <= at_seq and
// recorded_at <= as_of_micros (both inclusive).
struct LogRange {
  uint64_t at_seq = std::numeric_limits<uint64_t>::max();
  int64_t as_of_micros = std::numeric_limits<int64_t>::max();
  bool Contains(const LoggedEvent& event) const {
    return event.seq <= at_seq && event.recorded_at_micros <= as_of_micros;
  }
};

// Visits every event of `range` in seq order.
Status FoldLog(const Ledger& ledger, const LogRange& range,
               const std::function<void(const LoggedEvent&)>& visit);

// Visits every event of `account` in `range`, in seq order.
Status FoldAccount(const Ledger& ledger, const std::string& account, const LogRange& range,
                   const std::function<void(const LoggedEvent&)>& visit);

}  // namespace tally
