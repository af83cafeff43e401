// The application layer: one owner of a data directory's stores. A Service
// opens the ledger (and through it the key store) and the projection store
// for writing, and is the only writer of both while it runs. Every append
// that reaches the disk brings the projections up to the log before it is
// answered, so a read made after an answer sees what was answered.
// Thread-safe: appends from many threads share the ledger's group commit;
// reads run alongside each other and wait only for a catch-up in progress.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "ledger/personal.h"
#include "projections/balance.h"
#include "projections/store.h"
#include "reports/json.h"
#include "service/metrics.h"

namespace tally::service {

// The answer to a task's hold, once its decision is durable.
struct HoldAnswer {
  AppendOutcome outcome;      // of the task_submitted event (appended or duplicate)
  bool accepted = false;      // hold_accepted, else hold_rejected
  uint64_t decision_seq = 0;  // the seq of the ledger's decision
  std::string task_id;
  std::string account;
  Credits credits;                // held (accepted) or requested (rejected)
  Credits available;              // the account's available credits after the decision
  std::string reason;             // why it was rejected; empty if accepted
  int64_t expires_at_micros = 0;  // when the hold lapses (accepted)
};

// How far the projections trail the log.
struct Lag {
  uint64_t head_seq = 0;
  uint64_t projected_seq = 0;  // the lowest checkpoint of every projection
};

class Service {
 public:
  // Opens the stores of `options.data_dir`, creating them if missing, and
  // brings the projections up to the log. `clock` must outlive the Service.
  // `metrics` (if given, outliving the Service) gets a histogram of each
  // group commit's size and latency.
  static Result<std::unique_ptr<Service>> Open(const LedgerOptions& options, const Clock* clock,
                                               Metrics* metrics = nullptr);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Appends `events` (one atomic batch) and answers once they are durable
  // and projected. A non-ok Status: nothing of the batch was acknowledged.
  Result<std::vector<AppendOutcome>> Append(std::span<const Event> events);

  // Appends a task_submitted event and answers with the ledger's decision
  // on its hold. The same event again gives the same answer; a rejected
  // event (not a task_submitted, a conflict) is an outcome kRejected with
  // no decision.
  Result<HoldAnswer> Hold(const Event& task_submitted);

  // The balance of `account` at the end of `range` (default: now).
  Result<AccountBalance> Balance(const std::string& account, const LogRange& range = {}) const;

  // Runs `read` on the projection store, never during a catch-up.
  template <typename Read>
  auto WithProjections(Read&& read) const {
    std::shared_lock lock(projections_mutex_);
    return read(static_cast<const ProjectionStore&>(*projections_));
  }

  // The personal fields of `account` as of `through_seq` (0: the head),
  // opened with the master key (`erased` once shredded); empty when the
  // data directory never held personal data. Reading them is the caller's
  // to record (RecordAccess) before it shows them.
  Result<Identity> IdentityOf(const std::string& account, uint64_t through_seq = 0) const;

  // Appends a personal_data_accessed event: `accessed_by` read the
  // `purpose` fields ("profile", "billing" or "all") of `subject` through
  // `via`. Durable when it returns ok.
  Status RecordAccess(const std::string& subject, const std::string& accessed_by,
                      const std::string& purpose, const std::string& via);

  // Appends one event the service makes itself (producer "tally-serve"):
  // `type` and its `data` for `account`, under `id`, occurred now.
  Result<AppendOutcome> AppendOwn(const std::string& id, const std::string& account,
                                  const std::string& type, const Json& data);

  // A new id for an event the service makes: "<prefix>-<micros>-<16 random
  // hex>" (random, so that a clock set back after a restart cannot repeat one).
  std::string NewOwnId(const std::string& prefix);

  const Clock& clock() const { return *clock_; }
  const std::string& data_dir() const { return options_.data_dir; }

  // Brings the projections up to the log (appends do this themselves).
  Status CatchUp();
  Result<Lag> ProjectionLag() const;

  const Ledger& ledger() const { return *ledger_; }
  Ledger& ledger() { return *ledger_; }

 private:
  Service(const LedgerOptions& options, const Clock* clock, std::unique_ptr<Ledger> ledger,
          std::unique_ptr<ProjectionStore> projections);
  // Brings the projections at least through `seq`: requests that wait here
  // together share one catch-up (the first folds what all of them appended).
  Status ProjectThrough(uint64_t seq);
  Status CatchUpLocked();  // with catch_up_mutex_ held
  Result<HoldAnswer> FindDecision(const Event& task_submitted, const AppendOutcome& outcome);

  LedgerOptions options_;
  const Clock* clock_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<ProjectionStore> projections_;
  // Exclusive while the projections catch up; shared while they are read.
  mutable std::shared_mutex projections_mutex_;
  // One catch-up at a time; projected_seq_: the head the last one reached.
  std::mutex catch_up_mutex_;
  uint64_t projected_seq_ = 0;
};

}  // namespace tally::service
