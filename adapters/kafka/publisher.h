// Kafka out: the changelog, hold outcomes and dead letters, driven from the
// log (docs/kafka.md).
//
// Every appended event goes to the changelog topic; hold_accepted and
// hold_rejected also go to the outcomes topic. Both are read from the log
// from a cursor kept in the log's store ("kafka.changelog"), produced with
// the idempotent producer, and the cursor moves only once the broker has
// acknowledged every message before it; after a crash delivery resumes
// from the cursor, so nothing is lost and a repeat carries the same event
// id and seq. Dead letters kept by the ledger (ingest) are produced to the
// dead-letter topic and removed once acknowledged.
//
// Messages: key = the event's account; value = the event with seq and
// recorded_at, as JSON (docs/events.md) or, with `binary`, a Cap'n Proto
// message; headers content-type (application/json or application/x-capnp),
// tally-seq, tally-hash (hex chain hash at seq).
// Personal fields are sealed as in the log: no plaintext leaves.
//
// Thread-safety: one thread calls PublishOnce.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "adapters/kafka/health.h"
#include "events/status.h"
#include "ledger/ledger.h"

namespace tally {

struct KafkaPublisherOptions {
  std::string brokers;  // bootstrap servers, host:port[,...]
  std::string changelog_topic = "tally.changelog";
  std::string outcomes_topic = "tally.outcomes";
  std::string dead_letter_topic = "tally.dead-letter";
  bool binary = false;             // changelog and outcomes as Cap'n Proto messages instead of JSON
  size_t batch_events_max = 4096;  // read from the log per PublishOnce
  int delivery_timeout_ms = 30'000;  // a batch not acknowledged by then is retried
};

struct PublishCounts {
  uint64_t changelog = 0;  // messages acknowledged
  uint64_t outcomes = 0;
  uint64_t dead_letters = 0;
  uint64_t published_seq = 0;  // the cursor: every event up to it is acknowledged
};

// The cursor KafkaPublisher keeps in the log's store.
inline constexpr const char* kChangelogCursor = "kafka.changelog";

class KafkaPublisher {
 public:
  static Result<std::unique_ptr<KafkaPublisher>> Create(Ledger& ledger,
                                                        const KafkaPublisherOptions& options);
  ~KafkaPublisher();
  KafkaPublisher(const KafkaPublisher&) = delete;
  KafkaPublisher& operator=(const KafkaPublisher&) = delete;

  // Delivers the pending dead letters and up to batch_events_max events
  // after the cursor, waits for the acknowledgements, then stores the
  // cursor. Returns whether more is pending. Unavailable when the broker
  // did not acknowledge in time (nothing is lost: the next call repeats).
  Result<bool> PublishOnce(PublishCounts& counts);

  const KafkaHealth& health() const;

 private:
  struct Impl;
  explicit KafkaPublisher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tally
