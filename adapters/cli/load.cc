// tally load: drives a running `tally serve` with the demo's workload at a
// chosen rate. Events are spread over connections by account (each
// account's events in order on one connection), each sent at its place in
// an even schedule of `rate` a second; a connection that falls behind
// sends at once, so the achieved rate shows what the service keeps up with.
// Every second: events sent, holds and their round trips, refusals,
// errors, and the service's projection lag and Kafka lag.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "adapters/cli/commands.h"
#include "adapters/cli/exit_codes.h"
#include "adapters/cli/figures.h"
#include "adapters/cli/reply_json.h"
#include "adapters/cli/support.h"
#include "adapters/kafka/producer.h"
#include "events/limits.h"
#include "ledger/clock.h"
#include "service/http_client.h"

namespace tally::cli {
namespace {

using Clock = std::chrono::steady_clock;
using workload::Channel;
using workload::WorkloadEvent;

// What happened in one second (or the whole run).
struct Window {
  uint64_t sent = 0;
  uint64_t holds = 0;
  uint64_t refused = 0;  // holds rejected, events rejected
  uint64_t errors = 0;   // transport errors and non-2xx answers
  std::vector<double> hold_ms;
};

class Load {
 public:
  Load(const LoadOptions& options, service::HttpEndpoint endpoint, EventProducer* producer)
      : o_(options), endpoint_(std::move(endpoint)), producer_(producer) {}

  void Run(const std::vector<const WorkloadEvent*>& events, Io io);
  const Window& total() const { return total_; }
  // The first 401 or 403 the service answered; empty if none.
  std::string refusal() {
    std::lock_guard lock(mutex_);
    return refusal_;
  }
  double seconds() const { return seconds_; }

 private:
  void Lane(const std::vector<std::pair<size_t, const WorkloadEvent*>>& events);
  void Send(service::HttpClient& client, JsonReader& reader, const WorkloadEvent& event,
            std::unordered_map<std::string, bool>& decided, Window& into);
  void Report(int second, Io io);
  // A 401 or 403: the token cannot do this; nothing else will succeed.
  void NoteRefusal(const service::HttpReply& reply) {
    if (reply.status != 401 && reply.status != 403) return;
    std::lock_guard lock(mutex_);
    if (refusal_.empty()) {
      std::string body = reply.body;
      while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back())))
        body.pop_back();
      refusal_ = "HTTP " + std::to_string(reply.status) + ": " + body;
    }
    refused_ = true;
  }

  LoadOptions o_;
  service::HttpEndpoint endpoint_;
  EventProducer* producer_;
  Clock::time_point start_;
  std::mutex mutex_;
  Window current_, total_;
  std::atomic<bool> refused_{false};  // the token was refused: every lane stops
  std::string refusal_;               // the first such answer (under mutex_)
  double seconds_ = 0;
};

void Load::Send(service::HttpClient& client, JsonReader& reader, const WorkloadEvent& event,
                std::unordered_map<std::string, bool>& decided, Window& into) {
  if (!event.task_id.empty() && event.channel != Channel::kHold) {
    auto found = decided.find(event.task_id);
    if (found != decided.end() && !found->second) return;  // the task never ran
  }
  ++into.sent;
  if (event.channel == Channel::kHold) {
    const auto start = Clock::now();
    auto reply = client.Send("POST", "/v1/holds", event.json);
    into.hold_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    ++into.holds;
    if (!reply.ok() || reply->status != 200) {
      ++into.errors;
      if (reply.ok()) NoteRefusal(*reply);
      return;
    }
    const bool accepted = StringMember(reader, reply->body, "decision") == "accepted";
    decided[event.task_id] = accepted;
    if (!accepted) ++into.refused;
    return;
  }
  if (producer_ != nullptr) {
    if (!producer_->ProduceRaw(event.account, event.json, "application/json").ok()) ++into.errors;
    return;
  }
  auto reply = client.Send("POST", "/v1/events", event.json, "application/x-ndjson");
  if (!reply.ok() || reply->status != 200) {
    ++into.errors;
    if (reply.ok()) NoteRefusal(*reply);
  } else if (FirstOutcome(reader, reply->body) == "rejected") {
    ++into.refused;
  }
}

void Load::Lane(const std::vector<std::pair<size_t, const WorkloadEvent*>>& events) {
  service::HttpClient client(endpoint_, o_.token);
  JsonReader reader(limits::kHttpBodyBytesMax);
  std::unordered_map<std::string, bool> decided;
  const auto end = start_ + std::chrono::seconds(o_.duration_s);
  for (const auto& [index, event] : events) {
    const auto due = start_ + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(index / o_.rate));
    if (due >= end || Clock::now() >= end || refused_.load()) break;
    std::this_thread::sleep_until(due);
    Window one;
    Send(client, reader, *event, decided, one);
    std::lock_guard lock(mutex_);
    current_.sent += one.sent;
    current_.holds += one.holds;
    current_.refused += one.refused;
    current_.errors += one.errors;
    current_.hold_ms.insert(current_.hold_ms.end(), one.hold_ms.begin(), one.hold_ms.end());
  }
}

// The value of the unlabelled metric `name` in a Prometheus text page; -1 if absent.
int64_t MetricValue(const std::string& page, const std::string& name) {
  std::istringstream lines(page);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name + " ", 0) != 0) continue;
    const char* text = line.c_str() + name.size();
    char* end = nullptr;
    const double value = std::strtod(text, &end);
    return end != text && std::isfinite(value) ? std::llround(value) : -1;
  }
  return -1;
}

Json WindowJson(const Window& w, double seconds) {
  return Json::Object()
      .Add("sent", Json::Integer(static_cast<int64_t>(w.sent)))
      .Add("per_second", Json::String(Fixed(w.sent / std::max(seconds, 1e-9), 1)))
      .Add("holds", Json::Integer(static_cast<int64_t>(w.holds)))
      .Add("hold_ms_p50", Json::String(Fixed(Percentile(w.hold_ms, 0.5), 3)))
      .Add("hold_ms_p99", Json::String(Fixed(Percentile(w.hold_ms, 0.99), 3)))
      .Add("refused", Json::Integer(static_cast<int64_t>(w.refused)))
      .Add("errors", Json::Integer(static_cast<int64_t>(w.errors)));
}

void Load::Report(int second, Io io) {
  Window w;
  {
    std::lock_guard lock(mutex_);
    w = std::exchange(current_, Window{});
  }
  total_.sent += w.sent;
  total_.holds += w.holds;
  total_.refused += w.refused;
  total_.errors += w.errors;
  total_.hold_ms.insert(total_.hold_ms.end(), w.hold_ms.begin(), w.hold_ms.end());
  service::HttpClient monitor(endpoint_, "");
  JsonReader reader(limits::kHttpBodyBytesMax);
  int64_t projection_lag = -1, kafka_lag = -1;
  if (auto ready = monitor.Send("GET", "/readyz"); ready.ok()) {
    const int64_t head = IntegerMember(reader, ready->body, "head_seq");
    const int64_t projected = IntegerMember(reader, ready->body, "projected_seq");
    if (head >= 0 && projected >= 0) projection_lag = head - projected;
  }
  if (producer_ != nullptr) {
    if (auto page = monitor.Send("GET", "/metrics"); page.ok()) {
      kafka_lag = MetricValue(page->body, "tally_kafka_lag_messages");
    }
  }
  if (o_.format != OutputFormat::kTable) {
    io.out << Encode(WindowJson(w, 1.0)
                         .Add("second", Json::Integer(second))
                         .Add("projection_lag", Json::Integer(projection_lag))
                         .Add("kafka_lag", Json::Integer(kafka_lag)))
           << '\n';
    return;
  }
  if (second == 1) {
    io.out << "second  sent/s  holds/s  hold_p50_ms  hold_p99_ms  refused  errors  "
              "projection_lag  kafka_lag\n";
  }
  char row[160];
  std::snprintf(
      row, sizeof(row), "%6d  %6llu  %7llu  %11s  %11s  %7llu  %6llu  %14lld  %9s\n", second,
      static_cast<unsigned long long>(w.sent), static_cast<unsigned long long>(w.holds),
      Fixed(Percentile(w.hold_ms, 0.5), 2).c_str(), Fixed(Percentile(w.hold_ms, 0.99), 2).c_str(),
      static_cast<unsigned long long>(w.refused), static_cast<unsigned long long>(w.errors),
      static_cast<long long>(projection_lag),
      kafka_lag < 0 ? "-" : std::to_string(kafka_lag).c_str());
  io.out << row << std::flush;
}

void Load::Run(const std::vector<const WorkloadEvent*>& events, Io io) {
  const size_t n = static_cast<size_t>(o_.connections);
  std::vector<std::vector<std::pair<size_t, const WorkloadEvent*>>> lanes(n);
  for (size_t i = 0; i < events.size(); ++i) {
    lanes[std::hash<std::string>()(events[i]->account) % n].emplace_back(i, events[i]);
  }
  start_ = Clock::now();
  std::atomic<size_t> running{n};
  std::vector<std::thread> threads;
  for (auto& lane : lanes) {
    threads.emplace_back([&, lane_events = &lane] {
      Lane(*lane_events);
      --running;
    });
  }
  for (int second = 1; running.load() > 0; ++second) {
    std::this_thread::sleep_until(start_ + std::chrono::seconds(second));
    Report(second, io);
  }
  for (std::thread& thread : threads) thread.join();
  seconds_ = std::chrono::duration<double>(Clock::now() - start_).count();
  if (producer_ != nullptr) (void)producer_->Flush();
}

// The workload for `rate` x `duration` events, its times from now.
std::vector<const WorkloadEvent*> Pick(const workload::Workload& month, size_t wanted) {
  std::vector<const WorkloadEvent*> out;
  for (const WorkloadEvent& event : month.events) {
    if (out.size() == wanted) break;
    if (event.channel == Channel::kFact || event.channel == Channel::kHold) out.push_back(&event);
  }
  return out;
}

}  // namespace

int RunLoad(const LoadOptions& options, Io io) {
  auto endpoint = service::ParseHttpUrl(options.url);
  if (!endpoint.ok()) return Fail(endpoint.status(), io);
  std::unique_ptr<EventProducer> producer;
  if (!options.kafka_brokers.empty()) {
    auto made = EventProducer::Create({.brokers = options.kafka_brokers, .topic = options.topic});
    if (!made.ok()) return Fail(made.status(), io);
    producer = std::move(made).value();
  }
  if (auto ready = service::HttpClient(*endpoint, "").Send("GET", "/readyz"); !ready.ok()) {
    return Fail(ready.status(), io);
  }
  workload::WorkloadOptions shape = options.workload;
  const size_t wanted = static_cast<size_t>(std::ceil(options.rate * options.duration_s));
  // About 0.8 events an account a day: enough days for the run.
  shape.days = static_cast<int>(std::clamp<double>(
      std::ceil(static_cast<double>(wanted) / (0.8 * shape.accounts)) + 1, 1, 366));
  shape.start_micros = SystemClock().NowMicros();
  shape.with_history = false;
  shape.account_prefix = "load-" + std::to_string(shape.seed) + "-";
  const workload::Workload month = workload::Generate(shape);
  const std::vector<const WorkloadEvent*> events = Pick(month, wanted);
  Load load(options, *endpoint, producer.get());
  load.Run(events, io);
  if (const std::string refusal = load.refusal(); !refusal.empty()) {
    io.err << "tally load: the service refused the token (" << refusal << ")\n";
    return kExitUsage;
  }
  const Window& t = load.total();
  if (options.format != OutputFormat::kTable) {
    io.out << Encode(WindowJson(t, load.seconds())
                         .Add("summary", Json::Bool(true))
                         .Add("seconds", Json::String(Fixed(load.seconds(), 3)))
                         .Add("target_per_second", Json::String(Fixed(options.rate, 1))))
           << '\n';
  } else {
    io.out << "sent " << t.sent << " events in " << Fixed(load.seconds(), 1)
           << " s: " << Fixed(t.sent / std::max(load.seconds(), 1e-9), 1) << " a second (target "
           << Fixed(options.rate, 1) << "); " << t.holds << " holds, p50 "
           << Fixed(Percentile(t.hold_ms, 0.5), 2) << " ms, p99 "
           << Fixed(Percentile(t.hold_ms, 0.99), 2) << " ms; " << t.refused << " refused, "
           << t.errors << " errors\n";
  }
  return t.errors == 0 ? kExitOk : kExitFailure;
}

}  // namespace tally::cli
