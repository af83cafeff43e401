// The base of a log whose oldest records were archived and purged
// (docs/retention.md): what replay and verification start from instead of
// seq 1. Stored under 'M' "base" (docs/formats/log.md) in the same write as
// the purge and the segment_archived receipt, whose base_state_hash binds it
// into the chain.
//
//   base     := version:u8(=1) first_seq:u64be prev_hash:32
//               state:bytes totals_count:u32be posting*
//   bytes    := length:u32be byte*
//
// `state` is EncodeState of the decision state after first_seq - 1; the
// postings are the purged journal entries summed per ledger account and
// asset (so the trial balance still covers the whole history).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "events/status.h"
#include "ledger/internal/state.h"
#include "ledger/ledger.h"

namespace tally::internal {

inline constexpr std::string_view kBaseKey = "Mbase";

struct LogBase {
  uint64_t first_seq = 1;  // the first seq kept in the live store
  Hash prev_hash{};        // chain hash at first_seq - 1
  std::string state;       // EncodeState
  Postings purged_totals;  // sum of the purged entries per account and asset
};

std::string EncodeBase(const LogBase& base);
Result<LogBase> DecodeBase(std::string_view bytes);
// BLAKE2b-256 of EncodeBase: what segment_archived records.
Hash BaseHash(const LogBase& base);

// The whole decision state (accounts, numbering, ledger time), in a layout
// of its own (version 2; version 1 still decodes). Timers are not stored:
// DecodeState re-arms them. Business ids are stored in key order.
// `version` 1 is the layout before business ids (what older bases hold:
// archive verification compares with it too).
inline constexpr uint8_t kStateVersion = 2;
std::string EncodeState(const State& state, uint8_t version = kStateVersion);
// REQUIRES: `state` is empty. Corruption if the bytes do not decode.
Status DecodeState(std::string_view bytes, State* state);
// For a version 1 state: notes the business ids that `st` still names
// (payments, chargebacks, subscriptions) as used at State::kArchivedSeq.
void SeedBusinessIds(const std::string& account, const AccountState& st, State* state);

}  // namespace tally::internal
