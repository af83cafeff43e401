// The invoices projection: every invoice and credit note the ledger issued.
// Issued documents never change, so their rows are written once.
//   row key: 's' seq:u64be                  value: the InvoiceRow fields
//   row key: 'n' number                     value: seq:u64be
#include "events/big_endian.h"
#include "projections/internal/all.h"
#include "projections/internal/row_codec.h"
#include "projections/reports.h"
#include "projections/store.h"

namespace tally {
namespace internal {
namespace {

std::string EncodeInvoice(const InvoiceRow& row) {
  return RowBuilder()
      .Add(row.number)
      .Add(row.kind)
      .Add(row.account)
      .Add(row.issued_at_micros)
      .Add(row.series)
      .Add(row.payment_reference)
      .Add(row.invoice_number)
      .Add(row.currency)
      .Add(row.subtotal)
      .Add(row.tax)
      .Add(row.total)
      .Take();
}

Result<InvoiceRow> DecodeInvoice(uint64_t seq, std::string_view value) {
  RowReader reader(value, "invoices seq " + std::to_string(seq));
  InvoiceRow row;
  row.seq = seq;
  row.number = reader.Text();
  row.kind = reader.Text();
  row.account = reader.Text();
  row.issued_at_micros = reader.I64();
  row.series = reader.Text();
  row.payment_reference = reader.Text();
  row.invoice_number = reader.Text();
  row.currency = reader.Text();
  row.subtotal = reader.Text();
  row.tax = reader.Text();
  row.total = reader.Text();
  if (auto status = reader.Finish(); !status.ok()) return status;
  return row;
}

class Invoices final : public Projection {
 public:
  std::string_view name() const override { return kInvoices; }
  bool keeps_snapshots() const override { return false; }
  bool Consumes(const LoggedEvent& event) const override {
    auto which = event.event.reader().which();
    return which == schema::Event::INVOICE_ISSUED || which == schema::Event::CREDIT_NOTE_ISSUED;
  }
  Status Apply(const LoggedEvent& logged, Rows& rows) const override {
    auto e = logged.event.reader();
    InvoiceRow row;
    row.account = TextOf(e.getAccount());
    row.seq = logged.seq;
    row.issued_at_micros = logged.recorded_at_micros;
    if (e.which() == schema::Event::INVOICE_ISSUED) {
      auto d = e.getInvoiceIssued();
      row.number = TextOf(d.getNumber());
      row.kind = "invoice";
      row.series = TextOf(d.getSeries());
      row.payment_reference = TextOf(d.getPaymentReference());
      row.currency = TextOf(d.getTotal().getCurrency());
      row.subtotal = TextOf(d.getSubtotal().getValue());
      row.tax = TextOf(d.getTax().getValue());
      row.total = TextOf(d.getTotal().getValue());
    } else {
      auto d = e.getCreditNoteIssued();
      row.number = TextOf(d.getNumber());
      row.kind = "credit_note";
      row.series = TextOf(d.getSeries());
      row.invoice_number = TextOf(d.getInvoiceNumber());
      row.currency = TextOf(d.getTotal().getCurrency());
      row.subtotal = TextOf(d.getSubtotal().getValue());
      row.tax = TextOf(d.getTax().getValue());
      row.total = TextOf(d.getTotal().getValue());
    }
    rows.Put('s' + SeqKey(logged.seq), EncodeInvoice(row));
    rows.Put('n' + row.number, SeqKey(logged.seq));
    return Status::Ok();
  }
};

}  // namespace

const Projection& InvoicesProjection() {
  static const Invoices kProjection;
  return kProjection;
}

}  // namespace internal

Result<std::vector<InvoiceRow>> ReadInvoices(const ProjectionStore& store,
                                             const std::string& account, const LogRange& range) {
  std::vector<InvoiceRow> rows;
  Status result;
  auto status =
      store.ScanRows(internal::kInvoices, "s", [&](std::string_view key, std::string_view value) {
        auto row = internal::DecodeInvoice(ReadU64(key.substr(1)), value);
        if (!row.ok()) {
          result = row.status();
          return false;
        }
        if (row->seq > range.at_seq || row->issued_at_micros > range.as_of_micros) return false;
        if (account.empty() || row->account == account) rows.push_back(std::move(row).value());
        return true;
      });
  if (!status.ok()) return status;
  if (!result.ok()) return result;
  return rows;
}

Result<InvoiceDocument> ReadInvoice(const ProjectionStore& store, const std::string& number,
                                    const LogRange& range) {
  auto seq_row = store.GetRow(internal::kInvoices, 'n' + number);
  if (!seq_row.ok()) return seq_row.status();
  Status not_found = Status::NotFound("no invoice or credit note numbered " + number);
  if (!*seq_row) return not_found;
  if ((*seq_row)->size() != 8) return Status::Corruption("invoices: damaged number row " + number);
  uint64_t seq = ReadU64(**seq_row);
  auto value = store.GetRow(internal::kInvoices, 's' + internal::SeqKey(seq));
  if (!value.ok()) return value.status();
  if (!*value) return Status::Corruption("invoices: number " + number + " names a missing row");
  auto row = internal::DecodeInvoice(seq, **value);
  if (!row.ok()) return row.status();
  if (row->seq > range.at_seq || row->issued_at_micros > range.as_of_micros) return not_found;
  std::optional<Event> event;
  auto scanned = store.log().Scan(seq, [&](const LoggedEvent& logged) {
    if (logged.seq == seq) event = logged.event;
    return false;
  });
  if (!scanned.ok()) return scanned;
  if (!event)
    return Status::Corruption("invoice " + number + ": seq " + std::to_string(seq) +
                              " is not in the log");
  return InvoiceDocument{std::move(row).value(), std::move(*event)};
}

}  // namespace tally
