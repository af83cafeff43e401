@0xf769b03f85507b3f;
# Validation rules attached to event fields. The validator in
# events/internal/validate.cc reads them through reflection, so a new field
# states its rules where it is declared.

$import "/capnp/c++.capnp".namespace("tally::schema");

annotation required @0xd4d2a0c7a1e34f01 (field) :Void;
# The field must be present: a non-empty Text, a set struct, a non-zero timestamp.

annotation credits @0xd4d2a0c7a1e34f02 (field) :Void;
# A Text holding a Credits decimal (6 places at most, see docs/money.md).

annotation maxBytes @0xd4d2a0c7a1e34f03 (field) :UInt32;
# Overrides the default Text length limit (events/limits.h) for this field.

annotation ledgerOnly @0xd4d2a0c7a1e34f04 (field) :Void;
# On a payload member of Event: only the ledger appends this event type;
# a producer that sends it is rejected.

annotation personal @0xd4d2a0c7a1e34f05 (field) :Purpose;
# On a PersonalField: which key purpose encrypts it (docs/events.md).

annotation positive @0xd4d2a0c7a1e34f06 (field) :Void;
# An amount (credits Text or Money) that must be greater than zero.

annotation nonNegative @0xd4d2a0c7a1e34f07 (field) :Void;
# An amount (credits Text or Money) that must not be below zero.

enum Purpose {
  profile @0;  # email, display name, avatar, IP: shredded on erasure request
  billing @1;  # legal name, tax id, invoice title, address: kept for tax law
}
