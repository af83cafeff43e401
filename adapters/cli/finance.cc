// The finance commands: statement, trial balance, revenue, invoices.
#include "reports/finance.h"

#include "adapters/cli/commands.h"
#include "adapters/cli/exit_codes.h"
#include "adapters/cli/support.h"
#include "events/codec.h"
#include "events/timestamp.h"
#include "ledger/journal.h"
#include "ledger/personal.h"
#include "projections/reports.h"
#include "projections/statement.h"
#include "reports/privacy.h"

namespace tally::cli {

namespace {

// Opens an existing ledger with its projections caught up, and the range
// of `as_of`, or says why not.
struct Opened {
  std::unique_ptr<ReadView> view;
  LogRange range;
  const ProjectionStore& store() const { return *view->projections; }
};

Result<Opened> Open(const std::string& data_dir, const AsOf& as_of) {
  auto range = RangeOf(as_of);
  if (!range.ok()) return range.status();
  auto view = OpenForReading(data_dir);
  if (!view.ok()) return view.status();
  if (auto status = CheckInLog(*range, *(*view)->log); !status.ok()) return status;
  return Opened{std::move(view).value(), *range};
}

// The account's personal fields as of `through_seq` (opened with the master
// key, `erased` once shredded); empty when the directory never held any.
Result<Identity> IdentityOf(const std::string& data_dir, const MasterKeyFile& master_key,
                            const Log& log, const std::string& account, uint64_t through_seq) {
  auto keys = OpenKeysForReading(data_dir, master_key);
  if (!keys.ok()) return keys.status();
  if (*keys == nullptr) return Identity{};
  return ReadIdentity(log, account, through_seq, **keys);
}

// "name erased, email alice@example.com" for the fields that are set.
std::string Describe(const Identity& identity, std::initializer_list<const char*> fields) {
  std::string out;
  for (const char* field : fields) {
    const PersonalValue* value = identity.Find(field);
    if (value == nullptr || value->kind == PersonalValue::Kind::kUnset) continue;
    out += (out.empty() ? "" : ", ") + std::string(field) + " " + value->Display();
  }
  return out.empty() ? "no personal fields" : out;
}

}  // namespace

int RunStatement(const std::string& data_dir, const std::string& account, const std::string& from,
                 const AsOf& as_of, const MasterKeyFile& master_key, OutputFormat format, Io io) {
  auto opened = Open(data_dir, as_of);
  if (!opened.ok()) return Fail(opened.status(), io);
  int64_t from_micros = 0;
  if (!from.empty()) {
    auto parsed = ParseTimestamp(from);
    if (!parsed.ok()) return Fail(parsed.status().WithContext("--from"), io);
    from_micros = *parsed;
  }
  auto lines = ReadStatement(opened->store(), account, opened->range, from_micros);
  if (!lines.ok()) return Fail(lines.status(), io);
  if (format == OutputFormat::kTable) {
    const Log& log = *opened->view->log;
    auto identity = IdentityOf(data_dir, master_key, log, account, log.head_seq());
    if (!identity.ok()) return Fail(identity.status(), io);
    io.out << "Statement of " << account << " ("
           << Describe(*identity, {"display_name", "email", "legal_name"}) << ")\n";
  }
  Report report = StatementTable(*lines);
  Render(report, format, io.out);
  return kExitOk;
}

int RunTrialBalance(const std::string& data_dir, const AsOf& as_of, OutputFormat format, Io io) {
  auto opened = Open(data_dir, as_of);
  if (!opened.ok()) return Fail(opened.status(), io);
  auto lines = ReadTrialBalance(opened->store(), opened->range);
  if (!lines.ok()) return Fail(lines.status(), io);
  Report report = TrialBalanceTable(*lines);
  Render(report, format, io.out);
  return kExitOk;
}

int RunRevenue(const std::string& data_dir, const AsOf& as_of, OutputFormat format, Io io) {
  auto opened = Open(data_dir, as_of);
  if (!opened.ok()) return Fail(opened.status(), io);
  auto lines = ReadRevenue(opened->store(), opened->range);
  if (!lines.ok()) return Fail(lines.status(), io);
  Report report = RevenueTable(*lines);
  Render(report, format, io.out);
  return kExitOk;
}

int RunInvoices(const std::string& data_dir, const std::string& account, const AsOf& as_of,
                OutputFormat format, Io io) {
  auto opened = Open(data_dir, as_of);
  if (!opened.ok()) return Fail(opened.status(), io);
  auto rows = ReadInvoices(opened->store(), account, opened->range);
  if (!rows.ok()) return Fail(rows.status(), io);
  Report report = InvoicesTable(*rows);
  Render(report, format, io.out);
  return kExitOk;
}

int RunSubscriptions(const std::string& data_dir, bool totals, const AsOf& as_of,
                     OutputFormat format, Io io) {
  auto opened = Open(data_dir, as_of);
  if (!opened.ok()) return Fail(opened.status(), io);
  auto report = ReadSubscriptions(opened->store(), opened->range);
  if (!report.ok()) return Fail(report.status(), io);
  Report out = totals ? RecurringRevenueTable(*report) : SubscriptionsTable(*report);
  Render(out, format, io.out);
  return kExitOk;
}

int RunTasks(const std::string& data_dir, bool open_holds, const AsOf& as_of, OutputFormat format,
             Io io) {
  auto opened = Open(data_dir, as_of);
  if (!opened.ok()) return Fail(opened.status(), io);
  auto report = ReadTasks(opened->store(), opened->range);
  if (!report.ok()) return Fail(report.status(), io);
  Report out = open_holds ? OpenHoldsTable(*report) : ModelUsageTable(*report);
  Render(out, format, io.out);
  return kExitOk;
}

int RunAuditAccesses(const std::string& data_dir, const std::string& subject, const AsOf& as_of,
                     OutputFormat format, Io io) {
  auto opened = Open(data_dir, as_of);
  if (!opened.ok()) return Fail(opened.status(), io);
  auto rows = ReadAccesses(opened->store(), subject, opened->range);
  if (!rows.ok()) return Fail(rows.status(), io);
  Render(AccessesTable(*rows), format, io.out);
  return kExitOk;
}

int RunInvoice(const std::string& data_dir, const std::string& number,
               const MasterKeyFile& master_key, OutputFormat format, Io io) {
  auto opened = Open(data_dir, AsOf{});
  if (!opened.ok()) return Fail(opened.status(), io);
  auto document = ReadInvoice(opened->store(), number, opened->range);
  if (!document.ok()) return Fail(document.status(), io);
  const InvoiceRow& row = document->row;
  // The billing identity as it stood when the document was issued.
  auto identity = IdentityOf(data_dir, master_key, *opened->view->log, row.account, row.seq);
  if (!identity.ok()) return Fail(identity.status(), io);
  static constexpr std::initializer_list<const char*> kBillTo = {"legal_name", "invoice_title",
                                                                 "tax_id", "billing_address"};
  if (format == OutputFormat::kJson) {  // the bill-to party and the document as logged
    EventCodec codec;
    io.out << "{\"bill_to\":{";
    bool first = true;
    for (const char* field : kBillTo) {
      const PersonalValue* value = identity->Find(field);
      if (value == nullptr || value->kind == PersonalValue::Kind::kUnset) continue;
      io.out << (first ? "" : ",") << JsonQuote(field) << ':' << JsonQuote(value->Display());
      first = false;
    }
    io.out << "},\"document\":"
           << codec.ToJson(document->event.WithLedgerFields(row.seq, row.issued_at_micros))
           << "}\n";
    return kExitOk;
  }
  Report report = InvoiceLinesTable(*document);
  if (format == OutputFormat::kTable) {
    io.out << row.number << " (" << row.kind << ") for " << row.account << ", issued "
           << FormatTimestamp(row.issued_at_micros) << ", total " << row.currency << " "
           << row.total << '\n'
           << "Bill to: " << Describe(*identity, kBillTo) << '\n';
  }
  Render(report, format, io.out);
  return kExitOk;
}

}  // namespace tally::cli
