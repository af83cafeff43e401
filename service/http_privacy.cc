// The operator's routes of the HTTP API: a subject's privacy state and
// personal fields (every read of them recorded in the log first), erasure
// requests, legal holds and the retention plan (docs/api.md, "Privacy and
// retention"). The subject of personal data is an account.
#include <initializer_list>

#include "events/timestamp.h"
#include "ledger/retention.h"
#include "reports/privacy.h"
#include "service/event_body.h"
#include "service/http_api.h"
#include "service/http_util.h"

namespace tally::service {
namespace {

HttpResponse MethodNotAllowed(const char* allow) {
  HttpResponse wrong = Problem(405, "method-not-allowed", std::string("use ") + allow);
  wrong.headers.emplace_back("Allow", allow);
  return wrong;
}

Json OrNull(int64_t micros) { return micros == 0 ? Json() : Json::String(FormatTimestamp(micros)); }

Json PrivacyJson(const std::string& subject, const AccountView& view) {
  const PrivacyView& p = view.privacy;
  Json json = Json::Object();
  json.Add("subject", Json::String(subject))
      .Add("version", Json::Integer(static_cast<int64_t>(view.version)))
      .Add("profile_shredded", Json::Bool(p.profile_shredded))
      .Add("billing_shredded", Json::Bool(p.billing_shredded))
      .Add("billing_erasure_pending", Json::Bool(p.billing_erasure_pending))
      .Add("billing_erasure_due",
           OrNull(p.billing_erasure_pending ? p.billing_erasure_due_micros : 0))
      .Add("legal_hold", p.legal_hold.empty() ? Json() : Json::String(p.legal_hold));
  return json;
}

constexpr size_t kIdempotencyKeyBytesMax = 200;  // the event id stays under kTextBytesMax

// The id of an operator event: from the Idempotency-Key when one was sent
// (the same key again is the same request; keys are one namespace for the
// whole log, as event ids are), else one of the service's own. nullopt: the
// key is not 1-200 printable ASCII characters.
std::optional<std::string> OwnId(const char* kind, const HttpRequest& request, Service& service) {
  const std::string& key = request.idempotency_key;
  if (key.empty()) return service.NewOwnId(std::string("http-") + kind);
  if (key.size() > kIdempotencyKeyBytesMax) return std::nullopt;
  for (char c : key) {
    if (c < 0x21 || c > 0x7e) return std::nullopt;
  }
  return std::string("http-") + kind + "-" + key;
}

HttpResponse BadKey() {
  return Problem(400, "invalid-header",
                 "Idempotency-Key: 1 to " + std::to_string(kIdempotencyKeyBytesMax) +
                     " printable ASCII characters",
                 "Idempotency-Key");
}

// 409 for an operator event the ledger refused: the same Idempotency-Key
// with another request, or the business rule's reason.
HttpResponse Refused(const AppendOutcome& outcome, const char* slug) {
  if (outcome.reason.starts_with("conflict:")) {
    return Problem(409, "idempotency-conflict",
                   outcome.reason + " (the Idempotency-Key was used for another request)",
                   "Idempotency-Key");
  }
  return Problem(409, slug, outcome.reason);
}

std::optional<HttpResponse> NeedsJson(const HttpRequest& request) {
  if (MediaTypeIs(request.content_type, "application/json")) return std::nullopt;
  return Problem(415, "unsupported-media-type", "send the body as application/json",
                 "Content-Type");
}

}  // namespace

std::optional<HttpResponse> HttpApi::RoutePrivacy(const HttpRequest& request,
                                                  const TokenInfo& caller,
                                                  const std::vector<std::string>& p) const {
  const std::string& method = request.method;
  if (p.size() == 4 && p[2] == "retention" && p[3] == "plan") {
    return method == "GET" ? GetRetentionPlan() : MethodNotAllowed("GET");
  }
  if (p.size() < 4 || p.size() > 5 || p[2] != "subjects") return std::nullopt;
  if (p[3].empty()) return Problem(400, "invalid-path", "the subject is empty", "subject");
  if (p.size() == 4) return method == "GET" ? GetSubject(p[3]) : MethodNotAllowed("GET");
  if (p[4] == "profile") {
    return method == "GET" ? GetProfile(p[3], caller) : MethodNotAllowed("GET");
  }
  if (p[4] == "erasure") {
    return method == "POST" ? PostErasure(request, p[3], caller) : MethodNotAllowed("POST");
  }
  if (p[4] == "legal-hold") {
    if (method != "PUT" && method != "DELETE") return MethodNotAllowed("PUT, DELETE");
    return PutLegalHold(request, p[3], caller, method == "PUT");
  }
  return std::nullopt;
}

HttpResponse HttpApi::GetSubject(const std::string& subject) const {
  AccountView view = service_.ledger().Account(subject);
  if (view.version == 0) return Problem(404, "not-found", "no events for " + subject, "subject");
  return JsonResponse(200, PrivacyJson(subject, view));
}

HttpResponse HttpApi::GetProfile(const std::string& subject, const TokenInfo& caller) const {
  if (service_.ledger().Account(subject).version == 0) {
    return Problem(404, "not-found", "no events for " + subject, "subject");
  }
  auto identity = service_.IdentityOf(subject);
  if (!identity.ok()) return Unavailable(identity.status());
  // No record, no read: the fields leave only once the access is durable.
  Status recorded = service_.RecordAccess(subject, CallerName(caller), "all",
                                          "GET /v1/subjects/" + subject + "/profile");
  if (!recorded.ok()) return Unavailable(recorded);
  Json fields = Json::Object();
  for (const auto& [name, value] : identity->fields) {
    if (value.kind != PersonalValue::Kind::kUnset) fields.Add(name, Json::String(value.Display()));
  }
  return JsonResponse(
      200, Json::Object().Add("subject", Json::String(subject)).Add("fields", std::move(fields)));
}

HttpResponse HttpApi::PostErasure(const HttpRequest& request, const std::string& subject,
                                  const TokenInfo& caller) const {
  if (auto wrong = NeedsJson(request)) return *wrong;
  auto body = ReadStringMembers(request.body, {"purpose"}, {"purpose"});
  if (!body.ok())
    return Problem(400, "invalid-body", body.status().message(),
                   FieldNamedIn(body.status().message()));
  const std::string& purpose = body->at("purpose");
  if (purpose != "profile" && purpose != "billing" && purpose != "all") {
    return Problem(400, "invalid-body", "purpose: profile, billing or all", "purpose");
  }
  if (service_.ledger().Account(subject).version == 0) {
    return Problem(404, "not-found", "no events for " + subject, "subject");
  }
  const auto id = OwnId("erasure", request, service_);
  if (!id) return BadKey();
  Json data = Json::Object();
  data.Add("purpose", Json::String(purpose)).Add("requested_by", Json::String(CallerName(caller)));
  auto outcome = service_.AppendOwn(*id, subject, "erasure_requested", data);
  if (!outcome.ok()) return Unavailable(outcome.status());
  if (outcome->kind == AppendOutcome::Kind::kRejected) return Refused(*outcome, "erasure-refused");
  Json shredded = Json::Array();
  Status scanned = service_.ledger().ScanAccount(subject, [&](const LoggedEvent& logged) {
    auto reader = logged.event.reader();
    if (logged.seq > outcome->seq && reader.which() == schema::Event::SUBJECT_SHREDDED &&
        reader.getCorrelationId() == id->c_str()) {
      const bool profile =
          reader.getSubjectShredded().getPurpose() == schema::ErasurePurpose::PROFILE;
      shredded.Push(Json::Object()
                        .Add("purpose", Json::String(profile ? "profile" : "billing"))
                        .Add("seq", Json::Integer(static_cast<int64_t>(logged.seq))));
    }
    return true;
  });
  if (!scanned.ok()) return Unavailable(scanned);
  Json json = PrivacyJson(subject, service_.ledger().Account(subject));
  json.Add("request_id", Json::String(*id))
      .Add("outcome", Json::String(AppendOutcomeName(outcome->kind)))
      .Add("seq", Json::Integer(static_cast<int64_t>(outcome->seq)))
      .Add("shredded", std::move(shredded));
  return JsonResponse(200, json);
}

HttpResponse HttpApi::PutLegalHold(const HttpRequest& request, const std::string& subject,
                                   const TokenInfo& caller, bool place) const {
  std::string reason;
  if (place) {
    if (auto wrong = NeedsJson(request)) return *wrong;
    auto body = ReadStringMembers(request.body, {"reason"}, {"reason"});
    if (!body.ok())
      return Problem(400, "invalid-body", body.status().message(),
                     FieldNamedIn(body.status().message()));
    reason = body->at("reason");
  } else {
    const std::string_view target(request.target);
    const size_t question = target.find('?');
    auto params = ParseQuery(question == std::string_view::npos ? "" : target.substr(question + 1));
    if (!params) return Problem(400, "invalid-query", "a query parameter is badly escaped");
    for (const auto& [name, value] : *params) {
      if (name != "reason") return Problem(400, "invalid-query", name + ": not a parameter", name);
    }
    if (auto given = params->find("reason"); given != params->end()) reason = given->second;
  }
  if (reason.empty()) return Problem(400, "invalid-body", "reason: required", "reason");
  if (service_.ledger().Account(subject).version == 0) {
    return Problem(404, "not-found", "no events for " + subject, "subject");
  }
  const char* kind = place ? "legal-hold-placed" : "legal-hold-released";
  const auto id = OwnId(kind, request, service_);
  if (!id) return BadKey();
  Json data = Json::Object();
  data.Add("reason", Json::String(reason))
      .Add(place ? "placed_by" : "released_by", Json::String(CallerName(caller)));
  auto outcome =
      service_.AppendOwn(*id, subject, place ? "legal_hold_placed" : "legal_hold_released", data);
  if (!outcome.ok()) return Unavailable(outcome.status());
  if (outcome->kind == AppendOutcome::Kind::kRejected) return Refused(*outcome, "legal-hold");
  Json json = PrivacyJson(subject, service_.ledger().Account(subject));
  json.Add("request_id", Json::String(*id))
      .Add("outcome", Json::String(AppendOutcomeName(outcome->kind)))
      .Add("seq", Json::Integer(static_cast<int64_t>(outcome->seq)));
  return JsonResponse(200, json);
}

HttpResponse HttpApi::GetRetentionPlan() const {
  auto policy = RetentionPolicy::LoadFile(RetentionPolicyPath(service_.data_dir()));
  if (!policy.ok() && policy.status().code() == StatusCode::kNotFound) policy = RetentionPolicy();
  if (!policy.ok()) return Unavailable(policy.status());
  auto plan = PlanRetention(service_.ledger(), *policy, service_.clock().NowMicros());
  if (!plan.ok()) return Unavailable(plan.status());
  Json next;
  if (plan->next_seq > 0) {
    next = Json::Object()
               .Add("seq", Json::Integer(static_cast<int64_t>(plan->next_seq)))
               .Add("category", Json::String(plan->next_category))
               .Add("passes_horizon_at", Json::String(FormatTimestamp(plan->next_horizon_micros)));
  }
  Json json = Json::Object();
  json.Add("data", ReportJson(RetentionTable(*plan)))
      .Add("first_live_seq", Json::Integer(static_cast<int64_t>(plan->first_live_seq)))
      .Add("head_seq", Json::Integer(static_cast<int64_t>(plan->head_seq)))
      .Add("archivable_through", Json::Integer(static_cast<int64_t>(plan->archivable_through)))
      .Add("next", std::move(next));
  return JsonResponse(200, json);
}

}  // namespace tally::service
