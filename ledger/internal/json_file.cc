#include "ledger/internal/json_file.h"

#include <capnp/message.h>

#include <filesystem>
#include <fstream>
#include <iterator>

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
  capnp::JsonCodec json;
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<capnp::JsonValue>();
  try {
    json.decodeRaw(kj::arrayPtr(text.data(), text.size()), root);
  } catch (const kj::Exception& e) {
    return bad("not JSON: " + std::string(e.getDescription().cStr()));
  }
  if (!root.isObject()) return bad("not a JSON object");
  for (auto field : root.asReader().getObject()) {
    if (auto status = visit(field.getName().cStr(), field.getValue()); !status.ok()) return status;
  }
  return Status::Ok();
}

}  // namespace tally::internal
