// TALLY_CHECK: an always-on assertion for invariants (never compiled out).
// A failed check is a bug: it prints the condition and location and aborts.
#pragma once

#include <string>

namespace tally::internal {
[[noreturn]] void CheckFailed(const char* condition, const char* file, int line);
[[noreturn]] void Failed(const std::string& message, const char* file, int line);
}  // namespace tally::internal

// TALLY_FAIL: a violated invariant that needs words (an overflow in money
// arithmetic on validated amounts, currencies mixed by a bug). Always aborts.
#define TALLY_FAIL(message) ::tally::internal::Failed((message), __FILE__, __LINE__)

#define TALLY_CHECK(condition)                                        \
  do {                                                                \
    if (!(condition)) [[unlikely]] {                                  \
      ::tally::internal::CheckFailed(#condition, __FILE__, __LINE__); \
    }                                                                 \
  } while (false)
