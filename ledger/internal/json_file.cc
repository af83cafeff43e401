#include "ledger/internal/json_file.h"

#include <capnp/message.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace tally::internal {

Status ReadJsonObject(
    const std::string& path, JsonFileKind kind,
    const std::function<Status(std::string_view name, capnp::JsonValue::Reader value)>& visit) {
  auto bad = [&](const std::string& what) {
    return kind == JsonFileKind::kWrittenByTally ? Status::Corruption(path + ": " + what)
                                                 : Status::InvalidArgument(path + ": " + what);
  };
  std::error_code error;
  if (!std::filesystem::exists(path, error) && !error) return Status::NotFound("no file at " + path);
  std::ifstream in(path);
  if (!in) return Status::IoError(path + " exists but cannot be read");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
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
