// Faults and bad input for the projection store (projections/store.h), on
// real RocksDB: damaged rows, checkpoints and snapshots are refused with
// Corruption that says what to rebuild (never a crash, never a wrong
// figure), a store built from another log is refused, Rebuild repairs all of
// these, and however catch-up is split or killed, the stored bytes end up
// equal to those of a store folded in one pass.
//
// The damage tests close the store and the ledger, change bytes through
// RocksDB directly (key layout at the top of projections/store.cc), and
// reopen. CrashDuringCatchUpTest forks children that catch up a store and
// SIGKILLs them; it is seeded (TALLY_CRASH_SEED) so that a run can be
// replayed, only the kill timing depends on the machine.
#include "projections/store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <rocksdb/db.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "events/big_endian.h"
#include "projections/balance.h"
#include "projections/reports.h"
#include "projections/statement.h"
#include "tests/crash_support.h"
#include "tests/ledger/ledger_fixture.h"

namespace tally {
namespace {

namespace fs = std::filesystem;
using namespace testing;  // NOLINT: fixtures and builders
using SteadyClock = std::chrono::steady_clock;
using std::chrono::microseconds;
using std::chrono::milliseconds;

// Projections that keep snapshots answer RowsAsOf.
const std::vector<std::string> kSnapshotted = {"trial_balance", "revenue", "subscriptions",
                                               "tasks"};

// Store keys (projections/store.cc): name 0x00 'r' row_key, name 0x00 'c', ...
std::string RowKey(const std::string& projection, const std::string& row) {
  return projection + '\0' + 'r' + row;
}
std::string CheckpointKey(const std::string& projection) { return projection + '\0' + 'c'; }
std::string MarkerKey(const std::string& projection, uint64_t seq) {
  return projection + '\0' + 'm' + EncodeU64(seq);
}
// The trial_balance row of a ledger account and asset.
std::string TrialBalanceRow(const std::string& account, const std::string& asset) {
  return RowKey("trial_balance", account + '\0' + asset);
}

// Passes for Corruption whose message names `projection`, says to run
// `tally rebuild` and holds `needle`.
::testing::AssertionResult IsRebuildAdvice(const Status& status, const std::string& projection,
                                           const std::string& needle = "") {
  if (status.code() != StatusCode::kCorruption) {
    return ::testing::AssertionFailure() << "not corruption: " << status.ToString();
  }
  for (const std::string& word : {projection, std::string("tally rebuild"), needle}) {
    if (status.message().find(word) == std::string::npos) {
      return ::testing::AssertionFailure() << "\"" << word << "\" not in: " << status.ToString();
    }
  }
  return ::testing::AssertionSuccess();
}

// A trial balance as "account asset balance" lines, or the error, to compare.
std::vector<std::string> TrialBalanceText(const ProjectionStore& store, const LogRange& range) {
  auto lines = ReadTrialBalance(store, range);
  if (!lines.ok()) return {"error: " + lines.status().ToString()};
  std::vector<std::string> text;
  for (const TrialBalanceLine& line : *lines) {
    text.push_back(line.account + " " + line.asset + " " + line.balance.str());
  }
  return text;
}

std::string BalanceText(const ProjectionStore& store, const std::string& account,
                        const LogRange& range = {}) {
  auto balance = ReadBalance(store, account, range);
  if (!balance.ok()) return "error: " + balance.status().ToString();
  return balance->available.ToString() + " " + balance->held.ToString() + " " +
         balance->receivable.ToString();
}

std::unique_ptr<rocksdb::DB> OpenRaw(const std::string& dir) {
  rocksdb::DB* raw = nullptr;
  auto status = rocksdb::DB::Open(rocksdb::Options(), dir, &raw);
  EXPECT_TRUE(status.ok()) << dir << ": " << status.ToString();
  return std::unique_ptr<rocksdb::DB>(raw);
}

// Opens `dir` with its own clock at kStart and appends each batch: two logs
// given the same batches are the same log, hash for hash.
std::unique_ptr<Ledger> BuildLog(const std::string& dir, ManualClock& clock,
                                 const std::vector<std::vector<std::string>>& batches) {
  auto ledger = Ledger::Open({dir, true}, &clock);
  EXPECT_TRUE(ledger.ok()) << ledger.status().ToString();
  if (!ledger.ok()) return nullptr;
  EventCodec codec;
  for (const auto& lines : batches) {
    std::vector<Event> events;
    for (const std::string& line : lines) events.push_back(*codec.ParseJson(line));
    auto outcomes = (*ledger)->Append(events);
    EXPECT_TRUE(outcomes.ok()) << outcomes.status().ToString();
  }
  return std::move(ledger).value();
}

class StoreTest : public LedgerFixture {
 protected:
  // A day of events for accounts a and b: payments with their invoices, a
  // grant, usage (b's ends in a receivable), a task and a refund.
  void AppendDay() {
    Append({PaidTopUp("t1", "a", "100", "USD", "10.00", "0.83"), Grant("g1", "b", "50")});
    clock_.Advance(kHour);
    Append({Usage("u1", "a", "30"), Submit("s1", "b", "k1", "20")});
    AppendOne(Succeed("d1", "b", "k1", "15"));
    clock_.Advance(kHour);
    Append({Usage("u2", "b", "60"), PaidTopUp("t2", "b", "40", "EUR", "4.00")});
    AppendOne(Refund("r1", "a", "t1", "USD", "1.00", "10"));
  }

  // Closes the store and the ledger (in that order), so that their RocksDB
  // can be opened directly.
  void CloseAll() {
    projections_.reset();
    ledger_.reset();
  }

  std::string StoreDir() const { return dir_.path() + "/projections"; }

  // Closes everything, lets `edit` change the store's RocksDB, then reopens
  // the ledger (not the store).
  void EditStore(const std::function<void(rocksdb::DB&)>& edit) {
    CloseAll();
    {
      auto db = OpenRaw(StoreDir());
      ASSERT_NE(db, nullptr);
      edit(*db);
      ASSERT_TRUE(db->Close().ok());
    }
    Reopen();
  }

  // Overwrites the value of an existing key of the store.
  void Overwrite(const std::string& key, const std::function<void(std::string&)>& change) {
    EditStore([&](rocksdb::DB& db) {
      std::string value;
      ASSERT_TRUE(db.Get(rocksdb::ReadOptions(), key, &value).ok()) << "no key " << key;
      change(value);
      ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), key, value).ok());
    });
  }

  // Opens the live store at <ledger dir>/projections without catching up.
  Status OpenLive(const ProjectionOptions& options = {}) {
    projections_.reset();
    auto store = ProjectionStore::Open(*ledger_, dir_.path(), options);
    if (!store.ok()) return store.status();
    projections_ = std::move(store).value();
    return Status::Ok();
  }
  ProjectionStore& live() { return *projections_; }

  // A store folded from seq 1 in one catch-up, in scratch space: what a
  // repaired store must equal.
  std::unique_ptr<ProjectionStore> FreshStore(
      uint64_t snapshot_every = limits::kSnapshotEveryEventsDefault) {
    ProjectionOptions options;
    options.dir = scratch_.path() + "/fresh-" + std::to_string(++stores_made_);
    options.snapshot_every_events = snapshot_every;
    auto store = ProjectionStore::Open(*ledger_, "", options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return nullptr;
    auto caught_up = (*store)->CatchUp();
    EXPECT_TRUE(caught_up.ok()) << caught_up.status().ToString();
    return std::move(store).value();
  }

  // The stored bytes of `store` (caught up) equal a fresh store's, and so do
  // the reports read from it.
  void ExpectSameAsFresh(const ProjectionStore& store) {
    auto fresh = FreshStore(store.snapshot_every_events());
    ASSERT_NE(fresh, nullptr);
    auto difference = store.CompareWith(*fresh);
    ASSERT_TRUE(difference.ok()) << difference.status().ToString();
    EXPECT_EQ(difference->projection, "") << difference->detail;
    EXPECT_EQ(TrialBalanceText(store, {}), TrialBalanceText(*fresh, {}));
    for (const char* account : {"a", "b"}) {
      EXPECT_EQ(BalanceText(store, account), BalanceText(*fresh, account)) << account;
    }
  }

  // Every projection's checkpoint is at `seq`.
  void ExpectAllAt(const ProjectionStore& store, uint64_t seq) {
    for (const Projection* projection : AllProjections()) {
      auto checkpoint = store.Checkpoint(projection->name());
      ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
      EXPECT_EQ(checkpoint->seq, seq) << projection->name();
    }
  }

  TempDir scratch_;
  int stores_made_ = 0;
};

// ---- Damaged rows and checkpoints -------------------------------------------

// A trial_balance row cut short is Corruption for reads and for catch-up,
// naming the projection; the failed catch-up moves no checkpoint, and
// rebuilding trial_balance gives the bytes and figures of a fresh store.
TEST_F(StoreTest, ATruncatedTrialBalanceRowIsCorruptionUntilRebuilt) {
  AppendDay();
  Projections();
  const uint64_t head = ledger_->head_seq();
  const std::string key = TrialBalanceRow("customer:a:available", "credits");
  ASSERT_NO_FATAL_FAILURE(Overwrite(key, [](std::string& value) { value.pop_back(); }));
  ASSERT_TRUE(OpenLive().ok());
  EXPECT_TRUE(IsRebuildAdvice(ReadTrialBalance(live(), {}).status(), "trial_balance",
                              "customer:a:available"));
  // The next event that moves the row cannot be folded onto it.
  AppendOne(Usage("u3", "a", "1"));
  auto caught_up = live().CatchUp();
  EXPECT_TRUE(IsRebuildAdvice(caught_up.status(), "trial_balance", "damaged row"));
  // The chunk is written whole or not at all: no projection moved.
  ExpectAllAt(live(), head);

  const std::vector<std::string> names = {"trial_balance"};
  ASSERT_TRUE(live().Rebuild(names).ok());
  auto rest = live().CatchUp();
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
  ExpectAllAt(live(), head + 1);
  ExpectSameAsFresh(live());
}

// A balances row whose digit is no longer a digit is Corruption for every
// balance read and for catch-up; rebuilding balances repairs it.
TEST_F(StoreTest, ABalancesRowWithABadDigitIsCorruptionUntilRebuilt) {
  AppendDay();
  Projections();
  ASSERT_NO_FATAL_FAILURE(Overwrite(RowKey("balances", "a"), [](std::string& value) {
    ASSERT_GE(value.size(), 2u);
    value[1] = 'x';  // value[0] is the first field's length, then its digits
  }));
  ASSERT_TRUE(OpenLive().ok());
  EXPECT_TRUE(IsRebuildAdvice(ReadBalance(live(), "a").status(), "balances a", "bad integer"));
  EXPECT_TRUE(IsRebuildAdvice(ReadAllBalances(live()).status(), "balances"));
  EXPECT_EQ(BalanceText(live(), "b").rfind("error", 0), std::string::npos) << "b is intact";
  AppendOne(Usage("u3", "a", "1"));
  EXPECT_TRUE(IsRebuildAdvice(live().CatchUp().status(), "balances a"));

  const std::vector<std::string> names = {"balances"};
  ASSERT_TRUE(live().Rebuild(names).ok());
  ASSERT_TRUE(live().CatchUp().ok());
  auto balance = ReadBalance(live(), "a");
  ASSERT_TRUE(balance.ok()) << balance.status().ToString();
  EXPECT_EQ(balance->available.ToString(), Available("a"));
  ExpectSameAsFresh(live());
}

// A row value replaced by bytes that are not a row at all (a length field
// running past the end, a varint that never ends) is Corruption, not a
// crash or a misread.
TEST_F(StoreTest, GarbageRowValuesAreCorruption) {
  AppendDay();
  Projections();
  const std::string key = TrialBalanceRow("customer:b:available", "credits");
  // Fields are a length byte, then the bytes (projections/internal/row_codec.h).
  auto field = [](const std::string& text) { return static_cast<char>(text.size()) + text; };
  const std::vector<std::string> garbage_values = {
      "",                            // no field
      std::string(1, '\x7f') + "1",  // a field longer than the row
      std::string(12, '\xff'),       // a length that never ends
      field("1") + field("2"),       // a field too many
      field("1.5"),                  // not an integer
  };
  for (const std::string& garbage : garbage_values) {
    SCOPED_TRACE("value of " + std::to_string(garbage.size()) + " byte(s)");
    ASSERT_NO_FATAL_FAILURE(Overwrite(key, [&](std::string& value) { value = garbage; }));
    ASSERT_TRUE(OpenLive().ok());
    EXPECT_TRUE(IsRebuildAdvice(ReadTrialBalance(live(), {}).status(), "trial_balance"));
  }
  const std::vector<std::string> names = {"trial_balance"};
  ASSERT_TRUE(live().Rebuild(names).ok());
  ExpectSameAsFresh(live());
}

// A checkpoint of the wrong size makes that projection, and only it,
// unusable (reads, catch-up) until it is rebuilt.
TEST_F(StoreTest, ACheckpointOfTheWrongSizeIsCorruptionUntilRebuilt) {
  AppendDay();
  Projections();
  const uint64_t head = ledger_->head_seq();
  // A checkpoint is seq:8 hash:32 recorded_at:8 = 48 bytes.
  for (size_t size : {size_t{0}, size_t{8}, size_t{47}, size_t{49}}) {
    SCOPED_TRACE("checkpoint of " + std::to_string(size) + " bytes");
    ASSERT_NO_FATAL_FAILURE(Overwrite(CheckpointKey("trial_balance"), [&](std::string& value) {
      ASSERT_EQ(value.size(), 48u);
      value.resize(size, '\x01');
    }));
    ASSERT_TRUE(OpenLive().ok());
    EXPECT_TRUE(IsRebuildAdvice(live().Checkpoint("trial_balance").status(), "trial_balance",
                                "damaged checkpoint; run `tally rebuild trial_balance`"));
    EXPECT_TRUE(IsRebuildAdvice(ReadTrialBalance(live(), {}).status(), "trial_balance"));
    EXPECT_TRUE(IsRebuildAdvice(live().CatchUp().status(), "trial_balance"));
    // The other projections still answer.
    auto balances = live().Checkpoint("balances");
    ASSERT_TRUE(balances.ok()) << balances.status().ToString();
    EXPECT_EQ(balances->seq, head);
    EXPECT_EQ(BalanceText(live(), "a").rfind("error", 0), std::string::npos);

    const std::vector<std::string> names = {"trial_balance"};
    ASSERT_TRUE(live().Rebuild(names).ok());
    ExpectAllAt(live(), head);
    ExpectSameAsFresh(live());
  }
}

// A checkpoint of the right size whose seq reads 0 (a checkpoint Commit
// never writes) is not taken for "nothing applied yet": folding the log
// again onto the rows already there would double every figure. (Until
// c843e5d it was: a's balance read 2 x 60 = 120 credits, without an error.)
TEST_F(StoreTest, ACheckpointWhoseSeqReadsZeroDoesNotFoldTheLogTwice) {
  AppendDay();
  Projections();
  const std::string expected = BalanceText(*projections_, "a");
  ASSERT_EQ(expected, Available("a") + " 0.000000 0.000000");
  ASSERT_NO_FATAL_FAILURE(Overwrite(CheckpointKey("balances"), [](std::string& value) {
    ASSERT_EQ(value.size(), 48u);
    value.replace(0, 8, EncodeU64(0));
  }));
  ASSERT_TRUE(OpenLive().ok());
  auto caught_up = live().CatchUp();
  if (caught_up.ok()) {
    EXPECT_EQ(BalanceText(live(), "a"), expected) << "caught up over the rows already there";
  } else {
    EXPECT_TRUE(IsRebuildAdvice(caught_up.status(), "balances")) << caught_up.status().ToString();
  }
  const std::vector<std::string> names = {"balances"};
  ASSERT_TRUE(live().Rebuild(names).ok());
  ASSERT_TRUE(live().CatchUp().ok());
  EXPECT_EQ(BalanceText(live(), "a"), expected);
  ExpectSameAsFresh(live());
}

// A projections path that is not a RocksDB directory is an error from
// Open, not a crash.
TEST_F(StoreTest, AProjectionsPathThatIsAFileIsAnOpenError) {
  AppendDay();
  std::ofstream(StoreDir()) << "not a database\n";
  auto store = ProjectionStore::Open(*ledger_, dir_.path());
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().code(), StatusCode::kOk);
  EXPECT_NE(store.status().message().find(StoreDir()), std::string::npos)
      << store.status().ToString();
}

// A snapshot row that does not decode makes the as-of reads that start from
// that snapshot Corruption; current reads do not touch it.
TEST_F(StoreTest, ADamagedSnapshotRowIsCorruptionForAsOfReads) {
  ProjectionOptions options;
  options.snapshot_every_events = 2;
  AppendDay();
  ASSERT_TRUE(OpenLive(options).ok());
  ASSERT_TRUE(live().CatchUp().ok());
  const uint64_t head = ledger_->head_seq();
  ASSERT_GE(head, 6u);
  const auto expected_now = TrialBalanceText(live(), {});
  // Damage every row of the snapshot after seq 4.
  ASSERT_NO_FATAL_FAILURE(EditStore([](rocksdb::DB& db) {
    const std::string prefix = std::string("trial_balance\0s", 15) + EncodeU64(4);
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator({}));
    int damaged = 0;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      // A 5-byte field with 2 bytes after it.
      ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), it->key(), std::string(1, '\x05') + "12").ok());
      ++damaged;
    }
    EXPECT_GT(damaged, 0) << "no snapshot at seq 4";
  }));
  ASSERT_TRUE(OpenLive(options).ok());
  EXPECT_TRUE(IsRebuildAdvice(ReadTrialBalance(live(), LogRange{5}).status(), "trial_balance"));
  EXPECT_EQ(TrialBalanceText(live(), {}), expected_now);
  const std::vector<std::string> names = {"trial_balance"};
  ASSERT_TRUE(live().Rebuild(names).ok());
  auto fresh = FreshStore(2);
  EXPECT_EQ(TrialBalanceText(live(), LogRange{5}), TrialBalanceText(*fresh, LogRange{5}));
  ExpectSameAsFresh(live());
}

// The format and settings keys are checked when the store opens.
TEST_F(StoreTest, ADamagedFormatOrSettingIsRefusedAtOpen) {
  AppendDay();
  Projections();
  ASSERT_NO_FATAL_FAILURE(
      Overwrite(std::string("\0format", 7), [](std::string& value) { value = EncodeU64(2); }));
  auto opened = ProjectionStore::Open(*ledger_, dir_.path());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kCorruption) << opened.status().ToString();
  EXPECT_NE(opened.status().message().find("unknown format"), std::string::npos);
  ASSERT_NO_FATAL_FAILURE(
      Overwrite(std::string("\0format", 7), [](std::string& value) { value = EncodeU64(1); }));
  ASSERT_NO_FATAL_FAILURE(
      Overwrite(std::string("\0snapshot_every", 15), [](std::string& value) { value = "\x01"; }));
  opened = ProjectionStore::Open(*ledger_, dir_.path());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kCorruption) << opened.status().ToString();
  EXPECT_NE(opened.status().message().find("damaged settings"), std::string::npos);
}

// The snapshot interval is fixed when the store is made: reopening with
// another one keeps the stored interval, so catch-up stays byte-equal.
TEST_F(StoreTest, TheSnapshotIntervalIsFixedWhenTheStoreIsMade) {
  ProjectionOptions options;
  options.snapshot_every_events = 3;
  ASSERT_TRUE(OpenLive(options).ok());
  AppendDay();
  ASSERT_TRUE(live().CatchUp().ok());
  options.snapshot_every_events = 5;
  ASSERT_TRUE(OpenLive(options).ok());
  EXPECT_EQ(live().snapshot_every_events(), 3u);
  AppendOne(Usage("u9", "a", "2"));
  ASSERT_TRUE(live().CatchUp().ok());
  ExpectSameAsFresh(live());
}

// Unknown projection names are bad input, not a crash or a silent no-op.
// What a read command sees of the store, as text.
std::string ReadAll(const ProjectionStore& store) {
  std::ostringstream out;
  const LogRange now;
  auto balances = ReadAllBalances(store, now);
  EXPECT_TRUE(balances.ok()) << balances.status().ToString();
  for (const AccountBalance& b : balances.ok() ? *balances : std::vector<AccountBalance>{}) {
    out << b.account << " " << b.available.ToString() << " " << b.held.ToString() << " "
        << b.receivable.ToString() << " " << b.version << "\n";
  }
  for (const std::string account : {"a", "b"}) {
    auto lines = ReadStatement(store, account, now);
    EXPECT_TRUE(lines.ok()) << lines.status().ToString();
    for (const StatementLine& l : lines.ok() ? *lines : std::vector<StatementLine>{}) {
      out << account << " " << l.seq << " " << l.type << " " << l.bucket << " "
          << l.change.ToString() << " " << l.available.ToString() << "\n";
    }
    auto invoices = ReadInvoices(store, account, now);
    EXPECT_TRUE(invoices.ok()) << invoices.status().ToString();
    for (const InvoiceRow& i : invoices.ok() ? *invoices : std::vector<InvoiceRow>{}) {
      out << i.number << " " << i.kind << " " << i.seq << "\n";
    }
  }
  auto trial = ReadTrialBalance(store, now);
  EXPECT_TRUE(trial.ok()) << trial.status().ToString();
  out << "trial balance lines " << (trial.ok() ? trial->size() : 0) << "\n";
  return out.str();
}

// A store another process writes (here: this one, which holds its lock) is
// read as a secondary: what it lacks up to the log's head is folded in
// memory, so a reader sees every event, and nothing is written.
TEST_F(StoreTest, AReaderBesideTheWriterSeesEveryEventAndWritesNothing) {
  Append({PaidTopUp("t1", "a", "100", "USD", "10.00", "0.83"), Grant("g1", "b", "50")});
  auto writer = ProjectionStore::Open(*ledger_, dir_.path());
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ASSERT_TRUE((*writer)->CatchUp().ok());
  const uint64_t written_seq = (*(*writer)->Checkpoint("balances")).seq;
  clock_.Advance(kHour);
  Append({Usage("u1", "a", "30"), Submit("s1", "b", "k1", "20")});
  AppendOne(Succeed("d1", "b", "k1", "15"));
  Append({Usage("u2", "b", "60"), PaidTopUp("t2", "b", "40", "EUR", "4.00")});
  AppendOne(Refund("r1", "a", "t1", "USD", "1.00", "10"));

  auto locked = ProjectionStore::Open(*ledger_, dir_.path());
  ASSERT_FALSE(locked.ok());
  EXPECT_EQ(locked.status().code(), StatusCode::kUnavailable) << locked.status().ToString();
  auto opened = ProjectionStore::OpenForReading(*ledger_, dir_.path());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<ProjectionStore> reader = std::move(opened).value();
  ASSERT_TRUE(reader->CatchUp().ok());
  EXPECT_EQ((*reader->Checkpoint("balances")).seq, ledger_->head_seq());
  const std::string read_beside = ReadAll(*reader);
  reader.reset();
  EXPECT_EQ((*(*writer)->Checkpoint("balances")).seq, written_seq);  // nothing written
  ASSERT_TRUE((*writer)->CatchUp().ok());
  EXPECT_EQ(read_beside, ReadAll(**writer));
  EXPECT_NE(read_beside.find("a 4"), std::string::npos) << read_beside;  // a's later lines
}

TEST_F(StoreTest, UnknownProjectionNamesAreInvalidArgument) {
  AppendDay();
  const ProjectionStore& store = Projections();
  EXPECT_EQ(store.Checkpoint("nosuch").status().code(), StatusCode::kInvalidArgument);
  const std::vector<std::string> names = {"balances", "nosuch"};
  Status rebuilt = projections_->Rebuild(names);
  EXPECT_EQ(rebuilt.code(), StatusCode::kInvalidArgument) << rebuilt.ToString();
  EXPECT_NE(rebuilt.message().find("nosuch"), std::string::npos);
  // Nothing was dropped before the name was refused.
  ExpectAllAt(store, ledger_->head_seq());
  ExpectSameAsFresh(store);
}

// ---- Stores from another log ----------------------------------------------

// A store copied from a log with other events is refused, every projection
// naming "another log", until all are rebuilt from this log.
TEST_F(StoreTest, AStoreBuiltFromAnotherLogIsRefusedUntilRebuilt) {
  const std::string other = scratch_.path() + "/other";
  {
    ManualClock clock(kStart);
    auto ledger = BuildLog(other, clock,
                           {{Grant("x1", "x", "70"), Usage("x2", "x", "5")},
                            {Usage("x3", "y", "1"), Grant("x4", "y", "3"), Usage("x5", "x", "9")}});
    ASSERT_NE(ledger, nullptr);
    auto store = ProjectionStore::Open(*ledger, other);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->CatchUp().ok());
  }
  AppendDay();  // more events than the other log: checkpoints fall inside this log
  ASSERT_GT(ledger_->head_seq(), 5u);
  fs::copy(other + "/projections", StoreDir(), fs::copy_options::recursive);
  ASSERT_TRUE(OpenLive().ok());
  for (const Projection* projection : AllProjections()) {
    EXPECT_TRUE(IsRebuildAdvice(live().Checkpoint(projection->name()).status(),
                                std::string(projection->name()), "another log"));
  }
  EXPECT_TRUE(IsRebuildAdvice(live().CatchUp().status(), "balances", "another log"));
  EXPECT_TRUE(IsRebuildAdvice(ReadTrialBalance(live(), {}).status(), "trial_balance"));
  EXPECT_TRUE(IsRebuildAdvice(ReadBalance(live(), "x").status(), "balances"));

  ASSERT_TRUE(live().Rebuild({}).ok());
  ExpectAllAt(live(), ledger_->head_seq());
  ExpectSameAsFresh(live());
  EXPECT_EQ(BalanceText(live(), "x"), "0.000000 0.000000 0.000000");
}

// The first three events of a ten-event log, and the store of the ten.
class SharedPrefixTest : public StoreTest {
 protected:
  static std::vector<std::vector<std::string>> Batches() {
    return {{Grant("p1", "a", "100")},
            {Usage("p2", "a", "10"), Grant("p3", "b", "5")},
            {Usage("p4", "b", "1"), Usage("p5", "a", "2")},
            {Grant("p6", "c", "9"), Usage("p7", "c", "3"), Usage("p8", "a", "4")},
            {Usage("p9", "b", "7"), Usage("p10", "a", "1")}};
  }
  static constexpr size_t kShortBatches = 2;  // 3 events
};

// A store whose checkpoints are past the end of the log (the same log, cut
// short: a restore of an older backup, a truncated write-ahead log) is the
// last record of the lost events: it is refused whole, naming the lost
// seqs, and does not advise the rebuild that would erase it. Once the
// operator has given up those events and removed the store, a new one is
// built from the log.
TEST_F(SharedPrefixTest, AStoreAheadOfTheLogIsRefusedNamingTheLostSeqs) {
  const std::string longer = scratch_.path() + "/longer";
  {
    ManualClock clock(kStart);
    auto ledger = BuildLog(longer, clock, Batches());
    ASSERT_NE(ledger, nullptr);
    ASSERT_EQ(ledger->head_seq(), 10u);
    auto store = ProjectionStore::Open(*ledger, longer);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->CatchUp().ok());
  }
  const auto batches = Batches();
  for (size_t i = 0; i < kShortBatches; ++i) Append(batches[i]);
  ASSERT_EQ(ledger_->head_seq(), 3u);
  fs::copy(longer + "/projections", StoreDir(), fs::copy_options::recursive);
  ASSERT_TRUE(OpenLive().ok());
  // The ledger owns the log: no other process can have appended, so a
  // store ahead of it means lost seqs, never a reader's race.
  ASSERT_TRUE(live().ahead_of_log());
  Status refused = live().LostHistory();
  EXPECT_EQ(refused.code(), StatusCode::kCorruption) << refused.ToString();
  EXPECT_NE(live().Checkpoint("balances").status().message().find("seqs 4..10 were lost"),
            std::string::npos);
  EXPECT_NE(refused.message().find(
                "the log ends at seq 3 but the projections have seen seq 10 (projection "),
            std::string::npos)
      << refused.ToString();
  EXPECT_NE(refused.message().find("seqs 4..10 were lost"), std::string::npos)
      << refused.ToString();
  EXPECT_NE(refused.message().find("do not run `tally rebuild`"), std::string::npos)
      << refused.ToString();

  fs::remove_all(StoreDir());
  ASSERT_TRUE(OpenLive().ok());
  ASSERT_TRUE(live().CatchUp().ok());
  ExpectAllAt(live(), 3);
  EXPECT_EQ(BalanceText(live(), "a"), "90.000000 0.000000 0.000000");
}

// The other way round is no fault: the store of the first three events
// catches up on the ten-event log (same events, same times, same hashes).
// This is what makes the two refusals above mean something.
TEST_F(SharedPrefixTest, AStoreOfAPrefixCatchesUpOnTheLongerLog) {
  const std::string shorter = scratch_.path() + "/shorter";
  const auto batches = Batches();
  {
    ManualClock clock(kStart);
    auto ledger = BuildLog(shorter, clock, {batches.begin(), batches.begin() + kShortBatches});
    ASSERT_NE(ledger, nullptr);
    auto store = ProjectionStore::Open(*ledger, shorter);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->CatchUp().ok());
  }
  for (const auto& batch : batches) Append(batch);
  fs::copy(shorter + "/projections", StoreDir(), fs::copy_options::recursive);
  ASSERT_TRUE(OpenLive().ok());
  ExpectAllAt(live(), 3);
  auto caught_up = live().CatchUp();
  ASSERT_TRUE(caught_up.ok()) << caught_up.status().ToString();
  EXPECT_EQ(*caught_up, 7u);
  ExpectSameAsFresh(live());
}

// ---- Catch-up splits and as-of reads ----------------------------------------

// Catching up after every small append, with snapshots every 3 events,
// stores the same bytes (rows, snapshots, checkpoints) as one catch-up.
TEST_F(StoreTest, CatchUpAfterEverySmallAppendStoresTheBytesOfOneCatchUp) {
  ProjectionOptions options;
  options.snapshot_every_events = 3;
  ASSERT_TRUE(OpenLive(options).ok());
  std::mt19937_64 rng(20260301);
  int task = 0;
  for (int i = 0; i < 40; ++i) {
    const std::string id = std::to_string(i);
    const std::string account = "acct-" + std::to_string(rng() % 4);
    switch (rng() % 5) {
      case 0: AppendOne(Grant("g" + id, account, std::to_string(1 + rng() % 90))); break;
      case 1: AppendOne(PaidTopUp("t" + id, account, "25", "USD", "2.50")); break;
      case 2:
        Append({Submit("s" + id, account, "k" + std::to_string(++task), "6"),
                Succeed("d" + id, account, "k" + std::to_string(task), "4")});
        break;
      default: AppendOne(Usage("u" + id, account, std::to_string(1 + rng() % 20))); break;
    }
    if (i % 7 == 3) clock_.Advance(kHour);
    auto caught_up = live().CatchUp();
    ASSERT_TRUE(caught_up.ok()) << caught_up.status().ToString();
    EXPECT_GE(*caught_up, 1u);
  }
  auto once = FreshStore(3);
  ASSERT_NE(once, nullptr);
  auto difference = live().CompareWith(*once);
  ASSERT_TRUE(difference.ok()) << difference.status().ToString();
  EXPECT_EQ(difference->projection, "") << difference->detail;
  // Snapshots were made (and so compared): one marker per 3 seqs.
  int markers = 0;
  ASSERT_TRUE(live()
                  .ScanStored("trial_balance",
                              [&](std::string_view key, std::string_view) {
                                markers += key.size() == 15 + 8 && key[14] == 'm';
                              })
                  .ok());
  EXPECT_EQ(markers, static_cast<int>(ledger_->head_seq() / 3));
  // CompareWith sees snapshot bytes: another interval is another store.
  auto other = FreshStore(4);
  auto differs = live().CompareWith(*other);
  ASSERT_TRUE(differs.ok());
  EXPECT_EQ(differs->projection, "trial_balance") << differs->detail;
}

// As-of reads that start from a snapshot equal those that fold the log from
// seq 1 (a store that never snapshots), at every seq and every instant.
TEST_F(StoreTest, AsOfReadsFromSnapshotsEqualFoldingFromTheStart) {
  AppendDay();
  for (int i = 0; i < 12; ++i) {
    clock_.Advance(kHour);
    const std::string id = std::to_string(i);
    Append({Usage("v" + id, "a", "1.5"), Grant("h" + id, "c", "3")});
  }
  auto snapshots = FreshStore(4);
  auto folds = FreshStore(limits::kSnapshotEveryEventsMax);
  ASSERT_NE(snapshots, nullptr);
  ASSERT_NE(folds, nullptr);
  const uint64_t head = ledger_->head_seq();
  for (uint64_t seq = 0; seq <= head + 1; ++seq) {
    SCOPED_TRACE("at seq " + std::to_string(seq));
    for (const std::string& name : kSnapshotted) {
      auto a = snapshots->RowsAsOf(name, LogRange{seq});
      auto b = folds->RowsAsOf(name, LogRange{seq});
      ASSERT_TRUE(a.ok() && b.ok()) << a.status().ToString() << b.status().ToString();
      EXPECT_EQ(*a, *b) << name;
    }
  }
  for (int64_t at = kStart - kHour; at <= clock_.NowMicros() + kHour; at += kHour / 2) {
    LogRange range;
    range.as_of_micros = at;
    EXPECT_EQ(TrialBalanceText(*snapshots, range), TrialBalanceText(*folds, range)) << at;
  }
}

// A range before the first event is empty; a seq past the head reads the
// head.
TEST_F(StoreTest, RangesBeforeTheFirstEventAreEmptyAndPastTheHeadAreTheHead) {
  ProjectionOptions options;
  options.snapshot_every_events = 2;
  ASSERT_TRUE(OpenLive(options).ok());
  AppendDay();
  ASSERT_TRUE(live().CatchUp().ok());
  const uint64_t head = ledger_->head_seq();
  LogRange before_first;
  before_first.as_of_micros = kStart - 1;
  for (const LogRange& range : {LogRange{0}, before_first}) {
    for (const std::string& name : kSnapshotted) {
      auto rows = live().RowsAsOf(name, range);
      ASSERT_TRUE(rows.ok()) << name << ": " << rows.status().ToString();
      EXPECT_TRUE(rows->empty()) << name << " has " << rows->size() << " row(s)";
    }
    EXPECT_EQ(TrialBalanceText(live(), range), std::vector<std::string>{});
    EXPECT_EQ(BalanceText(live(), "a", range), "0.000000 0.000000 0.000000");
  }
  const auto now = TrialBalanceText(live(), {});
  ASSERT_FALSE(now.empty());
  for (uint64_t seq : {head, head + 1, head + 1000, std::numeric_limits<uint64_t>::max() - 1}) {
    SCOPED_TRACE("at seq " + std::to_string(seq));
    EXPECT_EQ(TrialBalanceText(live(), LogRange{seq}), now);
    for (const std::string& name : kSnapshotted) {
      auto at = live().RowsAsOf(name, LogRange{seq});
      auto current = live().RowsAsOf(name, LogRange{});
      ASSERT_TRUE(at.ok() && current.ok());
      EXPECT_EQ(*at, *current) << name;
    }
    EXPECT_EQ(BalanceText(live(), "b", LogRange{seq}), BalanceText(live(), "b"));
  }
}

// ---- Reads that must not crash ---------------------------------------------

struct IsolatedRead {
  std::string crash;  // how the child ended, if not normally
  StatusCode code = StatusCode::kOk;
  std::string message;
};

// Runs `read` in a forked child, so that a failed TALLY_CHECK or a segfault
// is reported here instead of ending the test binary. The parent must have
// closed the RocksDB that `read` opens.
IsolatedRead RunIsolated(const std::function<Status()>& body) {
  int fds[2];
  TALLY_CHECK(pipe2(fds, O_CLOEXEC) == 0);
  const pid_t pid = fork();
  TALLY_CHECK(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    Status status = body();
    std::string line = std::to_string(static_cast<int>(status.code())) + "\n" + status.message();
    [[maybe_unused]] ssize_t ignored = write(fds[1], line.data(), line.size());
    _exit(0);
  }
  close(fds[1]);
  std::string output;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof(buffer))) != 0;) {
    if (n > 0) output.append(buffer, static_cast<size_t>(n));
    if (n < 0 && errno != EINTR) break;
  }
  close(fds[0]);
  int status = 0;
  TALLY_CHECK(waitpid(pid, &status, 0) == pid);
  IsolatedRead result;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    result.crash = testing::DescribeWaitStatus(status);
    return result;
  }
  size_t newline = output.find('\n');
  result.code = static_cast<StatusCode>(std::atoi(output.substr(0, newline).c_str()));
  result.message = newline == std::string::npos ? "" : output.substr(newline + 1);
  return result;
}

// A damaged snapshot marker (name 0x00 'm' seq:u64be -> recorded_at:u64be)
// makes the as-of reads that meet it Corruption, like every other damaged
// byte: a value cut short, or a key whose seq is cut short. The reads run
// in a child process, so that a crash fails this test instead of ending
// the test binary. (Until c843e5d the read aborted: ReadU64 TALLY_CHECKs
// that it has 8 bytes.)
TEST_F(StoreTest, ADamagedSnapshotMarkerIsCorruptionNotACrash) {
  ProjectionOptions options;
  options.snapshot_every_events = 2;
  AppendDay();
  ASSERT_TRUE(OpenLive(options).ok());
  ASSERT_TRUE(live().CatchUp().ok());
  ASSERT_GE(ledger_->head_seq(), 6u);
  LogRange at_seq_5{5};
  // Before every marker: the read walks back over all of them.
  LogRange before_every_marker;
  before_every_marker.as_of_micros = kStart - 1;
  struct Damage {
    std::string what;
    std::function<void(rocksdb::DB&)> edit;
    LogRange range;
  };
  const std::vector<Damage> damages = {
      {"marker value of 4 bytes",
       [](rocksdb::DB& db) {
         const std::string key = MarkerKey("trial_balance", 4);
         std::string value;
         ASSERT_TRUE(db.Get(rocksdb::ReadOptions(), key, &value).ok());
         ASSERT_EQ(value.size(), 8u);
         ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), key, value.substr(0, 4)).ok());
       },
       at_seq_5},
      {"marker key with a 2-byte seq",
       [](rocksdb::DB& db) {
         const std::string key = std::string("trial_balance\0m", 15) + std::string(2, '\0');
         ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), key, EncodeU64(0)).ok());
       },
       before_every_marker},
  };
  for (const Damage& damage : damages) {
    SCOPED_TRACE(damage.what);
    ASSERT_NO_FATAL_FAILURE(EditStore(damage.edit));
    CloseAll();
    IsolatedRead read = RunIsolated([&] {
      auto ledger = Ledger::Open({dir_.path(), true}, &clock_);
      if (!ledger.ok()) return ledger.status();
      auto store = ProjectionStore::Open(**ledger, dir_.path(), options);
      if (!store.ok()) return store.status();
      return ReadTrialBalance(**store, damage.range).status();
    });
    EXPECT_EQ(read.crash, "") << "an as-of read over a damaged snapshot marker crashed";
    if (read.crash.empty()) {
      EXPECT_EQ(read.code, StatusCode::kCorruption) << read.message;
      EXPECT_NE(read.message.find("trial_balance"), std::string::npos) << read.message;
      EXPECT_NE(read.message.find("tally rebuild"), std::string::npos) << read.message;
    }
    // Rebuild does not read markers: it repairs the store either way.
    Reopen();
    ASSERT_TRUE(OpenLive(options).ok());
    const std::vector<std::string> names = {"trial_balance"};
    ASSERT_TRUE(live().Rebuild(names).ok());
    auto fresh = FreshStore(2);
    EXPECT_EQ(TrialBalanceText(live(), damage.range), TrialBalanceText(*fresh, damage.range));
    ExpectSameAsFresh(live());
  }
}

// ---- Crash during catch-up ------------------------------------------------
//
// A child builds a log of more than two chunks of kProjectionChunkEvents;
// another child folds it into a reference store in one pass, timed. Then,
// kill cycle after kill cycle, a child catches up a store and is SIGKILLed:
// during Open (of the log or the store), at a random moment of catch-up,
// about when it writes a chunk, or right after it wrote one. After each
// kill a copy of the store as the kill left it is opened, must hold whole
// chunks only (every checkpoint at a chunk boundary), and once caught up
// must equal the reference byte for byte. The store itself carries over to
// the next cycle, so catch-ups resume from where a kill stopped them; once
// one reaches the head, the next cycle starts a new store. The parent never
// opens RocksDB itself.

constexpr uint64_t kCrashLogEvents = 21'000;  // chunks end at 10000, 20000 and the head
// Snapshots inside every chunk, so that kills also land among their writes.
constexpr uint64_t kCrashSnapshotEvery = 2'500;
constexpr int kKillCycles = 8;  // two of each kind
constexpr uint64_t kDefaultCrashSeed = 20260301;
constexpr milliseconds kChildTimeout{60'000};

// One line in one write(2), so that a kill never leaves half a line.
void Say(int fd, const std::string& line) {
  std::string text = line + "\n";
  [[maybe_unused]] ssize_t ignored = write(fd, text.data(), text.size());
}

// Tells the parent why the child gave up and exits without running the
// parent's atexit handlers or gtest's teardown.
[[noreturn]] void ChildFails(int fd, const std::string& why) {
  Say(fd, "! " + why);
  _exit(3);
}

std::unique_ptr<Ledger> OpenExistingOrFail(const std::string& dir, const Clock* clock, int fd) {
  LedgerOptions options;
  options.data_dir = dir;
  options.create_if_missing = false;
  auto ledger = Ledger::Open(options, clock);
  if (!ledger.ok()) ChildFails(fd, "open log: " + ledger.status().ToString());
  return std::move(ledger).value();
}

std::unique_ptr<ProjectionStore> OpenStoreOrFail(const Ledger& ledger, const std::string& dir,
                                                 int fd) {
  ProjectionOptions options;
  options.dir = dir;
  options.snapshot_every_events = kCrashSnapshotEvery;
  auto store = ProjectionStore::Open(ledger, "", options);
  if (!store.ok()) ChildFails(fd, "open store " + dir + ": " + store.status().ToString());
  return std::move(store).value();
}

// "open <checkpoint seq of each projection>".
std::string OpenLine(const ProjectionStore& store, int fd) {
  std::string line = "open";
  for (const Projection* projection : AllProjections()) {
    auto checkpoint = store.Checkpoint(projection->name());
    if (!checkpoint.ok()) ChildFails(fd, "checkpoint: " + checkpoint.status().ToString());
    line += " " + std::to_string(checkpoint->seq);
  }
  return line;
}

// Appends groups of grant, paid top-up (+ invoice), task (+ hold decision,
// success) and usage over ten accounts until the log holds kCrashLogEvents.
[[noreturn]] void BuildCrashLog(const std::string& dir, int fd) {
  ManualClock clock(kStart);
  auto ledger = Ledger::Open({dir, true}, &clock);
  if (!ledger.ok()) ChildFails(fd, "open log: " + ledger.status().ToString());
  EventCodec codec;
  for (int group = 0; (*ledger)->head_seq() < kCrashLogEvents;) {
    std::vector<Event> batch;
    for (const int end = group + 100; group < end; ++group) {
      const std::string id = std::to_string(group);
      const std::string account = "acct-" + std::to_string(group % 10);
      for (const std::string& json :
           {Grant("g" + id, account, "20"), PaidTopUp("t" + id, account, "10", "USD", "1.00"),
            Submit("s" + id, account, "k" + id, "5"), Succeed("d" + id, account, "k" + id, "4"),
            Usage("u" + id, account, "3")}) {
        auto event = codec.ParseJson(json);
        if (!event.ok()) ChildFails(fd, json + ": " + event.status().ToString());
        batch.push_back(std::move(event).value());
      }
    }
    auto outcomes = (*ledger)->Append(batch);
    if (!outcomes.ok()) ChildFails(fd, "append: " + outcomes.status().ToString());
    for (const AppendOutcome& outcome : *outcomes) {
      if (outcome.kind != AppendOutcome::Kind::kAppended) ChildFails(fd, outcome.reason);
    }
    clock.Advance(kSecond);
  }
  Say(fd, "built " + std::to_string((*ledger)->head_seq()));
  _exit(0);
}

// Says OpenLine, catches the store in `store_dir` up, saying "chunk <done>"
// after each chunk written, then "finished <micros the catch-up took>".
[[noreturn]] void CatchUpUntilKilled(const std::string& ledger_dir, const std::string& store_dir,
                                     int fd) {
  ManualClock clock(kStart);
  auto ledger = OpenExistingOrFail(ledger_dir, &clock, fd);
  auto store = OpenStoreOrFail(*ledger, store_dir, fd);
  Say(fd, OpenLine(*store, fd));
  const auto started = SteadyClock::now();
  auto caught_up =
      store->CatchUp([&](uint64_t done, uint64_t) { Say(fd, "chunk " + std::to_string(done)); });
  if (!caught_up.ok()) ChildFails(fd, "catch up: " + caught_up.status().ToString());
  const auto took = std::chrono::duration_cast<microseconds>(SteadyClock::now() - started);
  Say(fd, "finished " + std::to_string(took.count()));
  _exit(0);
}

// Says OpenLine for the store in `store_dir`, catches it up and compares it
// with the one in `reference_dir`: "same", or "differs <projection>: <key>".
[[noreturn]] void CatchUpAndCompare(const std::string& ledger_dir, const std::string& store_dir,
                                    const std::string& reference_dir, int fd) {
  ManualClock clock(kStart);
  auto ledger = OpenExistingOrFail(ledger_dir, &clock, fd);
  auto store = OpenStoreOrFail(*ledger, store_dir, fd);
  auto reference = OpenStoreOrFail(*ledger, reference_dir, fd);
  Say(fd, OpenLine(*store, fd));
  auto caught_up = store->CatchUp();
  if (!caught_up.ok()) ChildFails(fd, "catch up: " + caught_up.status().ToString());
  auto difference = store->CompareWith(*reference);
  if (!difference.ok()) ChildFails(fd, "compare: " + difference.status().ToString());
  Say(fd, difference->projection.empty()
              ? "same"
              : "differs " + difference->projection + ": " + difference->detail);
  _exit(0);
}

// A forked child that talks to the parent in lines on a pipe.
class Child {
 public:
  explicit Child(const std::function<void(int fd)>& body) {
    int fds[2];
    TALLY_CHECK(pipe2(fds, O_CLOEXEC) == 0);
    pid_ = fork();
    TALLY_CHECK(pid_ >= 0);
    if (pid_ == 0) {
      close(fds[0]);
      body(fds[1]);
      _exit(0);
    }
    close(fds[1]);
    fd_ = fds[0];
  }
  ~Child() {
    if (pid_ > 0) Kill();
    close(fd_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Reads until a line starting with `prefix` has come; false if the child
  // closed the pipe or `timeout` passed first.
  bool WaitForLine(const std::string& prefix, milliseconds timeout = kChildTimeout) {
    const auto deadline = SteadyClock::now() + timeout;
    while (!Line(prefix)) {
      if (eof_ || !ReadSome(deadline)) return false;
    }
    return true;
  }

  // SIGKILLs the child, reaps it and reads what it said; "" when it died by
  // the kill or exited 0, else how it ended.
  std::string Kill() {
    kill(pid_, SIGKILL);
    return Reap();
  }

  // Reads to the end and reaps the child (killed after kChildTimeout);
  // "" when it exited 0, else how it ended.
  std::string Wait() {
    const auto deadline = SteadyClock::now() + kChildTimeout;
    while (!eof_ && ReadSome(deadline)) {
    }
    if (!eof_) {
      kill(pid_, SIGKILL);
      Reap();
      return "hung for " + std::to_string(kChildTimeout.count()) + " ms; said: " + output_;
    }
    return Reap();
  }

  // The first line starting with `prefix`, without it.
  std::optional<std::string> Line(const std::string& prefix) const {
    std::istringstream in(output_);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
    }
    return std::nullopt;
  }
  const std::string& output() const { return output_; }

 private:
  // Reads what the pipe has, waiting until `deadline`; false on timeout.
  bool ReadSome(SteadyClock::time_point deadline) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
    pollfd pfd{fd_, POLLIN, 0};
    int ready = poll(&pfd, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
    if (ready == 0) return false;
    if (ready < 0) return errno == EINTR;
    char buffer[4096];
    ssize_t n = ::read(fd_, buffer, sizeof(buffer));
    if (n > 0) output_.append(buffer, static_cast<size_t>(n));
    if (n == 0 || (n < 0 && errno != EINTR)) eof_ = true;
    return true;
  }

  std::string Reap() {
    int status = 0;
    TALLY_CHECK(waitpid(pid_, &status, 0) == pid_);
    pid_ = -1;
    while (!eof_ && ReadSome(SteadyClock::now() + kChildTimeout)) {
    }
    const bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    const bool exited = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if ((killed || exited) && output_.find("! ") == std::string::npos) return "";
    return testing::DescribeWaitStatus(status) + "; said: " + output_;
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  bool eof_ = false;
  std::string output_;
};

// The seqs in an OpenLine, without "open".
std::vector<uint64_t> ParseCheckpoints(const std::string& text) {
  std::istringstream in(text);
  std::vector<uint64_t> seqs;
  for (uint64_t seq; in >> seq;) seqs.push_back(seq);
  return seqs;
}

TEST(CrashDuringCatchUpTest, AKilledCatchUpResumesToTheBytesOfOnePass) {
  const std::optional<uint64_t> seed = testing::CrashSeed(kDefaultCrashSeed);
  ASSERT_TRUE(seed.has_value()) << "TALLY_CRASH_SEED is not a number";
  SCOPED_TRACE("seed " + std::to_string(*seed) +
               " (rerun with TALLY_CRASH_SEED=" + std::to_string(*seed) + ")");
  TempDir dir;
  const std::string log = dir.path() + "/ledger";
  const std::string reference = dir.path() + "/reference";
  const std::string crashed = dir.path() + "/crashed";
  const std::string copy = dir.path() + "/copy";
  const auto test_started = SteadyClock::now();

  uint64_t head = 0;
  {
    Child build([&](int fd) { BuildCrashLog(log, fd); });
    ASSERT_EQ(build.Wait(), "");
    auto built = build.Line("built ");
    ASSERT_TRUE(built.has_value()) << build.output();
    head = std::stoull(*built);
    ASSERT_GE(head, kCrashLogEvents);
  }
  // The reference, in one pass; its timing places the kills.
  microseconds open_time{0};
  microseconds chunk_time{0};  // from the start of catch-up to its first chunk written
  microseconds catch_up_time{0};
  {
    const auto forked = SteadyClock::now();
    Child one_pass([&](int fd) { CatchUpUntilKilled(log, reference, fd); });
    ASSERT_TRUE(one_pass.WaitForLine("open ")) << one_pass.output();
    const auto opened = SteadyClock::now();
    open_time = std::chrono::duration_cast<microseconds>(opened - forked);
    ASSERT_TRUE(one_pass.WaitForLine("chunk ")) << one_pass.output();
    chunk_time = std::chrono::duration_cast<microseconds>(SteadyClock::now() - opened);
    ASSERT_EQ(one_pass.Wait(), "");
    auto finished = one_pass.Line("finished ");
    ASSERT_TRUE(finished.has_value()) << one_pass.output();
    catch_up_time = microseconds(std::stoll(*finished));
  }

  std::mt19937_64 rng(*seed);
  auto up_to = [&](microseconds limit) {
    return microseconds(std::uniform_int_distribution<int64_t>(0, limit.count())(rng));
  };
  int interrupted = 0;  // kills before the child finished
  int resumed = 0;      // kills that left a store with some chunks written, not all
  for (int cycle = 0; cycle < kKillCycles; ++cycle) {
    SCOPED_TRACE("kill cycle " + std::to_string(cycle));
    {
      const auto forked = SteadyClock::now();
      Child child([&](int fd) { CatchUpUntilKilled(log, crashed, fd); });
      switch (cycle % 4) {
        case 0:  // while opening the log or the store
          std::this_thread::sleep_until(forked + up_to(open_time));
          break;
        case 1:  // anywhere in the catch-up
          ASSERT_TRUE(child.WaitForLine("open ")) << child.output();
          std::this_thread::sleep_for(up_to(catch_up_time * 6 / 5));
          break;
        case 2:  // about when a chunk is written (a resumed catch-up's chunk too)
          ASSERT_TRUE(child.WaitForLine("open ")) << child.output();
          std::this_thread::sleep_for(chunk_time * 4 / 5 + up_to(chunk_time / 4));
          break;
        default:  // soon after a chunk was written
          ASSERT_TRUE(child.WaitForLine("chunk ")) << child.output();
          std::this_thread::sleep_for(up_to(catch_up_time / 5));
          break;
      }
      ASSERT_EQ(child.Kill(), "");
      interrupted += !child.Line("finished ").has_value();
    }
    // The store as the kill left it holds whole chunks only, and catches up
    // to the reference's bytes.
    fs::remove_all(copy);
    if (fs::exists(crashed)) fs::copy(crashed, copy, fs::copy_options::recursive);
    Child compare([&](int fd) { CatchUpAndCompare(log, copy, reference, fd); });
    ASSERT_EQ(compare.Wait(), "");
    auto opened = compare.Line("open ");
    ASSERT_TRUE(opened.has_value()) << compare.output();
    const std::vector<uint64_t> checkpoints = ParseCheckpoints(*opened);
    ASSERT_EQ(checkpoints.size(), AllProjections().size()) << *opened;
    for (uint64_t seq : checkpoints) {
      EXPECT_EQ(seq, checkpoints[0]) << "projections at different seqs: " << *opened;
      EXPECT_TRUE(seq % limits::kProjectionChunkEvents == 0 || seq == head)
          << "a checkpoint inside a chunk: " << *opened;
    }
    EXPECT_TRUE(compare.Line("same").has_value()) << compare.output();
    resumed += checkpoints[0] > 0 && checkpoints[0] < head;
    if (checkpoints[0] == head) fs::remove_all(crashed);  // start the next cycle afresh
  }
  fs::remove_all(copy);
  const auto took = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - test_started);
  std::cout << "[ crash    ] log of " << head << " events, open " << open_time.count() / 1000
            << " ms, one-pass catch-up " << catch_up_time.count() / 1000 << " ms; " << kKillCycles
            << " kills, " << interrupted << " before the child finished, " << resumed
            << " left some chunks written; " << took.count() << " ms\n";
  // The cycles that kill soon after a chunk must leave such stores, or the
  // test did not test resuming.
  EXPECT_GE(resumed, 1);
}

}  // namespace
}  // namespace tally
