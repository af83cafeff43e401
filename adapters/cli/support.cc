#include "adapters/cli/support.h"

#include <charconv>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include "adapters/cli/exit_codes.h"
#include "events/timestamp.h"
#include "reports/report.h"

namespace tally::cli {

int Fail(const Status& status, Io io) {
  io.err << "tally: " << status.ToString() << '\n';
  return ExitCodeFor(status);
}

Result<std::optional<MasterKey>> LoadMasterKey(const MasterKeyFile& file) {
  if (file.path.empty()) return std::optional<MasterKey>();
  auto key = MasterKey::LoadFile(file.path);
  if (!key.ok()) return key.status();
  return std::optional<MasterKey>(*key);
}

Result<LedgerOptions> LedgerOptionsFor(const std::string& data_dir, const MasterKeyFile& master_key,
                                       bool create_if_missing) {
  LedgerOptions options;
  options.data_dir = data_dir;
  options.create_if_missing = create_if_missing;
  auto master = LoadMasterKey(master_key);
  if (!master.ok()) return master.status();
  options.master_key = *master;
  auto policy = LoadRetentionPolicy(data_dir);
  if (!policy.ok()) return policy.status();
  options.invoice_retention_years = policy->YearsFor("invoices");
  return options;
}

Result<RetentionPolicy> LoadRetentionPolicy(const std::string& data_dir) {
  auto policy = RetentionPolicy::LoadFile(RetentionPolicyPath(data_dir));
  if (!policy.ok() && policy.status().code() == StatusCode::kNotFound) return RetentionPolicy();
  return policy;
}

Result<std::unique_ptr<Ledger>> OpenLedger(const std::string& data_dir,
                                           const MasterKeyFile& master_key, const Clock* clock,
                                           bool create_if_missing) {
  auto options = LedgerOptionsFor(data_dir, master_key, create_if_missing);
  if (!options.ok()) return options.status();
  return Ledger::Open(*options, clock);
}

Result<std::unique_ptr<Ledger>> OpenExisting(const std::string& data_dir,
                                             const MasterKeyFile& master_key, const Clock* clock) {
  return OpenLedger(data_dir, master_key, clock, false);
}

Result<std::unique_ptr<KeyStore>> OpenKeysForReading(const std::string& data_dir,
                                                     const MasterKeyFile& master_key) {
  const std::string dir = KeyStoreDir(data_dir);
  const bool exists = std::filesystem::exists(std::filesystem::path(dir) / "CURRENT");
  auto master = LoadMasterKey(master_key);
  if (!master.ok()) return master.status();
  if (!exists) return std::unique_ptr<KeyStore>();
  if (!*master) return MasterKeyNeeded(data_dir);
  return KeyStore::OpenForReading(dir, **master);
}

Result<LogRange> RangeOf(const AsOf& as_of) {
  LogRange range;
  if (!as_of.at_seq.empty()) {
    const std::string& text = as_of.at_seq;
    uint64_t seq = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seq);
    if (error != std::errc() || end != text.data() + text.size() || seq == 0) {
      return Status::InvalidArgument("--at-seq: \"" + text.substr(0, 32) +
                                     "\" is not a seq; seqs start at 1");
    }
    range.at_seq = seq;
  }
  if (!as_of.as_of.empty()) {
    auto micros = ParseTimestamp(as_of.as_of);
    if (!micros.ok()) return micros.status().WithContext("--as-of");
    range.as_of_micros = *micros;
  }
  return range;
}

Status CheckInLog(const LogRange& range, const Log& log) {
  if (range.at_seq == LogRange{}.at_seq || range.at_seq <= log.head_seq()) return Status::Ok();
  return Status::InvalidArgument("--at-seq: seq " + std::to_string(range.at_seq) +
                                 " is past the log's head (seq " + std::to_string(log.head_seq()) +
                                 ")");
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

namespace {

// The projections for a read of `log`: for writing (caught up for the next
// reader too) if free, else as a secondary.
Result<std::unique_ptr<ProjectionStore>> OpenProjectionsToRead(const Log& log,
                                                               const std::string& data_dir) {
  auto store = ProjectionStore::Open(log, data_dir);
  if (store.ok() || store.status().code() != StatusCode::kUnavailable) return store;
  return ProjectionStore::OpenForReading(log, data_dir);
}

}  // namespace

void PauseBeforeRetry() { std::this_thread::sleep_for(std::chrono::milliseconds(20)); }

Result<std::unique_ptr<Log>> OpenLogForReading(const std::string& data_dir) {
  for (int attempt = 1;; ++attempt) {
    auto log = Log::OpenForReading(data_dir);
    const bool file_gone =
        !log.ok() && log.status().message().find("No such file or directory") != std::string::npos;
    if (!file_gone || attempt >= limits::kReadOpenAttemptsMax) return log;
    PauseBeforeRetry();
  }
}

Result<std::unique_ptr<ReadView>> OpenForReading(const std::string& data_dir) {
  for (int attempt = 1;; ++attempt) {
    auto view = std::make_unique<ReadView>();
    auto log = OpenLogForReading(data_dir);
    if (!log.ok()) return log.status();
    view->log = std::move(log).value();
    // Figures without acknowledged events would be wrong: refuse them.
    if (auto history = view->log->CheckHistory(); !history.ok()) return history;
    auto store = OpenProjectionsToRead(*view->log, data_dir);
    // Unavailable: the store is being created; ahead: another process
    // caught it up past the log as this one opened it. Both pass at once.
    const bool retry =
        store.ok() ? (*store)->ahead_of_log() : store.status().code() == StatusCode::kUnavailable;
    if (retry && attempt < limits::kReadOpenAttemptsMax) {
      PauseBeforeRetry();
      continue;
    }
    if (!store.ok()) return store.status();
    view->projections = std::move(store).value();
    if (auto status = CatchUp(*view->projections); !status.ok()) return status;
    return view;
  }
}

Result<std::unique_ptr<ProjectionStore>> OpenProjectionsForWriting(const Log& log,
                                                                   const std::string& data_dir) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(limits::kProjectionLockWaitMs);
  for (;;) {
    auto store = ProjectionStore::Open(log, data_dir);
    if (store.ok() || store.status().code() != StatusCode::kUnavailable ||
        std::chrono::steady_clock::now() >= deadline) {
      return store;
    }
    PauseBeforeRetry();
  }
}

void CatchUpAfterWrite(const Log& log, const std::string& data_dir, Io io) {
  auto store = ProjectionStore::Open(log, data_dir);
  Status status = store.ok() ? CatchUp(**store) : store.status();
  if (status.ok()) return;
  io.err << "tally: warning: written, but the projections were not brought up to date ("
         << status.message() << "); reads fold the new events from the log, and the next "
         << "command that can catches them up\n";
}

void PrintLineErrors(const NdjsonEvents& read, const char* verb, OutputFormat format, Io io) {
  Report report{{{"line", Column::Kind::kInteger}, {"error"}}, {}};
  for (const LineError& error : read.errors) {
    io.err << "line " << error.line << ": " << error.message << '\n';
    report.rows.push_back({std::to_string(error.line), error.message});
  }
  if (read.errors_total > read.errors.size()) {
    io.err << "... and " << read.errors_total - read.errors.size() << " more invalid lines\n";
  }
  io.err << "tally: " << read.errors_total << " invalid line(s); nothing was " << verb << '\n';
  if (format != OutputFormat::kTable) Render(report, format, io.out);
}

}  // namespace tally::cli
