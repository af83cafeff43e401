// Archived segment files that once broke the reader (found by
// archive_reader_fuzz, kept in tests/fuzz/regressions): each is damage the
// reader names as Corruption, with nothing leaked (the sanitizer build runs
// this with leak detection) and no record handed out of seq order.
#include "ledger/internal/segment.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "tests/temp_dir.h"

namespace tally::internal {
namespace {

namespace fs = std::filesystem;

TEST(SegmentReaderTest, DamagedSegmentsFoundByFuzzingAreCorruptionNotCrashes) {
  ASSERT_GE(sodium_init(), 0);
  const fs::path regressions =
      fs::path(TALLY_SOURCE_DIR) / "tests/fuzz/regressions/archive_reader_fuzz";
  int files = 0;
  for (const auto& entry : fs::directory_iterator(regressions)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    testing::TempDir dir;
    SegmentManifest manifest;
    manifest.first_seq = 1;
    manifest.last_seq = 1000;
    manifest.name = SegmentName(manifest.first_seq, manifest.last_seq);
    std::ofstream(SegmentPath(dir.path(), manifest.name), std::ios::binary) << bytes;
    crypto_generichash(manifest.segment_blake2b.data(), manifest.segment_blake2b.size(),
                       reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), nullptr,
                       0);
    uint64_t expected = 1;
    auto status = ReadSegment(dir.path(), manifest, [&](const LoggedEvent& record) {
      EXPECT_EQ(record.seq, expected++);
      return true;
    });
    EXPECT_EQ(status.code(), StatusCode::kCorruption) << entry.path() << ": " << status.ToString();
    ++files;
  }
  EXPECT_GE(files, 1);
}

}  // namespace
}  // namespace tally::internal
