#include "events/event.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstring>
#include <vector>

#include "events/internal/names.h"

namespace tally {

struct Event::Impl {
  explicit Impl(kj::Array<capnp::word> canonical)
      : words(std::move(canonical)),
        segments{words.asPtr()},
        message(kj::arrayPtr(segments, 1), Options()) {}

  // Canonical messages have no overlapping or backward pointers (checked by
  // isCanonical() in FromCanonical, guaranteed by canonicalize() in
  // FromReader), so reads cannot be amplified and need no traversal budget.
  // A budget would also be shared by every read of this long-lived message.
  static capnp::ReaderOptions Options() {
    capnp::ReaderOptions options;
    options.traversalLimitInWords = kj::maxValue;
    return options;
  }

  kj::Array<capnp::word> words;
  kj::ArrayPtr<const capnp::word> segments[1];
  mutable capnp::SegmentArrayMessageReader message;
};

Event Event::FromReader(schema::Event::Reader reader) {
  return Event(std::make_shared<const Impl>(capnp::canonicalize(reader)));
}

Result<Event> Event::FromCanonical(std::string_view bytes) {
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0) {
    return Status::Corruption("event bytes: size " + std::to_string(bytes.size()) +
                              " is not a positive multiple of 8");
  }
  auto words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), bytes.data(), bytes.size());
  try {
    auto impl = std::make_shared<const Impl>(std::move(words));
    auto reader = impl->message.getRoot<schema::Event>();
    (void)reader.which();
    if (!impl->message.isCanonical()) return Status::Corruption("event bytes are not canonical");
    return Event(std::move(impl));
  } catch (const kj::Exception& e) {
    return Status::Corruption("event bytes: " + std::string(e.getDescription().cStr()));
  }
}

schema::Event::Reader Event::reader() const { return impl_->message.getRoot<schema::Event>(); }

std::string_view Event::bytes() const {
  auto bytes = impl_->words.asBytes();
  return {reinterpret_cast<const char*>(bytes.begin()), bytes.size()};
}

Event Event::WithLedgerFields(uint64_t seq, int64_t recorded_at_micros) const {
  TALLY_CHECK(seq > 0);
  capnp::MallocMessageBuilder message;
  message.setRoot(reader());
  auto event = message.getRoot<schema::Event>();
  event.setSeq(seq);
  event.initRecordedAt().setUnixMicros(recorded_at_micros);
  return FromReader(event.asReader());
}

std::string_view Event::type_name() const { return EventTypeName(reader().which()); }

std::string_view EventTypeName(schema::Event::Which which) {
  return internal::EventTypeJsonName(which);
}

}  // namespace tally
