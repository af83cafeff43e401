#include "adapters/cli/support.h"

#include <iostream>

#include "adapters/cli/exit_codes.h"
#include "events/timestamp.h"

namespace tally::cli {

int Fail(const Status& status, Io io) {
  io.err << "tally: " << status.ToString() << '\n';
  return ExitCodeFor(status);
}

Result<std::unique_ptr<Ledger>> OpenExisting(const std::string& data_dir, const Clock* clock) {
  LedgerOptions options;
  options.data_dir = data_dir;
  options.create_if_missing = false;
  return Ledger::Open(options, clock);
}

Result<LogRange> RangeOf(const AsOf& as_of) {
  LogRange range;
  if (as_of.at_seq > 0) range.at_seq = as_of.at_seq;
  if (!as_of.as_of.empty()) {
    auto micros = ParseTimestamp(as_of.as_of);
    if (!micros.ok()) return micros.status().WithContext("--as-of");
    range.as_of_micros = *micros;
  }
  return range;
}

ProgressFn ProgressBar::Fn() {
  return [this](uint64_t done, uint64_t total) {
    if (!bar_) bar_.emplace(label_, total);
    bar_->Update(done);
  };
}

Status CatchUp(ProjectionStore& store) {
  ProgressBar bar("projections");
  auto caught_up = store.CatchUp(bar.Fn());
  return caught_up.ok() ? Status::Ok() : caught_up.status();
}

Result<std::unique_ptr<ReadView>> OpenForReading(const std::string& data_dir) {
  auto view = std::make_unique<ReadView>();
  auto log = Log::OpenForReading(data_dir);
  if (!log.ok()) return log.status();
  view->log = std::move(log).value();
  auto store = ProjectionStore::Open(*view->log, data_dir);
  if (!store.ok()) return store.status();
  view->projections = std::move(store).value();
  if (auto status = CatchUp(*view->projections); !status.ok()) return status;
  return view;
}

}  // namespace tally::cli
