// Events in a request body: NDJSON (one event per line) or JSON (an array
// of events, or one event object). Every event is checked by EventCodec;
// the body is taken whole or not at all.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "events/codec.h"

namespace tally::service {

struct BodyError {
  uint64_t position = 0;  // NDJSON: the line (1-based); JSON: the array index (0-based)
  std::string field;      // the member at fault, when known ("data.credits")
  std::string message;
};

struct EventBody {
  std::vector<Event> events;      // empty when errors is not
  std::vector<BodyError> errors;  // at most `errors_kept`
  uint64_t errors_total = 0;
  bool too_many = false;  // more than `events_max` events (nothing else checked)
};

enum class BodyFormat { kNdjson, kJson };

// The field a Status message names: "data.credits: must be positive"
// names "data.credits"; a message without such a prefix names none.
std::string FieldNamedIn(const std::string& message);

// Reads the events of `body`. A JSON body that is not an array or an object
// is one error at position 0.
EventBody ReadEventBody(std::string_view body, BodyFormat format, const EventCodec& codec,
                        size_t events_max, size_t errors_kept);

}  // namespace tally::service
