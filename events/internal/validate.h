// Checks an event against the rules annotated in events/schema/rules.capnp
// and the limits in events/limits.h.
#pragma once

#include "events/codec.h"
#include "events/status.h"
#include "schema/event.capnp.h"

namespace tally::internal {

// Returns InvalidArgument naming the first bad field by its JSON path
// ("data.amount.value: ..."). On success, amounts in `event` have been
// rewritten in canonical form ("10" credits becomes "10.000000").
Status ValidateEvent(schema::Event::Builder event, EventSource source);

}  // namespace tally::internal
