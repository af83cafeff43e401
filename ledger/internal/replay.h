// Reading the log back: scans, replay into a State, and verification.
#pragma once

#include <rocksdb/db.h>

#include <functional>
#include <optional>

#include "ledger/internal/base.h"
#include "ledger/internal/batch.h"
#include "ledger/internal/rocks_status.h"
#include "ledger/internal/state.h"
#include "ledger/ledger.h"

namespace tally::internal {

// Visits records from `from_seq` on, in seq order, on `snapshot` (nullptr:
// a new one), until `visit` returns false.
Status ScanRecords(rocksdb::DB* db, const rocksdb::Snapshot* snapshot, uint64_t from_seq,
                   const std::function<bool(const LoggedEvent&)>& visit);

// The log's base if its oldest records were purged (ledger/internal/base.h).
Result<std::optional<LogBase>> ReadBase(rocksdb::DB* db, const rocksdb::Snapshot* snapshot);

// Checks one record against the chain so far (`head`: the record before it)
// and applies it to `state`, comparing the journal entry; advances `head`.
// Corruption names the seq.
Status ReplayRecord(const LoggedEvent& record, ChainHead& head, State& state);

// Replays the whole log into `state` (which must be empty), from its base
// if it has one, checking seq continuity, the hash chain, the head, every
// journal entry and that the base is the one its segment_archived receipt
// names. Returns the head, or Corruption naming the first bad seq.
// `first_keyed_seq` (if given) gets the first live seq sealed with, or
// naming, keys of the key store (0: none).
Result<ChainHead> ReplayLog(rocksdb::DB* db, State* state, uint64_t* first_keyed_seq = nullptr);

// ReplayLog into a scratch state, also checking that the id and account
// indexes point at every record; reported for an auditor.
VerifyReport VerifyLog(rocksdb::DB* db, uint64_t* first_keyed_seq = nullptr);

AccountView ViewOf(const std::string& account, const AccountState* state);

}  // namespace tally::internal
