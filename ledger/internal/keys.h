// On-disk key layout of the log, version 1 (docs/formats/log.md).
//
//   key                                   value
//   'E' seq:u64be                         record (ledger/internal/record.h)
//   'I' event_id                          seq:u64be digest:16   (idempotency index)
//   'A' account 0x00 seq:u64be            empty                 (account index)
//   'M' "head"                            seq:u64be hash:32     (last appended seq)
//   'M' "format"                          u64be                 (layout version)
//
// Big-endian seqs make RocksDB's byte order equal to seq order. Ids and
// accounts never contain 0x00 (events/codec.h rejects control characters),
// so the account index sorts by account, then seq.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "events/check.h"

namespace tally::internal {

inline constexpr char kEventPrefix = 'E';
inline constexpr char kIdPrefix = 'I';
inline constexpr char kAccountPrefix = 'A';
inline constexpr std::string_view kHeadKey = "Mhead";
inline constexpr std::string_view kFormatKey = "Mformat";
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kHeadValueBytes = 8 + 32;
inline constexpr size_t kSeqBytes = 8;
inline constexpr size_t kDigestBytes = 16;
inline constexpr size_t kIdValueBytes = kSeqBytes + kDigestBytes;
static_assert(kIdValueBytes == 24);

inline void AppendU64(std::string* out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(value >> shift));
}

// REQUIRES: bytes.size() >= 8
inline uint64_t ReadU64(std::string_view bytes) {
  TALLY_CHECK(bytes.size() >= kSeqBytes);
  uint64_t value = 0;
  for (size_t i = 0; i < kSeqBytes; ++i) value = value << 8 | static_cast<uint8_t>(bytes[i]);
  return value;
}

inline void AppendU32(std::string* out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(value >> shift));
}

// REQUIRES: bytes.size() >= 4
inline uint32_t ReadU32(std::string_view bytes) {
  TALLY_CHECK(bytes.size() >= 4);
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) value = value << 8 | static_cast<uint8_t>(bytes[i]);
  return value;
}

inline std::string EncodeU64(uint64_t value) {
  std::string out;
  AppendU64(&out, value);
  return out;
}

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

}  // namespace tally::internal
