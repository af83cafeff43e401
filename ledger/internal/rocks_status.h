// RocksDB statuses as ours; shared by the log and the projection store.
#pragma once

#include <rocksdb/status.h>

#include <string>

#include "events/status.h"

namespace tally::internal {

inline Status FromRocks(const rocksdb::Status& status, const std::string& what) {
  if (status.ok()) return Status::Ok();
  if (status.IsCorruption()) return Status::Corruption(what + ": " + status.ToString());
  return Status::IoError(what + ": " + status.ToString());
}

}  // namespace tally::internal
