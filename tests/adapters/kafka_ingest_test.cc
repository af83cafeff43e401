// Kafka ingest against librdkafka's mock cluster (a real broker protocol in
// process): every message appended once across restarts, offsets kept by the
// ledger, malformed messages to the dead-letter topic with their reason.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <map>
#include <set>

#include "adapters/kafka/ingest.h"
#include "tests/events/event_fixtures.h"
#include "tests/ledger/ledger_fixture.h"

namespace tally {
namespace {

using testing::TopUp;
using testing::Usage;

constexpr const char* kTopic = "billing.events";
constexpr int kPartitions = 4;

// An in-process mock cluster, hosted by a producer handle that the tests
// also use to publish.
class MockCluster {
 public:
  MockCluster() {
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    TALLY_CHECK(rd_kafka_conf_set(conf, "log_level", "3", error, sizeof(error)) ==
                RD_KAFKA_CONF_OK);  // it only hosts the cluster: no bootstrap servers
    producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
    TALLY_CHECK(producer_ != nullptr);
    cluster_ = rd_kafka_mock_cluster_new(producer_, 1);
    TALLY_CHECK(cluster_ != nullptr);
    TALLY_CHECK(rd_kafka_mock_topic_create(cluster_, kTopic, kPartitions, 1) ==
                RD_KAFKA_RESP_ERR_NO_ERROR);
    TALLY_CHECK(rd_kafka_mock_topic_create(cluster_, "tally.dead-letter", 1, 1) ==
                RD_KAFKA_RESP_ERR_NO_ERROR);
    bootstraps_ = rd_kafka_mock_cluster_bootstraps(cluster_);
    rd_kafka_conf_t* publisher_conf = rd_kafka_conf_new();
    TALLY_CHECK(rd_kafka_conf_set(publisher_conf, "bootstrap.servers", bootstraps_.c_str(), error,
                                  sizeof(error)) == RD_KAFKA_CONF_OK);
    publisher_ = rd_kafka_new(RD_KAFKA_PRODUCER, publisher_conf, error, sizeof(error));
    TALLY_CHECK(publisher_ != nullptr);
  }
  ~MockCluster() {
    rd_kafka_destroy(publisher_);
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(producer_);
  }

  const std::string& bootstraps() const { return bootstraps_; }
  void SetBrokerUp(bool up) {
    TALLY_CHECK((up ? rd_kafka_mock_broker_set_up(cluster_, 1)
                    : rd_kafka_mock_broker_set_down(cluster_, 1)) == RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  void Publish(const std::string& key, const std::string& value) {
    TALLY_CHECK(rd_kafka_producev(publisher_, RD_KAFKA_V_TOPIC(kTopic),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_KEY(key.data(), key.size()),
                                  RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                  RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  void Flush() { TALLY_CHECK(rd_kafka_flush(publisher_, 30'000) == RD_KAFKA_RESP_ERR_NO_ERROR); }

  // Every message of a topic's partition 0: value and the tally-error header.
  std::vector<std::pair<std::string, std::string>> ReadAll(const std::string& topic) {
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    TALLY_CHECK(rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps_.c_str(), error,
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
    std::vector<std::pair<std::string, std::string>> out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer, 200);
      if (message == nullptr) continue;
      if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::string reason;
        rd_kafka_headers_t* headers = nullptr;
        const void* value = nullptr;
        size_t size = 0;
        if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR &&
            rd_kafka_header_get_last(headers, "tally-error", &value, &size) ==
                RD_KAFKA_RESP_ERR_NO_ERROR) {
          reason.assign(static_cast<const char*>(value), size);
        }
        out.emplace_back(std::string(static_cast<const char*>(message->payload), message->len),
                         reason);
      }
      rd_kafka_message_destroy(message);
    }
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    return out;
  }

 private:
  rd_kafka_t* producer_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  rd_kafka_t* publisher_ = nullptr;
  std::string bootstraps_;
};

class KafkaIngestTest : public testing::LedgerFixture {
 protected:
  // Ingests until `done` or 30 s pass; `between` runs after every poll.
  IngestCounts IngestUntil(
      const std::function<bool(const IngestCounts&)>& done, const std::string& group_id = "tally",
      const std::function<void(const IngestCounts&)>& between = [](const IngestCounts&) {}) {
    KafkaIngestOptions options;
    options.brokers = cluster_.bootstraps();
    options.topics = {kTopic};
    options.group_id = group_id;
    auto ingest = KafkaIngest::Create(*ledger_, options);
    EXPECT_TRUE(ingest.ok()) << ingest.status().ToString();
    IngestCounts counts;
    if (!ingest.ok()) return counts;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!done(counts) && std::chrono::steady_clock::now() < deadline) {
      Status status = (*ingest)->PollOnce(counts);
      EXPECT_TRUE(status.ok()) << status.ToString();
      if (!status.ok()) break;
      between(counts);
    }
    return counts;
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

  MockCluster cluster_;
};

TEST_F(KafkaIngestTest, EveryMessageIsAppendedOnceAcrossRestarts) {
  constexpr int kFirst = 300;
  for (int i = 0; i < kFirst; ++i) {
    std::string account = "acct-" + std::to_string(i % 7);
    cluster_.Publish(account, i % 3 == 0 ? TopUp("t" + std::to_string(i), account, "10")
                                         : Usage("u" + std::to_string(i), account, "1"));
  }
  cluster_.Flush();
  IngestCounts first = IngestUntil([&](const IngestCounts& c) { return c.messages >= kFirst; });
  EXPECT_EQ(first.messages, static_cast<uint64_t>(kFirst));
  EXPECT_EQ(first.appended, static_cast<uint64_t>(kFirst));
  EXPECT_EQ(first.dead_letters, 0u);
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
    cluster_.Publish(account, Usage("u" + std::to_string(i), account, "1"));
  }
  cluster_.Publish("acct-1", Usage("u1", "acct-1", "1"));  // sent again by its producer
  cluster_.Flush();
  Reopen();
  IngestCounts second = IngestUntil(
      [&](const IngestCounts& c) { return c.messages >= kSecond + 1; }, "tally-restarted");
  EXPECT_EQ(second.messages, static_cast<uint64_t>(kSecond + 1));
  EXPECT_EQ(second.appended, static_cast<uint64_t>(kSecond));
  EXPECT_EQ(second.duplicates, 1u);
  std::set<std::string> ids;
  uint64_t producer_events = 0;
  for (const LoggedEvent& e : Log()) {
    if (IsLedgerMade(e.event)) continue;
    ++producer_events;
    EXPECT_TRUE(ids.insert(e.event.reader().getId().cStr()).second);
  }
  EXPECT_EQ(producer_events, static_cast<uint64_t>(kFirst + kSecond));
}

// The broker goes down once the first half is taken; the second half is
// published while it is down (the producer holds it) and arrives when it is
// back. One ingest rides it out: every message appended once.
TEST_F(KafkaIngestTest, ABrokerDownAndUpAgainLosesAndRepeatsNothing) {
  constexpr int kHalf = 100;
  auto publish = [&](int from) {
    for (int i = from; i < from + kHalf; ++i) {
      std::string account = "acct-" + std::to_string(i % 5);
      cluster_.Publish(account, Usage("u" + std::to_string(i), account, "1"));
    }
  };
  publish(0);
  cluster_.Flush();
  bool went_down = false;
  bool came_back = false;
  auto down_since = std::chrono::steady_clock::now();
  IngestCounts counts = IngestUntil(
      [&](const IngestCounts& c) { return c.messages >= 2 * kHalf; }, "tally",
      [&](const IngestCounts& c) {
        if (!went_down && c.messages >= kHalf) {
          cluster_.SetBrokerUp(false);
          went_down = true;
          down_since = std::chrono::steady_clock::now();
          publish(kHalf);  // queued by the producer until the broker is back
        } else if (went_down && !came_back &&
                   std::chrono::steady_clock::now() - down_since > std::chrono::seconds(2)) {
          cluster_.SetBrokerUp(true);
          came_back = true;
        }
      });
  EXPECT_TRUE(came_back);
  EXPECT_EQ(counts.messages, static_cast<uint64_t>(2 * kHalf));
  EXPECT_EQ(counts.appended, static_cast<uint64_t>(2 * kHalf));
  EXPECT_EQ(counts.duplicates, 0u);
  uint64_t producer_events = 0;
  for (const LoggedEvent& e : Log()) producer_events += IsLedgerMade(e.event) ? 0 : 1;
  EXPECT_EQ(producer_events, static_cast<uint64_t>(2 * kHalf));
}

TEST_F(KafkaIngestTest, MalformedMessagesGoToTheDeadLetterTopicAndIngestGoesOn) {
  cluster_.Publish("acct-1", TopUp("t1", "acct-1", "10"));
  cluster_.Publish("acct-1", "{not json");
  cluster_.Publish("acct-2", Usage("u1", "acct-1", "1"));  // key is not the account
  cluster_.Publish("acct-1", Usage("u2", "acct-1", "1"));
  cluster_.Flush();
  IngestCounts counts = IngestUntil([](const IngestCounts& c) { return c.messages >= 4; });
  EXPECT_EQ(counts.appended, 2u);
  EXPECT_EQ(counts.dead_letters, 2u);
  auto letters = cluster_.ReadAll("tally.dead-letter");
  ASSERT_EQ(letters.size(), 2u);
  std::map<std::string, std::string> by_value(letters.begin(), letters.end());
  ASSERT_TRUE(by_value.contains("{not json"));  // the original bytes
  EXPECT_NE(by_value["{not json"].find("not valid JSON"), std::string::npos)
      << by_value["{not json"];
  bool key_reason = false;
  for (const auto& [value, reason] : letters) {
    key_reason = key_reason || reason.find("is not the event's account") != std::string::npos;
  }
  EXPECT_TRUE(key_reason);
}

}  // namespace
}  // namespace tally
