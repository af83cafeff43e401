// Source offsets as stored in the log (docs/formats/log.md):
//
//   'O' topic 0x00 partition:u32be   next_offset:u64be [cluster]
//
// `cluster` is the identity of the Kafka cluster the offset is of (the rest
// of the value, 0..limits::kClusterIdBytesMax bytes). Offsets stored before
// clusters were recorded are 8 bytes: their cluster reads as empty.
#pragma once

#include <rocksdb/db.h>

#include <optional>
#include <string>

#include "events/status.h"
#include "ledger/ledger.h"

namespace tally::internal {

// The value stored for `offset` (its topic and partition are in the key).
// REQUIRES: offset.next_offset >= 0,
//           offset.cluster.size() <= limits::kClusterIdBytesMax.
std::string EncodeSourceOffset(const ClusterOffset& offset);

// The offset stored for (topic, partition); nullopt if none was.
Result<std::optional<ClusterOffset>> ReadSourceOffset(rocksdb::DB* db, const std::string& topic,
                                                      int32_t partition);

}  // namespace tally::internal
