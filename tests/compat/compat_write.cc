// Writes the corpus of old events (see corpus.h) as this version makes it:
//   compat_write DOCS_EVENTS_DIR OUT_DIR
// Run once per format version; the files are committed and never rewritten
// (a new version of the corpus goes into a new folder beside it).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "adapters/cli/ndjson_append.h"
#include "ledger/clock.h"
#include "ledger/export.h"
#include "tests/compat/corpus.h"

namespace fs = std::filesystem;

namespace {

constexpr int64_t kStartMicros = 1'772'668'800'000'000;  // 2026-03-05T00:00:00Z
constexpr int64_t kDayMicros = 86'400'000'000;

// Every producer example in docs/events, in the order they occurred.
std::string ProducerLines(const fs::path& docs, const tally::EventCodec& codec) {
  std::vector<std::pair<int64_t, std::string>> events;
  for (const auto& entry : fs::directory_iterator(docs)) {
    std::istringstream in(tally::compat::ReadFile(entry.path().string()));
    for (std::string line; std::getline(in, line);) {
      auto event = codec.ParseJson(line);
      if (event.ok()) events.emplace_back(event->reader().getOccurredAt().getUnixMicros(), line);
    }
  }
  std::sort(events.begin(), events.end());
  std::string lines;
  for (const auto& [occurred_at, line] : events) lines += line + "\n";
  return lines;
}

int Fail(const tally::Status& status) {
  std::cerr << "compat_write: " << status.ToString() << '\n';
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return std::cerr << "usage: compat_write DOCS_EVENTS_DIR OUT_DIR\n", 2;
  const fs::path out = argv[2];
  if (fs::exists(out)) return std::cerr << "compat_write: " << out << " exists\n", 2;
  tally::EventCodec codec;
  std::string lines = ProducerLines(argv[1], codec);
  fs::create_directories(out);
  std::ofstream(out / "events.ndjson") << lines;
  tally::ManualClock clock(kStartMicros);
  tally::LedgerOptions options;
  options.data_dir = (out / "ledger").string();
  auto ledger = tally::Ledger::Open(options, &clock);
  if (!ledger.ok()) return Fail(ledger.status());
  std::istringstream in(lines);
  auto appended = tally::cli::AppendNdjson(in, lines.size(), codec, **ledger);
  if (!appended.ok()) return Fail(appended.status());
  clock.Advance(400 * kDayMicros);  // every lot and hold of the examples expires
  if (auto ticked = (*ledger)->Tick(); !ticked.ok()) return Fail(ticked.status());
  auto exported = tally::ExportLog(**ledger, (out / "export").string());
  if (!exported.ok()) return Fail(exported.status());
  ledger.value().reset();
  fs::remove_all(out / "ledger");
  auto records = tally::compat::ReadRecords((out / "export" / "records").string());
  if (!records.ok()) return Fail(records.status());
  auto digests = tally::compat::ProjectionDigests(*records);
  if (!digests.ok()) return Fail(digests.status());
  std::ofstream(out / "projections.txt") << *digests;
  std::cout << "compat_write: " << records->size() << " records in " << out << '\n';
  return 0;
}
