// The finance commands: statement, trial balance, revenue, invoices.
#include "adapters/cli/commands.h"
#include "adapters/cli/exit_codes.h"
#include "adapters/cli/support.h"
#include "events/codec.h"
#include "events/timestamp.h"
#include "ledger/journal.h"
#include "ledger/personal.h"
#include "projections/reports.h"
#include "projections/statement.h"

namespace tally::cli {

namespace {

using Kind = Column::Kind;

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
Result<Identity> IdentityOf(const std::string& data_dir, const Log& log, const std::string& account,
                            uint64_t through_seq) {
  auto keys = OpenKeysForReading(data_dir);
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
                 const AsOf& as_of, OutputFormat format, Io io) {
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
    auto identity = IdentityOf(data_dir, log, account, log.head_seq());
    if (!identity.ok()) return Fail(identity.status(), io);
    io.out << "Statement of " << account << " ("
           << Describe(*identity, {"display_name", "email", "legal_name"}) << ")\n";
  }
  Report report{{{"seq", Kind::kInteger},
                 {"recorded_at"},
                 {"type"},
                 {"bucket"},
                 {"change", Kind::kAmount},
                 {"available", Kind::kAmount},
                 {"held", Kind::kAmount},
                 {"receivable", Kind::kAmount}},
                {}};
  for (const StatementLine& line : *lines) {
    report.rows.push_back({std::to_string(line.seq), FormatTimestamp(line.recorded_at_micros),
                           line.type, line.bucket, line.change.ToString(),
                           line.available.ToString(), line.held.ToString(),
                           line.receivable.ToString()});
  }
  Render(report, format, io.out);
  return kExitOk;
}

int RunTrialBalance(const std::string& data_dir, const AsOf& as_of, OutputFormat format, Io io) {
  auto opened = Open(data_dir, as_of);
  if (!opened.ok()) return Fail(opened.status(), io);
  auto lines = ReadTrialBalance(opened->store(), opened->range);
  if (!lines.ok()) return Fail(lines.status(), io);
  Report report{
      {{"ledger_account"}, {"asset"}, {"debit", Kind::kAmount}, {"credit", Kind::kAmount}}, {}};
  for (const TrialBalanceLine& line : *lines) {
    bool debit = line.balance > 0;
    std::string amount = FormatAmount(line.asset, debit ? line.balance : Int128(-line.balance));
    report.rows.push_back({line.account, line.asset, debit ? amount : "", debit ? "" : amount});
  }
  Render(report, format, io.out);
  return kExitOk;
}

int RunRevenue(const std::string& data_dir, const AsOf& as_of, OutputFormat format, Io io) {
  auto opened = Open(data_dir, as_of);
  if (!opened.ok()) return Fail(opened.status(), io);
  auto lines = ReadRevenue(opened->store(), opened->range);
  if (!lines.ok()) return Fail(lines.status(), io);
  Report report{{{"currency"},
                 {"month"},
                 {"cash_in", Kind::kAmount},
                 {"tax", Kind::kAmount},
                 {"usage", Kind::kAmount},
                 {"subscription", Kind::kAmount},
                 {"breakage", Kind::kAmount},
                 {"refunds", Kind::kAmount},
                 {"deferred_end", Kind::kAmount},
                 {"chargebacks", Kind::kAmount},
                 {"refunds_payable", Kind::kAmount}},
                {}};
  for (const RevenueLine& l : *lines) {
    report.rows.push_back({l.currency, l.month, l.cash_in.ToString(), l.tax.ToString(),
                           l.usage.ToString(), l.subscription.ToString(), l.breakage.ToString(),
                           l.refunds.ToString(), l.deferred_end.ToString(),
                           l.chargebacks.ToString(), l.refunds_payable.ToString()});
  }
  Render(report, format, io.out);
  return kExitOk;
}

int RunInvoices(const std::string& data_dir, const std::string& account, const AsOf& as_of,
                OutputFormat format, Io io) {
  auto opened = Open(data_dir, as_of);
  if (!opened.ok()) return Fail(opened.status(), io);
  auto rows = ReadInvoices(opened->store(), account, opened->range);
  if (!rows.ok()) return Fail(rows.status(), io);
  Report report{{{"number"},
                 {"kind"},
                 {"account"},
                 {"issued_at"},
                 {"seq", Kind::kInteger},
                 {"corrects"},
                 {"currency"},
                 {"subtotal", Kind::kAmount},
                 {"tax", Kind::kAmount},
                 {"total", Kind::kAmount}},
                {}};
  for (const InvoiceRow& row : *rows) {
    report.rows.push_back({row.number, row.kind, row.account, FormatTimestamp(row.issued_at_micros),
                           std::to_string(row.seq), row.invoice_number, row.currency, row.subtotal,
                           row.tax, row.total});
  }
  Render(report, format, io.out);
  return kExitOk;
}

int RunSubscriptions(const std::string& data_dir, bool totals, const AsOf& as_of,
                     OutputFormat format, Io io) {
  auto opened = Open(data_dir, as_of);
  if (!opened.ok()) return Fail(opened.status(), io);
  auto report = ReadSubscriptions(opened->store(), opened->range);
  if (!report.ok()) return Fail(report.status(), io);
  if (totals) {
    Report out{{{"currency"},
                {"subscriptions", Kind::kInteger},
                {"mrr", Kind::kAmount},
                {"arr", Kind::kAmount}},
               {}};
    for (const RecurringRevenue& t : report->totals) {
      out.rows.push_back(
          {t.currency, std::to_string(t.subscriptions), t.mrr.ToString(), t.arr.ToString()});
    }
    Render(out, format, io.out);
    return kExitOk;
  }
  Report out{{{"subscription_id"},
              {"account"},
              {"plan"},
              {"status"},
              {"interval"},
              {"currency"},
              {"net_price", Kind::kAmount},
              {"period_end"},
              {"mrr", Kind::kAmount}},
             {}};
  for (const SubscriptionRow& row : report->subscriptions) {
    out.rows.push_back({row.subscription_id, row.account, row.plan, row.status, row.interval,
                        std::string(row.net_price.currency().code()), row.net_price.ToString(),
                        FormatTimestamp(row.period_end_micros), row.mrr.ToString()});
  }
  Render(out, format, io.out);
  return kExitOk;
}

int RunTasks(const std::string& data_dir, bool open_holds, const AsOf& as_of, OutputFormat format,
             Io io) {
  auto opened = Open(data_dir, as_of);
  if (!opened.ok()) return Fail(opened.status(), io);
  auto report = ReadTasks(opened->store(), opened->range);
  if (!report.ok()) return Fail(report.status(), io);
  if (open_holds) {
    Report out{{{"account"},
                {"task_id"},
                {"held_credits", Kind::kAmount},
                {"expires_at"},
                {"seq", Kind::kInteger}},
               {}};
    for (const OpenHold& hold : report->open_holds) {
      out.rows.push_back({hold.account, hold.task_id, hold.credits.ToString(),
                          FormatTimestamp(hold.expires_at_micros), std::to_string(hold.seq)});
    }
    Render(out, format, io.out);
    return kExitOk;
  }
  Report out{{{"model"},
              {"tasks", Kind::kInteger},
              {"usage_events", Kind::kInteger},
              {"credits", Kind::kAmount}},
             {}};
  for (const ModelUsage& usage : report->models) {
    out.rows.push_back({usage.model, std::to_string(usage.tasks),
                        std::to_string(usage.usage_events), usage.credits.ToString()});
  }
  Render(out, format, io.out);
  return kExitOk;
}

int RunInvoice(const std::string& data_dir, const std::string& number, OutputFormat format, Io io) {
  auto opened = Open(data_dir, AsOf{});
  if (!opened.ok()) return Fail(opened.status(), io);
  auto document = ReadInvoice(opened->store(), number, opened->range);
  if (!document.ok()) return Fail(document.status(), io);
  const InvoiceRow& row = document->row;
  // The billing identity as it stood when the document was issued.
  auto identity = IdentityOf(data_dir, *opened->view->log, row.account, row.seq);
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
  auto reader = document->event.reader();
  auto lines = row.kind == "invoice" ? reader.getInvoiceIssued().getLines()
                                     : reader.getCreditNoteIssued().getLines();
  Report report{{{"description"},
                 {"quantity", Kind::kAmount},
                 {"amount", Kind::kAmount},
                 {"tax", Kind::kAmount},
                 {"tax_jurisdiction"}},
                {}};
  for (auto line : lines) {
    report.rows.push_back({line.getDescription().cStr(), line.getQuantity().cStr(),
                           line.getAmount().getValue().cStr(), line.getTax().getValue().cStr(),
                           line.getTaxJurisdiction().cStr()});
  }
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
