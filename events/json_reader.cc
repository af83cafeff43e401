#include "events/json_reader.h"

#include <simdjson.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "events/check.h"
#include "events/limits.h"

namespace tally {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Doubles hold every integer up to 2^53 exactly; larger ones are rounded.
constexpr uint64_t kExactIntegerMax = uint64_t{1} << 53;

std::string Join(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

std::string At(const std::string& path) { return path.empty() ? "" : path + ": "; }

// The replacement character, which stands in for invalid bytes while the
// diagnosis looks for the member that held them.
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the valid UTF-8 sequence starting at text[i], or 0 if invalid
// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
size_t SequenceLength(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0;
  if (length == 0 || lead > 0xF4 || i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  unsigned char second = byte(i + 1);
  if (lead == 0xE0 && second < 0xA0) return 0;  // overlong
  if (lead == 0xED && second > 0x9F) return 0;  // surrogate
  if (lead == 0xF0 && second < 0x90) return 0;  // overlong
  if (lead == 0xF4 && second > 0x8F) return 0;  // above U+10FFFF
  return length;
}

// `text` with each invalid byte replaced by U+FFFD.
std::string ReplaceInvalidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (size_t i = 0; i < text.size();) {
    size_t length = SequenceLength(text, i);
    if (length == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

// The path of the first member name or string holding U+FFFD.
std::optional<std::string> FindReplaced(element value, const std::string& path) {
  switch (value.type()) {
    case element_type::STRING:
      if (value.get_string().value_unsafe().find(kReplacement) != std::string_view::npos) {
        return path;
      }
      return std::nullopt;
    case element_type::ARRAY: {
      size_t i = 0;
      simdjson::dom::array array = value.get_array().value_unsafe();
      for (element item : array) {
        if (auto found = FindReplaced(item, path + "[" + std::to_string(i++) + "]")) return found;
      }
      return std::nullopt;
    }
    case element_type::OBJECT: {
      simdjson::dom::object object = value.get_object().value_unsafe();
      for (auto [key, member] : object) {
        std::string member_path = Join(path, key);
        if (key.find(kReplacement) != std::string_view::npos) return member_path;
        if (auto found = FindReplaced(member, member_path)) return found;
      }
      return std::nullopt;
    }
    default: return std::nullopt;
  }
}

}  // namespace

struct JsonReader::Impl {
  Impl(size_t size_max, uint32_t depth_limit)
      : parser(size_max), size_bytes_max(size_max), depth_max(depth_limit) {
    TALLY_CHECK(parser.allocate(size_max, depth_limit) == simdjson::SUCCESS);
  }
  simdjson::dom::parser parser;
  size_t size_bytes_max;
  uint32_t depth_max;

  Status Convert(element value, const std::string& path, capnp::JsonValue::Builder out);
  Status ConvertObject(simdjson::dom::object object, const std::string& path,
                       capnp::JsonValue::Builder out);
  Status ConvertNumber(element value, const std::string& path, capnp::JsonValue::Builder out);
  Status InvalidUtf8(std::string_view text);
};

Status JsonReader::Impl::ConvertNumber(element value, const std::string& path,
                                       capnp::JsonValue::Builder out) {
  int64_t signed_value = 0;
  uint64_t unsigned_value = 0;
  if (value.get(signed_value) == simdjson::SUCCESS) {
    uint64_t magnitude = signed_value < 0 ? 0 - static_cast<uint64_t>(signed_value)
                                          : static_cast<uint64_t>(signed_value);
    if (magnitude > kExactIntegerMax) {
      return Status::InvalidArgument(At(path) + std::to_string(signed_value) +
                                     " is too large to be exact in JSON; send it as a string");
    }
    out.setNumber(static_cast<double>(signed_value));
  } else if (value.get(unsigned_value) == simdjson::SUCCESS) {
    return Status::InvalidArgument(At(path) + std::to_string(unsigned_value) +
                                   " is too large to be exact in JSON; send it as a string");
  } else {
    double number = 0;
    TALLY_CHECK(value.get(number) == simdjson::SUCCESS);
    out.setNumber(number);
  }
  return Status::Ok();
}

Status JsonReader::Impl::ConvertObject(simdjson::dom::object object, const std::string& path,
                                       capnp::JsonValue::Builder out) {
  std::vector<std::string_view> names;
  names.reserve(object.size());
  for (auto [key, member] : object) names.push_back(key);
  std::vector<std::string_view> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  auto repeated = std::adjacent_find(sorted.begin(), sorted.end());
  if (repeated != sorted.end()) {
    return Status::InvalidArgument(Join(path, *repeated) +
                                   ": duplicate key; each member may appear once");
  }
  auto fields = out.initObject(static_cast<unsigned>(names.size()));
  unsigned i = 0;
  for (auto [key, member] : object) {
    auto field = fields[i++];
    field.setName(capnp::Text::Reader(key.data(), key.size()));
    if (auto status = Convert(member, Join(path, key), field.initValue()); !status.ok()) {
      return status;
    }
  }
  return Status::Ok();
}

Status JsonReader::Impl::Convert(element value, const std::string& path,
                                 capnp::JsonValue::Builder out) {
  switch (value.type()) {
    case element_type::OBJECT: return ConvertObject(value.get_object().value_unsafe(), path, out);
    case element_type::ARRAY: {
      simdjson::dom::array array = value.get_array().value_unsafe();
      auto items = out.initArray(static_cast<unsigned>(array.size()));
      unsigned i = 0;
      for (element item : array) {
        auto status = Convert(item, path + "[" + std::to_string(i) + "]", items[i]);
        if (!status.ok()) return status;
        ++i;
      }
      return Status::Ok();
    }
    case element_type::STRING: {
      std::string_view text = value.get_string().value_unsafe();
      out.setString(capnp::Text::Reader(text.data(), text.size()));
      return Status::Ok();
    }
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: return ConvertNumber(value, path, out);
    case element_type::BOOL: out.setBoolean(value.get_bool().value_unsafe()); return Status::Ok();
    case element_type::NULL_VALUE: out.setNull(); return Status::Ok();
  }
  TALLY_CHECK(false);
  return Status::Ok();
}

// Names the member whose text is not UTF-8, where the rest of the text parses.
Status JsonReader::Impl::InvalidUtf8(std::string_view text) {
  std::string replaced = ReplaceInvalidUtf8(text);
  element root;
  if (parser.parse(replaced).get(root) == simdjson::SUCCESS) {
    if (auto path = FindReplaced(root, "")) {
      return Status::InvalidArgument(*path + ": is not valid UTF-8");
    }
  }
  return Status::InvalidArgument("not valid JSON: the text is not valid UTF-8");
}

JsonReader::JsonReader(size_t size_bytes_max, uint32_t depth_max)
    : impl_(std::make_unique<Impl>(size_bytes_max, depth_max)) {}
JsonReader::~JsonReader() = default;

Status JsonReader::Read(std::string_view text, capnp::JsonValue::Builder out) {
  if (text.size() > impl_->size_bytes_max) {
    return Status::InvalidArgument("not valid JSON: " + std::to_string(text.size()) +
                                   " bytes; at most " + std::to_string(impl_->size_bytes_max) +
                                   " allowed");
  }
  element root;
  auto error = impl_->parser.parse(text.data(), text.size()).get(root);
  if (error == simdjson::UTF8_ERROR) return impl_->InvalidUtf8(text);
  if (error == simdjson::DEPTH_ERROR) {
    return Status::InvalidArgument("not valid JSON: nested deeper than " +
                                   std::to_string(impl_->depth_max) + " levels");
  }
  if (error != simdjson::SUCCESS) {
    return Status::InvalidArgument(std::string("not valid JSON: ") +
                                   simdjson::error_message(error));
  }
  return impl_->Convert(root, "", out);
}

}  // namespace tally
