// The workload of an AI image and video platform: accounts with personal
// profiles, top-ups through Stripe, Alipay and WeChat Pay in four
// currencies, promotional grants that expire, monthly subscriptions, image
// and video tasks with holds, direct usage, refunds, chargebacks, erasure
// requests and one account imported from an older billing system.
//
// Deterministic: the same options give the same events, byte for byte
// (every random draw comes from the seed; nothing reads the wall clock).
// `tally generate` writes them as NDJSON, `tally demo` drives them through
// the service, and the tests and benchmarks use them (docs/demo.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tally::workload {

struct WorkloadOptions {
  uint64_t seed = 1;
  int accounts = 2000;
  int days = 31;
  int64_t start_micros = 1'793'491'200'000'000;  // 2026-11-01T00:00:00Z
  // Every event marked `imported`: the ledger decides each at its own
  // occurred_at, so a replay with `tally append` at any later time gives
  // the same books. Live (false), each is decided when it is recorded:
  // `tally demo` moves its clock with the month.
  bool imported = false;
  // Account ids are this and a number: another prefix, other accounts
  // (`tally load` runs against a ledger that may hold earlier runs).
  std::string account_prefix = "acct-";
  // Without the account imported from an older system.
  bool with_history = true;
};

// How a platform sends the event (the path `tally demo` drives it through).
enum class Channel {
  kImport,    // history of the older system: POST /v1/events, before anything live
  kFact,      // a fact the platform reports: Kafka
  kHold,      // task_submitted: POST /v1/holds, answered with the decision
  kOperator,  // erasure and legal holds: the operator's routes
};

struct WorkloadEvent {
  int64_t at_micros = 0;  // occurred_at
  Channel channel = Channel::kFact;
  std::string id;
  std::string account;
  std::string type;
  std::string task_id;  // task_* events: the task; its outcome follows its hold
  std::string json;     // the event, one line of JSON (docs/events.md)
};

struct Workload {
  // Imported history first (in time order), then the live events in time
  // order (ties in the order they were made).
  std::vector<WorkloadEvent> events;
  std::vector<std::string> accounts;  // every account, the imported one last
  std::string imported_account;       // history of years, imported
  std::vector<std::string> erased;    // accounts that ask for erasure
  std::string legal_hold;             // asks for erasure under a legal hold
  int64_t end_micros = 0;             // start + days
};

Workload Generate(const WorkloadOptions& options);

}  // namespace tally::workload
