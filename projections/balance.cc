#include "projections/balance.h"

namespace tally {

AccountBalance ReadBalance(const Ledger& ledger, const std::string& account) {
  AccountView view = ledger.Account(account);
  return {account, view.available, view.held, view.receivable, view.version};
}

std::vector<AccountBalance> ReadAllBalances(const Ledger& ledger) {
  std::vector<AccountBalance> balances;
  for (const std::string& account : ledger.Accounts()) {
    balances.push_back(ReadBalance(ledger, account));
  }
  return balances;
}

}  // namespace tally
