#include "service/service.h"

#include <sodium.h>

#include <algorithm>
#include <filesystem>
#include <mutex>

#include "events/check.h"
#include "events/codec.h"
#include "events/timestamp.h"
#include "projections/projection.h"

namespace tally::service {
namespace {

std::string TaskIdOf(schema::Event::Reader event) {
  switch (event.which()) {
    case schema::Event::TASK_SUBMITTED: return event.getTaskSubmitted().getTaskId().cStr();
    case schema::Event::HOLD_ACCEPTED: return event.getHoldAccepted().getTaskId().cStr();
    case schema::Event::HOLD_REJECTED: return event.getHoldRejected().getTaskId().cStr();
    default: return "";
  }
}

Credits CreditsOf(capnp::Text::Reader text) {
  auto credits = Credits::Parse(text.cStr());
  TALLY_CHECK(credits.ok());  // the ledger made and validated it
  return *credits;
}

// The decision in `logged`, a hold_accepted or hold_rejected event.
HoldAnswer AnswerOf(const LoggedEvent& logged) {
  auto event = logged.event.reader();
  HoldAnswer answer;
  answer.decision_seq = logged.seq;
  answer.account = event.getAccount().cStr();
  answer.task_id = TaskIdOf(event);
  if (event.which() == schema::Event::HOLD_ACCEPTED) {
    answer.accepted = true;
    answer.credits = CreditsOf(event.getHoldAccepted().getCredits());
    answer.expires_at_micros = event.getHoldAccepted().getExpiresAt().getUnixMicros();
  } else {
    answer.credits = CreditsOf(event.getHoldRejected().getRequested());
    answer.available = CreditsOf(event.getHoldRejected().getAvailable());
    answer.reason = event.getHoldRejected().getReason().cStr();
  }
  return answer;
}

}  // namespace

Service::Service(const LedgerOptions& options, const Clock* clock, std::unique_ptr<Ledger> ledger,
                 std::unique_ptr<ProjectionStore> projections)
    : options_(options),
      clock_(clock),
      ledger_(std::move(ledger)),
      projections_(std::move(projections)) {}

Service::~Service() {
  projections_.reset();  // before the ledger it reads
  ledger_.reset();
}

Result<std::unique_ptr<Service>> Service::Open(const LedgerOptions& given, const Clock* clock,
                                               Metrics* metrics) {
  if (sodium_init() < 0) return Status::IoError("libsodium failed to initialise");
  LedgerOptions options = given;
  if (metrics != nullptr) {
    options.on_group_commit = [metrics](const GroupCommit& commit) {
      const Labels outcome = {{"outcome", commit.ok ? "ok" : "failed"}};
      metrics->Observe("tally_group_commit_events", "events per group commit (one synced write)",
                       outcome, static_cast<double>(commit.events), Buckets::kCount);
      metrics->Observe("tally_group_commit_appenders", "callers of append per group commit",
                       outcome, static_cast<double>(commit.appenders), Buckets::kCount);
      metrics->Observe("tally_group_commit_duration_seconds",
                       "latency of a group commit's synced write", outcome, commit.seconds);
    };
  }
  auto ledger = Ledger::Open(options, clock);
  if (!ledger.ok()) return ledger.status();
  auto projections = ProjectionStore::Open(**ledger, options.data_dir);
  if (!projections.ok()) return projections.status();
  std::unique_ptr<Service> service(
      new Service(options, clock, std::move(ledger).value(), std::move(projections).value()));
  if (auto caught_up = service->CatchUp(); !caught_up.ok()) return caught_up;
  return service;
}

Status Service::CatchUp() {
  std::lock_guard turn(catch_up_mutex_);
  return CatchUpLocked();
}

Status Service::CatchUpLocked() {
  const uint64_t head = ledger_->head_seq();
  std::unique_lock lock(projections_mutex_);
  auto applied = projections_->CatchUp();
  if (!applied.ok()) return applied.status();
  projected_seq_ = std::max(projected_seq_, head);
  return Status::Ok();
}

Status Service::ProjectThrough(uint64_t seq) {
  std::lock_guard turn(catch_up_mutex_);
  if (projected_seq_ >= seq) return Status::Ok();  // another request's catch-up took it
  return CatchUpLocked();
}

Result<std::vector<AppendOutcome>> Service::Append(std::span<const Event> events) {
  auto outcomes = ledger_->Append(events);
  if (!outcomes.ok()) return outcomes;
  // Durable now; a failed catch-up leaves the answer true (the next one
  // folds these events too) but is reported, as reads would lag.
  uint64_t last = 0;
  for (const AppendOutcome& outcome : *outcomes) last = std::max(last, outcome.seq);
  if (auto caught_up = ProjectThrough(last); !caught_up.ok()) {
    return caught_up.WithContext("appended, but the projections did not catch up");
  }
  return outcomes;
}

Result<HoldAnswer> Service::Hold(const Event& task_submitted) {
  if (task_submitted.reader().which() != schema::Event::TASK_SUBMITTED) {
    return Status::InvalidArgument("type: a hold is asked for with a task_submitted event");
  }
  auto outcomes = Append(std::span<const Event>(&task_submitted, 1));
  if (!outcomes.ok()) return outcomes.status();
  const AppendOutcome& outcome = outcomes->front();
  if (outcome.kind == AppendOutcome::Kind::kRejected) {
    HoldAnswer answer;
    answer.outcome = outcome;
    return answer;
  }
  return FindDecision(task_submitted, outcome);
}

// The ledger decides a hold in the write that appends its task_submitted:
// the decision is the first hold event for the task after it.
Result<HoldAnswer> Service::FindDecision(const Event& task_submitted,
                                         const AppendOutcome& outcome) {
  const std::string account = task_submitted.reader().getAccount().cStr();
  const std::string task_id = TaskIdOf(task_submitted.reader());
  std::optional<HoldAnswer> answer;
  auto status = ledger_->Scan(outcome.seq + 1, [&](const LoggedEvent& logged) {
    auto which = logged.event.reader().which();
    if ((which == schema::Event::HOLD_ACCEPTED || which == schema::Event::HOLD_REJECTED) &&
        logged.event.reader().getAccount() == account.c_str() &&
        TaskIdOf(logged.event.reader()) == task_id) {
      answer = AnswerOf(logged);
      return false;
    }
    return true;
  });
  if (!status.ok()) return status;
  if (!answer) {
    return Status::Corruption("task " + task_id + " at seq " + std::to_string(outcome.seq) +
                              " has no hold decision in the log");
  }
  answer->outcome = outcome;
  if (answer->accepted) {
    if (auto projected = ProjectThrough(answer->decision_seq); !projected.ok()) return projected;
    auto balance = Balance(account, LogRange{answer->decision_seq});
    if (!balance.ok()) return balance.status();
    answer->available = balance->available;
  }
  return *answer;
}

Result<AccountBalance> Service::Balance(const std::string& account, const LogRange& range) const {
  std::shared_lock lock(projections_mutex_);
  return ReadBalance(*projections_, account, range);
}

Result<Lag> Service::ProjectionLag() const {
  std::shared_lock lock(projections_mutex_);
  Lag lag{ledger_->head_seq(), ledger_->head_seq()};
  for (const Projection* projection : AllProjections()) {
    auto checkpoint = projections_->Checkpoint(projection->name());
    if (!checkpoint.ok()) return checkpoint.status();
    lag.projected_seq = std::min(lag.projected_seq, checkpoint->seq);
  }
  return lag;
}

Result<Identity> Service::IdentityOf(const std::string& account, uint64_t through_seq) const {
  const std::string dir = KeyStoreDir(options_.data_dir);
  if (!std::filesystem::exists(std::filesystem::path(dir) / "CURRENT")) return Identity{};
  if (!options_.master_key) return MasterKeyNeeded(options_.data_dir);
  auto keys = KeyStore::OpenForReading(dir, *options_.master_key);
  if (!keys.ok()) return keys.status();
  const uint64_t through = through_seq == 0 ? ledger_->head_seq() : through_seq;
  return ReadIdentity(*ledger_, account, through, **keys);
}

Result<AppendOutcome> Service::AppendOwn(const std::string& id, const std::string& account,
                                         const std::string& type, const Json& data) {
  Json event = Json::Object();
  event.Add("id", Json::String(id))
      .Add("account", Json::String(account))
      .Add("occurred_at", Json::String(FormatTimestamp(clock_->NowMicros())))
      .Add("producer", Json::String("tally-serve"))
      .Add("type", Json::String(type))
      .Add("data", data);
  EventCodec codec;
  auto parsed = codec.ParseJson(Encode(event));
  if (!parsed.ok()) return parsed.status();
  auto outcomes = Append(std::span<const Event>(&*parsed, 1));
  if (!outcomes.ok()) return outcomes.status();
  return outcomes->front();
}

std::string Service::NewOwnId(const std::string& prefix) {
  uint8_t random[8];
  randombytes_buf(random, sizeof(random));
  char hex[2 * sizeof(random) + 1];
  sodium_bin2hex(hex, sizeof(hex), random, sizeof(random));
  return prefix + "-" + std::to_string(clock_->NowMicros()) + "-" + hex;
}

Status Service::RecordAccess(const std::string& subject, const std::string& accessed_by,
                             const std::string& purpose, const std::string& via) {
  const std::string id = NewOwnId("tally-access");
  Json data = Json::Object();
  data.Add("accessed_by", Json::String(accessed_by))
      .Add("purpose", Json::String(purpose))
      .Add("via", Json::String(via));
  auto outcome = AppendOwn(id, subject, "personal_data_accessed", data);
  if (!outcome.ok()) return outcome.status();
  if (outcome->kind == AppendOutcome::Kind::kRejected) {
    return Status::Conflict("the read of " + subject +
                            "'s personal fields could not be recorded: " + outcome->reason);
  }
  return Status::Ok();
}

}  // namespace tally::service
