// librdkafka's mock cluster, in process: the Kafka broker protocol with
// nothing installed. `tally serve` and `tally demo` run on it when no
// brokers are given; tests use it in place of a broker. It keeps messages
// in memory only, for as long as the process runs.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "events/status.h"

namespace tally {

struct TopicSpec {
  std::string name;
  int partitions = 1;
};

class EmbeddedKafka {
 public:
  // Starts `brokers` mock brokers on 127.0.0.1 (ports chosen by the system)
  // holding `topics`.
  static Result<std::unique_ptr<EmbeddedKafka>> Start(std::span<const TopicSpec> topics,
                                                      int brokers = 1);
  ~EmbeddedKafka();
  EmbeddedKafka(const EmbeddedKafka&) = delete;
  EmbeddedKafka& operator=(const EmbeddedKafka&) = delete;

  // The bootstrap servers to give clients, host:port[,...].
  const std::string& bootstrap() const;
  // This cluster's identity, for binding stored offsets to it
  // (KafkaIngestOptions::cluster_id): "embedded-" and 32 random hex digits,
  // new for every Start. librdkafka's own mock cluster id is made from the
  // cluster's memory address, so a later cluster can have the same one.
  const std::string& cluster_id() const;
  // Takes every broker down (connections refused) or back up.
  Status SetBrokersUp(bool up);

 private:
  struct Impl;
  explicit EmbeddedKafka(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tally
