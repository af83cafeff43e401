// Exporting the log for offline verification (docs/formats/export.md).
//
// An export directory holds `records` (every log record as stored, framed
// with its seq) and `manifest.json` (first and last seq, head hash, digest
// of `records`). `VerifyExport` re-checks everything the live `Verify` does
// from the records alone: seq continuity, the hash chain, every journal entry
// by replay, and (with a public key) every signed checkpoint.
#pragma once

#include <string>

#include "events/status.h"
#include "ledger/checkpoint.h"
#include "ledger/ledger.h"

namespace tally {

// Writes the whole log to `dir` (created; must not hold an export already).
// Returns the number of events written.
Result<uint64_t> ExportLog(const Log& log, const std::string& dir);

struct ExportReport {
  uint64_t events_checked = 0;
  uint64_t checkpoints = 0;
  uint64_t first_bad_seq = 0;  // 0: verified
  Hash head_hash{};
  Status status;
};

// Verifies an export; `key` may be null (checkpoints are then not checked).
ExportReport VerifyExport(const std::string& dir, const PublicKey* key);

}  // namespace tally
