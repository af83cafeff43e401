#include "adapters/kafka/ingest.h"

#include <librdkafka/rdkafka.h>

#include <map>
#include <utility>

#include "events/check.h"
#include "events/codec.h"

namespace tally {
namespace {

constexpr int kFlushTimeoutMs = 30'000;
constexpr const char* kBinaryContentType = "application/x-capnp";

Status Configure(rd_kafka_conf_t* conf, const char* name, const std::string& value) {
  char error[512];
  if (rd_kafka_conf_set(conf, name, value.c_str(), error, sizeof(error)) != RD_KAFKA_CONF_OK) {
    return Status::InvalidArgument(std::string("kafka setting ") + name + ": " + error);
  }
  return Status::Ok();
}

// A message that cannot be appended, for the dead-letter topic.
struct DeadLetter {
  std::string key;
  std::string value;
  std::string reason;
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
};

std::string HeaderOf(const rd_kafka_message_t* message, const char* name) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return "";
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(headers, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      value == nullptr) {
    return "";
  }
  return std::string(static_cast<const char*>(value), size);
}

}  // namespace

struct KafkaIngest::Impl {
  Impl(Ledger& ledger_in, KafkaIngestOptions options_in)
      : ledger(ledger_in), options(std::move(options_in)) {}
  ~Impl() {
    if (consumer != nullptr) {
      rd_kafka_consumer_close(consumer);
      rd_kafka_destroy(consumer);
    }
    if (producer != nullptr) {
      rd_kafka_flush(producer, kFlushTimeoutMs);
      rd_kafka_destroy(producer);
    }
  }

  // Assigned partitions start at the ledger's stored offsets.
  static void Rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    if (err != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      rd_kafka_assign(rk, nullptr);
      return;
    }
    for (int i = 0; i < partitions->cnt; ++i) {
      rd_kafka_topic_partition_t& partition = partitions->elems[i];
      auto stored = self->ledger.StoredOffset(partition.topic, partition.partition);
      if (!stored.ok()) {
        self->failure = stored.status();
        rd_kafka_assign(rk, nullptr);
        return;
      }
      partition.offset = *stored ? **stored : RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(rk, partitions);
  }

  Status SendDeadLetters(const std::vector<DeadLetter>& letters) {
    for (const DeadLetter& letter : letters) {
      const std::string partition = std::to_string(letter.partition);
      const std::string offset = std::to_string(letter.offset);
      rd_kafka_resp_err_t err = rd_kafka_producev(
          producer, RD_KAFKA_V_TOPIC(options.dead_letter_topic.c_str()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(letter.key.data(), letter.key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(letter.value.data()), letter.value.size()),
          RD_KAFKA_V_HEADER("tally-error", letter.reason.data(),
                            static_cast<ssize_t>(letter.reason.size())),
          RD_KAFKA_V_HEADER("tally-source-topic", letter.topic.data(),
                            static_cast<ssize_t>(letter.topic.size())),
          RD_KAFKA_V_HEADER("tally-source-partition", partition.data(),
                            static_cast<ssize_t>(partition.size())),
          RD_KAFKA_V_HEADER("tally-source-offset", offset.data(),
                            static_cast<ssize_t>(offset.size())),
          RD_KAFKA_V_END);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Status::Unavailable("dead-letter topic: " + std::string(rd_kafka_err2str(err)));
      }
    }
    if (!letters.empty() &&
        rd_kafka_flush(producer, kFlushTimeoutMs) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::Unavailable("dead-letter topic: not delivered within " +
                                 std::to_string(kFlushTimeoutMs) + " ms");
    }
    if (delivery_failure.ok()) return Status::Ok();
    return std::exchange(delivery_failure, Status::Ok());
  }

  static void Delivered(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR && self->delivery_failure.ok()) {
      self->delivery_failure =
          Status::Unavailable("dead-letter topic: " + std::string(rd_kafka_err2str(message->err)));
    }
  }

  Ledger& ledger;
  const KafkaIngestOptions options;
  rd_kafka_t* consumer = nullptr;
  rd_kafka_t* producer = nullptr;
  EventCodec codec;
  Status failure;           // from the rebalance callback
  Status delivery_failure;  // from the delivery callback
};

KafkaIngest::KafkaIngest(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KafkaIngest::~KafkaIngest() = default;

Result<std::unique_ptr<KafkaIngest>> KafkaIngest::Create(Ledger& ledger,
                                                         const KafkaIngestOptions& options) {
  TALLY_CHECK(options.batch_messages_max > 0);
  if (options.topics.empty()) return Status::InvalidArgument("no topic to consume");
  auto impl = std::make_unique<Impl>(ledger, options);
  char error[512];
  {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    for (auto [name, value] : std::initializer_list<std::pair<const char*, std::string>>{
             {"bootstrap.servers", options.brokers},
             {"group.id", options.group_id},
             {"enable.auto.commit", "false"},  // the ledger stores the offsets
             {"enable.auto.offset.store", "false"},
             {"auto.offset.reset", "earliest"},
             {"enable.partition.eof", "false"}}) {
      if (auto status = Configure(conf, name, value); !status.ok()) {
        rd_kafka_conf_destroy(conf);
        return status;
      }
    }
    rd_kafka_conf_set_opaque(conf, impl.get());
    rd_kafka_conf_set_rebalance_cb(conf, &Impl::Rebalance);
    impl->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error));
    if (impl->consumer == nullptr) {
      rd_kafka_conf_destroy(conf);
      return Status::InvalidArgument(std::string("kafka consumer: ") + error);
    }
    rd_kafka_poll_set_consumer(impl->consumer);
  }
  {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    for (auto [name, value] : std::initializer_list<std::pair<const char*, std::string>>{
             {"bootstrap.servers", options.brokers}, {"enable.idempotence", "true"}}) {
      if (auto status = Configure(conf, name, value); !status.ok()) {
        rd_kafka_conf_destroy(conf);
        return status;
      }
    }
    rd_kafka_conf_set_opaque(conf, impl.get());
    rd_kafka_conf_set_dr_msg_cb(conf, &Impl::Delivered);
    impl->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
    if (impl->producer == nullptr) {
      rd_kafka_conf_destroy(conf);
      return Status::InvalidArgument(std::string("kafka producer: ") + error);
    }
  }
  rd_kafka_topic_partition_list_t* topics =
      rd_kafka_topic_partition_list_new(static_cast<int>(options.topics.size()));
  for (const std::string& topic : options.topics) {
    rd_kafka_topic_partition_list_add(topics, topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  rd_kafka_resp_err_t err = rd_kafka_subscribe(impl->consumer, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::InvalidArgument(std::string("subscribing: ") + rd_kafka_err2str(err));
  }
  return std::unique_ptr<KafkaIngest>(new KafkaIngest(std::move(impl)));
}

Status KafkaIngest::PollOnce(IngestCounts& counts) {
  Impl& s = *impl_;
  std::vector<Event> events;
  std::vector<DeadLetter> sources;  // per event: where it came from, for a rejection
  std::vector<DeadLetter> dead;
  std::map<std::pair<std::string, int32_t>, int64_t> next_offsets;
  int timeout_ms = s.options.poll_timeout_ms;
  Status failed;
  while (events.size() + dead.size() < s.options.batch_messages_max) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(s.consumer, timeout_ms);
    timeout_ms = 0;  // take what is already fetched, then append
    if (!s.failure.ok()) failed = s.failure;
    if (message == nullptr) break;
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (message->err == RD_KAFKA_RESP_ERR__FATAL) {
        char reason[512];
        rd_kafka_fatal_error(s.consumer, reason, sizeof(reason));
        failed = Status::Unavailable(std::string("kafka: fatal: ") + reason);
      } else if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        ++counts.broker_errors;  // librdkafka reconnects and fetches again
      }
      rd_kafka_message_destroy(message);
      if (!failed.ok()) break;
      continue;
    }
    DeadLetter source;
    source.topic = rd_kafka_topic_name(message->rkt);
    source.partition = message->partition;
    source.offset = message->offset;
    if (message->key != nullptr) {
      source.key.assign(static_cast<const char*>(message->key), message->key_len);
    }
    if (message->payload != nullptr) {
      source.value.assign(static_cast<const char*>(message->payload), message->len);
    }
    const bool binary = HeaderOf(message, "content-type") == kBinaryContentType;
    rd_kafka_message_destroy(message);
    ++counts.messages;
    int64_t& next = next_offsets[{source.topic, source.partition}];
    next = std::max(next, source.offset + 1);
    auto event = binary ? s.codec.ParseBinary(source.value) : s.codec.ParseJson(source.value);
    if (!event.ok()) {
      source.reason = event.status().message();
    } else if (!source.key.empty() && source.key != event->reader().getAccount().cStr()) {
      source.reason = "the message key \"" + source.key + "\" is not the event's account";
    }
    if (!source.reason.empty()) {
      dead.push_back(std::move(source));
      continue;
    }
    events.push_back(std::move(event).value());
    sources.push_back(std::move(source));
  }
  if (!failed.ok()) return failed;
  if (next_offsets.empty()) return Status::Ok();
  // Dead letters first: once the offsets are stored they are not read again.
  if (auto sent = s.SendDeadLetters(dead); !sent.ok()) return sent;
  counts.dead_letters += dead.size();
  std::vector<SourceOffset> offsets;
  for (const auto& [partition, next] : next_offsets) {
    offsets.push_back({partition.first, partition.second, next});
  }
  auto outcomes = s.ledger.AppendFrom(events, offsets);
  if (!outcomes.ok()) return outcomes.status();
  std::vector<DeadLetter> rejected;
  for (size_t i = 0; i < outcomes->size(); ++i) {
    const AppendOutcome& outcome = (*outcomes)[i];
    switch (outcome.kind) {
      case AppendOutcome::Kind::kAppended: ++counts.appended; break;
      case AppendOutcome::Kind::kDuplicate: ++counts.duplicates; break;
      case AppendOutcome::Kind::kRejected:
        ++counts.rejected;
        rejected.push_back(std::move(sources[i]));
        rejected.back().reason = outcome.reason;
        break;
    }
  }
  if (auto sent = s.SendDeadLetters(rejected); !sent.ok()) return sent;
  counts.dead_letters += rejected.size();
  return Status::Ok();
}

}  // namespace tally
