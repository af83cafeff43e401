// Retention (docs/retention.md) with the clock moved 7+ years: the policy
// file, the plan, archiving whole segments and purging them, and every
// check across the purge boundary and against the archive.
#include "ledger/retention.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "events/timestamp.h"
#include "ledger/archive.h"
#include "projections/store.h"
#include "tests/crash_support.h"
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
  // Present but unreadable is an error, never the default.
  std::filesystem::create_directory(dir.path() + "/unreadable.json");
  auto unreadable = RetentionPolicy::LoadFile(dir.path() + "/unreadable.json");
  ASSERT_FALSE(unreadable.ok());
  EXPECT_NE(unreadable.status().code(), StatusCode::kNotFound);
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
  clock_.Advance(int64_t{6} * 366 * kDay);
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

// A history imported from 2016: past the 7-year horizon by the real clock,
// so a real `tally retention apply` process archives it.
std::string Imported(const std::string& id, const std::string& account, int second,
                     const std::string& type, const std::string& data) {
  std::string line = testing::JsonEvent(id, account, type, data, R"("imported":true,)");
  const std::string from = "2026-03-01T10:00:00Z";
  char at[32];
  std::snprintf(at, sizeof(at), "2016-03-01T%02d:%02d:%02dZ", second / 3600, second / 60 % 60,
                second % 60);
  line.replace(line.find(from), from.size(), at);
  return line;
}

// Runs `tally ARGS`, kills it after `delay` (never if negative), reaps it.
int RunKilled(const std::vector<std::string>& args, std::chrono::microseconds delay) {
  std::vector<char*> argv;
  std::string binary = TALLY_BINARY;
  argv.push_back(binary.data());
  std::vector<std::string> copies = args;
  for (std::string& arg : copies) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  TALLY_CHECK(pid >= 0);
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  if (delay.count() >= 0) {
    std::this_thread::sleep_for(delay);
    kill(pid, SIGKILL);
  }
  int status = 0;
  TALLY_CHECK(waitpid(pid, &status, 0) == pid);
  return status;
}

// SIGKILL at random points of `tally retention apply`: afterwards the log
// is either as it was or completely archived and purged, never in between,
// and it verifies.
TEST(RetentionCrashTest, AnArchiveKilledAnywhereLeavesTheLogWholeOrArchived) {
  auto seed = testing::CrashSeed(20261121);
  ASSERT_TRUE(seed.has_value()) << "TALLY_CRASH_SEED is not a number";
  std::mt19937_64 random(*seed);
  testing::TempDir dir;
  const std::string prepared = dir.path() + "/prepared";
  std::map<std::string, std::string> balances;
  uint64_t through = 0;
  {
    ManualClock clock(kStart);
    auto ledger = std::move(Ledger::Open({prepared, true}, &clock)).value();
    EventCodec codec;
    std::vector<Event> events;
    for (int i = 0; i < 1500; ++i) {
      std::string account = "acct-" + std::to_string(i % 40);
      std::string n = std::to_string(i);
      events.push_back(*codec.ParseJson(
          Imported("t" + n, account, 2 * i, "top_up_settled",
                   R"({"provider":"stripe","reference":"pi_)" + n +
                       R"(","amount":{"currency":"USD","value":"1.00"},"credits":"10"})")));
      events.push_back(*codec.ParseJson(Imported("u" + n, account, 2 * i + 1, "usage_recorded",
                                                 R"({"usage_id":"u)" + n + R"(","credits":"3"})")));
    }
    auto outcomes = ledger->Append(events);
    ASSERT_TRUE(outcomes.ok());
    ASSERT_EQ((*outcomes)[0].kind, AppendOutcome::Kind::kAppended) << (*outcomes)[0].reason;
    through = ledger->head_seq() - 10;
    for (const std::string& account : ledger->Accounts()) {
      balances[account] = ledger->Account(account).available.ToString();
    }
  }
  auto apply = [&](const std::string& data) {
    return std::vector<std::string>{"retention", "apply",     "--data",
                                    data,        "--through", std::to_string(through)};
  };
  // How long a whole run takes here, so that kills land across it.
  int64_t full_micros = 0;
  {
    const std::string timed = dir.path() + "/timed";
    std::filesystem::copy(prepared, timed, std::filesystem::copy_options::recursive);
    auto started = std::chrono::steady_clock::now();
    int status = RunKilled(apply(timed), std::chrono::microseconds(-1));
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << testing::DescribeWaitStatus(status);
    full_micros = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  }
  int whole = 0;
  int archived = 0;
  constexpr int kCycles = 12;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    SCOPED_TRACE("cycle " + std::to_string(cycle) + ", TALLY_CRASH_SEED=" + std::to_string(*seed));
    const std::string data = dir.path() + "/cycle-" + std::to_string(cycle);
    std::filesystem::copy(prepared, data, std::filesystem::copy_options::recursive);
    // Half the kills spread over a whole run, half over its last fifth
    // (the segment, the purge's write and the compaction come last).
    const double u = std::uniform_real_distribution<double>(0, 1)(random);
    constexpr double kHalf = kCycles / 2.0;
    const double fraction =
        cycle < kHalf ? (cycle + u) / kHalf : 0.8 + 0.2 * (cycle - kHalf + u) / kHalf;
    const auto delay = std::chrono::microseconds(
        static_cast<int64_t>(static_cast<double>(full_micros) * fraction));
    int status = RunKilled(apply(data), delay);
    ASSERT_TRUE(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0))
        << testing::DescribeWaitStatus(status);
    ManualClock clock(kStart);
    auto opened = Ledger::Open({data, true}, &clock);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    auto ledger = std::move(opened).value();
    const uint64_t first = ledger->first_seq();
    ASSERT_TRUE(first == 1 || first == through + 1) << first;
    (first == 1 ? whole : archived) += 1;
    EXPECT_TRUE(ledger->Verify().status.ok());
    for (const auto& [account, available] : balances) {
      EXPECT_EQ(ledger->Account(account).available.ToString(), available) << account;
    }
    if (first > 1) {
      ArchiveReport report = VerifyArchive(*ledger, ArchiveDir(data));
      EXPECT_TRUE(report.status.ok()) << report.status.ToString();
    }
    ledger.reset();
    if (first == 1) {  // run again, it completes
      status = RunKilled(apply(data), std::chrono::microseconds(-1));
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
      auto again = std::move(Ledger::Open({data, true}, &clock)).value();
      EXPECT_EQ(again->first_seq(), through + 1);
      EXPECT_TRUE(VerifyArchive(*again, ArchiveDir(data)).status.ok());
    }
    std::filesystem::remove_all(data);
  }
  EXPECT_GT(whole + archived, 0);
  std::cout << "kills that left the log whole: " << whole << ", after the purge: " << archived
            << '\n';
}

}  // namespace
}  // namespace tally
