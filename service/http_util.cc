#include "service/http_util.h"

#include <capnp/message.h>

#include <cctype>
#include <charconv>
#include <map>

#include "events/json_reader.h"
#include "events/limits.h"
#include "events/timestamp.h"

namespace tally::service {
namespace {

const char* TitleOf(int status) {
  static const std::map<int, const char*> kTitles = {
      {400, "Bad Request"},       {401, "Unauthorized"},           {403, "Forbidden"},
      {404, "Not Found"},         {405, "Method Not Allowed"},     {409, "Conflict"},
      {413, "Content Too Large"}, {415, "Unsupported Media Type"}, {422, "Unprocessable Content"},
      {429, "Too Many Requests"}, {500, "Internal Server Error"},  {503, "Service Unavailable"}};
  auto it = kTitles.find(status);
  return it == kTitles.end() ? "Error" : it->second;
}

}  // namespace

Json ProblemJson(int status, const std::string& slug, const std::string& detail,
                 const std::string& field) {
  Json body = Json::Object();
  body.Add("type", Json::String("urn:tally:problem:" + slug))
      .Add("title", Json::String(TitleOf(status)))
      .Add("status", Json::Integer(status))
      .Add("detail", Json::String(detail));
  if (!field.empty()) body.Add("field", Json::String(field));
  return body;
}

HttpResponse ProblemResponse(int status, const Json& body) {
  HttpResponse response = JsonResponse(status, body);
  response.content_type = "application/problem+json";
  return response;
}

bool MediaTypeIs(const std::string& header, std::string_view type) {
  std::string_view value(header);
  value = value.substr(0, value.find(';'));
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.size() != type.size()) return false;
  for (size_t i = 0; i < value.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != type[i]) return false;
  }
  return true;
}

std::optional<std::string> DecodeSegment(std::string_view segment) {
  std::string out;
  for (size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] != '%') {
      out += segment[i];
      continue;
    }
    unsigned value = 0;
    if (i + 2 >= segment.size()) return std::nullopt;
    auto [end, error] = std::from_chars(segment.data() + i + 1, segment.data() + i + 3, value, 16);
    if (error != std::errc() || end != segment.data() + i + 3) return std::nullopt;
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// The query's parameters; nullopt if an escape is malformed.
std::optional<std::map<std::string, std::string>> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> params;
  if (query.empty()) return params;
  for (std::string_view pair : Split(query, '&')) {
    size_t equals = pair.find('=');
    auto name = DecodeSegment(pair.substr(0, equals));
    auto value = DecodeSegment(equals == std::string_view::npos ? "" : pair.substr(equals + 1));
    if (!name || !value) return std::nullopt;
    params[*name] = *value;
  }
  return params;
}

HttpResponse Problem(int status, const std::string& slug, const std::string& detail,
                     const std::string& field) {
  return ProblemResponse(status, ProblemJson(status, slug, detail, field));
}

HttpResponse JsonResponse(int status, const Json& body) {
  return HttpResponse{status, "application/json", Encode(body) + "\n", {}};
}

HttpResponse Unavailable(const Status& status) {
  HttpResponse response = Problem(503, "unavailable", status.ToString());
  response.headers.emplace_back("Retry-After", "1");
  return response;
}

Result<LogRange> RangeOf(const std::map<std::string, std::string>& params, uint64_t head_seq) {
  LogRange range;
  auto at_seq = params.find("at_seq");
  auto as_of = params.find("as_of");
  if (at_seq != params.end() && as_of != params.end()) {
    return Status::InvalidArgument("at_seq: give at_seq or as_of, not both");
  }
  if (at_seq != params.end()) {
    const std::string& text = at_seq->second;
    uint64_t seq = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seq);
    if (error != std::errc() || end != text.data() + text.size() || seq == 0) {
      return Status::InvalidArgument("at_seq: a seq of the log (a whole number from 1)");
    }
    if (seq > head_seq) {
      return Status::InvalidArgument("at_seq: " + text + " is past the log's head seq " +
                                     std::to_string(head_seq));
    }
    range.at_seq = seq;
  }
  if (as_of != params.end()) {
    auto micros = ParseTimestamp(as_of->second);
    if (!micros.ok()) return Status::InvalidArgument("as_of: " + micros.status().message());
    range.as_of_micros = *micros;
  }
  return range;
}

std::string CallerName(const TokenInfo& caller) {
  return "token:" + caller.name + " (" + caller.id + ")";
}

Result<std::map<std::string, std::string>> ReadStringMembers(
    std::string_view body, const std::set<std::string>& known,
    const std::set<std::string>& required) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<capnp::JsonValue>();
  JsonReader reader(limits::kEventJsonBytesMax);
  if (auto status = reader.Read(body, root); !status.ok()) return status;
  if (!root.isObject()) return Status::InvalidArgument("body: send one JSON object");
  std::map<std::string, std::string> members;
  for (auto field : root.getObject()) {
    std::string name = field.getName().cStr();
    if (!known.contains(name)) return Status::InvalidArgument(name + ": not a member of this body");
    if (!field.getValue().isString()) return Status::InvalidArgument(name + ": a string");
    members[name] = field.getValue().getString().cStr();
  }
  for (const std::string& name : required) {
    if (!members.contains(name)) return Status::InvalidArgument(name + ": required");
  }
  return members;
}

}  // namespace tally::service
