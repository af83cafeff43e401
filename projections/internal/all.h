// The built-in projections and what they share.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "events/event.h"
#include "ledger/journal.h"
#include "projections/projection.h"
#include "projections/statement.h"

namespace tally::internal {

inline constexpr std::string_view kBalances = "balances";
inline constexpr std::string_view kStatements = "statements";
inline constexpr std::string_view kInvoices = "invoices";
inline constexpr std::string_view kTrialBalance = "trial_balance";
inline constexpr std::string_view kRevenue = "revenue";
inline constexpr std::string_view kSubscriptions = "subscriptions";
inline constexpr std::string_view kTasks = "tasks";
inline constexpr std::string_view kAccesses = "accesses";

const Projection& BalancesProjection();
const Projection& StatementsProjection();
const Projection& InvoicesProjection();
const Projection& TrialBalanceProjection();
const Projection& RevenueProjection();
const Projection& SubscriptionsProjection();
const Projection& TasksProjection();
const Projection& AccessesProjection();

inline std::string TextOf(capnp::Text::Reader text) { return {text.begin(), text.size()}; }

// A customer's credit bucket a posting moves.
struct CustomerBucket {
  enum Kind { kAvailable = 0, kHeld = 1, kReceivable = 2 };
  std::string account;  // the customer
  Kind kind = kAvailable;
  // What the posting did to the bucket's balance: customer buckets are
  // liabilities (credit-normal) except the receivable, an asset.
  Int128 change;
};

// nullopt for postings on other ledger accounts.
std::optional<CustomerBucket> CustomerBucketOf(const Posting& posting);

const char* BucketName(CustomerBucket::Kind kind);

// Whether any posting moves a customer's credits.
bool TouchesCustomer(const LoggedEvent& event);

// The statement line that ends `range` for `account`: its running balances
// are the account's balances as of the range (statement.cc).
Result<std::optional<StatementLine>> LastStatementLine(const ProjectionStore& store,
                                                       const std::string& account,
                                                       const LogRange& range);

}  // namespace tally::internal
