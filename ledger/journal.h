// Double entry: the journal entry each value-moving event becomes.
//
// A posting moves an amount of one asset on one ledger account. Amounts are
// signed integers in the asset's smallest unit (micro-credits for credits,
// minor units for money): positive is a debit, negative a credit. An entry
// is balanced when, per asset, its postings sum to zero; the ledger asserts
// that for every entry it writes, and the trial balance over all entries is
// therefore zero for every asset at every seq.
//
// Chart of accounts (docs/ledger.md):
//   customer:{id}:available   credits  liability: credits the customer can spend
//   customer:{id}:held        credits  liability: reserved for running tasks
//   customer:{id}:receivable  credits  asset: credits consumed beyond the balance
//   platform:issued | consumed | expired | promotional   credits counterparties
//   cash:{provider}           money    asset
//   deferred_revenue          money    liability: paid, not yet earned
//   revenue:usage | subscription | breakage | refunds    money income (refunds: contra)
//   tax_payable:{jurisdiction} money   liability
//   chargebacks               money    disputed money held by the provider
//   refunds_payable           money    liability: money owed back to a customer
#pragma once

#include <map>
#include <string>
#include <vector>

#include "events/money.h"
#include "events/status.h"

namespace tally {

inline constexpr const char* kCreditsAsset = "credits";

struct Posting {
  std::string account;  // e.g. "customer:acct-1:available"
  std::string asset;    // "credits" or an ISO-4217 code
  Int128 amount;        // smallest unit; > 0 debit, < 0 credit; never 0
  friend bool operator==(const Posting&, const Posting&) = default;
};

using Postings = std::vector<Posting>;

// Per asset, the sum of the postings (0 for every asset when balanced).
std::map<std::string, Int128> SumByAsset(const Postings& postings);
bool IsBalanced(const Postings& postings);

struct TrialBalanceLine {
  std::string account;
  std::string asset;
  Int128 balance;  // debits - credits
};

// Sums journal entries per ledger account and asset.
class TrialBalanceBuilder {
 public:
  void Add(const Postings& postings);
  // The non-zero balances, sorted by account and asset; Corruption if an
  // asset does not sum to zero.
  Result<std::vector<TrialBalanceLine>> Finish() const;

 private:
  std::map<std::pair<std::string, std::string>, Int128> sums_;
};

// The amount as an exact decimal in the asset's unit: "-12.500000" credits, "10.50" USD.
std::string FormatAmount(const std::string& asset, const Int128& amount);

namespace accounts {
std::string CustomerAvailable(std::string_view account);
std::string CustomerHeld(std::string_view account);
std::string CustomerReceivable(std::string_view account);
std::string Cash(std::string_view provider);
std::string TaxPayable(std::string_view jurisdiction);  // "unspecified" when empty
inline constexpr const char* kIssued = "platform:issued";
inline constexpr const char* kConsumed = "platform:consumed";
inline constexpr const char* kExpired = "platform:expired";
inline constexpr const char* kPromotional = "platform:promotional";
inline constexpr const char* kDeferredRevenue = "deferred_revenue";
inline constexpr const char* kRevenueUsage = "revenue:usage";
inline constexpr const char* kRevenueSubscription = "revenue:subscription";
inline constexpr const char* kRevenueBreakage = "revenue:breakage";
inline constexpr const char* kRevenueRefunds = "revenue:refunds";
inline constexpr const char* kChargebacks = "chargebacks";
inline constexpr const char* kRefundsPayable = "refunds_payable";
}  // namespace accounts

}  // namespace tally
