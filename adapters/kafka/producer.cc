#include "adapters/kafka/producer.h"

#include "adapters/kafka/internal/client.h"
#include "events/codec.h"

namespace tally {

struct EventProducer::Impl {
  EventProducerOptions options;
  std::unique_ptr<kafka_internal::Producer> producer;
  EventCodec codec;
};

EventProducer::EventProducer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EventProducer::~EventProducer() = default;

Result<std::unique_ptr<EventProducer>> EventProducer::Create(const EventProducerOptions& options) {
  auto producer = kafka_internal::Producer::Create(options.brokers, options.delivery_timeout_ms);
  if (!producer.ok()) return producer.status();
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->producer = std::move(producer).value();
  return std::unique_ptr<EventProducer>(new EventProducer(std::move(impl)));
}

Status EventProducer::Produce(const Event& event) {
  const bool binary = impl_->options.binary;
  return ProduceRaw(event.reader().getAccount().cStr(),
                    binary ? impl_->codec.ToBinary(event) : impl_->codec.ToJson(event),
                    binary ? "application/x-capnp" : "application/json");
}

Status EventProducer::ProduceRaw(std::string_view key, std::string_view value,
                                 std::string_view content_type) {
  kafka_internal::Settings headers;
  if (!content_type.empty()) headers.emplace_back("content-type", std::string(content_type));
  auto status = impl_->producer->Produce(impl_->options.topic, key, value, headers);
  impl_->producer->Poll();
  return status;
}

Status EventProducer::Flush() { return impl_->producer->AwaitAcknowledgements(); }

uint64_t EventProducer::acknowledged() const { return impl_->producer->acknowledged(); }

const KafkaHealth& EventProducer::health() const { return impl_->producer->health(); }

}  // namespace tally
