#include "events/internal/json_diagnose.h"

#include <capnp/schema.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "events/internal/names.h"
#include "events/timestamp.h"
#include "schema/event.capnp.h"

namespace tally::internal {
namespace {

using capnp::JsonValue;
using capnp::StructSchema;
using Problem = std::optional<std::string>;

Problem Value(JsonValue::Reader value, capnp::Type type, const std::string& path);

std::string Join(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

Problem Expected(const std::string& path, const char* what) { return path + ": expected " + what; }

// The range of an integer type, as doubles (exact for every bound but the
// 64-bit ones, which are only compared against).
std::pair<double, double> IntegerRange(capnp::schema::Type::Which which) {
  using T = capnp::schema::Type;
  switch (which) {
    case T::INT8: return {INT8_MIN, INT8_MAX};
    case T::INT16: return {INT16_MIN, INT16_MAX};
    case T::INT32: return {INT32_MIN, INT32_MAX};
    case T::INT64: return {-9223372036854775808.0, 9223372036854775807.0};
    case T::UINT8: return {0, UINT8_MAX};
    case T::UINT16: return {0, UINT16_MAX};
    case T::UINT32: return {0, UINT32_MAX};
    default: return {0, 18446744073709551615.0};
  }
}

// An integer field: a whole number within the type's range, or a string
// holding one.
Problem Integer(JsonValue::Reader value, capnp::schema::Type::Which which,
                const std::string& path) {
  double number = 0;
  if (value.isNumber()) {
    number = value.getNumber();
  } else if (value.isString()) {
    std::string_view text = value.getString().cStr();
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
      return path + ": expected a whole number";
    }
  } else {
    return Expected(path, "a number");
  }
  auto [low, high] = IntegerRange(which);
  if (number != std::trunc(number)) return path + ": expected a whole number";
  if (number < low || number > high) {
    char bounds[64];
    std::snprintf(bounds, sizeof bounds, "%.0f to %.0f", low, high);
    return path + ": out of range; expected " + bounds;
  }
  return std::nullopt;
}

Problem Enum(JsonValue::Reader value, capnp::EnumSchema schema, const std::string& path) {
  if (!value.isString()) return Expected(path, "a string");
  std::string names;
  for (auto enumerant : schema.getEnumerants()) {
    std::string_view name = enumerant.getProto().getName().cStr();
    if (name == value.getString().cStr()) return std::nullopt;
    names += (names.empty() ? "" : ", ") + std::string(name);
  }
  return path + ": unknown value \"" + std::string(value.getString().cStr()) +
         "\"; expected one of " + names;
}

Problem Struct(JsonValue::Reader value, StructSchema schema, const std::string& path) {
  if (schema.getProto().getId() == capnp::typeId<schema::Timestamp>()) {
    if (!value.isString()) return Expected(path, "an RFC 3339 timestamp string");
    auto parsed = ParseTimestamp(value.getString().cStr());
    if (!parsed.ok()) return path + ": " + parsed.status().message();
    return std::nullopt;
  }
  if (!value.isObject()) return Expected(path, "an object");
  for (auto member : value.getObject()) {
    std::string_view name = member.getName().cStr();
    std::string member_path = Join(path, name);
    bool found = false;
    for (auto field : schema.getFields()) {
      if (FieldJsonName(field) != name) continue;
      found = true;
      if (auto problem = Value(member.getValue(), field.getType(), member_path)) return problem;
    }
    if (!found) return member_path + ": unknown field";
  }
  return std::nullopt;
}

Problem Value(JsonValue::Reader value, capnp::Type type, const std::string& path) {
  if (value.isNull()) return std::nullopt;
  switch (type.which()) {
    case capnp::schema::Type::TEXT:
    case capnp::schema::Type::DATA:
      return value.isString() ? std::nullopt : Expected(path, "a string");
    case capnp::schema::Type::BOOL:
      return value.isBoolean() ? std::nullopt : Expected(path, "true or false");
    case capnp::schema::Type::ENUM: return Enum(value, type.asEnum(), path);
    case capnp::schema::Type::STRUCT: return Struct(value, type.asStruct(), path);
    case capnp::schema::Type::LIST: {
      if (!value.isArray()) return Expected(path, "an array");
      auto element = type.asList().getElementType();
      uint32_t i = 0;
      for (auto item : value.getArray()) {
        if (auto problem = Value(item, element, path + "[" + std::to_string(i++) + "]")) {
          return problem;
        }
      }
      return std::nullopt;
    }
    case capnp::schema::Type::FLOAT32:
    case capnp::schema::Type::FLOAT64:
      return value.isNumber() ? std::nullopt : Expected(path, "a number");
    default: return Integer(value, type.which(), path);
  }
}

// The event type named by the "type" member, if it names one.
std::optional<StructSchema::Field> PayloadField(JsonValue::Reader event) {
  for (auto member : event.getObject()) {
    if (member.getName() != "type" || !member.getValue().isString()) continue;
    for (auto field : capnp::Schema::from<schema::Event>().getUnionFields()) {
      if (FieldJsonName(field) == member.getValue().getString().cStr()) return field;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> DiagnoseJsonEvent(JsonValue::Reader event) {
  if (!event.isObject()) return "expected a JSON object";
  auto schema = capnp::Schema::from<schema::Event>();
  auto payload = PayloadField(event);
  for (auto member : event.getObject()) {
    std::string_view name = member.getName().cStr();
    if (name == "type") continue;
    if (name == "data") {
      if (!payload) continue;
      if (auto problem = Value(member.getValue(), payload->getType(), "data")) return problem;
      continue;
    }
    bool found = false;
    for (auto field : schema.getNonUnionFields()) {
      if (FieldJsonName(field) != name) continue;
      found = true;
      if (auto problem = Value(member.getValue(), field.getType(), std::string(name))) {
        return problem;
      }
    }
    if (!found) return std::string(name) + ": unknown field";
  }
  return std::nullopt;
}

}  // namespace tally::internal
