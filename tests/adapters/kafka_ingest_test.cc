// Kafka ingest against librdkafka's mock cluster (a real broker protocol in
// process): every message appended once across restarts, offsets kept by the
// ledger, malformed messages to the dead-letter topic with their reason.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <map>
#include <set>

#include "adapters/kafka/embedded.h"
#include "adapters/kafka/ingest.h"
#include "adapters/kafka/producer.h"
#include "adapters/kafka/publisher.h"
#include "events/codec.h"
#include "tests/events/event_fixtures.h"
#include "tests/file_scan.h"
#include "tests/ledger/ledger_fixture.h"

namespace tally {
namespace {

using testing::TopUp;
using testing::Usage;

constexpr const char* kTopic = "billing.events";
constexpr int kPartitions = 4;

struct Message {
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;
};

// The mock cluster (adapters/kafka/embedded.h) with the test's topics, a
// producer to publish with, and a reader of whole topics.
class MockCluster {
 public:
  MockCluster() {
    const TopicSpec topics[] = {{kTopic, kPartitions},
                                {"tally.changelog", 1},
                                {"tally.outcomes", 1},
                                {"tally.dead-letter", 1}};
    auto kafka = EmbeddedKafka::Start(topics);
    TALLY_CHECK(kafka.ok());
    kafka_ = std::move(kafka).value();
    auto producer = EventProducer::Create({.brokers = kafka_->bootstrap(), .topic = kTopic});
    TALLY_CHECK(producer.ok());
    producer_ = std::move(producer).value();
  }

  const std::string& bootstraps() const { return kafka_->bootstrap(); }
  const std::string& cluster_id() const { return kafka_->cluster_id(); }
  void SetBrokerUp(bool up) { TALLY_CHECK(kafka_->SetBrokersUp(up).ok()); }

  void Publish(const std::string& key, const std::string& value,
               const std::string& content_type = "") {
    TALLY_CHECK(producer_->ProduceRaw(key, value, content_type).ok());
  }
  void Flush() { TALLY_CHECK(producer_->Flush().ok()); }

  // Every message of a topic's partition 0, read until none came for 1 s.
  std::vector<Message> ReadAll(const std::string& topic) {
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    TALLY_CHECK(rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps().c_str(), error,
                                  sizeof(error)) == RD_KAFKA_CONF_OK);
    TALLY_CHECK(rd_kafka_conf_set(conf, "group.id", "reader", error, sizeof(error)) ==
                RD_KAFKA_CONF_OK);
    rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error));
    TALLY_CHECK(consumer != nullptr);
    rd_kafka_topic_partition_list_t* partitions = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(partitions, topic.c_str(), 0)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
    TALLY_CHECK(rd_kafka_assign(consumer, partitions) == RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(partitions);
    std::vector<Message> out;
    auto quiet_since = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - quiet_since < std::chrono::seconds(1)) {
      rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer, 100);
      if (message == nullptr) continue;
      if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        quiet_since = std::chrono::steady_clock::now();
        Message read;
        if (message->key != nullptr) {
          read.key.assign(static_cast<const char*>(message->key), message->key_len);
        }
        read.value.assign(static_cast<const char*>(message->payload), message->len);
        rd_kafka_headers_t* headers = nullptr;
        if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
          const char* name = nullptr;
          const void* value = nullptr;
          size_t size = 0;
          for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
                             RD_KAFKA_RESP_ERR_NO_ERROR;
               ++i) {
            read.headers[name].assign(static_cast<const char*>(value), size);
          }
        }
        out.push_back(std::move(read));
      }
      rd_kafka_message_destroy(message);
    }
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    return out;
  }

 private:
  std::unique_ptr<EmbeddedKafka> kafka_;
  std::unique_ptr<EventProducer> producer_;
};

std::string Task(const std::string& id, const std::string& account, const std::string& estimate) {
  return testing::JsonEvent(id, account, "task_submitted",
                            R"({"task_id":")" + id + R"(","estimate":")" + estimate + R"("})");
}

class KafkaIngestTest : public testing::LedgerFixture {
 protected:
  std::unique_ptr<KafkaIngest> NewIngest(const std::string& group_id = "tally") {
    KafkaIngestOptions options;
    options.brokers = cluster_->bootstraps();
    options.topics = {kTopic};
    options.group_id = group_id;
    options.cluster_id = cluster_->cluster_id();
    auto ingest = KafkaIngest::Create(*ledger_, options);
    EXPECT_TRUE(ingest.ok()) << ingest.status().ToString();
    return ingest.ok() ? std::move(ingest).value() : nullptr;
  }

  // Ingests until `done` or 30 s pass; `between` runs after every poll.
  IngestCounts IngestUntil(
      const std::function<bool(const IngestCounts&)>& done, const std::string& group_id = "tally",
      const std::function<void(const IngestCounts&)>& between = [](const IngestCounts&) {}) {
    IngestCounts counts;
    auto ingest = NewIngest(group_id);
    if (ingest == nullptr) return counts;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!done(counts) && std::chrono::steady_clock::now() < deadline) {
      Status status = ingest->PollOnce(counts);
      EXPECT_TRUE(status.ok()) << status.ToString();
      if (!status.ok()) break;
      between(counts);
    }
    return counts;
  }

  std::unique_ptr<KafkaPublisher> NewPublisher(int delivery_timeout_ms = 30'000,
                                               bool binary = false) {
    KafkaPublisherOptions options;
    options.brokers = cluster_->bootstraps();
    options.binary = binary;
    options.batch_events_max = 64;
    options.delivery_timeout_ms = delivery_timeout_ms;
    auto publisher = KafkaPublisher::Create(*ledger_, options);
    EXPECT_TRUE(publisher.ok()) << publisher.status().ToString();
    return publisher.ok() ? std::move(publisher).value() : nullptr;
  }

  // Publishes until nothing is pending.
  PublishCounts PublishAll(KafkaPublisher& publisher) {
    PublishCounts counts;
    for (;;) {
      auto more = publisher.PublishOnce(counts);
      EXPECT_TRUE(more.ok()) << more.status().ToString();
      if (!more.ok() || !*more) return counts;
    }
  }

  std::map<int32_t, int64_t> StoredOffsets() {
    std::map<int32_t, int64_t> out;
    for (int32_t p = 0; p < kPartitions; ++p) {
      auto stored = ledger_->StoredOffset(kTopic, p);
      EXPECT_TRUE(stored.ok());
      if (stored.ok() && *stored) out[p] = **stored;
    }
    return out;
  }

  uint64_t ProducerEvents() {
    uint64_t events = 0;
    std::set<std::string> ids;
    for (const LoggedEvent& e : Log()) {
      if (IsLedgerMade(e.event)) continue;
      ++events;
      EXPECT_TRUE(ids.insert(e.event.reader().getId().cStr()).second);
    }
    return events;
  }

  std::unique_ptr<MockCluster> cluster_ = std::make_unique<MockCluster>();
};

TEST_F(KafkaIngestTest, EveryMessageIsAppendedOnceAcrossRestarts) {
  constexpr int kFirst = 300;
  for (int i = 0; i < kFirst; ++i) {
    std::string account = "acct-" + std::to_string(i % 7);
    cluster_->Publish(account, i % 3 == 0 ? TopUp("t" + std::to_string(i), account, "10")
                                          : Usage("u" + std::to_string(i), account, "1"));
  }
  cluster_->Flush();
  IngestCounts first = IngestUntil([&](const IngestCounts& c) { return c.messages >= kFirst; });
  EXPECT_EQ(first.messages, static_cast<uint64_t>(kFirst));
  EXPECT_EQ(first.appended, static_cast<uint64_t>(kFirst));
  EXPECT_EQ(first.malformed + first.rejected, 0u);
  int64_t offsets_sum = 0;
  for (const auto& [partition, next] : StoredOffsets()) offsets_sum += next;
  EXPECT_EQ(offsets_sum, kFirst);  // every partition's offsets, stored by the ledger

  // A new consumer (a restart) takes only what came after, and a redelivered
  // event published again is acknowledged as a duplicate. It joins a group
  // with no committed offsets: where to start comes from the ledger alone
  // (from Kafka's "earliest" it would read all 300 again).
  constexpr int kSecond = 50;
  for (int i = kFirst; i < kFirst + kSecond; ++i) {
    std::string account = "acct-" + std::to_string(i % 7);
    cluster_->Publish(account, Usage("u" + std::to_string(i), account, "1"));
  }
  cluster_->Publish("acct-1", Usage("u1", "acct-1", "1"));  // sent again by its producer
  cluster_->Flush();
  Reopen();
  IngestCounts second = IngestUntil(
      [&](const IngestCounts& c) { return c.messages >= kSecond + 1; }, "tally-restarted");
  EXPECT_EQ(second.messages, static_cast<uint64_t>(kSecond + 1));
  EXPECT_EQ(second.appended, static_cast<uint64_t>(kSecond));
  EXPECT_EQ(second.duplicates, 1u);
  EXPECT_EQ(ProducerEvents(), static_cast<uint64_t>(kFirst + kSecond));

  // The same group again: the closed consumer left the group, so the
  // restarted one gets the partitions at once and takes only the new one.
  cluster_->Publish("acct-2", Usage("u-last", "acct-2", "1"));
  cluster_->Flush();
  Reopen();
  IngestCounts third = IngestUntil([&](const IngestCounts& c) { return c.messages >= 1; });
  EXPECT_EQ(third.messages, 1u);
  EXPECT_EQ(third.appended, 1u);
}

// Two consumers in one group split the partitions; every message is
// appended once, whichever took it.
TEST_F(KafkaIngestTest, TwoConsumersInOneGroupSplitThePartitions) {
  constexpr int kMessages = 400;
  for (int i = 0; i < kMessages; ++i) {
    std::string account = "acct-" + std::to_string(i % 11);
    cluster_->Publish(account, Usage("u" + std::to_string(i), account, "1"));
  }
  cluster_->Flush();
  auto a = NewIngest();
  auto b = NewIngest();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  IngestCounts counts_a, counts_b;
  bool split = false;
  // The mock cluster's group coordinator can take several session
  // timeouts to settle a join (librdkafka 2.0): polling goes on until the
  // split has been seen, not only until every message is taken.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while ((counts_a.messages + counts_b.messages < kMessages || !split) &&
         std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(a->PollOnce(counts_a).ok());
    ASSERT_TRUE(b->PollOnce(counts_b).ok());
    split = split || (a->assigned_partitions() > 0 && b->assigned_partitions() > 0 &&
                      a->assigned_partitions() + b->assigned_partitions() == kPartitions);
  }
  EXPECT_TRUE(split) << "the group never split the partitions";
  EXPECT_EQ(counts_a.appended + counts_b.appended, static_cast<uint64_t>(kMessages));
  EXPECT_EQ(ProducerEvents(), static_cast<uint64_t>(kMessages));
}

// The broker goes down once the first half is taken; the second half is
// published while it is down (the producer holds it) and arrives when it is
// back. One ingest rides it out: every message appended once, and the
// outage is reported through the health counters.
TEST_F(KafkaIngestTest, ABrokerDownAndUpAgainLosesAndRepeatsNothing) {
  constexpr int kHalf = 100;
  auto publish = [&](int from) {
    for (int i = from; i < from + kHalf; ++i) {
      std::string account = "acct-" + std::to_string(i % 5);
      cluster_->Publish(account, Usage("u" + std::to_string(i), account, "1"));
    }
  };
  publish(0);
  cluster_->Flush();
  bool went_down = false;
  bool came_back = false;
  auto down_since = std::chrono::steady_clock::now();
  auto ingest = NewIngest();
  ASSERT_NE(ingest, nullptr);
  IngestCounts counts;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (counts.messages < 2 * kHalf && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(ingest->PollOnce(counts).ok());
    if (!went_down && counts.messages >= kHalf) {
      cluster_->SetBrokerUp(false);
      went_down = true;
      down_since = std::chrono::steady_clock::now();
      publish(kHalf);  // queued by the producer until the broker is back
    } else if (went_down && !came_back &&
               std::chrono::steady_clock::now() - down_since > std::chrono::seconds(2)) {
      EXPECT_GT(ingest->health().errors, 0u) << "the outage was not reported";
      cluster_->SetBrokerUp(true);
      came_back = true;
    }
  }
  EXPECT_TRUE(came_back);
  EXPECT_FALSE(ingest->health().last_error.empty());
  EXPECT_EQ(counts.messages, static_cast<uint64_t>(2 * kHalf));
  EXPECT_EQ(counts.appended, static_cast<uint64_t>(2 * kHalf));
  EXPECT_EQ(counts.duplicates, 0u);
  EXPECT_EQ(ProducerEvents(), static_cast<uint64_t>(2 * kHalf));
}

// Malformed messages and events the ledger rejects are kept as dead letters
// in the same write as the offsets, and the publisher delivers them to the
// dead-letter topic with the reason and where they came from.
TEST_F(KafkaIngestTest, MalformedAndRejectedMessagesReachTheDeadLetterTopic) {
  cluster_->Publish("acct-1", TopUp("t1", "acct-1", "10"));
  cluster_->Publish("acct-1", "{not json");
  cluster_->Publish("acct-2", Usage("u1", "acct-1", "1"));  // key is not the account
  cluster_->Publish("acct-1", Usage("u2", "acct-1", "1"));
  const std::string conflicting = Usage("u2", "acct-1", "7");  // same id, other content
  cluster_->Publish("acct-1", conflicting);
  const std::string garbage("\x01\x00\x00\x00\xff\xff\xff\x7f garbage", 17);
  cluster_->Publish("acct-1", garbage, "application/x-capnp");  // not a Cap'n Proto message
  // A valid Cap'n Proto event after all that: ingest went on.
  EventCodec codec;
  cluster_->Publish("acct-1", codec.ToBinary(*codec.ParseJson(Usage("u3", "acct-1", "1"))),
                    "application/x-capnp");
  cluster_->Flush();
  IngestCounts counts = IngestUntil([](const IngestCounts& c) { return c.messages >= 7; });
  EXPECT_EQ(counts.appended, 3u);
  EXPECT_EQ(counts.malformed, 3u);
  EXPECT_EQ(counts.rejected, 1u);
  // Kept across a restart until delivered.
  Reopen();
  auto kept = ledger_->DeadLetters(10);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->size(), 4u);
  auto publisher = NewPublisher();
  ASSERT_NE(publisher, nullptr);
  PublishCounts published = PublishAll(*publisher);
  EXPECT_EQ(published.dead_letters, 4u);
  EXPECT_TRUE(ledger_->DeadLetters(10)->empty());
  auto letters = cluster_->ReadAll("tally.dead-letter");
  ASSERT_EQ(letters.size(), 4u);
  // By reason. A message that parsed is kept as the event (re-encoded in
  // its format); the bytes of one that did not are not kept.
  auto find = [&](const std::string& reason) -> Message {
    for (const Message& letter : letters) {
      if (letter.headers.at("tally-error").find(reason) != std::string::npos) return letter;
    }
    ADD_FAILURE() << "no dead letter says " << reason;
    return {};
  };
  Message not_json = find("not valid JSON");
  EXPECT_EQ(not_json.value, "");
  EXPECT_EQ(not_json.headers["tally-value"], "omitted");
  EXPECT_EQ(not_json.headers["tally-value-bytes"], "9");
  EXPECT_EQ(not_json.headers["tally-source-topic"], kTopic);
  EXPECT_FALSE(not_json.headers["tally-source-offset"].empty());
  Message conflict = find("u2");
  EXPECT_EQ(conflict.key, "acct-1");
  EXPECT_EQ(conflict.headers["tally-value"], "event");
  auto conflict_event = codec.ParseJson(conflict.value);
  ASSERT_TRUE(conflict_event.ok()) << conflict.value;
  EXPECT_EQ(codec.ToJson(*conflict_event), codec.ToJson(*codec.ParseJson(conflicting)));
  Message binary = find("binary event");
  EXPECT_EQ(binary.headers["content-type"], "application/x-capnp");
  EXPECT_EQ(binary.headers["tally-value"], "omitted");
  EXPECT_EQ(binary.headers["tally-value-bytes"], std::to_string(garbage.size()));
  Message misrouted = find("is not the event's account");
  EXPECT_EQ(misrouted.key, "acct-2");
  EXPECT_TRUE(codec.ParseJson(misrouted.value).ok()) << misrouted.value;
}

// Every appended event reaches the changelog with its seq and hash, in seq
// order; hold decisions also reach the outcomes topic keyed by account. A
// new publisher (a restart) goes on from the stored cursor.
TEST_F(KafkaIngestTest, ChangelogAndOutcomesFollowTheLogFromTheirCursor) {
  Append({TopUp("t1", "acct-1", "100"), Task("task-1", "acct-1", "60"),
          Task("task-2", "acct-1", "60")});
  {
    auto publisher = NewPublisher();
    ASSERT_NE(publisher, nullptr);
    PublishCounts counts = PublishAll(*publisher);
    EXPECT_EQ(counts.published_seq, ledger_->head_seq());
    EXPECT_EQ(counts.outcomes, 2u);
  }
  for (int i = 0; i < 150; ++i) {
    Append({Usage("u" + std::to_string(i), "acct-2", "1")});
  }
  auto publisher = NewPublisher();
  ASSERT_NE(publisher, nullptr);
  PublishCounts counts = PublishAll(*publisher);
  EXPECT_EQ(counts.changelog, 150u);  // only what came after the cursor
  EXPECT_EQ(*ledger_->Cursor(kChangelogCursor), ledger_->head_seq());

  auto changelog = cluster_->ReadAll("tally.changelog");
  std::vector<LoggedEvent> log = Log();
  ASSERT_EQ(changelog.size(), log.size());
  EventCodec codec;
  for (size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(changelog[i].headers["tally-seq"], std::to_string(log[i].seq));
    EXPECT_EQ(changelog[i].headers["tally-hash"], HashHex(log[i].hash));
    EXPECT_EQ(changelog[i].key, log[i].event.reader().getAccount().cStr());
    EXPECT_EQ(changelog[i].value,
              codec.ToJson(log[i].event.WithLedgerFields(log[i].seq, log[i].recorded_at_micros)));
  }
  auto outcomes = cluster_->ReadAll("tally.outcomes");
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].key, "acct-1");
  EXPECT_NE(outcomes[0].value.find("\"hold_accepted\""), std::string::npos) << outcomes[0].value;
  EXPECT_NE(outcomes[1].value.find("\"hold_rejected\""), std::string::npos) << outcomes[1].value;
}

// --out-format capnp: the same messages as Cap'n Proto, labelled so.
TEST_F(KafkaIngestTest, TheChangelogCanBeCapnProto) {
  Append({TopUp("t1", "acct-1", "100"), Task("task-1", "acct-1", "60")});
  auto publisher = NewPublisher(30'000, /*binary=*/true);
  ASSERT_NE(publisher, nullptr);
  PublishAll(*publisher);
  auto changelog = cluster_->ReadAll("tally.changelog");
  std::vector<LoggedEvent> log = Log();
  ASSERT_EQ(changelog.size(), log.size());
  EventCodec codec;
  for (size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(changelog[i].headers["content-type"], "application/x-capnp");
    EXPECT_EQ(changelog[i].value,
              codec.ToBinary(log[i].event.WithLedgerFields(log[i].seq, log[i].recorded_at_micros)));
  }
  EXPECT_EQ(cluster_->ReadAll("tally.outcomes").size(), 1u);
}

// With the broker down nothing is acknowledged: the cursor stays, and once
// the broker is back delivery resumes from it. Whatever is repeated is the
// same event (same seq, same bytes); nothing is missing.
TEST_F(KafkaIngestTest, APublisherThatCannotDeliverKeepsItsCursor) {
  for (int i = 0; i < 20; ++i) Append({Usage("u" + std::to_string(i), "a", "1")});
  auto publisher = NewPublisher(/*delivery_timeout_ms=*/1500);
  ASSERT_NE(publisher, nullptr);
  cluster_->SetBrokerUp(false);
  PublishCounts counts;
  auto failed = publisher->PublishOnce(counts);
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(*ledger_->Cursor(kChangelogCursor), 0u);
  cluster_->SetBrokerUp(true);
  publisher = NewPublisher();
  counts = PublishAll(*publisher);
  EXPECT_EQ(*ledger_->Cursor(kChangelogCursor), ledger_->head_seq());
  std::map<std::string, std::set<std::string>> values_by_seq;
  for (const Message& message : cluster_->ReadAll("tally.changelog")) {
    values_by_seq[message.headers.at("tally-seq")].insert(message.value);
  }
  ASSERT_EQ(values_by_seq.size(), ledger_->head_seq());
  for (const auto& [seq, values] : values_by_seq) EXPECT_EQ(values.size(), 1u) << seq;
}

}  // namespace
}  // namespace tally

namespace tally {
namespace {

// Polls until Lag() is 0 with every partition assigned, or `seconds` pass.
IngestCounts IngestUntilNoLag(KafkaIngest& ingest, int seconds) {
  IngestCounts counts;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    Status status = ingest.PollOnce(counts);
    EXPECT_TRUE(status.ok()) << status.ToString();
    if (!status.ok()) break;
    if (ingest.assigned_partitions() == kPartitions && ingest.Lag() == uint64_t{0}) break;
  }
  EXPECT_TRUE(ingest.Finish(counts).ok());
  return counts;
}

// `tally serve` without brokers starts a new embedded cluster each time,
// whose partitions number their messages from 0 again. The offsets stored
// for the previous cluster must not be used on it: they would skip its
// first messages (and report no lag).
TEST_F(KafkaIngestTest, OffsetsOfAnotherClusterAreNotUsed) {
  constexpr int kFirst = 200;
  constexpr int kSecond = 40;
  for (int i = 0; i < kFirst; ++i) {
    const std::string account = "acct-" + std::to_string(i % 8);
    cluster_->Publish(account, Usage("first-" + std::to_string(i), account, "1"));
  }
  cluster_->Flush();
  const std::string first_cluster = cluster_->cluster_id();
  IngestCounts first = IngestUntil([&](const IngestCounts& c) { return c.messages >= kFirst; });
  EXPECT_EQ(first.appended, static_cast<uint64_t>(kFirst));

  cluster_.reset();  // a restart without brokers: the old cluster is gone
  cluster_ = std::make_unique<MockCluster>();
  ASSERT_NE(cluster_->cluster_id(), first_cluster);
  for (int i = 0; i < kSecond; ++i) {
    const std::string account = "acct-" + std::to_string(i % 8);
    cluster_->Publish(account, Usage("second-" + std::to_string(i), account, "1"));
  }
  cluster_->Flush();
  Reopen();
  auto ingest = NewIngest();
  ASSERT_NE(ingest, nullptr);
  IngestCounts second = IngestUntilNoLag(*ingest, 20);
  EXPECT_EQ(second.appended, static_cast<uint64_t>(kSecond));
  EXPECT_EQ(ProducerEvents(), static_cast<uint64_t>(kFirst + kSecond));
  // Said, once per partition that had offsets of the old cluster.
  std::vector<std::string> warnings = ingest->OffsetWarnings();
  EXPECT_EQ(warnings.size(), static_cast<size_t>(kPartitions));
  for (const std::string& warning : warnings) {
    EXPECT_NE(warning.find("is of another Kafka cluster (" + first_cluster + ")"),
              std::string::npos)
        << warning;
  }
  // The offsets are now the new cluster's.
  for (int32_t p = 0; p < kPartitions; ++p) {
    auto stored = ledger_->StoredClusterOffset(kTopic, p);
    ASSERT_TRUE(stored.ok() && *stored);
    EXPECT_EQ((*stored)->cluster, cluster_->cluster_id());
  }
}

// Offsets stored by an older version carry no cluster: an embedded cluster
// (new each time) does not use them either.
TEST_F(KafkaIngestTest, OffsetsWithoutAClusterAreNotUsedOnAnEmbeddedCluster) {
  for (int i = 0; i < 20; ++i) {
    const std::string account = "acct-" + std::to_string(i % 8);
    cluster_->Publish(account, Usage("u-" + std::to_string(i), account, "1"));
  }
  cluster_->Flush();
  std::vector<SourceOffset> legacy;
  for (int32_t p = 0; p < kPartitions; ++p) legacy.push_back({kTopic, p, 3});
  ASSERT_TRUE(ledger_->AppendFrom({}, {.offsets = legacy}).ok());
  auto ingest = NewIngest();
  ASSERT_NE(ingest, nullptr);
  IngestCounts counts = IngestUntilNoLag(*ingest, 20);
  EXPECT_EQ(counts.appended, 20u);
}

// On one cluster, a stored offset beyond a partition's end (the topic was
// deleted and recreated) is reported, and the lag is unknown rather than 0.
TEST_F(KafkaIngestTest, AStoredOffsetBeyondThePartitionsEndIsReported) {
  for (int i = 0; i < 20; ++i) {
    const std::string account = "acct-" + std::to_string(i % 8);
    cluster_->Publish(account, Usage("u-" + std::to_string(i), account, "1"));
  }
  cluster_->Flush();
  std::vector<SourceOffset> ahead;
  for (int32_t p = 0; p < kPartitions; ++p) {
    ahead.push_back({kTopic, p, 1000});
  }
  ASSERT_TRUE(ledger_->AppendFrom({}, {.offsets = ahead, .cluster = cluster_->cluster_id()}).ok());
  auto ingest = NewIngest();
  ASSERT_NE(ingest, nullptr);
  IngestCounts counts = IngestUntilNoLag(*ingest, 4);
  EXPECT_EQ(counts.appended, 0u);  // below the stored offsets: never taken twice
  EXPECT_EQ(ingest->Lag(), std::nullopt);
  std::vector<std::string> warnings = ingest->OffsetWarnings();
  ASSERT_FALSE(warnings.empty());
  EXPECT_NE(warnings[0].find("beyond the partition's end"), std::string::npos) << warnings[0];
}

}  // namespace
}  // namespace tally

namespace tally {
namespace {

// Distinctive personal values, found by a byte scan wherever they are kept.
// No two share 4 bytes, so that compression cannot hide one behind another.
const std::string kShreddedEmail = "quokka7731@zebrafin.de";
const std::string kSealedEmail = "wombat9153@hollow.io";
const std::string kUnparsedEmail = "numbat2208@ferncliff.org";
const std::string kMisroutedEmail = "bilby6630@tarnmoor.net";

std::string ProfileUpdated(const std::string& id, const std::string& account,
                           const std::string& email) {
  return testing::JsonEvent(id, account, "profile_updated",
                            R"({"email":{"plaintext":")" + email + R"("}})");
}

class KafkaDeadLetterPrivacyTest : public KafkaIngestTest {
 protected:
  KafkaDeadLetterPrivacyTest() { master_key_ = testing::RandomMaster(); }

  void ExpectNoneOnDisk(const std::string& when) {
    for (const std::string& value :
         {kShreddedEmail, kSealedEmail, kUnparsedEmail, kMisroutedEmail}) {
      EXPECT_EQ(testing::FilesContaining(dir_.path(), value), std::vector<std::string>{})
          << value << " " << when;
    }
  }
};

// Dead letters are kept in the log's store (and its WAL) until delivered:
// an event's personal fields are there only sealed, or redacted where they
// cannot be sealed (a shredded subject), and the bytes of a message that
// did not parse are not kept. The same goes for what reaches the topic.
TEST_F(KafkaDeadLetterPrivacyTest, DeadLettersNeverKeepPersonalValuesInPlaintext) {
  Append({ProfileUpdated("pu-p", "acct-p", "first.p@example.test"),
          ProfileUpdated("pu-s", "acct-s", "first.s@example.test"),
          testing::JsonEvent("erase-p", "acct-p", "erasure_requested",
                             R"({"purpose":"profile","requested_by":"dsar-portal"})")});
  ASSERT_EQ(ledger_->Account("acct-p").privacy.profile_shredded, true);
  // Rejected: the subject's profile key was shredded (cannot be sealed).
  cluster_->Publish("acct-p", ProfileUpdated("pu-p2", "acct-p", kShreddedEmail));
  // Rejected: the id is taken by other content (sealed before judging).
  cluster_->Publish("acct-s", ProfileUpdated("pu-s", "acct-s", kSealedEmail));
  // Did not parse.
  std::string unparsed = ProfileUpdated("pu-s3", "acct-s", kUnparsedEmail);
  unparsed.back() = ',';
  cluster_->Publish("acct-s", unparsed);
  // The key is not the event's account.
  cluster_->Publish("acct-x", ProfileUpdated("pu-s4", "acct-s", kMisroutedEmail));
  cluster_->Flush();
  IngestCounts counts = IngestUntil([](const IngestCounts& c) { return c.messages >= 4; });
  EXPECT_EQ(counts.rejected, 2u);
  EXPECT_EQ(counts.malformed, 2u);
  ExpectNoneOnDisk("with the dead letters kept");  // the WAL holds them now
  Reopen();
  ASSERT_EQ(ledger_->DeadLetters(10)->size(), 4u);
  ExpectNoneOnDisk("with the dead letters kept, reopened");

  auto publisher = NewPublisher();
  ASSERT_NE(publisher, nullptr);
  EXPECT_EQ(PublishAll(*publisher).dead_letters, 4u);
  publisher.reset();
  ExpectNoneOnDisk("after they were delivered");
  Reopen();
  ExpectNoneOnDisk("after they were delivered, reopened");

  auto letters = cluster_->ReadAll("tally.dead-letter");
  ASSERT_EQ(letters.size(), 4u);
  for (const Message& letter : letters) {
    for (const std::string& value :
         {kShreddedEmail, kSealedEmail, kUnparsedEmail, kMisroutedEmail}) {
      EXPECT_EQ(letter.value.find(value), std::string::npos) << letter.value;
    }
  }
  // The structure and the reason stay, for the producer to act on.
  std::map<std::string, std::string> form;
  for (const Message& letter : letters)
    form[letter.key + " " + letter.headers.at("tally-value")] = letter.value;
  ASSERT_TRUE(form.contains("acct-p redacted")) << letters[0].headers.at("tally-value");
  EXPECT_NE(form["acct-p redacted"].find(R"("email":{"erased":"profile"})"), std::string::npos)
      << form["acct-p redacted"];
  ASSERT_TRUE(form.contains("acct-s sealed"));
  EXPECT_NE(form["acct-s sealed"].find(R"("sealed":)"), std::string::npos) << form["acct-s sealed"];
  EXPECT_TRUE(form.contains("acct-s omitted"));
  EXPECT_TRUE(form.contains("acct-x redacted"));
}

}  // namespace
}  // namespace tally
