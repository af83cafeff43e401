// The command line of `tally serve`.
#include "adapters/cli/cmd.h"

namespace tally::cli {
namespace {

struct ServeArgs {
  ServeOptions options;
  FormatFlags flags;
};

// --kafka-brokers, the topics, --group and --instance-id.
void AddKafkaOptions(CLI::App* serve, ServeOptions& options) {
  serve->add_option("--kafka-brokers", options.brokers,
                    "bootstrap servers, HOST:PORT[,...] (default: librdkafka's mock cluster in "
                    "this process, memory only, printed at start)");
  serve->add_option("--topic", options.topics, "billing events topic, repeatable")
      ->default_str("tally.events");
  serve->add_option("--group", options.group_id, "consumer group")->default_str("tally");
  serve->add_option("--instance-id", options.instance_id,
                    "static group membership: a restart with the same id takes its partitions "
                    "back at once; never give two running processes the same id");
  serve
      ->add_option("--changelog-topic", options.changelog_topic,
                   "every appended event, with seq and hash")
      ->default_str("tally.changelog");
  serve
      ->add_option("--outcomes-topic", options.outcomes_topic,
                   "hold_accepted and hold_rejected, keyed by account")
      ->default_str("tally.outcomes");
  serve
      ->add_option("--dead-letter-topic", options.dead_letter_topic,
                   "messages not appended: original bytes, reason in the tally-error header")
      ->default_str("tally.dead-letter");
  serve
      ->add_option_function<std::string>(
          "--out-format", [&](const std::string& name) { options.binary_out = name == "capnp"; },
          "changelog and outcomes as json (default) or capnp (Cap'n Proto, content-type: "
          "application/x-capnp; cheaper to encode)")
      ->check(CLI::IsMember({"json", "capnp"}));
}

// --status-every-ms, --exit-when-idle-ms, --listen, --no-kafka, --rate-limit.
void AddRunOptions(CLI::App* serve, ServeOptions& options) {
  serve->add_option("--status-every-ms", options.status_every_ms, "print a status line this often")
      ->default_str("10000")
      ->check(CLI::PositiveNumber);
  serve
      ->add_option("--exit-when-idle-ms", options.exit_when_idle_ms,
                   "stop once there was nothing to take or publish for this long (default: "
                   "run until stopped)")
      ->check(CLI::NonNegativeNumber);
  serve->add_option("--listen", options.listen,
                    "serve the HTTP API on HOST:PORT, e.g. 127.0.0.1:8080 (docs/api.md); this "
                    "process then owns the stores");
  serve->add_flag("!--no-kafka", options.kafka,
                  "with --listen: HTTP only, no Kafka ingest or publishing");
  serve
      ->add_option("--rate-limit", options.rate_limit,
                   "with --listen: requests per second per API token (0: no limit)")
      ->default_str("5000")
      ->check(CLI::NonNegativeNumber);
}

}  // namespace

void AddServeCommand(CLI::App& app, CommandLine& cli) {
  auto& args = cli.Keep<ServeArgs>();
  auto* serve = app.add_subcommand(
      "serve",
      "Take billing events from Kafka exactly once; publish the changelog, hold outcomes and dead "
      "letters (until SIGTERM or SIGINT)");
  serve->add_option("--data", args.options.data_dir, "ledger directory (created if missing)")
      ->required();
  AddKafkaOptions(serve, args.options);
  AddRunOptions(serve, args.options);
  AddMasterKey(serve, &cli.master_key);
  serve->add_flag("--json", args.flags.json, "status lines as JSON on stdout");
  serve->callback([&] {
    args.options.master_key = cli.master_key;
    cli.code = RunServe(args.options, args.flags.format(), cli.io);
  });
}

}  // namespace tally::cli
