// The finance tables: each projection's rows as a Report with its column
// names, shared by the CLI (`--json`, `--csv`, tables) and the HTTP API so
// that both answer with the same fields.
#pragma once

#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "projections/balance.h"
#include "projections/reports.h"
#include "projections/statement.h"
#include "reports/report.h"

namespace tally {

// `with_version`: the projection's version column is filled (reads of now).
Report BalancesTable(const std::vector<AccountBalance>& balances, bool with_version);
Report StatementTable(const std::vector<StatementLine>& lines);
Report TrialBalanceTable(const std::vector<TrialBalanceLine>& lines);
Report RevenueTable(const std::vector<RevenueLine>& lines);
Report InvoicesTable(const std::vector<InvoiceRow>& rows);
Report InvoiceLinesTable(const InvoiceDocument& document);
Report SubscriptionsTable(const SubscriptionReport& report);
Report RecurringRevenueTable(const SubscriptionReport& report);  // MRR, ARR per currency
Report ModelUsageTable(const TaskReport& report);
Report OpenHoldsTable(const TaskReport& report);

// The live lots of accounts in burn order; AddLots appends one account's.
Report LotsTable();
void AddLots(const std::string& account, const std::vector<LotView>& lots, Report& table);

}  // namespace tally
