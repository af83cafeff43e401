// The command lines of `tally demo`, `tally generate` and `tally load`.
#include "adapters/cli/cmd.h"

namespace tally::cli {
namespace {

struct DemoArgs {
  DemoOptions options;
  FormatFlags flags;
};

struct LoadArgs {
  LoadOptions options;
  bool json = false;
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

void AddLoadCommand(CLI::App& app, CommandLine& cli);

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
  AddLoadCommand(app, cli);
}

void AddLoadCommand(CLI::App& app, CommandLine& cli) {
  auto& args = cli.Keep<LoadArgs>();
  auto* load = app.add_subcommand(
      "load",
      "Drive a running tally serve with the demo's workload at a chosen rate; report each second");
  load->add_option("--url", args.options.url, "the service, http://HOST:PORT")->required();
  load->add_option("--token", args.options.token, "an API token of the publisher role")->required();
  load->add_option("--rate", args.options.rate, "events a second, holds included")
      ->check(CLI::Range(0.1, 10'000'000.0))
      ->capture_default_str();
  load->add_option("--duration", args.options.duration_s, "seconds to run")
      ->check(CLI::Range(1, 86'400))
      ->capture_default_str();
  load->add_option("--connections", args.options.connections,
                   "HTTP connections (each account's events go in order on one)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  load->add_option("--kafka-brokers", args.options.kafka_brokers,
                   "publish the facts to Kafka here (holds stay on HTTP)");
  load->add_option("--topic", args.options.topic, "the events topic")->capture_default_str();
  load->add_option("--seed", args.options.workload.seed,
                   "random seed; account ids carry it, so a new seed makes new accounts")
      ->capture_default_str();
  load->add_option("--accounts", args.options.workload.accounts, "customer accounts")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  load->add_flag("--json", args.json,
                 "a JSON line each second and a summary line, instead of a table");
  load->callback([&] {
    args.options.format = args.json ? OutputFormat::kJson : OutputFormat::kTable;
    cli.code = RunLoad(args.options, cli.io);
  });
}

}  // namespace tally::cli
