#include "ledger/retention.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <map>

#include "events/timestamp.h"
#include "ledger/internal/json_file.h"

namespace tally {
namespace {

constexpr std::array<std::string_view, 7> kCategories = {
    "accounts", "payments", "credits", "usage", "subscriptions", "invoices", "audit"};

bool IsCategory(std::string_view name) {
  return name == "*" ||
         std::find(kCategories.begin(), kCategories.end(), name) != kCategories.end();
}

Result<int> YearsOf(capnp::JsonValue::Reader value, const std::string& where) {
  // The range first: casting a number outside int's range is undefined.
  if (!value.isNumber() || !(value.getNumber() >= limits::kRetentionYearsMin) ||
      value.getNumber() > limits::kRetentionYearsMax ||
      value.getNumber() != static_cast<int>(value.getNumber())) {
    return Status::InvalidArgument(where + " must be a whole number of years from " +
                                   std::to_string(limits::kRetentionYearsMin) + " to " +
                                   std::to_string(limits::kRetentionYearsMax));
  }
  return static_cast<int>(value.getNumber());
}

Result<RetentionRule> RuleOf(capnp::JsonValue::Reader value, const std::string& where) {
  if (!value.isObject()) return Status::InvalidArgument(where + " must be an object");
  RetentionRule rule;
  for (auto field : value.getObject()) {
    std::string_view name = field.getName().cStr();
    auto v = field.getValue();
    if (name == "category" && v.isString()) {
      rule.category = v.getString().cStr();
    } else if (name == "years") {
      auto years = YearsOf(v, where + ".years");
      if (!years.ok()) return years.status();
      rule.years = *years;
    } else if (name == "basis" && v.isString()) {
      rule.basis = v.getString().cStr();
    } else {
      return Status::InvalidArgument(where + ": unknown or mistyped field \"" + std::string(name) +
                                     "\"");
    }
  }
  if (!IsCategory(rule.category)) {
    std::string known = "*";
    for (auto category : kCategories) known += ", " + std::string(category);
    return Status::InvalidArgument(where + ".category \"" + rule.category +
                                   "\" is not a record category (" + known + ")");
  }
  if (rule.years == 0) return Status::InvalidArgument(where + ".years is required");
  return rule;
}

}  // namespace

std::span<const std::string_view> RecordCategories() { return kCategories; }

std::string_view RecordCategoryOf(schema::Event::Which which) {
  using S = schema::Event;
  switch (which) {
    case S::ACCOUNT_OPENED:
    case S::PROFILE_UPDATED:
    case S::ACCOUNT_CLOSED:
    case S::ERASURE_REQUESTED:
    case S::LEGAL_HOLD_PLACED:
    case S::LEGAL_HOLD_RELEASED: return "accounts";
    case S::TOP_UP_SETTLED:
    case S::REFUND_ISSUED:
    case S::CHARGEBACK_OPENED:
    case S::CHARGEBACK_RESOLVED: return "payments";
    case S::CREDITS_GRANTED:
    case S::CREDITS_EXPIRED:
    case S::ADJUSTMENT_POSTED: return "credits";
    case S::SUBSCRIPTION_STARTED:
    case S::SUBSCRIPTION_RENEWED:
    case S::SUBSCRIPTION_PLAN_CHANGED:
    case S::SUBSCRIPTION_CANCELLED:
    case S::SUBSCRIPTION_EXPIRED:
    case S::SUBSCRIPTION_PAYMENT_FAILED: return "subscriptions";
    case S::INVOICE_ISSUED:
    case S::CREDIT_NOTE_ISSUED: return "invoices";
    case S::CHECKPOINT_SIGNED:
    case S::SUBJECT_SHREDDED:
    case S::SEGMENT_ARCHIVED:
    case S::PERSONAL_DATA_ACCESSED: return "audit";
    default: return "usage";  // tasks, holds, usage
  }
}

Result<RetentionPolicy> RetentionPolicy::LoadFile(const std::string& path) {
  RetentionPolicy policy;
  auto status = internal::ReadJsonObject(
      path, internal::JsonFileKind::kOperatorInput,
      [&](std::string_view name, capnp::JsonValue::Reader value) -> Status {
        if (name == "default_years") {
          auto years = YearsOf(value, path + ": default_years");
          if (!years.ok()) return years.status();
          policy.default_years_ = *years;
          return Status::Ok();
        }
        if (name == "rules" && value.isArray()) {
          int i = 0;
          for (auto entry : value.getArray()) {
            auto rule = RuleOf(entry, path + ": rules[" + std::to_string(i++) + "]");
            if (!rule.ok()) return rule.status();
            policy.rules_.push_back(*rule);
          }
          return Status::Ok();
        }
        return Status::InvalidArgument(path + ": unknown or mistyped field \"" + std::string(name) +
                                       "\"");
      });
  if (!status.ok()) return status;
  return policy;
}

int RetentionPolicy::YearsFor(std::string_view category) const {
  int years = 0;
  for (const RetentionRule& rule : rules_) {
    if (rule.category == category || rule.category == "*") years = std::max(years, rule.years);
  }
  return years == 0 ? default_years_ : years;
}

std::string RetentionPolicyPath(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "retention.json").string();
}

int64_t HorizonEnd(const LoggedEvent& event, const RetentionPolicy& policy) {
  return AddYears(EffectiveTime(event),
                  policy.YearsFor(RecordCategoryOf(event.event.reader().which())));
}

Result<RetentionPlan> PlanRetention(const Log& log, const RetentionPolicy& policy,
                                    int64_t now_micros) {
  RetentionPlan plan;
  plan.first_live_seq = log.first_seq();
  plan.head_seq = log.head_seq();
  std::map<std::string, RetentionPlan::Category> by_name;
  for (std::string_view name : kCategories) {
    by_name[std::string(name)] = {std::string(name), policy.YearsFor(name), 0, 0, 0};
  }
  bool prefix = true;
  auto status = log.Scan(plan.first_live_seq, [&](const LoggedEvent& event) {
    auto& category = by_name[std::string(RecordCategoryOf(event.event.reader().which()))];
    ++category.live_events;
    int64_t at = EffectiveTime(event);
    if (category.oldest_micros == 0 || at < category.oldest_micros) category.oldest_micros = at;
    int64_t horizon = HorizonEnd(event, policy);
    if (horizon <= now_micros) {
      ++category.past_horizon;
      if (prefix) plan.archivable_through = event.seq;
    } else if (prefix) {
      prefix = false;
      plan.next_seq = event.seq;
      plan.next_horizon_micros = horizon;
      plan.next_category = category.name;
    }
    return true;
  });
  if (!status.ok()) return status;
  for (std::string_view name : kCategories) plan.categories.push_back(by_name[std::string(name)]);
  return plan;
}

}  // namespace tally
