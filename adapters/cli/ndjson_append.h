// Appending a file of NDJSON events (one JSON event per line) as one batch.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "events/codec.h"
#include "ledger/ledger.h"

namespace tally::cli {

struct LineError {
  uint64_t line = 0;  // 1-based
  std::string message;
};

struct NdjsonAppend {
  // Invalid lines, at most kLineErrorsKept of them. Non-empty: nothing was appended.
  std::vector<LineError> errors;
  uint64_t errors_total = 0;
  // One entry per event line, in order (empty when errors is not).
  std::vector<uint64_t> lines;
  std::vector<std::string> ids;
  std::vector<AppendOutcome> outcomes;
};

inline constexpr size_t kLineErrorsKept = 100;

// Reads every line of `in` (blank lines are skipped), checks each one, and,
// only if all are valid, appends them to `ledger` as one atomic batch.
// `size_hint_bytes` drives the progress bar (0: unknown). A non-ok Status is
// an environment failure or an over-limit file; nothing was appended.
Result<NdjsonAppend> AppendNdjson(std::istream& in, uint64_t size_hint_bytes,
                                  const EventCodec& codec, Ledger& ledger);

}  // namespace tally::cli
