// The audit routes of the HTTP API beyond the head: verifications and
// exports of the log, each a job on a thread of its own whose state and
// result are read back (docs/api.md, "Audit").
#include <filesystem>

#include "events/limits.h"
#include "events/timestamp.h"
#include "ledger/export.h"
#include "service/http_api.h"
#include "service/http_util.h"

namespace tally::service {
namespace {

HttpResponse Started(const std::string& kind, const std::string& id) {
  HttpResponse response = JsonResponse(
      202, Json::Object().Add("id", Json::String(id)).Add("state", Json::String("running")));
  response.headers.emplace_back("Location", "/v1/audit/" + kind + "/" + id);
  return response;
}

HttpResponse MethodNotAllowed(const char* allow) {
  HttpResponse wrong = Problem(405, "method-not-allowed", std::string("use ") + allow);
  wrong.headers.emplace_back("Allow", allow);
  return wrong;
}

}  // namespace

HttpApi::HttpApi(Service& service, const TokenStore& tokens, RateLimiter& limiter, Metrics& metrics,
                 AuditJobs* audits)
    : service_(service),
      tokens_(tokens),
      limiter_(limiter),
      metrics_(metrics),
      audits_(audits),
      exports_(std::make_unique<AuditJobs>(
          "export", [this](const std::string& id, const AuditProgress&) { return Export(id); },
          &service.clock())) {}

HttpApi::~HttpApi() { exports_.reset(); }

std::optional<HttpResponse> HttpApi::RouteAuditJobs(const HttpRequest& request,
                                                    const std::vector<std::string>& p) const {
  if (p.size() < 4 || p.size() > 6 || p[2] != "audit") return std::nullopt;
  const bool verify = p[3] == "verify";
  if (!verify && p[3] != "export") return std::nullopt;
  const std::string& method = request.method;
  if (p.size() == 4) {
    if (method != "POST") return MethodNotAllowed("POST");
    if (verify) {
      if (audits_ == nullptr)
        return Problem(404, "not-found", "this service runs no verifications");
      return Started("verify", audits_->Start());
    }
    return Started("export", exports_->Start());
  }
  if (method != "GET") return MethodNotAllowed("GET");
  if (p.size() == 5) {
    return verify ? GetAuditJob(audits_, p[4], "checks")
                  : GetAuditJob(exports_.get(), p[4], "export");
  }
  if (verify) return std::nullopt;
  return GetExportFile(p[4], p[5]);
}

HttpResponse HttpApi::GetAuditJob(const AuditJobs* jobs, const std::string& id,
                                  const char* rows_name) const {
  auto job = jobs == nullptr ? std::nullopt : jobs->Find(id);
  if (!job) {
    return Problem(404, "not-found",
                   "no job " + id + " (the last " + std::to_string(limits::kAuditJobsKept) +
                       " of each kind are kept)");
  }
  Json json = Json::Object();
  json.Add("id", Json::String(job->id))
      .Add("state", Json::String(job->run ? "done" : "running"))
      .Add("started_at", Json::String(FormatTimestamp(job->started_at_micros)));
  if (job->run) {
    json.Add("finished_at", Json::String(FormatTimestamp(job->finished_at_micros)));
    const Result<AuditRun>& run = *job->run;
    if (!run.ok()) {
      json.Add("result", Json::String("error"))
          .Add("detail", Json::String(run.status().ToString()));
    } else {
      json.Add("result", Json::String(run->status.ok() ? "ok" : "failed"))
          .Add(rows_name, ReportJson(run->checks));
    }
  } else if (!job->done.rows.empty()) {
    json.Add(rows_name, ReportJson(job->done));  // the rows finished so far
  }
  return JsonResponse(200, json);
}

// Writes the whole log to DATA/exports/<id>-<micros> (a restart numbers
// jobs from 1 again; the instant keeps the directories apart).
Result<AuditRun> HttpApi::Export(const std::string& id) const {
  const std::string dir =
      service_.data_dir() + "/exports/" + id + "-" + std::to_string(service_.clock().NowMicros());
  auto events = ExportLog(service_.ledger(), dir);
  if (!events.ok()) return events.status();
  Report report{{{"dir"}, {"events", Column::Kind::kInteger}, {"files"}},
                {{dir, std::to_string(*events), "manifest.json records"}}};
  return AuditRun{std::move(report), Status::Ok()};
}

HttpResponse HttpApi::GetExportFile(const std::string& id, const std::string& file) const {
  if (file != "manifest.json" && file != "records") {
    return Problem(404, "not-found", "an export holds manifest.json and records", "file");
  }
  auto job = exports_->Find(id);
  if (!job) return Problem(404, "not-found", "no export " + id, "id");
  if (!job->run) return Problem(409, "export-running", "export " + id + " is still being written");
  if (!job->run->ok() || (*job->run)->checks.rows.empty()) {
    return Problem(409, "export-failed", "export " + id + " failed; start another");
  }
  const std::string path = (*job->run)->checks.rows.front().front() + "/" + file;
  if (!std::filesystem::exists(path)) {
    return Problem(404, "not-found", path + " is gone from the server's disk", "id");
  }
  HttpResponse response;
  response.content_type = file == "records" ? "application/octet-stream" : "application/json";
  response.file = path;
  response.headers.emplace_back("Content-Disposition",
                                "attachment; filename=\"" + id + "-" + file + "\"");
  return response;
}

}  // namespace tally::service
