// The trial_balance projection: the balance of every ledger account and
// asset, one row each (zero balances have no row).
//   row key: ledger_account 0x00 asset      value: balance (smallest unit)
#include "projections/internal/all.h"
#include "projections/internal/row_codec.h"
#include "projections/reports.h"
#include "projections/store.h"

namespace tally {
namespace internal {
namespace {

class TrialBalance final : public Projection {
 public:
  std::string_view name() const override { return kTrialBalance; }
  bool keeps_snapshots() const override { return true; }
  bool Consumes(const LoggedEvent& event) const override { return !event.postings.empty(); }
  Status Apply(const LoggedEvent& event, Rows& rows) const override {
    for (const Posting& posting : event.postings) {
      std::string key = posting.account + '\0' + posting.asset;
      auto row = rows.Get(key);
      if (!row.ok()) return row.status();
      Int128 balance = 0;
      if (*row) {
        RowReader reader(**row, "trial_balance " + posting.account);
        balance = reader.Int();
        if (auto status = reader.Finish(); !status.ok()) return status;
      }
      balance += posting.amount;
      if (balance == 0) {
        rows.Delete(key);
      } else {
        rows.Put(key, RowBuilder().Add(balance).Take());
      }
    }
    return Status::Ok();
  }
};

}  // namespace

const Projection& TrialBalanceProjection() {
  static const TrialBalance kProjection;
  return kProjection;
}

}  // namespace internal

Result<std::vector<TrialBalanceLine>> ReadTrialBalance(const ProjectionStore& store,
                                                       const LogRange& range) {
  auto rows = store.RowsAsOf(internal::kTrialBalance, range);
  if (!rows.ok()) return rows.status();
  TrialBalanceBuilder builder;
  for (const auto& [key, value] : *rows) {
    size_t split = key.find('\0');
    internal::RowReader reader(value, "trial_balance " + key.substr(0, split));
    Posting posting{key.substr(0, split), key.substr(split + 1), reader.Int()};
    if (auto status = reader.Finish(); !status.ok()) return status;
    builder.Add({posting});
  }
  return builder.Finish();
}

}  // namespace tally
