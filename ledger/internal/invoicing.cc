#include "ledger/internal/invoicing.h"

#include <cstdio>

#include "events/timestamp.h"
#include "ledger/internal/made.h"

namespace tally::internal {
namespace {

constexpr const char* kInvoicePrefix = "INV";
constexpr const char* kCreditNotePrefix = "CN";

std::string Series(const std::string& legal_entity, int64_t t) {
  return (legal_entity.empty() ? std::string("default") : legal_entity) + "/" +
         FormatTimestamp(t).substr(0, 4);
}

// The counter of `prefix` documents in `series` (the state's key).
std::string CounterKey(const std::string& prefix, const std::string& series) {
  return prefix + ":" + series;
}

std::string Number(const std::string& prefix, const std::string& legal_entity, int64_t t,
                   uint64_t counter) {
  char digits[24];
  std::snprintf(digits, sizeof(digits), "%06llu", static_cast<unsigned long long>(counter));
  return prefix + "-" + (legal_entity.empty() ? "" : legal_entity + "-") +
         FormatTimestamp(t).substr(0, 4) + "-" + digits;
}

void SetMoney(schema::Money::Builder out, const std::string& currency, const Int128& minor) {
  out.setCurrency(currency);
  out.setValue(Money::FromMinor(*Currency::Parse(currency), minor).ToString());
}

// Fills the one line and the totals shared by invoices and credit notes.
template <typename Builder>
void FillAmounts(Builder document, const std::string& description, const MoneyAmount& amount,
                 const MoneyAmount& tax, const std::string& jurisdiction, const Int128& credits) {
  const std::string& currency = amount.currency;
  Int128 net = amount.minor - tax.minor;
  auto line = document.initLines(1)[0];
  line.setDescription(description);
  if (credits != 0) line.setQuantity(Credits::FromMicros(credits).ToString());
  SetMoney(line.initAmount(), currency, net);
  if (tax.minor != 0) {
    SetMoney(line.initTax(), currency, tax.minor);
    line.setTaxJurisdiction(jurisdiction);
    SetMoney(document.initTax(), currency, tax.minor);
  }
  SetMoney(document.initSubtotal(), currency, net);
  SetMoney(document.initTotal(), currency, amount.minor);
}

}  // namespace

Event MakeInvoice(const State& state, const InvoiceDraft& draft, int64_t t, uint64_t seq) {
  std::string series = Series(draft.legal_entity, t);
  uint64_t counter = state.NextNumber(CounterKey(kInvoicePrefix, series));
  return MakeLedgerEvent(
      seq, draft.account, t, draft.payment_reference, [&](schema::Event::Builder e) {
        auto invoice = e.initInvoiceIssued();
        invoice.setNumber(Number(kInvoicePrefix, draft.legal_entity, t, counter));
        invoice.setSeries(series);
        invoice.setSourceEventId(draft.source_event_id);
        invoice.setPaymentReference(draft.payment_reference);
        if (!draft.legal_entity.empty()) invoice.setLegalEntity(draft.legal_entity);
        FillAmounts(invoice, draft.description, draft.amount, draft.tax, draft.tax_jurisdiction,
                    draft.credits);
      });
}

Event MakeCreditNote(const State& state, const Payment& payment, const Event& refund, int64_t t,
                     uint64_t seq) {
  auto r = refund.reader().getRefundIssued();
  std::string series = Series(payment.legal_entity, t);
  uint64_t counter = state.NextNumber(CounterKey(kCreditNotePrefix, series));
  return MakeLedgerEvent(
      seq, TextOf(refund.reader().getAccount()), t, TextOf(r.getPaymentReference()),
      [&](schema::Event::Builder e) {
        auto note = e.initCreditNoteIssued();
        note.setNumber(Number(kCreditNotePrefix, payment.legal_entity, t, counter));
        note.setSeries(series);
        note.setInvoiceNumber(payment.invoice_number);
        note.setSourceEventId(refund.reader().getId());
        if (!payment.legal_entity.empty()) {
          note.setLegalEntity(payment.legal_entity);
        }
        FillAmounts(note, "Refund against " + payment.invoice_number, MoneyOf(true, r.getAmount()),
                    MoneyOf(r.hasTax(), r.getTax()), payment.tax_jurisdiction,
                    -CreditsOf(r.getCredits()));
      });
}

void TakeDocumentNumber(State& state, const Event& event) {
  auto reader = event.reader();
  bool invoice = reader.which() == schema::Event::INVOICE_ISSUED;
  std::string number = TextOf(invoice ? reader.getInvoiceIssued().getNumber()
                                      : reader.getCreditNoteIssued().getNumber());
  std::string series = TextOf(invoice ? reader.getInvoiceIssued().getSeries()
                                      : reader.getCreditNoteIssued().getSeries());
  uint64_t counter = std::stoull(number.substr(number.rfind('-') + 1));
  state.TakeNumber(CounterKey(invoice ? kInvoicePrefix : kCreditNotePrefix, series), counter);
}

}  // namespace tally::internal
