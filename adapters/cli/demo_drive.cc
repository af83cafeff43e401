#include "adapters/cli/demo_drive.h"

#include <chrono>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "adapters/cli/reply_json.h"
#include "events/limits.h"
#include "reports/json.h"

namespace tally::cli {
namespace {

using workload::Channel;
using workload::WorkloadEvent;

constexpr int64_t kStepMicros = 3'600'000'000;  // one simulated hour
constexpr size_t kImportBatch = 500;
constexpr auto kKafkaWait = std::chrono::seconds(60);

double MillisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

struct HoldResult {
  std::string task_id;
  bool accepted = false;
  double ms = 0;
};

class MonthDriver {
 public:
  explicit MonthDriver(const DriveTargets& targets) : t_(targets) {
    for (int i = 0; i < t_.connections; ++i) {
      clients_.push_back(std::make_unique<service::HttpClient>(t_.http, t_.publisher_token));
    }
  }

  Status Import(const std::vector<const WorkloadEvent*>& history);
  Status Step(int64_t step_end, std::vector<const WorkloadEvent*> events);
  Status Finish(int64_t end);
  DriveTotals& totals() { return totals_; }

 private:
  Status Publish(const std::vector<const WorkloadEvent*>& facts);
  Status Operate(const WorkloadEvent& event);
  Status Holds(const std::vector<const WorkloadEvent*>& holds);
  Status Tick();
  bool Runs(const WorkloadEvent& event);

  DriveTargets t_;
  std::vector<std::unique_ptr<service::HttpClient>> clients_;
  std::unordered_map<std::string, bool> decided_;  // task id: accepted
  uint64_t published_ = 0;
  DriveTotals totals_;
};

Status MonthDriver::Import(const std::vector<const WorkloadEvent*>& history) {
  for (size_t from = 0; from < history.size(); from += kImportBatch) {
    std::string body;
    const size_t to = std::min(history.size(), from + kImportBatch);
    for (size_t i = from; i < to; ++i) body += history[i]->json + "\n";
    auto reply = clients_[0]->Send("POST", "/v1/events", body, "application/x-ndjson");
    if (!reply.ok()) return reply.status();
    JsonReader reader(limits::kHttpBodyBytesMax);
    if (reply->status != 200 || CountOutcomes(reader, reply->body, "rejected") > 0) {
      return Status::Unavailable("importing the history: HTTP " + std::to_string(reply->status) +
                                 ": " + reply->body);
    }
    totals_.imported += to - from;
  }
  return Status::Ok();
}

Status MonthDriver::Tick() {
  auto ticked = t_.service->ledger().Tick();
  return ticked.ok() ? Status::Ok() : ticked.status();
}

// One hour, recorded just before its end (expiries fall on whole hours,
// so each event meets the timers it would meet at its own time). In
// rounds: each account's facts up to its next hold through Kafka, then the
// operator's calls, then those holds over HTTP; so every account's events
// are decided in their own order.
Status MonthDriver::Step(int64_t step_end, std::vector<const WorkloadEvent*> events) {
  t_.clock->Set(step_end - 1);
  if (Status status = Tick(); !status.ok()) return status;
  while (!events.empty()) {
    std::vector<const WorkloadEvent*> facts, holds, operations, rest;
    std::unordered_set<std::string> waiting;  // accounts with a hold this round
    for (const WorkloadEvent* event : events) {
      if (waiting.count(event->account) > 0) {
        rest.push_back(event);
      } else if (event->channel == Channel::kHold) {
        holds.push_back(event);
        waiting.insert(event->account);
      } else if (event->channel == Channel::kOperator) {
        operations.push_back(event);
      } else if (Runs(*event)) {
        facts.push_back(event);
      }
    }
    if (Status status = Publish(facts); !status.ok()) return status;
    for (const WorkloadEvent* event : operations) {
      if (Status status = Operate(*event); !status.ok()) return status;
    }
    if (Status status = Holds(holds); !status.ok()) return status;
    events = std::move(rest);
  }
  return Status::Ok();
}

// False for the outcome of a task whose hold was refused: it never ran.
bool MonthDriver::Runs(const WorkloadEvent& event) {
  if (event.task_id.empty()) return true;
  auto decided = decided_.find(event.task_id);
  if (decided == decided_.end() || decided->second) return true;
  ++totals_.not_sent;
  return false;
}

// Publishes `facts` and waits until the service has taken all of them.
Status MonthDriver::Publish(const std::vector<const WorkloadEvent*>& facts) {
  if (facts.empty()) return Status::Ok();
  for (const WorkloadEvent* event : facts) {
    Status status = t_.producer->ProduceRaw(event->account, event->json, "application/json");
    if (!status.ok()) return status;
  }
  if (Status status = t_.producer->Flush(); !status.ok()) return status;
  published_ += facts.size();
  totals_.facts += facts.size();
  const auto deadline = std::chrono::steady_clock::now() + kKafkaWait;
  while (true) {
    auto stored = t_.service->ledger().StoredClusterOffset(t_.topic, 0);
    if (!stored.ok()) return stored.status();
    if (*stored && static_cast<uint64_t>((*stored)->next_offset) >= published_) break;
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::Unavailable("Kafka did not bring the service this hour's facts within 60 s");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  return Status::Ok();
}

// Erasure and legal holds, through the operator's routes; the event's id is
// the Idempotency-Key, so a retry is the same request.
Status MonthDriver::Operate(const WorkloadEvent& event) {
  service::HttpClient client(t_.http, t_.operator_token);
  const std::string path = "/v1/subjects/" + event.account;
  Result<service::HttpReply> reply = Status::Unavailable("not sent");
  if (event.type == "legal_hold_placed") {
    reply = client.Send("PUT", path + "/legal-hold",
                        Encode(Json::Object().Add("reason", Json::String("litigation hold"))),
                        "application/json", event.id);
  } else if (event.type == "legal_hold_released") {
    reply = client.Send("DELETE", path + "/legal-hold?reason=case-closed", "", "application/json",
                        event.id);
  } else if (event.type == "erasure_requested") {
    reply = client.Send("POST", path + "/erasure",
                        Encode(Json::Object().Add("purpose", Json::String("all"))),
                        "application/json", event.id);
  } else {
    return Status::InvalidArgument("no operator route for " + event.type);
  }
  if (!reply.ok()) return reply.status();
  ++totals_.operator_calls;
  JsonReader reader(limits::kHttpBodyBytesMax);
  std::string detail = StringMember(reader, reply->body, "detail");
  totals_.operator_answers.push_back(event.type + " " + event.account + ": HTTP " +
                                     std::to_string(reply->status) +
                                     (detail.empty() ? "" : " (" + detail + ")"));
  return Status::Ok();
}

// Each account's holds in order on one connection; the connections at once.
Status MonthDriver::Holds(const std::vector<const WorkloadEvent*>& holds) {
  if (holds.empty()) return Status::Ok();
  const size_t n = clients_.size();
  std::vector<std::vector<const WorkloadEvent*>> lanes(n);
  for (const WorkloadEvent* event : holds) {
    lanes[std::hash<std::string>()(event->account) % n].push_back(event);
  }
  std::vector<std::vector<HoldResult>> results(n);
  std::vector<Status> failures(n);
  std::vector<std::thread> threads;
  for (size_t lane = 0; lane < n; ++lane) {
    if (lanes[lane].empty()) continue;
    threads.emplace_back([&, lane] {
      JsonReader reader(limits::kHttpBodyBytesMax);
      for (const WorkloadEvent* event : lanes[lane]) {
        const auto start = std::chrono::steady_clock::now();
        auto reply = clients_[lane]->Send("POST", "/v1/holds", event->json);
        if (!reply.ok() || reply->status != 200) {
          failures[lane] =
              reply.ok() ? Status::Unavailable("POST /v1/holds: HTTP " +
                                               std::to_string(reply->status) + ": " + reply->body)
                         : reply.status();
          return;
        }
        results[lane].push_back({event->task_id,
                                 StringMember(reader, reply->body, "decision") == "accepted",
                                 MillisSince(start)});
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const Status& failure : failures) {
    if (!failure.ok()) return failure;
  }
  for (const auto& lane : results) {
    for (const HoldResult& result : lane) {
      decided_[result.task_id] = result.accepted;
      ++(result.accepted ? totals_.holds_accepted : totals_.holds_rejected);
      totals_.hold_ms.push_back(result.ms);
    }
  }
  return Status::Ok();
}

// A day after the window (or the last step, if later): every hold left
// open has timed out.
Status MonthDriver::Finish(int64_t end) {
  t_.clock->Set(std::max(t_.clock->NowMicros(), end + 24 * kStepMicros));
  if (Status status = Tick(); !status.ok()) return status;
  return t_.service->CatchUp();
}

}  // namespace

Result<DriveTotals> DriveMonth(const workload::Workload& workload, const DriveTargets& targets,
                               const std::function<void(uint64_t)>& progress) {
  const auto start = std::chrono::steady_clock::now();
  MonthDriver driver(targets);
  std::vector<const WorkloadEvent*> history, live;
  for (const WorkloadEvent& event : workload.events) {
    (event.channel == Channel::kImport ? history : live).push_back(&event);
  }
  if (Status status = driver.Import(history); !status.ok()) return status;
  uint64_t done = history.size();
  progress(done);
  size_t next = 0;
  const int64_t begin = live.empty() ? workload.end_micros : live.front()->at_micros;
  const int64_t last = live.empty() ? begin : live.back()->at_micros;
  for (int64_t step = begin - begin % kStepMicros; step <= last; step += kStepMicros) {
    std::vector<const WorkloadEvent*> events;
    while (next < live.size() && live[next]->at_micros < step + kStepMicros) {
      events.push_back(live[next++]);
    }
    done += events.size();
    if (Status status = driver.Step(step + kStepMicros, std::move(events)); !status.ok()) {
      return status;
    }
    progress(done);
  }
  if (Status status = driver.Finish(workload.end_micros); !status.ok()) return status;
  DriveTotals totals = std::move(driver.totals());
  totals.seconds = MillisSince(start) / 1000;
  return totals;
}

}  // namespace tally::cli
