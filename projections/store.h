// The projection store: every projection's rows, checkpoint and snapshots in
// one RocksDB beside the log (<data_dir>/projections by default). It is
// derived data: deleting it loses nothing, `Rebuild` makes it again.
//
// Catch-up reads the log after each projection's checkpoint and writes the
// changed rows with the new checkpoint (seq, chain hash, recorded_at) in one
// synced write per chunk of events, so a crash leaves every projection at a
// seq it fully applied. A checkpoint whose hash is not the log's hash at
// that seq means the store was built from another log: reads refuse it and
// say which projection to rebuild.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "events/limits.h"
#include "events/status.h"
#include "ledger/ledger.h"
#include "projections/log_range.h"
#include "projections/projection.h"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace tally {

struct ProjectionOptions {
  std::string dir;  // empty: <data_dir of the ledger>/projections
  // Aggregates snapshot their rows after every seq divisible by this, so an
  // as-of read folds at most this many events (<= kSnapshotEveryEventsMax).
  uint64_t snapshot_every_events = limits::kSnapshotEveryEventsDefault;
  // The RocksDB environment the store's files go through; nullptr: the
  // local disk. Tests pass one that fails on purpose. Not owned.
  rocksdb::Env* env = nullptr;
};

// (events applied so far, events to apply); called after every chunk.
using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

using RowMap = std::map<std::string, std::string>;

struct ProjectionCheckpoint {
  uint64_t seq = 0;  // last seq applied; 0: nothing yet
  Hash hash{};       // the log's chain hash at seq
  int64_t recorded_at_micros = 0;
};

struct ProjectionDifference {
  std::string projection;  // empty: no difference
  std::string detail;      // the first differing key, printable
};

class ProjectionStore {
 public:
  // Opens (or creates) the store of `log`, which must outlive it, for
  // writing. Unavailable when another process has it open so (its lock).
  static Result<std::unique_ptr<ProjectionStore>> Open(const Log& log,
                                                       const std::string& ledger_data_dir,
                                                       const ProjectionOptions& options = {});
  // Opens the store of `log` for reading only, as a RocksDB secondary: it
  // takes no lock, so it opens while another process writes the store.
  // CatchUp then folds what the store lacks up to the log's head in memory
  // (nothing is written), and every read sees the store with it.
  static Result<std::unique_ptr<ProjectionStore>> OpenForReading(
      const Log& log, const std::string& ledger_data_dir, const ProjectionOptions& options = {});
  ~ProjectionStore();
  ProjectionStore(const ProjectionStore&) = delete;
  ProjectionStore& operator=(const ProjectionStore&) = delete;

  // Applies the log after each checkpoint up to the log's head. Returns
  // how many events were read.
  Result<uint64_t> CatchUp(const ProgressFn& progress = {});

  // Drops the named projections (empty: all) and folds them again from
  // seq 1 up to the head. InvalidArgument for an unknown name.
  // REQUIRES: opened with Open.
  Status Rebuild(std::span<const std::string> names, const ProgressFn& progress = {});

  Result<ProjectionCheckpoint> Checkpoint(std::string_view name) const;

  // The rows of `name` for the log prefix `range`: current rows when the
  // range reaches the checkpoint, else the nearest snapshot at or before
  // it; then the log folded forward to the range's end.
  // Only for projections that keep snapshots.
  Result<RowMap> RowsAsOf(std::string_view name, const LogRange& range) const;

  // Current rows of `name` whose key starts with `prefix`, in key order from
  // prefix + `start` on, until `visit` returns false.
  Status ScanRows(std::string_view name, std::string_view prefix,
                  const std::function<bool(std::string_view key, std::string_view value)>& visit,
                  std::string_view start = {}) const;
  // The last current row of `name` with key <= `key` that starts with
  // `prefix`, as (key, value); nullopt if none.
  Result<std::optional<std::pair<std::string, std::string>>> LastRow(std::string_view name,
                                                                     std::string_view prefix,
                                                                     std::string_view key) const;
  Result<std::optional<std::string>> GetRow(std::string_view name, std::string_view key) const;

  // Every stored byte of `name` (rows, snapshots, checkpoint) in key order:
  // what rebuild-equals-live compares.
  Status ScanStored(
      std::string_view name,
      const std::function<void(std::string_view key, std::string_view value)>& visit) const;

  // Whether a checkpoint is past the log's head: the log was opened before
  // another process caught the store up further. Open the log again, then
  // the store.
  bool ahead_of_log() const;
  // Whether every event the store reflects is in its stored bytes: false
  // when a store opened for reading folded a tail in memory (ScanStored and
  // VerifyProjections see only stored bytes).
  bool all_stored() const;
  // When ahead_of_log() in a process that owns the log for writing (no one
  // else can have appended): the log lost acknowledged seqs. Corruption
  // naming them, else Ok. Appending or rebuilding then would hide the loss.
  Status LostHistory() const;

  const Log& log() const;
  uint64_t snapshot_every_events() const;

  // Compares every projection's stored bytes with `other`'s: the first
  // difference, or an empty `projection` when they are the same.
  Result<ProjectionDifference> CompareWith(const ProjectionStore& other) const;

 private:
  class Impl;
  explicit ProjectionStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Rebuilds every projection from seq 1 into a new store in `scratch_dir`
// (which must not exist; removed afterwards) and compares it with `live`,
// which must be caught up to the ledger's head.
Result<ProjectionDifference> VerifyProjections(const ProjectionStore& live,
                                               const std::string& scratch_dir,
                                               const ProgressFn& progress = {});

}  // namespace tally
