// Durable append throughput of the Ledger at batch sizes 1 to 8192.
// Every batch is one synced RocksDB write. Events are parsed beforehand, so
// this measures the ledger alone. Run: build/bench/append_bench
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>

#include "events/codec.h"
#include "ledger/ledger.h"

namespace tally {
namespace {

std::vector<Event> MakeEvents(size_t count, size_t offset) {
  EventCodec codec;
  std::vector<Event> events;
  events.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    std::string n = std::to_string(offset + i);
    auto event = codec.ParseJson(
        R"({"id":"u-)" + n + R"(","account":"acct-)" + std::to_string((offset + i) % 1000) +
        R"(","occurred_at":"2026-11-20T08:05:40Z","producer":"bench","type":"usage_recorded",)"
        R"("data":{"usage_id":"u-)" +
        n + R"(","credits":"1.5","model":"image-xl"}})");
    events.push_back(*event);
  }
  return events;
}

void BM_AppendDurable(benchmark::State& state) {
  const size_t batch_size = static_cast<size_t>(state.range(0));
  std::string dir = (std::filesystem::temp_directory_path() / "tally-bench-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  SystemClock clock;
  auto opened = Ledger::Open({dir, true}, &clock);
  if (!opened.ok()) {
    state.SkipWithError(opened.status().ToString().c_str());
    return;
  }
  std::unique_ptr<Ledger> ledger = std::move(opened).value();
  size_t offset = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto events = MakeEvents(batch_size, offset);
    offset += batch_size;
    state.ResumeTiming();
    auto outcomes = ledger->Append(events);
    if (!outcomes.ok()) state.SkipWithError(outcomes.status().ToString().c_str());
  }
  state.SetItemsProcessed(static_cast<int64_t>(offset));
  ledger.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_AppendDurable)->RangeMultiplier(8)->Range(1, 8192)->UseRealTime();

}  // namespace
}  // namespace tally

BENCHMARK_MAIN();
