// The command line of the privacy commands: shred, master-key, legal-hold.
#include "adapters/cli/cmd.h"

namespace tally::cli {
namespace {

// The options of the privacy commands (one runs per process).
struct PrivacyArgs {
  std::string data_dir;
  std::string subject;
  std::string purpose;        // shred
  std::string reason;         // legal-hold
  std::string operator_name;  // shred, legal-hold: --by
  std::string key_out;        // master-key new
  std::string next_key;       // master-key rotate
  FormatFlags flags;
};

void AddShred(CLI::App& app, PrivacyArgs& args, CommandLine& cli) {
  auto* shred = app.add_subcommand(
      "shred",
      "Erase a subject's personal data: appends erasure_requested; the profile key is destroyed "
      "at once, the billing key once the horizon of the subject's last invoice has passed");
  shred->add_option("--data", args.data_dir, "ledger directory")->required();
  shred->add_option("subject", args.subject, "the subject (its account)")->required();
  shred->add_option("--purpose", args.purpose, "profile, billing or all")->required();
  shred->add_option("--by", args.operator_name, "who asks (default: operator:$USER)");
  AddMasterKey(shred, &cli.master_key);
  AddFormatFlags(shred, &args.flags);
  shred->callback([&] {
    cli.code = RunShred(args.data_dir, args.subject, args.purpose, args.operator_name,
                        cli.master_key, args.flags.format(), cli.io);
  });
}

void AddMasterKeyCommands(CLI::App& app, PrivacyArgs& args, CommandLine& cli) {
  auto* master_key = app.add_subcommand(
      "master-key", "The master key that wraps the keys of personal fields (docs/privacy.md)");
  master_key->require_subcommand(1);
  auto* key_new = master_key->add_subcommand("new", "Write a new random master key file (0600)");
  key_new->add_option("--out", args.key_out, "file to create (never overwritten)")->required();
  key_new->callback([&] { cli.code = RunMasterKeyNew(args.key_out, cli.io); });
  auto* rotate = master_key->add_subcommand(
      "rotate",
      "Re-wrap every data key under a new master key (the current one from --master-key-file)");
  rotate->add_option("--data", args.data_dir, "ledger directory")->required();
  rotate->add_option("--new-key-file", args.next_key, "the new master key file")->required();
  AddMasterKey(rotate, &cli.master_key);
  rotate->callback(
      [&] { cli.code = RunMasterKeyRotate(args.data_dir, args.next_key, cli.master_key, cli.io); });
}

void AddLegalHold(CLI::App& app, PrivacyArgs& args, CommandLine& cli) {
  auto* legal_hold = app.add_subcommand(
      "legal-hold", "Place or release a legal hold: while it stands nothing shreds the subject");
  legal_hold->require_subcommand(1);
  for (bool place : {true, false}) {
    auto* sub = legal_hold->add_subcommand(place ? "place" : "release",
                                           place ? "Place a legal hold" : "Release a legal hold");
    sub->add_option("--data", args.data_dir, "ledger directory")->required();
    sub->add_option("subject", args.subject, "the subject (its account)")->required();
    sub->add_option("--reason", args.reason, "why (a case or matter reference)")->required();
    sub->add_option("--by", args.operator_name, "who (default: operator:$USER)");
    AddMasterKey(sub, &cli.master_key);
    AddFormatFlags(sub, &args.flags);
    sub->callback([&, place] {
      cli.code = RunLegalHold(args.data_dir, args.subject, place, args.reason, args.operator_name,
                              cli.master_key, args.flags.format(), cli.io);
    });
  }
}

}  // namespace

void AddPrivacyCommands(CLI::App& app, CommandLine& cli) {
  auto& args = cli.Keep<PrivacyArgs>();
  AddShred(app, args, cli);
  AddMasterKeyCommands(app, args, cli);
  AddLegalHold(app, args, cli);
}

}  // namespace tally::cli
