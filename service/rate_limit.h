// Requests per second per API token: a token bucket for each caller, so
// that one misbehaving client cannot take the service from the others.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "ledger/clock.h"

namespace tally::service {

class RateLimiter {
 public:
  // `per_second` requests a second on average, `burst` at once; 0: no limit.
  // `clock` must outlive the limiter.
  RateLimiter(double per_second, double burst, const Clock* clock);

  // Whether `caller` may make a request now; if not, `retry_after_seconds`
  // says when one will be admitted.
  bool Admit(const std::string& caller, int64_t* retry_after_seconds);

 private:
  struct Bucket {
    double tokens = 0;
    int64_t at_micros = 0;
  };
  double per_second_;
  double burst_;
  const Clock* clock_;
  std::mutex mutex_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace tally::service
