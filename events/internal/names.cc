#include "events/internal/names.h"

#include <capnp/compat/json.capnp.h>

#include <map>

#include "events/check.h"

namespace tally::internal {

std::string_view FieldJsonName(const capnp::StructSchema::Field& field) {
  constexpr uint64_t kJsonNameId = 0xfa5b1fd61c2e7c3dull;  // json.capnp: annotation name
  for (auto annotation : field.getProto().getAnnotations()) {
    if (annotation.getId() == kJsonNameId) {
      auto text = annotation.getValue().getText();
      return {text.begin(), text.size()};
    }
  }
  auto name = field.getProto().getName();
  return {name.begin(), name.size()};
}

std::string_view EventTypeJsonName(schema::Event::Which which) {
  // Built once: discriminant value -> JSON name of the union member.
  static const auto* const names = [] {
    auto* table = new std::map<uint16_t, std::string_view>();
    for (auto field : capnp::Schema::from<schema::Event>().getUnionFields()) {
      (*table)[field.getProto().getDiscriminantValue()] = FieldJsonName(field);
    }
    return table;
  }();
  auto it = names->find(static_cast<uint16_t>(which));
  TALLY_CHECK(it != names->end());
  return it->second;
}

}  // namespace tally::internal
