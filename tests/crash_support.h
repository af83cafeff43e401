// Helpers of the tests that fork children and kill them.
#pragma once

#include <string.h>
#include <sys/wait.h>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

namespace tally::testing {

// The seed of a crash test: TALLY_CRASH_SEED (decimal or 0x hex) if set,
// else `default_seed`, so that a plain run is reproducible and a failing one
// can be replayed. nullopt when the variable is not a number.
inline std::optional<uint64_t> CrashSeed(uint64_t default_seed) {
  const char* text = std::getenv("TALLY_CRASH_SEED");
  if (text == nullptr || *text == '\0') return default_seed;
  char* end = nullptr;
  uint64_t seed = std::strtoull(text, &end, 0);
  if (*end != '\0') return std::nullopt;
  return seed;
}

// "exited with code 3" or "killed by signal 6 (Aborted)".
inline std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  }
  return "stopped (status " + std::to_string(status) + ")";
}

}  // namespace tally::testing
