// Durable append throughput of the Ledger. Every group commit is one synced
// RocksDB write. Events are parsed beforehand, so this measures the ledger:
// dedup lookup, decide, apply (postings), hash chain, encode, write, fsync.
//
//   BM_AppendBatch/N       one thread appending batches of N events
//   BM_AppendConcurrent/T  T threads each appending one event at a time:
//                          group commit shares one fsync among waiting threads
//   BM_AppendPersonal/N    batches of N profile_updated events with two
//                          personal fields (profile and billing), each
//                          sealed with its subject's data key on the way in;
//                          compare with BM_AppendBatch/N
//
// Run: build/bench/append_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <sodium.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <mutex>

#include "bench/bench_ledger.h"
#include "events/codec.h"
#include "ledger/ledger.h"

namespace tally {
namespace {

// Appends batches of state.range(0) events made by `make`, one per call.
template <typename Make>
void AppendBatches(benchmark::State& state, Make make) {
  const size_t batch_size = static_cast<size_t>(state.range(0));
  BenchLedger bench;
  EventCodec codec;
  uint64_t next = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<Event> events;
    events.reserve(batch_size);
    for (size_t i = 0; i < batch_size; ++i) events.push_back(make(codec, next++));
    state.ResumeTiming();
    auto outcomes = bench.ledger().Append(events);
    if (!outcomes.ok()) state.SkipWithError(outcomes.status().ToString().c_str());
  }
  state.SetItemsProcessed(static_cast<int64_t>(next));
}

void BM_AppendBatch(benchmark::State& state) { AppendBatches(state, UsageEvent); }
BENCHMARK(BM_AppendBatch)->RangeMultiplier(8)->Range(1, 8192)->UseRealTime()->MinTime(2.0);

// A profile update of account i % kAccounts: an email (profile key) and a
// legal name (billing key), both sealed by the ledger.
Event ProfileEvent(const EventCodec& codec, uint64_t i) {
  std::string n = std::to_string(i);
  auto event = codec.ParseJson(
      R"({"id":"p-)" + n + R"(","account":"acct-)" + std::to_string(i % kAccounts) +
      R"(","occurred_at":"2026-11-20T08:05:40Z","producer":"bench","type":"profile_updated",)"
      R"("data":{"email":{"plaintext":"user-)" +
      n + R"(@example.com"},"legal_name":{"plaintext":"Example Studio )" + n + R"( GmbH"}}})");
  return *event;
}

void BM_AppendPersonal(benchmark::State& state) { AppendBatches(state, ProfileEvent); }
BENCHMARK(BM_AppendPersonal)->RangeMultiplier(8)->Range(1, 8192)->UseRealTime()->MinTime(2.0);

BenchLedger* shared_ledger = nullptr;
std::atomic<uint64_t> shared_next{0};

void BM_AppendConcurrent(benchmark::State& state) {
  if (state.thread_index() == 0) shared_ledger = new BenchLedger();
  EventCodec codec;
  std::vector<Event> events;  // prepared per thread, outside the timed loop
  for (int i = 0; i < 20'000; ++i) events.push_back(UsageEvent(codec, shared_next++));
  size_t i = 0;
  for (auto _ : state) {
    std::span<const Event> one(&events[i++ % events.size()], 1);
    auto outcomes = shared_ledger->ledger().Append(one);
    if (!outcomes.ok()) state.SkipWithError(outcomes.status().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    state.counters["per_group"] = shared_ledger->EventsPerGroup();
    delete shared_ledger;
    shared_ledger = nullptr;
  }
}
BENCHMARK(BM_AppendConcurrent)->ThreadRange(1, 64)->UseRealTime()->MinTime(2.0);

}  // namespace
}  // namespace tally

BENCHMARK_MAIN();
