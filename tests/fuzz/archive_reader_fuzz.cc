// libFuzzer target: an archived segment file (docs/formats/archive.md) whose
// manifest's digest matches it, so that the reader gets past the digest to
// the Cap'n Proto records. Property: ReadSegment answers a Status naming the
// file, never crashes, and hands out only records that decoded in seq order.
#include <sodium.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "events/check.h"
#include "ledger/internal/segment.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir =
      (std::filesystem::temp_directory_path() / ("tally-fuzz-archive-" + std::to_string(getpid())))
          .string();
  TALLY_CHECK(sodium_init() >= 0);
  std::filesystem::create_directories(dir);
  tally::internal::SegmentManifest manifest;
  manifest.first_seq = 1;
  manifest.last_seq = 1000;
  manifest.name = tally::internal::SegmentName(manifest.first_seq, manifest.last_seq);
  {
    std::ofstream out(tally::internal::SegmentPath(dir, manifest.name),
                      std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    TALLY_CHECK(static_cast<bool>(out));
  }
  crypto_generichash(manifest.segment_blake2b.data(), manifest.segment_blake2b.size(), data, size,
                     nullptr, 0);
  uint64_t expected = manifest.first_seq;
  auto status = tally::internal::ReadSegment(dir, manifest, [&](const tally::LoggedEvent& record) {
    TALLY_CHECK(record.seq == expected);
    ++expected;
    return true;
  });
  (void)status;
  return 0;
}
