#include "events/personal.h"

#include <capnp/dynamic.h>
#include <capnp/schema.h>

#include <vector>

#include "events/internal/names.h"

namespace tally {
namespace {

constexpr uint64_t kPersonalId = 0xd4d2a0c7a1e34f05ull;  // rules.capnp `personal`

// The personal fields of a payload type.
template <typename Visit>
void Walk(capnp::StructSchema payload, Visit visit) {
  for (auto field : payload.getFields()) {
    for (auto annotation : field.getProto().getAnnotations()) {
      if (annotation.getId() != kPersonalId) continue;
      auto purpose = static_cast<schema::Purpose>(annotation.getValue().getEnum());
      visit(internal::FieldJsonName(field), purpose, field);
    }
  }
}

}  // namespace

std::string_view PurposeName(schema::Purpose purpose) {
  return purpose == schema::Purpose::PROFILE ? "profile" : "billing";
}

void ForEachPersonalField(schema::Event::Reader event,
                          const std::function<void(std::string_view, schema::Purpose,
                                                   schema::PersonalField::Reader)>& visit) {
  capnp::DynamicStruct::Reader root(event);
  KJ_IF_MAYBE (active, root.which()) {
    if (!active->getType().isStruct()) return;
    auto payload = root.get(*active).as<capnp::DynamicStruct>();
    Walk(payload.getSchema(), [&](std::string_view name, schema::Purpose purpose, auto field) {
      visit(name, purpose, payload.get(field).template as<schema::PersonalField>());
    });
  }
}

void ForEachPersonalField(schema::Event::Builder event,
                          const std::function<void(std::string_view, schema::Purpose,
                                                   schema::PersonalField::Builder)>& visit) {
  capnp::DynamicStruct::Builder root(event);
  KJ_IF_MAYBE (active, root.which()) {
    if (!active->getType().isStruct()) return;
    auto payload = root.get(*active).as<capnp::DynamicStruct>();
    Walk(payload.getSchema(), [&](std::string_view name, schema::Purpose purpose, auto field) {
      visit(name, purpose, payload.get(field).template as<schema::PersonalField>());
    });
  }
}

bool HasPersonalFields(schema::Event::Reader event) {
  // Which event types have personal fields at all, read from the schema once:
  // most events are skipped with one lookup.
  static const std::vector<bool>* const kTypesWithPersonal = [] {
    auto* types = new std::vector<bool>();
    for (auto field : capnp::Schema::from<schema::Event>().getUnionFields()) {
      const uint16_t which = field.getProto().getDiscriminantValue();
      if (types->size() <= which) types->resize(which + 1, false);
      if (!field.getType().isStruct()) continue;
      Walk(field.getType().asStruct(),
           [&](std::string_view, schema::Purpose, auto) { (*types)[which] = true; });
    }
    return types;
  }();
  const auto which = static_cast<size_t>(event.which());
  if (which >= kTypesWithPersonal->size() || !(*kTypesWithPersonal)[which]) return false;
  bool any = false;
  ForEachPersonalField(event,
                       [&](std::string_view, schema::Purpose, schema::PersonalField::Reader field) {
                         any = any || field.which() != schema::PersonalField::UNSET;
                       });
  return any;
}

}  // namespace tally
