#include "ledger/internal/state.h"

#include "events/timestamp.h"

namespace tally::internal {

const char* LotKindName(LotKind kind) {
  switch (kind) {
    case LotKind::kPromotional: return "promotional";
    case LotKind::kPaid: return "paid";
    case LotKind::kSubscription: return "subscription";
  }
  return "unknown";
}

bool BurnsBefore(const Lot& a, const Lot& b) {
  const int64_t kNever = INT64_MAX;
  int64_t a_expiry = a.expires_at == 0 ? kNever : a.expires_at;
  int64_t b_expiry = b.expires_at == 0 ? kNever : b.expires_at;
  if (a_expiry != b_expiry) return a_expiry < b_expiry;
  if (a.free() != b.free()) return a.free();
  return a.created_seq < b.created_seq;
}

Int128 AccountState::LotsTotal() const {
  Int128 total = 0;
  for (const Lot& lot : lots) total += lot.credits;
  return total;
}

Int128 AccountState::FreeCredits() const {
  Int128 total = 0;
  for (const Lot& lot : lots) {
    if (lot.free()) total += lot.credits;
  }
  return total;
}

Lot* AccountState::FindLot(const std::string& id) {
  for (Lot& lot : lots) {
    if (lot.id == id) return &lot;
  }
  return nullptr;
}

const Lot* AccountState::FindLot(const std::string& id) const {
  for (const Lot& lot : lots) {
    if (lot.id == id) return &lot;
  }
  return nullptr;
}

Int128 AccountState::Expirable(const Lot& lot) const {
  Int128 through = 0;  // credits of the lots that burn before `lot`, and `lot`
  for (const Lot& other : lots) {
    if (&other == &lot || BurnsBefore(other, lot)) through += other.credits;
  }
  Int128 unreserved = through - held;
  return std::min(lot.credits, std::max(unreserved, Int128(0)));
}

const AccountState* State::Find(const std::string& account) const {
  auto it = accounts_.find(account);
  return it == accounts_.end() ? nullptr : &it->second;
}

AccountState& State::Mutable(const std::string& account) {
  auto it = accounts_.find(account);
  if (!undo_.empty()) {
    auto& saved = undo_.back().accounts;
    if (!saved.contains(account)) {
      saved.emplace(account,
                    it == accounts_.end() ? std::nullopt : std::optional<AccountState>(it->second));
    }
  }
  if (it == accounts_.end()) it = accounts_.emplace(account, AccountState()).first;
  return it->second;
}

uint64_t State::NextNumber(const std::string& series) const {
  auto it = numbers_.find(series);
  return it == numbers_.end() ? 1 : it->second + 1;
}

void State::TakeNumber(const std::string& series, uint64_t number) {
  TALLY_CHECK(number == NextNumber(series));  // gap-free, in order
  numbers_[series] = number;
}

std::optional<uint64_t> State::FirstUse(const std::string& key) const {
  auto it = business_ids_.find(key);
  if (it == business_ids_.end()) return std::nullopt;
  return it->second;
}

void State::NoteUse(const std::string& key, uint64_t seq) {
  if (!business_ids_.emplace(key, seq).second) return;
  if (!undo_.empty()) undo_.back().business_ids.push_back(key);
}

void State::Savepoint() { undo_.push_back(Undo{{}, time_, numbers_, {}}); }

void State::Release() {
  TALLY_CHECK(!undo_.empty());
  Undo top = std::move(undo_.back());
  undo_.pop_back();
  if (undo_.empty()) return;
  // The enclosing savepoint keeps its own (older) copy where it has one.
  for (auto& [account, saved] : top.accounts) undo_.back().accounts.emplace(account, saved);
  auto& noted = undo_.back().business_ids;
  noted.insert(noted.end(), top.business_ids.begin(), top.business_ids.end());
}

void State::Rollback() {
  TALLY_CHECK(!undo_.empty());
  Undo top = std::move(undo_.back());
  undo_.pop_back();
  time_ = top.time;
  numbers_ = std::move(top.numbers);
  for (const std::string& key : top.business_ids) business_ids_.erase(key);
  for (auto& [account, saved] : top.accounts) {
    if (!saved) {
      accounts_.erase(account);
      continue;
    }
    accounts_[account] = std::move(*saved);
    AddTimersOf(account, accounts_[account]);
  }
}

int64_t State::BillingErasureDue(const AccountState& st) const {
  return st.last_document_at == 0 ? 0 : AddYears(st.last_document_at, invoice_retention_years_);
}

void State::AddTimersOf(const std::string& account, const AccountState& state) {
  if (state.billing_erasure_pending) {
    timers_.insert({BillingErasureDue(state), account, Timer::Kind::kBillingErasure, ""});
  }
  for (const auto& [task_id, hold] : state.holds) {
    timers_.insert({hold.expires_at, account, Timer::Kind::kHoldExpiry, task_id});
  }
  for (const Lot& lot : state.lots) {
    if (lot.expires_at != 0) {
      timers_.insert({lot.expires_at, account, Timer::Kind::kLotExpiry, lot.id});
    }
  }
}

}  // namespace tally::internal
