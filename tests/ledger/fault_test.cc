// Fault injection: a disk that fills up, fails its syncs and renames, or
// loses its power, through a RocksDB FileSystem wired into the stores' options. Whatever
// fails: the caller gets a clear error Status (never an abort), no
// acknowledged event is lost, nothing is acknowledged that did not reach
// the disk, and the ledger opens and works again once the fault stops.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "ledger/keystore.h"
#include "ledger/ledger.h"
#include "projections/store.h"
#include "tests/ledger/fault_fs.h"
#include "tests/ledger/ledger_fixture.h"

namespace tally {
namespace {

using testing::FaultPlan;
using testing::Grant;
using testing::kStart;

constexpr int kEventsPerBatch = 5;
constexpr int kBatchesBefore = 3;  // acknowledged before the fault
constexpr int kBatchesDuring = 8;  // tried while it lasts

class FaultTest : public ::testing::Test {
 protected:
  Status Open(const std::string& dir) {
    ledger_.reset();
    LedgerOptions options{dir, true};
    options.env = env_.get();
    options.master_key = master_;
    auto ledger = Ledger::Open(options, &clock_);
    if (!ledger.ok()) return ledger.status();
    ledger_ = std::move(ledger).value();
    return Status::Ok();
  }

  std::vector<Event> Batch(int batch) {
    std::vector<Event> events;
    for (int i = 0; i < kEventsPerBatch; ++i) {
      const std::string id = "b" + std::to_string(batch) + "-" + std::to_string(i);
      // With a master key, every third batch opens an account with personal
      // data: a new subject, so a new data key in the key store.
      auto event = codec_.ParseJson(
          master_ && batch % 3 == 0 && i == 0
              ? testing::JsonEvent(id, Person(batch), "account_opened",
                                   R"({"email":{"plaintext":"p@example.test"},"country":"DE"})")
              : Grant(id, "acct-" + std::to_string(i % 3), "10"));
      TALLY_CHECK(event.ok());
      events.push_back(*event);
    }
    return events;
  }

  // Appends batch `batch`; records its acknowledgements. Returns the status.
  Status AppendBatch(int batch) {
    auto events = Batch(batch);
    auto outcomes = ledger_->Append(events);
    if (!outcomes.ok()) return outcomes.status();
    for (size_t i = 0; i < events.size(); ++i) {
      EXPECT_NE((*outcomes)[i].kind, AppendOutcome::Kind::kRejected) << (*outcomes)[i].reason;
      const std::string id(events[i].reader().getId().cStr());
      auto [it, added] = acked_.emplace(id, (*outcomes)[i].seq);
      EXPECT_EQ(it->second, (*outcomes)[i].seq) << id << " moved";
    }
    return Status::Ok();
  }

  // Every acknowledged id is in the log at its seq; the log verifies.
  void ExpectAcknowledgedKept() {
    std::map<std::string, uint64_t> found;
    ASSERT_TRUE(ledger_
                    ->Scan(1,
                           [&](const LoggedEvent& event) {
                             found[event.event.reader().getId().cStr()] = event.seq;
                             return true;
                           })
                    .ok());
    for (const auto& [id, seq] : acked_) {
      auto it = found.find(id);
      ASSERT_NE(it, found.end()) << id << " was acknowledged at seq " << seq << " and is lost";
      EXPECT_EQ(it->second, seq) << id;
    }
    VerifyReport report = ledger_->Verify();
    EXPECT_TRUE(report.status.ok()) << report.status.ToString();
  }

  static std::string Person(int batch) { return "person-" + std::to_string(batch); }

  testing::TempDir dir_;
  std::optional<MasterKey> master_;  // set for personal data
  FaultPlan plan_;
  std::unique_ptr<rocksdb::Env> env_ = testing::NewFaultyEnv(&plan_);
  ManualClock clock_{kStart};
  EventCodec codec_;
  std::unique_ptr<Ledger> ledger_;
  std::map<std::string, uint64_t> acked_;  // id -> seq
};

// The disk fills up after `point` more writes succeed, for every point up
// to a few group commits in.
TEST_F(FaultTest, ADiskFullAppendIsAnErrorAndTheLedgerWorksOnceSpaceIsFreed) {
  for (int point : {0, 1, 2, 3, 4, 5, 7}) {
    SCOPED_TRACE("disk full after " + std::to_string(point) + " more writes");
    const std::string dir = dir_.path() + "/point-" + std::to_string(point);
    acked_.clear();
    ASSERT_TRUE(Open(dir).ok());
    for (int batch = 0; batch < kBatchesBefore; ++batch) ASSERT_TRUE(AppendBatch(batch).ok());
    plan_.Inject(testing::kDiskFull, point);
    std::vector<int> failed;
    for (int batch = kBatchesBefore; batch < kBatchesBefore + kBatchesDuring; ++batch) {
      Status status = AppendBatch(batch);
      if (status.ok()) continue;
      failed.push_back(batch);
      EXPECT_EQ(status.code(), StatusCode::kIoError) << status.ToString();
      EXPECT_TRUE(status.retryable()) << status.ToString();
    }
    EXPECT_FALSE(failed.empty()) << "no append failed";
    ledger_.reset();  // closing a store that saw the fault must not abort
    plan_.Clear();
    Status reopened = Open(dir);
    ASSERT_TRUE(reopened.ok()) << reopened.ToString();
    ExpectAcknowledgedKept();
    for (int batch : failed) ASSERT_TRUE(AppendBatch(batch).ok());
    ASSERT_TRUE(AppendBatch(100).ok());
    ExpectAcknowledgedKept();
  }
}

// While the disk is full the ledger does not even open (RocksDB writes on
// open): an error, not an abort; then it opens.
TEST_F(FaultTest, OpeningOnAFullDiskIsAnError) {
  ASSERT_TRUE(Open(dir_.path()).ok());
  ASSERT_TRUE(AppendBatch(0).ok());
  ledger_.reset();
  // Writes alone fail as on a full disk that still makes empty files (tmpfs).
  for (unsigned kinds : {unsigned{testing::kFailWrites}, unsigned{testing::kDiskFull},
                         unsigned{testing::kFailRenames}, unsigned{testing::kFailSyncs}}) {
    SCOPED_TRACE("fault kinds " + std::to_string(kinds));
    plan_.Inject(kinds);
    Status opened = Open(dir_.path());
    EXPECT_EQ(opened.code(), StatusCode::kIoError) << opened.ToString();
    ledger_.reset();
    plan_.Clear();
  }
  ASSERT_TRUE(Open(dir_.path()).ok());
  ExpectAcknowledgedKept();
  ASSERT_TRUE(AppendBatch(1).ok());
}

// A write whose sync fails is not acknowledged, whichever file's sync it is
// (the write-ahead log's, or the high-water mark's after it); a retry of
// the batch after the fault acknowledges it once, at one seq.
TEST_F(FaultTest, AWriteWhoseSyncFailsIsNotAcknowledged) {
  for (const char* file : {".log", "high-water"}) {
    SCOPED_TRACE(file);
    const std::string dir = dir_.path() + "/" + (file[0] == '.' ? "wal" : "mark");
    acked_.clear();
    ASSERT_TRUE(Open(dir).ok());
    ASSERT_TRUE(AppendBatch(0).ok());
    plan_.Inject(testing::kFailSyncs, 0, file);
    Status status = AppendBatch(1);
    EXPECT_EQ(status.code(), StatusCode::kIoError) << status.ToString();
    EXPECT_GT(plan_.failures(), 0);
    plan_.Clear();
    ledger_.reset();
    ASSERT_TRUE(Open(dir).ok());
    ExpectAcknowledgedKept();
    ASSERT_TRUE(AppendBatch(1).ok());
    ExpectAcknowledgedKept();
  }
}

// The power is cut at a random change to the disk: while the ledger opens
// (RocksDB recovers its WAL into tables, writes a new manifest) or while it
// appends (a WAL write, its sync, the high-water mark's write and sync).
// Then the disk holds only what was synced, and every other round also a
// random part of what was not (a torn write). The ledger must reopen with
// every acknowledged event at its seq, verify, and take the interrupted
// batch again exactly once.
TEST_F(FaultTest, NoAcknowledgedEventIsLostToAPowerCut) {
  constexpr int kRounds = 80;
  // A reopen makes ~30 changes to the disk, a batch 4 (not counting the
  // diagnostic LOG): ~1 cut in 7 lands in an open.
  constexpr int kOpsBeforeCutMax = 200;
  constexpr int kBatchesPerRoundMax = 1000;
  master_.emplace();
  master_->bytes.fill(0x42);
  std::mt19937_64 rng(20261202);
  int batch = 0;
  int cuts_in_open = 0;
  int cuts_in_append = 0;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round) + ", batch " + std::to_string(batch));
    plan_.CutPowerAfter(static_cast<int>(rng() % kOpsBeforeCutMax));
    if (Status opened = Open(dir_.path()); !opened.ok()) {
      ++cuts_in_open;
      EXPECT_EQ(opened.code(), StatusCode::kIoError) << opened.ToString();
    } else {
      ++cuts_in_append;
      Status appended;
      for (int tries = 0; tries < kBatchesPerRoundMax && appended.ok(); ++tries) {
        appended = AppendBatch(batch);
        if (appended.ok()) ++batch;
      }
      ASSERT_TRUE(plan_.power_off()) << "an append failed with the power on: "
                                     << appended.ToString();
    }
    ledger_.reset();
    plan_.Reboot(rng, /*tear=*/round % 2 == 1);
    Status reopened = Open(dir_.path());
    ASSERT_TRUE(reopened.ok()) << reopened.ToString();
    ASSERT_NO_FATAL_FAILURE(ExpectAcknowledgedKept());
  }
  ASSERT_TRUE(AppendBatch(batch).ok());  // the batch the last cut interrupted
  ExpectAcknowledgedKept();
  EXPECT_GT(cuts_in_open, 0);
  EXPECT_GT(cuts_in_append, 0);
  // The key of every acknowledged personal event survived with it.
  ledger_.reset();
  auto keys = KeyStore::OpenForReading(KeyStoreDir(dir_.path()), *master_);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  int people = 0;
  for (int opened = 0; opened < batch; opened += 3) {
    if (!acked_.contains("b" + std::to_string(opened) + "-0")) continue;
    ++people;
    auto key = (*keys)->Find(Person(opened), KeyPurpose::kProfile);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_TRUE(key->has_value()) << Person(opened) << "'s key was lost";
  }
  EXPECT_GT(people, 0);
  std::cout << "[ power    ] " << kRounds << " cuts: " << cuts_in_open << " while opening, "
            << cuts_in_append << " while appending; " << acked_.size()
            << " events acknowledged, none lost\n";
}

// `tally balance` writes the projections' catch-up: a full disk there is an
// error too, and the next catch-up completes.
TEST_F(FaultTest, ADiskFullCatchUpIsAnErrorAndCompletesLater) {
  ASSERT_TRUE(Open(dir_.path()).ok());
  for (int batch = 0; batch < 20; ++batch) ASSERT_TRUE(AppendBatch(batch).ok());
  ProjectionOptions options;
  options.env = env_.get();
  for (int point : {0, 1, 3}) {
    SCOPED_TRACE("disk full after " + std::to_string(point) + " more writes");
    const std::string store_dir = dir_.path() + "/projections-" + std::to_string(point);
    options.dir = store_dir;
    {
      auto store = ProjectionStore::Open(*ledger_, dir_.path(), options);
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      plan_.Inject(testing::kDiskFull, point, store_dir);
      auto caught_up = (*store)->CatchUp();
      if (!caught_up.ok()) {
        EXPECT_EQ(caught_up.status().code(), StatusCode::kIoError) << caught_up.status().ToString();
      }
    }  // closed while the disk is full
    plan_.Clear();
    auto store = ProjectionStore::Open(*ledger_, dir_.path(), options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->CatchUp().ok());
    for (const Projection* projection : AllProjections()) {
      auto checkpoint = (*store)->Checkpoint(projection->name());
      ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
      EXPECT_EQ(checkpoint->seq, ledger_->head_seq()) << projection->name();
    }
  }
}

}  // namespace
}  // namespace tally
