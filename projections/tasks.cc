// The tasks projection: credits consumed per model, and the holds still open.
//   row key: 'm' model                      value: tasks, usage_events, credits (micros)
//   row key: 'h' account 0x00 task_id       value: credits (micros), expires_at, seq
//   row key: 't' account 0x00 task_id       value: the model of a submitted task, until it ends
#include <algorithm>

#include "projections/internal/all.h"
#include "projections/internal/row_codec.h"
#include "projections/reports.h"
#include "projections/store.h"

namespace tally {
namespace internal {
namespace {

Result<ModelUsage> DecodeUsage(const std::string& model, std::string_view value) {
  RowReader reader(value, "tasks model " + model);
  ModelUsage usage;
  usage.model = model;
  usage.tasks = reader.U64();
  usage.usage_events = reader.U64();
  usage.credits = Credits::FromMicros(reader.Int());
  if (auto status = reader.Finish(); !status.ok()) return status;
  return usage;
}

Result<OpenHold> DecodeHold(std::string_view key, std::string_view value) {
  size_t split = key.find('\0');
  OpenHold hold;
  hold.account = std::string(key.substr(0, split));
  hold.task_id = std::string(key.substr(split + 1));
  RowReader reader(value, "tasks hold " + hold.task_id);
  hold.credits = Credits::FromMicros(reader.Int());
  hold.expires_at_micros = reader.I64();
  hold.seq = reader.U64();
  if (auto status = reader.Finish(); !status.ok()) return status;
  return hold;
}

// Adds to the usage of `model`.
Status AddUsage(Rows& rows, const std::string& model, uint64_t tasks, uint64_t usage_events,
                const Credits& credits) {
  auto stored = rows.Get('m' + model);
  if (!stored.ok()) return stored.status();
  ModelUsage usage{model, 0, 0, Credits()};
  if (*stored) {
    auto decoded = DecodeUsage(model, **stored);
    if (!decoded.ok()) return decoded.status();
    usage = *decoded;
  }
  usage.tasks += tasks;
  usage.usage_events += usage_events;
  usage.credits += credits;
  rows.Put(
      'm' + model,
      RowBuilder().Add(usage.tasks).Add(usage.usage_events).Add(usage.credits.micros()).Take());
  return Status::Ok();
}

class Tasks final : public Projection {
 public:
  std::string_view name() const override { return kTasks; }
  bool keeps_snapshots() const override { return true; }
  bool Consumes(const LoggedEvent& event) const override {
    using S = schema::Event;
    switch (event.event.reader().which()) {
      case S::TASK_SUBMITTED:
      case S::HOLD_ACCEPTED:
      case S::TASK_SUCCEEDED:
      case S::TASK_FAILED:
      case S::TASK_CANCELLED:
      case S::RESERVATION_EXPIRED:
      case S::USAGE_RECORDED: return true;
      default: return false;
    }
  }
  Status Apply(const LoggedEvent& logged, Rows& rows) const override {
    using S = schema::Event;
    auto e = logged.event.reader();
    const std::string account = TextOf(e.getAccount());
    auto task_key = [&](capnp::Text::Reader task_id) { return account + '\0' + TextOf(task_id); };
    switch (e.which()) {
      case S::TASK_SUBMITTED:
        rows.Put('t' + task_key(e.getTaskSubmitted().getTaskId()),
                 TextOf(e.getTaskSubmitted().getModel()));
        return Status::Ok();
      case S::HOLD_ACCEPTED: {
        auto h = e.getHoldAccepted();
        rows.Put('h' + task_key(h.getTaskId()),
                 RowBuilder()
                     .Add(Credits::Parse(TextOf(h.getCredits()))->micros())
                     .Add(h.getExpiresAt().getUnixMicros())
                     .Add(logged.seq)
                     .Take());
        return Status::Ok();
      }
      case S::TASK_SUCCEEDED: {
        auto t = e.getTaskSucceeded();
        const std::string key = task_key(t.getTaskId());
        std::string model = TextOf(t.getModel());
        if (model.empty()) {
          auto submitted = rows.Get('t' + key);
          if (!submitted.ok()) return submitted.status();
          if (*submitted) model = **submitted;
        }
        rows.Delete('h' + key);
        rows.Delete('t' + key);
        return AddUsage(rows, model, 1, 0, *Credits::Parse(TextOf(t.getCost())));
      }
      case S::TASK_FAILED:
      case S::TASK_CANCELLED: {
        const std::string key =
            task_key(e.which() == S::TASK_FAILED ? e.getTaskFailed().getTaskId()
                                                 : e.getTaskCancelled().getTaskId());
        rows.Delete('h' + key);
        rows.Delete('t' + key);
        return Status::Ok();
      }
      case S::RESERVATION_EXPIRED:
        rows.Delete('h' + task_key(e.getReservationExpired().getTaskId()));
        return Status::Ok();
      case S::USAGE_RECORDED: {
        auto u = e.getUsageRecorded();
        return AddUsage(rows, TextOf(u.getModel()), 0, 1, *Credits::Parse(TextOf(u.getCredits())));
      }
      default: return Status::Ok();
    }
  }
};

}  // namespace

const Projection& TasksProjection() {
  static const Tasks kProjection;
  return kProjection;
}

}  // namespace internal

Result<TaskReport> ReadTasks(const ProjectionStore& store, const LogRange& range) {
  auto rows = store.RowsAsOf(internal::kTasks, range);
  if (!rows.ok()) return rows.status();
  TaskReport report;
  for (const auto& [key, value] : *rows) {
    if (key.starts_with('m')) {
      auto usage = internal::DecodeUsage(key.substr(1), value);
      if (!usage.ok()) return usage.status();
      report.models.push_back(*usage);
    } else if (key.starts_with('h')) {
      auto hold = internal::DecodeHold(std::string_view(key).substr(1), value);
      if (!hold.ok()) return hold.status();
      report.open_holds.push_back(*hold);
    }
  }
  std::sort(report.open_holds.begin(), report.open_holds.end(),
            [](const OpenHold& a, const OpenHold& b) { return a.seq < b.seq; });
  return report;
}

}  // namespace tally
