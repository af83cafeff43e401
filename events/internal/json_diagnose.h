// Finds where a JSON event fails to fit the schema, to name the field in the
// error. Runs only after the Cap'n Proto decoder has rejected the input.
#pragma once

#include <capnp/compat/json.h>

#include <optional>
#include <string>

namespace tally::internal {

// Returns "data.amount: expected an object" style text for the first member
// of `event` that does not fit schema::Event, or nullopt if none is found.
std::optional<std::string> DiagnoseJsonEvent(capnp::JsonValue::Reader event);

}  // namespace tally::internal
