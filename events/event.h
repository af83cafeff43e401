// Event: one event in canonical binary form, as a copyable immutable value.
//
// The canonical form is Cap'n Proto's canonical encoding of schema::Event
// (one segment, no segment table, no padding garbage): equal events have
// equal bytes, which is what the hash chain and idempotency compare.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "events/status.h"
#include "schema/event.capnp.h"

namespace tally {

// Ids of the events the ledger makes ("tally:<seq>"). Reserved: a producer
// event whose id starts with it is rejected (events/internal/validate.cc),
// else it could take the id of a later ledger-made event.
inline constexpr std::string_view kLedgerIdPrefix = "tally:";

class Event {
 public:
  // Copies `reader` into canonical form. Validation is the caller's job.
  static Event FromReader(schema::Event::Reader reader);
  // Wraps canonical bytes read back from storage. Every later read is
  // bounds-checked, so damaged bytes give Corruption, never a crash.
  static Result<Event> FromCanonical(std::string_view bytes);

  // Valid while this Event (or a copy of it) lives.
  schema::Event::Reader reader() const;
  std::string_view bytes() const;
  // The event type in JSON form, e.g. "top_up_settled".
  std::string_view type_name() const;

  // A copy with the ledger-assigned fields set. REQUIRES: seq > 0.
  Event WithLedgerFields(uint64_t seq, int64_t recorded_at_micros) const;

 private:
  struct Impl;
  explicit Event(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// The JSON name of an event type, e.g. "top_up_settled".
std::string_view EventTypeName(schema::Event::Which which);

}  // namespace tally
