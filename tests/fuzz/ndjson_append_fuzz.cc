// libFuzzer target: an NDJSON file appended to a fresh ledger, the way
// `tally append` does. Properties: invalid files append nothing; valid ones
// leave a log that verifies (chain, replayed journal entries), a trial
// balance at zero for every asset, and a ledger that reopens by replay.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <sstream>
#include <string>

#include "adapters/cli/ndjson_append.h"
#include "events/check.h"
#include "ledger/clock.h"
#include "ledger/ledger.h"

namespace {

// A directory of its own per process, on tmpfs when there is one.
std::string ScratchDir() {
  std::filesystem::path base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
  return (base / ("tally-fuzz-" + std::to_string(getpid()))).string();
}

void CheckBooks(const tally::Ledger& ledger) {
  auto report = ledger.Verify();
  TALLY_CHECK(report.status.ok());
  auto lines = ledger.TrialBalance();
  TALLY_CHECK(lines.ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const tally::EventCodec codec;
  static const std::string dir = ScratchDir();
  std::filesystem::remove_all(dir);
  tally::ManualClock clock(1'772'000'000'000'000);  // 2026-02-25
  tally::LedgerOptions options;
  options.data_dir = dir;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  {
    auto ledger = tally::Ledger::Open(options, &clock);
    TALLY_CHECK(ledger.ok());
    auto appended = tally::cli::AppendNdjson(in, size, codec, **ledger);
    TALLY_CHECK(appended.ok());
    if (!appended->errors.empty()) {
      TALLY_CHECK((*ledger)->head_seq() == 0);
      return 0;
    }
    CheckBooks(**ledger);
  }
  clock.Advance(400LL * 24 * 3600 * 1'000'000);  // past every default expiry
  auto reopened = tally::Ledger::Open(options, &clock);
  TALLY_CHECK(reopened.ok());
  TALLY_CHECK((*reopened)->Tick().ok());
  CheckBooks(**reopened);
  return 0;
}
