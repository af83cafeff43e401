// The subscriptions projection and ReadSubscriptions.
#include <algorithm>
#include <map>
#include <optional>

#include "projections/internal/all.h"
#include "projections/internal/row_codec.h"
#include "projections/reports.h"
#include "projections/store.h"

namespace tally {
namespace internal {
namespace {

Money NetOf(schema::Money::Reader amount, bool has_tax, schema::Money::Reader tax) {
  Money gross = *Money::Parse(TextOf(amount.getCurrency()), TextOf(amount.getValue()));
  if (!has_tax) return gross;
  return gross - *Money::Parse(TextOf(tax.getCurrency()), TextOf(tax.getValue()));
}

Money MonthlyOf(const SubscriptionRow& row) {
  if (row.interval != "year") return row.net_price;
  Int128 monthly = DivideRounded(row.net_price.minor_units(), 12, RoundingMode::kHalfEven);
  return Money::FromMinor(row.net_price.currency(), monthly);
}

bool Contributes(const SubscriptionRow& row) {
  return row.status == "active" || row.status == "cancelling" || row.status == "past_due";
}

std::string EncodeSubscription(const SubscriptionRow& row) {
  return RowBuilder()
      .Add(row.account)
      .Add(row.plan)
      .Add(row.status)
      .Add(row.interval)
      .Add(row.net_price.currency().code())
      .Add(row.net_price.minor_units())
      .Add(row.period_end_micros)
      .Take();
}

Result<SubscriptionRow> DecodeSubscription(const std::string& id, std::string_view value) {
  RowReader reader(value, "subscriptions " + id);
  std::string account = reader.Text();
  std::string plan = reader.Text();
  std::string status = reader.Text();
  std::string interval = reader.Text();
  std::string currency = reader.Text();
  Int128 minor = reader.Int();
  int64_t period_end_micros = reader.I64();
  if (auto finished = reader.Finish(); !finished.ok()) return finished;
  auto parsed = Currency::Parse(currency);
  if (!parsed.ok()) return Status::Corruption("subscriptions " + id + ": bad currency");
  return SubscriptionRow{id,
                         std::move(account),
                         std::move(plan),
                         std::move(status),
                         std::move(interval),
                         Money::FromMinor(*parsed, minor),
                         period_end_micros,
                         Money::Zero(*parsed)};
}

// The subscription an event is about; empty for other events.
std::string SubscriptionIdOf(const schema::Event::Reader& e) {
  using S = schema::Event;
  switch (e.which()) {
    case S::SUBSCRIPTION_STARTED: return TextOf(e.getSubscriptionStarted().getSubscriptionId());
    case S::SUBSCRIPTION_RENEWED: return TextOf(e.getSubscriptionRenewed().getSubscriptionId());
    case S::SUBSCRIPTION_PLAN_CHANGED:
      return TextOf(e.getSubscriptionPlanChanged().getSubscriptionId());
    case S::SUBSCRIPTION_CANCELLED: return TextOf(e.getSubscriptionCancelled().getSubscriptionId());
    case S::SUBSCRIPTION_EXPIRED: return TextOf(e.getSubscriptionExpired().getSubscriptionId());
    case S::SUBSCRIPTION_PAYMENT_FAILED:
      return TextOf(e.getSubscriptionPaymentFailed().getSubscriptionId());
    default: return "";
  }
}

// Applies one subscription event to the row of its subscription (nullopt
// before subscription_started).
Status ApplySubscription(const schema::Event::Reader& e, std::optional<SubscriptionRow>& row) {
  using S = schema::Event;
  if (e.which() == S::SUBSCRIPTION_STARTED) {
    auto s = e.getSubscriptionStarted();
    auto p = s.getFirstPeriod();
    Money net = NetOf(p.getAmount(), p.hasTax(), p.getTax());
    row = SubscriptionRow{TextOf(s.getSubscriptionId()),
                          TextOf(e.getAccount()),
                          TextOf(s.getPlan()),
                          "active",
                          s.getInterval() == schema::BillingInterval::YEAR ? "year" : "month",
                          net,
                          p.getPeriodEnd().getUnixMicros(),
                          Money::Zero(net.currency())};
    return Status::Ok();
  }
  // The ledger rejects every other subscription event for an unknown id, so
  // only a damaged store lacks the row.
  if (!row) {
    return Status::Corruption("subscriptions: no row for " + SubscriptionIdOf(e) +
                              "; run `tally rebuild subscriptions`");
  }
  switch (e.which()) {
    case S::SUBSCRIPTION_RENEWED: {
      auto p = e.getSubscriptionRenewed().getPeriod();
      row->net_price = NetOf(p.getAmount(), p.hasTax(), p.getTax());
      row->period_end_micros = p.getPeriodEnd().getUnixMicros();
      if (row->status == "past_due") row->status = "active";
      return Status::Ok();
    }
    case S::SUBSCRIPTION_PLAN_CHANGED: {
      auto c = e.getSubscriptionPlanChanged();
      row->plan = TextOf(c.getNewPlan());
      row->net_price =
          *Money::Parse(TextOf(c.getNewPrice().getCurrency()), TextOf(c.getNewPrice().getValue()));
      return Status::Ok();
    }
    case S::SUBSCRIPTION_CANCELLED:
      row->status = e.getSubscriptionCancelled().getAtPeriodEnd() ? "cancelling" : "cancelled";
      return Status::Ok();
    case S::SUBSCRIPTION_EXPIRED: row->status = "expired"; return Status::Ok();
    case S::SUBSCRIPTION_PAYMENT_FAILED: row->status = "past_due"; return Status::Ok();
    default: return Status::Ok();
  }
}

// The subscriptions projection: one row per subscription, as its events
// leave it.   row key: subscription_id     value: SubscriptionRow fields
class Subscriptions final : public Projection {
 public:
  std::string_view name() const override { return kSubscriptions; }
  bool keeps_snapshots() const override { return true; }
  bool Consumes(const LoggedEvent& event) const override {
    return !SubscriptionIdOf(event.event.reader()).empty();
  }
  Status Apply(const LoggedEvent& event, Rows& rows) const override {
    auto e = event.event.reader();
    std::string id = SubscriptionIdOf(e);
    auto stored = rows.Get(id);
    if (!stored.ok()) return stored.status();
    std::optional<SubscriptionRow> row;
    if (*stored) {
      auto decoded = DecodeSubscription(id, **stored);
      if (!decoded.ok()) return decoded.status();
      row = std::move(decoded).value();
    }
    if (auto applied = ApplySubscription(e, row); !applied.ok()) return applied;
    rows.Put(id, EncodeSubscription(*row));
    return Status::Ok();
  }
};

}  // namespace

const Projection& SubscriptionsProjection() {
  static const Subscriptions kProjection;
  return kProjection;
}

}  // namespace internal

Result<SubscriptionReport> ReadSubscriptions(const ProjectionStore& store, const LogRange& range) {
  auto rows = store.RowsAsOf(internal::kSubscriptions, range);
  if (!rows.ok()) return rows.status();
  SubscriptionReport report;
  std::map<std::string, RecurringRevenue> totals;
  for (const auto& [id, value] : *rows) {
    auto decoded = internal::DecodeSubscription(id, value);
    if (!decoded.ok()) return decoded.status();
    SubscriptionRow row = std::move(decoded).value();
    row.mrr = internal::Contributes(row) ? internal::MonthlyOf(row)
                                         : Money::Zero(row.net_price.currency());
    std::string currency(row.net_price.currency().code());
    auto [it, added] = totals.try_emplace(
        currency, RecurringRevenue{currency, Money::Zero(row.net_price.currency()),
                                   Money::Zero(row.net_price.currency()), 0});
    if (internal::Contributes(row)) {
      it->second.mrr += row.mrr;
      ++it->second.subscriptions;
    }
    report.subscriptions.push_back(row);
  }
  for (auto& [currency, total] : totals) {
    total.arr = Money::FromMinor(total.mrr.currency(), total.mrr.minor_units() * 12);
    report.totals.push_back(total);
  }
  std::stable_sort(
      report.subscriptions.begin(), report.subscriptions.end(),
      [](const SubscriptionRow& a, const SubscriptionRow& b) { return a.account < b.account; });
  return report;
}

}  // namespace tally
