// Finance reports folded from the log (docs/finance.md). Each takes a
// LogRange, so any of them can be asked "as of" a past seq or instant.
#pragma once

#include <string>
#include <vector>

#include "events/money.h"
#include "ledger/journal.h"
#include "ledger/ledger.h"
#include "projections/fold.h"

namespace tally {

// Balances per ledger account and asset; Corruption if an asset does not
// sum to zero.
Result<std::vector<TrialBalanceLine>> ReadTrialBalance(const Ledger& ledger, const LogRange& range);

// Money per currency and month (UTC, by EffectiveTime). Income figures are
// positive when earned; `refunds` is money given back (refunds, lost
// chargebacks, credited prorations) that reduces revenue.
struct RevenueLine {
  std::string currency;
  std::string month;      // "2026-11"
  Money cash_in;          // net change of cash:* (payments less refunds and chargebacks)
  Money tax;              // net change of tax_payable:*
  Money usage;            // revenue:usage recognised
  Money subscription;     // revenue:subscription recognised
  Money breakage;         // revenue:breakage (expired credits)
  Money refunds;          // revenue:refunds
  Money deferred_end;     // deferred revenue at the end of the month
  Money chargebacks;      // disputed money held by providers at the end of the month (net change)
  Money refunds_payable;  // net change of money owed back
};

Result<std::vector<RevenueLine>> ReadRevenue(const Ledger& ledger, const LogRange& range);

struct InvoiceRow {
  std::string number;
  std::string kind;  // "invoice" or "credit_note"
  std::string account;
  uint64_t seq = 0;
  int64_t issued_at_micros = 0;
  std::string series;
  std::string payment_reference;  // invoices
  std::string invoice_number;     // credit notes: the invoice corrected
  std::string currency;
  std::string subtotal;
  std::string tax;
  std::string total;
  Event event;  // the document itself
};

// Invoices and credit notes in issue order; `account` empty: every account.
Result<std::vector<InvoiceRow>> ReadInvoices(const Ledger& ledger, const std::string& account,
                                             const LogRange& range);

}  // namespace tally
