// ReadSubscriptions and ReadTasks: folds over subscription and task events.
#include <map>

#include "projections/reports.h"

namespace tally {
namespace {

std::string Text(capnp::Text::Reader text) { return {text.begin(), text.size()}; }

Money NetOf(schema::Money::Reader amount, bool has_tax, schema::Money::Reader tax) {
  Money gross = *Money::Parse(Text(amount.getCurrency()), Text(amount.getValue()));
  if (!has_tax) return gross;
  return gross - *Money::Parse(Text(tax.getCurrency()), Text(tax.getValue()));
}

Money MonthlyOf(const SubscriptionRow& row) {
  if (row.interval != "year") return row.net_price;
  Int128 monthly = DivideRounded(row.net_price.minor_units(), 12, RoundingMode::kHalfEven);
  return Money::FromMinor(row.net_price.currency(), monthly);
}

bool Contributes(const SubscriptionRow& row) {
  return row.status == "active" || row.status == "cancelling" || row.status == "past_due";
}

// Applies one subscription event to the row of its subscription.
void ApplySubscription(const schema::Event::Reader& e,
                       std::map<std::string, SubscriptionRow>& rows) {
  using S = schema::Event;
  switch (e.which()) {
    case S::SUBSCRIPTION_STARTED: {
      auto s = e.getSubscriptionStarted();
      auto p = s.getFirstPeriod();
      rows.insert_or_assign(
          Text(s.getSubscriptionId()),
          SubscriptionRow{Text(s.getSubscriptionId()), Text(e.getAccount()), Text(s.getPlan()),
                          "active",
                          s.getInterval() == schema::BillingInterval::YEAR ? "year" : "month",
                          NetOf(p.getAmount(), p.hasTax(), p.getTax()),
                          p.getPeriodEnd().getUnixMicros(), Money::Zero(*Currency::Parse("USD"))});
      return;
    }
    case S::SUBSCRIPTION_RENEWED: {
      SubscriptionRow& row = rows.at(Text(e.getSubscriptionRenewed().getSubscriptionId()));
      auto p = e.getSubscriptionRenewed().getPeriod();
      row.net_price = NetOf(p.getAmount(), p.hasTax(), p.getTax());
      row.period_end_micros = p.getPeriodEnd().getUnixMicros();
      if (row.status == "past_due") row.status = "active";
      return;
    }
    case S::SUBSCRIPTION_PLAN_CHANGED: {
      auto c = e.getSubscriptionPlanChanged();
      SubscriptionRow& row = rows.at(Text(c.getSubscriptionId()));
      row.plan = Text(c.getNewPlan());
      row.net_price =
          *Money::Parse(Text(c.getNewPrice().getCurrency()), Text(c.getNewPrice().getValue()));
      return;
    }
    case S::SUBSCRIPTION_CANCELLED:
      rows.at(Text(e.getSubscriptionCancelled().getSubscriptionId())).status =
          e.getSubscriptionCancelled().getAtPeriodEnd() ? "cancelling" : "cancelled";
      return;
    case S::SUBSCRIPTION_EXPIRED:
      rows.at(Text(e.getSubscriptionExpired().getSubscriptionId())).status = "expired";
      return;
    case S::SUBSCRIPTION_PAYMENT_FAILED:
      rows.at(Text(e.getSubscriptionPaymentFailed().getSubscriptionId())).status = "past_due";
      return;
    default: return;
  }
}

}  // namespace

Result<SubscriptionReport> ReadSubscriptions(const Ledger& ledger, const LogRange& range) {
  std::map<std::string, SubscriptionRow> rows;  // by subscription id
  auto status = FoldLog(ledger, range, [&](const LoggedEvent& event) {
    ApplySubscription(event.event.reader(), rows);
  });
  if (!status.ok()) return status;
  SubscriptionReport report;
  std::map<std::string, RecurringRevenue> totals;
  for (auto& [id, row] : rows) {
    row.mrr = Contributes(row) ? MonthlyOf(row) : Money::Zero(row.net_price.currency());
    std::string currency(row.net_price.currency().code());
    auto [it, added] = totals.try_emplace(
        currency, RecurringRevenue{currency, Money::Zero(row.net_price.currency()),
                                   Money::Zero(row.net_price.currency()), 0});
    if (Contributes(row)) {
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

Result<TaskReport> ReadTasks(const Ledger& ledger, const LogRange& range) {
  std::map<std::string, ModelUsage> models;
  std::map<std::pair<std::string, std::string>, OpenHold> holds;  // (account, task)
  std::map<std::pair<std::string, std::string>, std::string> task_models;
  auto status = FoldLog(ledger, range, [&](const LoggedEvent& logged) {
    auto e = logged.event.reader();
    std::string account = Text(e.getAccount());
    switch (e.which()) {
      case schema::Event::TASK_SUBMITTED:
        task_models[{account, Text(e.getTaskSubmitted().getTaskId())}] =
            Text(e.getTaskSubmitted().getModel());
        break;
      case schema::Event::HOLD_ACCEPTED: {
        auto h = e.getHoldAccepted();
        holds[{account, Text(h.getTaskId())}] = {account, Text(h.getTaskId()),
                                                 *Credits::Parse(Text(h.getCredits())),
                                                 h.getExpiresAt().getUnixMicros(), logged.seq};
        break;
      }
      case schema::Event::TASK_SUCCEEDED: {
        auto t = e.getTaskSucceeded();
        std::string model = Text(t.getModel());
        if (model.empty()) model = task_models[{account, Text(t.getTaskId())}];
        ModelUsage& usage = models[model];
        usage.model = model;
        ++usage.tasks;
        usage.credits += *Credits::Parse(Text(t.getCost()));
        holds.erase({account, Text(t.getTaskId())});
        break;
      }
      case schema::Event::TASK_FAILED:
        holds.erase({account, Text(e.getTaskFailed().getTaskId())});
        break;
      case schema::Event::TASK_CANCELLED:
        holds.erase({account, Text(e.getTaskCancelled().getTaskId())});
        break;
      case schema::Event::RESERVATION_EXPIRED:
        holds.erase({account, Text(e.getReservationExpired().getTaskId())});
        break;
      case schema::Event::USAGE_RECORDED: {
        auto u = e.getUsageRecorded();
        ModelUsage& usage = models[Text(u.getModel())];
        usage.model = Text(u.getModel());
        ++usage.usage_events;
        usage.credits += *Credits::Parse(Text(u.getCredits()));
        break;
      }
      default: break;
    }
  });
  if (!status.ok()) return status;
  TaskReport report;
  for (auto& [model, usage] : models) report.models.push_back(usage);
  for (auto& [key, hold] : holds) report.open_holds.push_back(hold);
  std::sort(report.open_holds.begin(), report.open_holds.end(),
            [](const OpenHold& a, const OpenHold& b) { return a.seq < b.seq; });
  return report;
}

}  // namespace tally
