// The command line of `tally audit verify|export|accesses|keygen|checkpoint`.
#include "adapters/cli/cmd.h"

namespace tally::cli {
namespace {

// The options of the audit commands (one runs per process).
struct AuditArgs {
  std::string data_dir;
  std::string public_key;  // verify
  std::string export_dir;  // verify --export
  std::string out;         // export: the directory; keygen: the secret key file
  std::string key_file;    // checkpoint
  std::string subject;     // accesses
  AsOf as_of;              // accesses
  FormatFlags flags;
};

void AddVerify(CLI::App* audit, AuditArgs& args, CommandLine& cli) {
  auto* verify = audit->add_subcommand(
      "verify",
      "Re-read the log: seq without gaps, hash chain, every journal entry replayed, trial balance "
      "zero; rebuild every projection in scratch space and compare it with the live one. Exits 5 "
      "naming the first bad seq or projection");
  auto* data = verify->add_option("--data", args.data_dir, "ledger directory");
  verify
      ->add_option("--export", args.export_dir,
                   "verify an export directory offline instead (no database needed)")
      ->excludes(data);
  verify->add_option("--public-key", args.public_key,
                     "also verify every signed checkpoint with this Ed25519 public key (.pub)");
  AddFormatFlags(verify, &args.flags);
  verify->callback([&] {
    if (!args.export_dir.empty()) {
      cli.code =
          RunAuditVerifyExport(args.export_dir, args.public_key, args.flags.format(), cli.io);
    } else if (args.data_dir.empty()) {
      cli.io.err << "tally audit verify: give --data DIR or --export DIR\n";
      cli.code = kExitUsage;
    } else {
      cli.code = RunAuditVerify(args.data_dir, args.public_key, args.flags.format(), cli.io);
    }
  });
}

void AddExport(CLI::App* audit, AuditArgs& args, CommandLine& cli) {
  auto* export_command = audit->add_subcommand(
      "export", "Write the log with its hashes and a manifest for offline verification");
  export_command->add_option("--data", args.data_dir, "ledger directory")->required();
  export_command->add_option("out", args.out, "directory to write (must not hold an export)")
      ->required();
  AddFormatFlags(export_command, &args.flags);
  export_command->callback(
      [&] { cli.code = RunAuditExport(args.data_dir, args.out, args.flags.format(), cli.io); });
}

void AddAccesses(CLI::App* audit, AuditArgs& args, CommandLine& cli) {
  auto* accesses = audit->add_subcommand(
      "accesses",
      "Every read of personal fields in plaintext that tally serve recorded (who, when, which "
      "subject, through what)");
  accesses->add_option("--data", args.data_dir, "ledger directory")->required();
  accesses->add_option("--subject", args.subject, "only the reads of this account's fields");
  AddAsOf(accesses, &args.as_of);
  AddFormatFlags(accesses, &args.flags);
  accesses->callback([&] {
    cli.code =
        RunAuditAccesses(args.data_dir, args.subject, args.as_of, args.flags.format(), cli.io);
  });
}

void AddKeygenAndCheckpoint(CLI::App* audit, AuditArgs& args, CommandLine& cli) {
  auto* keygen = audit->add_subcommand("keygen", "Make an Ed25519 key pair for checkpoints");
  keygen->add_option("--out", args.out, "secret key file; the public key goes to FILE.pub")
      ->required();
  keygen->callback([&] { cli.code = RunAuditKeygen(args.out, cli.io); });

  auto* checkpoint = audit->add_subcommand(
      "checkpoint", "Sign the head of the log (seq, hash, time) and append checkpoint_signed");
  checkpoint->add_option("--data", args.data_dir, "ledger directory")->required();
  checkpoint->add_option("--key", args.key_file, "the operator's secret key file")->required();
  AddMasterKey(checkpoint, &cli.master_key);
  AddFormatFlags(checkpoint, &args.flags);
  checkpoint->callback([&] {
    cli.code = RunAuditCheckpoint(args.data_dir, args.key_file, cli.master_key, args.flags.format(),
                                  cli.io);
  });
}

}  // namespace

void AddAuditCommands(CLI::App& app, CommandLine& cli) {
  auto& args = cli.Keep<AuditArgs>();
  auto* audit = app.add_subcommand("audit", "Checks for auditors");
  audit->require_subcommand(1);
  AddVerify(audit, args, cli);
  AddExport(audit, args, cli);
  AddAccesses(audit, args, cli);
  AddKeygenAndCheckpoint(audit, args, cli);
}

}  // namespace tally::cli
