// The demo's report: what went through the service, the books a finance
// lead and an auditor read, and the identities the books must satisfy,
// each checked.
#include <algorithm>
#include <map>
#include <sstream>

#include "adapters/cli/demo.h"
#include "adapters/cli/exit_codes.h"
#include "adapters/cli/figures.h"
#include "adapters/cli/support.h"
#include "events/timestamp.h"
#include "projections/reports.h"
#include "projections/statement.h"
#include "reports/finance.h"

namespace tally::cli {
namespace {

struct Check {
  std::string name;
  bool ok = false;
  std::string detail;
};

// The accounts with the most events, most first.
std::vector<std::string> Busiest(const workload::Workload& month, size_t n) {
  std::map<std::string, size_t> counts;
  for (const workload::WorkloadEvent& e : month.events) {
    if (e.channel != workload::Channel::kImport) ++counts[e.account];
  }
  std::vector<std::pair<size_t, std::string>> ranked;
  for (const auto& [account, count] : counts) ranked.emplace_back(count, account);
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::vector<std::string> out;
  for (size_t i = 0; i < std::min(n, ranked.size()); ++i) out.push_back(ranked[i].second);
  return out;
}

// Assets = liabilities + income, per currency, over every month:
// cash + chargebacks = tax + deferred + refunds payable + usage +
// subscription + breakage - refunds.
Check CashIdentity(const std::vector<RevenueLine>& revenue) {
  std::map<std::string, std::pair<Money, Money>> sides;  // currency: left, right
  std::map<std::string, Money> deferred;                 // of the last month
  for (const RevenueLine& r : revenue) {
    auto [it, added] = sides.try_emplace(r.currency, Money::Zero(r.cash_in.currency()),
                                         Money::Zero(r.cash_in.currency()));
    it->second.first += r.cash_in + r.chargebacks;
    it->second.second +=
        r.tax + r.refunds_payable + r.usage + r.subscription + r.breakage - r.refunds;
    deferred.insert_or_assign(r.currency, r.deferred_end);
  }
  Check check{
      "cash + chargebacks = tax + deferred + refunds payable + revenue - refunds, "
      "per currency",
      true, ""};
  for (auto& [currency, sides_of] : sides) {
    const Money right = sides_of.second + deferred.at(currency);
    check.detail += (check.detail.empty() ? "" : "; ") + currency + " " +
                    sides_of.first.ToString() + " = " + right.ToString();
    if (!(sides_of.first == right)) check.ok = false;
  }
  return check;
}

Check TrialBalanceZero(const std::vector<TrialBalanceLine>& lines) {
  std::map<std::string, Int128> sums;
  for (const TrialBalanceLine& line : lines) sums[line.asset] += line.balance;
  Check check{"trial balance sums to zero for every asset", true, ""};
  for (const auto& [asset, sum] : sums) {
    check.detail += (check.detail.empty() ? "" : ", ") + asset;
    if (sum != 0) {
      check.ok = false;
      check.detail += " is off";
    }
  }
  return check;
}

// Each busy account's statement ends at its balance.
Check StatementsEndAtBalances(const ProjectionStore& store,
                              const std::vector<std::string>& accounts) {
  Check check{"statements end at the balances", true, ""};
  for (const std::string& account : accounts) {
    auto lines = ReadStatement(store, account, {});
    auto balance = ReadBalance(store, account, {});
    const bool same = lines.ok() && balance.ok() && !lines->empty() &&
                      lines->back().available == balance->available &&
                      lines->back().held == balance->held &&
                      lines->back().receivable == balance->receivable;
    check.detail += (check.detail.empty() ? "" : ", ") + account + (same ? "" : " differs");
    check.ok = check.ok && same;
  }
  return check;
}

// Facts taken once, holds all answered and none left open, the erasure
// under a legal hold refused and the others done.
std::vector<Check> ServiceChecks(const DemoRun& run, const workload::Workload& month,
                                 const TaskReport& tasks) {
  const IngestCounts& in = run.kafka.ingest;
  std::vector<Check> checks;
  checks.push_back({"every fact published to Kafka appended exactly once",
                    in.appended == run.drive.facts && in.duplicates == 0 && in.rejected == 0 &&
                        in.malformed == 0,
                    std::to_string(run.drive.facts) + " published, " + std::to_string(in.appended) +
                        " appended, " + std::to_string(in.rejected + in.malformed) +
                        " dead letters"});
  checks.push_back({"no hold is left open after the month", tasks.open_holds.empty(),
                    std::to_string(tasks.open_holds.size()) + " open"});
  bool erasures_ok = !month.erased.empty();
  for (const std::string& account : month.erased) {
    const std::string expected = account == month.legal_hold ? "HTTP 409" : "HTTP 20";
    bool found = false;
    for (const std::string& answer : run.drive.operator_answers) {
      if (answer.rfind("erasure_requested " + account + ": " + expected, 0) == 0) found = true;
    }
    erasures_ok = erasures_ok && found;
  }
  checks.push_back({"erasures done, the one under a legal hold refused (409)", erasures_ok,
                    std::to_string(month.erased.size()) + " asked"});
  return checks;
}

std::vector<Check> BookChecks(const DemoRun& run, const workload::Workload& month,
                              const std::vector<std::string>& busiest) {
  auto view = OpenForReading(run.ledger_dir);
  if (!view.ok()) return {{"the books could be read", false, view.status().ToString()}};
  const ProjectionStore& store = *(*view)->projections;
  auto journal = ReadTrialBalance(store, {});
  auto revenue = ReadRevenue(store, {});
  auto tasks = ReadTasks(store, {});
  if (!journal.ok() || !revenue.ok() || !tasks.ok()) {
    return {{"the books could be read", false, "a projection failed to read"}};
  }
  std::vector<Check> checks = {TrialBalanceZero(*journal), CashIdentity(*revenue)};
  Status reconciled = ReconcileRevenue(*revenue, *journal);
  checks.push_back({"revenue by month reconciles with the journal", reconciled.ok(),
                    reconciled.ok() ? "" : reconciled.ToString()});
  checks.push_back(StatementsEndAtBalances(store, busiest));
  for (Check& check : ServiceChecks(run, month, *tasks)) checks.push_back(std::move(check));
  return checks;
}

int FinishReport(const DemoOptions& options, const DemoRun& run, const std::vector<Check>& checks,
                 Io io);

void Heading(const std::string& title, Io io) { io.out << "\n== " << title << " ==\n"; }

// The month's revenue (the imported years are summed in the checks).
void PrintRevenue(const std::string& ledger_dir, int64_t start, Io io) {
  auto view = OpenForReading(ledger_dir);
  if (!view.ok()) return;
  auto revenue = ReadRevenue(*(*view)->projections, {});
  if (!revenue.ok()) return;
  const std::string first_month = FormatTimestamp(start).substr(0, 7);
  std::vector<RevenueLine> recent;
  size_t earlier = 0;
  for (const RevenueLine& line : *revenue) {
    if (line.month >= first_month) {
      recent.push_back(line);
    } else {
      ++earlier;
    }
  }
  Render(RevenueTable(recent), OutputFormat::kTable, io.out);
  io.out << "(and " << earlier << " earlier month rows of the imported account's history: "
         << "tally revenue --data DIR)\n";
}

// A credit note and the invoice it corrects.
void PrintInvoiceAndCreditNote(const DemoRun& run, Io io) {
  auto view = OpenForReading(run.ledger_dir);
  if (!view.ok()) return;
  auto rows = ReadInvoices(*(*view)->projections, "", {});
  if (!rows.ok()) return;
  for (const InvoiceRow& row : *rows) {
    if (row.kind != "credit_note") continue;
    (void)RunInvoice(run.ledger_dir, row.invoice_number, run.master_key, OutputFormat::kTable, io);
    io.out << '\n';
    (void)RunInvoice(run.ledger_dir, row.number, run.master_key, OutputFormat::kTable, io);
    return;
  }
}

// The platform's side of the trial balance (customers' lines summed away).
void PrintTrialBalance(const std::string& ledger_dir, Io io) {
  auto view = OpenForReading(ledger_dir);
  if (!view.ok()) return;
  auto lines = ReadTrialBalance(*(*view)->projections, {});
  if (!lines.ok()) return;
  std::vector<TrialBalanceLine> platform;
  std::map<std::string, Int128> customers;  // per asset
  for (const TrialBalanceLine& line : *lines) {
    if (line.account.rfind("customer:", 0) == 0) {
      customers[line.asset] += line.balance;
    } else {
      platform.push_back(line);
    }
  }
  for (const auto& [asset, balance] : customers) {
    platform.push_back({"customer:* (every account)", asset, balance});
  }
  Render(TrialBalanceTable(platform), OutputFormat::kTable, io.out);
}

void PrintMonth(const DemoOptions& options, const workload::Workload& month, const DemoRun& run,
                const std::vector<std::string>& busiest, Io io) {
  const DriveTotals& d = run.drive;
  const uint64_t holds = d.holds_accepted + d.holds_rejected;
  io.out << "A month of an AI image and video platform: " << options.workload.accounts
         << " accounts and one imported from an older system, " << options.workload.days
         << " days from " << FormatTimestamp(options.workload.start_micros).substr(0, 10)
         << " (seed " << options.workload.seed << "), " << month.events.size()
         << " events driven through tally serve in " << Fixed(d.seconds, 1) << " s:\n"
         << "  " << d.imported << " events of history imported over HTTP (POST /v1/events)\n"
         << "  " << d.facts << " facts published to Kafka, taken exactly once\n"
         << "  " << holds << " holds asked over HTTP (POST /v1/holds): " << d.holds_accepted
         << " accepted, " << d.holds_rejected << " refused (" << d.not_sent
         << " outcomes of refused tasks never sent); round trip p50 "
         << Fixed(Percentile(d.hold_ms, 0.5), 2) << " ms, p99 "
         << Fixed(Percentile(d.hold_ms, 0.99), 2) << " ms\n"
         << "  " << d.operator_calls << " operator calls (legal hold, erasure)\n"
         << "  log head at seq " << run.head_seq << ": "
         << Fixed(static_cast<double>(run.head_seq) / std::max(d.seconds, 0.001), 0)
         << " events a second, the ledger's own (decisions, invoices, expiries) included\n";
  Heading("The busiest accounts", io);
  (void)RunBalance(run.ledger_dir, busiest, AsOf{}, OutputFormat::kTable, io);
  Heading("An invoice, and the credit note of its refund", io);
  PrintInvoiceAndCreditNote(run, io);
  Heading("Trial balance", io);
  PrintTrialBalance(run.ledger_dir, io);
  Heading("Revenue, deferred revenue and breakage per currency and month", io);
  PrintRevenue(run.ledger_dir, options.workload.start_micros, io);
  Heading("Recurring revenue", io);
  (void)RunSubscriptions(run.ledger_dir, /*totals=*/true, AsOf{}, OutputFormat::kTable, io);
}

void PrintPrivacyAndAudit(const workload::Workload& month, const DemoRun& run, Io io) {
  Heading("Erasure through the operator API", io);
  for (const std::string& answer : run.drive.operator_answers) io.out << "  " << answer << '\n';
  for (const std::string& account : month.erased) {
    if (account == month.legal_hold) continue;
    io.out << "\nThe statement of " << account << ", erased (amounts whole):\n";
    (void)RunStatement(run.ledger_dir, account, "", AsOf{}, run.master_key, OutputFormat::kTable,
                       io);
    break;
  }
}

}  // namespace

int PrintDemoReport(const DemoOptions& options, const workload::Workload& month, const DemoRun& run,
                    Io io) {
  const std::vector<std::string> busiest = Busiest(month, 5);
  std::ostringstream quiet;
  Io silent{quiet, quiet};
  const bool table = options.format == OutputFormat::kTable;
  if (table) {
    PrintMonth(options, month, run, busiest, io);
    PrintPrivacyAndAudit(month, run, io);
    Heading("Signed checkpoint and audit verify", io);
  }
  const std::string key = run.data_dir + "/checkpoint.key";
  std::vector<Check> checks = BookChecks(run, month, busiest);
  const bool signed_ok = RunAuditKeygen(key, silent) == kExitOk &&
                         RunAuditCheckpoint(run.ledger_dir, key, run.master_key,
                                            OutputFormat::kTable, table ? io : silent) == kExitOk;
  checks.push_back({"the head is signed (checkpoint_signed)", signed_ok, key + ".pub"});
  auto audit = AuditVerify(run.ledger_dir, key + ".pub");
  const bool audited = audit.ok() && audit->status.ok();
  if (table && audit.ok()) Render(audit->checks, OutputFormat::kTable, io.out);
  checks.push_back({"audit verify, with the checkpoint's public key", audited,
                    audit.ok() ? audit->status.ToString() : audit.status().ToString()});
  return FinishReport(options, run, checks, io);
}

}  // namespace tally::cli

namespace tally::cli {
namespace {

int FinishReport(const DemoOptions& options, const DemoRun& run, const std::vector<Check>& checks,
                 Io io) {
  const bool all = std::all_of(checks.begin(), checks.end(), [](const Check& c) { return c.ok; });
  Report table{{{"check"}, {"result"}, {"detail"}}, {}};
  for (const Check& check : checks) {
    table.rows.push_back({check.name, check.ok ? "ok" : "FAILED", check.detail});
  }
  if (options.format != OutputFormat::kTable) {
    const DriveTotals& d = run.drive;
    Json out = Json::Object()
                   .Add("ok", Json::Bool(all))
                   .Add("head_seq", Json::Integer(static_cast<int64_t>(run.head_seq)))
                   .Add("seconds", Json::String(Fixed(d.seconds, 3)))
                   .Add("imported", Json::Integer(static_cast<int64_t>(d.imported)))
                   .Add("facts", Json::Integer(static_cast<int64_t>(d.facts)))
                   .Add("holds_accepted", Json::Integer(static_cast<int64_t>(d.holds_accepted)))
                   .Add("holds_rejected", Json::Integer(static_cast<int64_t>(d.holds_rejected)))
                   .Add("hold_ms_p50", Json::String(Fixed(Percentile(d.hold_ms, 0.5), 3)))
                   .Add("hold_ms_p99", Json::String(Fixed(Percentile(d.hold_ms, 0.99), 3)))
                   .Add("checks", ReportJson(table));
    if (options.keep || !options.data_dir.empty()) {
      out.Add("data", Json::String(run.ledger_dir));
    }
    io.out << Encode(out) << '\n';
    return all ? kExitOk : kExitCorruption;
  }
  Heading("The books check themselves", io);
  Render(table, OutputFormat::kTable, io.out);
  io.out << (all ? "\nEvery check holds.\n" : "\nA CHECK FAILED: the books do not reconcile.\n");
  if (options.keep || !options.data_dir.empty()) {
    const std::string& d = run.ledger_dir;
    io.out << "\nThe data is in " << d << " (master key " << run.master_key.path << "). Try:\n"
           << "  tally revenue --data " << d << "\n"
           << "  tally invoices --data " << d << "\n"
           << "  tally audit verify --data " << d << " --public-key " << run.data_dir
           << "/checkpoint.key.pub\n"
           << "  tally serve --data " << d << " --listen 127.0.0.1:8080 --master-key-file "
           << run.master_key.path << "\n"
           << "  curl -H 'Authorization: Bearer " << run.finance_token
           << "' http://127.0.0.1:8080/v1/reports/recurring-revenue\n";
  } else {
    io.out << "\n(run with --keep to keep the data and explore it)\n";
  }
  return all ? kExitOk : kExitCorruption;
}

}  // namespace
}  // namespace tally::cli
