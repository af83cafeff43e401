// Cost of turning producer JSON into a validated canonical Event, and back.
#include <benchmark/benchmark.h>

#include "events/codec.h"

namespace tally {
namespace {

const char* kTopUp =
    R"({"id":"evt-0002","account":"acct-alice","occurred_at":"2026-11-20T08:05:40Z",)"
    R"("producer":"payments","type":"top_up_settled","data":{"provider":"stripe",)"
    R"("reference":"pi_3QxA1","amount":{"currency":"USD","value":"10.00"},)"
    R"("tax":{"currency":"USD","value":"0.83"},"tax_jurisdiction":"US-CA","credits":"1000"}})";

void BM_ParseJson(benchmark::State& state) {
  EventCodec codec;
  for (auto _ : state) {
    auto event = codec.ParseJson(kTopUp);
    benchmark::DoNotOptimize(event);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseJson);

void BM_ToJson(benchmark::State& state) {
  EventCodec codec;
  auto event = codec.ParseJson(kTopUp);
  for (auto _ : state) {
    auto json = codec.ToJson(*event);
    benchmark::DoNotOptimize(json);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ToJson);

void BM_FromCanonical(benchmark::State& state) {
  EventCodec codec;
  auto event = codec.ParseJson(kTopUp);
  std::string bytes(event->bytes());
  for (auto _ : state) {
    auto read = Event::FromCanonical(bytes);
    benchmark::DoNotOptimize(read);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FromCanonical);

}  // namespace
}  // namespace tally

BENCHMARK_MAIN();
