// Writes the seed corpus of every fuzz target from the event examples in
// docs/events/ (one example per event type):
//   fuzz_seeds DOCS_EVENTS_DIR OUT_DIR
// OUT_DIR/<target>/ gets one file per seed. The producer examples are also
// appended to a real ledger, whose export and archived segment seed the
// reader targets.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "adapters/cli/ndjson_append.h"
#include "events/check.h"
#include "events/codec.h"
#include "ledger/clock.h"
#include "ledger/export.h"
#include "ledger/internal/read_file.h"
#include "ledger/internal/record.h"
#include "ledger/internal/segment.h"
#include "ledger/ledger.h"

namespace fs = std::filesystem;

namespace {

void Write(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

// A file the seeds are made from; a missing one stops the program.
std::string Read(const fs::path& path) {
  auto bytes = tally::internal::ReadWholeFile(path.string());
  TALLY_CHECK(bytes.ok());
  return *std::move(bytes);
}

// Seeds of the event targets; returns the producer lines.
std::string SeedEvents(const fs::path& docs, const fs::path& out, const tally::EventCodec& codec) {
  std::string producer_lines;
  int n = 0;
  for (const auto& entry : fs::directory_iterator(docs)) {
    std::istringstream lines(Read(entry.path()));
    for (std::string line; std::getline(lines, line); ++n) {
      auto as_producer = codec.ParseJson(line);
      auto source = as_producer.ok() ? '\0' : '\1';
      Write(out / "json_event_fuzz" / std::to_string(n), std::string(1, source) + line);
      if (!as_producer.ok()) continue;
      producer_lines += line + "\n";
      Write(out / "binary_event_fuzz" / std::to_string(n), codec.ToBinary(*as_producer));
      Write(out / "ndjson_append_fuzz" / std::to_string(n), line + "\n");
    }
  }
  Write(out / "ndjson_append_fuzz" / "all", producer_lines);
  return producer_lines;
}

// Seeds of the reader targets from a ledger holding `lines`.
int SeedReaders(const std::string& lines, const fs::path& out, const tally::EventCodec& codec) {
  fs::path dir = out / "ledger";
  fs::remove_all(dir);
  tally::ManualClock clock(1'772'000'000'000'000);
  tally::LedgerOptions options;
  options.data_dir = dir.string();
  auto ledger = tally::Ledger::Open(options, &clock);
  if (!ledger.ok()) return std::cerr << ledger.status().ToString() << '\n', 1;
  std::istringstream in(lines);
  auto appended = tally::cli::AppendNdjson(in, lines.size(), codec, **ledger);
  if (!appended.ok()) return std::cerr << appended.status().ToString() << '\n', 1;
  auto exported = tally::ExportLog(**ledger, (dir / "export").string());
  if (!exported.ok()) return std::cerr << exported.status().ToString() << '\n', 1;
  Write(out / "export_reader_fuzz" / "records", '\0' + Read(dir / "export" / "records"));
  Write(out / "export_reader_fuzz" / "manifest", '\1' + Read(dir / "export" / "manifest.json"));
  auto writer = tally::internal::SegmentWriter::Create((dir / "segment").string(), "seed");
  if (!writer.ok()) return std::cerr << writer.status().ToString() << '\n', 1;
  auto status = (*ledger)->Scan(1, [&](const tally::LoggedEvent& record) {
    return (*writer)->Add(record.seq, tally::internal::EncodeRecord(record)).ok();
  });
  tally::internal::SegmentManifest manifest;
  if (status.ok()) status = (*writer)->Finish(&manifest);
  if (!status.ok()) return std::cerr << status.ToString() << '\n', 1;
  Write(out / "archive_reader_fuzz" / "segment",
        Read(tally::internal::SegmentPath((dir / "segment").string(), manifest.name)));
  ledger.value().reset();
  fs::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: fuzz_seeds DOCS_EVENTS_DIR OUT_DIR\n";
    return 2;
  }
  tally::EventCodec codec;
  std::string lines = SeedEvents(argv[1], argv[2], codec);
  return SeedReaders(lines, argv[2], codec);
}
