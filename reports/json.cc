#include "reports/json.h"

#include <capnp/compat/json.h>
#include <capnp/message.h>

#include "events/check.h"

namespace tally {
namespace {

constexpr int64_t kExactIntegerMax = int64_t{1} << 53;

void Copy(const Json& from, capnp::JsonValue::Builder to) {
  switch (from.kind()) {
    case Json::Kind::kNull: to.setNull(); return;
    case Json::Kind::kBool: to.setBoolean(from.boolean()); return;
    case Json::Kind::kInteger: to.setNumber(static_cast<double>(from.integer())); return;
    case Json::Kind::kString: to.setString(from.string()); return;
    case Json::Kind::kArray: {
      auto items = to.initArray(static_cast<unsigned>(from.items().size()));
      for (size_t i = 0; i < from.items().size(); ++i) Copy(from.items()[i], items[i]);
      return;
    }
    case Json::Kind::kObject: {
      auto fields = to.initObject(static_cast<unsigned>(from.members().size()));
      for (size_t i = 0; i < from.members().size(); ++i) {
        fields[i].setName(from.members()[i].first);
        Copy(from.members()[i].second, fields[i].initValue());
      }
      return;
    }
  }
}

}  // namespace

Json Json::Bool(bool value) {
  Json json;
  json.kind_ = Kind::kBool;
  json.bool_ = value;
  return json;
}

Json Json::Integer(int64_t value) {
  TALLY_CHECK(value <= kExactIntegerMax && value >= -kExactIntegerMax);
  Json json;
  json.kind_ = Kind::kInteger;
  json.integer_ = value;
  return json;
}

Json Json::String(std::string value) {
  Json json;
  json.kind_ = Kind::kString;
  json.string_ = std::move(value);
  return json;
}

Json Json::Array() {
  Json json;
  json.kind_ = Kind::kArray;
  return json;
}

Json Json::Object() {
  Json json;
  json.kind_ = Kind::kObject;
  return json;
}

Json& Json::Add(std::string name, Json value) {
  TALLY_CHECK(kind_ == Kind::kObject);
  members_.emplace_back(std::move(name), std::move(value));
  return *this;
}

Json& Json::Push(Json value) {
  TALLY_CHECK(kind_ == Kind::kArray);
  items_.push_back(std::move(value));
  return *this;
}

std::string Encode(const Json& value) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<capnp::JsonValue>();
  Copy(value, root);
  capnp::JsonCodec codec;
  return codec.encodeRaw(root).cStr();
}

}  // namespace tally
