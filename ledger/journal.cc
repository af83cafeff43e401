#include "ledger/journal.h"

#include "events/check.h"

namespace tally {

std::map<std::string, Int128> SumByAsset(const Postings& postings) {
  std::map<std::string, Int128> sums;
  for (const Posting& posting : postings) {
    Int128& sum = sums[posting.asset];
    try {
      sum += posting.amount;
    } catch (const std::overflow_error&) {
      TALLY_FAIL("amount overflow summing postings of " + posting.asset);
    }
  }
  return sums;
}

bool IsBalanced(const Postings& postings) {
  for (const auto& [asset, sum] : SumByAsset(postings)) {
    if (sum != 0) return false;
  }
  return true;
}

void TrialBalanceBuilder::Add(const Postings& postings) {
  for (const Posting& posting : postings) sums_[{posting.account, posting.asset}] += posting.amount;
}

Result<std::vector<TrialBalanceLine>> TrialBalanceBuilder::Finish() const {
  std::vector<TrialBalanceLine> lines;
  std::map<std::string, Int128> per_asset;
  for (const auto& [key, balance] : sums_) {
    per_asset[key.second] += balance;
    if (balance != 0) lines.push_back({key.first, key.second, balance});
  }
  for (const auto& [asset, total] : per_asset) {
    if (total != 0) {
      return Status::Corruption("trial balance of " + asset + " is " + FormatAmount(asset, total) +
                                ", not zero");
    }
  }
  return lines;
}

std::string FormatAmount(const std::string& asset, const Int128& amount) {
  if (asset == kCreditsAsset) return Credits::FromMicros(amount).ToString();
  auto currency = Currency::Parse(asset);
  TALLY_CHECK(currency.ok());
  return Money::FromMinor(*currency, amount).ToString();
}

namespace accounts {
std::string CustomerAvailable(std::string_view account) {
  return "customer:" + std::string(account) + ":available";
}
std::string CustomerHeld(std::string_view account) {
  return "customer:" + std::string(account) + ":held";
}
std::string CustomerReceivable(std::string_view account) {
  return "customer:" + std::string(account) + ":receivable";
}
std::string Cash(std::string_view provider) { return "cash:" + std::string(provider); }
std::string TaxPayable(std::string_view jurisdiction) {
  return "tax_payable:" + std::string(jurisdiction.empty() ? "unspecified" : jurisdiction);
}
}  // namespace accounts

}  // namespace tally
