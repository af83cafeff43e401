#include "service/http_api.h"

#include <capnp/compat/json.h>
#include <capnp/message.h>

#include <cctype>
#include <charconv>
#include <chrono>
#include <map>
#include <set>
#include <string_view>

#include "events/json_reader.h"
#include "events/limits.h"
#include "events/timestamp.h"
#include "service/event_body.h"
#include "service/http_util.h"

namespace tally::service {
namespace {

constexpr size_t kInputErrorsKept = 100;

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

}  // namespace

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

// The path's segments, percent-decoded; nullopt if an escape is malformed.
static std::optional<std::vector<std::string>> SegmentsOf(std::string_view path) {
  std::vector<std::string> segments;
  for (std::string_view part : Split(path, '/')) {
    auto decoded = DecodeSegment(part);
    if (!decoded) return std::nullopt;
    segments.push_back(std::move(*decoded));
  }
  return segments;
}

// What a request needs of its caller's role.
static Permission PermissionOf(const HttpRequest& request, const std::vector<std::string>& path) {
  if (request.method == "POST" && path.size() == 3 && (path[2] == "events" || path[2] == "holds")) {
    return Permission::kPublish;
  }
  if (path.size() == 5 && path[2] == "accounts" && path[4] == "balance") {
    return Permission::kReadBalance;
  }
  if (path.size() >= 3 && path[2] == "audit") return Permission::kAudit;
  if (path.size() == 5 && path[2] == "subjects" && path[4] == "profile") {
    return Permission::kReadPersonal;
  }
  if (path.size() >= 3 && (path[2] == "subjects" || path[2] == "retention")) {
    return Permission::kOperate;
  }
  return Permission::kRead;
}

// The token of an "Authorization: Bearer <token>" header; empty if none.
static std::string_view BearerOf(std::string_view header) {
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) return {};
  }
  header.remove_prefix(kScheme.size());
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  return header;
}

std::optional<HttpResponse> HttpApi::Refuse(const HttpRequest& request, Permission needed,
                                            TokenInfo* caller) const {
  std::string_view bearer = BearerOf(request.authorization);
  if (bearer.empty()) {
    HttpResponse response =
        Problem(401, "unauthenticated", "send Authorization: Bearer <token> (tally token create)",
                "Authorization");
    response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"tally\"");
    return response;
  }
  auto token = tokens_.Authenticate(bearer);
  if (!token.ok()) return Unavailable(token.status());
  if (!token->has_value()) {
    HttpResponse response =
        Problem(401, "invalid-token", "the token is unknown or revoked", "Authorization");
    response.headers.emplace_back("WWW-Authenticate",
                                  "Bearer realm=\"tally\", error=\"invalid_token\"");
    return response;
  }
  const TokenInfo& caller_token = **token;
  if (!Allows(caller_token.role, needed)) {
    return Problem(
        403, "forbidden",
        std::string("the role ") + RoleName(caller_token.role) + " may not use this route");
  }
  int64_t retry_after = 0;
  if (!limiter_.Admit(caller_token.id, &retry_after)) {
    HttpResponse response =
        Problem(429, "rate-limited", "too many requests for token " + caller_token.id);
    response.headers.emplace_back("Retry-After", std::to_string(retry_after));
    return response;
  }
  *caller = caller_token;
  return std::nullopt;
}

// The route's template for metrics: ids replaced by their names, so that
// the labels stay few (an unknown path is "other").
static std::string RouteLabel(std::string_view path) {
  auto parts = Split(path, '/');
  if (path == "/healthz" || path == "/readyz" || path == "/metrics") return std::string(path);
  if (parts.size() < 3 || parts[1] != "v1") return "other";
  static const std::set<std::string_view> kLeaves = {"balance",
                                                     "statement",
                                                     "lots",
                                                     "invoices",
                                                     "profile",
                                                     "erasure",
                                                     "legal-hold",
                                                     "trial-balance",
                                                     "revenue",
                                                     "subscriptions",
                                                     "tasks",
                                                     "open-holds",
                                                     "head",
                                                     "verify",
                                                     "accesses",
                                                     "plan",
                                                     "events",
                                                     "holds",
                                                     "recurring-revenue",
                                                     "balances",
                                                     "export"};
  if (parts.size() == 5 && (parts[2] == "accounts" || parts[2] == "subjects")) {
    if (!kLeaves.contains(parts[4])) return "other";  // the labels stay few
    return "/v1/" + std::string(parts[2]) +
           (parts[2] == "accounts" ? "/{account}/" : "/{subject}/") + std::string(parts[4]);
  }
  if (parts.size() == 4 && parts[2] == "invoices") return "/v1/invoices/{number}";
  if (parts.size() == 5 && parts[2] == "audit" && kLeaves.contains(parts[3])) {
    return "/v1/audit/" + std::string(parts[3]) + "/{id}";
  }
  if (parts.size() == 6 && parts[2] == "audit" && parts[3] == "export") {
    return parts[5] == "records" || parts[5] == "manifest.json"
               ? "/v1/audit/export/{id}/" + std::string(parts[5])
               : "other";
  }
  if (parts.size() == 4 && parts[2] == "subjects") return "/v1/subjects/{subject}";
  if (parts.size() == 4 &&
      (parts[2] == "reports" || parts[2] == "audit" || parts[2] == "retention")) {
    if (!kLeaves.contains(parts[3])) return "other";
    return "/v1/" + std::string(parts[2]) + "/" + std::string(parts[3]);
  }
  if (parts.size() == 3 && kLeaves.contains(parts[2])) return "/v1/" + std::string(parts[2]);
  return "other";
}

HttpResponse HttpApi::Handle(const HttpRequest& request) const {
  const auto start = std::chrono::steady_clock::now();
  HttpResponse response = Dispatch(request);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  std::string route =
      RouteLabel(std::string_view(request.target).substr(0, request.target.find('?')));
  metrics_.Count(
      "tally_http_requests_total", "HTTP requests by route, method and status",
      {{"route", route}, {"method", request.method}, {"status", std::to_string(response.status)}});
  metrics_.Observe("tally_http_request_duration_seconds", "HTTP request latency by route",
                   {{"route", route}}, took.count());
  return response;
}

HttpResponse HttpApi::GetMetrics() const {
  auto lag = service_.ProjectionLag();
  if (lag.ok()) {
    metrics_.Set("tally_head_seq", "the log's last seq", {}, static_cast<double>(lag->head_seq));
    metrics_.Set("tally_projected_seq", "the lowest seq every projection has folded", {},
                 static_cast<double>(lag->projected_seq));
    metrics_.Set("tally_projection_lag_events", "events of the log not yet projected", {},
                 static_cast<double>(lag->head_seq - lag->projected_seq));
  }
  return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics_.Render(), {}};
}

void HttpApi::CountOutcomes(std::span<const Event> events,
                            std::span<const AppendOutcome> outcomes) const {
  for (size_t i = 0; i < events.size() && i < outcomes.size(); ++i) {
    const std::string type(EventTypeName(events[i].reader().which()));
    metrics_.Count("tally_http_events_total", "events sent over HTTP by type and outcome",
                   {{"type", type}, {"outcome", AppendOutcomeName(outcomes[i].kind)}});
    if (outcomes[i].kind != AppendOutcome::Kind::kRejected) continue;
    const std::string& reason = outcomes[i].reason;
    metrics_.Count("tally_rejections_total", "events rejected, by type and the class of the reason",
                   {{"type", type}, {"reason", reason.substr(0, reason.find(':'))}});
  }
}

HttpResponse HttpApi::Dispatch(const HttpRequest& request) const {
  std::string_view target(request.target);
  std::string_view path = target.substr(0, target.find('?'));
  std::string_view query =
      path.size() < target.size() ? target.substr(path.size() + 1) : std::string_view();
  if (path == "/healthz" || path == "/readyz" || path == "/metrics") {
    if (request.method != "GET") {
      HttpResponse wrong = Problem(405, "method-not-allowed", "use GET");
      wrong.headers.emplace_back("Allow", "GET");
      return wrong;
    }
    if (path == "/readyz") return GetReady();
    if (path == "/metrics") return GetMetrics();
    return JsonResponse(200, Json::Object().Add("status", Json::String("ok")));
  }
  auto parts = SegmentsOf(path);  // "" "v1" ...
  if (!parts) return Problem(400, "invalid-path", "a path segment is badly escaped", "path");
  const bool v1 = parts->size() >= 3 && (*parts)[0].empty() && (*parts)[1] == "v1";
  if (!v1) return Problem(404, "not-found", "no route " + std::string(path));
  TokenInfo caller;
  if (auto refused = Refuse(request, PermissionOf(request, *parts), &caller)) return *refused;
  return Route(request, caller, *parts, query);
}

HttpResponse HttpApi::Route(const HttpRequest& request, const TokenInfo& caller,
                            const std::vector<std::string>& p, std::string_view query) const {
  HttpResponse wrong_method;
  auto allow = [&](const char* method) {
    if (request.method == method) return true;
    wrong_method = Problem(405, "method-not-allowed", "use " + std::string(method));
    wrong_method.headers.emplace_back("Allow", method);
    return false;
  };
  if (p.size() == 3 && (p[2] == "events" || p[2] == "holds")) {
    if (!allow("POST")) return wrong_method;
    return p[2] == "events" ? PostEvents(request) : PostHold(request);
  }
  if (p.size() == 5 && p[2] == "accounts" && (p[4] == "balance" || p[4] == "lots")) {
    if (!allow("GET")) return wrong_method;
    if (p[3].empty()) return Problem(400, "invalid-path", "the account is empty", "account");
    return p[4] == "lots" ? GetLots(p[3]) : GetBalance(p[3], std::string(query));
  }
  if (p.size() == 4 && p[2] == "invoices") {
    if (!allow("GET")) return wrong_method;
    return GetInvoice(p[3], caller);
  }
  if (p.size() == 4 && p[2] == "audit" && p[3] == "head") {
    if (!allow("GET")) return wrong_method;
    return GetAuditHead();
  }
  if (auto job = RouteAuditJobs(request, p)) return *job;
  if (auto privacy = RoutePrivacy(request, caller, p)) return *privacy;
  if (auto read = GetRead(p, request)) return *read;
  return Problem(404, "not-found",
                 "no route " + request.target.substr(0, request.target.find('?')));
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
  CountOutcomes(body.events, *outcomes);
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
  const auto start = std::chrono::steady_clock::now();
  auto answer = service_.Hold(*event);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  if (!answer.ok()) {
    if (answer.status().code() == StatusCode::kInvalidArgument) {
      return Problem(400, "invalid-event", answer.status().message(), "type");
    }
    return Unavailable(answer.status());
  }
  const AppendOutcome& outcome = answer->outcome;
  CountOutcomes(std::span<const Event>(&*event, 1), std::span<const AppendOutcome>(&outcome, 1));
  if (outcome.kind == AppendOutcome::Kind::kRejected) {
    const bool conflict = outcome.reason.starts_with("conflict:");
    return Problem(conflict ? 409 : 422, conflict ? "conflict" : "rejected", outcome.reason);
  }
  const char* decision = answer->accepted ? "accepted" : "rejected";
  metrics_.Count("tally_holds_total", "hold decisions answered, by decision",
                 {{"decision", decision}});
  metrics_.Observe("tally_hold_decision_seconds",
                   "from the task_submitted's arrival to its durable, projected decision",
                   {{"decision", decision}}, took.count());
  return JsonResponse(200, HoldJson(*answer));
}

HttpResponse HttpApi::GetAuditHead() const {
  const Ledger& ledger = service_.ledger();
  Json json = Json::Object();
  json.Add("head_seq", Json::Integer(static_cast<int64_t>(ledger.head_seq())))
      .Add("head_hash", Json::String(HashHex(ledger.head_hash())))
      .Add("first_seq", Json::Integer(static_cast<int64_t>(ledger.first_seq())));
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
