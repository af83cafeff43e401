// What librdkafka said about the brokers: errors it reports through its
// error callback (a broker down, all brokers down, authentication), which
// it recovers from by itself. `tally serve` prints them in its status.
#pragma once

#include <cstdint>
#include <string>

namespace tally {

struct KafkaHealth {
  uint64_t errors = 0;     // reported so far
  std::string last_error;  // empty: none yet
};

}  // namespace tally
