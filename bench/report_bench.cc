// Read-side costs on a large log: replay on open (the rebuild of the
// ledger's state), catching projections up and rebuilding them, and as-of
// reports answered from the projections' snapshots.
// The log has TALLY_BENCH_EVENTS producer events (default 1,000,000) over
// 10,000 accounts: top-ups with invoices, tasks (hold, capture), usage,
// subscriptions. It is built once, before the timed runs; then every
// projection is folded from seq 1 in one catch-up (as `tally rebuild --all`
// does), timed and printed on stderr.
// Run: build/bench/report_bench
#include <benchmark/benchmark.h>
#include <rocksdb/db.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "events/codec.h"
#include "ledger/ledger.h"
#include "projections/balance.h"
#include "projections/reports.h"
#include "projections/statement.h"
#include "projections/store.h"

namespace tally {
namespace {

constexpr int kAccounts = 10'000;
constexpr size_t kBatch = 8192;

uint64_t EventCount() {
  const char* env = std::getenv("TALLY_BENCH_EVENTS");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : 1'000'000;
}

std::string AccountOf(uint64_t i) { return "acct-" + std::to_string(i % kAccounts); }

std::string Envelope(const std::string& id, const std::string& account, const std::string& type,
                     const std::string& data) {
  return R"({"id":")" + id + R"(","account":")" + account +
         R"(","occurred_at":"2026-11-20T08:00:00Z","producer":"bench","type":")" + type +
         R"(","data":)" + data + "}";
}

// Event i: first a paid top-up per account, then a subscription for one
// account in ten; after that a mix per 20 events: a paid top-up (with its
// invoice), 8 tasks (submitted, then succeeded: a hold and its capture) and
// 3 usage records.
std::string EventJson(uint64_t i) {
  std::string n = std::to_string(i);
  if (i < kAccounts || i % 20 == 0) {
    return Envelope("t-" + n, AccountOf(i), "top_up_settled",
                    R"({"provider":"stripe","reference":"r-)" + n +
                        R"(","amount":{"currency":"USD","value":"1000.00"},)"
                        R"("tax":{"currency":"USD","value":"83.33"},"credits":"1000000"})");
  }
  if (i < kAccounts + kAccounts / 10) {
    return Envelope(
        "s-" + n, AccountOf(i), "subscription_started",
        R"({"subscription_id":"sub-)" + n +
            R"(","plan":"pro","interval":"month","first_period":{)"
            R"("period_start":"2026-11-01T00:00:00Z","period_end":"2026-12-01T00:00:00Z",)"
            R"("amount":{"currency":"EUR","value":"11.90"},)"
            R"("tax":{"currency":"EUR","value":"1.90"},"credits":"100",)"
            R"("provider":"stripe","reference":"sr-)" +
            n + R"("}})");
  }
  switch (i % 20) {
    case 1:
    case 3:
    case 5:
    case 7:
    case 9:
    case 11:
    case 13:
    case 15:
      return Envelope("k-" + n, AccountOf(i), "task_submitted",
                      R"({"task_id":"task-)" + n + R"(","model":"video-5s","estimate":"30"})");
    case 2:
    case 4:
    case 6:
    case 8:
    case 10:
    case 12:
    case 14:
    case 16:
      return Envelope("d-" + n, AccountOf(i - 1), "task_succeeded",
                      R"({"task_id":"task-)" + std::to_string(i - 1) + R"(","cost":"25.5"})");
    default:
      return Envelope("u-" + n, AccountOf(i), "usage_recorded",
                      R"({"usage_id":"u-)" + n + R"(","credits":"1.5","model":"image-xl"})");
  }
}

// The log and its projections, built once per process.
class BigLog {
 public:
  static BigLog& Get() {
    static BigLog* log = new BigLog();
    return *log;
  }
  Ledger& ledger() { return *ledger_; }
  ProjectionStore& store() { return *store_; }
  const std::string& dir() const { return dir_; }
  // Closes the projection store (a second one cannot open it meanwhile).
  void CloseStore() { store_.reset(); }
  void OpenStore() { store_ = std::move(ProjectionStore::Open(*ledger_, dir_)).value(); }
  // Closes the ledger and opens it again, which replays the whole log.
  void Reopen() {
    Close();
    Open();
  }
  void Close() {
    store_.reset();
    ledger_.reset();
  }
  void Open() {
    ledger_ = std::move(Ledger::Open({dir_, false}, &clock_)).value();
    store_ = std::move(ProjectionStore::Open(*ledger_, dir_)).value();
  }
  // A LogRange that ends one event before a snapshot in the middle of the
  // log: an as-of read there folds the most events.
  LogRange WorstMidLog() {
    uint64_t every = store_->snapshot_every_events();
    uint64_t mid = ledger_->head_seq() / 2;
    return LogRange{(mid / every + 1) * every - 1};
  }

 private:
  BigLog() {
    dir_ = (std::filesystem::temp_directory_path() / "tally-report-bench-XXXXXX").string();
    TALLY_CHECK(mkdtemp(dir_.data()) != nullptr);
    ledger_ = std::move(Ledger::Open({dir_, true}, &clock_)).value();
    EventCodec codec;
    std::vector<Event> batch;
    auto started = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < EventCount(); ++i) {
      auto event = codec.ParseJson(EventJson(i));
      TALLY_CHECK(event.ok());
      batch.push_back(*event);
      if (batch.size() == kBatch) Flush(batch);
    }
    Flush(batch);
    double append_seconds = SecondsSince(started);
    // The projections folded from seq 1 in one catch-up: what `tally
    // rebuild --all` does.
    store_ = std::move(ProjectionStore::Open(*ledger_, dir_)).value();
    started = std::chrono::steady_clock::now();
    TALLY_CHECK(store_->CatchUp().ok());
    double fold_seconds = SecondsSince(started);
    const auto events = static_cast<double>(ledger_->head_seq());
    std::fprintf(stderr,
                 "log: %.0f events (with the ledger's); appended in %.1f s (%.0f events/s); "
                 "every projection folded from seq 1 in %.1f s (%.0f events/s)\n",
                 events, append_seconds, events / append_seconds, fold_seconds,
                 events / fold_seconds);
  }
  static double SecondsSince(std::chrono::steady_clock::time_point started) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }
  void Flush(std::vector<Event>& batch) {
    auto outcomes = ledger_->Append(batch);
    TALLY_CHECK(outcomes.ok());
    for (const AppendOutcome& outcome : *outcomes) {
      TALLY_CHECK(outcome.kind == AppendOutcome::Kind::kAppended);
    }
    batch.clear();
    clock_.Advance(1'000'000);  // a second per batch: as-of has instants to pick
  }
  std::string dir_;
  ManualClock clock_{1'772'359'200'000'000};
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<ProjectionStore> store_;
};

void BM_ScanWholeLog(benchmark::State& state) {
  Ledger& ledger = BigLog::Get().ledger();
  uint64_t events = 0;
  for (auto _ : state) {
    auto status = ledger.Scan(1, [&](const LoggedEvent&) {
      ++events;
      return true;
    });
    if (!status.ok()) state.SkipWithError(status.ToString().c_str());
  }
  state.SetItemsProcessed(static_cast<int64_t>(events));
}
BENCHMARK(BM_ScanWholeLog)->Unit(benchmark::kMillisecond)->Iterations(2);

void BM_ReopenReplaysTheLog(benchmark::State& state) {
  BigLog& log = BigLog::Get();
  uint64_t events = log.ledger().head_seq();
  for (auto _ : state) log.Reopen();
  state.SetItemsProcessed(static_cast<int64_t>(events * state.iterations()));
}
BENCHMARK(BM_ReopenReplaysTheLog)->Unit(benchmark::kMillisecond)->Iterations(1);

// The table checksums alone: the part of a reopen for writing (above) that
// checking every block adds to the replay.
void BM_VerifyTableChecksums(benchmark::State& state) {
  BigLog& log = BigLog::Get();
  uint64_t events = log.ledger().head_seq();
  for (auto _ : state) {
    state.PauseTiming();
    log.Close();
    state.ResumeTiming();
    rocksdb::DB* raw = nullptr;
    TALLY_CHECK(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), log.dir(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    TALLY_CHECK(db->VerifyChecksum().ok());
    state.PauseTiming();
    db.reset();
    log.Open();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(events * state.iterations()));
}
BENCHMARK(BM_VerifyTableChecksums)->Unit(benchmark::kMillisecond)->Iterations(1);

template <typename Read>
void AsOf(benchmark::State& state, const LogRange& range, Read read) {
  for (auto _ : state) {
    auto result = read(BigLog::Get().store(), range);
    if (!result.ok()) state.SkipWithError(result.status().ToString().c_str());
    benchmark::DoNotOptimize(result);
  }
}

void BM_TrialBalanceNow(benchmark::State& state) { AsOf(state, LogRange{}, ReadTrialBalance); }
BENCHMARK(BM_TrialBalanceNow)->Unit(benchmark::kMillisecond);

void BM_TrialBalanceAsOfMidLog(benchmark::State& state) {
  AsOf(state, BigLog::Get().WorstMidLog(), ReadTrialBalance);
}
BENCHMARK(BM_TrialBalanceAsOfMidLog)->Unit(benchmark::kMillisecond);

void BM_RevenueAsOfMidLog(benchmark::State& state) {
  AsOf(state, BigLog::Get().WorstMidLog(), ReadRevenue);
}
BENCHMARK(BM_RevenueAsOfMidLog)->Unit(benchmark::kMillisecond);

void BM_SubscriptionsAsOfMidLog(benchmark::State& state) {
  AsOf(state, BigLog::Get().WorstMidLog(), ReadSubscriptions);
}
BENCHMARK(BM_SubscriptionsAsOfMidLog)->Unit(benchmark::kMillisecond);

void BM_TasksAsOfMidLog(benchmark::State& state) {
  AsOf(state, BigLog::Get().WorstMidLog(), ReadTasks);
}
BENCHMARK(BM_TasksAsOfMidLog)->Unit(benchmark::kMillisecond);

void BM_BalanceOfOneAccountAsOfMidLog(benchmark::State& state) {
  AsOf(state, BigLog::Get().WorstMidLog(), [](const ProjectionStore& store, const LogRange& r) {
    return ReadBalance(store, "acct-42", r);
  });
}
BENCHMARK(BM_BalanceOfOneAccountAsOfMidLog)->Unit(benchmark::kMicrosecond);

void BM_StatementOfOneAccountAsOfMidLog(benchmark::State& state) {
  AsOf(state, BigLog::Get().WorstMidLog(), [](const ProjectionStore& store, const LogRange& r) {
    return ReadStatement(store, "acct-42", r);
  });
}
BENCHMARK(BM_StatementOfOneAccountAsOfMidLog)->Unit(benchmark::kMicrosecond);

// What `tally trial-balance --as-of ...` costs end to end on this log: open
// the log for reading (no replay) and the projections, catch up (nothing to
// do), read the trial balance as of the worst point mid-log.
void BM_CommandTrialBalanceAsOfMidLog(benchmark::State& state) {
  BigLog& log = BigLog::Get();
  LogRange range = log.WorstMidLog();
  log.CloseStore();
  for (auto _ : state) {
    auto reader = Log::OpenForReading(log.dir());
    if (!reader.ok()) state.SkipWithError(reader.status().ToString().c_str());
    auto store = ProjectionStore::Open(**reader, log.dir());
    if (!store.ok()) state.SkipWithError(store.status().ToString().c_str());
    auto caught_up = (*store)->CatchUp();
    if (!caught_up.ok() || *caught_up != 0) state.SkipWithError("catch-up had work");
    auto lines = ReadTrialBalance(**store, range);
    if (!lines.ok()) state.SkipWithError(lines.status().ToString().c_str());
  }
  log.OpenStore();
}
BENCHMARK(BM_CommandTrialBalanceAsOfMidLog)->Unit(benchmark::kMillisecond);

void BM_InvoicesOfOneAccount(benchmark::State& state) {
  AsOf(state, LogRange{}, [](const ProjectionStore& store, const LogRange& r) {
    return ReadInvoices(store, "acct-42", r);
  });
}
BENCHMARK(BM_InvoicesOfOneAccount)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tally

BENCHMARK_MAIN();
