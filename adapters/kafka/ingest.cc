#include "adapters/kafka/ingest.h"

#include <librdkafka/rdkafka.h>

#include <future>
#include <map>
#include <set>
#include <utility>

#include "adapters/kafka/internal/client.h"
#include "events/check.h"
#include "events/codec.h"
#include "events/limits.h"
#include "events/personal.h"
#include "ledger/personal.h"

namespace tally {
namespace {

using kafka_internal::HeaderOf;

constexpr const char* kBinaryContentType = "application/x-capnp";

using Partition = std::pair<std::string, int32_t>;

// A message as a dead letter, without its value: its key and where it
// came from.
DeadLetter LetterOf(const rd_kafka_message_t* message) {
  DeadLetter letter;
  if (message->key != nullptr) {
    letter.key.assign(static_cast<const char*>(message->key), message->key_len);
  }
  letter.headers = {{"tally-source-topic", rd_kafka_topic_name(message->rkt)},
                    {"tally-source-partition", std::to_string(message->partition)},
                    {"tally-source-offset", std::to_string(message->offset)}};
  if (std::string type = HeaderOf(message, "content-type"); !type.empty()) {
    letter.headers.emplace_back("content-type", std::move(type));
  }
  return letter;
}

// The dead letter of a message that did not parse. Its bytes are not kept:
// they may hold personal data that cannot be sealed without knowing whose
// it is (docs/privacy.md, "Dead letters"); the source offset says where
// they are.
DeadLetter UnparsedLetter(const rd_kafka_message_t* message, std::string reason) {
  DeadLetter letter = LetterOf(message);
  letter.reason = std::move(reason);
  letter.headers.emplace_back("tally-value", "omitted");
  letter.headers.emplace_back("tally-value-bytes", std::to_string(message->len));
  return letter;
}

// What a dead letter's value holds of the event's personal fields:
// "event" (it has none), "sealed", or "redacted" (some could not be sealed).
// REQUIRES: no personal field of `event` is plaintext.
const char* PersonalForm(const Event& event) {
  const char* form = "event";
  ForEachPersonalField(event.reader(),
                       [&](std::string_view, schema::Purpose, schema::PersonalField::Reader field) {
                         TALLY_CHECK(field.which() != schema::PersonalField::PLAINTEXT);
                         if (field.which() == schema::PersonalField::ERASED) form = "redacted";
                         if (field.which() == schema::PersonalField::SEALED && form[0] == 'e')
                           form = "sealed";
                       });
  return form;
}

// The dead letter of a message that parsed: `event` (its personal fields
// sealed or redacted) in the message's format, not the message's bytes.
DeadLetter ParsedLetter(const rd_kafka_message_t* message, const Event& event,
                        const EventCodec& codec) {
  DeadLetter letter = LetterOf(message);
  const bool binary = HeaderOf(message, "content-type") == kBinaryContentType;
  letter.value = binary ? codec.ToBinary(event) : codec.ToJson(event);
  letter.headers.emplace_back("tally-value", PersonalForm(event));
  return letter;
}

struct MessageDeleter {
  void operator()(rd_kafka_message_t* message) const { rd_kafka_message_destroy(message); }
};
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;

// One polled batch. Its messages live until its append is done: events
// are parsed from them in place, and a rejected one is copied out as a
// dead letter only then.
struct Batch {
  std::vector<MessagePtr> messages;
  std::vector<Event> events;
  std::vector<const rd_kafka_message_t*> message_of;  // per event
  std::vector<const Partition*> partition_of;         // per event, a key of next_offsets
  std::vector<DeadLetter> malformed;
  std::vector<const Partition*> malformed_partition_of;
  std::map<Partition, int64_t> next_offsets;
  Result<std::vector<AppendOutcome>> outcomes = Status::Unavailable("not appended yet");
  // Encodes the rejected events' dead letters, on the thread that writes
  // the batch; made at the first rejection.
  std::unique_ptr<EventCodec> letter_codec;
};

// Parses `message` into an event of `batch`, or a dead letter if it does
// not parse or its key is not its account. The message stays owned by
// the caller, which adds it to batch.messages.
void AddMessage(Batch& batch, const rd_kafka_message_t* message, const Partition* partition,
                const EventCodec& codec) {
  std::string_view value;
  if (message->payload != nullptr)
    value = {static_cast<const char*>(message->payload), message->len};
  std::string_view key;
  if (message->key != nullptr) key = {static_cast<const char*>(message->key), message->key_len};
  const bool binary = HeaderOf(message, "content-type") == kBinaryContentType;
  auto event = binary ? codec.ParseBinary(value) : codec.ParseJson(value);
  if (!event.ok()) {
    batch.malformed.push_back(UnparsedLetter(message, event.status().message()));
    batch.malformed_partition_of.push_back(partition);
  } else if (!key.empty() && key != event->reader().getAccount().cStr()) {
    // Not judged by the ledger, so not sealed: its personal fields are redacted.
    DeadLetter letter = ParsedLetter(message, RedactPersonalFields(*event), codec);
    letter.reason = "the message key \"" + std::string(key) + "\" is not the event's account";
    batch.malformed.push_back(std::move(letter));
    batch.malformed_partition_of.push_back(partition);
  } else {
    batch.events.push_back(std::move(event).value());
    batch.message_of.push_back(message);
    batch.partition_of.push_back(partition);
  }
}

// Drops from `batch` the messages, events, dead letters and offsets of
// partitions not in `assigned` (revoked while it was polled).
void DropRevoked(Batch& batch, const std::set<Partition>& assigned) {
  auto revoked = [&](const Partition& partition) { return assigned.count(partition) == 0; };
  if (std::any_of(batch.next_offsets.begin(), batch.next_offsets.end(),
                  [&](const auto& entry) { return revoked(entry.first); })) {
    size_t kept = 0;
    for (size_t i = 0; i < batch.events.size(); ++i) {
      if (revoked(*batch.partition_of[i])) continue;
      batch.events[kept] = std::move(batch.events[i]);
      batch.message_of[kept] = batch.message_of[i];
      batch.partition_of[kept++] = batch.partition_of[i];
    }
    batch.events.erase(batch.events.begin() + static_cast<std::ptrdiff_t>(kept),
                       batch.events.end());
    batch.message_of.resize(kept);
    batch.partition_of.resize(kept);
    kept = 0;
    for (size_t i = 0; i < batch.malformed.size(); ++i) {
      if (revoked(*batch.malformed_partition_of[i])) continue;
      batch.malformed[kept] = std::move(batch.malformed[i]);
      batch.malformed_partition_of[kept++] = batch.malformed_partition_of[i];
    }
    batch.malformed.resize(kept);
    batch.malformed_partition_of.resize(kept);
    std::erase_if(batch.next_offsets, [&](const auto& entry) { return revoked(entry.first); });
    std::erase_if(batch.messages, [&](const MessagePtr& message) {
      return revoked({rd_kafka_topic_name(message->rkt), message->partition});
    });
  }
}

}  // namespace

// Waits for the append in flight. It reports through its batch's outcomes;
// an exception from it is a bug and stops the process (never dropped).
void Settle(std::future<void>& in_flight) {
  try {
    in_flight.get();
  } catch (const std::exception& e) {
    TALLY_FAIL(std::string("the append in flight threw: ") + e.what());
  }
}

struct KafkaIngest::Impl {
  Impl(Ledger& ledger_in, KafkaIngestOptions options_in)
      : ledger(ledger_in), options(std::move(options_in)) {}
  ~Impl() {
    // The batch in flight reaches disk (or fails) before the group is left.
    if (in_flight.valid()) Settle(in_flight);
    if (consumer != nullptr) {
      rd_kafka_consumer_close(consumer);  // leaves the group: its partitions move at once
      rd_kafka_destroy(consumer);
    }
  }

  // Assigned partitions start at the ledger's stored offsets; revoked ones
  // are dropped from the batch being polled.
  static void Rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    // The batch being appended stores its offsets first: a partition moves
    // on, and a new assignment starts, only from offsets on disk.
    if (auto status = self->FinishAppend(&self->finished_in_rebalance);
        !status.ok() && status.code() != StatusCode::kConflict) {
      self->failure = status;
    }
    if (err != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      self->assigned.clear();
      rd_kafka_assign(rk, nullptr);
      return;
    }
    self->ResolveCluster();
    if (auto status = self->StartAtStoredOffsets(partitions); !status.ok()) {
      self->failure = status;
      rd_kafka_assign(rk, nullptr);
      return;
    }
    self->assigned.clear();
    for (int i = 0; i < partitions->cnt; ++i) {
      self->assigned.emplace(partitions->elems[i].topic, partitions->elems[i].partition);
    }
    rd_kafka_assign(rk, partitions);
  }

  // The cluster's identity: the given one, else the brokers' (known by
  // the time partitions are assigned; empty if the brokers give none).
  void ResolveCluster() {
    if (!options.cluster_id.empty()) {
      cluster = options.cluster_id;
      return;
    }
    char* id = rd_kafka_clusterid(consumer, limits::kKafkaClusterIdWaitMs);
    if (id == nullptr) return;  // kept from the last assignment, if any
    cluster = id;
    rd_kafka_mem_free(consumer, id);
  }

  // The stored offset to start `partition` at, if it is of this cluster.
  // Offsets stored without a cluster (older versions) are taken as the
  // brokers' cluster's, never as an embedded one's.
  Result<std::optional<int64_t>> UsableOffset(const std::string& topic, int32_t partition) const {
    auto stored = ledger.StoredClusterOffset(topic, partition);
    if (!stored.ok()) return stored.status();
    if (!*stored) return std::optional<int64_t>();
    const ClusterOffset& offset = **stored;
    const bool legacy = offset.cluster.empty() && options.cluster_id.empty();
    if (offset.cluster != cluster && !legacy) return std::optional<int64_t>();
    return std::optional<int64_t>(offset.next_offset);
  }

  Status StartAtStoredOffsets(rd_kafka_topic_partition_list_t* partitions) {
    other_cluster.clear();
    for (int i = 0; i < partitions->cnt; ++i) {
      rd_kafka_topic_partition_t& partition = partitions->elems[i];
      auto usable = UsableOffset(partition.topic, partition.partition);
      if (!usable.ok()) return usable.status();
      // Never appended here (on this cluster): where the group got to
      // (another process's ledger took the partition before), else the
      // beginning.
      partition.offset = *usable ? **usable : RD_KAFKA_OFFSET_STORED;
      if (*usable) continue;
      auto stored = ledger.StoredClusterOffset(partition.topic, partition.partition);
      if (!stored.ok()) return stored.status();
      if (*stored) other_cluster[{partition.topic, partition.partition}] = **stored;
    }
    return Status::Ok();
  }

  // After a fenced append: fetch every assigned partition again from the
  // ledger's stored offsets, so nothing polled and dropped is skipped.
  Status Reseek() {
    rd_kafka_topic_partition_list_t* partitions = nullptr;
    if (rd_kafka_assignment(consumer, &partitions) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::Unavailable("kafka: reading the assignment failed");
    }
    Status status = StartAtStoredOffsets(partitions);
    if (status.ok() && rd_kafka_assign(consumer, partitions) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      status = Status::Unavailable("kafka: re-assigning the partitions failed");
    }
    rd_kafka_topic_partition_list_destroy(partitions);
    return status;
  }

  // Waits for the batch being appended, if any, and counts it. Conflict:
  // a partition had moved to another process (nothing of it was written).
  Status FinishAppend(IngestCounts* counts) {
    if (!in_flight.valid()) return Status::Ok();
    Settle(in_flight);
    std::unique_ptr<Batch> batch = std::move(appending);
    if (!batch->outcomes.ok()) return batch->outcomes.status();
    CommitToGroup(*batch);
    if (counts == nullptr) return Status::Ok();
    counts->messages += batch->messages.size();
    counts->malformed += batch->malformed.size();
    for (const AppendOutcome& outcome : *batch->outcomes) {
      switch (outcome.kind) {
        case AppendOutcome::Kind::kAppended: ++counts->appended; break;
        case AppendOutcome::Kind::kDuplicate: ++counts->duplicates; break;
        case AppendOutcome::Kind::kRejected: ++counts->rejected; break;
      }
    }
    return Status::Ok();
  }

  // Tells the group how far this process got, once the ledger has it: a
  // hint for a process whose ledger never had a partition that moves to
  // it, never read back by this one (the ledger's offsets rule here).
  void CommitToGroup(const Batch& batch) {
    rd_kafka_topic_partition_list_t* list =
        rd_kafka_topic_partition_list_new(static_cast<int>(batch.next_offsets.size()));
    for (const auto& [partition, next] : batch.next_offsets) {
      rd_kafka_topic_partition_list_add(list, partition.first.c_str(), partition.second)->offset =
          next;
    }
    (void)rd_kafka_commit(consumer, list, /*async=*/1);
    rd_kafka_topic_partition_list_destroy(list);
  }

  // The dead letter of the batch's event `i`, rejected as `judged`.
  static DeadLetter RejectedLetter(Batch& batch, size_t i, const Event& judged) {
    if (batch.letter_codec == nullptr) batch.letter_codec = std::make_unique<EventCodec>();
    return ParsedLetter(batch.message_of.at(i), judged, *batch.letter_codec);
  }

  // Appends `batch` on another thread, so that the next batch is fetched
  // and parsed while this one is written and synced.
  void StartAppend(std::unique_ptr<Batch> batch) {
    appending = std::move(batch);
    in_flight = std::async(std::launch::async, [this, batch_ptr = appending.get()] {
      std::vector<SourceOffset> offsets;
      for (const auto& [partition, next] : batch_ptr->next_offsets) {
        offsets.push_back({partition.first, partition.second, next});
      }
      batch_ptr->outcomes = ledger.AppendFrom(
          batch_ptr->events, {.offsets = offsets,
                              .cluster = cluster,
                              .dead_letters = batch_ptr->malformed,
                              .if_rejected = [batch_ptr](size_t i, const Event& judged) {
                                return RejectedLetter(*batch_ptr, i, judged);
                              }});
    });
  }

  Ledger& ledger;
  const KafkaIngestOptions options;
  rd_kafka_t* consumer = nullptr;
  std::unique_ptr<Batch> appending;  // the batch in_flight appends
  std::future<void> in_flight;
  IngestCounts finished_in_rebalance;  // counted by the next PollOnce
  EventCodec codec;
  std::set<Partition> assigned;  // by the last rebalance
  std::string cluster;           // the cluster's identity, by the last rebalance
  // Assigned partitions whose stored offset (the value) is of another
  // cluster: they started afresh.
  std::map<Partition, ClusterOffset> other_cluster;
  Status failure;      // from the rebalance callback
  KafkaHealth health;  // from the error callback
};

KafkaIngest::KafkaIngest(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KafkaIngest::~KafkaIngest() = default;

Result<std::unique_ptr<KafkaIngest>> KafkaIngest::Create(Ledger& ledger,
                                                         const KafkaIngestOptions& options) {
  TALLY_CHECK(options.batch_messages_max > 0);
  if (options.topics.empty()) return Status::InvalidArgument("no topic to consume");
  auto impl = std::make_unique<Impl>(ledger, options);
  kafka_internal::Settings settings = {
      {"bootstrap.servers", options.brokers},
      {"group.id", options.group_id},
      {"session.timeout.ms", std::to_string(options.session_timeout_ms)},
      {"enable.auto.commit", "false"},  // the ledger stores the offsets
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      {"fetch.wait.max.ms", std::to_string(options.fetch_wait_max_ms)}};
  if (!options.instance_id.empty()) settings.emplace_back("group.instance.id", options.instance_id);
  auto consumer = kafka_internal::NewClient(RD_KAFKA_CONSUMER, settings,
                                            {.opaque = impl.get(),
                                             .error = &kafka_internal::RecordErrorOf<Impl>,
                                             .rebalance = &Impl::Rebalance});
  if (!consumer.ok()) return consumer.status();
  impl->consumer = *consumer;
  rd_kafka_poll_set_consumer(impl->consumer);
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
  auto batch = std::make_unique<Batch>();
  int timeout_ms = s.options.poll_timeout_ms;
  Status failed;
  // Messages come in runs per partition: its entry is looked up once a run.
  const rd_kafka_topic_t* run_topic = nullptr;
  int32_t run_partition = -1;
  std::map<Partition, int64_t>::iterator run;
  while (batch->messages.size() < s.options.batch_messages_max) {
    rd_kafka_message_t* polled = rd_kafka_consumer_poll(s.consumer, timeout_ms);
    timeout_ms = 0;  // take what is already fetched, then append
    if (!s.failure.ok()) failed = s.failure;
    if (polled == nullptr) break;
    MessagePtr message(polled);
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (message->err == RD_KAFKA_RESP_ERR__FATAL) {
        char reason[512];
        rd_kafka_fatal_error(s.consumer, reason, sizeof(reason));
        failed = Status::Unavailable(std::string("kafka: fatal: ") + reason);
        break;
      }
      if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        // librdkafka reconnects and fetches again; the error shows in health().
        kafka_internal::RecordError(s.health, message->err, rd_kafka_message_errstr(message.get()));
      }
      continue;
    }
    if (message->rkt != run_topic || message->partition != run_partition) {
      run_topic = message->rkt;
      run_partition = message->partition;
      run = batch->next_offsets
                .try_emplace(Partition{rd_kafka_topic_name(message->rkt), message->partition}, 0)
                .first;
    }
    run->second = std::max(run->second, message->offset + 1);
    const Partition* partition = &run->first;
    AddMessage(*batch, message.get(), partition, s.codec);
    batch->messages.push_back(std::move(message));
  }
  // The previous batch, appended meanwhile.
  Status previous = s.FinishAppend(&counts);
  auto add = [](uint64_t& to, uint64_t& from) { to += std::exchange(from, 0); };
  add(counts.messages, s.finished_in_rebalance.messages);
  add(counts.appended, s.finished_in_rebalance.appended);
  add(counts.duplicates, s.finished_in_rebalance.duplicates);
  add(counts.rejected, s.finished_in_rebalance.rejected);
  add(counts.malformed, s.finished_in_rebalance.malformed);
  if (!failed.ok()) return failed;
  if (previous.code() == StatusCode::kConflict) {
    // A partition moved to another process, which stored a later offset;
    // nothing of that batch was written. This one is dropped too, and both
    // are fetched again from the stored offsets.
    ++counts.fenced;
    return s.Reseek();
  }
  if (!previous.ok()) return previous;
  // Messages of partitions revoked while polling are dropped: the process
  // that takes the partition fetches them again from the stored offset.
  DropRevoked(*batch, s.assigned);
  if (batch->next_offsets.empty()) return Status::Ok();
  s.StartAppend(std::move(batch));
  return Status::Ok();
}

Status KafkaIngest::Finish(IngestCounts& counts) {
  Status status = impl_->FinishAppend(&counts);
  if (status.code() == StatusCode::kConflict) {
    ++counts.fenced;
    return impl_->Reseek();
  }
  return status;
}

std::optional<uint64_t> KafkaIngest::Lag() const {
  uint64_t lag = 0;
  for (const auto& [topic, partition] : impl_->assigned) {
    int64_t low = 0, high = 0;
    if (rd_kafka_get_watermark_offsets(impl_->consumer, topic.c_str(), partition, &low, &high) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        high < 0) {
      return std::nullopt;  // not fetched yet
    }
    auto usable = impl_->UsableOffset(topic, partition);
    if (!usable.ok()) return std::nullopt;
    const int64_t next = usable->value_or(std::max<int64_t>(low, 0));
    if (next > high) return std::nullopt;  // beyond the end: OffsetWarnings() says why
    lag += static_cast<uint64_t>(high - next);
  }
  return lag;
}

std::vector<std::string> KafkaIngest::OffsetWarnings() const {
  std::vector<std::string> warnings;
  for (const auto& [partition, stored] : impl_->other_cluster) {
    warnings.push_back(
        partition.first + "/" + std::to_string(partition.second) + ": the stored offset " +
        std::to_string(stored.next_offset) + " is of another Kafka cluster (" +
        (stored.cluster.empty() ? "not recorded" : stored.cluster) + "), not this one (" +
        impl_->cluster + "): started where the group got to here, else at the beginning");
  }
  for (const auto& [topic, partition] : impl_->assigned) {
    int64_t low = 0, high = 0;
    auto usable = impl_->UsableOffset(topic, partition);
    if (!usable.ok() || !*usable ||
        rd_kafka_get_watermark_offsets(impl_->consumer, topic.c_str(), partition, &low, &high) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        high < 0 || **usable <= high) {
      continue;
    }
    warnings.push_back(topic + "/" + std::to_string(partition) + ": the stored offset " +
                       std::to_string(**usable) + " is beyond the partition's end (" +
                       std::to_string(high) +
                       "): was the topic deleted and recreated? Nothing before the stored offset "
                       "is taken again");
  }
  return warnings;
}

size_t KafkaIngest::assigned_partitions() const { return impl_->assigned.size(); }

const KafkaHealth& KafkaIngest::health() const { return impl_->health; }

}  // namespace tally
