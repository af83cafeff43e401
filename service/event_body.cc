#include "service/event_body.h"

#include <capnp/compat/json.h>
#include <capnp/message.h>

#include "events/json_reader.h"
#include "events/limits.h"

namespace tally::service {
namespace {

void Parse(std::string_view text, uint64_t position, const EventCodec& codec, size_t errors_kept,
           EventBody* out) {
  auto event = codec.ParseJson(text);
  if (event.ok()) {
    if (out->errors_total == 0) out->events.push_back(std::move(event).value());
    return;
  }
  ++out->errors_total;
  out->events.clear();
  if (out->errors.size() < errors_kept) {
    const std::string message = event.status().message();
    out->errors.push_back({position, FieldNamedIn(message), message});
  }
}

EventBody ReadNdjson(std::string_view body, const EventCodec& codec, size_t events_max,
                     size_t errors_kept) {
  EventBody out;
  uint64_t line = 0;
  size_t events = 0;
  for (size_t start = 0; start < body.size();) {
    size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    std::string_view text = body.substr(start, end - start);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    start = end + 1;
    ++line;
    if (text.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (++events > events_max) {
      out.too_many = true;
      out.events.clear();
      return out;
    }
    Parse(text, line, codec, errors_kept, &out);
  }
  return out;
}

EventBody ReadJson(std::string_view body, const EventCodec& codec, size_t events_max,
                   size_t errors_kept) {
  EventBody out;
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<capnp::JsonValue>();
  JsonReader reader(limits::kHttpBodyBytesMax);
  if (auto status = reader.Read(body, root); !status.ok()) {
    out.errors_total = 1;
    out.errors.push_back({0, FieldNamedIn(status.message()), status.message()});
    return out;
  }
  if (root.isObject()) {
    Parse(body, 0, codec, errors_kept, &out);
    return out;
  }
  if (!root.isArray()) {
    out.errors_total = 1;
    out.errors.push_back({0, "", "the body is neither an array of events nor one event"});
    return out;
  }
  auto items = root.asReader().getArray();
  if (items.size() > events_max) {
    out.too_many = true;
    return out;
  }
  capnp::JsonCodec text;
  for (unsigned i = 0; i < items.size(); ++i) {
    Parse(text.encodeRaw(items[i]).cStr(), i, codec, errors_kept, &out);
  }
  return out;
}

}  // namespace

std::string FieldNamedIn(const std::string& message) {
  size_t colon = message.find(": ");
  if (colon == std::string::npos || colon == 0) return "";
  std::string field = message.substr(0, colon);
  return field.find(' ') == std::string::npos ? field : "";
}

EventBody ReadEventBody(std::string_view body, BodyFormat format, const EventCodec& codec,
                        size_t events_max, size_t errors_kept) {
  return format == BodyFormat::kNdjson ? ReadNdjson(body, codec, events_max, errors_kept)
                                       : ReadJson(body, codec, events_max, errors_kept);
}

}  // namespace tally::service
