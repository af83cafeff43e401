// Runs the real `tally` binary as a user would, and checks output and exit codes.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/events/event_fixtures.h"
#include "tests/temp_dir.h"

namespace tally {
namespace {

using testing::TopUp;
using testing::Usage;

struct CliRun {
  int exit_code;
  std::string out;
  std::string err;
};

class CliTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) { return dir_.path() + "/" + name; }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(Path(name)) << text;
  }

  std::string Read(const std::string& name) {
    std::ifstream in(Path(name));
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // Runs `tally ARGS < stdin_file`.
  CliRun Tally(const std::string& args, const std::string& stdin_file = "/dev/null") {
    std::string command = std::string(TALLY_BINARY) + " " + args + " <" + stdin_file + " >" +
                          Path("out") + " 2>" + Path("err");
    int status = std::system(command.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, Read("out"), Read("err")};
  }

  std::string Data() { return "--data " + Path("ledger"); }

  testing::TempDir dir_;
};

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

TEST_F(CliTest, DemoPrintsBalancesAndCleansUp) {
  CliRun demo = Tally("demo");
  EXPECT_EQ(demo.exit_code, 0) << demo.err;
  EXPECT_NE(demo.out.find("acct-alice         725.500000    150.000000"), std::string::npos)
      << demo.out;
  EXPECT_NE(demo.out.find("1 duplicate acknowledged"), std::string::npos) << demo.out;
  CliRun json = Tally("demo --json --data " + Path("demo"));
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.out.find(R"("account":"acct-carol","available_credits":"0.000000",)"
                          R"("held_credits":"0.000000","receivable_credits":"4.250000")"),
            std::string::npos)
      << json.out;
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
  CliRun bad = Tally("audit verify " + Data());
  EXPECT_EQ(bad.exit_code, 5);
  EXPECT_NE(bad.err.find("seq 2"), std::string::npos) << bad.err;
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
  ASSERT_EQ(Tally("demo --data " + Path("d")).exit_code, 0);
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
  CliRun invoice = Tally("invoice " + data + " INV-2026-000001 --json");
  EXPECT_NE(invoice.out.find(R"("type":"invoice_issued")"), std::string::npos) << invoice.out;
  EXPECT_EQ(Tally("invoice " + data + " INV-1999-000001").exit_code, 2);
  CliRun trial = Tally("trial-balance " + data + " --csv");
  EXPECT_EQ(trial.exit_code, 0) << trial.err;
  EXPECT_NE(trial.out.find("deferred_revenue,CNY,,35.66\r\n"), std::string::npos) << trial.out;
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

}  // namespace
}  // namespace tally
