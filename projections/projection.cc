#include "projections/projection.h"

#include "projections/internal/all.h"

namespace tally {

const std::vector<const Projection*>& AllProjections() {
  static const std::vector<const Projection*> kAll = {
      &internal::BalancesProjection(), &internal::StatementsProjection(),
      &internal::InvoicesProjection(), &internal::TrialBalanceProjection(),
      &internal::RevenueProjection(),  &internal::SubscriptionsProjection(),
      &internal::TasksProjection(),    &internal::AccessesProjection(),
  };
  return kAll;
}

const Projection* FindProjection(std::string_view name) {
  for (const Projection* projection : AllProjections()) {
    if (projection->name() == name) return projection;
  }
  return nullptr;
}

namespace internal {

std::optional<CustomerBucket> CustomerBucketOf(const Posting& posting) {
  constexpr std::string_view kPrefix = "customer:";
  std::string_view name = posting.account;
  if (!name.starts_with(kPrefix) || posting.asset != kCreditsAsset) return std::nullopt;
  size_t colon = name.rfind(':');
  TALLY_CHECK(colon > kPrefix.size() - 1);
  std::string_view bucket = name.substr(colon + 1);
  CustomerBucket result;
  result.account = std::string(name.substr(kPrefix.size(), colon - kPrefix.size()));
  if (bucket == "available") {
    result.kind = CustomerBucket::kAvailable;
  } else if (bucket == "held") {
    result.kind = CustomerBucket::kHeld;
  } else {
    TALLY_CHECK(bucket == "receivable");
    result.kind = CustomerBucket::kReceivable;
  }
  result.change =
      result.kind == CustomerBucket::kReceivable ? posting.amount : Int128(-posting.amount);
  return result;
}

const char* BucketName(CustomerBucket::Kind kind) {
  static const char* const kNames[] = {"available", "held", "receivable"};
  return kNames[kind];
}

bool TouchesCustomer(const LoggedEvent& event) {
  for (const Posting& posting : event.postings) {
    if (posting.account.starts_with("customer:")) return true;
  }
  return false;
}

}  // namespace internal
}  // namespace tally
