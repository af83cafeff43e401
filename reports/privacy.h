// Tables of the privacy and retention views, shared by the CLI and the
// HTTP API so that both show the same columns.
#pragma once

#include <vector>

#include "ledger/retention.h"
#include "projections/reports.h"
#include "reports/report.h"

namespace tally {

// Reads of personal fields in plaintext (personal_data_accessed), for auditors.
Report AccessesTable(const std::vector<AccessRow>& rows);

// What retention may archive now, per record category.
Report RetentionTable(const RetentionPlan& plan);

}  // namespace tally
