// The `tally` binary: registers every command family (adapters/cli/cmd.h)
// with CLI11 and runs the one the command line names.
#include <CLI/CLI.hpp>
#include <iostream>

#include "adapters/cli/cmd.h"
#include "adapters/cli/exit_codes.h"

namespace tally::cli {
namespace {

int Main(int argc, char** argv) {
  CommandLine cli(Io{std::cout, std::cerr}, ProcessEnvironment());
  CLI::App app{"tally: an event-sourced ledger and billing core"};
  app.footer(kExitCodesHelp);  // before the subcommands: they inherit it
  app.require_subcommand(1);
  AddLogCommands(app, cli);
  AddFinanceCommands(app, cli);
  AddPrivacyCommands(app, cli);
  AddTokenCommands(app, cli);
  AddRebuildCommand(app, cli);
  AddRetentionCommands(app, cli);
  AddAuditCommands(app, cli);
  AddServeCommand(app, cli);
  AddPublishCommand(app, cli);
  AddDemoCommand(app, cli);
  ListInOrder(app,
              {"append",        "balance", "statement",  "trial-balance", "revenue", "invoices",
               "subscriptions", "tasks",   "lots",       "invoice",       "events",  "shred",
               "master-key",    "token",   "legal-hold", "journal",       "rebuild", "retention",
               "audit",         "serve",   "publish",    "demo"});
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  return cli.code;
}

}  // namespace
}  // namespace tally::cli

int main(int argc, char** argv) {
  try {
    return tally::cli::Main(argc, argv);
  } catch (const std::exception& e) {  // a bug: say so rather than abort silently
    std::cerr << "tally: internal error: " << e.what() << '\n';
    return tally::cli::kExitFailure;
  }
}
