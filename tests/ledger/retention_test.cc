// Retention (docs/retention.md) with the clock moved 7+ years: the policy
// file, the plan, archiving whole segments and purging them, and every
// check across the purge boundary and against the archive.
#include "ledger/retention.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>
#include <fstream>

#include "events/timestamp.h"
#include "ledger/archive.h"
#include "projections/store.h"
#include "tests/file_scan.h"
#include "tests/ledger/ledger_fixture.h"

namespace tally {
namespace {

using testing::FilesContaining;
using testing::kHour;
using testing::kStart;
using testing::TopUp;
using testing::Usage;

constexpr int64_t kDay = 24 * kHour;

Result<RetentionPolicy> PolicyOf(const std::string& dir, const std::string& json) {
  const std::string path = dir + "/retention.json";
  std::ofstream(path) << json;
  return RetentionPolicy::LoadFile(path);
}

TEST(RetentionPolicyTest, TheLongestMinimumWinsAndMistakesAreRefused) {
  testing::TempDir dir;
  auto policy = PolicyOf(dir.path(), R"({"default_years": 7, "rules": [
      {"category": "invoices", "years": 10, "basis": "DE: HGB 257"},
      {"category": "invoices", "years": 8, "basis": "FR"},
      {"category": "*", "years": 6, "basis": "UK: 6 years"},
      {"category": "usage", "years": 9}]})");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_EQ(policy->YearsFor("invoices"), 10);
  EXPECT_EQ(policy->YearsFor("usage"), 9);
  EXPECT_EQ(policy->YearsFor("payments"), 6);  // only "*" applies
  EXPECT_EQ(RetentionPolicy().YearsFor("payments"), 7);

  for (const std::string bad : {
           R"({"rules": [{"category": "invoice", "years": 10}]})",  // a typo
           R"({"rules": [{"category": "invoices", "years": 0}]})",
           R"({"rules": [{"category": "invoices", "years": 7.5}]})",
           R"({"rules": [{"category": "invoices", "years": 101}]})",
           R"({"rules": [{"category": "invoices"}]})",
           R"({"rules": [{"category": "invoices", "years": 7, "yeras": 1}]})",
           R"({"default_years": -1})",
           R"({"defaults": 7})",
           R"(not json)",
       }) {
    auto refused = PolicyOf(dir.path(), bad);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(refused.status().message().find("retention.json"), std::string::npos);
  }
  EXPECT_EQ(RetentionPolicy::LoadFile(dir.path() + "/absent.json").status().code(),
            StatusCode::kNotFound);
}

class RetentionTest : public testing::LedgerFixture {
 protected:
  std::string ArchivePath() const { return ArchiveDir(dir_.path()); }

  // Three accounts' worth of history at kStart: top-ups (invoiced), usage.
  void History() {
    Append({TopUp("t1", "acct-1", "100", "10.00"), Usage("u1", "acct-1", "30"),
            TopUp("t2", "acct-2", "50", "5.00")});
  }

  std::map<std::string, std::string> Balances() {
    std::map<std::string, std::string> out;
    for (const std::string& account : ledger_->Accounts()) {
      AccountView view = ledger_->Account(account);
      out[account] = view.available.ToString() + "/" + view.held.ToString() + "/" +
                     view.receivable.ToString() + "/" + std::to_string(view.version) + "/" +
                     std::to_string(view.lots.size());
    }
    return out;
  }

  std::vector<TrialBalanceLine> Trial() {
    auto lines = ledger_->TrialBalance();
    EXPECT_TRUE(lines.ok()) << lines.status().ToString();
    return lines.ok() ? *lines : std::vector<TrialBalanceLine>{};
  }
};

bool SameLines(const std::vector<TrialBalanceLine>& a, const std::vector<TrialBalanceLine>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].account != b[i].account || a[i].asset != b[i].asset || a[i].balance != b[i].balance)
      return false;
  }
  return true;
}

TEST_F(RetentionTest, NothingYoungerThanItsHorizonIsArchived) {
  History();
  const uint64_t head = ledger_->head_seq();
  const RetentionPolicy policy;
  clock_.Advance(6 * 366 * kDay);
  auto plan = PlanRetention(*ledger_, policy, clock_.NowMicros());
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->archivable_through, 0u);
  EXPECT_EQ(plan->next_seq, 1u);
  EXPECT_EQ(plan->next_horizon_micros, AddYears(kStart, 7));
  for (uint64_t through = 1; through <= head; ++through) {
    auto refused = ledger_->Archive(through, policy, ArchivePath());
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(refused.status().message().find("is kept until 2033-03-01T10:00:00Z"),
              std::string::npos)
        << refused.status().message();
  }
  EXPECT_EQ(ledger_->head_seq(), head);
  EXPECT_EQ(ledger_->first_seq(), 1u);
  auto segments = std::filesystem::exists(ArchivePath())
                      ? std::distance(std::filesystem::directory_iterator(ArchivePath()), {})
                      : 0;
  EXPECT_EQ(segments, 0);  // not even a temporary file
  // A longer horizon for invoices holds back the prefix that reaches one.
  clock_.Set(AddYears(kStart, 7) + kDay);
  auto longer = PolicyOf(dir_.path(), R"({"rules": [{"category": "invoices", "years": 10}]})");
  ASSERT_TRUE(longer.ok());
  plan = PlanRetention(*ledger_, *longer, clock_.NowMicros());
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->archivable_through, 1u);  // t1; seq 2 is its invoice
  EXPECT_EQ(plan->next_category, "invoices");
  EXPECT_FALSE(ledger_->Archive(2, *longer, ArchivePath()).ok());
  EXPECT_EQ(ledger_->first_seq(), 1u);
}

TEST_F(RetentionTest, ArchivedSegmentsLeaveTheLiveStoreAndEverythingStillReconciles) {
  History();
  const std::vector<TrialBalanceLine> trial_before = Trial();
  const auto balances_before = Balances();
  const uint64_t archived_through = ledger_->head_seq();
  Projections();  // caught up before the purge
  clock_.Set(AddYears(kStart, 7) + kDay);
  const RetentionPolicy policy;
  auto plan = PlanRetention(*ledger_, policy, clock_.NowMicros());
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->archivable_through, archived_through);
  auto archived = ledger_->Archive(archived_through, policy, ArchivePath());
  ASSERT_TRUE(archived.ok()) << archived.status().ToString();
  EXPECT_EQ(archived->first_seq, 1u);
  EXPECT_EQ(archived->receipt_seq, archived_through + 1);
  EXPECT_EQ(ledger_->first_seq(), archived_through + 1);

  // Gone from the live store's files, present in the archive.
  EXPECT_FALSE(FilesContaining(ArchivePath(), "pi_t1").empty());
  for (const std::string& file : FilesContaining(dir_.path(), "pi_t1")) {
    EXPECT_TRUE(file.starts_with("archive/") || file.starts_with("projections/")) << file;
  }
  // The same balances and trial balance, now and after reopening (replay
  // starts from the base); the chain verifies across the boundary.
  EXPECT_EQ(Balances(), balances_before);
  EXPECT_TRUE(SameLines(Trial(), trial_before));
  Reopen();
  EXPECT_EQ(ledger_->first_seq(), archived_through + 1);
  EXPECT_EQ(Balances(), balances_before);
  EXPECT_TRUE(SameLines(Trial(), trial_before));
  VerifyReport verified = ledger_->Verify();
  EXPECT_TRUE(verified.status.ok()) << verified.status.ToString();
  ArchiveReport against = VerifyArchive(*ledger_, ArchivePath());
  EXPECT_TRUE(against.status.ok()) << against.status.ToString();
  EXPECT_EQ(against.segments, 1u);
  EXPECT_EQ(against.events_checked, archived_through);

  // The ledger goes on from the base: the purged top-up's lot still pays,
  // a redelivered purged event is still a duplicate.
  EXPECT_EQ(AppendOne(Usage("u2", "acct-1", "20")).kind, AppendOutcome::Kind::kAppended);
  EXPECT_EQ(ledger_->Account("acct-1").available.ToString(), "50.000000");
  AppendOutcome again = AppendOne(TopUp("t1", "acct-1", "100", "10.00"));
  EXPECT_EQ(again.kind, AppendOutcome::Kind::kDuplicate);
  EXPECT_EQ(again.seq, 1u);

  // A second segment; both verify; projections rebuilt from the archive
  // equal the live ones.
  clock_.Set(AddYears(clock_.NowMicros(), 7) + kDay);
  const uint64_t second_through = ledger_->head_seq();
  Projections();
  auto second = ledger_->Archive(second_through, policy, ArchivePath());
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->first_seq, archived_through + 1);
  against = VerifyArchive(*ledger_, ArchivePath());
  EXPECT_TRUE(against.status.ok()) << against.status.ToString();
  EXPECT_EQ(against.segments, 2u);
  auto compared = VerifyProjections(Projections(), dir_.path() + "/scratch");
  ASSERT_TRUE(compared.ok()) << compared.status().ToString();
  EXPECT_EQ(compared->projection, "") << compared->detail;
  uint64_t scanned = 0;
  ASSERT_TRUE(ledger_
                  ->Scan(1,
                         [&](const LoggedEvent& e) {
                           EXPECT_EQ(e.seq, ++scanned);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(scanned, ledger_->head_seq());

  // Without the archive, live work goes on; reading purged seqs names it.
  std::filesystem::rename(ArchivePath(), dir_.path() + "/elsewhere");
  Reopen();
  EXPECT_EQ(AppendOne(Usage("u3", "acct-1", "1")).kind, AppendOutcome::Kind::kAppended);
  Status missing = ledger_->Scan(1, [](const LoggedEvent&) { return true; });
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("restore the archive"), std::string::npos);
  EXPECT_EQ(VerifyArchive(*ledger_, ArchivePath()).status.code(), StatusCode::kNotFound);
}

TEST_F(RetentionTest, ADamagedArchiveOrBaseIsFound) {
  History();
  clock_.Set(AddYears(kStart, 7) + kDay);
  const RetentionPolicy policy;
  auto archived = ledger_->Archive(ledger_->head_seq(), policy, ArchivePath());
  ASSERT_TRUE(archived.ok()) << archived.status().ToString();
  const std::string segment = ArchivePath() + "/" + archived->name + ".capnp";
  std::string bytes;
  {
    std::ifstream in(segment, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::string damaged = bytes;
  damaged[damaged.size() / 2] ^= 0x01;
  std::ofstream(segment, std::ios::binary | std::ios::trunc) << damaged;
  ArchiveReport report = VerifyArchive(*ledger_, ArchivePath());
  EXPECT_EQ(report.status.code(), StatusCode::kCorruption);
  EXPECT_NE(report.status.message().find("does not match its manifest's digest"), std::string::npos)
      << report.status.message();
  std::ofstream(segment, std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_TRUE(VerifyArchive(*ledger_, ArchivePath()).status.ok());

  // Someone edits the stored base (a balance): the log no longer opens.
  ledger_.reset();
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir_.path(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string base;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), "Mbase", &base).ok());
    base[base.size() - 1] ^= 0x01;
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "Mbase", base).ok());
  }
  auto reopened = Ledger::Open({dir_.path(), true}, &clock_);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), StatusCode::kCorruption);
  EXPECT_NE(reopened.status().message().find("base"), std::string::npos)
      << reopened.status().message();
}

}  // namespace
}  // namespace tally
