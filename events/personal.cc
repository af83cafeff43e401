#include "events/personal.h"

#include <capnp/dynamic.h>
#include <capnp/schema.h>

#include "events/internal/names.h"

namespace tally {
namespace {

constexpr uint64_t kPersonalId = 0xd4d2a0c7a1e34f05ull;  // rules.capnp `personal`

// The payload struct of `event` and the personal fields of its type.
template <typename Struct, typename Visit>
void Walk(Struct payload, Visit visit) {
  for (auto field : payload.getSchema().getFields()) {
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
    Walk(payload, [&](std::string_view name, schema::Purpose purpose, auto field) {
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
    Walk(payload.asReader(), [&](std::string_view name, schema::Purpose purpose, auto field) {
      visit(name, purpose, payload.get(field).template as<schema::PersonalField>());
    });
  }
}

bool HasPersonalFields(schema::Event::Reader event) {
  bool any = false;
  ForEachPersonalField(event,
                       [&](std::string_view, schema::Purpose, schema::PersonalField::Reader field) {
                         any = any || field.which() != schema::PersonalField::UNSET;
                       });
  return any;
}

}  // namespace tally
