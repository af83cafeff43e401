// Reading amounts out of stored (already validated, canonical) events.
#pragma once

#include <string>

#include "events/money.h"
#include "schema/event.capnp.h"

namespace tally::internal {

// Micro-credits of a credits text; "" is zero. REQUIRES: validated text.
Int128 CreditsOf(capnp::Text::Reader text);

struct MoneyAmount {
  std::string currency;  // empty when the field was absent
  Int128 minor;
};

// REQUIRES: validated money (or absent: zero with empty currency).
MoneyAmount MoneyOf(bool has, schema::Money::Reader money);

std::string TextOf(capnp::Text::Reader text);

}  // namespace tally::internal
