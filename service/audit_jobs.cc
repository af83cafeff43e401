#include "service/audit_jobs.h"

#include <charconv>
#include <string_view>

#include "events/limits.h"

namespace tally::service {

AuditJobs::AuditJobs(Verifier verify, const Clock* clock)
    : AuditJobs(
          "verify",
          [verify = std::move(verify)](const std::string&, const AuditProgress& progress) {
            return verify(progress);
          },
          clock) {}

AuditJobs::AuditJobs(std::string kind, AuditTask task, const Clock* clock)
    : kind_(std::move(kind)), task_(std::move(task)), clock_(clock) {}

AuditJobs::~AuditJobs() {
  if (thread_.joinable()) thread_.join();
}

std::string AuditJobs::Start() {
  std::lock_guard lock(mutex_);
  if (!running_.empty()) return running_;
  if (thread_.joinable()) thread_.join();  // the last one has finished
  const uint64_t number = ++started_;
  const std::string id = kind_ + "-" + std::to_string(number);
  jobs_[number] = AuditJob{id, clock_->NowMicros(), 0, {}, std::nullopt};
  while (jobs_.size() > limits::kAuditJobsKept) jobs_.erase(jobs_.begin());
  running_ = id;
  thread_ = std::thread([this, number, id] {
    Result<AuditRun> run = task_(id, [this, number](const Report& done) {
      std::lock_guard progressed(mutex_);
      if (auto job = jobs_.find(number); job != jobs_.end()) job->second.done = done;
    });
    std::lock_guard done(mutex_);
    if (auto job = jobs_.find(number); job != jobs_.end()) {
      job->second.run = std::move(run);
      job->second.finished_at_micros = clock_->NowMicros();
    }
    running_.clear();
  });
  return id;
}

std::optional<AuditJob> AuditJobs::Find(const std::string& id) const {
  const std::string kPrefix = kind_ + "-";
  uint64_t number = 0;
  if (!id.starts_with(kPrefix)) return std::nullopt;
  auto [end, error] = std::from_chars(id.data() + kPrefix.size(), id.data() + id.size(), number);
  if (error != std::errc() || end != id.data() + id.size()) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto job = jobs_.find(number);
  if (job == jobs_.end()) return std::nullopt;
  return job->second;
}

}  // namespace tally::service
