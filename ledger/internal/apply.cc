// Apply: the posting rules of docs/ledger.md, one function per event type.
#include <algorithm>

#include "ledger/internal/amounts.h"
#include "ledger/internal/business_ids.h"
#include "ledger/internal/decider.h"
#include "ledger/internal/invoicing.h"

namespace tally::internal {
namespace {

namespace acct = accounts;

// Builds a journal entry from debit/credit pairs, so it balances by construction.
class Entry {
 public:
  // Debits `debit` and credits `credit` with `amount` of `asset`; a negative
  // amount moves the other way; zero adds nothing.
  void Move(const std::string& debit, const std::string& credit, const std::string& asset,
            const Int128& amount) {
    if (amount == 0) return;
    if (amount < 0) return Move(credit, debit, asset, -amount);
    TALLY_CHECK(!asset.empty() && debit != credit);
    postings_.push_back({debit, asset, amount});
    postings_.push_back({credit, asset, -amount});
  }
  Postings Take() { return std::move(postings_); }

 private:
  Postings postings_;
};

// What burning credits from one lot released.
struct Burned {
  Int128 credits;
  Int128 deferred;  // deferred revenue that goes with them
  std::string currency;
  LotKind kind;
};

const char* RevenueAccount(LotKind kind) {
  return kind == LotKind::kSubscription ? acct::kRevenueSubscription : acct::kRevenueUsage;
}

// Burns `credits` (0 < credits <= lot.credits) from `lot`. The deferred
// revenue released is proportional, rounded half-even; the last credit of a
// lot takes whatever is left, so a lot's revenue sums exactly to its price.
Burned BurnFromLot(Lot& lot, const Int128& credits) {
  TALLY_CHECK(credits > 0 && credits <= lot.credits);
  Int128 deferred = credits == lot.credits ? lot.deferred
                                           : DivideRounded(lot.deferred * credits, lot.credits,
                                                           RoundingMode::kHalfEven);
  lot.credits -= credits;
  lot.deferred -= deferred;
  TALLY_CHECK(lot.credits > 0 || lot.deferred == 0);
  return {credits, deferred, lot.currency, lot.kind};
}

void DropEmptyLots(AccountState& st) {
  std::erase_if(st.lots, [](const Lot& lot) { return lot.credits == 0; });
}

// Burns up to `credits` from the lots that `eligible` accepts, in burn order.
template <typename Eligible>
std::vector<Burned> BurnInOrder(AccountState& st, Int128 credits, Eligible eligible) {
  std::vector<Lot*> order;
  for (Lot& lot : st.lots) {
    if (eligible(lot)) order.push_back(&lot);
  }
  std::sort(order.begin(), order.end(),
            [](const Lot* a, const Lot* b) { return BurnsBefore(*a, *b); });
  std::vector<Burned> burned;
  for (Lot* lot : order) {
    if (credits == 0) break;
    Int128 take = std::min(credits, lot->credits);
    burned.push_back(BurnFromLot(*lot, take));
    credits -= take;
  }
  DropEmptyLots(st);
  return burned;
}

// Spends `cost` credits: from lots (recognising revenue) up to what is
// available, the rest becomes receivable.
void Consume(const std::string& account, AccountState& st, const Int128& cost, Entry& entry) {
  Int128 from_lots = std::min(cost, std::max(st.Available(), Int128(0)));
  for (const Burned& b : BurnInOrder(st, from_lots, [](const Lot&) { return true; })) {
    entry.Move(acct::CustomerAvailable(account), acct::kConsumed, kCreditsAsset, b.credits);
    entry.Move(acct::kDeferredRevenue, RevenueAccount(b.kind), b.currency, b.deferred);
  }
  Int128 shortfall = cost - from_lots;
  entry.Move(acct::CustomerReceivable(account), acct::kConsumed, kCreditsAsset, shortfall);
  st.receivable += shortfall;
}

// Releases the hold of `task_id`, if any. (Lots it kept from expiring keep
// their timers armed and expire at the next timer run.)
void ReleaseHold(const std::string& account, AccountState& st, const std::string& task_id,
                 Entry& entry) {
  auto it = st.holds.find(task_id);
  if (it == st.holds.end()) return;
  entry.Move(acct::CustomerHeld(account), acct::CustomerAvailable(account), kCreditsAsset,
             it->second.credits);
  st.held -= it->second.credits;
  st.holds.erase(it);
}

struct Settlement {
  std::string legal_entity;
  std::string provider;
  std::string reference;
  std::string jurisdiction;
  MoneyAmount amount;  // gross
  MoneyAmount tax;
  Int128 credits;
  LotKind kind;
  int64_t expires_at;
  std::string subscription_id;
};

// A settled payment: cash in, tax owed, the rest deferred with the credits
// it bought (a new lot), which first settle any receivable.
void Settle(State& state, const std::string& account, AccountState& st, const Settlement& s,
            const std::string& lot_id, uint64_t seq, Entry& entry) {
  const std::string& currency = s.amount.currency;
  Int128 net = s.amount.minor - s.tax.minor;
  entry.Move(acct::Cash(s.provider), acct::TaxPayable(s.jurisdiction), currency, s.tax.minor);
  entry.Move(acct::Cash(s.provider), acct::kDeferredRevenue, currency, net);
  if (!s.reference.empty()) {
    st.payments[s.reference] = {
        lot_id, "", s.legal_entity, s.provider, currency, s.jurisdiction, s.amount.minor,
        0,      0,  s.tax.minor,    0};
    state.NoteUse(business_ids::Payment(s.reference), seq);
  }
  if (s.credits == 0) {  // nothing to deliver later: earned now
    entry.Move(acct::kDeferredRevenue, RevenueAccount(s.kind), currency, net);
    return;
  }
  st.lots.push_back(
      {lot_id, s.kind, s.credits, net, currency, s.expires_at, seq, s.subscription_id});
  entry.Move(acct::kIssued, acct::CustomerAvailable(account), kCreditsAsset, s.credits);
  if (s.expires_at != 0) state.AddTimer({s.expires_at, account, Timer::Kind::kLotExpiry, lot_id});
  Int128 settle = std::min(s.credits, st.receivable);
  if (settle == 0) return;
  Burned b = BurnFromLot(st.lots.back(), settle);
  DropEmptyLots(st);
  entry.Move(acct::CustomerAvailable(account), acct::CustomerReceivable(account), kCreditsAsset,
             settle);
  entry.Move(acct::kDeferredRevenue, RevenueAccount(b.kind), b.currency, b.deferred);
  st.receivable -= settle;
}

// Takes back up to `credits` paid credits in `currency` (from lot `first`
// first), limited to what is available. Returns the deferred revenue released.
Int128 ClawBack(const std::string& account, AccountState& st, const Int128& credits,
                const std::string& currency, const std::string& first, Entry& entry) {
  Int128 limit = std::min(credits, std::max(st.Available(), Int128(0)));
  Int128 released = 0;
  auto take = [&](const std::vector<Burned>& burned) {
    for (const Burned& b : burned) {
      entry.Move(acct::CustomerAvailable(account), acct::kIssued, kCreditsAsset, b.credits);
      released += b.deferred;
      limit -= b.credits;
    }
  };
  take(BurnInOrder(st, limit, [&](const Lot& lot) { return lot.id == first; }));
  take(BurnInOrder(st, limit,
                   [&](const Lot& lot) { return !lot.free() && lot.currency == currency; }));
  return released;
}

// Money going back out through `payout` (cash or refunds_payable): tax
// reversed, released deferred revenue reversed, the rest against revenue.
void PayBack(const std::string& payout, const MoneyAmount& amount, const MoneyAmount& tax,
             const std::string& jurisdiction, const Int128& deferred_released, Entry& entry) {
  const std::string& currency = amount.currency;
  entry.Move(acct::TaxPayable(jurisdiction), payout, currency, tax.minor);
  entry.Move(acct::kDeferredRevenue, payout, currency, deferred_released);
  entry.Move(acct::kRevenueRefunds, payout, currency, amount.minor - tax.minor - deferred_released);
}

// ---- one function per event type --------------------------------------------

void TopUp(State& state, const std::string& account, AccountState& st,
           schema::TopUpSettled::Reader t, const std::string& id, uint64_t seq, Entry& entry) {
  std::string legal_entity = TextOf(t.getLegalEntity());
  Settle(state, account, st,
         {legal_entity.empty() ? st.legal_entity : legal_entity, TextOf(t.getProvider()),
          TextOf(t.getReference()), TextOf(t.getTaxJurisdiction()), MoneyOf(true, t.getAmount()),
          MoneyOf(t.hasTax(), t.getTax()), CreditsOf(t.getCredits()), LotKind::kPaid,
          t.hasLotExpiresAt() ? t.getLotExpiresAt().getUnixMicros() : 0, ""},
         id, seq, entry);
}

void Grant(State& state, const std::string& account, AccountState& st, const Int128& credits,
           int64_t expires_at, const std::string& id, uint64_t seq, Entry& entry) {
  st.lots.push_back({id, LotKind::kPromotional, credits, 0, "", expires_at, seq, ""});
  entry.Move(acct::kPromotional, acct::CustomerAvailable(account), kCreditsAsset, credits);
  if (expires_at != 0) state.AddTimer({expires_at, account, Timer::Kind::kLotExpiry, id});
}

void HoldAccepted(State& state, const std::string& account, AccountState& st,
                  schema::HoldAccepted::Reader h, Entry& entry) {
  Int128 credits = CreditsOf(h.getCredits());
  TALLY_CHECK(credits <= st.Available());
  std::string task_id = TextOf(h.getTaskId());
  int64_t expires_at = h.getExpiresAt().getUnixMicros();
  TALLY_CHECK(!st.holds.contains(task_id));
  st.holds[task_id] = {credits, expires_at};
  st.held += credits;
  entry.Move(acct::CustomerAvailable(account), acct::CustomerHeld(account), kCreditsAsset, credits);
  state.AddTimer({expires_at, account, Timer::Kind::kHoldExpiry, task_id});
}

void CreditsExpired(const std::string& account, AccountState& st, schema::CreditsExpired::Reader e,
                    Entry& entry) {
  Lot* lot = st.FindLot(TextOf(e.getLotId()));
  TALLY_CHECK(lot != nullptr);
  Int128 credits = CreditsOf(e.getCredits());
  TALLY_CHECK(credits <= st.Expirable(*lot));
  Burned b = BurnFromLot(*lot, credits);
  DropEmptyLots(st);
  entry.Move(acct::CustomerAvailable(account), acct::kExpired, kCreditsAsset, b.credits);
  entry.Move(acct::kDeferredRevenue, acct::kRevenueBreakage, b.currency, b.deferred);
}

void Refund(State& state, const std::string& account, AccountState& st,
            schema::RefundIssued::Reader r, uint64_t seq, Entry& entry) {
  state.NoteUse(business_ids::Refund(TextOf(r.getRefundId())), seq);
  Payment& payment = st.payments.at(TextOf(r.getPaymentReference()));
  MoneyAmount amount = MoneyOf(true, r.getAmount());
  MoneyAmount tax = MoneyOf(r.hasTax(), r.getTax());
  Int128 released =
      ClawBack(account, st, CreditsOf(r.getCredits()), payment.currency, payment.lot_id, entry);
  PayBack(acct::Cash(payment.provider), amount, tax, payment.tax_jurisdiction, released, entry);
  payment.refunded += amount.minor;
  payment.tax_refunded += tax.minor;
}

// A chargeback counts against its payment (Payment::disputed) from when it
// is opened until it is won.
void ChargebackEvent(State& state, AccountState& st, const Event& event, uint64_t seq,
                     Entry& entry) {
  auto reader = event.reader();
  if (reader.which() == schema::Event::CHARGEBACK_OPENED) {
    auto c = reader.getChargebackOpened();
    MoneyAmount amount = MoneyOf(true, c.getAmount());
    std::string reference = TextOf(c.getPaymentReference());
    Payment& payment = st.payments.at(reference);
    payment.disputed += amount.minor;
    st.chargebacks[TextOf(c.getChargebackId())] = {
        payment.provider, amount.currency, amount.minor, false, reference, false};
    state.NoteUse(business_ids::Chargeback(TextOf(c.getChargebackId())), seq);
    entry.Move(acct::kChargebacks, acct::Cash(payment.provider), amount.currency, amount.minor);
    return;
  }
  auto c = reader.getChargebackResolved();
  Chargeback& chargeback = st.chargebacks.at(TextOf(c.getChargebackId()));
  chargeback.resolved = true;
  bool won = c.getOutcome() == schema::ChargebackOutcome::WON;
  chargeback.won = won;
  auto payment = st.payments.find(chargeback.payment_reference);
  if (won && payment != st.payments.end()) payment->second.disputed -= chargeback.amount;
  entry.Move(won ? acct::Cash(chargeback.provider) : std::string(acct::kRevenueRefunds),
             acct::kChargebacks, chargeback.currency, chargeback.amount);
}

void SubscriptionPeriod(State& state, const std::string& account, AccountState& st,
                        const std::string& subscription_id, schema::SubscriptionPeriod::Reader p,
                        const std::string& id, uint64_t seq, Entry& entry) {
  Subscription& sub = st.subscriptions.at(subscription_id);
  sub.period_start = p.getPeriodStart().getUnixMicros();
  sub.period_end = p.getPeriodEnd().getUnixMicros();
  sub.period_paid = MoneyOf(true, p.getAmount()).minor;
  sub.period_credited = 0;
  state.NoteUse(business_ids::Period(account, subscription_id, sub.period_start), seq);
  sub.provider = TextOf(p.getProvider());
  sub.tax_jurisdiction = TextOf(p.getTaxJurisdiction());
  if (sub.status == Subscription::Status::kPastDue) sub.status = Subscription::Status::kActive;
  Settle(state, account, st,
         {sub.legal_entity.empty() ? st.legal_entity : sub.legal_entity, sub.provider,
          TextOf(p.getReference()), sub.tax_jurisdiction, MoneyOf(true, p.getAmount()),
          MoneyOf(p.hasTax(), p.getTax()), CreditsOf(p.getCredits()), LotKind::kSubscription,
          sub.rollover ? 0 : sub.period_end, subscription_id},
         id, seq, entry);
}

void PlanChanged(State& state, const std::string& account, AccountState& st,
                 schema::SubscriptionPlanChanged::Reader c, const std::string& id, uint64_t seq,
                 Entry& entry) {
  std::string subscription_id = TextOf(c.getSubscriptionId());
  Subscription& sub = st.subscriptions.at(subscription_id);
  sub.plan = TextOf(c.getNewPlan());
  MoneyAmount amount = MoneyOf(c.hasProrationAmount(), c.getProrationAmount());
  MoneyAmount tax = MoneyOf(c.hasProrationTax(), c.getProrationTax());
  Int128 credits = CreditsOf(c.getProrationCredits());
  if (amount.minor > 0 || credits > 0) {
    if (amount.currency.empty()) amount.currency = tax.currency;
    sub.period_paid += std::max(amount.minor, Int128(0));
    Settle(state, account, st,
           {sub.legal_entity.empty() ? st.legal_entity : sub.legal_entity, TextOf(c.getProvider()),
            TextOf(c.getReference()), sub.tax_jurisdiction, amount, tax, credits,
            LotKind::kSubscription, sub.rollover ? 0 : sub.period_end, subscription_id},
           id, seq, entry);
    return;
  }
  // A downgrade: credits taken back, money owed back to the customer.
  Int128 released = 0;
  std::string currency = amount.currency;
  for (const Burned& b :
       BurnInOrder(st, std::min(-credits, std::max(st.Available(), Int128(0))),
                   [&](const Lot& lot) { return lot.subscription_id == subscription_id; })) {
    entry.Move(acct::CustomerAvailable(account), acct::kIssued, kCreditsAsset, b.credits);
    if (currency.empty()) {
      entry.Move(acct::kDeferredRevenue, acct::kRevenueSubscription, b.currency, b.deferred);
    } else {
      released += b.deferred;
    }
  }
  if (currency.empty()) return;
  sub.period_credited -= amount.minor;
  MoneyAmount owed{currency, -amount.minor};
  MoneyAmount owed_tax{currency, -tax.minor};
  PayBack(acct::kRefundsPayable, owed, owed_tax, sub.tax_jurisdiction, released, entry);
}

void Adjustment(State& state, const std::string& account, AccountState& st,
                schema::AdjustmentPosted::Reader a, const std::string& id, uint64_t seq,
                Entry& entry) {
  state.NoteUse(business_ids::Adjustment(TextOf(a.getAdjustmentId())), seq);
  std::string debit = TextOf(a.getDebitAccount());
  std::string credit = TextOf(a.getCreditAccount());
  if (a.which() == schema::AdjustmentPosted::MONEY) {
    MoneyAmount money = MoneyOf(true, a.getMoney());
    entry.Move(debit, credit, money.currency, money.minor);
    return;
  }
  Int128 credits = CreditsOf(a.getCredits());
  if (credit == acct::CustomerAvailable(account)) {
    st.lots.push_back({id, LotKind::kPromotional, credits, 0, "", 0, seq, ""});
  } else if (debit == acct::CustomerAvailable(account)) {
    auto burned = BurnInOrder(st, credits, [](const Lot& lot) { return lot.free(); });
    Int128 total = 0;
    for (const Burned& b : burned) total += b.credits;
    TALLY_CHECK(total == credits);
  }
  entry.Move(debit, credit, kCreditsAsset, credits);
}

// Events about tasks: holds taken, released, captured.
void Task(State& state, const std::string& account, AccountState& st, const Event& event,
          uint64_t seq, Entry& entry) {
  auto reader = event.reader();
  switch (reader.which()) {
    case schema::Event::HOLD_ACCEPTED:
      return HoldAccepted(state, account, st, reader.getHoldAccepted(), entry);
    case schema::Event::TASK_SUCCEEDED: {
      auto t = reader.getTaskSucceeded();
      ReleaseHold(account, st, TextOf(t.getTaskId()), entry);
      state.NoteUse(business_ids::TaskSucceeded(account, TextOf(t.getTaskId())), seq);
      return Consume(account, st, CreditsOf(t.getCost()), entry);
    }
    case schema::Event::TASK_FAILED:
      return ReleaseHold(account, st, TextOf(reader.getTaskFailed().getTaskId()), entry);
    case schema::Event::TASK_CANCELLED:
      return ReleaseHold(account, st, TextOf(reader.getTaskCancelled().getTaskId()), entry);
    case schema::Event::RESERVATION_EXPIRED: {
      auto r = reader.getReservationExpired();
      TALLY_CHECK(st.holds.at(TextOf(r.getTaskId())).credits == CreditsOf(r.getCredits()));
      return ReleaseHold(account, st, TextOf(r.getTaskId()), entry);
    }
    case schema::Event::USAGE_RECORDED:
      state.NoteUse(business_ids::Usage(account, TextOf(reader.getUsageRecorded().getUsageId())),
                    seq);
      return Consume(account, st, CreditsOf(reader.getUsageRecorded().getCredits()), entry);
    default: return;
  }
}

void Subscriptions(State& state, const std::string& account, AccountState& st, const Event& event,
                   uint64_t seq, Entry& entry) {
  auto reader = event.reader();
  std::string id = TextOf(reader.getId());
  using S = Subscription::Status;
  switch (reader.which()) {
    case schema::Event::SUBSCRIPTION_STARTED: {
      auto s = reader.getSubscriptionStarted();
      std::string sub_id = TextOf(s.getSubscriptionId());
      Subscription& sub = st.subscriptions[sub_id];
      sub = {TextOf(s.getPlan()),
             S::kActive,
             s.getRollover(),
             0,
             "",
             "",
             TextOf(s.getFirstPeriod().getAmount().getCurrency()),
             TextOf(s.getLegalEntity()),
             0,
             0,
             0};
      state.NoteUse(business_ids::Subscription(account, sub_id), seq);
      return SubscriptionPeriod(state, account, st, sub_id, s.getFirstPeriod(), id, seq, entry);
    }
    case schema::Event::SUBSCRIPTION_RENEWED: {
      auto s = reader.getSubscriptionRenewed();
      return SubscriptionPeriod(state, account, st, TextOf(s.getSubscriptionId()), s.getPeriod(),
                                id, seq, entry);
    }
    case schema::Event::SUBSCRIPTION_PLAN_CHANGED:
      return PlanChanged(state, account, st, reader.getSubscriptionPlanChanged(), id, seq, entry);
    case schema::Event::SUBSCRIPTION_CANCELLED: {
      auto c = reader.getSubscriptionCancelled();
      st.subscriptions.at(TextOf(c.getSubscriptionId())).status =
          c.getAtPeriodEnd() ? S::kCancelling : S::kCancelled;
      return;
    }
    case schema::Event::SUBSCRIPTION_EXPIRED:
      st.subscriptions.at(TextOf(reader.getSubscriptionExpired().getSubscriptionId())).status =
          S::kExpired;
      return;
    case schema::Event::SUBSCRIPTION_PAYMENT_FAILED:
      st.subscriptions.at(TextOf(reader.getSubscriptionPaymentFailed().getSubscriptionId()))
          .status = S::kPastDue;
      return;
    default: return;
  }
}

// An invoice or credit note moves the horizon of an erased subject's
// billing identity.
void DocumentIssued(State& state, const std::string& account, AccountState& st, int64_t at) {
  st.last_document_at = at;
  if (st.billing_erasure_pending) {
    state.AddTimer({state.BillingErasureDue(st), account, Timer::Kind::kBillingErasure, ""});
  }
}

// Erasure and legal holds: state only, no postings.
void Privacy(State& state, const std::string& account, AccountState& st, const Event& event) {
  auto reader = event.reader();
  switch (reader.which()) {
    case schema::Event::ERASURE_REQUESTED: {
      auto purpose = reader.getErasureRequested().getPurpose();
      if ((purpose == schema::ErasurePurpose::BILLING || purpose == schema::ErasurePurpose::ALL) &&
          !st.billing_shredded) {
        st.billing_erasure_pending = true;
        state.AddTimer({state.BillingErasureDue(st), account, Timer::Kind::kBillingErasure, ""});
      }
      return;
    }
    case schema::Event::SUBJECT_SHREDDED:
      if (reader.getSubjectShredded().getPurpose() == schema::ErasurePurpose::PROFILE) {
        st.profile_shredded = true;
      } else {
        st.billing_shredded = true;
        st.billing_erasure_pending = false;
      }
      return;
    case schema::Event::LEGAL_HOLD_PLACED:
      st.legal_hold = TextOf(reader.getLegalHoldPlaced().getReason());
      return;
    case schema::Event::LEGAL_HOLD_RELEASED: st.legal_hold.clear(); return;
    default: return;
  }
}

}  // namespace

bool CountsInVersion(schema::Event::Which which) {
  // A record of a read is no change to the account: expected_version stays.
  return !IsLedgerMade(which) && which != schema::Event::PERSONAL_DATA_ACCESSED;
}

bool IsLedgerMade(schema::Event::Which which) {
  switch (which) {
    case schema::Event::HOLD_ACCEPTED:
    case schema::Event::HOLD_REJECTED:
    case schema::Event::RESERVATION_EXPIRED:
    case schema::Event::CREDITS_EXPIRED:
    case schema::Event::INVOICE_ISSUED:
    case schema::Event::CREDIT_NOTE_ISSUED:
    case schema::Event::CHECKPOINT_SIGNED:
    case schema::Event::SUBJECT_SHREDDED:
    case schema::Event::SEGMENT_ARCHIVED: return true;
    default: return false;
  }
}

int64_t DecisionTime(const Event& event, int64_t recorded_at_micros) {
  auto reader = event.reader();
  if (reader.getImported() || IsLedgerMade(reader.which())) {
    return reader.getOccurredAt().getUnixMicros();
  }
  return recorded_at_micros;
}

Postings Apply(State& state, const Event& event, uint64_t seq, int64_t recorded_at_micros) {
  auto reader = event.reader();
  state.AdvanceTime(DecisionTime(event, recorded_at_micros));
  std::string account = TextOf(reader.getAccount());
  AccountState& st = state.Mutable(account);
  if (CountsInVersion(reader.which())) ++st.version;
  std::string id = TextOf(reader.getId());
  Entry entry;
  switch (reader.which()) {
    case schema::Event::TOP_UP_SETTLED:
      TopUp(state, account, st, reader.getTopUpSettled(), id, seq, entry);
      break;
    case schema::Event::CREDITS_GRANTED: {
      auto g = reader.getCreditsGranted();
      Grant(state, account, st, CreditsOf(g.getCredits()),
            g.hasExpiresAt() ? g.getExpiresAt().getUnixMicros() : 0, id, seq, entry);
      break;
    }
    case schema::Event::CREDITS_EXPIRED:
      CreditsExpired(account, st, reader.getCreditsExpired(), entry);
      break;
    case schema::Event::REFUND_ISSUED:
      Refund(state, account, st, reader.getRefundIssued(), seq, entry);
      break;
    case schema::Event::CHARGEBACK_OPENED:
    case schema::Event::CHARGEBACK_RESOLVED: ChargebackEvent(state, st, event, seq, entry); break;
    case schema::Event::ACCOUNT_OPENED:
      if (reader.getAccountOpened().getLegalEntity().size() > 0) {
        st.legal_entity = TextOf(reader.getAccountOpened().getLegalEntity());
      }
      break;
    case schema::Event::INVOICE_ISSUED: {
      TakeDocumentNumber(state, event);
      DocumentIssued(state, account, st, DecisionTime(event, recorded_at_micros));
      auto invoice = reader.getInvoiceIssued();
      auto payment = st.payments.find(TextOf(invoice.getPaymentReference()));
      if (payment != st.payments.end())
        payment->second.invoice_number = TextOf(invoice.getNumber());
      break;
    }
    case schema::Event::CREDIT_NOTE_ISSUED:
      TakeDocumentNumber(state, event);
      DocumentIssued(state, account, st, DecisionTime(event, recorded_at_micros));
      break;
    case schema::Event::ERASURE_REQUESTED:
    case schema::Event::SUBJECT_SHREDDED:
    case schema::Event::LEGAL_HOLD_PLACED:
    case schema::Event::LEGAL_HOLD_RELEASED: Privacy(state, account, st, event); break;
    case schema::Event::ADJUSTMENT_POSTED:
      Adjustment(state, account, st, reader.getAdjustmentPosted(), id, seq, entry);
      break;
    default:
      Task(state, account, st, event, seq, entry);
      Subscriptions(state, account, st, event, seq, entry);
      break;
  }
  Postings postings = entry.Take();
  TALLY_CHECK(IsBalanced(postings));
  TALLY_CHECK(st.Available() >= 0 && st.held >= 0 && st.receivable >= 0);
  return postings;
}

}  // namespace tally::internal
