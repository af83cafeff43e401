// Decide: which producer events the ledger accepts, and its answers.
#include <capnp/message.h>

#include "events/timestamp.h"
#include "ledger/internal/amounts.h"
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

Decision TaskSubmitted(const AccountState& st, const Event& input, int64_t t, uint64_t seq,
                       const DecideOptions& options) {
  auto task = input.reader().getTaskSubmitted();
  std::string task_id = TextOf(task.getTaskId());
  if (st.holds.contains(task_id)) return Reject("task \"" + task_id + "\" already holds credits");
  int64_t ttl = task.getHoldTtlMs() == 0 ? options.hold_ttl_micros_default
                                         : int64_t{task.getHoldTtlMs()} * 1000;
  if (ttl > options.hold_ttl_micros_max) {
    return Reject("hold_ttl_ms exceeds the maximum of " +
                  std::to_string(options.hold_ttl_micros_max / 1000));
  }
  Int128 estimate = CreditsOf(task.getEstimate());
  Int128 available = st.Available();
  std::string account = TextOf(input.reader().getAccount());
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

Decision DecidePayment(const AccountState& st, const Event& input, const std::string& reference,
                       const MoneyAmount& amount, const MoneyAmount& tax) {
  if (auto problem = CheckTax(amount, tax); !problem.empty()) return Reject(problem);
  if (!reference.empty() && st.payments.contains(reference)) {
    return Reject("payment reference \"" + reference + "\" is already settled");
  }
  return Accept(input);
}

Decision Refund(const AccountState& st, const Event& input) {
  auto r = input.reader().getRefundIssued();
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
  if (it->second.refunded + amount.minor > it->second.amount) {
    return Reject(
        "refunds would exceed the payment of " +
        Money::FromMinor(*Currency::Parse(amount.currency), it->second.amount).ToString());
  }
  return Accept(input);
}

Decision DecideChargeback(const AccountState& st, const Event& input) {
  auto reader = input.reader();
  if (reader.which() == S::CHARGEBACK_OPENED) {
    auto c = reader.getChargebackOpened();
    auto payment = st.payments.find(TextOf(c.getPaymentReference()));
    if (payment == st.payments.end()) {
      return Reject("no settled payment \"" + TextOf(c.getPaymentReference()) + "\"");
    }
    if (st.chargebacks.contains(TextOf(c.getChargebackId()))) return Reject("chargeback exists");
    if (MoneyOf(true, c.getAmount()).currency != payment->second.currency) {
      return Reject("chargeback currency differs from the payment's");
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

Decision DecideSubscription(const State& state, const AccountState& st, const Event& input,
                            int64_t t, uint64_t seq) {
  auto reader = input.reader();
  auto find = [&](capnp::Text::Reader id) { return st.subscriptions.find(TextOf(id)); };
  switch (reader.which()) {
    case S::SUBSCRIPTION_STARTED: {
      auto s = reader.getSubscriptionStarted();
      if (find(s.getSubscriptionId()) != st.subscriptions.end())
        return Reject("subscription exists");
      auto p = s.getFirstPeriod();
      Decision decision =
          DecidePayment(st, input, TextOf(p.getReference()), MoneyOf(true, p.getAmount()),
                        MoneyOf(p.hasTax(), p.getTax()));
      return Invoice(
          decision, state,
          PeriodInvoice(TextOf(s.getPlan()), p, Or(TextOf(s.getLegalEntity()), st.legal_entity)), t,
          seq);
    }
    case S::SUBSCRIPTION_RENEWED: {
      auto s = reader.getSubscriptionRenewed();
      auto it = find(s.getSubscriptionId());
      if (it == st.subscriptions.end()) return Reject("no subscription with this id");
      if (it->second.ended()) return Reject("subscription has ended");
      auto p = s.getPeriod();
      auto problem = CheckCurrency(it->second, MoneyOf(true, p.getAmount()));
      if (!problem.empty()) return Reject(problem);
      Decision decision =
          DecidePayment(st, input, TextOf(p.getReference()), MoneyOf(true, p.getAmount()),
                        MoneyOf(p.hasTax(), p.getTax()));
      return Invoice(
          decision, state,
          PeriodInvoice(it->second.plan, p, Or(it->second.legal_entity, st.legal_entity)), t, seq);
    }
    case S::SUBSCRIPTION_PLAN_CHANGED: {
      auto c = reader.getSubscriptionPlanChanged();
      auto it = find(c.getSubscriptionId());
      if (it == st.subscriptions.end()) return Reject("no subscription with this id");
      if (it->second.ended()) return Reject("subscription has ended");
      MoneyAmount amount = MoneyOf(c.hasProrationAmount(), c.getProrationAmount());
      for (const MoneyAmount& money : {amount, MoneyOf(true, c.getNewPrice()),
                                       MoneyOf(c.hasProrationTax(), c.getProrationTax())}) {
        if (auto problem = CheckCurrency(it->second, money); !problem.empty())
          return Reject(problem);
      }
      Int128 credits = CreditsOf(c.getProrationCredits());
      if ((amount.minor > 0 && credits < 0) || (amount.minor < 0 && credits > 0)) {
        return Reject("proration_amount and proration_credits must not have opposite signs");
      }
      MoneyAmount tax = MoneyOf(c.hasProrationTax(), c.getProrationTax());
      const bool charged = amount.minor > 0;
      if (amount.minor < 0) tax.minor = -tax.minor, amount.minor = -amount.minor;
      if (amount.minor > 0 && (c.getProvider().size() == 0)) {
        return Reject("a charged or credited proration needs a provider");
      }
      if (charged && c.getReference().size() == 0) {
        return Reject("a charged proration needs the payment's reference");
      }
      Decision decision = DecidePayment(st, input, TextOf(c.getReference()), amount, tax);
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
    default:
      if (find(reader.getSubscriptionPaymentFailed().getSubscriptionId()) ==
          st.subscriptions.end()) {
        return Reject("no subscription");
      }
      return Accept(input);
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

Decision Adjustment(const AccountState& st, const Event& input) {
  auto a = input.reader().getAdjustmentPosted();
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
      Decision decision = DecidePayment(st, input, TextOf(top_up.getReference()), amount, tax);
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
    case S::TASK_SUBMITTED: return TaskSubmitted(st, input, t, input_seq, options);
    case S::REFUND_ISSUED: {
      Decision decision = Refund(st, input);
      if (!decision.rejection.empty()) return decision;
      const Payment& payment =
          st.payments.at(TextOf(reader.getRefundIssued().getPaymentReference()));
      decision.events.push_back(MakeCreditNote(state, payment, input, t, input_seq + 1));
      return decision;
    }
    case S::CHARGEBACK_OPENED:
    case S::CHARGEBACK_RESOLVED: return DecideChargeback(st, input);
    case S::SUBSCRIPTION_STARTED:
    case S::SUBSCRIPTION_RENEWED:
    case S::SUBSCRIPTION_PLAN_CHANGED:
    case S::SUBSCRIPTION_CANCELLED:
    case S::SUBSCRIPTION_EXPIRED:
    case S::SUBSCRIPTION_PAYMENT_FAILED: return DecideSubscription(state, st, input, t, input_seq);
    case S::ADJUSTMENT_POSTED: return Adjustment(st, input);
    case S::ERASURE_REQUESTED: return Erasure(state, st, input, t, input_seq);
    case S::LEGAL_HOLD_PLACED:
    case S::LEGAL_HOLD_RELEASED: return LegalHold(st, input);
    default: return Accept(input);  // facts: account events, grants, task outcomes, usage
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
