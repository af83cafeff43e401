// The command line of `tally token create|list|revoke`.
#include "adapters/cli/cmd.h"

namespace tally::cli {
namespace {

struct TokenArgs {
  std::string data_dir;
  std::string role;  // create
  std::string name;  // create
  std::string id;    // revoke
  FormatFlags flags;
};

void AddCreate(CLI::App* token, TokenArgs& args, CommandLine& cli) {
  auto* create = token->add_subcommand("create", "Make a token and print it once");
  create->add_option("--data", args.data_dir, "ledger directory")->required();
  create->add_option("--role", args.role, "publisher, finance, auditor or operator")->required();
  create->add_option("--name", args.name, "who or what uses it, e.g. billing-api")->required();
  AddFormatFlags(create, &args.flags);
  create->callback([&] {
    cli.code = RunTokenCreate(args.data_dir, args.role, args.name, args.flags.format(), cli.io);
  });
}

}  // namespace

void AddTokenCommands(CLI::App& app, CommandLine& cli) {
  auto& args = cli.Keep<TokenArgs>();
  auto* token =
      app.add_subcommand("token", "API tokens of tally serve and their roles (docs/api.md)");
  token->require_subcommand(1);
  AddCreate(token, args, cli);
  auto* list = token->add_subcommand("list", "Every token, live and revoked (no secrets)");
  list->add_option("--data", args.data_dir, "ledger directory")->required();
  AddFormatFlags(list, &args.flags);
  list->callback([&] { cli.code = RunTokenList(args.data_dir, args.flags.format(), cli.io); });
  auto* revoke = token->add_subcommand("revoke", "Revoke a token by its id");
  revoke->add_option("--data", args.data_dir, "ledger directory")->required();
  revoke->add_option("id", args.id, "the token's id (tally token list)")->required();
  revoke->callback([&] { cli.code = RunTokenRevoke(args.data_dir, args.id, cli.io); });
}

}  // namespace tally::cli
