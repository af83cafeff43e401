#include "service/http_api.h"

#include <capnp/compat/json.h>
#include <capnp/message.h>

#include <cctype>
#include <charconv>
#include <map>
#include <string_view>

#include "events/json_reader.h"
#include "events/limits.h"
#include "events/timestamp.h"
#include "service/event_body.h"
#include "service/json.h"

namespace tally::service {
namespace {

constexpr size_t kInputErrorsKept = 100;

const char* TitleOf(int status) {
  static const std::map<int, const char*> kTitles = {
      {400, "Bad Request"},       {401, "Unauthorized"},           {403, "Forbidden"},
      {404, "Not Found"},         {405, "Method Not Allowed"},     {409, "Conflict"},
      {413, "Content Too Large"}, {415, "Unsupported Media Type"}, {422, "Unprocessable Content"},
      {429, "Too Many Requests"}, {500, "Internal Server Error"},  {503, "Service Unavailable"}};
  auto it = kTitles.find(status);
  return it == kTitles.end() ? "Error" : it->second;
}

HttpResponse JsonResponse(int status, const Json& body) {
  return HttpResponse{status, "application/json", Encode(body) + "\n", {}};
}

// A failure of the stores (not of the request): 503, safe to retry.
HttpResponse Unavailable(const Status& status) {
  HttpResponse response = Problem(503, "unavailable", status.ToString());
  response.headers.emplace_back("Retry-After", "1");
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

// Percent-decodes one path segment; nullopt if an escape is malformed.
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

Json OutcomeJson(const std::string& id, const AppendOutcome& outcome) {
  Json json = Json::Object();
  json.Add("id", Json::String(id)).Add("outcome", Json::String(AppendOutcomeName(outcome.kind)));
  if (outcome.kind == AppendOutcome::Kind::kRejected) {
    json.Add("reason", Json::String(outcome.reason));
    json.Add("conflict", Json::Bool(outcome.reason.starts_with("conflict:")));
  } else {
    json.Add("seq", Json::Integer(static_cast<int64_t>(outcome.seq)));
  }
  return json;
}

Json HoldJson(const HoldAnswer& answer) {
  Json json = Json::Object();
  json.Add("decision", Json::String(answer.accepted ? "accepted" : "rejected"))
      .Add("task_id", Json::String(answer.task_id))
      .Add("account", Json::String(answer.account))
      .Add("outcome", Json::String(AppendOutcomeName(answer.outcome.kind)))
      .Add("seq", Json::Integer(static_cast<int64_t>(answer.outcome.seq)))
      .Add("decision_seq", Json::Integer(static_cast<int64_t>(answer.decision_seq)));
  if (answer.accepted) {
    json.Add("held_credits", Json::String(answer.credits.ToString()))
        .Add("expires_at", Json::String(FormatTimestamp(answer.expires_at_micros)));
  } else {
    json.Add("requested_credits", Json::String(answer.credits.ToString()))
        .Add("reason", Json::String(answer.reason));
  }
  json.Add("available_credits", Json::String(answer.available.ToString()));
  return json;
}

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

// 400 naming each bad line (NDJSON) or item (JSON array) and its field.
HttpResponse InvalidBody(const EventBody& body, BodyFormat format) {
  const bool lines = format == BodyFormat::kNdjson;
  Json problem =
      ProblemJson(400, "invalid-events",
                  std::to_string(body.errors_total) + (lines ? " line(s)" : " event(s)") +
                      " of the body are not valid events; nothing was appended",
                  body.errors.empty() ? "" : body.errors.front().field);
  Json errors = Json::Array();
  for (const BodyError& error : body.errors) {
    Json item = Json::Object();
    item.Add(lines ? "line" : "index", Json::Integer(static_cast<int64_t>(error.position)));
    if (!error.field.empty()) item.Add("field", Json::String(error.field));
    item.Add("detail", Json::String(error.message));
    errors.Push(std::move(item));
  }
  problem.Add("errors", std::move(errors));
  return ProblemResponse(400, problem);
}

// The body's format from its Content-Type; nullopt (415) for others.
std::optional<BodyFormat> FormatOf(const std::string& content_type) {
  if (MediaTypeIs(content_type, "application/x-ndjson")) return BodyFormat::kNdjson;
  if (MediaTypeIs(content_type, "application/json")) return BodyFormat::kJson;
  return std::nullopt;
}

// The range of `at_seq` or `as_of` in `query` (at most one of them).
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

}  // namespace

HttpResponse Problem(int status, const std::string& slug, const std::string& detail,
                     const std::string& field) {
  return ProblemResponse(status, ProblemJson(status, slug, detail, field));
}

std::unique_ptr<EventCodec> HttpApi::Codecs::Borrow() {
  std::lock_guard lock(mutex_);
  if (free_.empty()) return std::make_unique<EventCodec>();
  auto codec = std::move(free_.back());
  free_.pop_back();
  return codec;
}

void HttpApi::Codecs::Return(std::unique_ptr<EventCodec> codec) {
  std::lock_guard lock(mutex_);
  free_.push_back(std::move(codec));
}

struct HttpApi::BorrowedCodec {
  explicit BorrowedCodec(Codecs& from) : pool(from), codec(from.Borrow()) {}
  ~BorrowedCodec() { pool.Return(std::move(codec)); }
  Codecs& pool;
  std::unique_ptr<EventCodec> codec;
};

HttpResponse HttpApi::Handle(const HttpRequest& request) const {
  std::string_view target(request.target);
  std::string_view path = target.substr(0, target.find('?'));
  std::string_view query =
      path.size() < target.size() ? target.substr(path.size() + 1) : std::string_view();
  auto parts = Split(path, '/');  // "" "v1" ...
  HttpResponse wrong_method;
  auto allow = [&](const char* method) {
    if (request.method == method) return true;
    wrong_method = Problem(405, "method-not-allowed", "use " + std::string(method));
    wrong_method.headers.emplace_back("Allow", method);
    return false;
  };
  if (path == "/healthz" || path == "/readyz") {
    if (!allow("GET")) return wrong_method;
    if (path == "/readyz") return GetReady();
    return JsonResponse(200, Json::Object().Add("status", Json::String("ok")));
  }
  if (path == "/v1/events" || path == "/v1/holds") {
    if (!allow("POST")) return wrong_method;
    return path == "/v1/events" ? PostEvents(request) : PostHold(request);
  }
  if (parts.size() == 5 && parts[1] == "v1" && parts[2] == "accounts" && parts[4] == "balance") {
    if (!allow("GET")) return wrong_method;
    auto account = DecodeSegment(parts[3]);
    if (!account || account->empty()) {
      return Problem(400, "invalid-path", "the account in the path is empty or badly escaped",
                     "account");
    }
    return GetBalance(*account, std::string(query));
  }
  return Problem(404, "not-found", "no route " + std::string(path));
}

HttpResponse HttpApi::PostEvents(const HttpRequest& request) const {
  auto format = FormatOf(request.content_type);
  if (!format) {
    return Problem(415, "unsupported-media-type",
                   "send events as application/x-ndjson or application/json", "Content-Type");
  }
  BorrowedCodec codec(codecs_);
  EventBody body = ReadEventBody(request.body, *format, *codec.codec,
                                 limits::kHttpEventsPerRequestMax, kInputErrorsKept);
  if (body.too_many) {
    return Problem(413, "too-many-events",
                   "at most " + std::to_string(limits::kHttpEventsPerRequestMax) +
                       " events per request; nothing was appended");
  }
  if (body.errors_total > 0) return InvalidBody(body, *format);
  if (body.events.empty()) return Problem(400, "no-events", "the body holds no event");
  auto outcomes = service_.Append(body.events);
  if (!outcomes.ok()) return Unavailable(outcomes.status());
  Json list = Json::Array();
  for (size_t i = 0; i < body.events.size(); ++i) {
    list.Push(OutcomeJson(body.events[i].reader().getId().cStr(), (*outcomes)[i]));
  }
  return JsonResponse(200, Json::Object().Add("outcomes", std::move(list)));
}

HttpResponse HttpApi::PostHold(const HttpRequest& request) const {
  if (!MediaTypeIs(request.content_type, "application/json")) {
    return Problem(415, "unsupported-media-type",
                   "send the task_submitted event as application/json", "Content-Type");
  }
  BorrowedCodec codec(codecs_);
  auto event = codec.codec->ParseJson(request.body);
  if (!event.ok()) {
    return Problem(400, "invalid-event", event.status().message(),
                   FieldNamedIn(event.status().message()));
  }
  auto answer = service_.Hold(*event);
  if (!answer.ok()) {
    if (answer.status().code() == StatusCode::kInvalidArgument) {
      return Problem(400, "invalid-event", answer.status().message(), "type");
    }
    return Unavailable(answer.status());
  }
  const AppendOutcome& outcome = answer->outcome;
  if (outcome.kind == AppendOutcome::Kind::kRejected) {
    const bool conflict = outcome.reason.starts_with("conflict:");
    return Problem(conflict ? 409 : 422, conflict ? "conflict" : "rejected", outcome.reason);
  }
  return JsonResponse(200, HoldJson(*answer));
}

HttpResponse HttpApi::GetBalance(const std::string& account, const std::string& query) const {
  auto params = ParseQuery(query);
  if (!params) return Problem(400, "invalid-query", "a query parameter is badly escaped");
  auto range = RangeOf(*params, service_.ledger().head_seq());
  if (!range.ok()) {
    return Problem(400, "invalid-query", range.status().message(),
                   FieldNamedIn(range.status().message()));
  }
  auto balance = service_.Balance(account, *range);
  if (!balance.ok()) return Unavailable(balance.status());
  const bool now = params->empty();
  Json json = Json::Object();
  json.Add("account", Json::String(balance->account))
      .Add("available_credits", Json::String(balance->available.ToString()))
      .Add("held_credits", Json::String(balance->held.ToString()))
      .Add("receivable_credits", Json::String(balance->receivable.ToString()))
      .Add("version", now ? Json::Integer(static_cast<int64_t>(balance->version)) : Json());
  return JsonResponse(200, json);
}

HttpResponse HttpApi::GetReady() const {
  auto lag = service_.ProjectionLag();
  if (!lag.ok()) return Unavailable(lag.status());
  Json json = Json::Object();
  json.Add("status", Json::String("ready"))
      .Add("head_seq", Json::Integer(static_cast<int64_t>(lag->head_seq)))
      .Add("projected_seq", Json::Integer(static_cast<int64_t>(lag->projected_seq)));
  return JsonResponse(200, json);
}

}  // namespace tally::service
