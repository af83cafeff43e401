// What the log and the projection store do when closed cleanly.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/transaction_log.h>

#include <cstdint>

#include "events/limits.h"

namespace tally::internal {

// Flushes `db`'s memtables if its live WAL files hold
// limits::kFlushOnCloseBytesMin or more, so that a read-only open does not
// replay that much. A failed flush loses nothing (the WAL still holds every
// write) and is ignored; a read-only or secondary instance refuses it, which
// is ignored too.
inline void FlushIfLarge(rocksdb::DB* db) {
  rocksdb::VectorLogPtr wal_files;
  if (!db->GetSortedWalFiles(wal_files).ok()) return;
  uint64_t bytes = 0;
  for (const auto& file : wal_files) bytes += file->SizeFileBytes();
  if (bytes < limits::kFlushOnCloseBytesMin) return;
  (void)db->Flush(rocksdb::FlushOptions());
}

}  // namespace tally::internal
