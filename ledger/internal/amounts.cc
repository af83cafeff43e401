#include "ledger/internal/amounts.h"

namespace tally::internal {

Int128 CreditsOf(capnp::Text::Reader text) {
  if (text.size() == 0) return 0;
  auto credits = Credits::Parse({text.begin(), text.size()});
  TALLY_CHECK(credits.ok());
  return credits->micros();
}

MoneyAmount MoneyOf(bool has, schema::Money::Reader money) {
  if (!has) return {"", 0};
  auto parsed = Money::Parse(TextOf(money.getCurrency()), TextOf(money.getValue()));
  TALLY_CHECK(parsed.ok());
  return {std::string(parsed->currency().code()), parsed->minor_units()};
}

std::string TextOf(capnp::Text::Reader text) { return {text.begin(), text.size()}; }

}  // namespace tally::internal
