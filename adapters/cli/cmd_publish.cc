// The command line of `tally publish`.
#include "adapters/cli/cmd.h"

namespace tally::cli {
namespace {

struct PublishArgs {
  PublishOptions options;
  FormatFlags flags;
};

}  // namespace

void AddPublishCommand(CLI::App& app, CommandLine& cli) {
  auto& args = cli.Keep<PublishArgs>();
  auto* publish = app.add_subcommand(
      "publish",
      "Validate an NDJSON file of events, then produce each to Kafka keyed by its account");
  publish->add_option("--brokers", args.options.brokers, "bootstrap servers, HOST:PORT[,...]")
      ->required();
  publish->add_option("--topic", args.options.topic, "topic")->default_str("tally.events");
  publish->add_flag(
      "--binary", args.options.binary,
      "send Cap'n Proto messages (content-type: application/x-capnp) instead of JSON");
  publish->add_option("file", args.options.file, "NDJSON file, one event per line; - for stdin")
      ->required();
  AddFormatFlags(publish, &args.flags);
  publish->callback([&] { cli.code = RunPublish(args.options, args.flags.format(), cli.io); });
}

}  // namespace tally::cli
