// Retention (docs/retention.md): how long each category of record is kept,
// and what may leave the live store.
//
// A policy file is JSON:
//   {"default_years": 7,
//    "rules": [{"category": "invoices", "years": 10, "basis": "DE: HGB 257, AO 147"},
//              {"category": "*", "years": 8, "basis": "FR: Code de commerce L123-22"}]}
// A record's horizon is its decision time plus the most years any rule for
// its category (or "*") gives, else `default_years` (7 if absent): where
// several jurisdictions apply, the longest minimum wins. Years are calendar
// years, 1 to 100. Unknown categories and fields are refused, so a typo
// cannot shorten a horizon.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "events/status.h"
#include "ledger/ledger.h"

namespace tally {

// The record categories: accounts, payments, credits, usage, subscriptions,
// invoices, audit.
std::span<const std::string_view> RecordCategories();
std::string_view RecordCategoryOf(schema::Event::Which which);

struct RetentionRule {
  std::string category;  // one of RecordCategories(), or "*"
  int years = 0;
  std::string basis;  // the law or reason, for the reader
};

class RetentionPolicy {
 public:
  // Every category kept limits::kRetentionYearsDefault years.
  RetentionPolicy() = default;
  // InvalidArgument naming the file and the mistake; NotFound if absent.
  static Result<RetentionPolicy> LoadFile(const std::string& path);

  int YearsFor(std::string_view category) const;
  int default_years() const { return default_years_; }
  const std::vector<RetentionRule>& rules() const { return rules_; }

 private:
  int default_years_ = limits::kRetentionYearsDefault;
  std::vector<RetentionRule> rules_;
};

// Where the policy of the log in `data_dir` is read from by default.
std::string RetentionPolicyPath(const std::string& data_dir);

// The instant `event` passes its horizon under `policy`.
int64_t HorizonEnd(const LoggedEvent& event, const RetentionPolicy& policy);

// What retention may archive now.
struct RetentionPlan {
  uint64_t first_live_seq = 1;
  uint64_t head_seq = 0;
  // The live records from first_live_seq through this seq are all past
  // their horizon (0: none is): `tally retention apply` archives them.
  uint64_t archivable_through = 0;
  // The first record not yet past its horizon (0: none), and when it is.
  uint64_t next_seq = 0;
  int64_t next_horizon_micros = 0;
  std::string next_category;
  struct Category {
    std::string name;
    int years = 0;
    uint64_t live_events = 0;
    uint64_t past_horizon = 0;  // of which past their horizon
    int64_t oldest_micros = 0;  // decision time of the oldest live one (0: none)
  };
  std::vector<Category> categories;
};

// Reads the live log.
Result<RetentionPlan> PlanRetention(const Log& log, const RetentionPolicy& policy,
                                    int64_t now_micros);

}  // namespace tally
