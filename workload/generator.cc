#include <algorithm>
#include <cstdio>

#include "workload/internal/account.h"
#include "workload/workload.h"

namespace tally::workload {
namespace {

std::string AccountId(const std::string& prefix, int index) {
  char number[16];
  std::snprintf(number, sizeof(number), "%05d", index + 1);
  return prefix + number;
}

}  // namespace

Workload Generate(const WorkloadOptions& options) {
  Workload out;
  out.end_micros = options.start_micros + options.days * internal::kDay;
  internal::Rng seeds(options.seed);
  std::vector<WorkloadEvent> live;
  for (int i = 0; i < options.accounts; ++i) {
    const std::string account = AccountId(options.account_prefix, i);
    internal::Rng rng(seeds.Next());
    const internal::Market& market = internal::MarketFor(rng);
    const internal::Persona persona = internal::PersonaFor(rng, i, options.accounts);
    internal::AccountMonth month(account, persona, market, rng.Next(), options);
    std::vector<WorkloadEvent> events = month.Make();
    std::move(events.begin(), events.end(), std::back_inserter(live));
    out.accounts.push_back(account);
    if (persona.erasure) out.erased.push_back(account);
    if (persona.legal_hold) out.legal_hold = account;
  }
  // Time order; ties keep the order of the accounts and within each.
  std::stable_sort(live.begin(), live.end(), [](const WorkloadEvent& a, const WorkloadEvent& b) {
    return a.at_micros < b.at_micros;
  });
  if (options.with_history) {
    out.imported_account = options.account_prefix + "legacy-0001";
    out.events = internal::ImportedHistory(out.imported_account, options.start_micros);
    out.accounts.push_back(out.imported_account);
  }
  std::move(live.begin(), live.end(), std::back_inserter(out.events));
  return out;
}

}  // namespace tally::workload
