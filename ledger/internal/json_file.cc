#include "ledger/internal/json_file.h"

#include <capnp/message.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "events/json_reader.h"
#include "events/limits.h"
#include "ledger/internal/read_file.h"

namespace tally::internal {

Status ReadJsonObject(
    const std::string& path, JsonFileKind kind,
    const std::function<Status(std::string_view name, capnp::JsonValue::Reader value)>& visit) {
  auto bad = [&](const std::string& what) {
    return kind == JsonFileKind::kWrittenByTally ? Status::Corruption(path + ": " + what)
                                                 : Status::InvalidArgument(path + ": " + what);
  };
  auto read = ReadWholeFile(path);
  if (!read.ok()) return read.status();
  const std::string& text = *read;
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<capnp::JsonValue>();
  JsonReader reader(limits::kJsonFileBytesMax, limits::kJsonNestingMax);
  if (auto status = reader.Read(text, root); !status.ok()) return bad(status.message());
  if (!root.isObject()) return bad("not a JSON object");
  for (auto field : root.asReader().getObject()) {
    if (auto status = visit(field.getName().cStr(), field.getValue()); !status.ok()) return status;
  }
  return Status::Ok();
}

}  // namespace tally::internal
