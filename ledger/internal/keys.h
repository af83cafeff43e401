// On-disk key layout of the log, version 1 (docs/formats/log.md).
//
//   key                                   value
//   'E' seq:u64be                         record (ledger/internal/record.h)
//   'I' event_id                          seq:u64be digest:16   (idempotency index)
//   'A' account 0x00 seq:u64be            empty                 (account index)
//   'M' "head"                            seq:u64be hash:32     (last appended seq)
//   'M' "format"                          u64be                 (layout version)
//   'M' "base"                            the log base          (ledger/internal/base.h)
//   'O' topic 0x00 partition:u32be        next_offset:u64be [cluster] (source_offsets.h)
//   'D' id:u64be                          dead letter           (ledger/internal/outbox.h)
//   'C' name                              seq:u64be             (publisher cursors)
//
// Big-endian seqs make RocksDB's byte order equal to seq order. Ids and
// accounts never contain 0x00 (events/codec.h rejects control characters),
// so the account index sorts by account, then seq.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "events/big_endian.h"
#include "events/check.h"

namespace tally::internal {

inline constexpr char kEventPrefix = 'E';
inline constexpr char kIdPrefix = 'I';
inline constexpr char kAccountPrefix = 'A';
inline constexpr char kOffsetPrefix = 'O';
inline constexpr std::string_view kHeadKey = "Mhead";
inline constexpr std::string_view kFormatKey = "Mformat";
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kHeadValueBytes = 8 + 32;
inline constexpr size_t kSeqBytes = 8;
inline constexpr size_t kDigestBytes = 16;
inline constexpr size_t kIdValueBytes = kSeqBytes + kDigestBytes;
static_assert(kIdValueBytes == 24);

using tally::AppendU32;
using tally::AppendU64;
using tally::EncodeU64;
using tally::ReadU32;
using tally::ReadU64;

inline std::string EventKey(uint64_t seq) {
  std::string key(1, kEventPrefix);
  AppendU64(&key, seq);
  return key;
}

inline std::string IdKey(std::string_view event_id) {
  std::string key(1, kIdPrefix);
  key.append(event_id);
  return key;
}

inline std::string AccountPrefix(std::string_view account) {
  std::string key(1, kAccountPrefix);
  key.append(account);
  key.push_back('\0');
  return key;
}

inline std::string AccountKey(std::string_view account, uint64_t seq) {
  std::string key = AccountPrefix(account);
  AppendU64(&key, seq);
  return key;
}

inline std::string OffsetKey(std::string_view topic, int32_t partition) {
  std::string key(1, kOffsetPrefix);
  key.append(topic);
  key.push_back('\0');
  AppendU32(&key, static_cast<uint32_t>(partition));
  return key;
}

}  // namespace tally::internal
