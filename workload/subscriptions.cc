// An account's monthly plan: started, perhaps upgraded mid-period (with a
// proration), then renewed, cancelled at period end, or lapsed after a
// failed payment.
#include "events/timestamp.h"
#include "workload/internal/account.h"

namespace tally::workload::internal {
namespace {

constexpr int64_t kPeriod = 30 * kDay;  // a monthly plan's period

struct Plan {
  const char* name;
  int64_t credits;
  int discount_percent;  // off the list price
};
constexpr Plan kBasic = {"basic-monthly", 1000, 10};
constexpr Plan kPro = {"pro-monthly", 4000, 20};

}  // namespace

int64_t AccountMonth::PlanPrice(int64_t credits, int discount_percent) const {
  return credits * market_.minor_per_100_credits / 100 * (100 - discount_percent) / 100;
}

Json AccountMonth::Period(int64_t from, int64_t credits, int64_t price,
                          const std::string& reference) {
  const int64_t tax = TaxIncluded(price, market_.tax_permille);
  Json period = Json::Object()
                    .Add("period_start", Text(FormatTimestamp(from)))
                    .Add("period_end", Text(FormatTimestamp(from + kPeriod)))
                    .Add("amount", MoneyJson(market_, price));
  if (tax > 0) {
    period.Add("tax", MoneyJson(market_, tax)).Add("tax_jurisdiction", Text(market_.jurisdiction));
  }
  return period.Add("credits", Text(std::to_string(credits)))
      .Add("provider", Text(market_.providers[0]))
      .Add("reference", Text(reference));
}

void AccountMonth::Subscribe() {
  const Plan* plan = rng_.Chance(700) ? &kBasic : &kPro;
  const std::string id = "sub-" + account_;
  const int64_t start = CeilHour(opened_ + rng_.Between(kMinute, 2 * kHour));
  int n = 1;
  auto reference = [&] { return "in_" + id + "-" + std::to_string(n); };
  Add(start, Channel::kFact, "subscription_started",
      Json::Object()
          .Add("subscription_id", Text(id))
          .Add("plan", Text(plan->name))
          .Add("interval", Text("month"))
          .Add("first_period",
               Period(start, plan->credits, PlanPrice(plan->credits, plan->discount_percent),
                      reference())),
      "subscriptions");
  lots_.push_back({start, start + kPeriod, plan->credits * 100});
  if (plan == &kBasic && rng_.Chance(200)) {
    Upgrade(id, start + rng_.Between(3 * kDay, 20 * kDay), start + kPeriod, ++n);
    plan = &kPro;
  }
  const uint64_t fate = rng_.Below(100);
  for (int64_t period_start = start;; period_start += kPeriod) {
    const int64_t period_end = period_start + kPeriod;
    if (fate < 10) {  // cancelled during the period, ends with it
      Add(period_start + rng_.Between(5 * kDay, 25 * kDay), Channel::kFact,
          "subscription_cancelled",
          Json::Object()
              .Add("subscription_id", Text(id))
              .Add("at_period_end", Json::Bool(true))
              .Add("reason", Text("too expensive")),
          "subscriptions");
      Add(period_end, Channel::kFact, "subscription_expired",
          Json::Object().Add("subscription_id", Text(id)), "subscriptions");
      return;
    }
    if (period_end >= end_) return;
    if (fate < 20) {  // the renewal's charge fails; it lapses
      Add(period_end + 5 * kSecond, Channel::kFact, "subscription_payment_failed",
          Json::Object()
              .Add("subscription_id", Text(id))
              .Add("amount", MoneyJson(market_, PlanPrice(plan->credits, plan->discount_percent)))
              .Add("attempt", Json::Integer(1))
              .Add("reason", Text("card_declined: insufficient_funds")),
          "subscriptions");
      Add(period_end + 3 * kDay, Channel::kFact, "subscription_expired",
          Json::Object().Add("subscription_id", Text(id)), "subscriptions");
      return;
    }
    ++n;
    Add(period_end + 4 * kSecond, Channel::kFact, "subscription_renewed",
        Json::Object()
            .Add("subscription_id", Text(id))
            .Add("period", Period(period_end, plan->credits,
                                  PlanPrice(plan->credits, plan->discount_percent), reference())),
        "subscriptions");
    lots_.push_back({period_end + 4 * kSecond, period_end + kPeriod, plan->credits * 100});
  }
}

// Basic to pro at `at`: the difference for the rest of the period, now.
void AccountMonth::Upgrade(const std::string& id, int64_t at, int64_t period_end, int n) {
  const int64_t left = period_end - at;
  const int64_t price = PlanPrice(kPro.credits, kPro.discount_percent) -
                        PlanPrice(kBasic.credits, kBasic.discount_percent);
  // The part of the period left, rounded down (toward the customer).
  const int64_t proration = price * left / kPeriod;
  const int64_t credits = (kPro.credits - kBasic.credits) * left / kPeriod;
  const int64_t tax = TaxIncluded(proration, market_.tax_permille);
  Json data =
      Json::Object()
          .Add("subscription_id", Text(id))
          .Add("new_plan", Text(kPro.name))
          .Add("new_price", MoneyJson(market_, PlanPrice(kPro.credits, kPro.discount_percent)))
          .Add("new_credits_per_period", Text(std::to_string(kPro.credits)))
          .Add("effective_at", Text(FormatTimestamp(at)))
          .Add("proration_amount", MoneyJson(market_, proration));
  if (tax > 0) data.Add("proration_tax", MoneyJson(market_, tax));
  data.Add("proration_credits", Text(std::to_string(credits)))
      .Add("provider", Text(market_.providers[0]))
      .Add("reference", Text("in_" + id + "-" + std::to_string(n)));
  Add(at, Channel::kFact, "subscription_plan_changed", std::move(data), "subscriptions");
  lots_.push_back({at, period_end, credits * 100});
}

}  // namespace tally::workload::internal
