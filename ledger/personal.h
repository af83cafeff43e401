// Personal fields on the way in and out (docs/privacy.md).
//
// In: every plaintext personal field of a producer event is sealed with its
// subject's data key for the field's purpose before the event is appended;
// the subject is the event's account. Out: reads open the sealed fields, and
// a field whose key was shredded reads as `erased`.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "events/event.h"
#include "events/status.h"
#include "ledger/keystore.h"
#include "ledger/ledger.h"

namespace tally {

// What sealing made of a producer event: the event to append, or (when
// `rejection` is set) why it cannot be accepted.
struct SealedEvent {
  Event event;
  std::string rejection;
};

// Seals every plaintext personal field of `event`. Without a key store
// (`keys` null), an event with personal fields is rejected: nothing personal
// is ever stored in plaintext. A subject whose key for the purpose was
// shredded gets no new personal data: rejected too. A rejected event comes
// back with its plaintext fields redacted (RedactPersonalFields), and the
// rejection never quotes the plaintext.
//
// `sealed_before` (if given) answers the first seq of the log that holds a
// field of (subject, purpose) sealed with a key (0: none). When the key
// store has no key for a pair the log has sealed with, no new key is made
// (it would be labelled version 1 again, and the old fields could never be
// read): Corruption saying to restore the key store.
using SealedBeforeFn = std::function<Result<uint64_t>(const std::string& subject, KeyPurpose)>;
Result<SealedEvent> SealPersonalFields(const Event& event, KeyStore* keys,
                                       const SealedBeforeFn& sealed_before = nullptr);

// `event` with each plaintext personal field replaced by `erased` (its
// purpose): what is kept of an event whose fields could not be sealed
// (a dead letter, docs/privacy.md). Sealed fields stay sealed.
Event RedactPersonalFields(const Event& event);

// `event` with each sealed personal field opened to plaintext, or `erased`
// where its key was shredded. Corruption when a key is missing (a key store
// restored from a backup older than the log) or a field does not open.
Result<Event> OpenPersonalFields(const Event& event, const KeyStore& keys);

struct PersonalValue {
  enum class Kind { kUnset, kText, kErased };
  Kind kind = Kind::kUnset;
  std::string text;  // kText only
  // The text, "erased", or "" when unset.
  std::string Display() const;
};

// The personal fields of an account as of a seq: each field's latest value
// from account_opened and profile_updated, by JSON name, in schema order.
struct Identity {
  std::vector<std::pair<std::string, PersonalValue>> fields;
  const PersonalValue* Find(const std::string& json_name) const;
};

// The identity of `account` from the events at or before `through_seq`.
Result<Identity> ReadIdentity(const Log& log, const std::string& account, uint64_t through_seq,
                              const KeyStore& keys);

}  // namespace tally
