// The revenue projection: money per currency and month.
//   row key: 'm' currency 0x00 "YYYY-MM"    value: the month's sums (RevenueLine order)
//   row key: 'd' currency                   value: deferred revenue so far
#include <array>

#include "events/timestamp.h"
#include "projections/internal/all.h"
#include "projections/internal/row_codec.h"
#include "projections/reports.h"
#include "projections/store.h"

namespace tally {
namespace internal {
namespace {

// Running figures of one currency and month, in minor units, in the order
// of RevenueLine.
enum Sum {
  kCash,
  kTax,
  kUsage,
  kSubscription,
  kBreakage,
  kRefunds,
  kDeferredEnd,
  kChargebacks,
  kPayable,
  kSums
};
using MonthSums = std::array<Int128, kSums>;

std::string MonthOf(int64_t micros) { return FormatTimestamp(micros).substr(0, 7); }

Result<MonthSums> DecodeSums(std::string_view value, const std::string& key) {
  RowReader reader(value, "revenue " + key);
  MonthSums sums{};
  for (Int128& sum : sums) sum = reader.Int();
  if (auto status = reader.Finish(); !status.ok()) return status;
  return sums;
}

std::string EncodeSums(const MonthSums& sums) {
  RowBuilder builder;
  for (const Int128& sum : sums) builder.Add(sum);
  return builder.Take();
}

// Adds one money posting to `sums` (signs per docs/finance.md).
void AddPosting(const Posting& posting, MonthSums& sums, Int128& deferred) {
  const std::string& account = posting.account;
  const Int128& amount = posting.amount;
  if (account.starts_with("cash:")) sums[kCash] += amount;
  if (account.starts_with("tax_payable:")) sums[kTax] -= amount;
  if (account == accounts::kRevenueUsage) sums[kUsage] -= amount;
  if (account == accounts::kRevenueSubscription) sums[kSubscription] -= amount;
  if (account == accounts::kRevenueBreakage) sums[kBreakage] -= amount;
  if (account == accounts::kRevenueRefunds) sums[kRefunds] += amount;
  if (account == accounts::kChargebacks) sums[kChargebacks] += amount;
  if (account == accounts::kRefundsPayable) sums[kPayable] -= amount;
  if (account == accounts::kDeferredRevenue) deferred -= amount;
}

class Revenue final : public Projection {
 public:
  std::string_view name() const override { return kRevenue; }
  bool keeps_snapshots() const override { return true; }
  bool Consumes(const LoggedEvent& event) const override {
    for (const Posting& posting : event.postings) {
      if (posting.asset != kCreditsAsset) return true;
    }
    return false;
  }
  Status Apply(const LoggedEvent& event, Rows& rows) const override {
    const std::string month = MonthOf(EffectiveTime(event));
    for (const Posting& posting : event.postings) {
      if (posting.asset == kCreditsAsset) continue;
      const std::string month_key = 'm' + posting.asset + '\0' + month;
      const std::string deferred_key = 'd' + posting.asset;
      auto month_row = rows.Get(month_key);
      if (!month_row.ok()) return month_row.status();
      auto deferred_row = rows.Get(deferred_key);
      if (!deferred_row.ok()) return deferred_row.status();
      MonthSums sums{};
      if (*month_row) {
        auto decoded = DecodeSums(**month_row, month_key);
        if (!decoded.ok()) return decoded.status();
        sums = *decoded;
      }
      Int128 deferred = 0;
      if (*deferred_row) {
        RowReader reader(**deferred_row, "revenue deferred " + posting.asset);
        deferred = reader.Int();
        if (auto status = reader.Finish(); !status.ok()) return status;
      }
      AddPosting(posting, sums, deferred);
      sums[kDeferredEnd] = deferred;
      rows.Put(month_key, EncodeSums(sums));
      rows.Put(deferred_key, RowBuilder().Add(deferred).Take());
    }
    return Status::Ok();
  }
};

}  // namespace

const Projection& RevenueProjection() {
  static const Revenue kProjection;
  return kProjection;
}

}  // namespace internal

Result<std::vector<RevenueLine>> ReadRevenue(const ProjectionStore& store, const LogRange& range) {
  auto rows = store.RowsAsOf(internal::kRevenue, range);
  if (!rows.ok()) return rows.status();
  std::vector<RevenueLine> lines;
  for (const auto& [key, value] : *rows) {
    if (!key.starts_with('m')) continue;
    size_t split = key.find('\0');
    std::string code = key.substr(1, split - 1);
    auto currency = Currency::Parse(code);
    if (!currency.ok()) return Status::Corruption("revenue row " + code + ": not a currency");
    auto sums = internal::DecodeSums(value, key);
    if (!sums.ok()) return sums.status();
    auto money = [&](const Int128& minor) { return Money::FromMinor(*currency, minor); };
    using namespace internal;  // NOLINT(google-build-using-namespace): the Sum names
    const MonthSums& m = *sums;
    lines.push_back({code, key.substr(split + 1), money(m[kCash]), money(m[kTax]), money(m[kUsage]),
                     money(m[kSubscription]), money(m[kBreakage]), money(m[kRefunds]),
                     money(m[kDeferredEnd]), money(m[kChargebacks]), money(m[kPayable])});
  }
  return lines;
}

}  // namespace tally
