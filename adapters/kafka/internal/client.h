// Shared by the Kafka clients: making a librdkafka handle from settings,
// recording its error callback, reading a header.
#pragma once

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/kafka/health.h"
#include "events/status.h"

namespace tally::kafka_internal {

using Settings = std::vector<std::pair<std::string, std::string>>;

void RecordError(KafkaHealth& health, int err, const char* reason);

// An error callback for a client whose opaque is a T with a `health` member.

template <class T>
void RecordErrorOf(rd_kafka_t*, int err, const char* reason, void* opaque) {
  RecordError(static_cast<T*>(opaque)->health, err, reason);
}

// The callbacks a client wants; `opaque` is passed to each.
struct Callbacks {
  void* opaque = nullptr;
  void (*error)(rd_kafka_t*, int, const char*, void*) = nullptr;
  void (*rebalance)(rd_kafka_t*, rd_kafka_resp_err_t, rd_kafka_topic_partition_list_t*,
                    void*) = nullptr;
  void (*delivered)(rd_kafka_t*, const rd_kafka_message_t*, void*) = nullptr;
};

// A producer or consumer handle with `settings` applied (InvalidArgument
// naming a bad setting). The caller owns it (rd_kafka_destroy).
Result<rd_kafka_t*> NewClient(rd_kafka_type_t type, const Settings& settings,
                              const Callbacks& callbacks);

// Queues one message (copied) on `producer`, waiting for room while the
// queue is full. Unavailable naming the topic if it cannot be queued.
Status Produce(rd_kafka_t* producer, const std::string& topic, std::string_view key,
               std::string_view value, const Settings& headers);

// An idempotent producer that counts acknowledgements and keeps the first
// failed delivery and librdkafka's errors. Destroying it waits up to the
// delivery timeout for what is queued.
class Producer {
 public:
  static Result<std::unique_ptr<Producer>> Create(const std::string& brokers,
                                                  int delivery_timeout_ms);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  Status Produce(const std::string& topic, std::string_view key, std::string_view value,
                 const Settings& headers);
  // Waits until every queued message is acknowledged or failed: Unavailable
  // if the time ran out or one failed since the last call.
  Status AwaitAcknowledgements();
  // Serves callbacks without waiting.
  void Poll();

  uint64_t acknowledged() const { return acknowledged_; }
  const KafkaHealth& health() const { return health_; }

 private:
  explicit Producer(int delivery_timeout_ms) : delivery_timeout_ms_(delivery_timeout_ms) {}
  static void Delivered(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque);
  static void OnError(rd_kafka_t*, int err, const char* reason, void* opaque);

  const int delivery_timeout_ms_;
  rd_kafka_t* producer_ = nullptr;
  uint64_t acknowledged_ = 0;  // delivered without error
  Status delivery_failure_;    // the first failed delivery since the last wait
  KafkaHealth health_;
};

// The value of the last header `name` of `message`; empty if absent.
std::string HeaderOf(const rd_kafka_message_t* message, const char* name);

}  // namespace tally::kafka_internal
