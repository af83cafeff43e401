// The command line of `tally retention plan|apply`.
#include "adapters/cli/cmd.h"

namespace tally::cli {
namespace {

struct RetentionArgs {
  std::string data_dir;
  uint64_t through_seq = 0;  // apply
  FormatFlags flags;
};

}  // namespace

void AddRetentionCommands(CLI::App& app, CommandLine& cli) {
  auto& args = cli.Keep<RetentionArgs>();
  auto* retention = app.add_subcommand(
      "retention",
      "Retention: what is past its horizon (plan), archiving and purging it (apply); the policy "
      "is DATA/retention.json (docs/retention.md)");
  retention->require_subcommand(1);
  auto* plan = retention->add_subcommand(
      "plan", "Per record category: live events, how many are past their horizon, the oldest");
  plan->add_option("--data", args.data_dir, "ledger directory")->required();
  AddFormatFlags(plan, &args.flags);
  plan->callback([&] { cli.code = RunRetentionPlan(args.data_dir, args.flags.format(), cli.io); });
  auto* apply = retention->add_subcommand(
      "apply",
      "Archive the oldest records past their horizon to DATA/archive (Cap'n Proto segment and "
      "manifest), append segment_archived and purge them from the live store");
  apply->add_option("--data", args.data_dir, "ledger directory")->required();
  apply->add_option("--through", args.through_seq,
                    "archive through this seq only (default: all that are past their horizon)");
  AddMasterKey(apply, &cli.master_key);
  AddFormatFlags(apply, &args.flags);
  apply->callback([&] {
    cli.code = RunRetentionApply(args.data_dir, args.through_seq, cli.master_key,
                                 args.flags.format(), cli.io);
  });
}

}  // namespace tally::cli
