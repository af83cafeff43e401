// The seed of a crash test: TALLY_CRASH_SEED (decimal or 0x hex) if set,
// else `default_seed`, so that a plain run is reproducible and a failing one
// can be replayed. nullopt when the variable is not a number.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <optional>

namespace tally::testing {

inline std::optional<uint64_t> CrashSeed(uint64_t default_seed) {
  const char* text = std::getenv("TALLY_CRASH_SEED");
  if (text == nullptr || *text == '\0') return default_seed;
  char* end = nullptr;
  uint64_t seed = std::strtoull(text, &end, 0);
  if (*end != '\0') return std::nullopt;
  return seed;
}

}  // namespace tally::testing
