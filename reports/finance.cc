#include "reports/finance.h"

#include "events/timestamp.h"

namespace tally {
namespace {

using Kind = Column::Kind;

}  // namespace

Report BalancesTable(const std::vector<AccountBalance>& balances, bool with_version) {
  Report report{{{"account"},
                 {"available_credits", Kind::kAmount},
                 {"held_credits", Kind::kAmount},
                 {"receivable_credits", Kind::kAmount},
                 {"version", Kind::kInteger}},
                {}};
  for (const AccountBalance& balance : balances) {
    report.rows.push_back({balance.account, balance.available.ToString(), balance.held.ToString(),
                           balance.receivable.ToString(),
                           with_version ? std::to_string(balance.version) : ""});
  }
  return report;
}

Report StatementTable(const std::vector<StatementLine>& lines) {
  Report report{{{"seq", Kind::kInteger},
                 {"recorded_at"},
                 {"type"},
                 {"bucket"},
                 {"change", Kind::kAmount},
                 {"available", Kind::kAmount},
                 {"held", Kind::kAmount},
                 {"receivable", Kind::kAmount}},
                {}};
  for (const StatementLine& line : lines) {
    report.rows.push_back({std::to_string(line.seq), FormatTimestamp(line.recorded_at_micros),
                           line.type, line.bucket, line.change.ToString(),
                           line.available.ToString(), line.held.ToString(),
                           line.receivable.ToString()});
  }
  return report;
}

Report TrialBalanceTable(const std::vector<TrialBalanceLine>& lines) {
  Report report{
      {{"ledger_account"}, {"asset"}, {"debit", Kind::kAmount}, {"credit", Kind::kAmount}}, {}};
  for (const TrialBalanceLine& line : lines) {
    bool debit = line.balance > 0;
    std::string amount = FormatAmount(line.asset, debit ? line.balance : Int128(-line.balance));
    report.rows.push_back({line.account, line.asset, debit ? amount : "", debit ? "" : amount});
  }
  return report;
}

Report RevenueTable(const std::vector<RevenueLine>& lines) {
  Report report{{{"currency"},
                 {"month"},
                 {"cash_in", Kind::kAmount},
                 {"tax", Kind::kAmount},
                 {"usage", Kind::kAmount},
                 {"subscription", Kind::kAmount},
                 {"breakage", Kind::kAmount},
                 {"refunds", Kind::kAmount},
                 {"deferred_end", Kind::kAmount},
                 {"chargebacks", Kind::kAmount},
                 {"refunds_payable", Kind::kAmount}},
                {}};
  for (const RevenueLine& l : lines) {
    report.rows.push_back({l.currency, l.month, l.cash_in.ToString(), l.tax.ToString(),
                           l.usage.ToString(), l.subscription.ToString(), l.breakage.ToString(),
                           l.refunds.ToString(), l.deferred_end.ToString(),
                           l.chargebacks.ToString(), l.refunds_payable.ToString()});
  }
  return report;
}

Report InvoicesTable(const std::vector<InvoiceRow>& rows) {
  Report report{{{"number"},
                 {"kind"},
                 {"account"},
                 {"issued_at"},
                 {"seq", Kind::kInteger},
                 {"corrects"},
                 {"currency"},
                 {"subtotal", Kind::kAmount},
                 {"tax", Kind::kAmount},
                 {"total", Kind::kAmount}},
                {}};
  for (const InvoiceRow& row : rows) {
    report.rows.push_back({row.number, row.kind, row.account, FormatTimestamp(row.issued_at_micros),
                           std::to_string(row.seq), row.invoice_number, row.currency, row.subtotal,
                           row.tax, row.total});
  }
  return report;
}

Report InvoiceLinesTable(const InvoiceDocument& document) {
  auto reader = document.event.reader();
  auto lines = document.row.kind == "invoice" ? reader.getInvoiceIssued().getLines()
                                              : reader.getCreditNoteIssued().getLines();
  Report report{{{"description"},
                 {"quantity", Kind::kAmount},
                 {"amount", Kind::kAmount},
                 {"tax", Kind::kAmount},
                 {"tax_jurisdiction"}},
                {}};
  for (auto line : lines) {
    report.rows.push_back({line.getDescription().cStr(), line.getQuantity().cStr(),
                           line.getAmount().getValue().cStr(), line.getTax().getValue().cStr(),
                           line.getTaxJurisdiction().cStr()});
  }
  return report;
}

Report SubscriptionsTable(const SubscriptionReport& report) {
  Report out{{{"subscription_id"},
              {"account"},
              {"plan"},
              {"status"},
              {"interval"},
              {"currency"},
              {"net_price", Kind::kAmount},
              {"period_end"},
              {"mrr", Kind::kAmount}},
             {}};
  for (const SubscriptionRow& row : report.subscriptions) {
    out.rows.push_back({row.subscription_id, row.account, row.plan, row.status, row.interval,
                        std::string(row.net_price.currency().code()), row.net_price.ToString(),
                        FormatTimestamp(row.period_end_micros), row.mrr.ToString()});
  }
  return out;
}

Report RecurringRevenueTable(const SubscriptionReport& report) {
  Report out{{{"currency"},
              {"subscriptions", Kind::kInteger},
              {"mrr", Kind::kAmount},
              {"arr", Kind::kAmount}},
             {}};
  for (const RecurringRevenue& t : report.totals) {
    out.rows.push_back(
        {t.currency, std::to_string(t.subscriptions), t.mrr.ToString(), t.arr.ToString()});
  }
  return out;
}

Report ModelUsageTable(const TaskReport& report) {
  Report out{{{"model"},
              {"tasks", Kind::kInteger},
              {"usage_events", Kind::kInteger},
              {"credits", Kind::kAmount}},
             {}};
  for (const ModelUsage& usage : report.models) {
    out.rows.push_back({usage.model, std::to_string(usage.tasks),
                        std::to_string(usage.usage_events), usage.credits.ToString()});
  }
  return out;
}

Report OpenHoldsTable(const TaskReport& report) {
  Report out{{{"account"},
              {"task_id"},
              {"held_credits", Kind::kAmount},
              {"expires_at"},
              {"seq", Kind::kInteger}},
             {}};
  for (const OpenHold& hold : report.open_holds) {
    out.rows.push_back({hold.account, hold.task_id, hold.credits.ToString(),
                        FormatTimestamp(hold.expires_at_micros), std::to_string(hold.seq)});
  }
  return out;
}

Report LotsTable() {
  return Report{{{"account"},
                 {"lot_id"},
                 {"kind"},
                 {"credits", Kind::kAmount},
                 {"expires_at"},
                 {"currency"},
                 {"deferred", Kind::kAmount},
                 {"unit_price", Kind::kAmount},
                 {"created_seq", Kind::kInteger}},
                {}};
}

void AddLots(const std::string& account, const std::vector<LotView>& lots, Report& table) {
  for (const LotView& lot : lots) {
    std::string currency;
    std::string deferred;
    std::string unit_price;
    if (lot.deferred) {
      currency = std::string(lot.deferred->currency().code());
      deferred = lot.deferred->ToString();
      unit_price = UnitPrice::Of(*lot.deferred, lot.credits).ToString();
    }
    table.rows.push_back(
        {account, lot.id, lot.kind, lot.credits.ToString(),
         lot.expires_at_micros == 0 ? "never" : FormatTimestamp(lot.expires_at_micros), currency,
         deferred, unit_price, std::to_string(lot.created_seq)});
  }
}

}  // namespace tally
