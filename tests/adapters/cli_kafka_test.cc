// tally publish and tally serve, run as a user would, against librdkafka's
// mock cluster hosted by the test process.
#include <gtest/gtest.h>

#include <string>

#include "adapters/kafka/embedded.h"
#include "tests/adapters/cli_fixture.h"
#include "tests/events/event_fixtures.h"

namespace tally {
namespace {

using testing::TopUp;
using testing::Usage;

class CliKafkaTest : public CliTest {
 protected:
  void SetUp() override {
    const TopicSpec topics[] = {{"tally.events", 4},
                                {"tally.changelog", 1},
                                {"tally.outcomes", 1},
                                {"tally.dead-letter", 1}};
    auto kafka = EmbeddedKafka::Start(topics);
    ASSERT_TRUE(kafka.ok()) << kafka.status().ToString();
    kafka_ = std::move(kafka).value();
  }

  std::string Brokers() { return kafka_->bootstrap(); }

  // The last line of `text`.
  static std::string LastLine(const std::string& text) {
    size_t end = text.find_last_not_of('\n');
    if (end == std::string::npos) return "";
    size_t start = text.rfind('\n', end);
    return text.substr(start == std::string::npos ? 0 : start + 1, end + 1 - start - 1);
  }

  std::unique_ptr<EmbeddedKafka> kafka_;
};

TEST_F(CliKafkaTest, PublishedEventsAreServedIntoTheLedgerOnce) {
  std::string day;
  for (int i = 0; i < 30; ++i) {
    const std::string account = "acct-" + std::to_string(i % 3);
    day += (i % 2 == 0 ? TopUp("t" + std::to_string(i), account, "10")
                       : Usage("u" + std::to_string(i), account, "1")) +
           "\n";
  }
  day += TopUp("t0", "acct-0", "10") + "\n";  // sent twice by its producer
  Write("day.ndjson", day);
  Write("bad.ndjson", TopUp("t99", "acct-9", "10") + "\n{\"id\":\"x\"}\n");

  CliRun bad = Tally("publish --brokers " + Brokers() + " " + Path("bad.ndjson"));
  EXPECT_EQ(bad.exit_code, 3) << bad.err;
  EXPECT_NE(bad.err.find("line 2:"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("nothing was published"), std::string::npos) << bad.err;

  CliRun json = Tally("publish --brokers " + Brokers() + " " + Path("day.ndjson") + " --json");
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(json.out, "{\"published\":31,\"topic\":\"tally.events\",\"format\":\"json\"}\n");
  CliRun binary = Tally("publish --brokers " + Brokers() + " --binary " + Path("day.ndjson"));
  EXPECT_EQ(binary.exit_code, 0) << binary.err;
  EXPECT_NE(binary.out.find("Published 31 events"), std::string::npos) << binary.out;

  CliRun serve = Tally("serve --kafka-brokers " + Brokers() + " " + Data() +
                       " --exit-when-idle-ms 1000 --status-every-ms 60000 --json");
  ASSERT_EQ(serve.exit_code, 0) << serve.err;
  // 62 messages: 30 events appended (15 top-ups, each with its invoice),
  // the rest acknowledged as duplicates; nothing of bad.ndjson.
  const std::string status = LastLine(serve.out);
  EXPECT_NE(status.find("\"head_seq\":45,\"messages\":62,\"appended\":30,\"duplicates\":32,"
                        "\"rejected\":0,\"malformed\":0"),
            std::string::npos)
      << serve.out;
  EXPECT_NE(status.find("\"published_seq\":45,\"changelog\":45"), std::string::npos) << status;
  EXPECT_NE(status.find("\"lag\":0,\"partitions\":4"), std::string::npos) << status;
  EXPECT_NE(serve.err.find("stopped cleanly at head seq 45"), std::string::npos) << serve.err;
  CliRun balance = Tally("balance " + Data() + " acct-0 --csv");
  EXPECT_EQ(balance.exit_code, 0) << balance.err;
  EXPECT_NE(balance.out.find("acct-0,45.000000,"), std::string::npos) << balance.out;
  EXPECT_EQ(Tally("publish --brokers " + Brokers() + " " + Path("absent.ndjson")).exit_code, 3);
}

// Without brokers, serve starts the mock cluster in its own process and
// says where; SIGTERM stops it cleanly (exit 0, the log verifies).
TEST_F(CliKafkaTest, ServeWithoutBrokersRunsEmbeddedAndStopsOnSigterm) {
  CliRun run = Shell("$TALLY serve " + Data() +
                     " --status-every-ms 200 & pid=$!; sleep 4; kill -TERM $pid; wait $pid");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("librdkafka's mock cluster in this process at 127.0.0.1:"),
            std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("| in: 0 messages"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("stopped cleanly"), std::string::npos) << run.err;
  EXPECT_EQ(Tally("audit verify " + Data()).exit_code, 0);
}

// Each `tally serve` without brokers has a new embedded cluster. A restart
// must take every message published to the new one, although the ledger
// stored higher offsets for the old one, and say why it started afresh.
TEST_F(CliKafkaTest, ServeWithoutBrokersTakesEverythingAfterARestart) {
  std::string first, second;
  for (int i = 0; i < 40; ++i) {
    const std::string account = "acct-" + std::to_string(i % 4);
    first += TopUp("first-" + std::to_string(i), account, "10") + "\n";
  }
  for (int i = 0; i < 12; ++i) {
    const std::string account = "acct-" + std::to_string(i % 4);
    second += TopUp("second-" + std::to_string(i), account, "1") + "\n";
  }
  Write("first.ndjson", first);
  Write("second.ndjson", second);
  // Starts serve, publishes FILE to its cluster, waits for `appended` (or
  // 15 s), stops it. Its stderr goes to NAME.err.
  const std::string serve_once =
      "serve_once() { $TALLY serve " + Data() + " --status-every-ms 100 --json >" + Path("$1.out") +
      " 2>" + Path("$1.err") + " & pid=$!; " +
      "for i in $(seq 150); do grep -q 'publish to it with' " + Path("$1.err") +
      " && break; sleep 0.1; done; " +
      "addr=$(sed -n 's/.*tally publish --brokers \\([^ ]*\\) .*/\\1/p' " + Path("$1.err") +
      "); $TALLY publish --brokers $addr " + Path("$1.ndjson") + " >/dev/null || return 9; " +
      "for i in $(seq 150); do grep -q \"\\\"appended\\\":$2,\" " + Path("$1.out") +
      " && break; sleep 0.1; done; kill -TERM $pid; wait $pid; }; ";
  CliRun run = Shell(serve_once + "serve_once first 40 && serve_once second 12");
  ASSERT_EQ(run.exit_code, 0) << run.err << Read("first.err") << Read("second.err");
  const std::string restarted = Read("second.err");
  EXPECT_NE(restarted.find("is of another Kafka cluster (embedded-"), std::string::npos)
      << restarted;
  EXPECT_NE(LastLine(Read("second.out")).find("\"appended\":12,"), std::string::npos)
      << LastLine(Read("second.out"));
  for (int account = 0; account < 4; ++account) {
    CliRun balance = Tally("balance " + Data() + " acct-" + std::to_string(account) + " --csv");
    EXPECT_EQ(balance.exit_code, 0) << balance.err;
    EXPECT_NE(balance.out.find("acct-" + std::to_string(account) + ",103.000000,"),
              std::string::npos)
        << balance.out;
  }
}

TEST_F(CliKafkaTest, ServeNeedsADataDirectoryAndPublishNeedsBrokers) {
  EXPECT_EQ(Tally("serve").exit_code, 2);
  EXPECT_EQ(Tally("publish " + Path("day.ndjson")).exit_code, 2);
  CliRun help = Tally("serve --help");
  EXPECT_EQ(help.exit_code, 0);
  for (const char* option :
       {"--kafka-brokers", "--topic", "--group", "--instance-id", "--changelog-topic",
        "--outcomes-topic", "--dead-letter-topic", "--exit-when-idle-ms", "--out-format",
        "--status-every-ms", "--master-key-file", "--json"}) {
    EXPECT_NE(help.out.find(option), std::string::npos) << option;
  }
  EXPECT_EQ(Tally("serve " + Data() + " --out-format xml").exit_code, 2);
}

}  // namespace
}  // namespace tally
