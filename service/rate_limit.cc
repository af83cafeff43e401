#include "service/rate_limit.h"

#include <algorithm>
#include <cmath>

namespace tally::service {

RateLimiter::RateLimiter(double per_second, double burst, const Clock* clock)
    : per_second_(per_second), burst_(std::max(burst, 1.0)), clock_(clock) {}

bool RateLimiter::Admit(const std::string& caller, int64_t* retry_after_seconds) {
  if (per_second_ <= 0) return true;
  const int64_t now = clock_->NowMicros();
  std::lock_guard lock(mutex_);
  auto [it, made] = buckets_.try_emplace(caller, Bucket{burst_, now});
  Bucket& bucket = it->second;
  const double elapsed = static_cast<double>(std::max<int64_t>(now - bucket.at_micros, 0)) / 1e6;
  bucket.tokens = std::min(burst_, bucket.tokens + elapsed * per_second_);
  bucket.at_micros = now;
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return true;
  }
  *retry_after_seconds =
      std::max<int64_t>(1, static_cast<int64_t>(std::ceil((1 - bucket.tokens) / per_second_)));
  return false;
}

}  // namespace tally::service
