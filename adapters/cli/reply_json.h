// Reading the service's JSON answers in `tally demo` and `tally load`
// (through JsonReader, never by searching the text).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "events/json_reader.h"

namespace tally::cli {

// The string member `name` of the JSON object `body`; empty if none.
std::string StringMember(JsonReader& reader, const std::string& body, const std::string& name);

// The first event's outcome in a POST /v1/events answer ("appended",
// "duplicate", "rejected"); empty if the answer has none.
std::string FirstOutcome(JsonReader& reader, const std::string& body);

// How many events of a POST /v1/events answer had `outcome`.
size_t CountOutcomes(JsonReader& reader, const std::string& body, const std::string& outcome);

// The integer member `name` of the JSON object `body`; -1 if none.
int64_t IntegerMember(JsonReader& reader, const std::string& body, const std::string& name);

}  // namespace tally::cli
