// Runs the real `tally` binary as a user would, and checks output and exit codes.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tests/adapters/cli_fixture.h"
#include "tests/events/event_fixtures.h"

namespace tally {
namespace {

using testing::TopUp;
using testing::Usage;

TEST_F(CliTest, AppendThenBalance) {
  Write("day.ndjson", TopUp("t1", "acct-1", "100") + "\n\n" + Usage("u1", "acct-1", "12.5") + "\n" +
                          TopUp("t2", "acct-2", "7") + "\n");
  CliRun append = Tally("append " + Data() + " " + Path("day.ndjson"));
  EXPECT_EQ(append.exit_code, 0) << append.err;
  // Two top-ups, each followed by its invoice, and one usage.
  EXPECT_NE(append.out.find("appended 3, duplicate 0, rejected 0; log head at seq 5"),
            std::string::npos)
      << append.out;
  CliRun balance = Tally("balance " + Data() + " acct-1 --json");
  EXPECT_EQ(balance.exit_code, 0) << balance.err;
  EXPECT_EQ(balance.out,
            R"([{"account":"acct-1","available_credits":"87.500000","held_credits":"0.000000",)"
            R"("receivable_credits":"0.000000","version":2}])"
            "\n");
}

TEST_F(CliTest, ReappendingAFileOnlyAcknowledges) {
  Write("day.ndjson", TopUp("t1", "acct-1", "100") + "\n" + Usage("u1", "acct-1", "1") + "\n");
  ASSERT_EQ(Tally("append " + Data() + " " + Path("day.ndjson")).exit_code, 0);
  CliRun again = Tally("append " + Data() + " " + Path("day.ndjson") + " --csv");
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_EQ(again.out, "line,id,outcome,seq,reason\r\n1,t1,duplicate,1,\r\n2,u1,duplicate,3,\r\n");
  EXPECT_NE(Tally("balance " + Data()).out.find("99.000000"), std::string::npos);
}

TEST_F(CliTest, AnInvalidLineRejectsTheWholeFile) {
  Write("bad.ndjson", TopUp("t1", "acct-1", "100") + "\n" + Usage("u1", "acct-1", "1.1234567") +
                          "\n" + Usage("u2", "acct-1", "1") + "\n" + "{not json\n");
  CliRun append = Tally("append " + Data() + " " + Path("bad.ndjson"));
  EXPECT_EQ(append.exit_code, 3);
  EXPECT_NE(append.err.find("line 2: data.credits"), std::string::npos) << append.err;
  EXPECT_NE(append.err.find("line 4: not valid JSON"), std::string::npos) << append.err;
  EXPECT_NE(append.err.find("2 invalid line(s); nothing was appended"), std::string::npos);
  CliRun events = Tally("events " + Data());
  EXPECT_EQ(events.exit_code, 0) << events.err;
  EXPECT_EQ(events.out, "");  // not even the valid first line
}

TEST_F(CliTest, InvalidLinesAsJsonForMachines) {
  Write("bad.ndjson", Usage("u1", "acct-1", "x") + "\n");
  CliRun append = Tally("append " + Data() + " " + Path("bad.ndjson") + " --json");
  EXPECT_EQ(append.exit_code, 3);
  EXPECT_EQ(append.out.rfind(R"([{"line":1,"error":"data.credits:)", 0), 0u) << append.out;
}

TEST_F(CliTest, ConflictingIdExitsFourAndKeepsTheRest) {
  Write("a.ndjson", TopUp("t1", "acct-1", "100") + "\n");
  Write("b.ndjson", TopUp("t1", "acct-1", "500") + "\n" + Usage("u1", "acct-1", "1") + "\n");
  ASSERT_EQ(Tally("append " + Data() + " " + Path("a.ndjson")).exit_code, 0);
  CliRun conflict = Tally("append " + Data() + " " + Path("b.ndjson"));
  EXPECT_EQ(conflict.exit_code, 4);
  EXPECT_NE(conflict.out.find("rejected"), std::string::npos);
  EXPECT_NE(conflict.out.find("conflict: id \"t1\""), std::string::npos) << conflict.out;
  EXPECT_NE(Tally("balance " + Data() + " acct-1").out.find("99.000000"), std::string::npos);
}

TEST_F(CliTest, AppendReadsStdin) {
  Write("in.ndjson", Usage("u1", "acct-1", "3") + "\n");
  CliRun append = Tally("append " + Data() + " -", Path("in.ndjson"));
  EXPECT_EQ(append.exit_code, 0) << append.err;
  CliRun events = Tally("events " + Data());
  EXPECT_NE(events.out.find(R"("seq":"1")"), std::string::npos) << events.out;
  EXPECT_NE(events.out.find(R"("credits":"3.000000")"), std::string::npos) << events.out;
}

TEST_F(CliTest, ReadCommandsOnAMissingLedgerAreUsageErrors) {
  CliRun balance = Tally("balance " + Data());
  EXPECT_EQ(balance.exit_code, 2);
  EXPECT_NE(balance.err.find("no ledger in"), std::string::npos) << balance.err;
}

TEST_F(CliTest, MissingInputFileIsInvalidInput) {
  CliRun append = Tally("append " + Data() + " " + Path("absent.ndjson"));
  EXPECT_EQ(append.exit_code, 3);
  EXPECT_NE(append.err.find("cannot open"), std::string::npos);
}

// The demo drives a generated month through the service and its books
// check themselves; the same seed gives the same books, run after run
// (the log's order of concurrent holds may differ, the figures may not),
// and the same books as the workload appended with tally append.
TEST_F(CliTest, DemoBooksCheckThemselvesAndTheSameSeedGivesTheSameBooks) {
  const std::string small = "demo --accounts 30 --days 3 --seed 7";
  CliRun demo = Tally(small);
  EXPECT_EQ(demo.exit_code, 0) << demo.out << demo.err;
  EXPECT_NE(demo.out.find("Every check holds."), std::string::npos) << demo.out;
  EXPECT_NE(demo.out.find(": HTTP 409 (acct-00011 is under legal hold"), std::string::npos)
      << demo.out;
  EXPECT_NE(demo.out.find("(run with --keep"), std::string::npos) << demo.out;
  CliRun json = Tally(small + " --json --data " + Path("d1"));
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.out.find(R"({"ok":true,)"), std::string::npos) << json.out;
  ASSERT_EQ(Tally(small + " --json --data " + Path("d2")).exit_code, 0);
  CliRun first = Tally("balance --data " + Path("d1/ledger") + " --csv");
  CliRun second = Tally("balance --data " + Path("d2/ledger") + " --csv");
  EXPECT_EQ(first.out, second.out);
  EXPECT_EQ(Tally("revenue --data " + Path("d1/ledger") + " --csv").out,
            Tally("revenue --data " + Path("d2/ledger") + " --csv").out);
  EXPECT_GT(first.out.size(), 1000u);
  // The same workload appended as imported history (decided at each
  // event's own time, no Kafka, no HTTP) leaves the same books.
  ASSERT_EQ(Tally("generate --accounts 30 --days 3 --seed 7 --imported --out " + Path("w.ndjson"))
                .exit_code,
            0);
  CliRun append = Tally("append --data " + Path("replayed") + " --master-key-file " +
                        Path("d1/master.key") + " " + Path("w.ndjson"));
  ASSERT_EQ(append.exit_code, 0) << append.out << append.err;
  for (const std::string report : {"trial-balance", "balance", "revenue"}) {
    EXPECT_EQ(Tally(report + " --data " + Path("d1/ledger") + " --csv").out,
              Tally(report + " --data " + Path("replayed") + " --csv").out)
        << report;
  }
  // A directory that already holds a ledger is refused, not mixed into.
  CliRun again = Tally(small + " --data " + Path("d1"));
  EXPECT_EQ(again.exit_code, 3);
  EXPECT_NE(again.err.find("already holds a ledger"), std::string::npos) << again.err;
}

// generate writes the workload as NDJSON: the same seed the same bytes;
// with --imported (where the erasure refused under a legal hold is left
// out), tally append takes all of it, whenever it runs.
TEST_F(CliTest, GenerateWritesTheSameWorkloadForTheSameSeed) {
  const std::string args = "generate --accounts 40 --days 5 --imported --seed 3 --out ";
  ASSERT_EQ(Tally(args + Path("a.ndjson")).exit_code, 0);
  ASSERT_EQ(Tally(args + Path("b.ndjson")).exit_code, 0);
  EXPECT_EQ(Read("a.ndjson"), Read("b.ndjson"));
  EXPECT_NE(Read("a.ndjson"), Tally("generate --accounts 40 --days 5 --imported --seed 4").out);
  ASSERT_EQ(Tally("master-key new --out " + Path("k")).exit_code, 0);
  CliRun append =
      Tally("append " + Data() + " --master-key-file " + Path("k") + " " + Path("a.ndjson"));
  EXPECT_EQ(append.exit_code, 0) << append.out << append.err;
  EXPECT_NE(append.out.find("duplicate 0, rejected 0"), std::string::npos) << append.out;
  EXPECT_EQ(Tally("audit verify " + Data()).exit_code, 0);
  EXPECT_EQ(Tally("generate --accounts 0").exit_code, 2);
  // Written whole or not at all: where OUT cannot be replaced (a
  // directory), nothing is left behind.
  std::filesystem::create_directories(Path("taken"));
  CliRun taken = Tally("generate --accounts 5 --days 1 --out " + Path("taken"));
  EXPECT_EQ(taken.exit_code, 1);
  EXPECT_NE(taken.err.find("cannot rename"), std::string::npos) << taken.err;
  EXPECT_FALSE(std::filesystem::exists(Path("taken.partial")));
}

TEST_F(CliTest, JournalShowsBalancedPostings) {
  Write("day.ndjson",
        TopUp("t1", "acct-1", "100", "10.00") + "\n" + Usage("u1", "acct-1", "25") + "\n");
  ASSERT_EQ(Tally("append " + Data() + " " + Path("day.ndjson")).exit_code, 0);
  CliRun journal = Tally("journal " + Data() + " --account acct-1 --csv");
  EXPECT_EQ(journal.exit_code, 0) << journal.err;
  EXPECT_NE(journal.out.find(",usage_recorded,deferred_revenue,USD,2.50,\r\n"), std::string::npos)
      << journal.out;
  EXPECT_NE(journal.out.find(",usage_recorded,revenue:usage,USD,,2.50\r\n"), std::string::npos)
      << journal.out;
}

TEST_F(CliTest, AuditVerifyPassesAndNamesATamperedSeq) {
  Write("day.ndjson", TopUp("t1", "acct-1", "100") + "\n" + Usage("u1", "acct-1", "1") + "\n" +
                          Usage("u2", "acct-1", "2") + "\n");
  ASSERT_EQ(Tally("append " + Data() + " " + Path("day.ndjson")).exit_code, 0);
  CliRun ok = Tally("audit verify " + Data() + " --json");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find(R"("check":"log","result":"ok","checked":4)"), std::string::npos) << ok.out;
  {  // An operator with raw access changes one byte of the event at seq 2.
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), Path("ledger"), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string key = "E" + std::string(7, '\0') + "\x02";
    std::string value;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), key, &value).ok());
    value[value.size() / 2] ^= 0x01;
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), key, value).ok());
  }
  CliRun bad = Tally("audit verify " + Data() + " --csv");
  EXPECT_EQ(bad.exit_code, 5);
  EXPECT_NE(bad.out.find("log,failed,1,2,\"seq 2: "), std::string::npos) << bad.out;
}

TEST_F(CliTest, SignedCheckpointsVerifyWithThePublicKeyOnly) {
  Write("day.ndjson", TopUp("t1", "acct-1", "100") + "\n");
  ASSERT_EQ(Tally("append " + Data() + " " + Path("day.ndjson")).exit_code, 0);
  ASSERT_EQ(Tally("audit keygen --out " + Path("op.key")).exit_code, 0);
  CliRun signed_head = Tally("audit checkpoint " + Data() + " --key " + Path("op.key") + " --csv");
  EXPECT_EQ(signed_head.exit_code, 0) << signed_head.err;
  EXPECT_EQ(signed_head.out.rfind("checkpoint_seq,signed_seq,signed_hash,key_id\r\n3,2,", 0), 0u)
      << signed_head.out;
  CliRun verify =
      Tally("audit verify " + Data() + " --public-key " + Path("op.key.pub") + " --csv");
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_NE(verify.out.find("checkpoints,ok,1,"), std::string::npos) << verify.out;
  ASSERT_EQ(Tally("audit keygen --out " + Path("other.key")).exit_code, 0);
  CliRun wrong = Tally("audit verify " + Data() + " --public-key " + Path("other.key.pub"));
  EXPECT_EQ(wrong.exit_code, 5);
  EXPECT_NE(wrong.out.find("signature does not verify"), std::string::npos) << wrong.out;
}

TEST_F(CliTest, AnExportVerifiesWithoutTheDatabase) {
  Write("day.ndjson", TopUp("t1", "acct-1", "100") + "\n" + Usage("u1", "acct-1", "5") + "\n");
  ASSERT_EQ(Tally("append " + Data() + " " + Path("day.ndjson")).exit_code, 0);
  CliRun exported = Tally("audit export " + Data() + " " + Path("export"));
  EXPECT_EQ(exported.exit_code, 0) << exported.err;
  std::filesystem::remove_all(Path("ledger"));  // offline: the database is gone
  CliRun verify = Tally("audit verify --export " + Path("export") + " --csv");
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_NE(verify.out.find("export,ok,3,"), std::string::npos) << verify.out;
  EXPECT_EQ(Tally("audit verify").exit_code, 2);
}

TEST_F(CliTest, FinanceReportsOnTheDemoDay) {
  ASSERT_NO_FATAL_FAILURE(AppendDemoDay("d"));
  const std::string data = "--data " + Path("d/ledger");
  CliRun invoices = Tally("invoices " + data + " --csv");
  EXPECT_EQ(invoices.exit_code, 0) << invoices.err;
  EXPECT_NE(invoices.out.find("CN-2026-000001,credit_note,acct-bob,"), std::string::npos)
      << invoices.out;
  EXPECT_NE(invoices.out.find(",INV-2026-000002,CNY,13.60,,13.60\r\n"), std::string::npos)
      << invoices.out;
  CliRun revenue = Tally("revenue " + data + " --json");
  EXPECT_NE(revenue.out.find(R"({"currency":"CNY","month":")"), std::string::npos) << revenue.out;
  EXPECT_NE(revenue.out.find(R"("cash_in":"54.40","tax":"3.85","usage":"15.66")"),
            std::string::npos)
      << revenue.out;
  CliRun invoice = Tally("invoice " + data + " INV-2026-000001 --json --master-key-file " +
                         Path("d/master.key"));
  EXPECT_NE(invoice.out.find(R"("type":"invoice_issued")"), std::string::npos) << invoice.out;
  EXPECT_EQ(Tally("invoice " + data + " INV-1999-000001").exit_code, 2);
  CliRun trial = Tally("trial-balance " + data + " --csv");
  EXPECT_EQ(trial.exit_code, 0) << trial.err;
  EXPECT_NE(trial.out.find("deferred_revenue,CNY,,35.66\r\n"), std::string::npos) << trial.out;
  // Bob's paid lot: what is left of it, its expiry, and the price its
  // remaining credits will be recognised at (deferred / credits); it holds
  // the same CNY 35.66 the trial balance defers.
  CliRun lots = Tally("lots " + data + " acct-bob acct-nobody --csv --master-key-file " +
                      Path("d/master.key"));
  EXPECT_EQ(lots.exit_code, 0) << lots.err;
  EXPECT_NE(lots.out.find("acct-bob,evt-0004,paid,556.000000,2027-11-20T00:00:00Z,CNY,35.66,"
                          "0.0641366906,9\r\n"),
            std::string::npos)
      << lots.out;
  EXPECT_EQ(lots.out.find("acct-nobody"), std::string::npos) << lots.out;
}

TEST_F(CliTest, ReportsAsOfAPastSeqOrInstant) {
  Write("day.ndjson", TopUp("t1", "acct-1", "100") + "\n" + Usage("u1", "acct-1", "30") + "\n");
  ASSERT_EQ(Tally("append " + Data() + " " + Path("day.ndjson")).exit_code, 0);
  CliRun now = Tally("balance " + Data() + " acct-1 --csv");
  EXPECT_NE(now.out.find("acct-1,70.000000,"), std::string::npos) << now.out;
  CliRun before = Tally("balance " + Data() + " acct-1 --at-seq 2 --csv");
  EXPECT_NE(before.out.find("acct-1,100.000000,0.000000,0.000000,\r\n"), std::string::npos)
      << before.out;
  CliRun long_ago = Tally("statement " + Data() + " acct-1 --as-of 2000-01-01T00:00:00Z --csv");
  EXPECT_EQ(long_ago.out, "seq,recorded_at,type,bucket,change,available,held,receivable\r\n");
  CliRun bad = Tally("trial-balance " + Data() + " --as-of yesterday");
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_NE(bad.err.find("--as-of"), std::string::npos) << bad.err;
}

// Issue 12.17: a seq that does not exist (yet) is an error, never today's
// figures under another name.
TEST_F(CliTest, ASeqOutsideTheLogIsAnErrorNotTheCurrentFigures) {
  Write("day.ndjson", TopUp("t1", "acct-1", "100") + "\n" + Usage("u1", "acct-1", "30") + "\n");
  ASSERT_EQ(Tally("append " + Data() + " " + Path("day.ndjson")).exit_code, 0);
  for (const char* seq : {"-1", "0", "4", "99", "x", "1x"}) {
    for (const char* command : {"balance", "trial-balance", "revenue", "statement acct-1"}) {
      CliRun run = Tally(std::string(command) + " " + Data() + " --at-seq " + seq);
      EXPECT_EQ(run.exit_code, 3) << command << " --at-seq " << seq << ": " << run.out;
      EXPECT_NE(run.err.find("--at-seq"), std::string::npos) << run.err;
    }
  }
  EXPECT_EQ(Tally("balance " + Data() + " --at-seq 2").exit_code, 0);
  for (const char* command : {"events", "journal"}) {
    CliRun zero = Tally(std::string(command) + " " + Data() + " --from-seq 0");
    EXPECT_EQ(zero.exit_code, 2) << command;
    EXPECT_EQ(zero.err.find("archived"), std::string::npos) << zero.err;
    EXPECT_NE(zero.err.find("--from-seq"), std::string::npos) << zero.err;
  }
}

// Issue 12.1 and 12.3 through the binary: an escaped account is the same
// customer as the literal one, and what is printed back is valid UTF-8 JSON.
TEST_F(CliTest, EscapedAndLiteralAccountsAreOneCustomer) {
  Write("escaped.ndjson",
        TopUp("t1", "acct-\\u00e9", "100") + "\n" + TopUp("t2", "acct-I", "7") + "\n");
  Write("literal.ndjson", Usage("u1", "acct-\xC3\xA9", "30") + "\n");
  Write("bad.ndjson", Usage("u2", "acct-\xFF", "30") + "\n");
  ASSERT_EQ(Tally("append " + Data() + " " + Path("escaped.ndjson")).exit_code, 0);
  ASSERT_EQ(Tally("append " + Data() + " " + Path("literal.ndjson")).exit_code, 0);
  CliRun bad = Tally("append " + Data() + " " + Path("bad.ndjson"));
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_NE((bad.out + bad.err).find("account: is not valid UTF-8"), std::string::npos)
      << bad.out << bad.err;
  CliRun balances = Tally("balance " + Data() + " --csv");
  EXPECT_NE(balances.out.find("acct-\xC3\xA9,70.000000,"), std::string::npos) << balances.out;
  EXPECT_NE(balances.out.find("acct-I,7.000000,"), std::string::npos) << balances.out;
}

// `tally rebuild` lists every projection and whether it was rebuilt; an
// unknown name is invalid input (3) naming the known ones, and no name
// without --all is a usage error (2).
TEST_F(CliTest, RebuildNamesWhatItRebuiltAndRefusesUnknownNames) {
  Write("day.ndjson", TopUp("t1", "acct-1", "100") + "\n" + Usage("u1", "acct-1", "1") + "\n");
  ASSERT_EQ(Tally("append " + Data() + " " + Path("day.ndjson")).exit_code, 0);
  const std::vector<std::string> names = {"balances", "statements",    "invoices", "trial_balance",
                                          "revenue",  "subscriptions", "tasks"};
  CliRun all = Tally("rebuild " + Data() + " --all --csv");
  EXPECT_EQ(all.exit_code, 0) << all.err;
  for (const std::string& name : names) {
    // Top-up, its invoice and the usage: every projection at seq 3.
    EXPECT_NE(all.out.find("\n" + name + ",3,yes\r\n"), std::string::npos) << name << all.out;
  }
  CliRun one = Tally("rebuild " + Data() + " trial_balance --csv");
  EXPECT_EQ(one.exit_code, 0) << one.err;
  EXPECT_NE(one.out.find("\ntrial_balance,3,yes\r\n"), std::string::npos) << one.out;
  EXPECT_NE(one.out.find("\nbalances,3,no\r\n"), std::string::npos) << one.out;
  CliRun unknown = Tally("rebuild " + Data() + " balances nosuch");
  EXPECT_EQ(unknown.exit_code, 3);
  EXPECT_NE(unknown.err.find("no projection named nosuch (known: balances, statements, invoices, "
                             "trial_balance, revenue, subscriptions, tasks, accesses)"),
            std::string::npos)
      << unknown.err;
  CliRun nothing = Tally("rebuild " + Data());
  EXPECT_EQ(nothing.exit_code, 2);
  EXPECT_NE(nothing.err.find("name projections or give --all"), std::string::npos) << nothing.err;
  // The refused commands changed nothing: the store still verifies.
  EXPECT_EQ(Tally("audit verify " + Data()).exit_code, 0);
}

// Changes the value of one row of the live projection store on disk (no
// tally process running).
void EditProjectionRow(const std::string& store_dir, const std::string& key,
                       const std::function<void(std::string&)>& change) {
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), store_dir, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string value;
  auto found = db->Get(rocksdb::ReadOptions(), key, &value);
  ASSERT_TRUE(found.ok() || found.IsNotFound()) << found.ToString();
  change(value);
  ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), key, value).ok());
}

// A projection row changed on disk but still decodable survives catch-up;
// audit verify exits 5 naming the projection and the row, and rebuilding
// that projection repairs it.
TEST_F(CliTest, AuditVerifyNamesAProjectionRowChangedOnDisk) {
  Write("day.ndjson", TopUp("t1", "acct-1", "100") + "\n" + Usage("u1", "acct-1", "1") + "\n");
  ASSERT_EQ(Tally("append " + Data() + " " + Path("day.ndjson")).exit_code, 0);
  ASSERT_EQ(Tally("audit verify " + Data()).exit_code, 0);
  // One digit of acct-1's credits in the trial balance ("-99000000"): the
  // row still decodes, so only the comparison with a rebuild can see it.
  const std::string key =
      std::string("trial_balance\0r", 15) + "customer:acct-1:available" + '\0' + "credits";
  ASSERT_NO_FATAL_FAILURE(
      EditProjectionRow(Path("ledger/projections"), key, [](std::string& value) {
        ASSERT_FALSE(value.empty());
        ASSERT_TRUE(value.back() >= '0' && value.back() <= '9') << value;
        value.back() = value.back() == '0' ? '1' : '0';
      }));
  CliRun bad = Tally("audit verify " + Data() + " --csv");
  EXPECT_EQ(bad.exit_code, 5) << bad.out << bad.err;
  EXPECT_NE(bad.out.find("log,ok,"), std::string::npos) << bad.out;  // the log is intact
  EXPECT_NE(bad.out.find("projections,failed,8,,projection trial_balance: row trial_balance"),
            std::string::npos)
      << bad.out;
  EXPECT_NE(bad.out.find("customer:acct-1:available"), std::string::npos) << bad.out;
  // Rebuilding the named projection repairs it.
  ASSERT_EQ(Tally("rebuild " + Data() + " trial_balance").exit_code, 0);
  CliRun repaired = Tally("audit verify " + Data());
  EXPECT_EQ(repaired.exit_code, 0) << repaired.out << repaired.err;
}

// A row added on disk (an account the log never saw) is served by reads
// until audit verify names it (exit 5) and a rebuild removes it.
TEST_F(CliTest, AuditVerifyNamesAProjectionRowAddedOnDisk) {
  Write("day.ndjson", TopUp("t1", "acct-1", "100") + "\n");
  ASSERT_EQ(Tally("append " + Data() + " " + Path("day.ndjson")).exit_code, 0);
  // A balances row for an account with no events, in the projection's own
  // row encoding (four length-prefixed decimal fields).
  ASSERT_NO_FATAL_FAILURE(EditProjectionRow(
      Path("ledger/projections"), std::string("balances\0r", 10) + "ghost", [](std::string& value) {
        ASSERT_TRUE(value.empty());
        auto field = [](const std::string& digits) {
          return static_cast<char>(digits.size()) + digits;
        };
        value = field("5") + field("0") + field("0") + field("1");
      }));
  CliRun ghost = Tally("balance " + Data() + " ghost --csv");
  EXPECT_NE(ghost.out.find("ghost,0.000005,"), std::string::npos) << ghost.out << ghost.err;
  CliRun bad = Tally("audit verify " + Data() + " --csv");
  EXPECT_EQ(bad.exit_code, 5) << bad.out << bad.err;
  EXPECT_NE(bad.out.find("projection balances: key balances\\x00rghost is in one store only"),
            std::string::npos)
      << bad.out;
  ASSERT_EQ(Tally("rebuild " + Data() + " --all").exit_code, 0);
  EXPECT_EQ(Tally("audit verify " + Data()).exit_code, 0);
  EXPECT_EQ(Tally("balance " + Data() + " ghost --csv").out.find("ghost,0.000005,"),
            std::string::npos);
}

// A damaged checkpoint stops the reports with exit 5 and names the command
// that repairs it; running that command does.
TEST_F(CliTest, ADamagedCheckpointNamesTheRebuildThatRepairsIt) {
  Write("day.ndjson", TopUp("t1", "acct-1", "100") + "\n" + Usage("u1", "acct-1", "1") + "\n");
  ASSERT_EQ(Tally("append " + Data() + " " + Path("day.ndjson")).exit_code, 0);
  CliRun before = Tally("trial-balance " + Data() + " --csv");
  ASSERT_EQ(before.exit_code, 0) << before.err;
  // A checkpoint is 48 bytes: seq, chain hash, recorded_at.
  ASSERT_NO_FATAL_FAILURE(EditProjectionRow(
      Path("ledger/projections"), std::string("trial_balance\0c", 15), [](std::string& value) {
        ASSERT_EQ(value.size(), 48u);
        value.pop_back();
      }));
  CliRun damaged = Tally("trial-balance " + Data() + " --csv");
  EXPECT_EQ(damaged.exit_code, 5);
  EXPECT_NE(damaged.err.find("projection trial_balance: damaged checkpoint; run `tally rebuild "
                             "trial_balance`"),
            std::string::npos)
      << damaged.err;
  EXPECT_EQ(damaged.out, "");
  ASSERT_EQ(Tally("rebuild " + Data() + " trial_balance").exit_code, 0);
  CliRun repaired = Tally("trial-balance " + Data() + " --csv");
  EXPECT_EQ(repaired.exit_code, 0) << repaired.err;
  EXPECT_EQ(repaired.out, before.out);
}

// The end of the log's write-ahead log cut off after two appends: the lost
// seq is named, `audit verify` fails, and the next append does not reuse it.
TEST_F(CliTest, ATruncatedWalStopsAppendsAndFailsVerify) {
  Write("one.ndjson", TopUp("g1", "acct-1", "100") + "\n");
  Write("two.ndjson", TopUp("g2", "acct-2", "100") + "\n");
  Write("three.ndjson", TopUp("g3", "acct-3", "100") + "\n");
  ASSERT_EQ(Tally("append " + Data() + " " + Path("one.ndjson")).exit_code, 0);
  ASSERT_EQ(Tally("append " + Data() + " " + Path("two.ndjson")).exit_code, 0);
  std::filesystem::path newest;
  for (const auto& entry : std::filesystem::directory_iterator(Path("ledger"))) {
    if (entry.path().extension() == ".log" && entry.path() > newest) newest = entry.path();
  }
  ASSERT_FALSE(newest.empty());
  std::filesystem::resize_file(newest, std::filesystem::file_size(newest) - 5);

  CliRun verify = Tally("audit verify " + Data());
  EXPECT_EQ(verify.exit_code, 5) << verify.out << verify.err;
  EXPECT_NE(verify.out.find("seqs 3..4 were acknowledged and then lost"), std::string::npos)
      << verify.out;
  CliRun append = Tally("append " + Data() + " " + Path("three.ndjson"));
  EXPECT_EQ(append.exit_code, 5) << append.out;
  EXPECT_EQ(append.out, "");
  EXPECT_NE(append.err.find("ends at seq 2"), std::string::npos) << append.err;
  CliRun balance = Tally("balance " + Data());
  EXPECT_EQ(balance.exit_code, 5) << balance.out;
  EXPECT_NE(balance.err.find("seqs 3..4 were"), std::string::npos) << balance.err;
  EXPECT_EQ(balance.err.find("run `tally rebuild "), std::string::npos) << balance.err;
  CliRun rebuild = Tally("rebuild --all " + Data());
  EXPECT_EQ(rebuild.exit_code, 5) << rebuild.out;
  EXPECT_NE(rebuild.err.find("seqs 3..4 were"), std::string::npos) << rebuild.err;
}

// Readers, an appender and a rebuild at once, as several people and scripts
// use one data directory: every command exits 0 with the right figures. A
// reader does not need the projections' write lock (it reads a secondary
// of the store and folds the rest from the log), and a committed append
// never reports failure because another process holds the projections.
TEST_F(CliTest, ConcurrentReadersAppendsAndRebuildsAllSucceed) {
  Write("seed.ndjson", TopUp("seed", "acct-0", "100") + "\n");
  ASSERT_EQ(Tally("append " + Data() + " " + Path("seed.ndjson")).exit_code, 0);
  constexpr int kRounds = 6;
  for (int round = 0; round < kRounds; ++round) {
    Write("a" + std::to_string(round) + ".ndjson",
          TopUp("more-" + std::to_string(round), "acct-9", "5") + "\n");
  }
  // Each job writes its output to DIR/NAME and its exit code to DIR/NAME.rc.
  const std::string job = "job() { name=$1; shift; ( \"$@\" >" + Path("$name") +
                          " 2>&1; echo $? >" + Path("$name.rc") + " ) & }; ";
  std::string script = job;
  script += "for r in $(seq 0 " + std::to_string(kRounds - 1) + "); do ";
  script +=
      "for i in 1 2 3 4 5 6; do job b.$r.$i $TALLY balance " + Data() + " acct-0 --csv; done; ";
  script += "job a.$r $TALLY append " + Data() + " " + Path("a$r.ndjson") + "; ";
  script += "job r.$r $TALLY rebuild " + Data() + " --all; ";
  script += "wait; done";
  CliRun run = Shell(script);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  int failures = 0;
  for (int round = 0; round < kRounds; ++round) {
    const std::string r = std::to_string(round);
    std::vector<std::string> names = {"a." + r, "r." + r};
    for (int i = 1; i <= 6; ++i) names.push_back("b." + r + "." + std::to_string(i));
    for (const std::string& name : names) {
      const std::string rc = Read(name + ".rc");
      if (rc != "0\n") {
        ++failures;
        ADD_FAILURE() << name << " exited " << rc << ": " << Read(name);
      }
      if (name[0] == 'b') {
        EXPECT_NE(Read(name).find("acct-0,100.000000,"), std::string::npos) << Read(name);
      }
      if (name[0] == 'a') {
        EXPECT_NE(Read(name).find("appended 1,"), std::string::npos) << Read(name);
      }
    }
  }
  EXPECT_EQ(failures, 0);
  CliRun total = Tally("balance " + Data() + " acct-9 --csv");
  EXPECT_EQ(total.exit_code, 0) << total.err;
  EXPECT_NE(total.out.find("acct-9,30.000000,"), std::string::npos) << total.out;
  EXPECT_EQ(Tally("audit verify " + Data()).exit_code, 0);
}

TEST_F(CliTest, HelpAndUsageErrors) {
  CliRun help = Tally("--help");
  EXPECT_EQ(help.exit_code, 0);
  for (const char* word :
       {"append", "balance", "events", "journal", "audit", "demo", "Exit codes"}) {
    EXPECT_NE(help.out.find(word), std::string::npos) << word;
  }
  EXPECT_EQ(Tally("").exit_code, 2);
  EXPECT_EQ(Tally("frobnicate").exit_code, 2);
  EXPECT_EQ(Tally("balance " + Data() + " --json --csv").exit_code, 2);
  EXPECT_EQ(Tally("append " + Data()).exit_code, 2);
}

// tally serve --config: a bad file, key or value stops it at once with a
// usage error (exit 2) that names the file, the line and the key.
TEST_F(CliTest, ServeConfigErrorsAreUsageErrors) {
  Write("unknown.toml", "data = \"" + Path("ledger") + "\"\nlisten_adress = \"127.0.0.1:0\"\n");
  Write("type.toml", "data = \"" + Path("ledger") + "\"\n\nrate_limit = \"fast\"\n");
  Write("syntax.toml", "data = \"" + Path("ledger") + "\nkafka = false\n");
  for (const auto& [file, expected] :
       {std::pair<std::string, std::string>{"unknown.toml", ":2: listen_adress: unknown key"},
        {"type.toml", ":3: rate_limit: expected a number, not a string"},
        {"syntax.toml", ":1:"},
        {"absent.toml", ": cannot read the config file"}}) {
    CliRun serve = Tally("serve --config " + Path(file));
    EXPECT_EQ(serve.exit_code, 2) << file << ": " << serve.err;
    EXPECT_NE(serve.err.find("tally serve: " + Path(file) + expected), std::string::npos)
        << serve.err;
  }
  EXPECT_FALSE(std::filesystem::exists(Path("ledger")));  // nothing was started
  CliRun env = Shell("TALLY_STATUS_EVERY_MS=often $TALLY serve " + Data());
  EXPECT_EQ(env.exit_code, 2);
  EXPECT_NE(env.err.find("TALLY_STATUS_EVERY_MS: expected a whole number"), std::string::npos)
      << env.err;
}

// Which source wins, seen through --listen: an address that is not
// HOST:PORT is refused at once (exit 3) and named, so the message shows
// which source the address came from.
TEST_F(CliTest, ServeTakesAFlagOverTheEnvironmentOverTheFile) {
  Write("serve.toml", "data = \"" + Path("ledger") + "\"\nlisten = \"from-file\"\nkafka = false\n");
  const std::string serve = "$TALLY serve --config " + Path("serve.toml");
  CliRun file = Shell(serve);
  EXPECT_EQ(file.exit_code, 3);
  EXPECT_NE(file.err.find("\"from-file\" is not HOST:PORT"), std::string::npos) << file.err;
  CliRun env = Shell("TALLY_LISTEN=from-env " + serve);
  EXPECT_EQ(env.exit_code, 3);
  EXPECT_NE(env.err.find("\"from-env\" is not HOST:PORT"), std::string::npos) << env.err;
  CliRun flag = Shell("TALLY_LISTEN=from-env " + serve + " --listen from-flag");
  EXPECT_EQ(flag.exit_code, 3);
  EXPECT_NE(flag.err.find("\"from-flag\" is not HOST:PORT"), std::string::npos) << flag.err;
}

// A config file's listen, data and rate_limit are what the server uses: it
// listens there, serves that directory, and refuses the third request of a
// burst at 1 request per second (burst 2; the default would allow 10,000).
TEST_F(CliTest, ServeRunsFromItsConfigFile) {
  Write("serve.toml", "data = \"" + Path("ledger") +
                          "\"\nlisten = \"127.0.0.1:0\"\nkafka = false\nrate_limit = 1\n");
  ASSERT_EQ(
      Tally("token create " + Data() + " --role finance --name t > " + Path("token")).exit_code, 0);
  CliRun run =
      Shell("$TALLY serve --config " + Path("serve.toml") + " 2>" + Path("serve.err") +
            " & pid=$!; for i in $(seq 100); do grep -q 'HTTP API on' " + Path("serve.err") +
            " && break; sleep 0.1; done; port=$(sed -n 's/.*HTTP API on "
            "127.0.0.1:\\([0-9]*\\);.*/\\1/p' " +
            Path("serve.err") + "); for i in 1 2 3; do curl -s -o /dev/null -w '%{http_code} ' " +
            "-H \"Authorization: Bearer $(cat " + Path("token") +
            ")\" http://127.0.0.1:$port/v1/balances; " + "done; kill -TERM $pid; wait $pid");
  EXPECT_EQ(run.exit_code, 0) << Read("serve.err");
  EXPECT_EQ(run.out, "200 200 429 ") << Read("serve.err");
  EXPECT_NE(Read("serve.err").find("; data in " + Path("ledger")), std::string::npos)
      << Read("serve.err");
  EXPECT_NE(Read("serve.err").find("stopped cleanly"), std::string::npos) << Read("serve.err");
}

// tally load against a running service: a JSON line each second and a
// summary, no failed request, books that pass audit verify afterwards; a
// token the service refuses stops it with exit 2, saying so.
TEST_F(CliTest, LoadDrivesARunningServiceAndReportsEachSecond) {
  ASSERT_EQ(Tally("master-key new --out " + Path("k")).exit_code, 0);
  ASSERT_EQ(Tally("token create " + Data() + " --role publisher --name load > " + Path("token"))
                .exit_code,
            0);
  const std::string load = "$TALLY load --url http://127.0.0.1:$port --duration 3 --rate 200 ";
  CliRun run =
      Shell("$TALLY serve " + Data() +
            " --listen 127.0.0.1:0 --no-kafka --rate-limit 0 "
            "--master-key-file " +
            Path("k") + " 2>" + Path("serve.err") +
            " & pid=$!; for i in $(seq 100); do grep -q 'HTTP API on' " + Path("serve.err") +
            " && break; sleep 0.1; done; port=$(sed -n 's/.*HTTP API on "
            "127.0.0.1:\\([0-9]*\\);.*/\\1/p' " +
            Path("serve.err") + "); " + load + "--json --token $(cat " + Path("token") + ") >" +
            Path("load.json") + "; echo load=$?; " + load + "--token nope 2>" +
            Path("refused.err") + " >/dev/null; echo refused=$?; kill -TERM $pid; wait $pid");
  EXPECT_NE(run.out.find("load=0"), std::string::npos) << run.out << Read("serve.err");
  EXPECT_NE(run.out.find("refused=2"), std::string::npos) << run.out;
  EXPECT_NE(Read("refused.err").find("refused the token (HTTP 401"), std::string::npos)
      << Read("refused.err");
  const std::string lines = Read("load.json");
  EXPECT_NE(lines.find(R"("second":1,)"), std::string::npos) << lines;
  EXPECT_NE(lines.find(R"("errors":0,"summary":true)"), std::string::npos) << lines;
  EXPECT_EQ(
      lines.find(
          R"("sent":0,"per_second":"0.0","holds":0,"hold_ms_p50":"0.000","hold_ms_p99":"0.000","refused":0,"errors":0,"summary")"),
      std::string::npos)
      << lines;
  CliRun verify = Tally("audit verify " + Data());
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

class CliPrivacyTest : public CliTest {
 protected:
  // Every file under the demo's ledger directory that holds `needle`.
  bool OnDisk(const std::string& needle) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(Path("d/ledger"))) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (bytes.find(needle) != std::string::npos) return true;
    }
    return false;
  }
};

TEST_F(CliPrivacyTest, ShredAndLegalHoldOnTheDemoData) {
  ASSERT_NO_FATAL_FAILURE(AppendDemoDay("d"));
  const std::string data = "--data " + Path("d/ledger");
  const std::string key = " --master-key-file " + Path("d/master.key");
  EXPECT_FALSE(OnDisk("alice@example.com"));
  EXPECT_FALSE(OnDisk("91310115MA1K3L8Q2X"));

  // Without the master key: personal fields cannot be read, the sealed log
  // can; auditors verify without it.
  CliRun keyless = Tally("events " + data);
  EXPECT_EQ(keyless.exit_code, 3);
  EXPECT_NE(keyless.err.find("give the master key with --master-key-file"), std::string::npos)
      << keyless.err;
  EXPECT_EQ(Tally("events --sealed " + data).exit_code, 0);
  EXPECT_EQ(Tally("audit verify " + data).exit_code, 0);
  CliRun events = Tally("events " + data + key);
  EXPECT_NE(events.out.find(R"("email":{"plaintext":"alice@example.com"})"), std::string::npos);

  // Bob's invoice is recent: his billing identity stays for it.
  CliRun bob = Tally("shred " + data + " acct-bob --purpose all --csv --by dpo" + key);
  EXPECT_EQ(bob.exit_code, 0) << bob.err;
  EXPECT_NE(bob.out.find("acct-bob,profile,shredded,"), std::string::npos) << bob.out;
  EXPECT_NE(bob.out.find("acct-bob,billing,\"kept for its invoices until 2033-"), std::string::npos)
      << bob.out;
  CliRun statement = Tally("statement " + data + " acct-bob" + key);
  EXPECT_NE(statement.out.find("Statement of acct-bob (email erased)"), std::string::npos)
      << statement.out;
  CliRun bob_invoice = Tally("invoice " + data + " INV-2026-000002" + key);
  EXPECT_NE(bob_invoice.out.find("tax_id 91310115MA1K3L8Q2X"), std::string::npos)
      << bob_invoice.out;

  // The imported 2018 account is past its invoice's horizon: all goes.
  CliRun legacy = Tally("shred " + data + " acct-legacy --purpose all --csv" + key);
  EXPECT_EQ(legacy.exit_code, 0) << legacy.err;
  EXPECT_NE(legacy.out.find("acct-legacy,billing,shredded,"), std::string::npos) << legacy.out;
  CliRun old_invoice = Tally("invoice " + data + " INV-2018-000001 --json" + key);
  EXPECT_NE(old_invoice.out.find(R"({"bill_to":{"legal_name":"erased","tax_id":"erased"})"),
            std::string::npos)
      << old_invoice.out;
  EXPECT_NE(old_invoice.out.find(R"("total":{"currency":"EUR","value":"20.00"})"),
            std::string::npos);

  // A legal hold blocks an erasure and says so.
  EXPECT_EQ(Tally("legal-hold place " + data + " acct-alice --reason case-7" + key).exit_code, 0);
  CliRun held = Tally("shred " + data + " acct-alice --purpose profile" + key);
  EXPECT_EQ(held.exit_code, 4);
  EXPECT_NE(held.err.find("under legal hold (case-7)"), std::string::npos) << held.err;
  EXPECT_EQ(Tally("legal-hold release " + data + " acct-alice --reason closed" + key).exit_code, 0);
  EXPECT_EQ(Tally("shred " + data + " acct-alice --purpose profile" + key).exit_code, 0);
  EXPECT_EQ(Tally("shred " + data + " acct-alice --purpose nonsense" + key).exit_code, 3);

  EXPECT_EQ(Tally("audit verify " + data).exit_code, 0);
  EXPECT_FALSE(OnDisk("alice@example.com"));
  EXPECT_FALSE(OnDisk("Legacy Studio GmbH"));

  // Master-key rotation: afterwards only the new key opens the store.
  EXPECT_EQ(Tally("master-key new --out " + Path("new.key")).exit_code, 0);
  EXPECT_EQ(Tally("master-key new --out " + Path("new.key")).exit_code, 3);  // never overwritten
  EXPECT_EQ(
      Tally("master-key rotate " + data + " --new-key-file " + Path("new.key") + key).exit_code, 0);
  EXPECT_EQ(Tally("events " + data + key).exit_code, 3);
  CliRun rotated =
      Tally("invoice " + data + " INV-2026-000002 --master-key-file " + Path("new.key"));
  EXPECT_EQ(rotated.exit_code, 0) << rotated.err;
  EXPECT_NE(rotated.out.find("tax_id 91310115MA1K3L8Q2X"), std::string::npos) << rotated.out;
}

// Retention on the demo data: its imported 2018 history is past the 7-year
// horizon, the rest is not. Every interface that removes anything is tried
// on a record younger than its horizon: `retention apply --through` is
// refused, and `shred --purpose billing` keeps a recent invoice's identity
// (CliPrivacyTest).
TEST_F(CliPrivacyTest, RetentionPlanAndApplyOnTheDemoData) {
  ASSERT_NO_FATAL_FAILURE(AppendDemoDay("d"));
  const std::string data = "--data " + Path("d/ledger");
  const std::string key = " --master-key-file " + Path("d/master.key");
  CliRun plan = Tally("retention plan " + data);
  EXPECT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_NE(plan.out.find("archivable now: seqs 1..4"), std::string::npos) << plan.out;
  CliRun young = Tally("retention apply " + data + " --through 5" + key);
  EXPECT_EQ(young.exit_code, 3);
  EXPECT_NE(young.err.find("seq 5 (account_opened, accounts, kept 7 years) is kept until"),
            std::string::npos)
      << young.err;
  CliRun apply = Tally("retention apply " + data + " --csv" + key);
  EXPECT_EQ(apply.exit_code, 0) << apply.err;
  EXPECT_NE(apply.out.find("segment-00000000000000000001-00000000000000000004,1,4,"),
            std::string::npos)
      << apply.out;
  CliRun verify = Tally("audit verify " + data + " --csv");
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_NE(verify.out.find("archive,ok,4,,"), std::string::npos) << verify.out;
  CliRun first = Tally("events " + data + " --limit 1" + key);
  EXPECT_NE(first.out.find(R"("id":"legacy-0001")"), std::string::npos) << first.out;
  EXPECT_EQ(Tally("rebuild " + data + " --all").exit_code, 0);
  CliRun again = Tally("retention apply " + data + key);
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.out.find("nothing is past its horizon"), std::string::npos) << again.out;

  // A damaged archive fails the audit, naming the segment.
  const std::string segment =
      Path("d/ledger/archive/segment-00000000000000000001-00000000000000000004.capnp");
  {
    std::fstream file(segment, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(40);
    file.put('\x7f');
  }
  CliRun damaged = Tally("audit verify " + data + " --csv");
  EXPECT_EQ(damaged.exit_code, 5);
  EXPECT_NE(damaged.out.find("archive,failed"), std::string::npos) << damaged.out;

  // A policy with a typo is refused, naming the file.
  std::ofstream(Path("d/ledger/retention.json"))
      << R"({"rules":[{"category":"invoice","years":10}]})";
  CliRun typo = Tally("retention plan " + data);
  EXPECT_EQ(typo.exit_code, 3);
  EXPECT_NE(typo.err.find("retention.json"), std::string::npos) << typo.err;
}

// TALLY_MASTER_KEY_FILE names the master key where --master-key-file is
// not given; the flag wins over it. Each run gets its environment from the
// shell line, never from setenv in this process.
TEST_F(CliPrivacyTest, TheMasterKeyFromTheEnvironmentAndTheFlag) {
  ASSERT_NO_FATAL_FAILURE(AppendDemoDay("d"));
  const std::string data = " --data " + Path("d/ledger");
  const std::string key = Path("d/master.key");
  CliRun from_env = Shell("TALLY_MASTER_KEY_FILE=" + key + " $TALLY events" + data);
  EXPECT_EQ(from_env.exit_code, 0) << from_env.err;
  EXPECT_NE(from_env.out.find(R"("email":{"plaintext":"alice@example.com"})"), std::string::npos);
  CliRun flag_wins = Shell("TALLY_MASTER_KEY_FILE=" + Path("absent.key") + " $TALLY events" + data +
                           " --master-key-file " + key);
  EXPECT_EQ(flag_wins.exit_code, 0) << flag_wins.err;
  CliRun bad_env = Shell("TALLY_MASTER_KEY_FILE=" + Path("absent.key") + " $TALLY events" + data);
  EXPECT_EQ(bad_env.exit_code, 3);
  EXPECT_NE(bad_env.err.find("master key file"), std::string::npos) << bad_env.err;
  CliRun empty_env = Shell("TALLY_MASTER_KEY_FILE= $TALLY events" + data);
  EXPECT_EQ(empty_env.exit_code, 3);
  EXPECT_NE(empty_env.err.find("give the master key with --master-key-file"), std::string::npos)
      << empty_env.err;

  // rotate takes the current key from either; with neither it is a usage error.
  ASSERT_EQ(Tally("master-key new --out " + Path("new.key")).exit_code, 0);
  CliRun keyless = Tally("master-key rotate" + data + " --new-key-file " + Path("new.key"));
  EXPECT_EQ(keyless.exit_code, 2);
  EXPECT_NE(keyless.err.find("no master key: give --master-key-file or set TALLY_MASTER_KEY_FILE"),
            std::string::npos)
      << keyless.err;
  CliRun rotate = Shell("TALLY_MASTER_KEY_FILE=" + key + " $TALLY master-key rotate" + data +
                        " --new-key-file " + Path("new.key"));
  EXPECT_EQ(rotate.exit_code, 0) << rotate.err;
  EXPECT_EQ(Shell("TALLY_MASTER_KEY_FILE=" + Path("new.key") + " $TALLY invoice" + data +
                  " INV-2026-000002")
                .exit_code,
            0);

  // The demo uses the key the environment names instead of making one.
  CliRun demo = Shell("TALLY_MASTER_KEY_FILE=" + Path("new.key") +
                      " $TALLY demo --accounts 20 --days 2 --data " + Path("d2"));
  EXPECT_EQ(demo.exit_code, 0) << demo.err;
  EXPECT_NE(demo.out.find("(master key " + Path("new.key") + ")"), std::string::npos) << demo.out;
  EXPECT_FALSE(std::filesystem::exists(Path("d2/master.key")));
}

// A directory where a file is expected is an error message, never a crash.
TEST_F(CliPrivacyTest, ADirectoryGivenForAKeyFileIsAnErrorNotACrash) {
  ASSERT_NO_FATAL_FAILURE(AppendDemoDay("d"));
  const std::string data = "--data " + Path("d/ledger");
  for (const std::string& command : {"audit checkpoint " + data + " --key " + Path("d") +
                                         " --master-key-file " + Path("d/master.key"),
                                     "events " + data + " --master-key-file " + Path("d"),
                                     "audit verify " + data + " --public-key " + Path("d")}) {
    CliRun run = Tally(command);
    EXPECT_NE(run.exit_code, 0) << command;
    EXPECT_EQ(run.err.find("internal error"), std::string::npos) << command << ": " << run.err;
    EXPECT_NE(run.err.find(Path("d")), std::string::npos) << command << ": " << run.err;
  }
}

}  // namespace
}  // namespace tally
