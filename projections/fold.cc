#include "projections/fold.h"

namespace tally {

Status FoldLog(const Ledger& ledger, const LogRange& range,
               const std::function<void(const LoggedEvent&)>& visit) {
  return ledger.Scan(1, [&](const LoggedEvent& event) {
    if (event.seq > range.at_seq) return false;
    if (range.Contains(event)) visit(event);
    return true;
  });
}

Status FoldAccount(const Ledger& ledger, const std::string& account, const LogRange& range,
                   const std::function<void(const LoggedEvent&)>& visit) {
  return ledger.ScanAccount(account, [&](const LoggedEvent& event) {
    if (event.seq > range.at_seq) return false;
    if (range.Contains(event)) visit(event);
    return true;
  });
}

}  // namespace tally
