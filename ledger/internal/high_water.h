// The log's high-water mark: the highest seq (and its chain hash) ever
// acknowledged, kept in a small synced file beside the log's RocksDB and
// outside its write-ahead log, so that a log that lost acknowledged events
// (a truncated WAL, a log restored from an older backup) is refused on open
// instead of reusing the lost seqs (docs/formats/log.md, "High-water mark").
//
//   file  := slot slot                                   (128 bytes)
//   slot  := magic:"TALLYHW1" seq:u64be hash:32 check:16 (64 bytes)
//   check := BLAKE2b-128(magic ‖ seq ‖ hash)
//
// Writes alternate between the slots and are synced before the append is
// acknowledged; a write torn by a crash damages one slot only, and the other
// still holds the mark before it. A slot of zero bytes was never written.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "events/status.h"
#include "ledger/ledger.h"

namespace rocksdb {
class FileSystem;
class FSRandomRWFile;
}  // namespace rocksdb

namespace tally::internal {

inline constexpr size_t kHighWaterSlotBytes = 64;
inline constexpr size_t kHighWaterFileBytes = 2 * kHighWaterSlotBytes;

struct HighWater {
  uint64_t seq = 0;
  Hash hash{};
};

// Where the mark of the log in `data_dir` lives.
std::string HighWaterPath(const std::string& data_dir);

// The mark in `data_dir`; nullopt when there is no file (a log made before
// marks were kept, or a new one). Corruption when both slots are damaged.
Result<std::optional<HighWater>> ReadHighWater(rocksdb::FileSystem* fs,
                                               const std::string& data_dir);

// Ok when the log (head `head_seq`, first live seq `first_seq`, chain hash
// at the mark's seq `hash_at_mark` if the live log holds it) holds every
// acknowledged seq; else Corruption naming the lost range and what to do.
Status CheckHighWater(const HighWater& mark, uint64_t head_seq,
                      const std::optional<Hash>& hash_at_mark, const std::string& data_dir);

// The open mark file of a ledger that writes. Not thread-safe: the group
// commit's leader writes it.
class HighWaterFile {
 public:
  // Opens the file in `data_dir`, creating it (synced, with its directory)
  // holding `current` when it is missing.
  static Result<std::unique_ptr<HighWaterFile>> Open(rocksdb::FileSystem* fs,
                                                     const std::string& data_dir,
                                                     const HighWater& current);
  ~HighWaterFile();
  HighWaterFile(const HighWaterFile&) = delete;
  HighWaterFile& operator=(const HighWaterFile&) = delete;

  // Writes `mark` over the older slot and syncs it. REQUIRES: mark.seq >=
  // the last mark written. IoError if it did not reach the disk.
  Status Write(const HighWater& mark);
  // The last mark on disk.
  uint64_t seq() const { return seq_; }

 private:
  HighWaterFile(std::unique_ptr<rocksdb::FSRandomRWFile> file, std::string path, int next_slot,
                uint64_t seq);
  std::unique_ptr<rocksdb::FSRandomRWFile> file_;
  const std::string path_;
  int next_slot_;  // 0 or 1: the slot the next Write overwrites
  uint64_t seq_;   // the last mark on disk
};

}  // namespace tally::internal
