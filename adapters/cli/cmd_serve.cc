// The command line of `tally serve`. Each option is a setting that can
// also come from the environment or the --config file (serve_config.h).
#include "adapters/cli/cmd.h"

namespace tally::cli {
namespace {

struct ServeArgs {
  ServeSettings settings;  // those given on the command line
  std::string config_file;
  FormatFlags flags;
};

// An option that sets `field` of the settings when given.
template <typename T>
CLI::Option* AddSetting(CLI::App* serve, const char* name, std::optional<T>* field,
                        const char* description) {
  return serve->add_option_function<T>(
      name, [field](const T& value) { *field = value; }, description);
}

// --kafka-brokers, the topics, --group and --instance-id.
void AddKafkaOptions(CLI::App* serve, ServeSettings& settings) {
  AddSetting(serve, "--kafka-brokers", &settings.kafka_brokers,
             "bootstrap servers, HOST:PORT[,...] (default: librdkafka's mock cluster in this "
             "process, memory only, printed at start)");
  AddSetting(serve, "--topic", &settings.topics, "billing events topic, repeatable")
      ->default_str("tally.events");
  AddSetting(serve, "--group", &settings.group, "consumer group")->default_str("tally");
  AddSetting(serve, "--instance-id", &settings.instance_id,
             "static group membership: a restart with the same id takes its partitions back at "
             "once; never give two running processes the same id");
  AddSetting(serve, "--changelog-topic", &settings.changelog_topic,
             "every appended event, with seq and hash")
      ->default_str("tally.changelog");
  AddSetting(serve, "--outcomes-topic", &settings.outcomes_topic,
             "hold_accepted and hold_rejected, keyed by account")
      ->default_str("tally.outcomes");
  AddSetting(serve, "--dead-letter-topic", &settings.dead_letter_topic,
             "messages not appended: original bytes, reason in the tally-error header")
      ->default_str("tally.dead-letter");
  AddSetting(serve, "--out-format", &settings.out_format,
             "changelog and outcomes as json (default) or capnp (Cap'n Proto, content-type: "
             "application/x-capnp; cheaper to encode)")
      ->check(CLI::IsMember({"json", "capnp"}));
}

// --status-every-ms, --exit-when-idle-ms, --listen, --no-kafka, --rate-limit.
void AddRunOptions(CLI::App* serve, ServeSettings& settings) {
  AddSetting(serve, "--status-every-ms", &settings.status_every_ms,
             "print a status line this often")
      ->default_str("10000")
      ->check(CLI::PositiveNumber);
  AddSetting(serve, "--exit-when-idle-ms", &settings.exit_when_idle_ms,
             "stop once there was nothing to take or publish for this long (default: run until "
             "stopped)")
      ->check(CLI::NonNegativeNumber);
  AddSetting(serve, "--listen", &settings.listen,
             "serve the HTTP API on HOST:PORT, e.g. 127.0.0.1:8080 (docs/api.md); this process "
             "then owns the stores");
  serve->add_flag_function(
      "--no-kafka", [&settings](int64_t count) { settings.kafka = count <= 0; },
      "with --listen: HTTP only, no Kafka ingest or publishing");
  AddSetting(serve, "--rate-limit", &settings.rate_limit,
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
  serve->add_option("--config", args.config_file,
                    "TOML file of serve's settings (docs/operations.md, \"Configuration\"); an "
                    "option given here wins over its TALLY_<NAME> variable, which wins over the "
                    "file");
  AddSetting(serve, "--data", &args.settings.data, "ledger directory (created if missing)");
  AddKafkaOptions(serve, args.settings);
  AddRunOptions(serve, args.settings);
  AddSetting(serve, "--master-key-file", &args.settings.master_key_file, kMasterKeyHelp);
  serve->add_flag("--json", args.flags.json, "status lines as JSON on stdout");
  serve->callback([&] {
    auto options = ResolveServeOptions(args.settings, args.config_file, cli.env);
    if (!options.ok()) {
      cli.io.err << "tally serve: " << options.status().message() << '\n';
      cli.code = kExitUsage;
      return;
    }
    cli.code = RunServe(*options, args.flags.format(), cli.io);
  });
}

}  // namespace tally::cli
