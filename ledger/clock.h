// Clock: the only way time enters the ledger (recorded_at, hold TTLs).
// main() passes a SystemClock; tests pass a ManualClock and move it.
#pragma once

#include <atomic>
#include <cstdint>

namespace tally {

class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since the Unix epoch, UTC. Thread-safe.
  virtual int64_t NowMicros() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowMicros() const override;
};

// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now_micros) : now_micros_(now_micros) {}
  int64_t NowMicros() const override { return now_micros_.load(); }
  void Set(int64_t now_micros) { now_micros_.store(now_micros); }
  void Advance(int64_t delta_micros) { now_micros_.fetch_add(delta_micros); }

 private:
  std::atomic<int64_t> now_micros_;
};

}  // namespace tally
