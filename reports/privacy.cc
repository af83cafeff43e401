#include "reports/privacy.h"

#include <string>

#include "events/timestamp.h"

namespace tally {
namespace {

std::string DateOrBlank(int64_t micros) { return micros == 0 ? "" : FormatTimestamp(micros); }

}  // namespace

Report AccessesTable(const std::vector<AccessRow>& rows) {
  Report report{{{"seq", Column::Kind::kInteger},
                 {"recorded_at"},
                 {"subject"},
                 {"accessed_by"},
                 {"purpose"},
                 {"via"}},
                {}};
  for (const AccessRow& row : rows) {
    report.rows.push_back({std::to_string(row.seq), FormatTimestamp(row.recorded_at_micros),
                           row.subject, row.accessed_by, row.purpose, row.via});
  }
  return report;
}

Report RetentionTable(const RetentionPlan& plan) {
  Report report{{{"category"},
                 {"years", Column::Kind::kInteger},
                 {"live_events", Column::Kind::kInteger},
                 {"past_horizon", Column::Kind::kInteger},
                 {"oldest"}},
                {}};
  for (const auto& category : plan.categories) {
    report.rows.push_back(
        {category.name, std::to_string(category.years), std::to_string(category.live_events),
         std::to_string(category.past_horizon), DateOrBlank(category.oldest_micros)});
  }
  return report;
}

}  // namespace tally
