#include "adapters/kafka/internal/client.h"

#include <array>
#include <utility>

namespace tally::kafka_internal {
void RecordError(KafkaHealth& health, int err, const char* reason) {
  ++health.errors;
  health.last_error =
      std::string(rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err))) + ": " + reason;
}

Result<rd_kafka_t*> NewClient(rd_kafka_type_t type, const Settings& settings,
                              const Callbacks& callbacks) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [name, value] : settings) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof(error)) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Status::InvalidArgument("kafka setting " + name + ": " + error);
    }
  }
  rd_kafka_conf_set_opaque(conf, callbacks.opaque);
  if (callbacks.error != nullptr) rd_kafka_conf_set_error_cb(conf, callbacks.error);
  if (callbacks.rebalance != nullptr) rd_kafka_conf_set_rebalance_cb(conf, callbacks.rebalance);
  if (callbacks.delivered != nullptr) rd_kafka_conf_set_dr_msg_cb(conf, callbacks.delivered);
  rd_kafka_t* client = rd_kafka_new(type, conf, error, sizeof(error));
  if (client == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Status::InvalidArgument(std::string("kafka client: ") + error);
  }
  return client;
}

Status Produce(rd_kafka_t* producer, const std::string& topic, std::string_view key,
               std::string_view value, const Settings& headers) {
  rd_kafka_headers_t* message_headers = rd_kafka_headers_new(headers.size());
  for (const auto& [name, header] : headers) {
    rd_kafka_header_add(message_headers, name.data(), static_cast<ssize_t>(name.size()),
                        header.data(), static_cast<ssize_t>(header.size()));
  }
  // rd_kafka_produceva: the variadic form's macros need a compiler extension.
  std::array<rd_kafka_vu_t, 5> fields{};
  fields[0].vtype = RD_KAFKA_VTYPE_TOPIC;
  fields[0].u.cstr = topic.c_str();
  fields[1].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  fields[1].u.i = RD_KAFKA_MSG_F_COPY;
  fields[2].vtype = RD_KAFKA_VTYPE_KEY;
  fields[2].u.mem = {const_cast<char*>(key.data()), key.size()};
  fields[3].vtype = RD_KAFKA_VTYPE_VALUE;
  fields[3].u.mem = {const_cast<char*>(value.data()), value.size()};
  fields[4].vtype = RD_KAFKA_VTYPE_HEADERS;
  fields[4].u.headers = message_headers;
  for (;;) {
    rd_kafka_error_t* error = rd_kafka_produceva(producer, fields.data(), fields.size());
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (error != nullptr) {
      err = rd_kafka_error_code(error);
      rd_kafka_error_destroy(error);
    }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();  // the message owns the headers
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_headers_destroy(message_headers);
      return Status::Unavailable(topic + ": " + rd_kafka_err2str(err));
    }
    rd_kafka_poll(producer, 100);  // serve acknowledgements to make room
  }
}

Result<std::unique_ptr<Producer>> Producer::Create(const std::string& brokers,
                                                   int delivery_timeout_ms) {
  std::unique_ptr<Producer> producer(new Producer(delivery_timeout_ms));
  auto client = NewClient(
      RD_KAFKA_PRODUCER,
      {{"bootstrap.servers", brokers},
       {"enable.idempotence", "true"},  // in order; a client retry is never a repeat
       {"linger.ms", "5"},
       {"compression.type", "lz4"},
       {"message.timeout.ms", std::to_string(delivery_timeout_ms)}},
      {.opaque = producer.get(), .error = &Producer::OnError, .delivered = &Producer::Delivered});
  if (!client.ok()) return client.status();
  producer->producer_ = *client;
  return producer;
}

Producer::~Producer() {
  if (producer_ == nullptr) return;
  rd_kafka_flush(producer_, delivery_timeout_ms_);
  rd_kafka_destroy(producer_);
}

void Producer::Delivered(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* self = static_cast<Producer*>(opaque);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++self->acknowledged_;
  } else if (self->delivery_failure_.ok()) {
    self->delivery_failure_ = Status::Unavailable(std::string(rd_kafka_topic_name(message->rkt)) +
                                                  ": " + rd_kafka_err2str(message->err));
  }
}

void Producer::OnError(rd_kafka_t*, int err, const char* reason, void* opaque) {
  RecordError(static_cast<Producer*>(opaque)->health_, err, reason);
}

Status Producer::Produce(const std::string& topic, std::string_view key, std::string_view value,
                         const Settings& headers) {
  return kafka_internal::Produce(producer_, topic, key, value, headers);
}

Status Producer::AwaitAcknowledgements() {
  if (rd_kafka_flush(producer_, delivery_timeout_ms_) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable(
        "kafka: messages not acknowledged within " + std::to_string(delivery_timeout_ms_) + " ms" +
        (health_.last_error.empty() ? "" : " (last error: " + health_.last_error + ")"));
  }
  return std::exchange(delivery_failure_, Status::Ok());
}

void Producer::Poll() { rd_kafka_poll(producer_, 0); }

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

}  // namespace tally::kafka_internal
