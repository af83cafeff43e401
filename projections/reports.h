// Finance reports, read from the projection store (docs/finance.md). Each
// takes a LogRange, so any of them can be asked "as of" a past seq or
// instant. They read what the store holds: catch it up first
// (ProjectionStore::CatchUp) to include the latest events.
#pragma once

#include <string>
#include <vector>

#include "events/money.h"
#include "ledger/journal.h"
#include "ledger/ledger.h"
#include "projections/log_range.h"
#include "projections/store.h"

namespace tally {

// Balances per ledger account and asset; Corruption if an asset does not
// sum to zero.
Result<std::vector<TrialBalanceLine>> ReadTrialBalance(const ProjectionStore& store,
                                                       const LogRange& range);

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

Result<std::vector<RevenueLine>> ReadRevenue(const ProjectionStore& store, const LogRange& range);

// Revenue against the journal (`tally audit verify`, docs/audit.md): per
// currency, each figure of `revenue` summed over its months equals the
// balance of its accounts in `journal` (the trial balance of the same log
// prefix), and deferred_end of the last month equals deferred_revenue.
// Corruption naming the currency and the first figure that differs.
Status ReconcileRevenue(const std::vector<RevenueLine>& revenue,
                        const std::vector<TrialBalanceLine>& journal);

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
};

// Invoices and credit notes in issue order; `account` empty: every account.
Result<std::vector<InvoiceRow>> ReadInvoices(const ProjectionStore& store,
                                             const std::string& account, const LogRange& range);

struct InvoiceDocument {
  InvoiceRow row;
  Event event;  // the document as logged: lines, tax, parties
};

// One document by number; NotFound if none was issued within `range`.
Result<InvoiceDocument> ReadInvoice(const ProjectionStore& store, const std::string& number,
                                    const LogRange& range);

// A read of a subject's personal fields in plaintext (personal_data_accessed).
struct AccessRow {
  uint64_t seq = 0;
  std::string subject;  // the account whose fields were read
  int64_t recorded_at_micros = 0;
  std::string accessed_by;
  std::string purpose;  // "profile", "billing" or "all": which fields
  std::string via;      // what read them
};

// Reads of personal fields in log order; `subject` empty: every subject.
Result<std::vector<AccessRow>> ReadAccesses(const ProjectionStore& store,
                                            const std::string& subject, const LogRange& range);

// Subscriptions as the log leaves them. MRR counts active, cancelling and
// past-due subscriptions at their last period's net price (tax excluded);
// a yearly price is divided by 12, rounded half-even (a named rounding point).
struct SubscriptionRow {
  std::string subscription_id;
  std::string account;
  std::string plan;
  std::string status;    // active, cancelling, past_due, cancelled, expired
  std::string interval;  // month, year
  Money net_price;       // per period, of the last period or plan change
  int64_t period_end_micros = 0;
  Money mrr;  // monthly recurring revenue it contributes (0 once ended)
};

struct RecurringRevenue {
  std::string currency;
  Money mrr;
  Money arr;                   // 12 x MRR
  uint64_t subscriptions = 0;  // contributing
};

struct SubscriptionReport {
  std::vector<SubscriptionRow> subscriptions;  // by account, then id
  std::vector<RecurringRevenue> totals;        // per currency
};

Result<SubscriptionReport> ReadSubscriptions(const ProjectionStore& store, const LogRange& range);

// Tasks: credits consumed per model, and the holds still open.
struct ModelUsage {
  std::string model;          // "" when the producer gave none
  uint64_t tasks = 0;         // task_succeeded
  uint64_t usage_events = 0;  // usage_recorded
  Credits credits;            // consumed by both
};

struct OpenHold {
  std::string account;
  std::string task_id;
  Credits credits;
  int64_t expires_at_micros = 0;
  uint64_t seq = 0;  // of the hold_accepted
};

struct TaskReport {
  std::vector<ModelUsage> models;    // by model
  std::vector<OpenHold> open_holds;  // by seq
};

Result<TaskReport> ReadTasks(const ProjectionStore& store, const LogRange& range);

}  // namespace tally
