#include "projections/reports.h"

#include <map>

#include "events/timestamp.h"

namespace tally {
namespace {

std::string MonthOf(int64_t micros) { return FormatTimestamp(micros).substr(0, 7); }

// Running figures of one currency and month, in minor units.
struct MonthSums {
  Int128 cash, tax, usage, subscription, breakage, refunds, chargebacks, payable, deferred_end;
};

// Adds one money posting to `sums` (signs per docs/finance.md).
void AddPosting(const Posting& posting, MonthSums& sums, Int128& deferred) {
  const std::string& account = posting.account;
  const Int128& amount = posting.amount;
  if (account.starts_with("cash:")) sums.cash += amount;
  if (account.starts_with("tax_payable:")) sums.tax -= amount;
  if (account == accounts::kRevenueUsage) sums.usage -= amount;
  if (account == accounts::kRevenueSubscription) sums.subscription -= amount;
  if (account == accounts::kRevenueBreakage) sums.breakage -= amount;
  if (account == accounts::kRevenueRefunds) sums.refunds += amount;
  if (account == accounts::kChargebacks) sums.chargebacks += amount;
  if (account == accounts::kRefundsPayable) sums.payable -= amount;
  if (account == accounts::kDeferredRevenue) deferred -= amount;
}

std::string Text(capnp::Text::Reader text) { return {text.begin(), text.size()}; }

}  // namespace

Result<std::vector<TrialBalanceLine>> ReadTrialBalance(const Ledger& ledger,
                                                       const LogRange& range) {
  TrialBalanceBuilder builder;
  auto status =
      FoldLog(ledger, range, [&](const LoggedEvent& event) { builder.Add(event.postings); });
  if (!status.ok()) return status;
  return builder.Finish();
}

Result<std::vector<RevenueLine>> ReadRevenue(const Ledger& ledger, const LogRange& range) {
  std::map<std::pair<std::string, std::string>, MonthSums> months;  // (currency, month)
  std::map<std::string, Int128> deferred;                           // running, per currency
  auto status = FoldLog(ledger, range, [&](const LoggedEvent& event) {
    std::string month = MonthOf(EffectiveTime(event));
    for (const Posting& posting : event.postings) {
      if (posting.asset == kCreditsAsset) continue;
      MonthSums& sums = months[{posting.asset, month}];
      AddPosting(posting, sums, deferred[posting.asset]);
      sums.deferred_end = deferred[posting.asset];
    }
  });
  if (!status.ok()) return status;
  std::vector<RevenueLine> lines;
  for (const auto& [key, sums] : months) {
    Currency currency = *Currency::Parse(key.first);
    auto money = [&](const Int128& minor) { return Money::FromMinor(currency, minor); };
    lines.push_back({key.first, key.second, money(sums.cash), money(sums.tax), money(sums.usage),
                     money(sums.subscription), money(sums.breakage), money(sums.refunds),
                     money(sums.deferred_end), money(sums.chargebacks), money(sums.payable)});
  }
  return lines;
}

Result<std::vector<InvoiceRow>> ReadInvoices(const Ledger& ledger, const std::string& account,
                                             const LogRange& range) {
  std::vector<InvoiceRow> rows;
  auto visit = [&](const LoggedEvent& logged) {
    auto reader = logged.event.reader();
    std::string account_id = Text(reader.getAccount());
    if (reader.which() == schema::Event::INVOICE_ISSUED) {
      auto d = reader.getInvoiceIssued();
      rows.push_back({Text(d.getNumber()), "invoice", account_id, logged.seq,
                      logged.recorded_at_micros, Text(d.getSeries()), Text(d.getPaymentReference()),
                      "", Text(d.getTotal().getCurrency()), Text(d.getSubtotal().getValue()),
                      Text(d.getTax().getValue()), Text(d.getTotal().getValue()), logged.event});
    } else if (reader.which() == schema::Event::CREDIT_NOTE_ISSUED) {
      auto d = reader.getCreditNoteIssued();
      rows.push_back({Text(d.getNumber()), "credit_note", account_id, logged.seq,
                      logged.recorded_at_micros, Text(d.getSeries()), "",
                      Text(d.getInvoiceNumber()), Text(d.getTotal().getCurrency()),
                      Text(d.getSubtotal().getValue()), Text(d.getTax().getValue()),
                      Text(d.getTotal().getValue()), logged.event});
    }
  };
  auto status =
      account.empty() ? FoldLog(ledger, range, visit) : FoldAccount(ledger, account, range, visit);
  if (!status.ok()) return status;
  return rows;
}

}  // namespace tally
