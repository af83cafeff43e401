// Account statement: every movement of a customer's credits, with running
// balances, in seq order.
#pragma once

#include <string>
#include <vector>

#include "events/money.h"
#include "projections/log_range.h"

namespace tally {

class ProjectionStore;

struct StatementLine {
  uint64_t seq = 0;
  int64_t recorded_at_micros = 0;
  std::string type;    // the event type
  std::string bucket;  // "available", "held" or "receivable"
  Credits change;      // what this event did to the bucket (+ adds)
  Credits available;   // running balances after the event
  Credits held;
  Credits receivable;
};

// The statement of `account` over `range`; lines before `from_micros`
// (recorded_at) are not listed but count in the running balances, so the
// first listed line shows the true balance.
Result<std::vector<StatementLine>> ReadStatement(const ProjectionStore& store,
                                                 const std::string& account, const LogRange& range,
                                                 int64_t from_micros = 0);

}  // namespace tally
