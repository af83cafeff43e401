#include "events/internal/validate.h"

#include <capnp/any.h>
#include <capnp/dynamic.h>
#include <capnp/schema.h>
#include <simdjson.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "events/internal/names.h"
#include "events/limits.h"
#include "events/money.h"

namespace tally::internal {
namespace {

using capnp::DynamicStruct;
using capnp::StructSchema;

// Annotation ids from events/schema/rules.capnp.
constexpr uint64_t kRequiredId = 0xd4d2a0c7a1e34f01ull;
constexpr uint64_t kCreditsId = 0xd4d2a0c7a1e34f02ull;
constexpr uint64_t kMaxBytesId = 0xd4d2a0c7a1e34f03ull;
constexpr uint64_t kLedgerOnlyId = 0xd4d2a0c7a1e34f04ull;
constexpr uint64_t kPositiveId = 0xd4d2a0c7a1e34f06ull;
constexpr uint64_t kNonNegativeId = 0xd4d2a0c7a1e34f07ull;
constexpr uint32_t kDataBytesMax = 1024;  // signatures, hashes, nonces, small ciphertexts

enum class Sign { kAny, kPositive, kNonNegative };

struct FieldRules {
  bool required = false;
  bool credits = false;
  bool ledger_only = false;
  Sign sign = Sign::kAny;
  uint32_t max_bytes = limits::kTextBytesMax;
};

FieldRules ReadRules(const StructSchema::Field& field) {
  FieldRules rules;
  for (auto annotation : field.getProto().getAnnotations()) {
    switch (annotation.getId()) {
      case kRequiredId: rules.required = true; break;
      case kCreditsId: rules.credits = true; break;
      case kLedgerOnlyId: rules.ledger_only = true; break;
      case kPositiveId: rules.sign = Sign::kPositive; break;
      case kNonNegativeId: rules.sign = Sign::kNonNegative; break;
      case kMaxBytesId: rules.max_bytes = annotation.getValue().getUint32(); break;
      default: break;
    }
  }
  return rules;
}

// A field with its rules, JSON name and type, read once from the schema.
struct FieldInfo {
  StructSchema::Field field;
  FieldRules rules;
  std::string_view json_name;
  capnp::schema::Type::Which kind;
};

struct StructInfo {
  std::vector<FieldInfo> fields;                          // not in the anonymous union
  std::unordered_map<uint16_t, FieldInfo> union_members;  // by discriminant
};

using RuleTable = std::unordered_map<uint64_t, StructInfo>;

void AddStruct(StructSchema schema, RuleTable& table) {
  uint64_t id = schema.getProto().getId();
  if (table.contains(id)) return;
  StructInfo& info = table[id];
  for (auto field : schema.getFields()) {
    FieldInfo entry{field, ReadRules(field), FieldJsonName(field), field.getType().which()};
    uint16_t discriminant = field.getProto().getDiscriminantValue();
    if (discriminant == capnp::schema::Field::NO_DISCRIMINANT) {
      info.fields.push_back(entry);
    } else {
      info.union_members.emplace(discriminant, entry);
    }
  }
  for (auto field : schema.getFields()) {  // after `info` is complete: the table may rehash
    auto type = field.getType();
    if (type.isStruct()) AddStruct(type.asStruct(), table);
    if (type.isList() && type.asList().getElementType().isStruct()) {
      AddStruct(type.asList().getElementType().asStruct(), table);
    }
  }
}

// Rules of every struct reachable from schema::Event, built on first use.
const StructInfo& InfoOf(StructSchema schema) {
  static const RuleTable* const table = [] {
    auto* built = new RuleTable();
    AddStruct(capnp::Schema::from<schema::Event>(), *built);
    return built;
  }();
  return table->at(schema.getProto().getId());
}

// Where a value is in the event ("data.amount.value", "data.lines[2]"),
// made into text only for an error message: a valid event builds none.
class Path {
 public:
  Path() = default;  // the envelope
  Path(const Path& parent, std::string_view name) : parent_(&parent), name_(name) {}
  Path(const Path& parent, uint32_t index) : parent_(&parent), index_(index), is_index_(true) {}

  std::string str() const {
    if (parent_ == nullptr) return std::string(name_);
    std::string head = parent_->str();
    if (is_index_) return head + "[" + std::to_string(index_) + "]";
    return head.empty() ? std::string(name_) : head + "." + std::string(name_);
  }

 private:
  const Path* parent_ = nullptr;
  std::string_view name_;
  uint32_t index_ = 0;
  bool is_index_ = false;
};

Status Invalid(const std::string& path, const std::string& message) {
  return Status::InvalidArgument(path + ": " + message);
}

Status Invalid(const Path& path, const std::string& message) {
  return Invalid(path.str(), message);
}

template <typename Amount>
Status CheckSign(const Amount& amount, Sign sign, const Path& path) {
  if (sign == Sign::kPositive && (amount.is_negative() || amount.is_zero())) {
    return Invalid(path, "must be greater than zero, got " + amount.ToString());
  }
  if (sign == Sign::kNonNegative && amount.is_negative()) {
    return Invalid(path, "must not be negative, got " + amount.ToString());
  }
  return Status::Ok();
}

class Validator {
 public:
  explicit Validator(EventSource source) : source_(source) {}

  // The envelope's fields by their names, the payload as "data".
  Status Envelope(DynamicStruct::Builder event);

 private:
  Status Struct(DynamicStruct::Builder s, const Path& path);
  Status Field(DynamicStruct::Builder s, const FieldInfo& info, const Path& path);
  Status Text(DynamicStruct::Builder s, const StructSchema::Field& field, const FieldRules& rules,
              const Path& path);
  Status Pointer(DynamicStruct::Builder s, const FieldInfo& info, const Path& path);
  Status Money(schema::Money::Builder money, const FieldRules& rules, const Path& path);
  Status Timestamp(schema::Timestamp::Builder timestamp, const Path& path);
  Status Personal(schema::PersonalField::Builder field, const Path& path);
  Status List(capnp::DynamicList::Builder list, const Path& path);
  Status Enum(capnp::DynamicEnum value, const FieldRules& rules, const Path& path);

  EventSource source_;
};

// Whether `s` holds data or pointers beyond what its schema declares: a
// binary message from a newer schema, or crafted to keep bytes in the log
// that no reader shows. They would be hashed and kept, yet JSON cannot carry
// them, so one event would have two canonical forms (a redelivery in the
// other format would be a conflict).
bool HasUnknownFields(DynamicStruct::Builder s) {
  auto proto = s.getSchema().getProto().getStruct();
  if (proto.getIsGroup()) return false;  // groups share their parent's sections
  capnp::AnyStruct::Reader any = s.asReader().as<capnp::AnyStruct>();
  auto data = any.getDataSection();
  for (size_t i = size_t{proto.getDataWordCount()} * 8; i < data.size(); ++i) {
    if (data[i] != 0) return true;
  }
  auto pointers = any.getPointerSection();
  for (uint32_t i = proto.getPointerCount(); i < pointers.size(); ++i) {
    if (!pointers[i].isNull()) return true;
  }
  return false;
}

constexpr const char* kUnknownFields = "carries fields this version of Tally does not know";

Status Validator::Envelope(DynamicStruct::Builder event) {
  if (HasUnknownFields(event)) return Invalid("event", kUnknownFields);
  const StructInfo& info = InfoOf(event.getSchema());
  const Path envelope;
  for (const FieldInfo& field : info.fields) {
    if (auto status = Field(event, field, envelope); !status.ok()) return status;
  }
  KJ_IF_MAYBE (active, event.which()) {
    return Struct(event.get(*active).as<DynamicStruct>(), Path(envelope, "data"));
  }
  return Invalid("type", "unknown event type");
}

Status Validator::Struct(DynamicStruct::Builder s, const Path& path) {
  const StructInfo& info = InfoOf(s.getSchema());
  for (const FieldInfo& field : info.fields) {
    if (auto status = Field(s, field, path); !status.ok()) return status;
  }
  KJ_IF_MAYBE (active, s.which()) {
    return Field(s, info.union_members.at(active->getProto().getDiscriminantValue()), path);
  }
  return Status::Ok();
}

Status Validator::Field(DynamicStruct::Builder s, const FieldInfo& info, const Path& path) {
  const FieldRules& rules = info.rules;
  const StructSchema::Field& field = info.field;
  const Path field_path(path, info.json_name);
  switch (info.kind) {
    case capnp::schema::Type::TEXT: return Text(s, field, rules, field_path);
    case capnp::schema::Type::STRUCT:
    case capnp::schema::Type::LIST: return Pointer(s, info, field_path);
    case capnp::schema::Type::DATA:
      if (s.get(field).as<capnp::Data>().size() > kDataBytesMax) {
        return Invalid(field_path, "longer than " + std::to_string(kDataBytesMax) + " bytes");
      }
      return Status::Ok();
    case capnp::schema::Type::ENUM:
      return Enum(s.get(field).as<capnp::DynamicEnum>(), rules, field_path);
    default: return Status::Ok();
  }
}

Status Validator::Text(DynamicStruct::Builder s, const StructSchema::Field& field,
                       const FieldRules& rules, const Path& path) {
  auto text = s.get(field).as<capnp::Text>();
  if (text.size() == 0) {
    return rules.required ? Invalid(path, "is required") : Status::Ok();
  }
  if (text.size() > rules.max_bytes) {
    return Invalid(path, "is " + std::to_string(text.size()) + " bytes; at most " +
                             std::to_string(rules.max_bytes) + " allowed");
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Invalid(path, "contains a control character");
    }
  }
  // JSON input is checked as it is read; binary input only here.
  if (!simdjson::validate_utf8(text.begin(), text.size()))
    return Invalid(path, "is not valid UTF-8");
  if (!rules.credits) return Status::Ok();
  auto credits = Credits::Parse({text.begin(), text.size()});
  if (!credits.ok()) return Invalid(path, credits.status().message());
  if (auto status = CheckSign(*credits, rules.sign, path); !status.ok()) return status;
  s.set(field, capnp::Text::Reader(credits->ToString().c_str()));
  return Status::Ok();
}

Status Validator::Pointer(DynamicStruct::Builder s, const FieldInfo& info, const Path& path) {
  const StructSchema::Field& field = info.field;
  const FieldRules& rules = info.rules;
  if (!s.has(field)) {
    return rules.required ? Invalid(path, "is required") : Status::Ok();
  }
  if (info.kind == capnp::schema::Type::LIST) {
    return List(s.get(field).as<capnp::DynamicList>(), path);
  }
  auto value = s.get(field).as<DynamicStruct>();
  if (HasUnknownFields(value)) return Invalid(path, kUnknownFields);
  auto id = value.getSchema().getProto().getId();
  if (id == capnp::typeId<schema::Money>()) {
    return Money(value.as<schema::Money>(), rules, path);
  }
  if (id == capnp::typeId<schema::Timestamp>()) {
    return Timestamp(value.as<schema::Timestamp>(), path);
  }
  if (id == capnp::typeId<schema::PersonalField>()) {
    return Personal(value.as<schema::PersonalField>(), path);
  }
  return Struct(value, path);
}

Status Validator::Money(schema::Money::Builder money, const FieldRules& rules, const Path& path) {
  const Path currency_path(path, "currency");
  const Path value_path(path, "value");
  auto code = money.getCurrency();
  if (code.size() == 0) return Invalid(currency_path, "is required");
  auto currency = Currency::Parse({code.begin(), code.size()});
  if (!currency.ok()) return Invalid(currency_path, currency.status().message());
  auto text = money.getValue();
  if (text.size() == 0) return Invalid(value_path, "is required");
  auto amount = tally::Money::Parse(*currency, {text.begin(), text.size()});
  if (!amount.ok()) return Invalid(value_path, amount.status().message());
  if (auto status = CheckSign(*amount, rules.sign, value_path); !status.ok()) return status;
  money.setValue(amount->ToString());
  return Status::Ok();
}

Status Validator::Timestamp(schema::Timestamp::Builder timestamp, const Path& path) {
  int64_t micros = timestamp.getUnixMicros();
  if (micros < limits::kTimestampMicrosMin || micros > limits::kTimestampMicrosMax) {
    return Invalid(path, "outside 1970-01-01..9999-12-31");
  }
  return Status::Ok();
}

// A personal field's plaintext: bounded, UTF-8, and no control characters
// but line breaks and tabs (a billing address may span lines).
Status Plaintext(capnp::Text::Builder text, const Path& path) {
  if (text.size() > limits::kPersonalTextBytesMax) {
    return Invalid(path, "is " + std::to_string(text.size()) + " bytes; at most " +
                             std::to_string(limits::kPersonalTextBytesMax) + " allowed");
  }
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\n' && c != '\r' && c != '\t') || byte == 0x7f) {
      return Invalid(path, "contains a control character");
    }
  }
  if (!simdjson::validate_utf8(text.begin(), text.size()))
    return Invalid(path, "is not valid UTF-8");
  return Status::Ok();
}

Status Validator::Personal(schema::PersonalField::Builder field, const Path& path) {
  switch (field.which()) {
    case schema::PersonalField::UNSET: return Status::Ok();
    case schema::PersonalField::PLAINTEXT: return Plaintext(field.getPlaintext(), path);
    case schema::PersonalField::SEALED:
      if (source_ == EventSource::kLog) return Status::Ok();
      return Invalid(path, "producers send personal fields as plaintext; sealing is the ledger's");
    case schema::PersonalField::ERASED:
      return Invalid(path, "\"erased\" is what reads show for a shredded field; it is never sent");
  }
  return Invalid(path, "unknown personal field form");
}

Status Validator::Enum(capnp::DynamicEnum value, const FieldRules& rules, const Path& path) {
  if (value.getEnumerant() == nullptr) return Invalid(path, "unknown enum value");
  // Every schema enum starts with `unspecified` (0): a required one must be set.
  if (rules.required && value.getRaw() == 0) return Invalid(path, "is required");
  return Status::Ok();
}

Status Validator::List(capnp::DynamicList::Builder list, const Path& path) {
  if (list.size() > limits::kListEntriesMax) {
    return Invalid(path, "has " + std::to_string(list.size()) + " entries; at most " +
                             std::to_string(limits::kListEntriesMax) + " allowed");
  }
  if (list.getSchema().whichElementType() != capnp::schema::Type::STRUCT) return Status::Ok();
  for (uint32_t i = 0; i < list.size(); ++i) {
    const Path entry(path, i);
    if (HasUnknownFields(list[i].as<DynamicStruct>())) return Invalid(entry, kUnknownFields);
    auto status = Struct(list[i].as<DynamicStruct>(), entry);
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

Status CheckProducerEnvelope(schema::Event::Builder event) {
  if (event.getSeq() != 0) return Invalid("seq", "is assigned by the ledger; do not send it");
  if (event.hasRecordedAt()) {
    return Invalid("recorded_at", "is assigned by the ledger; do not send it");
  }
  if (event.getExpectedVersion() < -1) return Invalid("expected_version", "must be >= 0");
  if (std::string_view(event.getId().cStr(), event.getId().size()).starts_with(kLedgerIdPrefix)) {
    return Invalid("id", "ids starting with \"" + std::string(kLedgerIdPrefix) +
                             "\" are reserved for events the ledger makes; use another prefix");
  }
  if (event.getAccount().size() > 0 && event.getAccount()[0] == '_') {
    return Invalid("account", "names starting with '_' are reserved for the ledger");
  }
  KJ_IF_MAYBE (active, DynamicStruct::Builder(event).which()) {
    const StructInfo& info = InfoOf(capnp::Schema::from<schema::Event>());
    if (info.union_members.at(active->getProto().getDiscriminantValue()).rules.ledger_only) {
      return Invalid("type", "\"" + std::string(FieldJsonName(*active)) +
                                 "\" events are appended by the ledger only");
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidateEvent(schema::Event::Builder event, EventSource source) {
  if (source == EventSource::kProducer) {
    if (auto status = CheckProducerEnvelope(event); !status.ok()) return status;
  } else {
    if (event.getSeq() == 0) return Invalid("seq", "is required in a log event");
    if (!event.hasRecordedAt()) return Invalid("recorded_at", "is required in a log event");
  }
  return Validator(source).Envelope(event);
}

}  // namespace tally::internal
