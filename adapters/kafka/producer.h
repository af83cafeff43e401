// Publishing billing events to Kafka as Tally expects them (docs/kafka.md):
// key = the event's account, value = the event as JSON or as a Cap'n Proto
// message, header content-type saying which. `tally publish` and the tests
// use it; a billing service can do the same with any Kafka client.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "adapters/kafka/health.h"
#include "events/event.h"
#include "events/status.h"

namespace tally {

struct EventProducerOptions {
  std::string brokers;  // bootstrap servers, host:port[,...]
  std::string topic = "tally.events";
  bool binary = false;  // Cap'n Proto instead of JSON
  int delivery_timeout_ms = 30'000;
};

class EventProducer {
 public:
  static Result<std::unique_ptr<EventProducer>> Create(const EventProducerOptions& options);
  ~EventProducer();
  EventProducer(const EventProducer&) = delete;
  EventProducer& operator=(const EventProducer&) = delete;

  // Queues `event` (validated by the caller, e.g. EventCodec::ParseJson).
  Status Produce(const Event& event);
  // Queues a message as given: for tests that publish what a faulty
  // producer would.
  Status ProduceRaw(std::string_view key, std::string_view value, std::string_view content_type);
  // Waits until every queued message is acknowledged; Unavailable if one
  // failed or the time ran out.
  Status Flush();

  uint64_t acknowledged() const;
  const KafkaHealth& health() const;

 private:
  struct Impl;
  explicit EventProducer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tally
