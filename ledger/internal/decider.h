// The ledger's rules, as two pure steps over State (docs/ledger.md):
//
//   Decide: a producer event at decision time t -> rejected with a reason, or
//           the events to append (the input, then any ledger-made answer
//           such as hold_accepted).
//   Apply:  an event that is in the log -> the state change and the journal
//           entry (postings). Live appends and replay share it, so replaying
//           the log rebuilds the same state and the same postings.
//
// Timers (hold TTLs, lot expiry) are ledger-made events too: NextTimerEvent
// returns the next one due at or before t.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "events/event.h"
#include "ledger/internal/state.h"
#include "ledger/journal.h"

namespace tally::internal {

struct Decision {
  std::string rejection;      // non-empty: rejected, nothing is appended
  std::vector<Event> events;  // accepted: append in order; events[0] is the input
};

struct DecideOptions {
  int64_t hold_ttl_micros_default = 0;
  int64_t hold_ttl_micros_max = 0;
};

// REQUIRES: `input` passed producer validation; t >= state.time().
// `input_seq` is the seq the input will get; ledger-made events follow it.
Decision Decide(const State& state, const Event& input, int64_t t, uint64_t input_seq,
                const DecideOptions& options);

// The next hold or lot expiry due at or before `t`, as the event to append at `seq`.
std::optional<Event> NextTimerEvent(State& state, int64_t t, uint64_t seq);

// Applies a logged event and returns its postings (balanced, asserted).
Postings Apply(State& state, const Event& event, uint64_t seq, int64_t recorded_at_micros);

// The time the ledger decided `event` at: occurred_at for imported and
// ledger-made events, recorded_at otherwise.
int64_t DecisionTime(const Event& event, int64_t recorded_at_micros);

bool IsLedgerMade(schema::Event::Which which);
bool CountsInVersion(schema::Event::Which which);

}  // namespace tally::internal
