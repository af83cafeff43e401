// The balances projection: each customer's credits now, one row each.
//   row key: account      value: available, held, receivable (micros), version
#include "projections/balance.h"

#include <map>

#include "projections/internal/all.h"
#include "projections/internal/row_codec.h"
#include "projections/store.h"

namespace tally {
namespace internal {

namespace {

Result<AccountBalance> DecodeBalance(const std::string& account, std::string_view value) {
  RowReader reader(value, "balances " + account);
  AccountBalance balance{account, Credits::FromMicros(reader.Int()),
                         Credits::FromMicros(reader.Int()), Credits::FromMicros(reader.Int()),
                         reader.U64()};
  if (auto status = reader.Finish(); !status.ok()) return status;
  return balance;
}

std::string EncodeBalance(const AccountBalance& balance) {
  return RowBuilder()
      .Add(balance.available.micros())
      .Add(balance.held.micros())
      .Add(balance.receivable.micros())
      .Add(balance.version)
      .Take();
}

class Balances final : public Projection {
 public:
  std::string_view name() const override { return kBalances; }
  bool keeps_snapshots() const override { return false; }
  bool Consumes(const LoggedEvent& event) const override {
    return TouchesCustomer(event) || CountsInVersion(event.event);
  }
  Status Apply(const LoggedEvent& event, Rows& rows) const override {
    std::map<std::string, AccountBalance> touched;
    auto load = [&](const std::string& account) -> Result<AccountBalance*> {
      auto it = touched.find(account);
      if (it != touched.end()) return &it->second;
      auto stored = rows.Get(account);
      if (!stored.ok()) return stored.status();
      AccountBalance balance{account, {}, {}, {}, 0};
      if (*stored) {
        auto decoded = DecodeBalance(account, **stored);
        if (!decoded.ok()) return decoded.status();
        balance = *decoded;
      }
      return &touched.emplace(account, balance).first->second;
    };
    if (CountsInVersion(event.event)) {
      auto balance = load(TextOf(event.event.reader().getAccount()));
      if (!balance.ok()) return balance.status();
      ++(*balance)->version;
    }
    for (const Posting& posting : event.postings) {
      auto bucket = CustomerBucketOf(posting);
      if (!bucket) continue;
      auto balance = load(bucket->account);
      if (!balance.ok()) return balance.status();
      Credits change = Credits::FromMicros(bucket->change);
      switch (bucket->kind) {
        case CustomerBucket::kAvailable: (*balance)->available += change; break;
        case CustomerBucket::kHeld: (*balance)->held += change; break;
        case CustomerBucket::kReceivable: (*balance)->receivable += change; break;
      }
    }
    for (const auto& [account, balance] : touched) rows.Put(account, EncodeBalance(balance));
    return Status::Ok();
  }
};

}  // namespace

const Projection& BalancesProjection() {
  static const Balances kProjection;
  return kProjection;
}

}  // namespace internal

namespace {

// Whether `range` reaches the balances projection's checkpoint.
Result<bool> IsCurrent(const ProjectionStore& store, const LogRange& range) {
  auto checkpoint = store.Checkpoint(internal::kBalances);
  if (!checkpoint.ok()) return checkpoint.status();
  return range.at_seq >= checkpoint->seq && range.as_of_micros >= checkpoint->recorded_at_micros;
}

}  // namespace

Result<AccountBalance> ReadBalance(const ProjectionStore& store, const std::string& account,
                                   const LogRange& range) {
  auto current = IsCurrent(store, range);
  if (!current.ok()) return current.status();
  if (*current) {
    auto row = store.GetRow(internal::kBalances, account);
    if (!row.ok()) return row.status();
    if (!*row) return AccountBalance{account, {}, {}, {}, 0};
    return internal::DecodeBalance(account, **row);
  }
  auto line = internal::LastStatementLine(store, account, range);
  if (!line.ok()) return line.status();
  if (!*line) return AccountBalance{account, {}, {}, {}, 0};
  return AccountBalance{account, (*line)->available, (*line)->held, (*line)->receivable, 0};
}

Result<std::vector<AccountBalance>> ReadAllBalances(const ProjectionStore& store,
                                                    const LogRange& range) {
  std::vector<std::string> accounts;
  auto status =
      store.ScanRows(internal::kBalances, "", [&](std::string_view key, std::string_view) {
        accounts.emplace_back(key);
        return true;
      });
  if (!status.ok()) return status;
  std::vector<AccountBalance> balances;
  for (const std::string& account : accounts) {
    auto balance = ReadBalance(store, account, range);
    if (!balance.ok()) return balance.status();
    balances.push_back(std::move(balance).value());
  }
  return balances;
}

}  // namespace tally
