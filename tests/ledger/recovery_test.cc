// Recovery: a log that lost acknowledged events (the end of RocksDB's
// write-ahead log cut off, as a damaged disk or an older backup would) is
// refused, naming the lost seqs, instead of giving them to new events.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "events/limits.h"
#include "ledger/ledger.h"
#include "projections/store.h"
#include "tests/ledger/ledger_fixture.h"

namespace tally {
namespace {

namespace fs = std::filesystem;
using testing::Grant;
using testing::Usage;

// The newest write-ahead log file (NNNNNN.log) of the log store in `dir`.
fs::path NewestWal(const std::string& dir) {
  std::vector<fs::path> wals;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".log") wals.push_back(entry.path());
  }
  EXPECT_FALSE(wals.empty()) << "no .log file in " << dir;
  if (wals.empty()) return {};
  return *std::max_element(wals.begin(), wals.end());
}

void TruncateNewestWal(const std::string& dir, uintmax_t cut_bytes) {
  const fs::path wal = NewestWal(dir);
  ASSERT_FALSE(wal.empty());
  const uintmax_t size = fs::file_size(wal);
  ASSERT_GT(size, cut_bytes);
  fs::resize_file(wal, size - cut_bytes);
}

class RecoveryTest : public testing::LedgerFixture {
 protected:
  LedgerOptions Options() {
    LedgerOptions options{dir_.path(), true};
    options.master_key = master_key_;
    return options;
  }

  // Two appends, the ledger closed, then a few bytes cut off the WAL's end.
  // Returns the head acknowledged before the cut.
  uint64_t AppendTwiceAndCut() {
    Append({Grant("g1", "a", "100")});
    Append({Usage("u1", "a", "5"), Usage("u2", "a", "6")});
    const uint64_t acknowledged = ledger_->head_seq();
    projections_.reset();
    ledger_.reset();
    TruncateNewestWal(dir_.path(), 5);
    return acknowledged;
  }
};

TEST_F(RecoveryTest, ATruncatedWalIsRefusedNamingTheLostSeqs) {
  const uint64_t acknowledged = AppendTwiceAndCut();
  auto reading = Log::OpenForReading(dir_.path());
  ASSERT_TRUE(reading.ok()) << reading.status().ToString();
  const uint64_t head = (*reading)->head_seq();
  ASSERT_LT(head, acknowledged) << "the cut did not lose the last write";
  const std::string range =
      "seqs " + std::to_string(head + 1) + ".." + std::to_string(acknowledged) + " were";

  // Not for writing: the lost seqs are not given to new events.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto opened = Ledger::Open(Options(), &clock_);
    ASSERT_FALSE(opened.ok()) << "attempt " << attempt << ": opened at head "
                              << (*opened)->head_seq() << " after " << acknowledged
                              << " were acknowledged";
    EXPECT_EQ(opened.status().code(), StatusCode::kCorruption);
    EXPECT_NE(opened.status().message().find(range), std::string::npos)
        << opened.status().ToString();
    EXPECT_NE(opened.status().message().find("ends at seq " + std::to_string(head)),
              std::string::npos)
        << opened.status().ToString();
  }
  // Audit: the log's own records verify, its history does not.
  EXPECT_EQ((*reading)->CheckHistory().code(), StatusCode::kCorruption);
  VerifyReport report = (*reading)->Verify();
  EXPECT_EQ(report.status.code(), StatusCode::kCorruption) << report.status.ToString();
  EXPECT_EQ(report.first_bad_seq, head + 1);
  EXPECT_NE(report.status.message().find(range), std::string::npos) << report.status.ToString();
}

// Without the mark (a data directory from before it was kept, or one whose
// mark was deleted too), the projections that saw the lost seqs refuse, and
// do not advise the rebuild that would erase their record of them.
TEST_F(RecoveryTest, ProjectionsThatSawLostSeqsRefuseWithoutAdvisingRebuild) {
  Append({Grant("g1", "a", "100")});
  Append({Usage("u1", "a", "5"), Usage("u2", "a", "6")});
  const uint64_t acknowledged = ledger_->head_seq();
  {
    auto store = ProjectionStore::Open(*ledger_, dir_.path());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->CatchUp().ok());
  }
  ledger_.reset();
  TruncateNewestWal(dir_.path(), 5);
  fs::remove(fs::path(dir_.path()) / "high-water");
  auto log = Log::OpenForReading(dir_.path());
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  const uint64_t head = (*log)->head_seq();
  ASSERT_LT(head, acknowledged);
  auto store = ProjectionStore::Open(**log, dir_.path());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->ahead_of_log());
  const Status refused = (*store)->LostHistory();
  EXPECT_EQ(refused.code(), StatusCode::kCorruption);
  const std::string message = refused.message();
  EXPECT_NE(message.find("the log ends at seq " + std::to_string(head) +
                         " but the projections have seen seq " + std::to_string(acknowledged)),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("seqs " + std::to_string(head + 1) + ".." + std::to_string(acknowledged) +
                         " were lost"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("do not run `tally rebuild`"), std::string::npos) << message;
}

// Bytes in the live write-ahead log files (*.log) of the store in `dir`.
uintmax_t WalBytes(const std::string& dir) {
  uintmax_t bytes = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".log") bytes += fs::file_size(entry.path());
  }
  return bytes;
}

size_t TableFiles(const std::string& dir) {
  size_t tables = 0;
  for (const auto& entry : fs::directory_iterator(dir))
    tables += entry.path().extension() == ".sst";
  return tables;
}

// Closed cleanly after a large append, the log and the projection store
// leave less than limits::kFlushOnCloseBytesMin in their WALs, so a reader
// opening them read-only replays little; everything is still there. A small
// append is left in the WAL, without a new table file.
TEST_F(RecoveryTest, ACleanCloseLeavesLittleWalForReaders) {
  std::vector<std::string> grants;
  for (int i = 0; i < 12000; ++i) {
    grants.push_back(Grant("g" + std::to_string(i), "a" + std::to_string(i % 97), "1"));
  }
  Append(grants);
  const uint64_t head = ledger_->head_seq();
  const std::string projections = dir_.path() + "/projections";
  {
    auto store = ProjectionStore::Open(*ledger_, dir_.path());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->CatchUp().ok());
    ASSERT_GE(WalBytes(dir_.path()), limits::kFlushOnCloseBytesMin) << "too small to test";
    ASSERT_GE(WalBytes(projections), limits::kFlushOnCloseBytesMin) << "too small to test";
  }
  ledger_.reset();
  EXPECT_LT(WalBytes(dir_.path()), limits::kFlushOnCloseBytesMin);
  EXPECT_LT(WalBytes(projections), limits::kFlushOnCloseBytesMin);
  {
    auto log = Log::OpenForReading(dir_.path());
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    EXPECT_EQ((*log)->head_seq(), head);
    EXPECT_TRUE((*log)->CheckHistory().ok());
    auto store = ProjectionStore::Open(**log, dir_.path());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto checkpoint = (*store)->Checkpoint("balances");
    ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
    EXPECT_EQ(checkpoint->seq, head);
  }

  Reopen();
  const size_t tables = TableFiles(dir_.path());
  Append({Grant("small", "a", "1")});
  ledger_.reset();
  EXPECT_EQ(TableFiles(dir_.path()), tables);
  EXPECT_GT(WalBytes(dir_.path()), 0u);
  auto reopened = Log::OpenForReading(dir_.path());
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->head_seq(), head + 1);
}

// A crash between the log's write and the mark's leaves the mark behind the
// head: no loss, and the next open or append brings the mark up.
TEST_F(RecoveryTest, AMarkBehindTheHeadIsNoLoss) {
  Append({Grant("g1", "a", "100")});
  const uint64_t first = ledger_->head_seq();
  const fs::path mark = fs::path(dir_.path()) / "high-water";
  const fs::path saved = fs::path(dir_.path()) / "high-water.saved";
  ledger_.reset();
  fs::copy_file(mark, saved);
  Reopen();
  Append({Usage("u1", "a", "5")});
  ASSERT_GT(ledger_->head_seq(), first);
  ledger_.reset();
  fs::copy_file(saved, mark, fs::copy_options::overwrite_existing);
  Reopen();
  Append({Usage("u2", "a", "5")});
  EXPECT_EQ(ledger_->CheckHistory().code(), StatusCode::kOk);
}

// A mark from another ledger (same seq, other events) is refused too.
TEST_F(RecoveryTest, AnotherLogsMarkIsRefused) {
  testing::TempDir other;
  {
    LedgerOptions options{other.path(), true};
    auto ledger = Ledger::Open(options, &clock_);
    ASSERT_TRUE(ledger.ok());
    auto event = codec_.ParseJson(Grant("other", "z", "1"));
    ASSERT_TRUE(event.ok());
    ASSERT_TRUE((*ledger)->Append(std::vector<Event>{*event}).ok());
  }
  Append({Grant("g1", "a", "100")});
  ledger_.reset();
  fs::copy_file(fs::path(other.path()) / "high-water", fs::path(dir_.path()) / "high-water",
                fs::copy_options::overwrite_existing);
  auto opened = Ledger::Open(Options(), &clock_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kCorruption);
  EXPECT_NE(opened.status().message().find("differs from the event acknowledged"),
            std::string::npos)
      << opened.status().ToString();
}

}  // namespace
}  // namespace tally
