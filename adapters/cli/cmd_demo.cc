// The command line of `tally demo`.
#include "adapters/cli/cmd.h"

namespace tally::cli {
namespace {

struct DemoArgs {
  DemoOptions options;
  FormatFlags flags;
};

}  // namespace

void AddDemoCommand(CLI::App& app, CommandLine& cli) {
  auto& args = cli.Keep<DemoArgs>();
  auto* demo = app.add_subcommand(
      "demo", "Append a small realistic day for four accounts and print their balances");
  demo->add_option("--data", args.options.data_dir,
                   "directory to use (default: a new temporary one)");
  demo->add_flag("--keep", args.options.keep, "keep the temporary directory afterwards");
  AddFormatFlags(demo, &args.flags);
  demo->callback([&] {
    args.options.format = args.flags.format();
    args.options.master_key = cli.master_key;  // TALLY_MASTER_KEY_FILE: demo has no option
    cli.code = RunDemo(args.options, cli.io);
  });
}

}  // namespace tally::cli
