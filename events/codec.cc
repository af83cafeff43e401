#include "events/codec.h"

#include <capnp/compat/json.h>
#include <capnp/dynamic.h>
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstring>

#include "events/internal/json_diagnose.h"
#include "events/internal/names.h"
#include "events/internal/validate.h"
#include "events/json_reader.h"
#include "events/limits.h"
#include "events/timestamp.h"

namespace tally {
namespace {

std::string Describe(const kj::Exception& e) { return e.getDescription().cStr(); }

// Timestamps travel in JSON as RFC 3339 strings (events/timestamp.h).
class TimestampHandler final : public capnp::JsonCodec::Handler<schema::Timestamp> {
 public:
  void encode(const capnp::JsonCodec&, schema::Timestamp::Reader input,
              capnp::JsonValue::Builder output) const override {
    int64_t micros = input.getUnixMicros();
    if (micros < limits::kTimestampMicrosMin || micros > limits::kTimestampMicrosMax) {
      output.setNumber(static_cast<double>(micros));  // only reachable for damaged data
      return;
    }
    output.setString(FormatTimestamp(micros));
  }
  void decode(const capnp::JsonCodec&, capnp::JsonValue::Reader input,
              schema::Timestamp::Builder output) const override {
    KJ_REQUIRE(input.isString(), "a timestamp must be an RFC 3339 string");
    auto parsed = ParseTimestamp(input.getString().cStr());
    KJ_REQUIRE(parsed.ok(), parsed.status().message());
    output.setUnixMicros(*parsed);
  }
};

// Finds the "type" member of a JSON object and checks it names a producer
// event type, so that an absent or unknown type is reported as such.
Status CheckType(capnp::JsonValue::Reader root) {
  if (!root.isObject()) return Status::InvalidArgument("an event must be a JSON object");
  for (auto member : root.getObject()) {
    if (member.getName() != "type") continue;
    if (!member.getValue().isString()) {
      return Status::InvalidArgument("type: must be a string");
    }
    std::string_view type = member.getValue().getString().cStr();
    for (auto field : capnp::Schema::from<schema::Event>().getUnionFields()) {
      if (internal::FieldJsonName(field) == type) return Status::Ok();
    }
    return Status::InvalidArgument("type: unknown event type \"" + std::string(type.substr(0, 64)) +
                                   "\"");
  }
  return Status::InvalidArgument("type: is required");
}

// Validates a decoded event and returns its canonical form.
Result<Event> Finish(schema::Event::Builder event, EventSource source) {
  auto status = internal::ValidateEvent(event, source);
  if (!status.ok()) return status;
  return Event::FromReader(event.asReader());
}

void CopyKnown(capnp::DynamicStruct::Reader from, capnp::DynamicStruct::Builder to);

// Copies one field of `from` if it is not at its default: what the JSON
// codec prints (HasMode::NON_DEFAULT), so that both forms of an event have
// the same canonical bytes.
void CopyField(capnp::DynamicStruct::Reader from, capnp::DynamicStruct::Builder to,
               capnp::StructSchema::Field field) {
  if (field.getProto().isGroup()) {  // shares the parent's sections
    CopyKnown(from.get(field).as<capnp::DynamicStruct>(), to.get(field).as<capnp::DynamicStruct>());
    return;
  }
  if (!from.has(field, capnp::HasMode::NON_DEFAULT)) return;
  auto type = field.getType();
  if (type.isStruct()) {
    CopyKnown(from.get(field).as<capnp::DynamicStruct>(),
              to.init(field).as<capnp::DynamicStruct>());
  } else if (type.isList() && type.asList().getElementType().isStruct()) {
    auto items = from.get(field).as<capnp::DynamicList>();
    auto copies = to.init(field, items.size()).as<capnp::DynamicList>();
    for (uint32_t i = 0; i < items.size(); ++i) {
      CopyKnown(items[i].as<capnp::DynamicStruct>(), copies[i].as<capnp::DynamicStruct>());
    }
  } else {
    to.set(field, from.get(field));
  }
}

// Copies only what the schema declares, field by field: bits a binary
// producer left in padding, in an inactive union member's slots or in a
// text set to "" do not reach the canonical bytes.
void CopyKnown(capnp::DynamicStruct::Reader from, capnp::DynamicStruct::Builder to) {
  for (auto field : from.getSchema().getNonUnionFields()) CopyField(from, to, field);
  KJ_IF_MAYBE (active, from.which()) {  // set even at its default: it names the member
    if (active->getType().isStruct()) {
      CopyKnown(from.get(*active).as<capnp::DynamicStruct>(),
                to.init(*active).as<capnp::DynamicStruct>());
    } else {
      to.set(*active, from.get(*active));
    }
  }
}

}  // namespace

struct EventCodec::Impl {
  Impl() {
    json.setMaxNestingDepth(limits::kJsonNestingMax);
    json.setRejectUnknownFields(true);
    json.setHasMode(capnp::HasMode::NON_DEFAULT);
    json.addTypeHandler(timestamps);
    json.handleByAnnotation<schema::Event>();
  }
  TimestampHandler timestamps;
  capnp::JsonCodec json;  // JsonValue <-> schema::Event, and ToJson
  JsonReader reader;      // text -> JsonValue (never capnp-json's text parser)
};

EventCodec::EventCodec() : impl_(std::make_unique<Impl>()) {}
EventCodec::~EventCodec() = default;

Result<Event> EventCodec::ParseJson(std::string_view text, EventSource source) const {
  if (text.size() > limits::kEventJsonBytesMax) {
    return Status::InvalidArgument("event is " + std::to_string(text.size()) + " bytes; at most " +
                                   std::to_string(limits::kEventJsonBytesMax) + " allowed");
  }
  capnp::MallocMessageBuilder raw_message;
  auto raw = raw_message.initRoot<capnp::JsonValue>();
  if (auto status = impl_->reader.Read(text, raw); !status.ok()) return status;
  if (auto status = CheckType(raw.asReader()); !status.ok()) return status;
  capnp::MallocMessageBuilder message;
  auto event = message.initRoot<schema::Event>();
  try {
    impl_->json.decode(raw.asReader(), capnp::DynamicStruct::Builder(event));
  } catch (const kj::Exception& e) {
    auto located = internal::DiagnoseJsonEvent(raw.asReader());
    return Status::InvalidArgument(located ? *located : Describe(e));
  }
  return Finish(event, source);
}

Result<Event> EventCodec::ParseBinary(std::string_view bytes) const {
  if (bytes.size() > limits::kEventBinaryBytesMax || bytes.size() % sizeof(capnp::word) != 0) {
    return Status::InvalidArgument("binary event: size " + std::to_string(bytes.size()) +
                                   " is not a multiple of 8 up to " +
                                   std::to_string(limits::kEventBinaryBytesMax));
  }
  auto words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  if (!bytes.empty()) std::memcpy(words.begin(), bytes.data(), bytes.size());
  capnp::MallocMessageBuilder message;
  try {
    capnp::ReaderOptions options;
    options.traversalLimitInWords = words.size() * 4;
    capnp::FlatArrayMessageReader reader(words, options);
    message.setRoot(reader.getRoot<schema::Event>());
  } catch (const kj::Exception& e) {
    return Status::InvalidArgument("binary event: " + Describe(e));
  }
  // Copying does not check everything a reader would (a text's closing NUL):
  // what is malformed in the copy surfaces while it is validated.
  try {
    auto event = message.getRoot<schema::Event>();
    if (auto status = internal::ValidateEvent(event, EventSource::kProducer); !status.ok()) {
      return status;
    }
    // Judged again as copied: the copy is what is stored, and what its JSON
    // form says (a default-valued field the raw message held is gone).
    capnp::MallocMessageBuilder clean;
    CopyKnown(event.asReader(), clean.initRoot<schema::Event>());
    return Finish(clean.getRoot<schema::Event>(), EventSource::kProducer);
  } catch (const kj::Exception& e) {
    return Status::InvalidArgument("binary event: " + Describe(e));
  }
}

std::string EventCodec::ToJson(const Event& event) const {
  return impl_->json.encode(event.reader()).cStr();
}

std::string EventCodec::ToBinary(const Event& event) const {
  capnp::MallocMessageBuilder message;
  message.setRoot(event.reader());
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asChars();
  return std::string(bytes.begin(), bytes.size());
}

}  // namespace tally
