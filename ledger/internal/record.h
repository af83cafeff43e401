// One log record: the value stored under 'E' seq (docs/formats/log.md).
//
//   record   := version:u8(=1) recorded_at:i64be hash:32 event_len:u32be event
//               posting_count:u16be posting*
//   posting  := account_len:u16be account asset_len:u8 asset
//               sign:u8(0 or 1) magnitude_hi:u64be magnitude_lo:u64be
//
// hash is the chain hash at this seq:
//   hash[n] = BLAKE2b-256(hash[n-1] || seq:u64be || recorded_at:i64be || event)
// with hash[0] = 32 zero bytes. The postings are derived (replay recomputes
// them) and are not part of the hash.
#pragma once

#include <string>
#include <string_view>

#include "events/status.h"
#include "ledger/ledger.h"

namespace tally::internal {

inline constexpr uint8_t kRecordVersion = 1;
inline constexpr size_t kRecordHeaderBytes = 1 + 8 + kHashBytes + 4;
static_assert(kRecordHeaderBytes == 45);

// hash[n] from hash[n-1] and the record's hashed fields.
Hash ChainHash(const Hash& previous, uint64_t seq, int64_t recorded_at_micros,
               std::string_view event_bytes);

std::string EncodeRecord(const LoggedEvent& record);

// Decodes the record stored at `seq`. Damage is Corruption naming the seq.
Result<LoggedEvent> DecodeRecord(uint64_t seq, std::string_view bytes);

}  // namespace tally::internal
