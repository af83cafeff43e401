// Business ids: the producer's names for things that must take effect once
// (docs/ledger.md, "Business ids take effect once"). The event id makes a
// redelivery idempotent; a business id stops the same payment, refund or
// task from being booked twice under a new event id.
//
//   key := kind:u8 scope                       kind: one of the letters below
//   'P' reference                 a payment reference, ledger-wide
//   'R' refund_id                 ledger-wide
//   'C' chargeback_id             ledger-wide
//   'S' account 0x00 subscription_id
//   'Q' account 0x00 subscription_id 0x00 period_start:u64be
//   'T' account 0x00 task_id      the task succeeded (was charged): it is over
//   'U' account 0x00 usage_id
//   'J' adjustment_id             ledger-wide
//
// Provider ids (payments, refunds, chargebacks) and adjustments are unique within the
// ledger, whatever the account (the ledger owns a shard of accounts: that
// is as far as it can see). Producer-made ids (tasks, usage, subscriptions)
// are unique per account. Ids and accounts never contain 0x00.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "events/big_endian.h"

namespace tally::internal::business_ids {

inline std::string Global(char kind, std::string_view id) {
  std::string key(1, kind);
  key.append(id);
  return key;
}

inline std::string OfAccount(char kind, std::string_view account, std::string_view id) {
  std::string key(1, kind);
  key.append(account);
  key.push_back('\0');
  key.append(id);
  return key;
}

inline std::string Payment(std::string_view reference) { return Global('P', reference); }
inline std::string Refund(std::string_view refund_id) { return Global('R', refund_id); }
inline std::string Chargeback(std::string_view chargeback_id) { return Global('C', chargeback_id); }
inline std::string Subscription(std::string_view account, std::string_view id) {
  return OfAccount('S', account, id);
}
inline std::string Period(std::string_view account, std::string_view subscription_id,
                          int64_t period_start_micros) {
  std::string key = OfAccount('Q', account, subscription_id);
  key.push_back('\0');
  AppendU64(&key, static_cast<uint64_t>(period_start_micros));
  return key;
}
inline std::string TaskSucceeded(std::string_view account, std::string_view task_id) {
  return OfAccount('T', account, task_id);
}
inline std::string Usage(std::string_view account, std::string_view usage_id) {
  return OfAccount('U', account, usage_id);
}

inline std::string Adjustment(std::string_view adjustment_id) { return Global('J', adjustment_id); }

// "at seq 12", or "in an archived segment" where the log base did not record the seq.
inline std::string WhereUsed(uint64_t seq) {
  return seq == 0 ? std::string("in an archived segment") : "at seq " + std::to_string(seq);
}

}  // namespace tally::internal::business_ids
