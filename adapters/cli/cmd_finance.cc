// The command line of the finance reads: balance, statement, trial-balance,
// revenue, invoices, subscriptions, tasks, lots, invoice.
#include "adapters/cli/cmd.h"

namespace tally::cli {
namespace {

// The options of the finance reads (one runs per process).
struct FinanceArgs {
  std::string data_dir;
  AsOf as_of;
  FormatFlags flags;
  std::vector<std::string> accounts;  // balance, lots
  std::string account;                // statement, invoices
  std::string from;                   // statement
  bool totals = false;                // subscriptions
  bool open_holds = false;            // tasks
  std::string number;                 // invoice
};

// A finance read, with its --data option.
CLI::App* AddReport(CLI::App& app, FinanceArgs& args, const char* name, const char* description) {
  auto* command = app.add_subcommand(name, description);
  command->add_option("--data", args.data_dir, "ledger directory")->required();
  return command;
}

void AddBalanceAndStatement(CLI::App& app, FinanceArgs& args, CommandLine& cli) {
  auto* balance =
      AddReport(app, args, "balance",
                "Available, held and receivable credits per account, now or as of a past point");
  balance->add_option("account", args.accounts, "accounts to show (default: every account)");
  AddAsOf(balance, &args.as_of);
  AddFormatFlags(balance, &args.flags);
  balance->callback([&] {
    cli.code = RunBalance(args.data_dir, args.accounts, args.as_of, args.flags.format(), cli.io);
  });

  auto* statement = AddReport(app, args, "statement",
                              "Every credit movement of an account with running balances");
  statement->add_option("account", args.account, "the customer account")->required();
  statement->add_option("--from", args.from,
                        "list movements from this instant (RFC 3339); balances still count all");
  AddAsOf(statement, &args.as_of);
  AddMasterKey(statement, &cli.master_key);
  AddFormatFlags(statement, &args.flags);
  statement->callback([&] {
    cli.code = RunStatement(args.data_dir, args.account, args.from, args.as_of, cli.master_key,
                            args.flags.format(), cli.io);
  });
}

void AddLedgerTotals(CLI::App& app, FinanceArgs& args, CommandLine& cli) {
  auto* trial = AddReport(app, args, "trial-balance",
                          "Balance of every ledger account per asset; each asset sums to zero");
  AddAsOf(trial, &args.as_of);
  AddFormatFlags(trial, &args.flags);
  trial->callback(
      [&] { cli.code = RunTrialBalance(args.data_dir, args.as_of, args.flags.format(), cli.io); });

  auto* revenue =
      AddReport(app, args, "revenue",
                "Money per currency and month: cash, tax, recognised revenue, breakage, deferred");
  AddAsOf(revenue, &args.as_of);
  AddFormatFlags(revenue, &args.flags);
  revenue->callback(
      [&] { cli.code = RunRevenue(args.data_dir, args.as_of, args.flags.format(), cli.io); });

  auto* invoices = AddReport(app, args, "invoices", "Invoices and credit notes in issue order");
  invoices->add_option("--account", args.account, "only this customer account's documents");
  AddAsOf(invoices, &args.as_of);
  AddFormatFlags(invoices, &args.flags);
  invoices->callback([&] {
    cli.code = RunInvoices(args.data_dir, args.account, args.as_of, args.flags.format(), cli.io);
  });
}

void AddSubscriptionsAndTasks(CLI::App& app, FinanceArgs& args, CommandLine& cli) {
  auto* subscriptions =
      AddReport(app, args, "subscriptions",
                "Subscriptions with status and MRR; --totals: MRR and ARR per currency");
  subscriptions->add_flag("--totals", args.totals, "MRR and ARR per currency");
  AddAsOf(subscriptions, &args.as_of);
  AddFormatFlags(subscriptions, &args.flags);
  subscriptions->callback([&] {
    cli.code =
        RunSubscriptions(args.data_dir, args.totals, args.as_of, args.flags.format(), cli.io);
  });

  auto* tasks =
      AddReport(app, args, "tasks", "Credits consumed per model; --open: holds still open");
  tasks->add_flag("--open", args.open_holds, "the holds still open (running tasks)");
  AddAsOf(tasks, &args.as_of);
  AddFormatFlags(tasks, &args.flags);
  tasks->callback([&] {
    cli.code = RunTasks(args.data_dir, args.open_holds, args.as_of, args.flags.format(), cli.io);
  });
}

void AddLotsAndInvoice(CLI::App& app, FinanceArgs& args, CommandLine& cli) {
  auto* lots =
      AddReport(app, args, "lots",
                "The live credit lots of accounts, in burn order: credits, expiry, unit price");
  lots->add_option("account", args.accounts, "accounts to list")->required();
  AddMasterKey(lots, &cli.master_key);  // accepted as before; lots hold no personal field
  AddFormatFlags(lots, &args.flags);
  lots->callback(
      [&] { cli.code = RunLots(args.data_dir, args.accounts, args.flags.format(), cli.io); });

  auto* invoice =
      AddReport(app, args, "invoice",
                "One invoice or credit note: its lines (--json: the document as logged)");
  invoice->add_option("number", args.number, "e.g. INV-2026-000123")->required();
  AddMasterKey(invoice, &cli.master_key);
  AddFormatFlags(invoice, &args.flags);
  invoice->callback([&] {
    cli.code = RunInvoice(args.data_dir, args.number, cli.master_key, args.flags.format(), cli.io);
  });
}

}  // namespace

void AddFinanceCommands(CLI::App& app, CommandLine& cli) {
  auto& args = cli.Keep<FinanceArgs>();
  AddBalanceAndStatement(app, args, cli);
  AddLedgerTotals(app, args, cli);
  AddSubscriptionsAndTasks(app, args, cli);
  AddLotsAndInvoice(app, args, cli);
}

}  // namespace tally::cli
