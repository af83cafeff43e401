// RFC 3339 timestamps <-> microseconds since the Unix epoch (UTC).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "events/status.h"

namespace tally {

// Parses "2026-03-01T10:00:00Z", "2026-03-01T10:00:00.5Z" (up to 6 fraction
// digits) or "2026-03-01T18:00:00+08:00". Rejects anything else, invalid
// dates (2026-02-30), and instants outside limits::kTimestampMicros{Min,Max}.
Result<int64_t> ParseTimestamp(std::string_view text);

// Formats in UTC: "2026-03-01T10:00:00Z", with ".ffffff" only when the
// fraction is not zero. REQUIRES: micros within the limits above.
std::string FormatTimestamp(int64_t unix_micros);

// The same instant `years` calendar years later (a 29 February becomes
// 1 March), capped at limits::kTimestampMicrosMax. REQUIRES: years >= 0.
int64_t AddYears(int64_t unix_micros, int years);

}  // namespace tally
