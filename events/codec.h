// Parsing events from producers (JSON or binary) and printing them as JSON.
//
// Every event a producer sends passes through here: it is decoded, checked
// against the rules in events/schema/rules.capnp and events/limits.h, its
// amounts rewritten in canonical form, and returned as an Event. Errors name
// the field in its JSON path, e.g. "data.amount.value: ...".
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "events/event.h"
#include "events/status.h"

namespace tally {

enum class EventSource {
  kProducer,  // a billing service: no seq or recorded_at, no ledger-made types
  kLog,       // read back from the log or an export: every field and type allowed
};

// Owns a configured JSON codec. Not thread-safe: use one per thread.
class EventCodec {
 public:
  EventCodec();
  ~EventCodec();
  EventCodec(const EventCodec&) = delete;
  EventCodec& operator=(const EventCodec&) = delete;

  // Parses one event from a JSON object (docs/events.md), checked by the
  // rules for `source`.
  Result<Event> ParseJson(std::string_view json, EventSource source = EventSource::kProducer) const;

  // Parses one producer event from a standard Cap'n Proto message
  // (segment table + segments, unpacked), with the same checks as ParseJson.
  Result<Event> ParseBinary(std::string_view message_bytes) const;

  // One-line JSON. Fields at their defaults are omitted.
  std::string ToJson(const Event& event) const;
  // A standard Cap'n Proto message, as ParseBinary reads.
  std::string ToBinary(const Event& event) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tally
