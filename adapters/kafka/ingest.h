// Kafka ingest: billing events from Kafka topics into the ledger, exactly
// once (docs/ledger.md, "Source offsets").
//
// A consumer in a consumer group takes the partitions it is assigned from
// the offsets the ledger stored for them (the group's committed offsets,
// which it writes after each append, only for a partition this ledger never
// appended: docs/kafka.md) and appends each polled batch with AppendFrom,
// pipelined with the next poll, so the batch, the next offset of every
// partition in it and the dead letters (messages that did not parse, events
// the ledger rejected: the event with its personal fields sealed or
// redacted, never plaintext; for a message that did not parse, no bytes;
// and the reason) land in one synced write.
// KafkaPublisher delivers the dead letters. Transient broker errors are
// recorded in health() and ingest goes on (librdkafka reconnects); a fatal
// client error or a ledger failure stops ingest with a Status, and a new
// KafkaIngest resumes from the stored offsets.
//
// Offsets are bound to the cluster they came from (KafkaIngestOptions::
// cluster_id): a partition whose stored offset is of another cluster starts
// as if this ledger had never appended it, and OffsetWarnings() says so.
//
// Message format: the key is the event's account; the value is one event,
// JSON (docs/events.md) or, with the header `content-type:
// application/x-capnp`, a Cap'n Proto message.
//
// Thread-safety: one thread calls PollOnce and the accessors.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapters/kafka/health.h"
#include "events/status.h"
#include "ledger/ledger.h"

namespace tally {

struct KafkaIngestOptions {
  std::string brokers;              // bootstrap servers, host:port[,...]
  std::vector<std::string> topics;  // the billing events topics
  std::string group_id = "tally";
  // Static group membership (group.instance.id): a process restarted with
  // the same id takes its partitions back at once instead of after the
  // session timeout. Empty: dynamic membership. Never give two running
  // processes the same id.
  std::string instance_id;
  int session_timeout_ms = 10'000;   // a silent member loses its partitions after this
  size_t batch_messages_max = 4096;  // polled per append
  int poll_timeout_ms = 100;         // wait for the first message of a batch
  // How long a broker holds a fetch while it has nothing new: lower answers
  // a message sooner after it is produced, at the cost of more fetches when idle.
  int fetch_wait_max_ms = 50;
  // The identity of the cluster `brokers` belong to, stored with every
  // offset so that offsets are only used on the cluster they came from.
  // Empty: the cluster id the brokers report (rd_kafka_clusterid). An
  // embedded cluster passes EmbeddedKafka::cluster_id(): it is a new
  // cluster each time, and offsets stored without a cluster (by older
  // versions) are then not used either.
  std::string cluster_id;
};

struct IngestCounts {
  uint64_t messages = 0;    // taken from Kafka
  uint64_t appended = 0;    // events appended
  uint64_t duplicates = 0;  // already in the log
  uint64_t rejected = 0;    // refused by the ledger's rules (kept as dead letters)
  uint64_t malformed = 0;   // did not parse (kept as dead letters)
  uint64_t fenced = 0;      // batches dropped: a partition had moved to another process
};

class KafkaIngest {
 public:
  // Connects and subscribes; partitions arrive with the group's assignment.
  static Result<std::unique_ptr<KafkaIngest>> Create(Ledger& ledger,
                                                     const KafkaIngestOptions& options);
  ~KafkaIngest();
  KafkaIngest(const KafkaIngest&) = delete;
  KafkaIngest& operator=(const KafkaIngest&) = delete;

  // Polls and parses one batch, then starts appending it (with its offsets
  // and dead letters) on another thread, so that the next call fetches and
  // parses while this batch is written and synced. A batch is counted in
  // `counts` once its append is done: by the next call (or by the
  // destructor, which waits for it).
  Status PollOnce(IngestCounts& counts);
  // Waits for the batch being appended, if any, and counts it: before
  // reading final counts.
  Status Finish(IngestCounts& counts);

  // Messages in the assigned partitions not yet appended: the high
  // watermarks of the last fetch less the offsets the ledger stored.
  // nullopt until a fetch has reported every assigned partition's watermark.
  std::optional<uint64_t> Lag() const;
  // Sentences about stored offsets that were not used or look wrong, one
  // per partition: a partition assigned with a stored offset of another
  // cluster (it started where the group got to on this cluster, else at
  // the beginning), or whose stored offset is beyond the broker's end (the
  // topic was deleted and recreated: Lag() is then nullopt, not 0).
  std::vector<std::string> OffsetWarnings() const;
  // Partitions assigned to this process now.
  size_t assigned_partitions() const;
  const KafkaHealth& health() const;

 private:
  struct Impl;
  explicit KafkaIngest(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tally
