// The pieces the generator is made of: its random numbers, the markets it
// sells in, and event bodies built through the JSON codec (reports/json.h).
#pragma once

#include <cstdint>
#include <string>

#include "reports/json.h"

namespace tally::workload::internal {

inline constexpr int64_t kSecond = 1'000'000;
inline constexpr int64_t kMinute = 60 * kSecond;
inline constexpr int64_t kHour = 60 * kMinute;
inline constexpr int64_t kDay = 24 * kHour;

// The first whole hour at or after `micros` (> 0). Expiries fall on whole
// hours: `tally demo` records each hour's events just before its end, so
// an expiry inside an hour would find them on its other side.
inline int64_t CeilHour(int64_t micros) { return (micros + kHour - 1) / kHour * kHour; }

// splitmix64: the same numbers on every platform and standard library
// (std::uniform_int_distribution is not specified bit for bit).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  // Uniform in [0, n); REQUIRES: n > 0.
  uint64_t Below(uint64_t n) { return Next() % n; }
  // Uniform in [lo, hi]; REQUIRES: lo <= hi.
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }
  // True with probability permille / 1000.
  bool Chance(int permille) { return Below(1000) < static_cast<uint64_t>(permille); }

 private:
  uint64_t state_;
};

// Where an account pays: its currency, providers, tax and legal entity.
struct Market {
  const char* country;
  const char* currency;
  int decimals;              // of the currency's minor unit
  const char* providers[2];  // the second may be null
  const char* jurisdiction;
  int tax_permille;  // included in the gross price
  const char* legal_entity;
  int64_t minor_per_100_credits;  // the list price
};

const Market& MarketFor(Rng& rng);

// "12.34" from 1234 minor units with 2 decimals; "1500" with 0.
std::string FormatMinor(int64_t minor, int decimals);
// Credits in hundredths: "8", "120.5", "0.25".
std::string FormatCenti(int64_t centi);
// The tax included in `gross` at `permille` (half up).
int64_t TaxIncluded(int64_t gross, int permille);

Json MoneyJson(const Market& market, int64_t minor);
inline Json Text(const std::string& text) { return Json::String(text); }

// A producer event's envelope around `data`.
Json Envelope(const std::string& id, const std::string& account, int64_t at_micros,
              const std::string& producer, const std::string& type, Json data,
              bool imported = false);

}  // namespace tally::workload::internal
