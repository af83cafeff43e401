// End-to-end load generator: ingest from Kafka into the durable log, side by
// side with direct append in one run, and consumer lag under a steady load.
//
//   direct append             parsed events, AppendFrom in batches of 4096
//   direct parse + append     JSON parsed, then appended: what ingest must do
//   kafka ingest (JSON)       published first, then KafkaIngest::PollOnce
//   kafka ingest (Cap'n Proto)
//   kafka serve               ingest and, beside it, KafkaPublisher's changelog
//                             (JSON, then Cap'n Proto: tally serve --out-format)
//   lag                       a producer at a steady rate while ingest runs
//
// Run: build/bench/ingest_bench [--events N] [--brokers HOST:PORT] [--rate R]
// Without --brokers it uses librdkafka's mock cluster in process.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "adapters/kafka/embedded.h"
#include "adapters/kafka/ingest.h"
#include "adapters/kafka/producer.h"
#include "adapters/kafka/publisher.h"
#include "bench/bench_ledger.h"

namespace tally {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kBatch = 4096;
constexpr int kPartitions = 4;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void Report(const char* name, uint64_t events, double seconds) {
  std::printf("| %-34s | %9llu | %7.2f s | %8.0f |\n", name,
              static_cast<unsigned long long>(events), seconds, events / seconds);
  std::fflush(stdout);
}

// Topics with kPartitions partitions on a real broker (the mock cluster
// creates its own).
void CreateTopics(const std::string& brokers, const std::vector<std::string>& names) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  TALLY_CHECK(rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), error, sizeof(error)) ==
              RD_KAFKA_CONF_OK);
  rd_kafka_t* admin = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  TALLY_CHECK(admin != nullptr);
  std::vector<rd_kafka_NewTopic_t*> topics;
  for (const std::string& name : names) {
    topics.push_back(rd_kafka_NewTopic_new(name.c_str(), kPartitions, 1, error, sizeof(error)));
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_new(admin);
  rd_kafka_CreateTopics(admin, topics.data(), topics.size(), nullptr, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 30'000);
  TALLY_CHECK(event != nullptr);
  rd_kafka_event_destroy(event);
  rd_kafka_NewTopic_destroy_array(topics.data(), topics.size());
  rd_kafka_queue_destroy(queue);
  rd_kafka_destroy(admin);
}

void Publish(const std::string& brokers, const std::string& topic, uint64_t events, bool binary) {
  EventCodec codec;
  auto producer =
      std::move(EventProducer::Create({.brokers = brokers, .topic = topic, .binary = binary}))
          .value();
  for (uint64_t i = 0; i < events; ++i) TALLY_CHECK(producer->Produce(UsageEvent(codec, i)).ok());
  TALLY_CHECK(producer->Flush().ok());
}

void DirectAppend(uint64_t events, bool parse) {
  BenchLedger bench;
  EventCodec codec;
  std::vector<std::string> json;
  std::vector<Event> parsed;
  for (uint64_t i = 0; i < events; ++i) {
    if (parse) {
      json.push_back(UsageJson(i));
    } else {
      parsed.push_back(UsageEvent(codec, i));
    }
  }
  auto start = Clock::now();
  for (uint64_t from = 0; from < events; from += kBatch) {
    const uint64_t to = std::min<uint64_t>(events, from + kBatch);
    std::vector<Event> batch;
    if (parse) {
      for (uint64_t i = from; i < to; ++i) batch.push_back(*codec.ParseJson(json[i]));
    }
    const SourceOffset offset{"direct", 0, static_cast<int64_t>(to)};
    auto outcomes =
        bench.ledger().AppendFrom(parse ? std::span<const Event>(batch)
                                        : std::span<const Event>(parsed.data() + from, to - from),
                                  {.offsets = {&offset, 1}});
    TALLY_CHECK(outcomes.ok());
  }
  Report(parse ? "direct parse (JSON) + append" : "direct append (parsed)", events,
         SecondsSince(start));
}

std::unique_ptr<KafkaIngest> NewIngest(Ledger& ledger, const std::string& brokers,
                                       const std::string& topic) {
  KafkaIngestOptions options;
  options.brokers = brokers;
  options.topics = {topic};
  options.group_id = "bench-" + topic;
  return std::move(KafkaIngest::Create(ledger, options)).value();
}

// Ingests `events` published to `topic`; timed from the first message taken.
void Ingest(const std::string& brokers, const std::string& topic, uint64_t events, bool binary,
            bool publish_changelog, const char* name, bool binary_out = false) {
  Publish(brokers, topic, events, binary);
  BenchLedger bench;
  auto ingest = NewIngest(bench.ledger(), brokers, topic);
  std::unique_ptr<KafkaPublisher> publisher;
  std::atomic<bool> ingest_done{false};
  std::thread publishing;
  if (publish_changelog) {
    KafkaPublisherOptions out;
    out.brokers = brokers;
    out.changelog_topic = topic + ".changelog";
    out.outcomes_topic = topic + ".outcomes";
    out.dead_letter_topic = topic + ".dead";
    out.binary = binary_out;
    publisher = std::move(KafkaPublisher::Create(bench.ledger(), out)).value();
  }
  IngestCounts counts;
  auto start = Clock::now();
  while (counts.messages == 0) {
    start = Clock::now();
    TALLY_CHECK(ingest->PollOnce(counts).ok());
  }
  if (publisher != nullptr) {
    publishing = std::thread([&] {
      PublishCounts published;
      for (;;) {
        auto more = publisher->PublishOnce(published);
        TALLY_CHECK(more.ok());
        if (!*more && ingest_done.load()) return;
        if (!*more) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  }
  while (counts.messages < events) TALLY_CHECK(ingest->PollOnce(counts).ok());
  ingest_done.store(true);
  if (publishing.joinable()) publishing.join();
  TALLY_CHECK(counts.appended == events);
  Report(name, events, SecondsSince(start));
}

// A producer at `rate` events/s for `seconds` while ingest runs; the lag
// (messages published, not yet appended) sampled every 100 ms.
void SteadyLoad(const std::string& brokers, const std::string& topic, uint64_t rate, int seconds) {
  BenchLedger bench;
  auto ingest = NewIngest(bench.ledger(), brokers, topic);
  IngestCounts counts;
  while (ingest->assigned_partitions() == 0) TALLY_CHECK(ingest->PollOnce(counts).ok());
  const uint64_t total = rate * static_cast<uint64_t>(seconds);
  std::thread producing([&] {
    EventCodec codec;
    auto producer = std::move(EventProducer::Create({.brokers = brokers, .topic = topic})).value();
    auto start = Clock::now();
    for (uint64_t i = 0; i < total; ++i) {
      // Paced in steps of 10 ms.
      const auto due = start + std::chrono::microseconds(i * 1'000'000 / rate);
      if (i % (rate / 100 + 1) == 0) std::this_thread::sleep_until(due);
      TALLY_CHECK(producer->Produce(UsageEvent(codec, i)).ok());
    }
    TALLY_CHECK(producer->Flush().ok());
  });
  std::vector<uint64_t> lags;
  auto last_sample = Clock::now();
  while (counts.messages < total) {
    TALLY_CHECK(ingest->PollOnce(counts).ok());
    if (SecondsSince(last_sample) >= 0.1) {
      if (auto lag = ingest->Lag()) lags.push_back(*lag);
      last_sample = Clock::now();
    }
  }
  producing.join();
  std::sort(lags.begin(), lags.end());
  const uint64_t median = lags.empty() ? 0 : lags[lags.size() / 2];
  const uint64_t p99 = lags.empty() ? 0 : lags[lags.size() * 99 / 100];
  const uint64_t max = lags.empty() ? 0 : lags.back();
  std::printf(
      "\nSteady load: %llu events/s for %d s (%zu samples): consumer lag median %llu events "
      "(%.0f ms at that rate), p99 %llu (%.0f ms), max %llu (%.0f ms)\n",
      static_cast<unsigned long long>(rate), seconds, lags.size(),
      static_cast<unsigned long long>(median), 1000.0 * median / rate,
      static_cast<unsigned long long>(p99), 1000.0 * p99 / rate,
      static_cast<unsigned long long>(max), 1000.0 * max / rate);
}

}  // namespace
}  // namespace tally

int main(int argc, char** argv) {
  using namespace tally;
  uint64_t events = 200'000;
  uint64_t rate = 20'000;
  std::string brokers;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--events") == 0) events = std::stoull(argv[i + 1]);
    if (std::strcmp(argv[i], "--rate") == 0) rate = std::stoull(argv[i + 1]);
    if (std::strcmp(argv[i], "--brokers") == 0) brokers = argv[i + 1];
  }
  const std::string run = std::to_string(::getpid());
  const std::vector<std::string> topics = {"bench.json." + run, "bench.capnp." + run,
                                           "bench.serve." + run, "bench.steady." + run,
                                           "bench.serve-capnp." + run};
  std::unique_ptr<EmbeddedKafka> embedded;
  if (brokers.empty()) {
    std::vector<TopicSpec> specs;
    for (const std::string& topic : topics) specs.push_back({topic, kPartitions});
    specs.push_back({topics[2] + ".changelog", 1});
    specs.push_back({topics[4] + ".changelog", 1});
    embedded = std::move(EmbeddedKafka::Start(specs)).value();
    brokers = embedded->bootstrap();
    std::printf("Kafka: librdkafka's mock cluster in process\n\n");
  } else {
    CreateTopics(brokers, topics);
    std::printf("Kafka: broker at %s\n\n", brokers.c_str());
  }
  std::printf("| %-34s | %9s | %9s | %8s |\n| --- | ---: | ---: | ---: |\n", "case", "events",
              "time", "events/s");
  DirectAppend(events, /*parse=*/false);
  DirectAppend(events, /*parse=*/true);
  Ingest(brokers, topics[0], events, /*binary=*/false, false, "kafka ingest (JSON)");
  Ingest(brokers, topics[1], events, /*binary=*/true, false, "kafka ingest (Cap'n Proto)");
  Ingest(brokers, topics[2], events, /*binary=*/false, true,
         "kafka serve (JSON in, changelog out)");
  Ingest(brokers, topics[4], events, /*binary=*/false, true,
         "kafka serve (JSON in, capnp changelog out)", /*binary_out=*/true);
  SteadyLoad(brokers, topics[3], rate, 10);
  return 0;
}
