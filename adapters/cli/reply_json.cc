#include "adapters/cli/reply_json.h"

#include <capnp/message.h>

#include <string_view>

namespace tally::cli {
namespace {

// The member `name` of `object`, if it has one.
template <typename Reader>
bool Member(Reader object, const std::string& name, capnp::JsonValue::Reader* out) {
  if (!object.isObject()) return false;
  for (auto field : object.getObject()) {
    if (std::string_view(field.getName().cStr()) == name) {
      *out = field.getValue();
      return true;
    }
  }
  return false;
}

}  // namespace

std::string StringMember(JsonReader& reader, const std::string& body, const std::string& name) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<capnp::JsonValue>();
  capnp::JsonValue::Reader value;
  if (!reader.Read(body, root).ok() || !Member(root.asReader(), name, &value)) return "";
  return value.isString() ? value.getString().cStr() : "";
}

int64_t IntegerMember(JsonReader& reader, const std::string& body, const std::string& name) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<capnp::JsonValue>();
  capnp::JsonValue::Reader value;
  if (!reader.Read(body, root).ok() || !Member(root.asReader(), name, &value)) return -1;
  return value.isNumber() ? static_cast<int64_t>(value.getNumber()) : -1;
}

std::string FirstOutcome(JsonReader& reader, const std::string& body) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<capnp::JsonValue>();
  capnp::JsonValue::Reader outcomes, outcome;
  if (!reader.Read(body, root).ok() || !Member(root.asReader(), "outcomes", &outcomes) ||
      !outcomes.isArray() || outcomes.getArray().size() == 0 ||
      !Member(outcomes.getArray()[0], "outcome", &outcome) || !outcome.isString()) {
    return "";
  }
  return outcome.getString().cStr();
}

size_t CountOutcomes(JsonReader& reader, const std::string& body, const std::string& outcome) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<capnp::JsonValue>();
  capnp::JsonValue::Reader outcomes, value;
  if (!reader.Read(body, root).ok() || !Member(root.asReader(), "outcomes", &outcomes) ||
      !outcomes.isArray()) {
    return 0;
  }
  size_t count = 0;
  for (auto item : outcomes.getArray()) {
    if (Member(item, "outcome", &value) && value.isString() &&
        std::string_view(value.getString().cStr()) == outcome) {
      ++count;
    }
  }
  return count;
}

}  // namespace tally::cli
