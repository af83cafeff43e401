// Verifications of the whole log started over HTTP (POST /v1/audit/verify)
// and read back while and after they run: a full verification re-reads
// every event and rebuilds every projection, minutes on a long log, so it
// runs on a thread of its own, one at a time. Exports of the log for
// offline verification (POST /v1/audit/export) run the same way.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "events/status.h"
#include "ledger/clock.h"
#include "reports/report.h"

namespace tally::service {

// What one verification found: a row per check, and the first failure.
struct AuditRun {
  Report checks;
  Status status;  // ok: every check passed; else the first that failed
};

// Told the rows finished so far, each time one more is.
using AuditProgress = std::function<void(const Report& done)>;
// Runs the checks (`tally audit verify`'s, given by whoever wires the
// service), telling `progress` of each; a non-ok Result: they could not run.
using Verifier = std::function<Result<AuditRun>(const AuditProgress& progress)>;
// A job that needs its own id (an export names its directory after it).
using AuditTask =
    std::function<Result<AuditRun>(const std::string& id, const AuditProgress& progress)>;

struct AuditJob {
  std::string id;  // "<kind>-<n>": "verify-1", "export-2"
  int64_t started_at_micros = 0;
  int64_t finished_at_micros = 0;  // 0: still running
  Report done;                     // while running: the rows finished so far
  std::optional<Result<AuditRun>> run;
};

class AuditJobs {
 public:
  // `clock` must outlive the jobs.
  AuditJobs(Verifier verify, const Clock* clock);
  // Jobs of another `kind` ("export"), each told its id.
  AuditJobs(std::string kind, AuditTask task, const Clock* clock);
  ~AuditJobs();  // waits for a running verification
  AuditJobs(const AuditJobs&) = delete;
  AuditJobs& operator=(const AuditJobs&) = delete;

  // Starts a verification, or (one is running) answers that one's id.
  std::string Start();
  std::optional<AuditJob> Find(const std::string& id) const;

 private:
  std::string kind_;
  AuditTask task_;
  const Clock* clock_;
  mutable std::mutex mutex_;
  std::map<uint64_t, AuditJob> jobs_;  // by number; the last kAuditJobsKept
  uint64_t started_ = 0;
  std::string running_;  // empty: none
  std::thread thread_;
};

}  // namespace tally::service
