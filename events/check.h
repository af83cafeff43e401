// TALLY_CHECK: an always-on assertion for invariants (never compiled out).
// A failed check is a bug: it prints the condition and location and aborts.
#pragma once

namespace tally::internal {
[[noreturn]] void CheckFailed(const char* condition, const char* file, int line);
}  // namespace tally::internal

#define TALLY_CHECK(condition)                                        \
  do {                                                                \
    if (!(condition)) [[unlikely]] {                                  \
      ::tally::internal::CheckFailed(#condition, __FILE__, __LINE__); \
    }                                                                 \
  } while (false)
