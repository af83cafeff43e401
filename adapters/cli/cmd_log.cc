// The command line of the log's commands: append, events, journal.
#include "adapters/cli/cmd.h"

namespace tally::cli {
namespace {

struct AppendArgs {
  std::string data_dir;
  std::string file;
  FormatFlags flags;
};

void AddAppend(CLI::App& app, CommandLine& cli) {
  auto& args = cli.Keep<AppendArgs>();
  auto* append = app.add_subcommand(
      "append", "Validate the events of an NDJSON file and append them as one atomic batch");
  append->add_option("--data", args.data_dir, "ledger directory (created if missing)")->required();
  append->add_option("file", args.file, "NDJSON file, one event per line; - for stdin")->required();
  AddMasterKey(append, &cli.master_key);
  AddFormatFlags(append, &args.flags);
  append->callback([&] {
    cli.code = RunAppend(args.data_dir, args.file, cli.master_key, args.flags.format(), cli.io);
  });
}

struct EventsArgs {
  std::string data_dir;
  uint64_t from_seq = 1;
  uint64_t limit = 0;
  bool sealed = false;
};

void AddEvents(CLI::App& app, CommandLine& cli) {
  auto& args = cli.Keep<EventsArgs>();
  auto* events = app.add_subcommand("events", "Print the log as NDJSON, with seq and recorded_at");
  events->add_option("--data", args.data_dir, "ledger directory")->required();
  events->add_option("--from-seq", args.from_seq, "first seq to print (seqs start at 1)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  events->add_option("--limit", args.limit, "print at most this many events (0: all)")
      ->capture_default_str();
  events->add_flag("--sealed", args.sealed,
                   "print personal fields as stored (sealed), without the master key");
  AddMasterKey(events, &cli.master_key);
  events->callback([&] {
    cli.code =
        RunEvents(args.data_dir, args.from_seq, args.limit, args.sealed, cli.master_key, cli.io);
  });
}

struct JournalArgs {
  std::string data_dir;
  std::string account;
  uint64_t from_seq = 1;
  FormatFlags flags;
};

void AddJournal(CLI::App& app, CommandLine& cli) {
  auto& args = cli.Keep<JournalArgs>();
  auto* journal = app.add_subcommand(
      "journal", "Print the double-entry postings of every event (debit and credit per asset)");
  journal->add_option("--data", args.data_dir, "ledger directory")->required();
  journal->add_option("--account", args.account, "only this customer account's events");
  journal->add_option("--from-seq", args.from_seq, "first seq to print (seqs start at 1)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  AddFormatFlags(journal, &args.flags);
  journal->callback([&] {
    cli.code = RunJournal(args.data_dir, args.account, args.from_seq, args.flags.format(), cli.io);
  });
}

}  // namespace

void AddLogCommands(CLI::App& app, CommandLine& cli) {
  AddAppend(app, cli);
  AddEvents(app, cli);
  AddJournal(app, cli);
}

}  // namespace tally::cli
