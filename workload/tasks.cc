// An account's image and video tasks (each a hold, then its outcome),
// direct usage beside them, and its erasure.
#include <algorithm>

#include "workload/internal/account.h"

namespace tally::workload::internal {
namespace {

constexpr int64_t kHoldTtlMs = 3 * 3'600'000;  // longer than `tally demo`'s step

struct Model {
  const char* name;
  int64_t estimate_centi;
  int64_t min_seconds, max_seconds;  // how long it runs
};
constexpr Model kImageModels[] = {
    {"image-sd", 400, 4, 20}, {"image-xl", 800, 8, 40}, {"image-xl-2k", 1200, 12, 60}};
constexpr Model kVideoModels[] = {{"video-5s", 15000, 60, 240}, {"video-10s", 30000, 120, 420}};

}  // namespace

void AccountMonth::RunTasks() {
  const int64_t until = persona_.erasure ? erase_at_ - kHour : end_;
  const int64_t from = opened_ + 2 * kMinute;
  if (until <= from) return;
  // The expected count, with its fraction drawn; then spread at random.
  const int64_t expected = persona_.tasks_per_100_days * (until - from) / kDay;
  int64_t count = expected / 100 + (rng_.Below(100) < static_cast<uint64_t>(expected % 100));
  count = count * rng_.Between(50, 150) / 100;
  std::vector<int64_t> times(static_cast<size_t>(count));
  for (int64_t& at : times) at = rng_.Between(from, until - 1);
  std::sort(times.begin(), times.end());
  for (int64_t at : times) Task(at);
  SettleRefunds(INT64_MAX);
}

void AccountMonth::Task(int64_t at) {
  const bool video = rng_.Chance(200);
  const Model& model = video ? kVideoModels[rng_.Below(std::size(kVideoModels))]
                             : kImageModels[rng_.Below(std::size(kImageModels))];
  const std::string task_id = "task-" + account_ + "-" + std::to_string(++tasks_);
  if (video && rng_.Chance(300)) {  // the prompt rewritten first, charged directly
    Add(at - 5 * kSecond, Channel::kFact, "usage_recorded",
        Json::Object()
            .Add("usage_id", Text("use-" + task_id))
            .Add("credits", Text("0.25"))
            .Add("model", Text("prompt-enhancer")),
        "gen-api");
    Burn(at, 25);
  }
  SettleRefunds(at);
  // Room for a cost over the estimate and an upscale after it: a hold the
  // model lets through is accepted whenever a path decides it.
  const int64_t needed = model.estimate_centi * 3 / 2 + 500;
  const int64_t available = Available(at);
  bool refused = false;
  if (available < needed && !TopUpFor(at, needed - std::max<int64_t>(available, 0))) {
    // Now and then the platform asks anyway, where the account surely
    // cannot pay: the ledger says no on every path.
    if (Ceiling(at) >= model.estimate_centi || !rng_.Chance(500)) return;
    refused = true;
  }
  Add(at, Channel::kHold, "task_submitted",
      Json::Object()
          .Add("task_id", Text(task_id))
          .Add("model", Text(model.name))
          .Add("estimate", Text(FormatCenti(model.estimate_centi)))
          .Add("hold_ttl_ms", Json::Integer(kHoldTtlMs)),
      "gen-api", task_id);
  if (!refused)
    Finish(at, model.name, model.estimate_centi, model.min_seconds, model.max_seconds, task_id);
}

// The task's outcome: mostly done (at a cost a little under or over the
// estimate), sometimes failed or cancelled, now and then never reported
// (its hold times out).
void AccountMonth::Finish(int64_t at, const char* model, int64_t estimate, int64_t min_seconds,
                          int64_t max_seconds, const std::string& task_id) {
  const int64_t done = at + rng_.Between(min_seconds, max_seconds) * kSecond;
  const uint64_t fate = rng_.Below(1000);
  if (fate < 880) {
    const int64_t cost = estimate * rng_.Between(70, 110) / 100;
    Add(done, Channel::kFact, "task_succeeded",
        Json::Object()
            .Add("task_id", Text(task_id))
            .Add("cost", Text(FormatCenti(cost)))
            .Add("model", Text(model)),
        "gen-api", task_id);
    open_.push_back({done, estimate, cost});
    if (estimate < 10000 && rng_.Chance(150)) {  // an upscale of the image
      const int64_t later = done + rng_.Between(10, 120) * kSecond;
      Add(later, Channel::kFact, "usage_recorded",
          Json::Object()
              .Add("usage_id", Text("ups-" + task_id))
              .Add("credits", Text("2"))
              .Add("model", Text("upscale-4x")),
          "gen-api", task_id);
      open_.push_back({later, 0, 200});
    }
  } else if (fate < 940) {
    Add(done, Channel::kFact, "task_failed",
        Json::Object().Add("task_id", Text(task_id)).Add("reason", Text("worker_oom")), "gen-api",
        task_id);
    open_.push_back({done, estimate, 0});
  } else if (fate < 970) {
    const int64_t cancelled = at + (done - at) / 2;
    Add(cancelled, Channel::kFact, "task_cancelled",
        Json::Object().Add("task_id", Text(task_id)).Add("reason", Text("cancelled by user")),
        "gen-api", task_id);
    open_.push_back({cancelled, estimate, 0});
  } else {
    open_.push_back({at + kHoldTtlMs * 1000, estimate, 0});
  }
}

// A data subject request late in the month: the account is closed, then
// its erasure asked for (through the operator); one of them is under a
// legal hold placed days before, so its erasure is refused.
void AccountMonth::Erase() {
  if (persona_.legal_hold) {
    const int64_t placed = erase_at_ - std::min<int64_t>(2 * kDay, (erase_at_ - opened_) / 2);
    Add(placed, Channel::kOperator, "legal_hold_placed",
        Json::Object()
            .Add("reason", Text("litigation hold, case 2026-114"))
            .Add("placed_by", Text("legal:counsel-2")),
        "compliance");
  }
  Add(erase_at_ - kMinute, Channel::kFact, "account_closed",
      Json::Object().Add("reason", Text("customer request")), "accounts");
  // A replay of imported history is a record of what was done: the
  // refused request is not in it.
  if (persona_.legal_hold && options_.imported) return;
  Add(erase_at_, Channel::kOperator, "erasure_requested",
      Json::Object().Add("purpose", Text("all")).Add("requested_by", Text("dsar-portal")),
      "privacy");
}

}  // namespace tally::workload::internal
