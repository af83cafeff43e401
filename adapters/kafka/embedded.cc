#include "adapters/kafka/embedded.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <random>

#include "adapters/kafka/internal/client.h"

namespace tally {
namespace {

// "embedded-" and 128 random bits in hex.
std::string NewClusterId() {
  std::random_device random;
  std::string id = "embedded-";
  constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) id.push_back(kHex[random() % 16]);
  return id;
}

}  // namespace

struct EmbeddedKafka::Impl {
  ~Impl() {
    if (cluster != nullptr) rd_kafka_mock_cluster_destroy(cluster);
    if (host != nullptr) rd_kafka_destroy(host);
  }
  rd_kafka_t* host = nullptr;  // a client handle that only hosts the cluster
  rd_kafka_mock_cluster_t* cluster = nullptr;
  int brokers = 0;
  std::string bootstrap;
  std::string cluster_id;
};

EmbeddedKafka::EmbeddedKafka(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EmbeddedKafka::~EmbeddedKafka() = default;

Result<std::unique_ptr<EmbeddedKafka>> EmbeddedKafka::Start(std::span<const TopicSpec> topics,
                                                            int brokers) {
  auto impl = std::make_unique<Impl>();
  // No bootstrap servers: it would log that it has none (level 4); 3 keeps errors.
  auto host = kafka_internal::NewClient(RD_KAFKA_PRODUCER, {{"log_level", "3"}}, {});
  if (!host.ok()) return host.status();
  impl->host = *host;
  impl->cluster = rd_kafka_mock_cluster_new(impl->host, brokers);
  if (impl->cluster == nullptr) return Status::Unavailable("kafka: the mock cluster did not start");
  impl->brokers = brokers;
  for (const TopicSpec& topic : topics) {
    rd_kafka_resp_err_t err =
        rd_kafka_mock_topic_create(impl->cluster, topic.name.c_str(), topic.partitions, 1);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::InvalidArgument("kafka: creating topic " + topic.name + ": " +
                                     rd_kafka_err2str(err));
    }
  }
  impl->bootstrap = rd_kafka_mock_cluster_bootstraps(impl->cluster);
  impl->cluster_id = NewClusterId();
  return std::unique_ptr<EmbeddedKafka>(new EmbeddedKafka(std::move(impl)));
}

const std::string& EmbeddedKafka::bootstrap() const { return impl_->bootstrap; }
const std::string& EmbeddedKafka::cluster_id() const { return impl_->cluster_id; }

Status EmbeddedKafka::SetBrokersUp(bool up) {
  for (int32_t broker = 1; broker <= impl_->brokers; ++broker) {
    rd_kafka_resp_err_t err = up ? rd_kafka_mock_broker_set_up(impl_->cluster, broker)
                                 : rd_kafka_mock_broker_set_down(impl_->cluster, broker);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::Unavailable(std::string("kafka: mock broker: ") + rd_kafka_err2str(err));
    }
  }
  return Status::Ok();
}

}  // namespace tally
