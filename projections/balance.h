// Balances: what an account can spend, what is held for running tasks, and
// what it owes (consumed beyond its balance). Read from the ledger's state.
#pragma once

#include <string>
#include <vector>

#include "events/money.h"
#include "ledger/ledger.h"

namespace tally {

struct AccountBalance {
  std::string account;
  Credits available;
  Credits held;
  Credits receivable;
  uint64_t version = 0;  // producer events appended for the account
};

// The balance of `account`. An account with no events has zero credits.
AccountBalance ReadBalance(const Ledger& ledger, const std::string& account);

// The balances of every account that has events, sorted by account.
std::vector<AccountBalance> ReadAllBalances(const Ledger& ledger);

}  // namespace tally
