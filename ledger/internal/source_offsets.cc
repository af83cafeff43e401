#include "ledger/internal/source_offsets.h"

#include "events/check.h"
#include "events/limits.h"
#include "ledger/internal/keys.h"
#include "ledger/internal/rocks_status.h"

namespace tally::internal {

std::string EncodeSourceOffset(const ClusterOffset& offset) {
  TALLY_CHECK(offset.next_offset >= 0);
  TALLY_CHECK(offset.cluster.size() <= limits::kClusterIdBytesMax);
  std::string value = EncodeU64(static_cast<uint64_t>(offset.next_offset));
  value.append(offset.cluster);
  return value;
}

Result<std::optional<ClusterOffset>> ReadSourceOffset(rocksdb::DB* db, const std::string& topic,
                                                      int32_t partition) {
  std::string value;
  auto status = db->Get(rocksdb::ReadOptions(), OffsetKey(topic, partition), &value);
  if (status.IsNotFound()) return std::optional<ClusterOffset>();
  if (!status.ok()) return FromRocks(status, "reading a source offset");
  if (value.size() < kSeqBytes || value.size() > kSeqBytes + limits::kClusterIdBytesMax ||
      ReadU64(value) > static_cast<uint64_t>(INT64_MAX)) {
    return Status::Corruption("the stored offset of " + topic + "/" + std::to_string(partition) +
                              " is damaged");
  }
  return std::optional<ClusterOffset>(
      ClusterOffset{static_cast<int64_t>(ReadU64(value)), value.substr(kSeqBytes)});
}

}  // namespace tally::internal
