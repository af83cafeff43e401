#include "projections/statement.h"

#include "ledger/journal.h"

namespace tally {

Result<std::vector<StatementLine>> ReadStatement(const Ledger& ledger, const std::string& account,
                                                 const LogRange& range, int64_t from_micros) {
  const std::string available = accounts::CustomerAvailable(account);
  const std::string held = accounts::CustomerHeld(account);
  const std::string receivable = accounts::CustomerReceivable(account);
  Credits balances[3];  // available, held, receivable
  std::vector<StatementLine> lines;
  auto status = FoldAccount(ledger, account, range, [&](const LoggedEvent& event) {
    for (const Posting& posting : event.postings) {
      int bucket = posting.account == available    ? 0
                   : posting.account == held       ? 1
                   : posting.account == receivable ? 2
                                                   : -1;
      if (bucket < 0) continue;
      // Customer credit accounts are liabilities (credit-normal) except the
      // receivable, an asset (debit-normal).
      Credits change = Credits::FromMicros(bucket == 2 ? posting.amount : Int128(-posting.amount));
      balances[bucket] += change;
      if (event.recorded_at_micros < from_micros) continue;
      static const char* const kBuckets[] = {"available", "held", "receivable"};
      lines.push_back({event.seq, event.recorded_at_micros, std::string(event.event.type_name()),
                       kBuckets[bucket], change, balances[0], balances[1], balances[2]});
    }
  });
  if (!status.ok()) return status;
  return lines;
}

}  // namespace tally
