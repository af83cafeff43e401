#include "ledger/journal.h"

namespace tally {

std::map<std::string, Int128> SumByAsset(const Postings& postings) {
  std::map<std::string, Int128> sums;
  for (const Posting& posting : postings) {
    Int128& sum = sums[posting.asset];
    try {
      sum += posting.amount;
    } catch (const std::overflow_error&) {
      throw MoneyError("amount overflow summing postings of " + posting.asset);
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
