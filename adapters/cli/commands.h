// The commands of the `tally` binary. Each returns an exit code
// (adapters/cli/exit_codes.h) and writes results to `out`, messages to `err`.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "events/limits.h"
#include "projections/log_range.h"
#include "reports/report.h"
#include "workload/workload.h"

namespace tally::cli {

struct Io {
  std::ostream& out;
  std::ostream& err;
};

// The master key file that opens the personal fields of a data directory:
// --master-key-file, else $TALLY_MASTER_KEY_FILE (the command line reads
// both, adapters/cli/cmd.h). An empty path: none was given.
struct MasterKeyFile {
  std::string path;
};

// tally append --data DIR FILE|-
int RunAppend(const std::string& data_dir, const std::string& file, const MasterKeyFile& master_key,
              OutputFormat format, Io io);

// Which prefix of the log a report reads: --at-seq N and/or --as-of TIME.
struct AsOf {
  std::string at_seq;  // a seq from 1 to the head; empty: the head
  std::string as_of;   // RFC 3339; empty: now
};

// tally balance --data DIR [ACCOUNT...] [--at-seq N] [--as-of T]; no account: every account.
int RunBalance(const std::string& data_dir, const std::vector<std::string>& accounts,
               const AsOf& as_of, OutputFormat format, Io io);

// tally statement --data DIR ACCOUNT [--from T] [--at-seq N] [--as-of T]
int RunStatement(const std::string& data_dir, const std::string& account, const std::string& from,
                 const AsOf& as_of, const MasterKeyFile& master_key, OutputFormat format, Io io);

// tally trial-balance --data DIR [--at-seq N] [--as-of T]
int RunTrialBalance(const std::string& data_dir, const AsOf& as_of, OutputFormat format, Io io);

// tally revenue --data DIR [--at-seq N] [--as-of T]
int RunRevenue(const std::string& data_dir, const AsOf& as_of, OutputFormat format, Io io);

// tally invoices --data DIR [--account A] [--at-seq N] [--as-of T]
int RunInvoices(const std::string& data_dir, const std::string& account, const AsOf& as_of,
                OutputFormat format, Io io);

// tally subscriptions --data DIR [--totals] [--at-seq N] [--as-of T]: each
// subscription, or (--totals) MRR and ARR per currency.
int RunSubscriptions(const std::string& data_dir, bool totals, const AsOf& as_of,
                     OutputFormat format, Io io);

// tally tasks --data DIR [--open] [--at-seq N] [--as-of T]: credits per
// model, or (--open) the holds still open.
int RunTasks(const std::string& data_dir, bool open_holds, const AsOf& as_of, OutputFormat format,
             Io io);

// tally lots --data DIR ACCOUNT...: the live credit lots of each account in
// burn order at the head: the log opened for reading replays itself, so it
// answers beside a running `tally serve` (time grows with the log).
int RunLots(const std::string& data_dir, const std::vector<std::string>& accounts,
            OutputFormat format, Io io);

// tally invoice --data DIR NUMBER: one invoice or credit note, its lines.
int RunInvoice(const std::string& data_dir, const std::string& number,
               const MasterKeyFile& master_key, OutputFormat format, Io io);

// tally shred --data DIR SUBJECT --purpose profile|billing|all [--by NAME]:
// appends erasure_requested for the subject. The ledger shreds the profile
// key at once, and the billing key once the horizon of the subject's last
// invoice has passed; a legal hold rejects it (exit 4).
int RunShred(const std::string& data_dir, const std::string& subject, const std::string& purpose,
             const std::string& by, const MasterKeyFile& master_key, OutputFormat format, Io io);

// tally master-key new --out FILE: a new random master key, mode 0600.
int RunMasterKeyNew(const std::string& out, Io io);

// tally master-key rotate --data DIR --new-key-file FILE (the current key:
// `master_key`): re-wraps every data key under the new master key.
int RunMasterKeyRotate(const std::string& data_dir, const std::string& next_file,
                       const MasterKeyFile& master_key, Io io);

// tally legal-hold place|release --data DIR SUBJECT --reason R [--by NAME]
int RunLegalHold(const std::string& data_dir, const std::string& subject, bool place,
                 const std::string& reason, const std::string& by, const MasterKeyFile& master_key,
                 OutputFormat format, Io io);

// tally retention plan --data DIR: per record category, how many live
// events are past their horizon, and which prefix of the log is archivable.
int RunRetentionPlan(const std::string& data_dir, OutputFormat format, Io io);

// tally retention apply --data DIR [--through SEQ]: archives the live
// records past their horizon (through SEQ; 0: all that are) to DIR/archive
// and purges them; refuses anything younger than its horizon (exit 3).
int RunRetentionApply(const std::string& data_dir, uint64_t through_seq,
                      const MasterKeyFile& master_key, OutputFormat format, Io io);

// tally events --data DIR [--from-seq N] [--limit N] [--sealed]: the log as
// NDJSON, personal fields opened with the master key (`erased` once
// shredded), or as stored with --sealed.
int RunEvents(const std::string& data_dir, uint64_t from_seq, uint64_t limit, bool sealed,
              const MasterKeyFile& master_key, Io io);

// tally journal --data DIR [--account A] [--from-seq N]: the postings of every event.
int RunJournal(const std::string& data_dir, const std::string& account, uint64_t from_seq,
               OutputFormat format, Io io);

// tally rebuild --data DIR [NAME...]: drops the named projections (none:
// all) and folds them again from seq 1, with a progress bar.
int RunRebuild(const std::string& data_dir, const std::vector<std::string>& names,
               OutputFormat format, Io io);

// tally audit verify --data DIR [--public-key FILE]: re-reads the log, checks
// the hash chain, seq continuity, every journal entry by replay, the indexes
// and the trial balance; rebuilds every projection in scratch space and
// compares it with the live one; with a public key, every signed checkpoint.
int RunAuditVerify(const std::string& data_dir, const std::string& public_key_file,
                   OutputFormat format, Io io);

// What audit verify found: a row per check, and the first failure (ok if
// none). A non-ok Result: the checks could not run (no log, a bad key file).
struct AuditOutcome {
  Report checks;
  Status status;
};
// `progress`, if given, is told the rows so far after each check.
Result<AuditOutcome> AuditVerify(const std::string& data_dir, const std::string& public_key_file,
                                 const std::function<void(const Report&)>& progress = {});

// tally audit export --data DIR OUT: the log with hashes and a manifest.
// tally audit accesses: every read of personal fields the service recorded
// (personal_data_accessed); `subject` empty: every subject.
int RunAuditAccesses(const std::string& data_dir, const std::string& subject, const AsOf& as_of,
                     OutputFormat format, Io io);

int RunAuditExport(const std::string& data_dir, const std::string& out, OutputFormat format, Io io);

// tally audit verify --export DIR [--public-key FILE]: offline, no database.
int RunAuditVerifyExport(const std::string& export_dir, const std::string& public_key_file,
                         OutputFormat format, Io io);

// tally audit keygen --out FILE: a new Ed25519 checkpoint key (FILE, FILE.pub).
int RunAuditKeygen(const std::string& out, Io io);

// tally audit checkpoint --data DIR --key FILE: signs the head into the log.
int RunAuditCheckpoint(const std::string& data_dir, const std::string& key_file,
                       const MasterKeyFile& master_key, OutputFormat format, Io io);

// tally token create --data DIR --role ROLE --name NAME: a new API token,
// printed once (only its hash is kept).
int RunTokenCreate(const std::string& data_dir, const std::string& role, const std::string& name,
                   OutputFormat format, Io io);
// tally token list --data DIR: every token, live and revoked (no secrets).
int RunTokenList(const std::string& data_dir, OutputFormat format, Io io);
// tally token revoke --data DIR ID
int RunTokenRevoke(const std::string& data_dir, const std::string& id, Io io);

struct ServeOptions {
  std::string data_dir;
  std::string brokers;  // empty: librdkafka's mock cluster, in process
  std::vector<std::string> topics = {"tally.events"};
  std::string group_id = "tally";
  std::string instance_id;  // static group membership; empty: none
  std::string changelog_topic = "tally.changelog";
  std::string outcomes_topic = "tally.outcomes";
  std::string dead_letter_topic = "tally.dead-letter";
  bool binary_out = false;           // changelog and outcomes as Cap'n Proto
  int64_t status_every_ms = 10'000;  // a status line this often
  int64_t exit_when_idle_ms = 0;     // stop after this long with nothing to do; 0: never
  int partitions = 4;                // of the events topics of the mock cluster
  int fetch_wait_max_ms = 50;        // KafkaIngestOptions::fetch_wait_max_ms
  std::string listen;                // HOST:PORT of the HTTP API; empty: none
  bool kafka = true;                 // false: HTTP only (needs `listen`)
  double rate_limit = limits::kHttpTokenRequestsPerSecond;  // per token; 0: none
  MasterKeyFile master_key;
};

// tally serve: Kafka in (exactly-once ingest) and out (changelog, hold
// outcomes, dead letters) until SIGTERM or SIGINT (docs/kafka.md); with
// `listen`, the HTTP API too (docs/api.md), the one owner of the stores.
int RunServe(const ServeOptions& options, OutputFormat format, Io io);

struct PublishOptions {
  std::string brokers;
  std::string topic = "tally.events";
  std::string file;     // NDJSON; - for stdin
  bool binary = false;  // Cap'n Proto messages instead of JSON
};

// tally publish: validates an NDJSON file of events, then produces each one
// keyed by its account, with the content-type header.
int RunPublish(const PublishOptions& options, OutputFormat format, Io io);

struct DemoOptions {
  std::string data_dir;  // empty: a new temporary directory
  bool keep = false;     // keep a temporary directory afterwards
  OutputFormat format = OutputFormat::kTable;
  MasterKeyFile master_key;  // none: DIR/master.key, made if missing
  workload::WorkloadOptions workload;
  int connections = 8;  // HTTP clients asking for holds
};

// tally demo: drives the generated month through a service (HTTP holds,
// Kafka facts, operator erasure) and prints a report that checks itself.
int RunDemo(const DemoOptions& options, Io io);

struct LoadOptions {
  std::string url;     // http://HOST:PORT of a running tally serve
  std::string token;   // a publisher's (or operator's) token
  double rate = 1000;  // events a second, holds included
  int duration_s = 10;
  int connections = 16;
  std::string kafka_brokers;  // set: facts to Kafka, holds still over HTTP
  std::string topic = "tally.events";
  // 200 accounts: their signups are the first 400 events, then tasks.
  workload::WorkloadOptions workload = {.accounts = 200};
  OutputFormat format = OutputFormat::kTable;
};

// tally load: the demo's workload against a running service at `rate`,
// reported each second and at the end. kExitFailure if any request failed.
int RunLoad(const LoadOptions& options, Io io);

// tally generate: the workload as NDJSON on `out` ("-": stdout).
int RunGenerate(const workload::WorkloadOptions& options, const std::string& out, Io io);

}  // namespace tally::cli
