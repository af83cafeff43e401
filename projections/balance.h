// Balances: what an account can spend, what is held for running tasks, and
// what it owes (consumed beyond its balance), now or as of a past point.
#pragma once

#include <string>
#include <vector>

#include "events/money.h"
#include "projections/log_range.h"

namespace tally {

class ProjectionStore;

struct AccountBalance {
  std::string account;
  Credits available;
  Credits held;
  Credits receivable;
  uint64_t version = 0;  // producer events appended for the account; 0 for a past point
};

// The balance of `account` at the end of `range`: the balances projection
// when the range reaches its checkpoint, else the last statement line in
// the range. An account with no events has zero credits.
Result<AccountBalance> ReadBalance(const ProjectionStore& store, const std::string& account,
                                   const LogRange& range = {});

// The balances of every account with events, sorted by account.
Result<std::vector<AccountBalance>> ReadAllBalances(const ProjectionStore& store,
                                                    const LogRange& range = {});

}  // namespace tally
