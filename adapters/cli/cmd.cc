#include "adapters/cli/cmd.h"

#include <cstdlib>
#include <string>
#include <utility>

namespace tally::cli {

const char* const kExitCodesHelp =
    "Exit codes:\n"
    "  0  success\n"
    "  1  environment failure (disk, store); retrying may help\n"
    "  2  bad command line, or no ledger at --data\n"
    "  3  input rejected; nothing was written\n"
    "  4  some events rejected (e.g. id conflict); the others were written\n"
    "  5  stored data failed a check; call an operator\n"
    "Docs: docs/cli.md, docs/finance.md, docs/audit.md, docs/events.md, docs/ledger.md";

void AddAsOf(CLI::App* command, AsOf* as_of) {
  command->add_option("--at-seq", as_of->at_seq,
                      "report the log up to this seq (inclusive; 1 to the head)");
  command->add_option("--as-of", as_of->as_of,
                      "report the log up to this instant, RFC 3339 (recorded_at, inclusive)");
}

const char* const kMasterKeyHelp =
    "file of 32 random bytes that wraps the keys of personal fields (default: "
    "$TALLY_MASTER_KEY_FILE); needed where the data directory holds personal data";

void AddMasterKey(CLI::App* command, MasterKeyFile* key) {
  command->add_option("--master-key-file", key->path, kMasterKeyHelp);
}

Environment ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
  };
}

void AddFormatFlags(CLI::App* command, FormatFlags* flags) {
  auto* json = command->add_flag("--json", flags->json, "print JSON instead of a table");
  command->add_flag("--csv", flags->csv, "print CSV (RFC 4180) instead of a table")->excludes(json);
}

void ListInOrder(CLI::App& app, std::initializer_list<const char*> order) {
  for (const char* name : order) {
    CLI::App_p command = app.get_subcommand_ptr(std::string(name));
    app.remove_subcommand(command.get());
    app.add_subcommand(std::move(command));
  }
}

}  // namespace tally::cli
