// Balances: the credits an account can spend.
//
// Walking-skeleton projection: computed on demand from the account's events
// (top_up_settled and credits_granted add, usage_recorded subtracts). The
// ledger-core issue replaces it with lots, holds and receivables; the
// function's shape stays.
#pragma once

#include <string>
#include <vector>

#include "events/money.h"
#include "events/status.h"
#include "ledger/ledger.h"

namespace tally {

struct AccountBalance {
  std::string account;
  Credits available;
  uint64_t last_seq = 0;  // seq of the account's last event (0: no events)
};

// The balance of `account`. An account with no events has zero credits.
Result<AccountBalance> ReadBalance(const Ledger& ledger, const std::string& account);

// The balances of every account that has events, sorted by account.
Result<std::vector<AccountBalance>> ReadAllBalances(const Ledger& ledger);

}  // namespace tally
