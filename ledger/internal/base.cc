#include "ledger/internal/base.h"

#include <sodium.h>

#include <algorithm>

#include "ledger/internal/business_ids.h"
#include "ledger/internal/bytes.h"

namespace tally::internal {
namespace {

constexpr uint8_t kBaseVersion = 1;
// Version 2 added per payment `disputed` and its tax (paid and refunded), per subscription the
// current period's start and what was paid and credited in it, per chargeback its payment reference
// and outcome, and the business ids. Version 1 still decodes (DecodeState says how the missing
// parts are filled in).
constexpr uint8_t kStateVersionFirst = 1;
static_assert(kStateVersion == 2 && kStateVersionFirst < kStateVersion);

void AppendBool(std::string* out, bool value) { out->push_back(value ? 1 : 0); }
void AppendI64(std::string* out, int64_t value) { AppendU64(out, static_cast<uint64_t>(value)); }

class StateReader {
 public:
  explicit StateReader(std::string_view bytes) : in_(bytes) {}
  bool ok() const { return in_.ok(); }
  bool done() const { return in_.done(); }
  uint64_t U64() { return in_.Uint(8); }
  uint32_t U32() { return static_cast<uint32_t>(in_.Uint(4)); }
  uint8_t U8() { return static_cast<uint8_t>(in_.Uint(1)); }
  int64_t I64() { return static_cast<int64_t>(in_.Uint(8)); }
  bool Bool() {
    uint8_t value = U8();
    if (value > 1) in_.Fail();
    return value == 1;
  }
  std::string Text() { return in_.Bytes(); }
  Int128 Amount() { return in_.Amount(); }
  uint32_t Count() { return U32(); }
  void Fail() { in_.Fail(); }

 private:
  ByteReader in_;
};

void EncodeLot(std::string* out, const Lot& lot) {
  AppendBytes(out, lot.id);
  out->push_back(static_cast<char>(lot.kind));
  AppendAmount(out, lot.credits);
  AppendAmount(out, lot.deferred);
  AppendBytes(out, lot.currency);
  AppendI64(out, lot.expires_at);
  AppendU64(out, lot.created_seq);
  AppendBytes(out, lot.subscription_id);
}

Lot DecodeLot(StateReader& in) {
  Lot lot;
  lot.id = in.Text();
  uint8_t kind = in.U8();
  if (kind > static_cast<uint8_t>(LotKind::kSubscription)) in.Fail();
  lot.kind = static_cast<LotKind>(kind);
  lot.credits = in.Amount();
  lot.deferred = in.Amount();
  lot.currency = in.Text();
  lot.expires_at = in.I64();
  lot.created_seq = in.U64();
  lot.subscription_id = in.Text();
  return lot;
}

void EncodeAccount(std::string* out, const AccountState& st, uint8_t version) {
  const bool v2 = version >= 2;
  AppendU64(out, st.version);
  AppendBytes(out, st.legal_entity);
  AppendU32(out, static_cast<uint32_t>(st.lots.size()));
  for (const Lot& lot : st.lots) EncodeLot(out, lot);
  AppendU32(out, static_cast<uint32_t>(st.holds.size()));
  for (const auto& [task, hold] : st.holds) {
    AppendBytes(out, task);
    AppendAmount(out, hold.credits);
    AppendI64(out, hold.expires_at);
  }
  AppendAmount(out, st.held);
  AppendAmount(out, st.receivable);
  AppendU32(out, static_cast<uint32_t>(st.subscriptions.size()));
  for (const auto& [id, sub] : st.subscriptions) {
    AppendBytes(out, id);
    AppendBytes(out, sub.plan);
    out->push_back(static_cast<char>(sub.status));
    AppendBool(out, sub.rollover);
    AppendI64(out, sub.period_end);
    AppendBytes(out, sub.provider);
    AppendBytes(out, sub.tax_jurisdiction);
    AppendBytes(out, sub.currency);
    AppendBytes(out, sub.legal_entity);
    if (!v2) continue;
    AppendI64(out, sub.period_start);
    AppendAmount(out, sub.period_paid);
    AppendAmount(out, sub.period_credited);
  }
  AppendU32(out, static_cast<uint32_t>(st.payments.size()));
  for (const auto& [reference, payment] : st.payments) {
    AppendBytes(out, reference);
    AppendBytes(out, payment.lot_id);
    AppendBytes(out, payment.invoice_number);
    AppendBytes(out, payment.legal_entity);
    AppendBytes(out, payment.provider);
    AppendBytes(out, payment.currency);
    AppendBytes(out, payment.tax_jurisdiction);
    AppendAmount(out, payment.amount);
    AppendAmount(out, payment.refunded);
    if (!v2) continue;
    AppendAmount(out, payment.disputed);
    AppendAmount(out, payment.tax);
    AppendAmount(out, payment.tax_refunded);
  }
  AppendU32(out, static_cast<uint32_t>(st.chargebacks.size()));
  for (const auto& [id, chargeback] : st.chargebacks) {
    AppendBytes(out, id);
    AppendBytes(out, chargeback.provider);
    AppendBytes(out, chargeback.currency);
    AppendAmount(out, chargeback.amount);
    AppendBool(out, chargeback.resolved);
    if (!v2) continue;
    AppendBytes(out, chargeback.payment_reference);
    AppendBool(out, chargeback.won);
  }
  AppendBool(out, st.profile_shredded);
  AppendBool(out, st.billing_shredded);
  AppendBool(out, st.billing_erasure_pending);
  AppendBytes(out, st.legal_hold);
  AppendI64(out, st.last_document_at);
}

// `version` 1 lacks the version 2 fields: a payment's disputed amount is
// taken as 0, a chargeback's payment as unknown, and what a subscription's
// current period paid as unknown (-1: prorations are not capped by it).
AccountState DecodeAccount(StateReader& in, uint8_t version) {
  const bool v2 = version >= 2;
  AccountState st;
  st.version = in.U64();
  st.legal_entity = in.Text();
  for (uint32_t n = in.Count(); n > 0 && in.ok(); --n) st.lots.push_back(DecodeLot(in));
  for (uint32_t n = in.Count(); n > 0 && in.ok(); --n) {
    std::string task = in.Text();
    Hold hold;
    hold.credits = in.Amount();
    hold.expires_at = in.I64();
    st.holds.emplace(std::move(task), hold);
  }
  st.held = in.Amount();
  st.receivable = in.Amount();
  for (uint32_t n = in.Count(); n > 0 && in.ok(); --n) {
    std::string id = in.Text();
    Subscription sub;
    sub.plan = in.Text();
    uint8_t status = in.U8();
    if (status > static_cast<uint8_t>(Subscription::Status::kPastDue)) in.Fail();
    sub.status = static_cast<Subscription::Status>(status);
    sub.rollover = in.Bool();
    sub.period_end = in.I64();
    sub.provider = in.Text();
    sub.tax_jurisdiction = in.Text();
    sub.currency = in.Text();
    sub.legal_entity = in.Text();
    sub.period_paid = -1;
    if (v2) {
      sub.period_start = in.I64();
      sub.period_paid = in.Amount();
      sub.period_credited = in.Amount();
    }
    st.subscriptions.emplace(std::move(id), std::move(sub));
  }
  for (uint32_t n = in.Count(); n > 0 && in.ok(); --n) {
    std::string reference = in.Text();
    Payment payment;
    payment.lot_id = in.Text();
    payment.invoice_number = in.Text();
    payment.legal_entity = in.Text();
    payment.provider = in.Text();
    payment.currency = in.Text();
    payment.tax_jurisdiction = in.Text();
    payment.amount = in.Amount();
    payment.refunded = in.Amount();
    payment.tax = payment.amount;  // version 1: unknown, bounded by the amount
    if (v2) {
      payment.disputed = in.Amount();
      payment.tax = in.Amount();
      payment.tax_refunded = in.Amount();
    }
    st.payments.emplace(std::move(reference), std::move(payment));
  }
  for (uint32_t n = in.Count(); n > 0 && in.ok(); --n) {
    std::string id = in.Text();
    Chargeback chargeback;
    chargeback.provider = in.Text();
    chargeback.currency = in.Text();
    chargeback.amount = in.Amount();
    chargeback.resolved = in.Bool();
    if (v2) {
      chargeback.payment_reference = in.Text();
      chargeback.won = in.Bool();
    }
    st.chargebacks.emplace(std::move(id), std::move(chargeback));
  }
  st.profile_shredded = in.Bool();
  st.billing_shredded = in.Bool();
  st.billing_erasure_pending = in.Bool();
  st.legal_hold = in.Text();
  st.last_document_at = in.I64();
  return st;
}

}  // namespace

// A version 1 base did not keep business ids: those its state still names
// (payment references, chargebacks, subscriptions) are known to be used,
// at a seq it did not record.
void SeedBusinessIds(const std::string& account, const AccountState& st, State* state) {
  for (const auto& [reference, payment] : st.payments) {
    state->business_ids_.emplace(business_ids::Payment(reference), State::kArchivedSeq);
  }
  for (const auto& [id, chargeback] : st.chargebacks) {
    state->business_ids_.emplace(business_ids::Chargeback(id), State::kArchivedSeq);
  }
  for (const auto& [id, sub] : st.subscriptions) {
    state->business_ids_.emplace(business_ids::Subscription(account, id), State::kArchivedSeq);
  }
}

std::string EncodeState(const State& state, uint8_t version) {
  TALLY_CHECK(version >= kStateVersionFirst && version <= kStateVersion);
  std::string out;
  out.push_back(static_cast<char>(version));
  AppendI64(&out, state.time_);
  AppendU32(&out, static_cast<uint32_t>(state.numbers_.size()));
  for (const auto& [series, number] : state.numbers_) {
    AppendBytes(&out, series);
    AppendU64(&out, number);
  }
  // In account order, so that equal states encode to equal bytes.
  std::vector<const std::pair<const std::string, AccountState>*> accounts;
  for (const auto& entry : state.accounts_) accounts.push_back(&entry);
  std::sort(accounts.begin(), accounts.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  AppendU32(&out, static_cast<uint32_t>(accounts.size()));
  for (const auto* entry : accounts) {
    AppendBytes(&out, entry->first);
    EncodeAccount(&out, entry->second, version);
  }
  if (version < 2) return out;
  std::vector<std::pair<std::string, uint64_t>> ids(state.business_ids_.begin(),
                                                    state.business_ids_.end());
  std::sort(ids.begin(), ids.end());
  AppendU32(&out, static_cast<uint32_t>(ids.size()));
  for (const auto& [key, seq] : ids) {
    AppendBytes(&out, key);
    AppendU64(&out, seq);
  }
  return out;
}

Status DecodeState(std::string_view bytes, State* state) {
  TALLY_CHECK(state->account_count() == 0);
  StateReader in(bytes);
  uint8_t version = in.U8();
  if (version < kStateVersionFirst || version > kStateVersion) {
    return Status::Corruption("the log base: unknown state version");
  }
  state->time_ = in.I64();
  for (uint32_t n = in.Count(); n > 0 && in.ok(); --n) {
    std::string series = in.Text();
    state->numbers_[series] = in.U64();
  }
  for (uint32_t n = in.Count(); n > 0 && in.ok(); --n) {
    std::string account = in.Text();
    AccountState st = DecodeAccount(in, version);
    if (!in.ok()) break;
    if (version == kStateVersionFirst) SeedBusinessIds(account, st, state);
    state->AddTimersOf(account, st);
    state->accounts_.emplace(std::move(account), std::move(st));
  }
  if (version >= 2) {
    for (uint32_t n = in.Count(); n > 0 && in.ok(); --n) {
      std::string key = in.Text();
      state->business_ids_.emplace(std::move(key), in.U64());
    }
  }
  if (!in.ok() || !in.done()) return Status::Corruption("the log base: the state is damaged");
  return Status::Ok();
}

std::string EncodeBase(const LogBase& base) {
  std::string out;
  out.push_back(static_cast<char>(kBaseVersion));
  AppendU64(&out, base.first_seq);
  out.append(reinterpret_cast<const char*>(base.prev_hash.data()), base.prev_hash.size());
  AppendBytes(&out, base.state);
  AppendU32(&out, static_cast<uint32_t>(base.purged_totals.size()));
  for (const Posting& posting : base.purged_totals) {
    AppendBytes(&out, posting.account);
    AppendBytes(&out, posting.asset);
    AppendAmount(&out, posting.amount);
  }
  return out;
}

Result<LogBase> DecodeBase(std::string_view bytes) {
  ByteReader in(bytes);
  LogBase base;
  if (in.Uint(1) != kBaseVersion) return Status::Corruption("the log base: unknown version");
  base.first_seq = in.Uint(8);
  std::string_view hash = in.Take(kHashBytes);
  if (in.ok()) std::copy(hash.begin(), hash.end(), base.prev_hash.begin());
  base.state = in.Bytes();
  for (uint64_t n = in.Uint(4); n > 0 && in.ok(); --n) {
    Posting posting;
    posting.account = in.Bytes();
    posting.asset = in.Bytes();
    posting.amount = in.Amount();
    base.purged_totals.push_back(std::move(posting));
  }
  if (!in.ok() || !in.done() || base.first_seq < 2) {
    return Status::Corruption("the log base is damaged");
  }
  return base;
}

Hash BaseHash(const LogBase& base) {
  std::string bytes = EncodeBase(base);
  Hash hash;
  crypto_generichash(hash.data(), hash.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size(), nullptr, 0);
  return hash;
}

}  // namespace tally::internal
