// The HTTP/JSON API's routes, apart from the transport: a request in, a
// response out (service/http_server.h carries them over TCP). Every body
// is JSON through service/json.h; every error is application/problem+json
// (RFC 9457) naming the field or line at fault. docs/api.md describes it.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "events/codec.h"
#include "service/audit_jobs.h"
#include "service/metrics.h"
#include "service/rate_limit.h"
#include "service/service.h"
#include "service/tokens.h"

namespace tally::service {

struct HttpRequest {
  std::string method;        // "GET", "POST", ...
  std::string target;        // path and query: "/v1/accounts/a/balance?at_seq=3"
  std::string content_type;  // the Content-Type header, as sent
  std::string body;
  std::string accept;                // the Accept header, as sent
  std::string authorization;         // the Authorization header, as sent
  std::string idempotency_key = {};  // the Idempotency-Key header, as sent
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // beyond Content-Type
  std::string file = {};  // if set: the body is this file's bytes, streamed (not `body`)
};

// An error answer: application/problem+json with `type`, `title`, `status`,
// `detail` and, for bad input, the field (or line) at fault.
HttpResponse Problem(int status, const std::string& slug, const std::string& detail,
                     const std::string& field = "");

class HttpApi {
 public:
  // Every /v1 request names a live token of `tokens` whose role allows
  // the route; `limiter` admits each token's requests. Both must outlive
  // the API.
  // `metrics` counts requests, events and hold decisions (GET /metrics).
  // `audits` runs verifications (POST /v1/audit/verify); null: none here.
  // Exports (POST /v1/audit/export) are written under DATA/exports.
  HttpApi(Service& service, const TokenStore& tokens, RateLimiter& limiter, Metrics& metrics,
          AuditJobs* audits = nullptr);
  ~HttpApi();  // waits for an export being written
  // Answers `request`. Never throws; a failure of the stores is a 503.
  HttpResponse Handle(const HttpRequest& request) const;

 private:
  HttpResponse Dispatch(const HttpRequest& request) const;
  HttpResponse GetMetrics() const;
  void CountOutcomes(std::span<const Event> events, std::span<const AppendOutcome> outcomes) const;
  // The caller's answer if it may not go on (401, 403, 429, 503).
  // `caller` is set to the request's token when it may go on.
  std::optional<HttpResponse> Refuse(const HttpRequest& request, Permission needed,
                                     TokenInfo* caller) const;
  HttpResponse Route(const HttpRequest& request, const TokenInfo& caller,
                     const std::vector<std::string>& path, std::string_view query) const;
  HttpResponse PostEvents(const HttpRequest& request) const;
  HttpResponse PostHold(const HttpRequest& request) const;
  HttpResponse GetBalance(const std::string& account, const std::string& query) const;
  // The finance reads (http_reads.cc): nullopt if `path` names none of them.
  std::optional<HttpResponse> GetRead(const std::vector<std::string>& path,
                                      const HttpRequest& request) const;
  HttpResponse GetInvoice(const std::string& number, const TokenInfo& caller) const;
  // The operator's routes (http_privacy.cc): /v1/subjects/..., /v1/retention/plan.
  std::optional<HttpResponse> RoutePrivacy(const HttpRequest& request, const TokenInfo& caller,
                                           const std::vector<std::string>& path) const;
  HttpResponse GetSubject(const std::string& subject) const;
  HttpResponse GetProfile(const std::string& subject, const TokenInfo& caller) const;
  HttpResponse PostErasure(const HttpRequest& request, const std::string& subject,
                           const TokenInfo& caller) const;
  HttpResponse PutLegalHold(const HttpRequest& request, const std::string& subject,
                            const TokenInfo& caller, bool place) const;
  HttpResponse GetRetentionPlan() const;
  HttpResponse GetLots(const std::string& account) const;
  HttpResponse GetReady() const;
  HttpResponse GetAuditHead() const;
  // /v1/audit/verify... and /v1/audit/export...: jobs and their results.
  std::optional<HttpResponse> RouteAuditJobs(const HttpRequest& request,
                                             const std::vector<std::string>& path) const;
  HttpResponse GetAuditJob(const AuditJobs* jobs, const std::string& id,
                           const char* rows_name) const;
  HttpResponse GetExportFile(const std::string& id, const std::string& file) const;
  Result<AuditRun> Export(const std::string& id) const;

  // An EventCodec is not thread-safe (its JSON reader keeps buffers):
  // each request borrows one of these and gives it back.
  class Codecs {
   public:
    std::unique_ptr<EventCodec> Borrow();
    void Return(std::unique_ptr<EventCodec> codec);

   private:
    std::mutex mutex_;
    std::vector<std::unique_ptr<EventCodec>> free_;
  };
  struct BorrowedCodec;

  Service& service_;
  const TokenStore& tokens_;
  RateLimiter& limiter_;
  Metrics& metrics_;
  AuditJobs* audits_;
  std::unique_ptr<AuditJobs> exports_;
  mutable Codecs codecs_;
};

}  // namespace tally::service
