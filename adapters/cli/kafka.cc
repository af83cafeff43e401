// tally serve and tally publish: Kafka in and out (docs/kafka.md).
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "adapters/cli/exit_codes.h"
#include "adapters/cli/serve.h"
#include "adapters/cli/support.h"
#include "adapters/kafka/producer.h"
#include "events/codec.h"
#include "projections/store.h"

namespace tally::cli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kTickEveryMs = 1'000;      // ledger timers, when idle
constexpr int64_t kCatchUpEveryMs = 5'000;   // projections, when idle
constexpr int64_t kProgressEveryMs = 1'000;  // ServeHooks::on_progress (metrics)

std::atomic<bool> g_stop{false};

void OnStopSignal(int) { g_stop.store(true); }

int64_t MillisSince(Clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
}

// The lag, or "null" before the first fetch.
std::string LagText(const KafkaIngest& ingest) {
  auto lag = ingest.Lag();
  return lag ? std::to_string(*lag) : "null";
}

// KafkaPublisher on a thread of its own, so that reading the log and
// encoding the changelog run beside ingest. The serve loop reads snapshots.
class PublishingThread {
 public:
  struct Snapshot {
    PublishCounts counts;
    bool pending = true;     // more to publish, as of the last pass
    std::string wait_error;  // the broker did not acknowledge: retrying
    Status fatal;            // a ledger failure: publishing stopped
    KafkaHealth health;
  };

  explicit PublishingThread(KafkaPublisher& publisher)
      : publisher_(publisher), thread_([this] { Run(); }) {}
  ~PublishingThread() { Stop(); }
  PublishingThread(const PublishingThread&) = delete;
  PublishingThread& operator=(const PublishingThread&) = delete;

  // Finishes the pass under way (at most the delivery timeout) and stops.
  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

  Snapshot Read() const {
    std::lock_guard lock(mutex_);
    return snapshot_;
  }

 private:
  void Run() {
    PublishCounts counts;
    while (!stop_.load()) {
      auto more = publisher_.PublishOnce(counts);
      const bool retry = !more.ok() && more.status().code() == StatusCode::kUnavailable;
      {
        std::lock_guard lock(mutex_);
        snapshot_.counts = counts;
        snapshot_.health = publisher_.health();
        snapshot_.pending = !more.ok() || *more;
        snapshot_.wait_error = retry ? more.status().message() : "";
        if (!more.ok() && !retry) {
          snapshot_.fatal = more.status();
          return;
        }
      }
      if (more.ok() && !*more) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  KafkaPublisher& publisher_;
  mutable std::mutex mutex_;
  Snapshot snapshot_;  // under mutex_
  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: starts once the rest is ready
};

Json LagJson(const KafkaIngest& ingest) {
  auto lag = ingest.Lag();
  return lag ? Json::Integer(static_cast<int64_t>(*lag)) : Json();
}

void PrintStatus(const ServeTotals& totals, const KafkaIngest& ingest,
                 const PublishingThread::Snapshot& publishing, const Ledger& ledger,
                 const ServeLog& log) {
  const IngestCounts& in = totals.ingest;
  const PublishCounts& out = publishing.counts;
  const std::string& publish_error = publishing.wait_error;
  const uint64_t errors = ingest.health().errors + publishing.health.errors;
  std::string last_error = publishing.health.last_error;
  if (last_error.empty()) last_error = ingest.health().last_error;
  const std::vector<std::string> warnings = ingest.OffsetWarnings();
  auto n = [](uint64_t value) { return Json::Integer(static_cast<int64_t>(value)); };
  Json status = Json::Object();
  status.Add("head_seq", n(ledger.head_seq()))
      .Add("messages", n(in.messages))
      .Add("appended", n(in.appended))
      .Add("duplicates", n(in.duplicates))
      .Add("rejected", n(in.rejected))
      .Add("malformed", n(in.malformed))
      .Add("fenced", n(in.fenced))
      .Add("ticked", n(totals.ticked))
      .Add("published_seq", n(out.published_seq))
      .Add("changelog", n(out.changelog))
      .Add("outcomes", n(out.outcomes))
      .Add("dead_letters", n(out.dead_letters))
      .Add("lag", LagJson(ingest))
      .Add("partitions", n(ingest.assigned_partitions()))
      .Add("kafka_errors", n(errors))
      .Add("last_kafka_error", Json::String(last_error))
      .Add("publish_error", Json::String(publish_error))
      .Add("offset_warnings", n(warnings.size()));
  std::ostringstream text;
  text << "head seq " << ledger.head_seq() << " | in: " << in.messages << " messages, "
       << in.appended << " appended, " << in.duplicates << " duplicates, " << in.rejected
       << " rejected, " << in.malformed << " malformed, lag " << LagText(ingest) << ", "
       << ingest.assigned_partitions() << " partitions | out: published through seq "
       << out.published_seq << " (" << out.changelog << " changelog, " << out.outcomes
       << " outcomes, " << out.dead_letters << " dead letters) | kafka errors " << errors;
  if (!last_error.empty()) text << " (last: " << last_error << ")";
  if (!publish_error.empty()) text << " | publishing waits: " << publish_error;
  if (!warnings.empty()) text << " | offset warnings " << warnings.size() << " (see above)";
  log.Status(status, text.str());
}

// Prints each offset warning once, when it first appears.
void LogOffsetWarnings(const KafkaIngest& ingest, std::set<std::string>& logged,
                       const ServeLog& log) {
  for (const std::string& warning : ingest.OffsetWarnings()) {
    if (logged.insert(warning).second) log.Warn(warning);
  }
}

// Brings the projections up to the log, if no other command holds them.
void CatchUpProjections(const Ledger& ledger, const std::string& data_dir) {
  auto store = ProjectionStore::Open(ledger, data_dir);
  if (store.ok()) (void)(*store)->CatchUp();
}

}  // namespace

Result<std::unique_ptr<EmbeddedKafka>> StartEmbeddedKafka(const ServeOptions& options) {
  std::vector<TopicSpec> topics;
  for (const std::string& topic : options.topics) topics.push_back({topic, options.partitions});
  for (const std::string* topic :
       {&options.changelog_topic, &options.outcomes_topic, &options.dead_letter_topic}) {
    topics.push_back({*topic, 1});
  }
  return EmbeddedKafka::Start(topics);
}

Result<ServeTotals> Serve(Ledger& ledger, const ServeOptions& options, const KafkaCluster& kafka,
                          const std::atomic<bool>& stop, const ServeLog& log,
                          const ServeHooks& hooks) {
  const std::string& brokers = kafka.brokers;
  KafkaIngestOptions in;
  in.brokers = brokers;
  in.cluster_id = kafka.cluster_id;
  in.topics = options.topics;
  in.group_id = options.group_id;
  in.instance_id = options.instance_id;
  in.fetch_wait_max_ms = options.fetch_wait_max_ms;
  auto ingest = KafkaIngest::Create(ledger, in);
  if (!ingest.ok()) return ingest.status();
  KafkaPublisherOptions out;
  out.brokers = brokers;
  out.changelog_topic = options.changelog_topic;
  out.outcomes_topic = options.outcomes_topic;
  out.dead_letter_topic = options.dead_letter_topic;
  out.binary = options.binary_out;
  auto publisher = KafkaPublisher::Create(ledger, out);
  if (!publisher.ok()) return publisher.status();

  ServeTotals totals;
  PublishingThread publishing(**publisher);
  auto idle_since = Clock::now();
  auto last_status = Clock::now();
  auto last_tick = Clock::now();
  auto last_catch_up = Clock::now();
  auto last_progress = Clock::now();
  std::set<std::string> logged_warnings;
  Status failed;
  while (!stop.load()) {
    const uint64_t taken = totals.ingest.messages;
    if (failed = (*ingest)->PollOnce(totals.ingest); !failed.ok()) break;
    const PublishingThread::Snapshot published = publishing.Read();
    if (failed = published.fatal; !failed.ok()) break;
    const bool idle = totals.ingest.messages == taken && !published.pending &&
                      published.counts.published_seq == ledger.head_seq();
    if (idle && MillisSince(last_tick) >= kTickEveryMs) {
      auto ticked = ledger.Tick();
      if (failed = ticked.status(); !failed.ok()) break;
      totals.ticked += *ticked;
      last_tick = Clock::now();
    }
    if (idle && MillisSince(last_catch_up) >= kCatchUpEveryMs) {
      if (hooks.catch_up) {
        hooks.catch_up();
      } else {
        CatchUpProjections(ledger, options.data_dir);
      }
      last_catch_up = Clock::now();
    }
    LogOffsetWarnings(**ingest, logged_warnings, log);
    if (hooks.on_progress && MillisSince(last_progress) >= kProgressEveryMs) {
      hooks.on_progress(ServeProgress{totals, (*ingest)->Lag(), (*ingest)->assigned_partitions()});
      last_progress = Clock::now();
    }
    if (MillisSince(last_status) >= options.status_every_ms) {
      PrintStatus(totals, **ingest, published, ledger, log);
      last_status = Clock::now();
    }
    // Idle only once partitions are assigned and fully taken.
    if (!idle || (*ingest)->assigned_partitions() == 0 || (*ingest)->Lag() != uint64_t{0}) {
      idle_since = Clock::now();
    } else if (options.exit_when_idle_ms > 0 &&
               MillisSince(idle_since) >= options.exit_when_idle_ms) {
      break;
    }
  }
  publishing.Stop();
  Status finished = (*ingest)->Finish(totals.ingest);
  if (failed.ok()) failed = finished;
  totals.published = publishing.Read().counts;
  PrintStatus(totals, **ingest, publishing.Read(), ledger, log);
  if (!failed.ok()) return failed;
  return totals;
}

Result<ConnectedKafka> ConnectKafka(const ServeOptions& options, const ServeLog& log) {
  if (options.topics.empty()) return Status::InvalidArgument("no --topic to consume");
  ConnectedKafka connected{{options.brokers, ""}, nullptr};
  std::string& brokers = connected.cluster.brokers;
  if (brokers.empty()) {
    auto started = StartEmbeddedKafka(options);
    if (!started.ok()) return started.status();
    connected.embedded = std::move(started).value();
    brokers = connected.embedded->bootstrap();
    connected.cluster.cluster_id = connected.embedded->cluster_id();
    log.Info("no --kafka-brokers: librdkafka's mock cluster in this process at " + brokers +
                 " (memory only; for trying things, not for production)",
             Json::Object().Add("brokers", Json::String(brokers)));
    log.Info("publish to it with: tally publish --brokers " + brokers + " FILE.ndjson");
  }
  log.Info("consuming " + options.topics.front() + (options.topics.size() > 1 ? " and more" : "") +
               " at " + brokers + " as group " + options.group_id + "; appending to " +
               options.data_dir,
           Json::Object()
               .Add("brokers", Json::String(brokers))
               .Add("group", Json::String(options.group_id)));
  return connected;
}

int RunServe(const ServeOptions& options, OutputFormat format, Io io) {
  g_stop.store(false);
  struct sigaction action = {};
  action.sa_handler = &OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  if (!options.listen.empty()) return ServeHttp(options, g_stop, format, io);
  if (!options.kafka) {
    return Fail(Status::InvalidArgument("--no-kafka: give --listen, or there is nothing to serve"),
                io);
  }
  SystemClock clock;
  auto ledger =
      OpenLedger(options.data_dir, options.master_key, &clock, /*create_if_missing=*/true);
  if (!ledger.ok()) return Fail(ledger.status(), io);
  const ServeLog log(io, format, &clock);
  auto kafka = ConnectKafka(options, log);
  if (!kafka.ok()) return Fail(kafka.status(), io);
  auto totals = Serve(**ledger, options, kafka->cluster, g_stop, log);
  if (!totals.ok()) return Fail(totals.status(), io);
  const uint64_t head = (*ledger)->head_seq();
  log.Info("stopped cleanly at head seq " + std::to_string(head),
           Json::Object().Add("head_seq", Json::Integer(static_cast<int64_t>(head))));
  return kExitOk;
}

int RunPublish(const PublishOptions& options, OutputFormat format, Io io) {
  std::ifstream stream;
  uint64_t size_hint_bytes = 0;
  if (options.file != "-") {
    stream.open(options.file, std::ios::binary);
    if (!stream) return Fail(Status::InvalidArgument("cannot open " + options.file), io);
    std::error_code ignored;
    size_hint_bytes = std::filesystem::file_size(options.file, ignored);
  }
  EventCodec codec;
  std::istream& in = options.file == "-" ? std::cin : stream;
  auto read = ReadNdjson(in, size_hint_bytes, codec, SIZE_MAX);
  if (!read.ok()) return Fail(read.status(), io);
  if (read->errors_total > 0) {
    PrintLineErrors(*read, "published", format, io);
    return kExitInvalidInput;
  }
  auto producer = EventProducer::Create(
      {.brokers = options.brokers, .topic = options.topic, .binary = options.binary});
  if (!producer.ok()) return Fail(producer.status(), io);
  {
    Progress progress("publishing", read->events.size());
    for (size_t i = 0; i < read->events.size(); ++i) {
      if (auto status = (*producer)->Produce(read->events[i]); !status.ok())
        return Fail(status, io);
      progress.Update(i + 1);
    }
    if (auto status = (*producer)->Flush(); !status.ok()) {
      return Fail(status.WithContext(std::to_string((*producer)->acknowledged()) + " of " +
                                     std::to_string(read->events.size()) + " events acknowledged"),
                  io);
    }
  }
  const uint64_t published = (*producer)->acknowledged();
  if (format == OutputFormat::kJson) {
    io.out << Encode(Json::Object()
                         .Add("published", Json::Integer(static_cast<int64_t>(published)))
                         .Add("topic", Json::String(options.topic))
                         .Add("format", Json::String(options.binary ? "capnp" : "json")))
           << '\n';
  } else if (format == OutputFormat::kCsv) {
    io.out << "published,topic,format\n"
           << published << ',' << options.topic << ',' << (options.binary ? "capnp" : "json")
           << '\n';
  } else {
    io.out << "Published " << published << " events to " << options.topic << " at "
           << options.brokers << " (" << (options.binary ? "Cap'n Proto" : "JSON")
           << ", key = account).\n";
  }
  return kExitOk;
}

}  // namespace tally::cli
