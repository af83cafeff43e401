// The ledger's decision state: everything Decide needs, kept in memory and
// rebuilt by replaying the log on open (the log is its durable copy).
//
// Amounts are integers in the smallest unit: micro-credits, minor units.
// Savepoints let a linked group, or a whole batch whose write failed, be
// undone: the first mutation of an account after a savepoint saves a copy.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "events/money.h"
#include "events/status.h"

namespace tally::internal {

enum class LotKind : uint8_t {
  kPromotional,   // credits_granted, adjustments: free, burns before paid
  kPaid,          // top_up_settled
  kSubscription,  // subscription periods and prorations
};

const char* LotKindName(LotKind kind);

struct Lot {
  std::string id;  // id of the event that created it
  LotKind kind = LotKind::kPaid;
  Int128 credits;          // remaining micro-credits, > 0 while the lot lives
  Int128 deferred;         // remaining deferred revenue, minor units (0 when free)
  std::string currency;    // of `deferred`; empty when free
  int64_t expires_at = 0;  // unix micros; 0: never
  uint64_t created_seq = 0;
  std::string subscription_id;  // for subscription lots
  bool free() const { return kind == LotKind::kPromotional; }
};

// True when `a` burns before `b`: earliest expiry first (never-expiring
// last), then promotional before paid, then oldest first.
bool BurnsBefore(const Lot& a, const Lot& b);

struct Hold {
  Int128 credits;
  int64_t expires_at = 0;
};

struct Payment {
  std::string lot_id;          // the paying event's id (its lot may be gone once consumed)
  std::string invoice_number;  // set by the invoice_issued that follows
  std::string legal_entity;
  std::string provider;
  std::string currency;
  std::string tax_jurisdiction;
  Int128 amount;        // gross
  Int128 refunded;      // gross, so far
  Int128 disputed;      // chargebacks opened against it and not won, so far
  Int128 tax;           // tax part of `amount`
  Int128 tax_refunded;  // tax part of the refunds, so far
  // What refunds and chargebacks may still take back (docs/ledger.md).
  Int128 Returnable() const { return amount - refunded - disputed; }
};

struct Subscription {
  enum class Status : uint8_t { kActive, kCancelling, kCancelled, kExpired, kPastDue };
  std::string plan;
  Status status = Status::kActive;
  bool rollover = false;
  int64_t period_end = 0;
  std::string provider;
  std::string tax_jurisdiction;
  std::string currency;  // every period and proration is billed in it
  std::string legal_entity;
  int64_t period_start = 0;
  Int128 period_paid;      // gross paid for the current period: its price and charged prorations
  Int128 period_credited;  // gross credited back by prorations in the current period
  bool ended() const { return status == Status::kCancelled || status == Status::kExpired; }
};

struct Chargeback {
  std::string provider;
  std::string currency;
  Int128 amount;
  bool resolved = false;
  std::string payment_reference;  // empty in log bases of state version 1
  bool won = false;
};

struct AccountState {
  uint64_t version = 0;               // producer events accepted for this account
  std::string legal_entity;           // from account_opened: who invoices this account
  std::vector<Lot> lots;              // live lots, in creation order
  std::map<std::string, Hold> holds;  // by task id
  Int128 held;
  Int128 receivable;
  std::map<std::string, Subscription> subscriptions;
  std::map<std::string, Payment> payments;  // by payment reference
  std::map<std::string, Chargeback> chargebacks;
  // Personal data (docs/privacy.md): the account is the subject.
  bool profile_shredded = false;
  bool billing_shredded = false;
  bool billing_erasure_pending = false;  // asked; waits for the horizon of the last invoice
  std::string legal_hold;                // the hold's reason; empty: none
  int64_t last_document_at = 0;          // decision time of the last invoice or credit note

  Int128 LotsTotal() const;
  // Credits the customer can spend: lots not reserved by holds. Never < 0.
  Int128 Available() const { return LotsTotal() - held; }
  Int128 FreeCredits() const;  // in promotional lots
  Lot* FindLot(const std::string& id);
  const Lot* FindLot(const std::string& id) const;
  // Credits of `lot` that may expire now: holds reserve the lots that burn
  // first, so only the part of `lot` beyond what holds reserve can go.
  Int128 Expirable(const Lot& lot) const;
};

// A due time for a hold or a lot of an account. The index is lazy: an entry
// may be stale, and is checked against the state when it comes due.
struct Timer {
  enum class Kind : uint8_t { kHoldExpiry, kLotExpiry, kBillingErasure };
  int64_t due = 0;
  std::string account;
  Kind kind = Kind::kHoldExpiry;
  std::string key;  // task id or lot id; empty for a billing erasure
  auto operator<=>(const Timer&) const = default;
};

class State {
 public:
  const AccountState* Find(const std::string& account) const;
  // The account's state for changing; records undo under an open savepoint.
  AccountState& Mutable(const std::string& account);

  int64_t time() const { return time_; }

  // How long invoices are kept: an erased subject's billing identity is
  // shredded this many years after its last invoice or credit note.
  void set_invoice_retention_years(int years) { invoice_retention_years_ = years; }
  // When `st`'s billing identity may be shredded (0: at once).
  int64_t BillingErasureDue(const AccountState& st) const;

  // Gap-free numbering per series (an invoice or credit-note series of a
  // legal entity and year): the next number, and taking it.
  uint64_t NextNumber(const std::string& series) const;
  void TakeNumber(const std::string& series, uint64_t number);
  void AdvanceTime(int64_t micros) { time_ = std::max(time_, micros); }

  void AddTimer(Timer timer) { timers_.insert(std::move(timer)); }

  // Business ids (docs/ledger.md, "Business ids take effect once"): keys
  // from ledger/internal/business_ids.h, each with the seq of the event
  // that first used it. kArchivedSeq: used before a log base that did not
  // record the seq.
  static constexpr uint64_t kArchivedSeq = 0;
  std::optional<uint64_t> FirstUse(const std::string& key) const;
  // Records the first use of `key` at `seq`; a later use keeps the first.
  void NoteUse(const std::string& key, uint64_t seq);
  size_t business_id_count() const { return business_ids_.size(); }
  enum class TimerState { kStale, kWaiting, kDue };
  // The earliest timer due at or before `now` that `judge` calls kDue.
  // Entries judged kStale (their hold or lot is gone or changed) are
  // dropped; kWaiting ones stay armed (a lot whose credits holds reserve).
  template <typename Judge>
  std::optional<Timer> NextDue(int64_t now, Judge judge);

  // Savepoints nest. Rollback restores every account touched since the
  // matching Savepoint and re-adds their timers.
  void Savepoint();
  void Release();  // keep the changes; merge undo into the enclosing savepoint
  void Rollback();

  size_t account_count() const { return accounts_.size(); }
  const std::unordered_map<std::string, AccountState>& accounts() const { return accounts_; }

 private:
  // The log base (ledger/internal/base.h) saves and restores the whole state.
  friend std::string EncodeState(const State& state, uint8_t version);
  friend Status DecodeState(std::string_view bytes, State* state);
  friend void SeedBusinessIds(const std::string& account, const AccountState& st, State* state);

  struct Undo {
    std::map<std::string, std::optional<AccountState>> accounts;  // nullopt: did not exist
    int64_t time = 0;
    std::map<std::string, uint64_t> numbers;  // a copy: series are few
    std::vector<std::string> business_ids;    // noted since the savepoint
  };
  void AddTimersOf(const std::string& account, const AccountState& state);

  std::unordered_map<std::string, AccountState> accounts_;
  std::set<Timer> timers_;
  int invoice_retention_years_ = 7;
  int64_t time_ = 0;                         // ledger time: decision time of the last applied event
  std::map<std::string, uint64_t> numbers_;  // last number taken, per series
  std::unordered_map<std::string, uint64_t> business_ids_;  // key -> first seq
  std::vector<Undo> undo_;
};

template <typename Judge>
std::optional<Timer> State::NextDue(int64_t now, Judge judge) {
  for (auto it = timers_.begin(); it != timers_.end() && it->due <= now;) {
    switch (judge(*it)) {
      case TimerState::kDue: return *it;
      case TimerState::kWaiting: ++it; break;
      case TimerState::kStale: it = timers_.erase(it); break;
    }
  }
  return std::nullopt;
}

}  // namespace tally::internal
