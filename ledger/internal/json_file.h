// Small JSON files (manifests, the retention policy) read through capnp-json.
#pragma once

#include <capnp/compat/json.h>

#include <functional>
#include <string>
#include <string_view>

#include "events/status.h"

namespace tally::internal {

enum class JsonFileKind {
  kWrittenByTally,  // damage is Corruption
  kOperatorInput,   // mistakes are InvalidArgument
};

// Reads `path` as one JSON object and calls `visit` for each field, stopping
// at the first non-ok Status. NotFound only if the file does not exist (an
// unreadable one is IoError: a policy must never silently fall back).
Status ReadJsonObject(
    const std::string& path, JsonFileKind kind,
    const std::function<Status(std::string_view name, capnp::JsonValue::Reader value)>& visit);

}  // namespace tally::internal
