// The command line of the `tally` binary (CLI11): what the registration of
// every command family shares, and one registration function per family
// (adapters/cli/cmd_<family>.cc). main.cc calls them in turn.
#pragma once

#include <CLI/CLI.hpp>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "adapters/cli/commands.h"
#include "adapters/cli/exit_codes.h"
#include "adapters/cli/serve_config.h"

namespace tally::cli {

// The footer of `tally --help`: the exit codes and where the docs are.
extern const char* const kExitCodesHelp;

// --json and --csv.
struct FormatFlags {
  bool json = false;
  bool csv = false;
  OutputFormat format() const {
    return json ? OutputFormat::kJson : csv ? OutputFormat::kCsv : OutputFormat::kTable;
  }
};

// --at-seq N and --as-of TIME of the finance reports.
void AddAsOf(CLI::App* command, AsOf* as_of);

// --json and --csv (exclusive).
void AddFormatFlags(CLI::App* command, FormatFlags* flags);

// --master-key-file PATH into `key`, which holds $TALLY_MASTER_KEY_FILE
// unless the option is given.
void AddMasterKey(CLI::App* command, MasterKeyFile* key);
// Its help text.
extern const char* const kMasterKeyHelp;

// This process's environment (read only, never written).
Environment ProcessEnvironment();

// What the registered commands share: the streams, the environment, the
// exit code their callbacks set, and the variables their options write to.
// CLI11's options and callbacks refer to those variables, so they live
// here, as long as the CommandLine, past CLI::App::parse.
class CommandLine {
 public:
  CommandLine(Io streams, Environment environment)
      : io(streams),
        env(std::move(environment)),
        master_key{env("TALLY_MASTER_KEY_FILE").value_or("")} {}

  // A new T that lives as long as this CommandLine.
  template <typename T>
  T& Keep() {
    auto kept = std::make_shared<T>();
    T& state = *kept;
    kept_.push_back(std::move(kept));
    return state;
  }

  Io io;
  const Environment env;
  int code = kExitOk;
  // The master key file of the command that runs: TALLY_MASTER_KEY_FILE,
  // read once here; --master-key-file (AddMasterKey) replaces it.
  MasterKeyFile master_key;

 private:
  std::vector<std::shared_ptr<void>> kept_;
};

// Moves the subcommands of `app` named in `order` to the end of its list,
// in that order: `tally --help` lists them so.
void ListInOrder(CLI::App& app, std::initializer_list<const char*> order);

// The command families, each registered on `app` by one function.
// append, events, journal (cmd_log.cc)
void AddLogCommands(CLI::App& app, CommandLine& cli);
// balance, statement, trial-balance, revenue, invoices, invoice,
// subscriptions, tasks, lots (cmd_finance.cc)
void AddFinanceCommands(CLI::App& app, CommandLine& cli);
// shred, legal-hold, master-key (cmd_privacy.cc)
void AddPrivacyCommands(CLI::App& app, CommandLine& cli);
// token create|list|revoke (cmd_token.cc)
void AddTokenCommands(CLI::App& app, CommandLine& cli);
// rebuild (cmd_rebuild.cc)
void AddRebuildCommand(CLI::App& app, CommandLine& cli);
// retention plan|apply (cmd_retention.cc)
void AddRetentionCommands(CLI::App& app, CommandLine& cli);
// audit verify|export|accesses|keygen|checkpoint (cmd_audit.cc)
void AddAuditCommands(CLI::App& app, CommandLine& cli);
// serve (cmd_serve.cc)
void AddServeCommand(CLI::App& app, CommandLine& cli);
// publish (cmd_publish.cc)
void AddPublishCommand(CLI::App& app, CommandLine& cli);
// demo (cmd_demo.cc)
void AddDemoCommand(CLI::App& app, CommandLine& cli);

}  // namespace tally::cli
