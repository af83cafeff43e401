// The command lines of `tally demo` and `tally generate`.
#include "adapters/cli/cmd.h"

namespace tally::cli {
namespace {

struct DemoArgs {
  DemoOptions options;
  FormatFlags flags;
};

struct GenerateArgs {
  workload::WorkloadOptions options;
  std::string out = "-";
};

// --seed, --accounts, --days: the workload's size and its random draws.
void AddWorkloadOptions(CLI::App* command, workload::WorkloadOptions* options) {
  command->add_option("--seed", options->seed, "random seed: the same seed, the same events")
      ->capture_default_str();
  command->add_option("--accounts", options->accounts, "customer accounts")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  command->add_option("--days", options->days, "days of activity from 2026-11-01")
      ->check(CLI::Range(1, 366))
      ->capture_default_str();
}

}  // namespace

void AddDemoCommand(CLI::App& app, CommandLine& cli) {
  auto& args = cli.Keep<DemoArgs>();
  auto* demo = app.add_subcommand(
      "demo",
      "Run a platform's month through a service (holds over HTTP, facts over Kafka, erasure "
      "through the operator) and print books that check themselves");
  demo->add_option("--data", args.options.data_dir,
                   "directory to use (default: a new temporary one)");
  demo->add_flag("--keep", args.options.keep, "keep the temporary directory afterwards");
  AddWorkloadOptions(demo, &args.options.workload);
  demo->add_option("--connections", args.options.connections, "HTTP clients asking for holds")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  AddFormatFlags(demo, &args.flags);
  demo->callback([&] {
    args.options.format = args.flags.format();
    args.options.master_key = cli.master_key;  // TALLY_MASTER_KEY_FILE: demo has no option
    cli.code = RunDemo(args.options, cli.io);
  });

  auto& gen = cli.Keep<GenerateArgs>();
  auto* generate = app.add_subcommand(
      "generate",
      "Write the demo's workload as NDJSON in time order (replay it with tally append or publish)");
  AddWorkloadOptions(generate, &gen.options);
  generate->add_flag("--imported", gen.options.imported,
                     "mark every event imported: decided at its occurred_at, so a replay at any "
                     "time gives the same books (docs/demo.md)");
  generate->add_option("--out", gen.out, "file to write ('-': standard output)")
      ->capture_default_str();
  generate->callback([&] { cli.code = RunGenerate(gen.options, gen.out, cli.io); });
}

}  // namespace tally::cli
