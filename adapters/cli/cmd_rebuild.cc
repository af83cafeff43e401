// The command line of `tally rebuild`.
#include "adapters/cli/cmd.h"

namespace tally::cli {
namespace {

struct RebuildArgs {
  std::string data_dir;
  std::vector<std::string> names;
  bool all = false;
  FormatFlags flags;
};

}  // namespace

void AddRebuildCommand(CLI::App& app, CommandLine& cli) {
  auto& args = cli.Keep<RebuildArgs>();
  auto* rebuild = app.add_subcommand(
      "rebuild", "Drop projections and fold them again from the log (after an upgrade or damage)");
  rebuild->add_option("--data", args.data_dir, "ledger directory")->required();
  auto* named = rebuild->add_option(
      "name", args.names,
      "projections to rebuild: balances, statements, invoices, trial_balance, revenue, "
      "subscriptions, tasks, accesses");
  rebuild->add_flag("--all", args.all, "rebuild every projection")->excludes(named);
  AddFormatFlags(rebuild, &args.flags);
  rebuild->callback([&] {
    if (args.names.empty() && !args.all) {
      cli.io.err << "tally rebuild: name projections or give --all\n";
      cli.code = kExitUsage;
      return;
    }
    cli.code = RunRebuild(args.data_dir, args.names, args.flags.format(), cli.io);
  });
}

}  // namespace tally::cli
