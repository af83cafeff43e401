// Decide: which producer events the ledger accepts, and its answers.
#include <capnp/message.h>

#include "events/timestamp.h"
#include "ledger/internal/amounts.h"
#include "ledger/internal/business_ids.h"
#include "ledger/internal/decider.h"
#include "ledger/internal/invoicing.h"
#include "ledger/internal/made.h"

namespace tally::internal {
namespace {

using S = schema::Event;
std::string CreditsText(const Int128& micros) { return Credits::FromMicros(micros).ToString(); }

Decision Reject(std::string reason) { return {std::move(reason), {}}; }

// Appends the invoice of an accepted payment to `decision`.
Decision& Invoice(Decision& decision, const State& state, InvoiceDraft draft, int64_t t,
                  uint64_t input_seq) {
  if (!decision.rejection.empty()) return decision;
  draft.source_event_id = TextOf(decision.events[0].reader().getId());
  draft.account = TextOf(decision.events[0].reader().getAccount());
  decision.events.push_back(MakeInvoice(state, draft, t, input_seq + decision.events.size()));
  return decision;
}

std::string Or(const std::string& first, const std::string& second) {
  return first.empty() ? second : first;
}

// "1000" or "12.5": credits without trailing zeros, for descriptions.
std::string ShortCredits(const Int128& micros) {
  std::string text = CreditsText(micros);
  text.erase(text.find_last_not_of('0') + 1);
  if (text.back() == '.') text.pop_back();
  return text;
}

std::string DateOf(int64_t micros) { return FormatTimestamp(micros).substr(0, 10); }
Decision Accept(const Event& input) { return {"", {input}}; }

const AccountState kEmptyAccount;

std::string MoneyText(const std::string& currency, const Int128& minor) {
  return Money::FromMinor(*Currency::Parse(currency), minor).ToString();
}

// Empty when `key` is unused; else why a second use is rejected: `what`
// ("refund_id \"re-1\"") `used` ("was already used") at seq N, and `advice`.
std::string Reused(const State& state, const std::string& key, const std::string& what,
                   const std::string& advice, const std::string& used = "was already used") {
  std::optional<uint64_t> first = state.FirstUse(key);
  if (!first) return "";
  return what + " " + used + " " + business_ids::WhereUsed(*first) + "; " + advice;
}

// An expiry must come after the lot is bought: after the decision time and
// the producer's occurred_at (else its breakage would be booked before its cash).
std::string CheckExpiry(const Event& input, int64_t t, const char* field, int64_t expires_at) {
  int64_t bought = std::max(t, input.reader().getOccurredAt().getUnixMicros());
  if (expires_at == 0 || expires_at > bought) return "";
  return std::string(field) + " " + FormatTimestamp(expires_at) + " is not after the purchase at " +
         FormatTimestamp(bought) + ": a lot cannot expire before it is bought; send a later expiry";
}

Decision TaskSubmitted(const State& state, const AccountState& st, const Event& input, int64_t t,
                       uint64_t seq, const DecideOptions& options) {
  auto task = input.reader().getTaskSubmitted();
  std::string task_id = TextOf(task.getTaskId());
  std::string account = TextOf(input.reader().getAccount());
  if (st.holds.contains(task_id)) return Reject("task \"" + task_id + "\" already holds credits");
  if (auto problem =
          Reused(state, business_ids::TaskSucceeded(account, task_id), "task \"" + task_id + "\"",
                 "a task that succeeded cannot hold credits again: send a new task_id",
                 "already succeeded");
      !problem.empty()) {
    return Reject(problem);
  }
  int64_t ttl = task.getHoldTtlMs() == 0 ? options.hold_ttl_micros_default
                                         : int64_t{task.getHoldTtlMs()} * 1000;
  if (ttl > options.hold_ttl_micros_max) {
    return Reject("hold_ttl_ms exceeds the maximum of " +
                  std::to_string(options.hold_ttl_micros_max / 1000));
  }
  Int128 estimate = CreditsOf(task.getEstimate());
  Int128 available = st.Available();
  Decision decision = Accept(input);
  decision.events.push_back(MakeLedgerEvent(seq + 1, account, t, task_id, [&](S::Builder e) {
    if (estimate <= available) {
      auto hold = e.initHoldAccepted();
      hold.setTaskId(task_id);
      hold.setCredits(CreditsText(estimate));
      hold.initExpiresAt().setUnixMicros(t + ttl);
    } else {
      auto hold = e.initHoldRejected();
      hold.setTaskId(task_id);
      hold.setRequested(CreditsText(estimate));
      hold.setAvailable(CreditsText(available));
      hold.setReason("insufficient credits");
    }
  }));
  return decision;
}

// Tax must be in the amount's currency and not above it.
std::string CheckTax(const MoneyAmount& amount, const MoneyAmount& tax) {
  if (tax.currency.empty()) return "";
  if (tax.currency != amount.currency) {
    return "tax is in " + tax.currency + " but the amount is in " + amount.currency;
  }
  if (tax.minor > amount.minor) return "tax exceeds the amount";
  return "";
}

// A payment reference is settled once in the whole ledger, on any account.
Decision DecidePayment(const State& state, const Event& input, const std::string& reference,
                       const MoneyAmount& amount, const MoneyAmount& tax) {
  if (auto problem = CheckTax(amount, tax); !problem.empty()) return Reject(problem);
  if (reference.empty()) return Accept(input);
  auto problem =
      Reused(state, business_ids::Payment(reference), "payment reference \"" + reference + "\"",
             "a payment is settled once: refund or correct it with new events");
  return problem.empty() ? Accept(input) : Reject(problem);
}

// Refunds and open or lost chargebacks of a payment never exceed it.
std::string CheckReturnable(const Payment& payment, const MoneyAmount& amount) {
  if (amount.minor <= payment.Returnable()) return "";
  return "refunds and chargebacks would exceed the payment of " +
         MoneyText(payment.currency, payment.amount) + " (" +
         MoneyText(payment.currency, payment.Returnable()) + " can still be returned)";
}

Decision Refund(const State& state, const AccountState& st, const Event& input) {
  auto r = input.reader().getRefundIssued();
  std::string refund_id = TextOf(r.getRefundId());
  if (auto problem =
          Reused(state, business_ids::Refund(refund_id), "refund_id \"" + refund_id + "\"",
                 "a refund is booked once: send a new refund_id for a new refund");
      !problem.empty()) {
    return Reject(problem);
  }
  std::string reference = TextOf(r.getPaymentReference());
  auto it = st.payments.find(reference);
  if (it == st.payments.end()) return Reject("no settled payment \"" + reference + "\"");
  MoneyAmount amount = MoneyOf(true, r.getAmount());
  if (amount.currency != it->second.currency) {
    return Reject("refund in " + amount.currency + " of a payment in " + it->second.currency);
  }
  if (auto problem = CheckTax(amount, MoneyOf(r.hasTax(), r.getTax())); !problem.empty()) {
    return Reject(problem);
  }
  if (auto problem = CheckReturnable(it->second, amount); !problem.empty()) return Reject(problem);
  MoneyAmount tax = MoneyOf(r.hasTax(), r.getTax());
  if (Int128 left = it->second.tax - it->second.tax_refunded; tax.minor > left) {
    return Reject("refunded tax " + MoneyText(tax.currency, tax.minor) +
                  " exceeds the tax of the payment not yet refunded (" +
                  MoneyText(tax.currency, left) + ")");
  }
  return Accept(input);
}

Decision DecideChargeback(const State& state, const AccountState& st, const Event& input) {
  auto reader = input.reader();
  if (reader.which() == S::CHARGEBACK_OPENED) {
    auto c = reader.getChargebackOpened();
    auto payment = st.payments.find(TextOf(c.getPaymentReference()));
    if (payment == st.payments.end()) {
      return Reject("no settled payment \"" + TextOf(c.getPaymentReference()) + "\"");
    }
    std::string id = TextOf(c.getChargebackId());
    if (auto problem = Reused(state, business_ids::Chargeback(id), "chargeback_id \"" + id + "\"",
                              "a chargeback is opened once: resolve it with chargeback_resolved");
        !problem.empty()) {
      return Reject(problem);
    }
    if (st.chargebacks.contains(id)) return Reject("chargeback_id \"" + id + "\" exists");
    MoneyAmount amount = MoneyOf(true, c.getAmount());
    if (amount.currency != payment->second.currency) {
      return Reject("chargeback currency differs from the payment's");
    }
    if (auto problem = CheckReturnable(payment->second, amount); !problem.empty()) {
      return Reject(problem);
    }
    return Accept(input);
  }
  auto it = st.chargebacks.find(TextOf(reader.getChargebackResolved().getChargebackId()));
  if (it == st.chargebacks.end()) return Reject("no open chargeback with this id");
  if (it->second.resolved) return Reject("chargeback already resolved");
  return Accept(input);
}

// Expires the live period lots of a subscription cancelled now (what holds
// do not reserve); `seq` is the input's.
Decision CancelNow(const AccountState& st, const Event& input, const std::string& sub_id, int64_t t,
                   uint64_t seq) {
  Decision decision = Accept(input);
  std::string account = TextOf(input.reader().getAccount());
  AccountState after = st;  // what the appended expiries leave, lot by lot
  for (const Lot& lot : st.lots) {
    if (lot.subscription_id != sub_id || lot.expires_at == 0) continue;
    Lot* remaining = after.FindLot(lot.id);
    Int128 credits = after.Expirable(*remaining);
    if (credits == 0) continue;
    remaining->credits -= credits;
    decision.events.push_back(
        MakeLedgerEvent(seq + decision.events.size(), account, t, sub_id, [&](S::Builder e) {
          auto x = e.initCreditsExpired();
          x.setLotId(lot.id);
          x.setCredits(CreditsText(credits));
        }));
  }
  return decision;
}

// A subscription's money must stay in the currency it started in.
std::string CheckCurrency(const internal::Subscription& sub, const MoneyAmount& amount) {
  if (amount.currency.empty() || amount.currency == sub.currency) return "";
  return "subscription is billed in " + sub.currency + ", not " + amount.currency;
}

// The invoice of one subscription period.
InvoiceDraft PeriodInvoice(const std::string& plan, schema::SubscriptionPeriod::Reader p,
                           const std::string& legal_entity) {
  InvoiceDraft draft;
  draft.payment_reference = TextOf(p.getReference());
  draft.legal_entity = legal_entity;
  draft.description = plan + " subscription, " + DateOf(p.getPeriodStart().getUnixMicros()) +
                      " to " + DateOf(p.getPeriodEnd().getUnixMicros());
  draft.amount = MoneyOf(true, p.getAmount());
  draft.tax = MoneyOf(p.hasTax(), p.getTax());
  draft.tax_jurisdiction = TextOf(p.getTaxJurisdiction());
  draft.credits = CreditsOf(p.getCredits());
  return draft;
}

// A period ends after it starts and after it is paid (its credits expire
// at its end), and each period of a subscription is settled once.
std::string CheckPeriod(const State& state, const Event& input, int64_t t,
                        const std::string& sub_id, schema::SubscriptionPeriod::Reader p,
                        const std::string& field) {
  int64_t start = p.getPeriodStart().getUnixMicros();
  int64_t end = p.getPeriodEnd().getUnixMicros();
  if (end <= start) {
    return field + ".period_end " + FormatTimestamp(end) + " is not after its period_start " +
           FormatTimestamp(start) + ": a period must end after it starts";
  }
  if (auto problem = CheckExpiry(input, t, (field + ".period_end").c_str(), end); !problem.empty())
    return problem;
  return Reused(state, business_ids::Period(TextOf(input.reader().getAccount()), sub_id, start),
                "the period of subscription \"" + sub_id + "\" starting " + FormatTimestamp(start),
                "a period is settled once: correct it with a refund or a plan change");
}

Decision Started(const State& state, const AccountState& st, const Event& input, int64_t t,
                 uint64_t seq) {
  auto s = input.reader().getSubscriptionStarted();
  std::string sub_id = TextOf(s.getSubscriptionId());
  std::string account = TextOf(input.reader().getAccount());
  if (auto problem = Reused(state, business_ids::Subscription(account, sub_id),
                            "subscription \"" + sub_id + "\"",
                            "renew it with subscription_renewed, or start a new subscription_id");
      !problem.empty()) {
    return Reject(problem);
  }
  if (st.subscriptions.contains(sub_id)) return Reject("subscription exists");
  auto p = s.getFirstPeriod();
  if (auto problem = CheckPeriod(state, input, t, sub_id, p, "first_period"); !problem.empty())
    return Reject(problem);
  Decision decision = DecidePayment(state, input, TextOf(p.getReference()),
                                    MoneyOf(true, p.getAmount()), MoneyOf(p.hasTax(), p.getTax()));
  return Invoice(
      decision, state,
      PeriodInvoice(TextOf(s.getPlan()), p, Or(TextOf(s.getLegalEntity()), st.legal_entity)), t,
      seq);
}

Decision Renewed(const State& state, const AccountState& st, const Event& input, int64_t t,
                 uint64_t seq) {
  auto s = input.reader().getSubscriptionRenewed();
  std::string sub_id = TextOf(s.getSubscriptionId());
  auto it = st.subscriptions.find(sub_id);
  if (it == st.subscriptions.end()) return Reject("no subscription with this id");
  if (it->second.ended()) return Reject("subscription has ended");
  auto p = s.getPeriod();
  if (auto problem = CheckPeriod(state, input, t, sub_id, p, "period"); !problem.empty())
    return Reject(problem);
  if (p.getPeriodStart().getUnixMicros() < it->second.period_end) {
    return Reject("period.period_start " + FormatTimestamp(p.getPeriodStart().getUnixMicros()) +
                  " overlaps the current period, which ends at " +
                  FormatTimestamp(it->second.period_end) +
                  ": renew from the end of the current period on");
  }
  auto problem = CheckCurrency(it->second, MoneyOf(true, p.getAmount()));
  if (!problem.empty()) return Reject(problem);
  Decision decision = DecidePayment(state, input, TextOf(p.getReference()),
                                    MoneyOf(true, p.getAmount()), MoneyOf(p.hasTax(), p.getTax()));
  return Invoice(decision, state,
                 PeriodInvoice(it->second.plan, p, Or(it->second.legal_entity, st.legal_entity)), t,
                 seq);
}

// proration_tax has the sign of proration_amount and is not above it.
std::string CheckProrationTax(const MoneyAmount& amount, const MoneyAmount& tax) {
  if (tax.currency.empty() || tax.minor == 0) return "";
  bool same_sign = (amount.minor > 0 && tax.minor > 0) || (amount.minor < 0 && tax.minor < 0);
  if (!same_sign) {
    return "proration_tax must have the sign of proration_amount (tax on a credit is "
           "credited too)";
  }
  return "";
}

// Checks of a plan change beyond currencies: signs, tax, what may be
// credited back, and that granted credits do not expire at once.
std::string CheckProration(const Subscription& sub, const Event& input, int64_t t,
                           const MoneyAmount& amount, const MoneyAmount& tax,
                           const Int128& credits) {
  if ((amount.minor > 0 && credits < 0) || (amount.minor < 0 && credits > 0)) {
    return "proration_amount and proration_credits must not have opposite signs";
  }
  if (auto problem = CheckProrationTax(amount, tax); !problem.empty()) return problem;
  Int128 creditable = sub.period_paid - sub.period_credited;
  if (amount.minor < 0 && sub.period_paid >= 0 && -amount.minor > creditable) {
    return "proration_amount " + MoneyText(amount.currency, amount.minor) +
           " credits more than is left of what was paid for the current period (" +
           MoneyText(amount.currency, creditable) + ")";
  }
  if (credits > 0 && !sub.rollover) {
    return CheckExpiry(input, t, "proration_credits (expiring at the current period_end)",
                       sub.period_end);
  }
  return "";
}

Decision PlanChanged(const State& state, const AccountState& st, const Event& input, int64_t t,
                     uint64_t seq) {
  auto c = input.reader().getSubscriptionPlanChanged();
  auto it = st.subscriptions.find(TextOf(c.getSubscriptionId()));
  if (it == st.subscriptions.end()) return Reject("no subscription with this id");
  if (it->second.ended()) return Reject("subscription has ended");
  MoneyAmount amount = MoneyOf(c.hasProrationAmount(), c.getProrationAmount());
  MoneyAmount tax = MoneyOf(c.hasProrationTax(), c.getProrationTax());
  for (const MoneyAmount& money : {amount, MoneyOf(true, c.getNewPrice()), tax}) {
    if (auto problem = CheckCurrency(it->second, money); !problem.empty()) return Reject(problem);
  }
  Int128 credits = CreditsOf(c.getProrationCredits());
  if (auto problem = CheckProration(it->second, input, t, amount, tax, credits); !problem.empty())
    return Reject(problem);
  const bool charged = amount.minor > 0;
  if (amount.minor < 0) tax.minor = -tax.minor, amount.minor = -amount.minor;
  if (amount.minor > 0 && (c.getProvider().size() == 0)) {
    return Reject("a charged or credited proration needs a provider");
  }
  if (charged && c.getReference().size() == 0) {
    return Reject("a charged proration needs the payment's reference");
  }
  Decision decision = DecidePayment(state, input, TextOf(c.getReference()), amount, tax);
  if (!charged) return decision;
  InvoiceDraft draft{"",
                     "",
                     TextOf(c.getReference()),
                     Or(it->second.legal_entity, st.legal_entity),
                     TextOf(c.getNewPlan()) + " plan change, prorated",
                     amount,
                     tax,
                     it->second.tax_jurisdiction,
                     credits};
  return Invoice(decision, state, std::move(draft), t, seq);
}

Decision DecideSubscription(const State& state, const AccountState& st, const Event& input,
                            int64_t t, uint64_t seq) {
  auto reader = input.reader();
  auto find = [&](capnp::Text::Reader id) { return st.subscriptions.find(TextOf(id)); };
  switch (reader.which()) {
    case S::SUBSCRIPTION_STARTED: return Started(state, st, input, t, seq);
    case S::SUBSCRIPTION_RENEWED: return Renewed(state, st, input, t, seq);
    case S::SUBSCRIPTION_PLAN_CHANGED: return PlanChanged(state, st, input, t, seq);
    case S::SUBSCRIPTION_CANCELLED: {
      auto c = reader.getSubscriptionCancelled();
      auto it = find(c.getSubscriptionId());
      if (it == st.subscriptions.end()) return Reject("no subscription");
      if (it->second.ended()) return Reject("subscription has ended");
      if (c.getAtPeriodEnd()) return Accept(input);
      return CancelNow(st, input, TextOf(c.getSubscriptionId()), t, seq);
    }
    case S::SUBSCRIPTION_EXPIRED:
      if (find(reader.getSubscriptionExpired().getSubscriptionId()) == st.subscriptions.end()) {
        return Reject("no subscription");
      }
      return Accept(input);
    default: {
      auto failed = reader.getSubscriptionPaymentFailed();
      auto it = find(failed.getSubscriptionId());
      if (it == st.subscriptions.end()) return Reject("no subscription");
      auto problem = CheckCurrency(it->second, MoneyOf(true, failed.getAmount()));
      return problem.empty() ? Accept(input) : Reject(problem);
    }
  }
}

bool IsPlatformCreditsAccount(const std::string& name) {
  return name == accounts::kIssued || name == accounts::kConsumed || name == accounts::kExpired ||
         name == accounts::kPromotional;
}

bool IsMoneyAccount(const std::string& name) {
  for (const char* prefix : {"cash:", "revenue:", "tax_payable:"}) {
    if (name.starts_with(prefix) && name.size() > std::string_view(prefix).size()) return true;
  }
  return name == accounts::kChargebacks || name == accounts::kRefundsPayable;
}

Decision Adjustment(const State& state, const AccountState& st, const Event& input) {
  auto a = input.reader().getAdjustmentPosted();
  std::string adjustment_id = TextOf(a.getAdjustmentId());
  if (auto problem = Reused(state, business_ids::Adjustment(adjustment_id),
                            "adjustment_id \"" + adjustment_id + "\"",
                            "an adjustment is posted once: send a new adjustment_id");
      !problem.empty()) {
    return Reject(problem);
  }
  std::string debit = TextOf(a.getDebitAccount());
  std::string credit = TextOf(a.getCreditAccount());
  if (debit == credit) return Reject("debit_account and credit_account are the same");
  if (a.which() == schema::AdjustmentPosted::MONEY) {
    if (!IsMoneyAccount(debit) || !IsMoneyAccount(credit)) {
      return Reject(
          "money adjustments move between cash:, revenue:, tax_payable:, chargebacks "
          "and refunds_payable accounts");
    }
    return Accept(input);
  }
  std::string customer = accounts::CustomerAvailable(TextOf(input.reader().getAccount()));
  bool debit_ok = debit == customer || IsPlatformCreditsAccount(debit);
  bool credit_ok = credit == customer || IsPlatformCreditsAccount(credit);
  if (!debit_ok || !credit_ok) {
    return Reject("credit adjustments move between " + customer + " and platform: accounts");
  }
  Int128 credits = CreditsOf(a.getCredits());
  if (debit == customer && (credits > st.FreeCredits() || credits > st.Available())) {
    return Reject(
        "only available promotional credits can be adjusted away; use refund_issued "
        "for paid credits");
  }
  return Accept(input);
}

Event ShredEvent(uint64_t seq, const std::string& subject, schema::ErasurePurpose purpose,
                 int64_t t, const std::string& correlation_id) {
  return MakeLedgerEvent(seq, subject, t, correlation_id, [&](S::Builder e) {
    auto shredded = e.initSubjectShredded();
    shredded.setSubject(subject);
    shredded.setPurpose(purpose);
    shredded.setKeyEpoch(1);  // data keys are never made again once shredded
  });
}

// Profile data goes at once; the billing identity once the retention
// horizon of the subject's last invoice has passed (until then it is kept
// for the invoices, and a timer shreds it).
Decision Erasure(const State& state, const AccountState& st, const Event& input, int64_t t,
                 uint64_t input_seq) {
  auto reader = input.reader();
  const std::string subject = TextOf(reader.getAccount());
  if (!st.legal_hold.empty()) {
    return Reject(subject + " is under legal hold (" + st.legal_hold +
                  "): erasure is blocked until the hold is released");
  }
  auto purpose = reader.getErasureRequested().getPurpose();
  Decision decision = Accept(input);
  const std::string id = TextOf(reader.getId());
  uint64_t seq = input_seq + 1;
  using P = schema::ErasurePurpose;
  if ((purpose == P::PROFILE || purpose == P::ALL) && !st.profile_shredded) {
    decision.events.push_back(ShredEvent(seq++, subject, P::PROFILE, t, id));
  }
  if ((purpose == P::BILLING || purpose == P::ALL) && !st.billing_shredded &&
      state.BillingErasureDue(st) <= t) {
    decision.events.push_back(ShredEvent(seq++, subject, P::BILLING, t, id));
  }
  return decision;
}

Decision LegalHold(const AccountState& st, const Event& input) {
  const std::string subject = TextOf(input.reader().getAccount());
  if (input.reader().which() == S::LEGAL_HOLD_PLACED) {
    if (!st.legal_hold.empty()) {
      return Reject(subject + " is already under legal hold (" + st.legal_hold + ")");
    }
    return Accept(input);
  }
  if (st.legal_hold.empty()) return Reject(subject + " is not under legal hold");
  return Accept(input);
}

// The task id of a task outcome event; empty for other events.
std::string TaskOutcomeId(schema::Event::Reader reader) {
  switch (reader.which()) {
    case S::TASK_SUCCEEDED: return TextOf(reader.getTaskSucceeded().getTaskId());
    case S::TASK_FAILED: return TextOf(reader.getTaskFailed().getTaskId());
    case S::TASK_CANCELLED: return TextOf(reader.getTaskCancelled().getTaskId());
    default: return "";
  }
}

// Facts (account events, grants, task outcomes, usage) are accepted, but
// a business id takes effect once and a grant cannot expire before it is made.
Decision DecideFact(const State& state, const Event& input, int64_t t) {
  auto reader = input.reader();
  std::string account = TextOf(reader.getAccount());
  std::string problem;
  if (reader.which() == S::CREDITS_GRANTED) {
    auto g = reader.getCreditsGranted();
    problem = CheckExpiry(input, t, "expires_at",
                          g.hasExpiresAt() ? g.getExpiresAt().getUnixMicros() : 0);
  } else if (reader.which() == S::USAGE_RECORDED) {
    std::string usage_id = TextOf(reader.getUsageRecorded().getUsageId());
    problem = Reused(state, business_ids::Usage(account, usage_id), "usage_id \"" + usage_id + "\"",
                     "usage is charged once: send a new usage_id for new usage");
  } else if (std::string task_id = TaskOutcomeId(reader); !task_id.empty()) {
    problem =
        Reused(state, business_ids::TaskSucceeded(account, task_id), "task \"" + task_id + "\"",
               "a task is charged once and then over: send a new task_id for a new task",
               "already succeeded");
  }
  return problem.empty() ? Accept(input) : Reject(problem);
}

}  // namespace

Decision Decide(const State& state, const Event& input, int64_t t, uint64_t input_seq,
                const DecideOptions& options) {
  auto reader = input.reader();
  TALLY_CHECK(!IsLedgerMade(reader.which()));
  TALLY_CHECK(t >= state.time());
  const AccountState* found = state.Find(TextOf(reader.getAccount()));
  const AccountState& st = found ? *found : kEmptyAccount;
  int64_t expected = reader.getExpectedVersion();
  if (expected >= 0 && static_cast<uint64_t>(expected) != st.version) {
    return Reject("version conflict: expected_version " + std::to_string(expected) +
                  ", account is at " + std::to_string(st.version));
  }
  switch (reader.which()) {
    case S::TOP_UP_SETTLED: {
      auto top_up = reader.getTopUpSettled();
      MoneyAmount amount = MoneyOf(true, top_up.getAmount());
      MoneyAmount tax = MoneyOf(top_up.hasTax(), top_up.getTax());
      if (auto problem =
              CheckExpiry(input, t, "lot_expires_at",
                          top_up.hasLotExpiresAt() ? top_up.getLotExpiresAt().getUnixMicros() : 0);
          !problem.empty()) {
        return Reject(problem);
      }
      Decision decision = DecidePayment(state, input, TextOf(top_up.getReference()), amount, tax);
      Int128 credits = CreditsOf(top_up.getCredits());
      InvoiceDraft draft{"",
                         "",
                         TextOf(top_up.getReference()),
                         Or(TextOf(top_up.getLegalEntity()), st.legal_entity),
                         ShortCredits(credits) + " credits",
                         amount,
                         tax,
                         TextOf(top_up.getTaxJurisdiction()),
                         credits};
      return Invoice(decision, state, std::move(draft), t, input_seq);
    }
    case S::TASK_SUBMITTED: return TaskSubmitted(state, st, input, t, input_seq, options);
    case S::REFUND_ISSUED: {
      Decision decision = Refund(state, st, input);
      if (!decision.rejection.empty()) return decision;
      const Payment& payment =
          st.payments.at(TextOf(reader.getRefundIssued().getPaymentReference()));
      decision.events.push_back(MakeCreditNote(state, payment, input, t, input_seq + 1));
      return decision;
    }
    case S::CHARGEBACK_OPENED:
    case S::CHARGEBACK_RESOLVED: return DecideChargeback(state, st, input);
    case S::SUBSCRIPTION_STARTED:
    case S::SUBSCRIPTION_RENEWED:
    case S::SUBSCRIPTION_PLAN_CHANGED:
    case S::SUBSCRIPTION_CANCELLED:
    case S::SUBSCRIPTION_EXPIRED:
    case S::SUBSCRIPTION_PAYMENT_FAILED: return DecideSubscription(state, st, input, t, input_seq);
    case S::ADJUSTMENT_POSTED: return Adjustment(state, st, input);
    case S::ERASURE_REQUESTED: return Erasure(state, st, input, t, input_seq);
    case S::LEGAL_HOLD_PLACED:
    case S::LEGAL_HOLD_RELEASED: return LegalHold(st, input);
    default: return DecideFact(state, input, t);
  }
}

std::optional<Event> NextTimerEvent(State& state, int64_t t, uint64_t seq) {
  using TimerState = State::TimerState;
  auto judge = [&](const Timer& timer) {
    const AccountState* st = state.Find(timer.account);
    if (st == nullptr) return TimerState::kStale;
    if (timer.kind == Timer::Kind::kBillingErasure) {
      bool live = st->billing_erasure_pending && !st->billing_shredded &&
                  state.BillingErasureDue(*st) == timer.due;
      if (!live) return TimerState::kStale;
      return st->legal_hold.empty() ? TimerState::kDue : TimerState::kWaiting;
    }
    if (timer.kind == Timer::Kind::kHoldExpiry) {
      auto hold = st->holds.find(timer.key);
      bool live = hold != st->holds.end() && hold->second.expires_at == timer.due;
      return live ? TimerState::kDue : TimerState::kStale;
    }
    const Lot* lot = st->FindLot(timer.key);
    if (lot == nullptr || lot->expires_at != timer.due) return TimerState::kStale;
    return st->Expirable(*lot) > 0 ? TimerState::kDue : TimerState::kWaiting;
  };
  std::optional<Timer> due = state.NextDue(t, judge);
  if (!due) return std::nullopt;
  const Timer& timer = *due;
  const AccountState& st = *state.Find(timer.account);
  if (timer.kind == Timer::Kind::kBillingErasure) {
    return ShredEvent(seq, timer.account, schema::ErasurePurpose::BILLING, timer.due, "");
  }
  if (timer.kind == Timer::Kind::kHoldExpiry) {
    const Hold& hold = st.holds.at(timer.key);
    return MakeLedgerEvent(seq, timer.account, timer.due, timer.key, [&](S::Builder e) {
      auto r = e.initReservationExpired();
      r.setTaskId(timer.key);
      r.setCredits(CreditsText(hold.credits));
    });
  }
  Int128 credits = st.Expirable(*st.FindLot(timer.key));
  return MakeLedgerEvent(seq, timer.account, timer.due, "", [&](S::Builder e) {
    auto x = e.initCreditsExpired();
    x.setLotId(timer.key);
    x.setCredits(CreditsText(credits));
  });
}

}  // namespace tally::internal
