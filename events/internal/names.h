// JSON names of schema fields and event types, read from $Json.name annotations.
#pragma once

#include <capnp/schema.h>

#include <string_view>

#include "schema/event.capnp.h"

namespace tally::internal {

// The field's $Json.name, or its Cap'n Proto name when it has none.
std::string_view FieldJsonName(const capnp::StructSchema::Field& field);

// "top_up_settled" for Event::Which::TOP_UP_SETTLED.
std::string_view EventTypeJsonName(schema::Event::Which which);

}  // namespace tally::internal
