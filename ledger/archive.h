// Checking archived segments against the live log (docs/retention.md).
#pragma once

#include <string>

#include "events/status.h"
#include "ledger/ledger.h"

namespace tally {

struct ArchiveReport {
  uint64_t segments = 0;
  uint64_t events_checked = 0;
  uint64_t first_bad_seq = 0;  // 0: verified
  Status status;
};

// Re-reads every segment in `archive_dir` from seq 1: each file matches its
// manifest, seqs run without gaps, the hash chain runs through every
// segment into the live log's first record, every journal entry replays,
// and the state at each segment's end is the base its segment_archived
// receipt names. A log with nothing archived verifies with no segments.
ArchiveReport VerifyArchive(const Log& log, const std::string& archive_dir);

}  // namespace tally
