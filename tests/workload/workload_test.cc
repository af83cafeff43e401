// The workload generator: deterministic, valid, in time order, each task's
// outcome after its hold, the roles every month needs (history, erasures,
// a legal hold) present. tests/adapters/cli_test.cc replays it through
// the ledger and the demo's own checks.
#include "workload/workload.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <set>

#include "events/codec.h"

namespace tally::workload {
namespace {

WorkloadOptions Small(uint64_t seed) {
  WorkloadOptions options;
  options.seed = seed;
  options.accounts = 120;
  options.days = 10;
  return options;
}

TEST(WorkloadTest, TheSameOptionsGiveTheSameEventsAndAnotherSeedOthers) {
  const Workload a = Generate(Small(5));
  const Workload b = Generate(Small(5));
  const Workload c = Generate(Small(6));
  ASSERT_EQ(a.events.size(), b.events.size());
  for (size_t i = 0; i < a.events.size(); ++i) ASSERT_EQ(a.events[i].json, b.events[i].json) << i;
  EXPECT_NE(a.events.size(), c.events.size());
}

TEST(WorkloadTest, EveryEventIsValidUniqueAndInTimeOrder) {
  const WorkloadOptions options = Small(1);
  const Workload month = Generate(options);
  EventCodec codec;
  std::set<std::string> ids;
  int64_t last_live = 0;
  size_t imported = 0;
  std::map<std::string, size_t> types;
  for (const WorkloadEvent& event : month.events) {
    auto parsed = codec.ParseJson(event.json);
    ASSERT_TRUE(parsed.ok()) << event.json << ": " << parsed.status().ToString();
    EXPECT_TRUE(ids.insert(event.id).second) << "id used twice: " << event.id;
    ++types[event.type];
    if (event.channel == Channel::kImport) {
      EXPECT_EQ(last_live, 0) << "history after live events";
      EXPECT_LT(event.at_micros, options.start_micros);
      ++imported;
      continue;
    }
    EXPECT_GE(event.at_micros, last_live) << event.id;
    EXPECT_GE(event.at_micros, options.start_micros) << event.id;
    if (event.type == "legal_hold_released") {  // the last event, a day after the window
      EXPECT_EQ(event.at_micros, month.end_micros + 86'400'000'000) << event.id;
      EXPECT_EQ(&event, &month.events.back());
    } else {
      EXPECT_LT(event.at_micros, month.end_micros) << event.id;
    }
    last_live = event.at_micros;
  }
  EXPECT_GT(imported, 90u);  // eight years of monthly usage
  for (const char* type :
       {"account_opened", "top_up_settled", "credits_granted", "subscription_started",
        "task_submitted", "task_succeeded", "task_failed", "usage_recorded", "refund_issued",
        "chargeback_opened", "chargeback_resolved", "erasure_requested", "legal_hold_placed"}) {
    EXPECT_GT(types[type], 0u) << type;
  }
}

TEST(WorkloadTest, EachTaskIsHeldOnceBeforeItsOutcome) {
  const Workload month = Generate(Small(2));
  std::map<std::string, int64_t> held;  // task id: when
  for (const WorkloadEvent& event : month.events) {
    if (event.task_id.empty()) continue;
    if (event.channel == Channel::kHold) {
      EXPECT_EQ(event.type, "task_submitted");
      EXPECT_TRUE(held.emplace(event.task_id, event.at_micros).second) << event.task_id;
      continue;
    }
    auto hold = held.find(event.task_id);
    ASSERT_NE(hold, held.end()) << event.type << " before its hold: " << event.task_id;
    EXPECT_GE(event.at_micros, hold->second);
  }
  EXPECT_GT(held.size(), 100u);
}

// Every lot expires on a whole hour (tally demo records an hour's events
// just before its end; an expiry inside the hour would be decided on the
// wrong side of them).
TEST(WorkloadTest, LotsExpireOnWholeHours) {
  const Workload month = Generate(Small(4));
  EventCodec codec;
  size_t expiries = 0;
  for (const WorkloadEvent& event : month.events) {
    for (const char* field : {"\"expires_at\":\"", "\"period_end\":\""}) {
      const size_t at = event.json.find(field);
      if (at == std::string::npos) continue;
      const std::string stamp = event.json.substr(at + std::strlen(field), 20);
      EXPECT_EQ(stamp.substr(14, 6), "00:00Z") << event.json;
      ++expiries;
    }
  }
  EXPECT_GT(expiries, 100u);
}

TEST(WorkloadTest, ErasuresALegalHoldAndThePrefixAreThere) {
  WorkloadOptions options = Small(3);
  options.account_prefix = "load-3-";
  options.with_history = false;
  const Workload month = Generate(options);
  EXPECT_EQ(month.erased.size(), 5u);
  EXPECT_NE(std::find(month.erased.begin(), month.erased.end(), month.legal_hold),
            month.erased.end());
  EXPECT_TRUE(month.imported_account.empty());
  for (const WorkloadEvent& event : month.events) {
    ASSERT_EQ(event.account.rfind("load-3-", 0), 0u) << event.account;
    ASSERT_NE(event.channel, Channel::kImport);
  }
}

}  // namespace
}  // namespace tally::workload
