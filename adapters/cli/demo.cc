// tally demo: one realistic day of a small image/video generation platform,
// through Kafka (the embedded mock cluster) into the ledger.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "adapters/cli/commands.h"
#include "adapters/cli/exit_codes.h"
#include "adapters/cli/ndjson_append.h"
#include "adapters/cli/serve.h"
#include "adapters/cli/support.h"
#include "adapters/kafka/producer.h"
#include "events/check.h"
#include "projections/balance.h"

namespace tally::cli {
namespace {

std::string Envelope(const std::string& id, const std::string& account, const std::string& at,
                     const std::string& producer, const std::string& type,
                     const std::string& data) {
  return "{\"id\":\"" + id + "\",\"account\":\"" + account + "\",\"occurred_at\":\"2026-11-20T" +
         at + "Z\",\"producer\":\"" + producer + "\",\"type\":\"" + type + "\",\"data\":" + data +
         "}\n";
}

std::string Usage(const std::string& id, const std::string& account, const std::string& at,
                  const std::string& credits, const std::string& model) {
  return Envelope(
      id, account, at, "render-api", "usage_recorded",
      "{\"usage_id\":\"" + id + "\",\"credits\":\"" + credits + "\",\"model\":\"" + model + "\"}");
}

std::string Task(const std::string& id, const std::string& account, const std::string& at,
                 const std::string& type, const std::string& task, const std::string& field,
                 const std::string& credits) {
  std::string data = "{\"task_id\":\"" + task + "\"";
  if (type == "task_submitted") data += ",\"model\":\"video-10s\"";
  if (!field.empty()) data += ",\"" + field + "\":\"" + credits + "\"";
  return Envelope(id, account, at, "render-api", type, data + "}");
}

// History imported from an older billing system: an account of 2018, so
// that retention has records past the 7-year horizon to archive.
std::string ImportedHistory() {
  return R"({"id":"legacy-0001","account":"acct-legacy","occurred_at":"2018-03-02T10:00:00Z","producer":"migration","imported":true,"type":"account_opened","data":{"email":{"plaintext":"legacy.user@example.org"},"legal_name":{"plaintext":"Legacy Studio GmbH"},"tax_id":{"plaintext":"DE811122233"},"country":"DE"}})"
         "\n"
         R"({"id":"legacy-0002","account":"acct-legacy","occurred_at":"2018-03-02T10:05:00Z","producer":"migration","imported":true,"type":"top_up_settled","data":{"provider":"stripe","reference":"ch_legacy1","amount":{"currency":"EUR","value":"20.00"},"tax":{"currency":"EUR","value":"3.19"},"tax_jurisdiction":"DE","credits":"2000"}})"
         "\n"
         R"({"id":"legacy-0003","account":"acct-legacy","occurred_at":"2018-04-11T16:20:00Z","producer":"migration","imported":true,"type":"usage_recorded","data":{"usage_id":"legacy-u1","credits":"1999","model":"image-sd"}})"
         "\n";
}

// Four accounts: a Stripe customer paying USD who runs tasks, an Alipay
// customer paying CNY who gets a partial refund, a trial user who spends
// beyond the promotional credits, and a JPY subscriber.
std::string DemoDay() {
  std::string day;
  day += Envelope(
      "evt-0001", "acct-alice", "08:02:11", "accounts", "account_opened",
      R"({"email":{"plaintext":"alice@example.com"},"display_name":{"plaintext":"Alice Park"},)"
      R"("ip_address":{"plaintext":"203.0.113.24"},"country":"US"})");
  day += Envelope(
      "evt-0002", "acct-alice", "08:05:40", "payments", "top_up_settled",
      R"({"provider":"stripe","reference":"pi_3QxA1","amount":{"currency":"USD","value":"10.00"},)"
      R"("tax":{"currency":"USD","value":"0.83"},"tax_jurisdiction":"US-CA","credits":"1000"})");
  day += Envelope(
      "evt-0003", "acct-bob", "09:12:03", "accounts", "account_opened",
      R"({"email":{"plaintext":"bob@example.cn"},"invoice_title":{"plaintext":"上海星图数字科技有限公司"},)"
      R"("tax_id":{"plaintext":"91310115MA1K3L8Q2X"},"country":"CN"})");
  day += Envelope(
      "evt-0004", "acct-bob", "09:14:27", "payments", "top_up_settled",
      R"({"provider":"alipay","reference":"2026112022001","amount":{"currency":"CNY","value":"68.00"},)"
      R"("tax":{"currency":"CNY","value":"3.85"},"tax_jurisdiction":"CN","credits":"1000",)"
      R"("lot_expires_at":"2027-11-20T00:00:00Z"})");
  day += Envelope(
      "evt-0005", "acct-carol", "10:30:00", "growth", "credits_granted",
      R"({"credits":"50","kind":"promotional","expires_at":"2026-12-20T00:00:00Z","reason":"signup trial"})");
  day += Usage("evt-0006", "acct-alice", "10:41:09", "4", "image-xl");
  day += Task("evt-0007", "acct-alice", "11:03:52", "task_submitted", "vid-7", "estimate", "150");
  day += Task("evt-0008", "acct-alice", "11:05:10", "task_succeeded", "vid-7", "cost", "120.5");
  day += Task("evt-0009", "acct-alice", "11:20:00", "task_submitted", "vid-8", "estimate", "150");
  day += Usage("evt-0010", "acct-bob", "12:20:31", "4", "image-xl");
  day += Usage("evt-0011", "acct-carol", "13:01:17", "48", "video-5s");
  day += Usage("evt-0012", "acct-carol", "13:02:44", "6.25", "upscale");
  day += Usage("evt-0013", "acct-bob", "15:47:05", "240", "video-10s");
  day += Usage("evt-0013", "acct-bob", "15:47:05", "240", "video-10s");  // redelivered
  day += Envelope(
      "evt-0014", "acct-bob", "16:30:00", "payments", "refund_issued",
      R"({"refund_id":"rf-1","payment_reference":"2026112022001","provider":"alipay",)"
      R"("amount":{"currency":"CNY","value":"13.60"},"credits":"200","reason":"unused credits"})");
  day += Envelope(
      "evt-0015", "acct-yuki", "17:00:00", "billing", "subscription_started",
      R"({"subscription_id":"sub-yuki","plan":"pro-monthly","interval":"month","first_period":)"
      R"({"period_start":"2026-11-20T17:00:00Z","period_end":"2026-12-20T17:00:00Z",)"
      R"("amount":{"currency":"JPY","value":"1500"},"tax":{"currency":"JPY","value":"136"},)"
      R"("tax_jurisdiction":"JP","credits":"3000","provider":"stripe","reference":"in_1Yk"}})");
  day += Usage("evt-0016", "acct-yuki", "17:30:00", "12", "image-xl");
  return day;
}

Result<std::string> MakeTempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "tally-demo-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return Status::IoError("cannot create a temporary directory under " +
                           std::filesystem::temp_directory_path().string());
  }
  return pattern;
}

// The master key for the demo's personal fields: `given` (from
// TALLY_MASTER_KEY_FILE), else `dir`/master.key, made if missing.
Result<MasterKeyFile> EnsureMasterKey(const MasterKeyFile& given, const std::string& dir) {
  if (!given.path.empty()) return given;
  MasterKeyFile made{dir + "/master.key"};
  if (!std::filesystem::exists(made.path)) {
    if (auto key = MasterKey::Generate(made.path); !key.ok()) return key.status();
  }
  return made;
}

// Publishes `day` to an embedded Kafka and serves it into `ledger` until idle.
Result<ServeTotals> ThroughKafka(const std::string& day, const std::string& ledger_dir,
                                 Ledger& ledger) {
  ServeOptions options;
  options.data_dir = ledger_dir;
  options.exit_when_idle_ms = 300;
  options.partitions = 1;  // one partition: the log's order is the day's, run after run
  options.status_every_ms = INT64_MAX;
  auto kafka = StartEmbeddedKafka(options);
  if (!kafka.ok()) return kafka.status();
  EventCodec codec;
  std::istringstream in(day);
  auto read = ReadNdjson(in, 0, codec, SIZE_MAX);
  if (!read.ok()) return read.status();
  TALLY_CHECK(read->errors_total == 0);
  auto producer = EventProducer::Create({.brokers = (*kafka)->bootstrap()});
  if (!producer.ok()) return producer.status();
  for (const Event& event : read->events) {
    if (auto status = (*producer)->Produce(event); !status.ok()) return status;
  }
  if (auto status = (*producer)->Flush(); !status.ok()) return status;
  std::ostringstream status_lines;  // the demo prints its own summary
  std::ostringstream unused;
  const std::atomic<bool> stop{false};
  SystemClock clock;
  const ServeLog log(Io{unused, status_lines}, OutputFormat::kTable, &clock);
  return Serve(ledger, options, {(*kafka)->bootstrap(), (*kafka)->cluster_id()}, stop, log);
}

// What the demo did, before the balances (table output).
void PrintTotals(const ServeTotals& totals, Io io) {
  io.out << "Imported a 2018 history for one account, then published one day of events for 4 "
            "accounts to Kafka (librdkafka's mock cluster, in this process); tally serve took "
         << totals.ingest.messages << " messages exactly once (" << totals.ingest.appended
         << " appended, " << totals.ingest.duplicates << " redelivery acknowledged as a duplicate, "
         << totals.ingest.rejected << " rejected, " << totals.ingest.malformed
         << " malformed) and published the log to the changelog topic ("
         << totals.published.changelog << " events with seq and hash), "
         << totals.published.outcomes << " hold outcomes and " << totals.published.dead_letters
         << " dead letters.\n\n";
}

}  // namespace

int RunDemo(const DemoOptions& options, Io io) {
  std::string data_dir = options.data_dir;
  bool temporary = data_dir.empty();
  if (temporary) {
    auto dir = MakeTempDir();
    if (!dir.ok()) {
      io.err << "tally demo: " << dir.status().ToString() << '\n';
      return ExitCodeFor(dir.status());
    }
    data_dir = *dir;
  }
  const std::string day = DemoDay();
  std::string ledger_dir = data_dir + "/ledger";
  int code = kExitOk;
  MasterKeyFile master_key;
  {
    std::error_code ignored;
    std::filesystem::create_directories(data_dir, ignored);
    auto key = EnsureMasterKey(options.master_key, data_dir);
    if (!key.ok()) {
      io.err << "tally demo: " << key.status().ToString() << '\n';
      return ExitCodeFor(key.status());
    }
    master_key = *key;
    SystemClock clock;
    auto ledger = OpenLedger(ledger_dir, master_key, &clock, /*create_if_missing=*/true);
    if (!ledger.ok()) {
      io.err << "tally demo: " << ledger.status().ToString() << '\n';
      return ExitCodeFor(ledger.status());
    }
    // The migration first, as `tally append` would: history is imported in
    // time order before live events.
    std::istringstream history(ImportedHistory());
    auto imported = AppendNdjson(history, 0, EventCodec(), **ledger);
    if (!imported.ok() || !imported->errors.empty()) {
      io.err << "tally demo: the imported history failed to append\n";
      return kExitFailure;
    }
    auto totals = ThroughKafka(day, ledger_dir, **ledger);
    if (!totals.ok()) {
      io.err << "tally demo: " << totals.status().ToString() << '\n';
      return ExitCodeFor(totals.status());
    }
    if (options.format == OutputFormat::kTable) PrintTotals(*totals, io);
  }
  code = RunBalance(ledger_dir, {}, AsOf{}, options.format, io);
  if (temporary && !options.keep) {
    std::error_code ignored;
    std::filesystem::remove_all(data_dir, ignored);
  } else if (options.format == OutputFormat::kTable) {
    io.out << "\nData kept in " << ledger_dir << " (master key " << master_key.path << "); try:\n"
           << "  export TALLY_MASTER_KEY_FILE=" << master_key.path << '\n'
           << "  tally statement --data " << ledger_dir << " acct-alice\n"
           << "  tally shred --data " << ledger_dir << " acct-alice --purpose all\n"
           << "  tally retention plan --data " << ledger_dir << '\n';
  }
  return code;
}

}  // namespace tally::cli
