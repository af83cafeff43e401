// The personal fields of an event: every PersonalField of its payload, with
// the key purpose its $Rules.personal annotation names (docs/privacy.md).
#pragma once

#include <functional>
#include <string_view>

#include "schema/event.capnp.h"
#include "schema/rules.capnp.h"

namespace tally {

// The JSON name of the purpose: "profile" or "billing".
std::string_view PurposeName(schema::Purpose purpose);

// Calls `visit(json_name, purpose, field)` for each personal field of the
// payload, set or not, in schema order.
void ForEachPersonalField(schema::Event::Reader event,
                          const std::function<void(std::string_view, schema::Purpose,
                                                   schema::PersonalField::Reader)>& visit);
void ForEachPersonalField(schema::Event::Builder event,
                          const std::function<void(std::string_view, schema::Purpose,
                                                   schema::PersonalField::Builder)>& visit);

// Whether any personal field of the payload is set.
bool HasPersonalFields(schema::Event::Reader event);

}  // namespace tally
