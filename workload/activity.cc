// An account's credits (the model) and its payments: top-ups, refunds,
// disputes.
#include <algorithm>

#include "events/timestamp.h"
#include "workload/internal/account.h"

namespace tally::workload::internal {
namespace {

// Lots the model treats as gone this long before they expire: the ledger
// decides at the time an event is recorded, which may be a little later.
constexpr int64_t kExpiryMargin = 2 * kHour;
constexpr int64_t kHoldSlack = 2 * kHour;

}  // namespace

// What the account can surely spend at `at`: lots not about to expire,
// less every hold until two hours after it ends (a path may decide it up
// to an hour late).
int64_t AccountMonth::Available(int64_t at) {
  ReleaseUntil(at);
  int64_t total = 0;
  for (const Lot& lot : lots_) {
    if (lot.starts <= at && at + kExpiryMargin < lot.expires) total += lot.centi;
  }
  for (const OpenTask& task : open_) total -= task.estimate;
  return total;
}

// What the account has at most at `at`: every lot, none expired or held.
int64_t AccountMonth::Ceiling(int64_t at) const {
  int64_t total = 0;
  for (const Lot& lot : lots_) {
    if (lot.starts <= at) total += lot.centi;
  }
  return total;
}

// Earliest expiry first, like the ledger's burn order.
void AccountMonth::Burn(int64_t at, int64_t centi) {
  std::stable_sort(lots_.begin(), lots_.end(),
                   [](const Lot& a, const Lot& b) { return a.expires < b.expires; });
  for (Lot& lot : lots_) {
    if (centi == 0) break;
    if (lot.starts > at || lot.expires <= at) continue;
    const int64_t taken = std::min(centi, lot.centi);
    lot.centi -= taken;
    centi -= taken;
  }
}

void AccountMonth::ReleaseUntil(int64_t at) {
  for (OpenTask& task : open_) {
    if (task.releases <= at && !task.burned) {
      Burn(task.releases, task.cost);
      task.burned = true;
    }
  }
  std::erase_if(open_, [&](const OpenTask& task) { return task.releases + kHoldSlack <= at; });
}

// A refund claws its credits back only if they are surely there when it
// is decided; otherwise the customer spent them and there is no refund.
void AccountMonth::SettleRefunds(int64_t until) {
  std::vector<PendingRefund> later;
  for (PendingRefund& refund : refunds_) {
    if (refund.at > until) {
      later.push_back(std::move(refund));
    } else if (Available(refund.at) >= refund.credits * 100) {
      Add(refund.at, Channel::kFact, "refund_issued", std::move(refund.data), "payments");
      Burn(refund.at, refund.credits * 100);
    }
  }
  refunds_ = std::move(later);
}

void AccountMonth::TopUp(int64_t at, int64_t credits) {
  const int64_t gross = credits * market_.minor_per_100_credits / 100;
  const int64_t tax = TaxIncluded(gross, market_.tax_permille);
  const char* provider = market_.providers[1] != nullptr && rng_.Chance(500) ? market_.providers[1]
                                                                             : market_.providers[0];
  const std::string reference = std::string(provider == std::string("stripe") ? "pi_" : "T") +
                                account_ + "-" + std::to_string(++payments_);
  Json data = Json::Object()
                  .Add("provider", Text(provider))
                  .Add("reference", Text(reference))
                  .Add("amount", MoneyJson(market_, gross));
  if (tax > 0) {
    data.Add("tax", MoneyJson(market_, tax)).Add("tax_jurisdiction", Text(market_.jurisdiction));
  }
  data.Add("credits", Text(std::to_string(credits)))
      .Add("legal_entity", Text(market_.legal_entity));
  Add(at, Channel::kFact, "top_up_settled", std::move(data), "payments");
  lots_.push_back({at, INT64_MAX, credits * 100});
  if (persona_.chargeback && payments_ == 1) {
    Add(at + 3 * kDay, Channel::kFact, "chargeback_opened",
        Json::Object()
            .Add("chargeback_id", Text("du_" + reference))
            .Add("payment_reference", Text(reference))
            .Add("provider", Text(provider))
            .Add("amount", MoneyJson(market_, gross))
            .Add("reason", Text("fraudulent")),
        "payments");
    Add(at + 9 * kDay, Channel::kFact, "chargeback_resolved",
        Json::Object()
            .Add("chargeback_id", Text("du_" + reference))
            .Add("outcome", Text(persona_.chargeback_won ? "won" : "lost")),
        "payments");
  } else if (rng_.Below(1000) < static_cast<uint64_t>(persona_.refund_permille) && payments_ == 1) {
    // Withdrawal within the cooling-off period: half the pack, unused.
    const int64_t back = gross / 2;
    Json refund = Json::Object()
                      .Add("refund_id", Text("re_" + reference))
                      .Add("payment_reference", Text(reference))
                      .Add("provider", Text(provider))
                      .Add("amount", MoneyJson(market_, back));
    if (tax > 0) refund.Add("tax", MoneyJson(market_, tax / 2));
    refund.Add("credits", Text(std::to_string(credits / 2)))
        .Add("reason", Text("withdrawal within 14 days, credits unused"));
    refunds_.push_back({at + kHour, credits / 2, std::move(refund)});
  }
}

bool AccountMonth::TopUpFor(int64_t at, int64_t needed) {
  if (!persona_.pays) return false;
  int64_t credits = persona_.pack_credits;
  while (credits * 100 < needed) credits *= 2;
  TopUp(at - rng_.Between(20, 90) * kSecond, credits);
  return true;
}

}  // namespace tally::workload::internal
