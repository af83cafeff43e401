// Reading a file of NDJSON events (one JSON event per line), and appending
// it as one batch.
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

struct NdjsonEvents {
  // Invalid lines, at most kLineErrorsKept of them.
  std::vector<LineError> errors;
  uint64_t errors_total = 0;
  // One entry per event line, in order (empty when errors is not).
  std::vector<uint64_t> lines;
  std::vector<std::string> ids;
  std::vector<Event> events;
};

struct NdjsonAppend : NdjsonEvents {
  std::vector<AppendOutcome> outcomes;  // one per event; none when errors is not empty
};

inline constexpr size_t kLineErrorsKept = 100;

// Reads every line of `in` (blank lines are skipped) and checks each one as
// a producer event. `size_hint_bytes` drives the progress bar (0: unknown).
// A non-ok Status is a read failure or more than `events_max` events.
Result<NdjsonEvents> ReadNdjson(std::istream& in, uint64_t size_hint_bytes, const EventCodec& codec,
                                size_t events_max);

// ReadNdjson, then, only if every line is valid, appends the events to
// `ledger` as one atomic batch. A non-ok Status is an environment failure
// or an over-limit file; nothing was appended.
Result<NdjsonAppend> AppendNdjson(std::istream& in, uint64_t size_hint_bytes,
                                  const EventCodec& codec, Ledger& ledger);

}  // namespace tally::cli
