// libFuzzer target: a log export as an auditor receives it
// (docs/formats/export.md). The first byte picks which file the rest is:
// even, the `records` file beside a valid manifest; odd, `manifest.json`
// beside an empty records file. Property: VerifyExport answers a Status,
// never crashes, and never calls damaged input verified.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "events/check.h"
#include "ledger/export.h"

namespace {

void Write(const std::string& path, const char* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data, static_cast<std::streamsize>(size));
  TALLY_CHECK(static_cast<bool>(out));
}

constexpr char kManifest[] = R"({"format":"tally-export-1","first_seq":1,"last_seq":3,"events":3,)"
                             R"("head_hash":"00","records_blake2b":"00"})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir =
      (std::filesystem::temp_directory_path() / ("tally-fuzz-export-" + std::to_string(getpid())))
          .string();
  if (size == 0) return 0;
  std::filesystem::create_directories(dir);
  const char* rest = reinterpret_cast<const char*>(data + 1);
  if (data[0] % 2 == 0) {
    Write(dir + "/manifest.json", kManifest, sizeof(kManifest) - 1);
    Write(dir + "/records", rest, size - 1);
  } else {
    Write(dir + "/manifest.json", rest, size - 1);
    Write(dir + "/records", "", 0);
  }
  auto report = tally::VerifyExport(dir, nullptr);
  // The manifest's digest and head are placeholders: nothing here can verify
  // unless it is empty and the manifest says so.
  TALLY_CHECK(!report.status.ok() || report.events_checked == 0);
  return 0;
}
