// Revenue against the journal: the check behind the `revenue` row of
// `tally audit verify` (docs/audit.md).
#include <array>
#include <map>

#include "projections/reports.h"

namespace tally {
namespace {

// The revenue report's figures, in the order of RevenueLine, without
// deferred_end (checked on its own).
enum Figure { kCash, kTax, kUsage, kSubscription, kBreakage, kRefunds, kChargebacks, kPayable, kN };
constexpr std::array<const char*, kN> kFigureNames = {
    "cash_in",  "tax",     "usage",       "subscription",
    "breakage", "refunds", "chargebacks", "refunds_payable"};
using Figures = std::array<Int128, kN>;

struct Totals {
  Figures figures{};
  Int128 deferred;  // deferred revenue: at the end of the last month, or in the journal
};

// The journal's balance of each report figure's accounts, signed as
// docs/finance.md signs the report.
void AddJournalLine(const TrialBalanceLine& line, Totals& totals) {
  Figures& f = totals.figures;
  const std::string& account = line.account;
  if (account.starts_with("cash:")) f[kCash] += line.balance;
  if (account.starts_with("tax_payable:")) f[kTax] -= line.balance;
  if (account == accounts::kRevenueUsage) f[kUsage] -= line.balance;
  if (account == accounts::kRevenueSubscription) f[kSubscription] -= line.balance;
  if (account == accounts::kRevenueBreakage) f[kBreakage] -= line.balance;
  if (account == accounts::kRevenueRefunds) f[kRefunds] += line.balance;
  if (account == accounts::kChargebacks) f[kChargebacks] += line.balance;
  if (account == accounts::kRefundsPayable) f[kPayable] -= line.balance;
  if (account == accounts::kDeferredRevenue) totals.deferred -= line.balance;
}

// REQUIRES: `lines` in report order (by currency, then month).
std::map<std::string, Totals> RevenueTotals(const std::vector<RevenueLine>& lines) {
  std::map<std::string, Totals> out;
  for (const RevenueLine& line : lines) {
    Totals& totals = out[line.currency];
    const std::array<const Money*, kN> month = {
        &line.cash_in,  &line.tax,     &line.usage,       &line.subscription,
        &line.breakage, &line.refunds, &line.chargebacks, &line.refunds_payable};
    for (int i = 0; i < kN; ++i) totals.figures[i] += month[i]->minor_units();
    totals.deferred = line.deferred_end.minor_units();  // the last month's wins
  }
  return out;
}

std::string Text(const std::string& currency, const Int128& minor) {
  auto parsed = Currency::Parse(currency);
  if (!parsed.ok()) return minor.str();
  return Money::FromMinor(*parsed, minor).ToString();
}

std::string Differs(const std::string& currency, const std::string& figure, const Int128& revenue,
                    const Int128& journal) {
  return currency + " " + figure + ": the revenue report says " + Text(currency, revenue) +
         ", the journal " + Text(currency, journal);
}

}  // namespace

Status ReconcileRevenue(const std::vector<RevenueLine>& revenue,
                        const std::vector<TrialBalanceLine>& journal) {
  std::map<std::string, Totals> from_report = RevenueTotals(revenue);
  std::map<std::string, Totals> from_journal;
  for (const TrialBalanceLine& line : journal) {
    if (line.asset != kCreditsAsset) AddJournalLine(line, from_journal[line.asset]);
  }
  for (const auto& [currency, ignored] : from_journal) from_report.try_emplace(currency);
  for (const auto& [currency, report] : from_report) {
    const Totals& books = from_journal[currency];
    for (int i = 0; i < kN; ++i) {
      if (report.figures[i] != books.figures[i]) {
        return Status::Corruption(
            Differs(currency, kFigureNames[i], report.figures[i], books.figures[i]));
      }
    }
    if (report.deferred != books.deferred) {
      return Status::Corruption(Differs(currency, "deferred revenue at the end of the last month",
                                        report.deferred, books.deferred));
    }
  }
  return Status::Ok();
}

}  // namespace tally
