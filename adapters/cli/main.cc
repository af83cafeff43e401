// The `tally` binary: wires the command line to the commands in commands.h.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "adapters/cli/commands.h"
#include "adapters/cli/exit_codes.h"

namespace {

using tally::OutputFormat;

constexpr const char* kExitCodesHelp =
    "Exit codes:\n"
    "  0  success\n"
    "  1  environment failure (disk, store); retrying may help\n"
    "  2  bad command line, or no ledger at --data\n"
    "  3  input rejected; nothing was written\n"
    "  4  some events rejected (e.g. id conflict); the others were written\n"
    "  5  stored data failed a check; call an operator\n"
    "Docs: docs/cli.md, docs/finance.md, docs/audit.md, docs/events.md, docs/ledger.md";

struct FormatFlags {
  bool json = false;
  bool csv = false;
  OutputFormat format() const {
    return json ? OutputFormat::kJson : csv ? OutputFormat::kCsv : OutputFormat::kTable;
  }
};

void AddAsOf(CLI::App* command, tally::cli::AsOf* as_of) {
  command->add_option("--at-seq", as_of->at_seq,
                      "report the log up to this seq (inclusive; 1 to the head)");
  command->add_option("--as-of", as_of->as_of,
                      "report the log up to this instant, RFC 3339 (recorded_at, inclusive)");
}

// --master-key-file PATH: the same as TALLY_MASTER_KEY_FILE=PATH.
void AddMasterKey(CLI::App* command) {
  command->add_option_function<std::string>(
      "--master-key-file",
      [](const std::string& path) { setenv("TALLY_MASTER_KEY_FILE", path.c_str(), 1); },
      "file of 32 random bytes that wraps the keys of personal fields (default: "
      "$TALLY_MASTER_KEY_FILE); needed where the data directory holds personal data");
}

void AddFormatFlags(CLI::App* command, FormatFlags* flags) {
  auto* json = command->add_flag("--json", flags->json, "print JSON instead of a table");
  command->add_flag("--csv", flags->csv, "print CSV (RFC 4180) instead of a table")->excludes(json);
}

int Main(int argc, char** argv) {
  CLI::App app{"tally: an event-sourced ledger and billing core"};
  app.footer(kExitCodesHelp);
  app.require_subcommand(1);
  tally::cli::Io io{std::cout, std::cerr};
  FormatFlags flags;
  std::string data_dir;
  int code = tally::cli::kExitOk;

  auto* append = app.add_subcommand(
      "append", "Validate the events of an NDJSON file and append them as one atomic batch");
  std::string file;
  append->add_option("--data", data_dir, "ledger directory (created if missing)")->required();
  append->add_option("file", file, "NDJSON file, one event per line; - for stdin")->required();
  AddMasterKey(append);
  AddFormatFlags(append, &flags);
  append->callback([&] { code = tally::cli::RunAppend(data_dir, file, flags.format(), io); });

  tally::cli::AsOf as_of;
  auto* balance = app.add_subcommand(
      "balance", "Available, held and receivable credits per account, now or as of a past point");
  std::vector<std::string> accounts;
  balance->add_option("--data", data_dir, "ledger directory")->required();
  balance->add_option("account", accounts, "accounts to show (default: every account)");
  AddAsOf(balance, &as_of);
  AddFormatFlags(balance, &flags);
  balance->callback(
      [&] { code = tally::cli::RunBalance(data_dir, accounts, as_of, flags.format(), io); });

  auto* statement =
      app.add_subcommand("statement", "Every credit movement of an account with running balances");
  std::string statement_account;
  std::string statement_from;
  statement->add_option("--data", data_dir, "ledger directory")->required();
  statement->add_option("account", statement_account, "the customer account")->required();
  statement->add_option("--from", statement_from,
                        "list movements from this instant (RFC 3339); balances still count all");
  AddAsOf(statement, &as_of);
  AddMasterKey(statement);
  AddFormatFlags(statement, &flags);
  statement->callback([&] {
    code = tally::cli::RunStatement(data_dir, statement_account, statement_from, as_of,
                                    flags.format(), io);
  });

  auto* trial = app.add_subcommand(
      "trial-balance", "Balance of every ledger account per asset; each asset sums to zero");
  trial->add_option("--data", data_dir, "ledger directory")->required();
  AddAsOf(trial, &as_of);
  AddFormatFlags(trial, &flags);
  trial->callback([&] { code = tally::cli::RunTrialBalance(data_dir, as_of, flags.format(), io); });

  auto* revenue = app.add_subcommand(
      "revenue", "Money per currency and month: cash, tax, recognised revenue, breakage, deferred");
  revenue->add_option("--data", data_dir, "ledger directory")->required();
  AddAsOf(revenue, &as_of);
  AddFormatFlags(revenue, &flags);
  revenue->callback([&] { code = tally::cli::RunRevenue(data_dir, as_of, flags.format(), io); });

  auto* invoices = app.add_subcommand("invoices", "Invoices and credit notes in issue order");
  std::string invoices_account;
  invoices->add_option("--data", data_dir, "ledger directory")->required();
  invoices->add_option("--account", invoices_account, "only this customer account's documents");
  AddAsOf(invoices, &as_of);
  AddFormatFlags(invoices, &flags);
  invoices->callback([&] {
    code = tally::cli::RunInvoices(data_dir, invoices_account, as_of, flags.format(), io);
  });

  auto* subscriptions = app.add_subcommand(
      "subscriptions", "Subscriptions with status and MRR; --totals: MRR and ARR per currency");
  bool subscription_totals = false;
  subscriptions->add_option("--data", data_dir, "ledger directory")->required();
  subscriptions->add_flag("--totals", subscription_totals, "MRR and ARR per currency");
  AddAsOf(subscriptions, &as_of);
  AddFormatFlags(subscriptions, &flags);
  subscriptions->callback([&] {
    code = tally::cli::RunSubscriptions(data_dir, subscription_totals, as_of, flags.format(), io);
  });

  auto* tasks = app.add_subcommand("tasks", "Credits consumed per model; --open: holds still open");
  bool open_holds = false;
  tasks->add_option("--data", data_dir, "ledger directory")->required();
  tasks->add_flag("--open", open_holds, "the holds still open (running tasks)");
  AddAsOf(tasks, &as_of);
  AddFormatFlags(tasks, &flags);
  tasks->callback(
      [&] { code = tally::cli::RunTasks(data_dir, open_holds, as_of, flags.format(), io); });

  auto* lots = app.add_subcommand(
      "lots", "The live credit lots of accounts, in burn order: credits, expiry, unit price");
  std::vector<std::string> lot_accounts;
  lots->add_option("--data", data_dir, "ledger directory")->required();
  lots->add_option("account", lot_accounts, "accounts to list")->required();
  AddMasterKey(lots);
  AddFormatFlags(lots, &flags);
  lots->callback([&] { code = tally::cli::RunLots(data_dir, lot_accounts, flags.format(), io); });

  auto* invoice = app.add_subcommand(
      "invoice", "One invoice or credit note: its lines (--json: the document as logged)");
  std::string invoice_number;
  invoice->add_option("--data", data_dir, "ledger directory")->required();
  invoice->add_option("number", invoice_number, "e.g. INV-2026-000123")->required();
  AddMasterKey(invoice);
  AddFormatFlags(invoice, &flags);
  invoice->callback(
      [&] { code = tally::cli::RunInvoice(data_dir, invoice_number, flags.format(), io); });

  auto* events = app.add_subcommand("events", "Print the log as NDJSON, with seq and recorded_at");
  uint64_t from_seq = 1;
  uint64_t limit = 0;
  events->add_option("--data", data_dir, "ledger directory")->required();
  events->add_option("--from-seq", from_seq, "first seq to print (seqs start at 1)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  events->add_option("--limit", limit, "print at most this many events (0: all)")
      ->capture_default_str();
  bool sealed = false;
  events->add_flag("--sealed", sealed,
                   "print personal fields as stored (sealed), without the master key");
  AddMasterKey(events);
  events->callback([&] { code = tally::cli::RunEvents(data_dir, from_seq, limit, sealed, io); });

  auto* shred = app.add_subcommand(
      "shred",
      "Erase a subject's personal data: appends erasure_requested; the profile key is destroyed "
      "at once, the billing key once the horizon of the subject's last invoice has passed");
  std::string shred_subject;
  std::string shred_purpose;
  std::string operator_name;
  shred->add_option("--data", data_dir, "ledger directory")->required();
  shred->add_option("subject", shred_subject, "the subject (its account)")->required();
  shred->add_option("--purpose", shred_purpose, "profile, billing or all")->required();
  shred->add_option("--by", operator_name, "who asks (default: operator:$USER)");
  AddMasterKey(shred);
  AddFormatFlags(shred, &flags);
  shred->callback([&] {
    code = tally::cli::RunShred(data_dir, shred_subject, shred_purpose, operator_name,
                                flags.format(), io);
  });

  auto* master_key = app.add_subcommand(
      "master-key", "The master key that wraps the keys of personal fields (docs/privacy.md)");
  master_key->require_subcommand(1);
  auto* key_new = master_key->add_subcommand("new", "Write a new random master key file (0600)");
  std::string master_key_out;
  key_new->add_option("--out", master_key_out, "file to create (never overwritten)")->required();
  key_new->callback([&] { code = tally::cli::RunMasterKeyNew(master_key_out, io); });
  auto* rotate = master_key->add_subcommand(
      "rotate",
      "Re-wrap every data key under a new master key (the current one from --master-key-file)");
  std::string next_key;
  rotate->add_option("--data", data_dir, "ledger directory")->required();
  rotate->add_option("--new-key-file", next_key, "the new master key file")->required();
  AddMasterKey(rotate);
  rotate->callback([&] { code = tally::cli::RunMasterKeyRotate(data_dir, next_key, io); });

  auto* token =
      app.add_subcommand("token", "API tokens of tally serve and their roles (docs/api.md)");
  token->require_subcommand(1);
  auto* token_create = token->add_subcommand("create", "Make a token and print it once");
  std::string token_role;
  std::string token_name;
  token_create->add_option("--data", data_dir, "ledger directory")->required();
  token_create->add_option("--role", token_role, "publisher, finance, auditor or operator")
      ->required();
  token_create->add_option("--name", token_name, "who or what uses it, e.g. billing-api")
      ->required();
  AddFormatFlags(token_create, &flags);
  token_create->callback([&] {
    code = tally::cli::RunTokenCreate(data_dir, token_role, token_name, flags.format(), io);
  });
  auto* token_list = token->add_subcommand("list", "Every token, live and revoked (no secrets)");
  token_list->add_option("--data", data_dir, "ledger directory")->required();
  AddFormatFlags(token_list, &flags);
  token_list->callback([&] { code = tally::cli::RunTokenList(data_dir, flags.format(), io); });
  auto* token_revoke = token->add_subcommand("revoke", "Revoke a token by its id");
  std::string token_id;
  token_revoke->add_option("--data", data_dir, "ledger directory")->required();
  token_revoke->add_option("id", token_id, "the token's id (tally token list)")->required();
  token_revoke->callback([&] { code = tally::cli::RunTokenRevoke(data_dir, token_id, io); });

  auto* legal_hold = app.add_subcommand(
      "legal-hold", "Place or release a legal hold: while it stands nothing shreds the subject");
  legal_hold->require_subcommand(1);
  std::string hold_subject;
  std::string hold_reason;
  for (bool place : {true, false}) {
    auto* sub = legal_hold->add_subcommand(place ? "place" : "release",
                                           place ? "Place a legal hold" : "Release a legal hold");
    sub->add_option("--data", data_dir, "ledger directory")->required();
    sub->add_option("subject", hold_subject, "the subject (its account)")->required();
    sub->add_option("--reason", hold_reason, "why (a case or matter reference)")->required();
    sub->add_option("--by", operator_name, "who (default: operator:$USER)");
    AddMasterKey(sub);
    AddFormatFlags(sub, &flags);
    sub->callback([&, place] {
      code = tally::cli::RunLegalHold(data_dir, hold_subject, place, hold_reason, operator_name,
                                      flags.format(), io);
    });
  }

  auto* journal = app.add_subcommand(
      "journal", "Print the double-entry postings of every event (debit and credit per asset)");
  std::string journal_account;
  uint64_t journal_from_seq = 1;
  journal->add_option("--data", data_dir, "ledger directory")->required();
  journal->add_option("--account", journal_account, "only this customer account's events");
  journal->add_option("--from-seq", journal_from_seq, "first seq to print (seqs start at 1)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  AddFormatFlags(journal, &flags);
  journal->callback([&] {
    code = tally::cli::RunJournal(data_dir, journal_account, journal_from_seq, flags.format(), io);
  });

  auto* rebuild = app.add_subcommand(
      "rebuild", "Drop projections and fold them again from the log (after an upgrade or damage)");
  std::vector<std::string> rebuild_names;
  bool rebuild_all = false;
  rebuild->add_option("--data", data_dir, "ledger directory")->required();
  auto* rebuild_named = rebuild->add_option(
      "name", rebuild_names,
      "projections to rebuild: balances, statements, invoices, trial_balance, revenue, "
      "subscriptions, tasks");
  rebuild->add_flag("--all", rebuild_all, "rebuild every projection")->excludes(rebuild_named);
  AddFormatFlags(rebuild, &flags);
  rebuild->callback([&] {
    if (rebuild_names.empty() && !rebuild_all) {
      io.err << "tally rebuild: name projections or give --all\n";
      code = tally::cli::kExitUsage;
      return;
    }
    code = tally::cli::RunRebuild(data_dir, rebuild_names, flags.format(), io);
  });

  auto* retention = app.add_subcommand(
      "retention",
      "Retention: what is past its horizon (plan), archiving and purging it (apply); the policy "
      "is DATA/retention.json (docs/retention.md)");
  retention->require_subcommand(1);
  auto* plan = retention->add_subcommand(
      "plan", "Per record category: live events, how many are past their horizon, the oldest");
  plan->add_option("--data", data_dir, "ledger directory")->required();
  AddFormatFlags(plan, &flags);
  plan->callback([&] { code = tally::cli::RunRetentionPlan(data_dir, flags.format(), io); });
  auto* apply = retention->add_subcommand(
      "apply",
      "Archive the oldest records past their horizon to DATA/archive (Cap'n Proto segment and "
      "manifest), append segment_archived and purge them from the live store");
  uint64_t through_seq = 0;
  apply->add_option("--data", data_dir, "ledger directory")->required();
  apply->add_option("--through", through_seq,
                    "archive through this seq only (default: all that are past their horizon)");
  AddMasterKey(apply);
  AddFormatFlags(apply, &flags);
  apply->callback(
      [&] { code = tally::cli::RunRetentionApply(data_dir, through_seq, flags.format(), io); });

  auto* audit = app.add_subcommand("audit", "Checks for auditors");
  audit->require_subcommand(1);
  auto* verify = audit->add_subcommand(
      "verify",
      "Re-read the log: seq without gaps, hash chain, every journal entry replayed, trial balance "
      "zero; rebuild every projection in scratch space and compare it with the live one. Exits 5 "
      "naming the first bad seq or projection");
  std::string public_key;
  std::string export_dir;
  auto* verify_data = verify->add_option("--data", data_dir, "ledger directory");
  verify
      ->add_option("--export", export_dir,
                   "verify an export directory offline instead (no database needed)")
      ->excludes(verify_data);
  verify->add_option("--public-key", public_key,
                     "also verify every signed checkpoint with this Ed25519 public key (.pub)");
  AddFormatFlags(verify, &flags);
  verify->callback([&] {
    if (!export_dir.empty()) {
      code = tally::cli::RunAuditVerifyExport(export_dir, public_key, flags.format(), io);
    } else if (data_dir.empty()) {
      io.err << "tally audit verify: give --data DIR or --export DIR\n";
      code = tally::cli::kExitUsage;
    } else {
      code = tally::cli::RunAuditVerify(data_dir, public_key, flags.format(), io);
    }
  });

  auto* export_command = audit->add_subcommand(
      "export", "Write the log with its hashes and a manifest for offline verification");
  std::string export_out;
  export_command->add_option("--data", data_dir, "ledger directory")->required();
  export_command->add_option("out", export_out, "directory to write (must not hold an export)")
      ->required();
  AddFormatFlags(export_command, &flags);
  export_command->callback(
      [&] { code = tally::cli::RunAuditExport(data_dir, export_out, flags.format(), io); });

  auto* keygen = audit->add_subcommand("keygen", "Make an Ed25519 key pair for checkpoints");
  std::string key_out;
  keygen->add_option("--out", key_out, "secret key file; the public key goes to FILE.pub")
      ->required();
  keygen->callback([&] { code = tally::cli::RunAuditKeygen(key_out, io); });

  auto* checkpoint = audit->add_subcommand(
      "checkpoint", "Sign the head of the log (seq, hash, time) and append checkpoint_signed");
  std::string key_file;
  checkpoint->add_option("--data", data_dir, "ledger directory")->required();
  checkpoint->add_option("--key", key_file, "the operator's secret key file")->required();
  AddMasterKey(checkpoint);
  AddFormatFlags(checkpoint, &flags);
  checkpoint->callback(
      [&] { code = tally::cli::RunAuditCheckpoint(data_dir, key_file, flags.format(), io); });

  tally::cli::ServeOptions serve_options;
  auto* serve = app.add_subcommand(
      "serve",
      "Take billing events from Kafka exactly once; publish the changelog, hold outcomes and dead "
      "letters (until SIGTERM or SIGINT)");
  serve->add_option("--data", serve_options.data_dir, "ledger directory (created if missing)")
      ->required();
  serve->add_option("--kafka-brokers", serve_options.brokers,
                    "bootstrap servers, HOST:PORT[,...] (default: librdkafka's mock cluster in "
                    "this process, memory only, printed at start)");
  serve->add_option("--topic", serve_options.topics, "billing events topic, repeatable")
      ->default_str("tally.events");
  serve->add_option("--group", serve_options.group_id, "consumer group")->default_str("tally");
  serve->add_option("--instance-id", serve_options.instance_id,
                    "static group membership: a restart with the same id takes its partitions "
                    "back at once; never give two running processes the same id");
  serve
      ->add_option("--changelog-topic", serve_options.changelog_topic,
                   "every appended event, with seq and hash")
      ->default_str("tally.changelog");
  serve
      ->add_option("--outcomes-topic", serve_options.outcomes_topic,
                   "hold_accepted and hold_rejected, keyed by account")
      ->default_str("tally.outcomes");
  serve
      ->add_option("--dead-letter-topic", serve_options.dead_letter_topic,
                   "messages not appended: original bytes, reason in the tally-error header")
      ->default_str("tally.dead-letter");
  serve
      ->add_option_function<std::string>(
          "--out-format",
          [&](const std::string& name) { serve_options.binary_out = name == "capnp"; },
          "changelog and outcomes as json (default) or capnp (Cap'n Proto, content-type: "
          "application/x-capnp; cheaper to encode)")
      ->check(CLI::IsMember({"json", "capnp"}));
  serve
      ->add_option("--status-every-ms", serve_options.status_every_ms,
                   "print a status line this often")
      ->default_str("10000")
      ->check(CLI::PositiveNumber);
  serve
      ->add_option("--exit-when-idle-ms", serve_options.exit_when_idle_ms,
                   "stop once there was nothing to take or publish for this long (default: "
                   "run until stopped)")
      ->check(CLI::NonNegativeNumber);
  serve->add_option("--listen", serve_options.listen,
                    "serve the HTTP API on HOST:PORT, e.g. 127.0.0.1:8080 (docs/api.md); this "
                    "process then owns the stores");
  serve->add_flag("!--no-kafka", serve_options.kafka,
                  "with --listen: HTTP only, no Kafka ingest or publishing");
  serve
      ->add_option("--rate-limit", serve_options.rate_limit,
                   "with --listen: requests per second per API token (0: no limit)")
      ->default_str("5000")
      ->check(CLI::NonNegativeNumber);
  AddMasterKey(serve);
  serve->add_flag("--json", flags.json, "status lines as JSON on stdout");
  serve->callback([&] { code = tally::cli::RunServe(serve_options, flags.format(), io); });

  tally::cli::PublishOptions publish_options;
  auto* publish = app.add_subcommand(
      "publish",
      "Validate an NDJSON file of events, then produce each to Kafka keyed by its account");
  publish->add_option("--brokers", publish_options.brokers, "bootstrap servers, HOST:PORT[,...]")
      ->required();
  publish->add_option("--topic", publish_options.topic, "topic")->default_str("tally.events");
  publish->add_flag(
      "--binary", publish_options.binary,
      "send Cap'n Proto messages (content-type: application/x-capnp) instead of JSON");
  publish->add_option("file", publish_options.file, "NDJSON file, one event per line; - for stdin")
      ->required();
  AddFormatFlags(publish, &flags);
  publish->callback([&] { code = tally::cli::RunPublish(publish_options, flags.format(), io); });

  auto* demo = app.add_subcommand(
      "demo", "Append a small realistic day for four accounts and print their balances");
  tally::cli::DemoOptions demo_options;
  demo->add_option("--data", demo_options.data_dir,
                   "directory to use (default: a new temporary one)");
  demo->add_flag("--keep", demo_options.keep, "keep the temporary directory afterwards");
  AddFormatFlags(demo, &flags);
  demo->callback([&] {
    demo_options.format = flags.format();
    code = tally::cli::RunDemo(demo_options, io);
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return tally::cli::kExitUsage;
  }
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {  // a bug: say so rather than abort silently
    std::cerr << "tally: internal error: " << e.what() << '\n';
    return tally::cli::kExitFailure;
  }
}
