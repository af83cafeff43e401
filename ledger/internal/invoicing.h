// Invoices and credit notes: the ledger appends an invoice_issued after every
// settled payment and a credit_note_issued after every refund, numbered
// without gaps per series (legal entity and year) from the replayed state, so
// replay yields the same numbers.
//
//   series  := legal_entity "/" year          ("default" when no entity)
//   number  := "INV-" [legal_entity "-"] year "-" counter(6+ digits)
//              "CN-"  [legal_entity "-"] year "-" counter
#pragma once

#include <string>

#include "events/event.h"
#include "ledger/internal/amounts.h"
#include "ledger/internal/state.h"

namespace tally::internal {

struct InvoiceDraft {
  std::string account;
  std::string source_event_id;
  std::string payment_reference;
  std::string legal_entity;
  std::string description;  // of the one line
  MoneyAmount amount;       // gross, tax included
  MoneyAmount tax;
  std::string tax_jurisdiction;
  Int128 credits;  // sold on the line (0: none)
};

// The invoice for `draft`, decided at `t`, to append at `seq`.
Event MakeInvoice(const State& state, const InvoiceDraft& draft, int64_t t, uint64_t seq);

// The credit note for `refund` of `payment`, decided at `t`, to append at `seq`.
Event MakeCreditNote(const State& state, const Payment& payment, const Event& refund, int64_t t,
                     uint64_t seq);

// Takes the number of an appended invoice or credit note in `state`.
void TakeDocumentNumber(State& state, const Event& event);

}  // namespace tally::internal
