// Read-side costs on a large log: replay on open (the rebuild of the
// ledger's state), folding the whole log, and as-of reports.
// The log has TALLY_BENCH_EVENTS producer events (default 1,000,000) over
// 10,000 accounts and is built once, before the timed runs.
// Run: build/bench/report_bench
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>

#include "events/codec.h"
#include "ledger/ledger.h"
#include "projections/reports.h"
#include "projections/statement.h"

namespace tally {
namespace {

constexpr int kAccounts = 10'000;
constexpr size_t kBatch = 8192;

uint64_t EventCount() {
  const char* env = std::getenv("TALLY_BENCH_EVENTS");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : 1'000'000;
}

std::string EventJson(uint64_t i) {
  std::string n = std::to_string(i);
  std::string account = "acct-" + std::to_string(i % kAccounts);
  if (i < kAccounts) {  // every account first buys credits
    return R"({"id":"t-)" + n + R"(","account":")" + account +
           R"(","occurred_at":"2026-11-20T08:00:00Z","producer":"bench","type":"top_up_settled",)"
           R"("data":{"provider":"stripe","reference":"r-)" +
           n + R"(","amount":{"currency":"USD","value":"1000.00"},"credits":"1000000"}})";
  }
  return R"({"id":"u-)" + n + R"(","account":")" + account +
         R"(","occurred_at":"2026-11-20T08:05:40Z","producer":"bench","type":"usage_recorded",)"
         R"("data":{"usage_id":"u-)" +
         n + R"(","credits":"1.5","model":"image-xl"}})";
}

// The log, built once per process.
class BigLog {
 public:
  static BigLog& Get() {
    static BigLog* log = new BigLog();
    return *log;
  }
  Ledger& ledger() { return *ledger_; }
  // Closes the ledger and opens it again, which replays the whole log.
  void Reopen() {
    ledger_.reset();
    ledger_ = std::move(Ledger::Open({dir_, false}, &clock_)).value();
  }

 private:
  BigLog() {
    dir_ = (std::filesystem::temp_directory_path() / "tally-report-bench-XXXXXX").string();
    TALLY_CHECK(mkdtemp(dir_.data()) != nullptr);
    ledger_ = std::move(Ledger::Open({dir_, true}, &clock_)).value();
    EventCodec codec;
    std::vector<Event> batch;
    for (uint64_t i = 0; i < EventCount(); ++i) {
      batch.push_back(*codec.ParseJson(EventJson(i)));
      if (batch.size() == kBatch) Flush(batch);
    }
    Flush(batch);
  }
  void Flush(std::vector<Event>& batch) {
    TALLY_CHECK(ledger_->Append(batch).ok());
    batch.clear();
    clock_.Advance(1'000'000);  // a second per batch: as-of has instants to pick
  }
  std::string dir_;
  ManualClock clock_{1'772'359'200'000'000};
  std::unique_ptr<Ledger> ledger_;
};

void BM_FoldWholeLog(benchmark::State& state) {
  Ledger& ledger = BigLog::Get().ledger();
  uint64_t events = 0;
  for (auto _ : state) {
    auto status = FoldLog(ledger, LogRange{}, [&](const LoggedEvent&) { ++events; });
    if (!status.ok()) state.SkipWithError(status.ToString().c_str());
  }
  state.SetItemsProcessed(static_cast<int64_t>(events));
}
BENCHMARK(BM_FoldWholeLog)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_ReopenReplaysTheLog(benchmark::State& state) {
  BigLog& log = BigLog::Get();
  uint64_t events = log.ledger().head_seq();
  for (auto _ : state) log.Reopen();
  state.SetItemsProcessed(static_cast<int64_t>(events * state.iterations()));
}
BENCHMARK(BM_ReopenReplaysTheLog)->Unit(benchmark::kMillisecond)->Iterations(2);

void BM_TrialBalanceAsOfMidLog(benchmark::State& state) {
  Ledger& ledger = BigLog::Get().ledger();
  LogRange range{ledger.head_seq() / 2};
  for (auto _ : state) {
    auto lines = ReadTrialBalance(ledger, range);
    if (!lines.ok()) state.SkipWithError(lines.status().ToString().c_str());
  }
}
BENCHMARK(BM_TrialBalanceAsOfMidLog)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_StatementOfOneAccountAsOfMidLog(benchmark::State& state) {
  Ledger& ledger = BigLog::Get().ledger();
  LogRange range{ledger.head_seq() / 2};
  for (auto _ : state) {
    auto lines = ReadStatement(ledger, "acct-42", range);
    if (!lines.ok()) state.SkipWithError(lines.status().ToString().c_str());
  }
}
BENCHMARK(BM_StatementOfOneAccountAsOfMidLog)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tally

BENCHMARK_MAIN();
