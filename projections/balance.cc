#include "projections/balance.h"

#include <map>

namespace tally {
namespace {

Credits ParseStored(capnp::Text::Reader text) {
  // Stored amounts passed validation and are canonical.
  auto credits = Credits::Parse({text.begin(), text.size()});
  TALLY_CHECK(credits.ok());
  return *credits;
}

// Applies one event to `balance`.
void Apply(const Event& event, AccountBalance* balance) {
  auto reader = event.reader();
  switch (reader.which()) {
    case schema::Event::TOP_UP_SETTLED:
      balance->available += ParseStored(reader.getTopUpSettled().getCredits());
      break;
    case schema::Event::CREDITS_GRANTED:
      balance->available += ParseStored(reader.getCreditsGranted().getCredits());
      break;
    case schema::Event::USAGE_RECORDED:
      balance->available -= ParseStored(reader.getUsageRecorded().getCredits());
      break;
    default: break;
  }
  balance->last_seq = reader.getSeq();
}

}  // namespace

Result<AccountBalance> ReadBalance(const Ledger& ledger, const std::string& account) {
  AccountBalance balance{account, Credits(), 0};
  auto status = ledger.ScanAccount(account, [&](const Event& event) {
    Apply(event, &balance);
    return true;
  });
  if (!status.ok()) return status;
  return balance;
}

Result<std::vector<AccountBalance>> ReadAllBalances(const Ledger& ledger) {
  std::map<std::string, AccountBalance> by_account;
  auto status = ledger.Scan(1, [&](const Event& event) {
    auto account = event.reader().getAccount();
    std::string name(account.begin(), account.size());
    auto [it, inserted] = by_account.try_emplace(name, AccountBalance{name, Credits(), 0});
    Apply(event, &it->second);
    return true;
  });
  if (!status.ok()) return status;
  std::vector<AccountBalance> balances;
  for (auto& [name, balance] : by_account) balances.push_back(std::move(balance));
  return balances;
}

}  // namespace tally
