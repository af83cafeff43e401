// How `tally demo` drives a generated month through a running service, the
// way a platform would: history imported over HTTP first; then, one
// simulated hour at a time, the facts through Kafka, erasure and legal
// holds through the operator's routes, and every task's hold over HTTP,
// answered synchronously; in rounds within the hour, so that each
// account's events are decided in their own order. A task the ledger
// refused never runs: its outcome is not sent. The clock is the month's:
// each hour's events are recorded just before its end, after the ledger's
// timers up to then (expiries fall on whole hours, so an event meets the
// same ones it would at its own time, and the books equal those of
// `tally generate --imported` appended; docs/demo.md).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "adapters/kafka/producer.h"
#include "ledger/clock.h"
#include "service/http_client.h"
#include "service/service.h"
#include "workload/workload.h"

namespace tally::cli {

struct DriveTargets {
  service::Service* service = nullptr;
  ManualClock* clock = nullptr;
  EventProducer* producer = nullptr;  // to the topic the service consumes (one partition)
  std::string topic;
  service::HttpEndpoint http;
  std::string publisher_token;
  std::string operator_token;
  int connections = 8;
};

struct DriveTotals {
  uint64_t imported = 0;  // history events appended over HTTP
  uint64_t facts = 0;     // published to Kafka
  uint64_t not_sent = 0;  // outcomes of tasks whose hold was refused
  uint64_t holds_accepted = 0;
  uint64_t holds_rejected = 0;
  uint64_t operator_calls = 0;
  std::vector<std::string> operator_answers;  // "PUT legal-hold acct-1: 200", ...
  std::vector<double> hold_ms;                // each hold's round trip
  double seconds = 0;
};

// Drives `workload`; `progress` gets the events handled so far. A non-ok
// Status: the service failed or refused something a platform could not
// go on from (named); what was appended stays.
Result<DriveTotals> DriveMonth(const workload::Workload& workload, const DriveTargets& targets,
                               const std::function<void(uint64_t)>& progress);

}  // namespace tally::cli
