// Exports verify offline exactly as the live log does, and damage is named.
#include "ledger/export.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "tests/ledger/ledger_fixture.h"

namespace tally {
namespace {

using namespace testing;  // NOLINT: fixtures and builders

class ExportTest : public LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    Append({PaidTopUp("t1", "a", "100", "USD", "10.00", "0.83"), Usage("u1", "a", "30"),
            Submit("s1", "a", "k", "5"), Grant("g1", "b", "7")});
    ASSERT_TRUE(ledger_->Checkpoint(key_).ok());
    AppendOne(Usage("u2", "b", "1"));
    auto events = ExportLog(*ledger_, out_);
    ASSERT_TRUE(events.ok()) << events.status().ToString();
    ASSERT_EQ(*events, ledger_->head_seq());
  }

  std::string ReadRecords() {
    std::ifstream in(out_ + "/records", std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  void WriteRecords(const std::string& bytes) {
    std::ofstream(out_ + "/records", std::ios::binary | std::ios::trunc) << bytes;
  }

  CheckpointKey key_ = CheckpointKey::Generate();
  std::string out_ = dir_.path() + "-export";
};

TEST_F(ExportTest, AnExportVerifiesOfflineWithItsCheckpoints) {
  ExportReport report = VerifyExport(out_, &key_.public_key());
  EXPECT_TRUE(report.status.ok()) << report.status.ToString();
  EXPECT_EQ(report.events_checked, ledger_->head_seq());
  EXPECT_EQ(report.checkpoints, 1u);
  EXPECT_EQ(report.head_hash, ledger_->head_hash());
  std::filesystem::remove_all(out_);
}

TEST_F(ExportTest, AFlippedByteIsNamedBySeq) {
  std::string records = ReadRecords();
  records[records.size() / 2] ^= 0x01;
  WriteRecords(records);
  ExportReport report = VerifyExport(out_, nullptr);
  EXPECT_FALSE(report.status.ok());
  EXPECT_GT(report.first_bad_seq, 0u);
  EXPECT_NE(report.status.message().find("seq " + std::to_string(report.first_bad_seq)),
            std::string::npos)
      << report.status.ToString();
  std::filesystem::remove_all(out_);
}

TEST_F(ExportTest, ATruncatedExportFails) {
  std::string records = ReadRecords();
  WriteRecords(records.substr(0, records.size() - 10));
  EXPECT_FALSE(VerifyExport(out_, nullptr).status.ok());
  std::filesystem::remove_all(out_);
}

TEST_F(ExportTest, AnExportMissingItsLastEventsFailsAgainstTheManifest) {
  std::filesystem::remove_all(out_);
  auto events = ExportLog(*ledger_, out_);
  ASSERT_TRUE(events.ok());
  AppendOne(Usage("u3", "b", "1"));  // the manifest of a second export would differ
  std::string records = ReadRecords();
  // Drop the last frame (seq:u64 length:u32 record): the chain still holds,
  // but not up to the manifest's head.
  size_t last = 0;
  for (size_t pos = 0; pos < records.size();) {
    last = pos;
    size_t length = 0;
    for (int i = 0; i < 4; ++i) length = length << 8 | static_cast<uint8_t>(records[pos + 8 + i]);
    pos += 12 + length;
  }
  WriteRecords(records.substr(0, last));
  ExportReport report = VerifyExport(out_, nullptr);
  EXPECT_NE(report.status.message().find("not at the manifest's head"), std::string::npos)
      << report.status.ToString();
  std::filesystem::remove_all(out_);
}

TEST_F(ExportTest, ExportingOverAnExportIsRefused) {
  auto again = ExportLog(*ledger_, out_);
  EXPECT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("already holds an export"), std::string::npos);
  std::filesystem::remove_all(out_);
}

}  // namespace
}  // namespace tally
