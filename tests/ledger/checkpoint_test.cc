// Signed checkpoints: what they prove that the hash chain alone does not.
#include "ledger/checkpoint.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>

#include "ledger/internal/keys.h"
#include "ledger/internal/record.h"
#include "tests/ledger/ledger_fixture.h"

namespace tally {
namespace {

using namespace testing;  // NOLINT: fixtures and builders

class CheckpointTest : public LedgerFixture {
 protected:
  void Fill() { Append({Grant("g1", "a", "100"), Usage("u1", "a", "10"), Usage("u2", "a", "20")}); }

  // Rewrites history the way an attacker with raw access would: changes the
  // recorded_at of seq 2 and recomputes every later hash and the head, so
  // the chain is consistent again.
  void RewriteAndRechain() {
    ledger_.reset();
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir_.path(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    Hash previous{};
    uint64_t seq = 1;
    for (;; ++seq) {
      std::string value;
      auto status = db->Get(rocksdb::ReadOptions(), internal::EventKey(seq), &value);
      if (status.IsNotFound()) break;
      auto decoded = internal::DecodeRecord(seq, value);
      ASSERT_TRUE(decoded.ok());
      LoggedEvent record = *decoded;
      if (seq == 2) record.recorded_at_micros += 1;
      record.hash =
          internal::ChainHash(previous, seq, record.recorded_at_micros, record.event.bytes());
      previous = record.hash;
      ASSERT_TRUE(
          db->Put(rocksdb::WriteOptions(), internal::EventKey(seq), internal::EncodeRecord(record))
              .ok());
    }
    std::string head = internal::EncodeU64(seq - 1);
    head.append(reinterpret_cast<const char*>(previous.data()), previous.size());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), std::string(internal::kHeadKey), head).ok());
  }

  CheckpointKey key_ = CheckpointKey::Generate();
};

TEST_F(CheckpointTest, ACheckpointSignsTheHeadAndVerifiesWithThePublicKey) {
  Fill();
  Hash head = ledger_->head_hash();
  auto seq = ledger_->Checkpoint(key_);
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  LoggedEvent checkpoint_record = At(*seq);  // keep the record: readers point into it
  auto checkpoint = checkpoint_record.event.reader().getCheckpointSigned();
  EXPECT_EQ(checkpoint.getCheckpointSeq(), *seq - 1);
  EXPECT_TRUE(std::equal(head.begin(), head.end(), checkpoint.getHash().begin()));
  EXPECT_EQ(std::string(checkpoint.getKeyId().cStr()), key_.key_id());
  Fill();  // more events after the checkpoint; a second checkpoint
  ASSERT_TRUE(ledger_->Append({}).ok());
  ASSERT_TRUE(ledger_->Checkpoint(key_).ok());
  CheckpointReport report = VerifyCheckpoints(*ledger_, key_.public_key());
  EXPECT_TRUE(report.status.ok()) << report.status.ToString();
  EXPECT_EQ(report.checkpoints, 2u);
  EXPECT_TRUE(ledger_->Verify().status.ok());
  EXPECT_EQ(ledger_->Accounts(), std::vector<std::string>{"a"});  // "_ledger" is not listed
}

TEST_F(CheckpointTest, AnotherKeyDoesNotVerify) {
  Fill();
  auto seq = ledger_->Checkpoint(key_);
  CheckpointKey other = CheckpointKey::Generate();
  CheckpointReport report = VerifyCheckpoints(*ledger_, other.public_key());
  EXPECT_EQ(report.first_bad_seq, *seq);
  EXPECT_NE(report.status.message().find("signature does not verify"), std::string::npos);
}

TEST_F(CheckpointTest, ARewrittenAndRechainedHistoryPassesTheChainButNotTheCheckpoint) {
  Fill();
  auto seq = ledger_->Checkpoint(key_);
  ASSERT_TRUE(seq.ok());
  ASSERT_NO_FATAL_FAILURE(RewriteAndRechain());
  // The high-water mark holds the old head's hash: the rewritten log does not open...
  LedgerOptions options{dir_.path(), true};
  EXPECT_EQ(Ledger::Open(options, &clock_).status().code(), StatusCode::kCorruption);
  // ...unless the attacker, with write access to the directory, removes it too.
  std::filesystem::remove(std::filesystem::path(dir_.path()) / "high-water");
  Reopen();  // the chain is consistent: the ledger opens and Verify passes
  EXPECT_TRUE(ledger_->Verify().status.ok());
  CheckpointReport report = VerifyCheckpoints(*ledger_, key_.public_key());
  EXPECT_EQ(report.first_bad_seq, *seq);
  EXPECT_NE(report.status.message().find("does not match the chain"), std::string::npos)
      << report.status.ToString();
}

TEST_F(CheckpointTest, KeysSaveAndLoad) {
  std::string path = dir_.path() + "/op.key";
  ASSERT_TRUE(key_.Save(path).ok());
  auto loaded = CheckpointKey::Load(path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->public_key(), key_.public_key());
  auto public_key = LoadPublicKey(path + ".pub");
  ASSERT_TRUE(public_key.ok());
  EXPECT_EQ(*public_key, key_.public_key());
  EXPECT_FALSE(CheckpointKey::Load(path + ".pub").ok());  // wrong size: refused
}

}  // namespace
}  // namespace tally
