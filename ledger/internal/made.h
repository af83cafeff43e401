// Building ledger-made events.
#pragma once

#include <capnp/message.h>

#include <string>

#include "events/event.h"

namespace tally::internal {

inline constexpr const char* kLedgerProducer = "tally";
// The account of ledger-wide events (checkpoints, archives).
inline constexpr const char* kLedgerAccount = "_ledger";

// A ledger-made event "tally:<seq>" for `account`, decided at `at`; `fill`
// sets its payload.
template <typename Fill>
Event MakeLedgerEvent(uint64_t seq, const std::string& account, int64_t at,
                      const std::string& correlation_id, Fill fill) {
  capnp::MallocMessageBuilder message;
  auto event = message.initRoot<schema::Event>();
  event.setId(std::string(kLedgerIdPrefix) + std::to_string(seq));
  event.setAccount(account);
  event.initOccurredAt().setUnixMicros(at);
  event.setProducer(kLedgerProducer);
  if (!correlation_id.empty()) event.setCorrelationId(correlation_id);
  fill(event);
  return Event::FromReader(event.asReader());
}

}  // namespace tally::internal
