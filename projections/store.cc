// The projection store on RocksDB. Key layout, version 1
// (docs/formats/projections.md):
//
//   key                                   value
//   name 0x00 'r' row_key                 row (the projection's own bytes)
//   name 0x00 'c'                         checkpoint: seq:u64be hash:32 recorded_at:u64be
//   name 0x00 'm' seq:u64be               snapshot marker: recorded_at:u64be
//   name 0x00 's' seq:u64be row_key       a row as it was after seq
//   0x00 "format"                         u64be
//   0x00 "snapshot_every"                 u64be (fixed when the store is made)
#include "projections/store.h"

#include <rocksdb/db.h>
#include <rocksdb/file_system.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <limits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "events/big_endian.h"
#include "events/check.h"
#include "ledger/internal/flush_on_close.h"
#include "ledger/internal/info_log.h"
#include "ledger/internal/rocks_status.h"

namespace tally {
namespace {

using internal::FromRocks;

constexpr uint64_t kStoreFormat = 1;
constexpr std::string_view kFormatKey{"\0format", 7};
constexpr std::string_view kSnapshotEveryKey{"\0snapshot_every", 15};
constexpr size_t kCheckpointBytes = 8 + kHashBytes + 8;

std::string Space(std::string_view name) { return std::string(name) + '\0'; }
std::string RowPrefix(std::string_view name) { return Space(name) + 'r'; }
std::string CheckpointRowKey(std::string_view name) { return Space(name) + 'c'; }
std::string MarkerPrefix(std::string_view name) { return Space(name) + 'm'; }
std::string MarkerKey(std::string_view name, uint64_t seq) {
  std::string key = MarkerPrefix(name);
  AppendU64(&key, seq);
  return key;
}
std::string SnapshotPrefix(std::string_view name, uint64_t seq) {
  std::string key = Space(name) + 's';
  AppendU64(&key, seq);
  return key;
}

std::string EncodeCheckpoint(const ProjectionCheckpoint& checkpoint) {
  std::string value;
  AppendU64(&value, checkpoint.seq);
  value.append(reinterpret_cast<const char*>(checkpoint.hash.data()), kHashBytes);
  AppendU64(&value, static_cast<uint64_t>(checkpoint.recorded_at_micros));
  return value;
}

Result<ProjectionCheckpoint> DecodeCheckpoint(std::string_view name, std::string_view value) {
  if (value.size() != kCheckpointBytes) {
    return Status::Corruption("projection " + std::string(name) +
                              ": damaged checkpoint; run `tally rebuild " + std::string(name) +
                              "`");
  }
  ProjectionCheckpoint checkpoint;
  checkpoint.seq = ReadU64(value);
  std::copy_n(value.begin() + 8, kHashBytes, checkpoint.hash.begin());
  checkpoint.recorded_at_micros = static_cast<int64_t>(ReadU64(value.substr(8 + kHashBytes)));
  return checkpoint;
}

// Rows in a map: the scratch state of an as-of read.
class MapRows final : public Rows {
 public:
  explicit MapRows(RowMap& rows) : rows_(rows) {}
  Result<std::optional<std::string>> Get(std::string_view key) override {
    auto it = rows_.find(std::string(key));
    if (it == rows_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  void Put(std::string_view key, std::string_view value) override {
    rows_.insert_or_assign(std::string(key), std::string(value));
  }
  void Delete(std::string_view key) override { rows_.erase(std::string(key)); }

 private:
  RowMap& rows_;
};

// The rows a catch-up has read and written, over the store. Written rows
// stay in memory until the chunk is committed, each key once however often
// it changed; rows read stay cached for the rest of the catch-up, so the
// rows every event touches (a trial balance line, an account's running
// balance) are read from RocksDB once.
class PendingRows {
 public:
  explicit PendingRows(rocksdb::DB* db) : db_(db) {}

  Result<std::optional<std::string>> Get(const std::string& key) {
    if (auto it = dirty_.find(key); it != dirty_.end()) {
      clean_.try_emplace(key);  // cached once committed
      return it->second;
    }
    if (auto it = clean_.find(key); it != clean_.end()) return it->second;
    std::string value;
    auto status = db_->Get(rocksdb::ReadOptions(), key, &value);
    std::optional<std::string> found;
    if (status.ok()) {
      found = std::move(value);
    } else if (!status.IsNotFound()) {
      return FromRocks(status, "reading projection rows");
    }
    if (clean_.size() >= kCachedRowsMax) clean_.clear();
    clean_.emplace(key, found);
    return found;
  }
  void Put(std::string key, std::string value) { dirty_.insert_or_assign(std::move(key), value); }
  void Delete(std::string key) { dirty_.insert_or_assign(std::move(key), std::nullopt); }

  // The rows under `prefix` as they stand: the store's, then this chunk's.
  Result<RowMap> Current(const std::string& prefix) const {
    RowMap rows;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      rows.emplace(it->key().ToString().substr(prefix.size()), it->value().ToString());
    }
    if (auto status = FromRocks(it->status(), "reading projection rows"); !status.ok()) {
      return status;
    }
    for (const auto& [key, value] : dirty_) {
      if (!key.starts_with(prefix)) continue;
      if (value) {
        rows.insert_or_assign(key.substr(prefix.size()), *value);
      } else {
        rows.erase(key.substr(prefix.size()));
      }
    }
    return rows;
  }

  // Writes every pending row and `extra` in one write.
  Status Commit(rocksdb::WriteBatch& extra) {
    // In key order: the memtable inserts a sorted run far faster.
    std::vector<const std::pair<const std::string, std::optional<std::string>>*> sorted;
    sorted.reserve(dirty_.size());
    for (const auto& entry : dirty_) sorted.push_back(&entry);
    std::sort(sorted.begin(), sorted.end(),
              [](const auto* a, const auto* b) { return a->first < b->first; });
    for (const auto* entry : sorted) {
      const auto& [key, value] = *entry;
      TALLY_CHECK((value ? extra.Put(key, *value) : extra.Delete(key)).ok());
    }
    // Derived data: an unsynced write is redone by the next catch-up, and
    // RocksDB recovers whole writes, so rows and checkpoint stay together.
    auto status = db_->Write(rocksdb::WriteOptions(), &extra);
    if (!status.ok()) return FromRocks(status, "writing projections");
    // Rows read before stay cached with their new value; rows only written
    // (statement lines, invoices) are not read again.
    for (auto& [key, value] : dirty_) {
      if (auto it = clean_.find(key); it != clean_.end()) it->second = std::move(value);
    }
    dirty_.clear();
    return Status::Ok();
  }

 private:
  static constexpr size_t kCachedRowsMax = 1'000'000;
  rocksdb::DB* db_;
  std::unordered_map<std::string, std::optional<std::string>> dirty_;
  std::unordered_map<std::string, std::optional<std::string>> clean_;
};

// The rows of one projection within PendingRows.
class ProjectionRows final : public Rows {
 public:
  ProjectionRows(PendingRows* pending, std::string prefix)
      : pending_(pending), prefix_(std::move(prefix)) {}
  Result<std::optional<std::string>> Get(std::string_view key) override {
    return pending_->Get(Key(key));
  }
  void Put(std::string_view key, std::string_view value) override {
    pending_->Put(Key(key), std::string(value));
  }
  void Delete(std::string_view key) override { pending_->Delete(Key(key)); }

 private:
  std::string Key(std::string_view key) const { return prefix_ + std::string(key); }
  PendingRows* pending_;
  std::string prefix_;
};

// `log_dir`: where the store's LOG goes; empty for a reader, which leaves
// the writer's LOG alone and logs nothing.
rocksdb::Options StoreOptions(const std::string& log_dir, rocksdb::Env* env) {
  rocksdb::Options options;
  options.create_if_missing = true;
  if (env != nullptr) options.env = env;
  // RocksDB's own logger aborts the process on a full disk (ledger/internal/info_log.h).
  options.info_log_level = rocksdb::InfoLogLevel::INFO_LEVEL;
  options.info_log =
      log_dir.empty()
          ? internal::NewSilentInfoLog()
          : internal::NewInfoLog(
                (env != nullptr ? env : rocksdb::Env::Default())->GetFileSystem().get(), log_dir);
  options.paranoid_checks = true;
  options.IncreaseParallelism(2);
  // Catch-up reads rows by key, many of them not there yet (a new account,
  // a new month): a bloom filter answers those without a data block.
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

}  // namespace

class ProjectionStore::Impl {
 public:
  Impl(const Log& log, std::unique_ptr<rocksdb::DB> db, uint64_t snapshot_every)
      : log_(log), db_(std::move(db)), snapshot_every_(snapshot_every) {}
  ~Impl() {
    // As the ledger: a clean close leaves little for a reader to replay.
    if (db_ != nullptr && secondary_dir_.empty()) internal::FlushIfLarge(db_.get());
    db_.reset();
    if (!secondary_dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(secondary_dir_, ignored);
    }
  }

  Status LoadCheckpoints();
  Result<uint64_t> CatchUp(const std::vector<const Projection*>& projections,
                           const ProgressFn& progress);
  Status Drop(const Projection& projection);
  Status Usable(std::string_view name) const;
  Result<RowMap> RowsAsOf(const Projection& projection, const LogRange& range) const;
  Status Scan(std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& visit) const;

  const Log& log_;
  std::unique_ptr<rocksdb::DB> db_;
  const uint64_t snapshot_every_;
  std::map<std::string, ProjectionCheckpoint, std::less<>> checkpoints_;
  // Projections whose checkpoint does not match the log, with the reason.
  std::map<std::string, Status, std::less<>> unusable_;
  bool ahead_ = false;  // a checkpoint is past the log's head
  Status lost_;         // when ahead_: the seqs the log lost, named
  // Read-only (a secondary of the store another process writes): the rows
  // the store lacks up to the log's head, folded in memory by CatchUp and
  // never written; reads see the store through them. checkpoints_ then
  // count them, stored_checkpoints_ are the store's own.
  std::unique_ptr<PendingRows> overlay_;
  std::map<std::string, ProjectionCheckpoint, std::less<>> stored_checkpoints_;
  std::string secondary_dir_;  // removed on close

 private:
  Status Snapshot(const Projection& projection, uint64_t seq, int64_t recorded_at_micros,
                  PendingRows& pending) const;
  // Counts `reached` in the checkpoints, and writes the chunk unless read-only.
  Status Commit(PendingRows& pending, const std::vector<const Projection*>& projections,
                const ProjectionCheckpoint& reached);
  Status Write(PendingRows& pending, const std::vector<const Projection*>& projections,
               const ProjectionCheckpoint& reached);
};

Status ProjectionStore::Impl::LoadCheckpoints() {
  checkpoints_.clear();
  unusable_.clear();
  ahead_ = false;
  for (const Projection* projection : AllProjections()) {
    std::string name(projection->name());
    std::string value;
    auto status = db_->Get(rocksdb::ReadOptions(), CheckpointRowKey(name), &value);
    if (status.IsNotFound()) {
      checkpoints_[name] = {};
      continue;
    }
    if (!status.ok()) return FromRocks(status, "reading projection checkpoints");
    auto checkpoint = DecodeCheckpoint(name, value);
    if (!checkpoint.ok()) {
      unusable_[name] = checkpoint.status();
      checkpoints_[name] = {};
      continue;
    }
    checkpoints_[name] = *checkpoint;
    if (checkpoint->seq == 0) {  // never written: a projection at 0 has no checkpoint
      unusable_[name] = Status::Corruption(
          "projection " + name + ": damaged checkpoint; run `tally rebuild " + name + "`");
      continue;
    }
    if (checkpoint->seq > log_.head_seq()) {
      // Either the log lost acknowledged events (a writer must stop, and
      // neither a catch-up nor a rebuild may overwrite the last record of
      // them: LostHistory), or, for a reader, another process caught the
      // store up past the log this one opened (a reader opens both again).
      const uint64_t head = log_.head_seq();
      ahead_ = true;
      lost_ = Status::Corruption(
          "the log ends at seq " + std::to_string(head) + " but the projections have seen seq " +
          std::to_string(checkpoint->seq) + " (projection " + name + "): seqs " +
          std::to_string(head + 1) + ".." + std::to_string(checkpoint->seq) +
          " were lost from the log (a damaged or truncated write-ahead log, or a log restored "
          "from an older backup). Restore the log from a backup that holds them; do not run "
          "`tally rebuild`, which would erase the projections' record of them "
          "(docs/ledger.md, \"Lost history\")");
      unusable_[name] = lost_;
      continue;
    }
    // The log must hold the same event at the checkpoint's seq.
    std::optional<Hash> log_hash;
    auto scanned = log_.Scan(checkpoint->seq, [&](const LoggedEvent& event) {
      if (event.seq == checkpoint->seq) log_hash = event.hash;
      return false;
    });
    if (!scanned.ok()) return scanned;
    if (log_hash != checkpoint->hash) {
      unusable_[name] = Status::Corruption(
          "projection " + name + " was built from another log (its checkpoint at seq " +
          std::to_string(checkpoint->seq) + " does not match); run `tally rebuild " + name + "`");
    }
  }
  return Status::Ok();
}

Status ProjectionStore::Impl::Usable(std::string_view name) const {
  auto it = unusable_.find(name);
  return it == unusable_.end() ? Status::Ok() : it->second;
}

Status ProjectionStore::Impl::Snapshot(const Projection& projection, uint64_t seq,
                                       int64_t recorded_at_micros, PendingRows& pending) const {
  auto rows = pending.Current(RowPrefix(projection.name()));
  if (!rows.ok()) return rows.status();
  const std::string snapshot = SnapshotPrefix(projection.name(), seq);
  for (const auto& [key, value] : *rows) pending.Put(snapshot + key, value);
  pending.Put(MarkerKey(projection.name(), seq),
              EncodeU64(static_cast<uint64_t>(recorded_at_micros)));
  return Status::Ok();
}

Status ProjectionStore::Impl::Commit(PendingRows& pending,
                                     const std::vector<const Projection*>& projections,
                                     const ProjectionCheckpoint& reached) {
  if (overlay_ == nullptr) {
    if (auto status = Write(pending, projections, reached); !status.ok()) return status;
  }
  for (const Projection* projection : projections) {
    ProjectionCheckpoint& checkpoint = checkpoints_.at(std::string(projection->name()));
    if (checkpoint.seq < reached.seq) checkpoint = reached;
  }
  return Status::Ok();
}

Status ProjectionStore::Impl::Write(PendingRows& pending,
                                    const std::vector<const Projection*>& projections,
                                    const ProjectionCheckpoint& reached) {
  rocksdb::WriteBatch checkpoints;
  for (const Projection* projection : projections) {
    if (checkpoints_.at(std::string(projection->name())).seq >= reached.seq) continue;
    TALLY_CHECK(
        checkpoints.Put(CheckpointRowKey(projection->name()), EncodeCheckpoint(reached)).ok());
  }
  return pending.Commit(checkpoints);
}

Result<uint64_t> ProjectionStore::Impl::CatchUp(const std::vector<const Projection*>& projections,
                                                const ProgressFn& progress) {
  const uint64_t head = log_.head_seq();
  uint64_t from = head + 1;
  for (const Projection* projection : projections) {
    if (auto usable = Usable(projection->name()); !usable.ok()) return usable;
    const ProjectionCheckpoint& checkpoint = checkpoints_.at(std::string(projection->name()));
    TALLY_CHECK(checkpoint.seq <= head);  // the log only grows; LoadCheckpoints refused more
    from = std::min(from, checkpoint.seq + 1);
  }
  if (from > head) return uint64_t{0};
  const uint64_t total = head - from + 1;
  PendingRows local(db_.get());
  PendingRows& pending = overlay_ != nullptr ? *overlay_ : local;
  std::vector<ProjectionRows> rows;
  rows.reserve(projections.size());
  for (const Projection* projection : projections) {
    rows.emplace_back(&pending, RowPrefix(projection->name()));
  }
  std::vector<uint64_t> applied;  // per projection, its checkpoint when catch-up began
  for (const Projection* projection : projections) {
    applied.push_back(checkpoints_.at(std::string(projection->name())).seq);
  }
  uint64_t done = 0;
  uint64_t in_chunk = 0;
  Status result;
  auto scanned = log_.Scan(from, [&](const LoggedEvent& event) {
    for (size_t i = 0; i < projections.size() && result.ok(); ++i) {
      const Projection& projection = *projections[i];
      if (applied[i] >= event.seq) continue;
      if (projection.Consumes(event)) result = projection.Apply(event, rows[i]);
      if (result.ok() && projection.keeps_snapshots() && overlay_ == nullptr &&
          event.seq % snapshot_every_ == 0) {
        result = Snapshot(projection, event.seq, event.recorded_at_micros, pending);
      }
    }
    ++done;
    if (result.ok() && (++in_chunk == limits::kProjectionChunkEvents || event.seq == head)) {
      result = Commit(pending, projections, {event.seq, event.hash, event.recorded_at_micros});
      in_chunk = 0;
      if (progress) progress(done, total);
    }
    return result.ok() && event.seq < head;
  });
  if (!scanned.ok()) return scanned;
  if (!result.ok()) return result;
  TALLY_CHECK(in_chunk == 0);
  return done;
}

Status ProjectionStore::Impl::Drop(const Projection& projection) {
  std::string begin = Space(projection.name());
  std::string end = begin;
  end.back() = '\1';
  auto status = db_->DeleteRange(rocksdb::WriteOptions(), db_->DefaultColumnFamily(), begin, end);
  if (!status.ok())
    return FromRocks(status, "dropping projection " + std::string(projection.name()));
  checkpoints_[std::string(projection.name())] = {};
  unusable_.erase(std::string(projection.name()));
  return Status::Ok();
}

Status ProjectionStore::Impl::Scan(
    std::string_view prefix,
    const std::function<bool(std::string_view, std::string_view)>& visit) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}));
  rocksdb::Slice start(prefix.data(), prefix.size());
  for (it->Seek(start); it->Valid() && it->key().starts_with(start); it->Next()) {
    if (!visit(it->key().ToStringView(), it->value().ToStringView())) break;
  }
  return FromRocks(it->status(), "reading projections");
}

Result<RowMap> ProjectionStore::Impl::RowsAsOf(const Projection& projection,
                                               const LogRange& range) const {
  if (auto usable = Usable(projection.name()); !usable.ok()) return usable;
  // The store's rows and snapshots, never the overlay: the log is folded on them.
  const ProjectionCheckpoint& checkpoint =
      (overlay_ != nullptr ? stored_checkpoints_ : checkpoints_).at(std::string(projection.name()));
  RowMap rows;
  uint64_t base_seq = 0;
  std::string prefix;
  if (range.at_seq >= checkpoint.seq && range.as_of_micros >= checkpoint.recorded_at_micros) {
    base_seq = checkpoint.seq;
    prefix = RowPrefix(projection.name());
  } else {
    // The latest snapshot inside the range (recorded_at grows with seq).
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}));
    const std::string markers = MarkerPrefix(projection.name());
    for (it->SeekForPrev(MarkerKey(projection.name(), std::min(range.at_seq, checkpoint.seq)));
         it->Valid() && it->key().starts_with(markers); it->Prev()) {
      if (it->value().size() != 8 || it->key().size() != markers.size() + 8) {
        return Status::Corruption("projection " + std::string(projection.name()) +
                                  ": damaged snapshot marker; run `tally rebuild " +
                                  std::string(projection.name()) + "`");
      }
      if (static_cast<int64_t>(ReadU64(it->value().ToStringView())) <= range.as_of_micros) {
        base_seq = ReadU64(it->key().ToStringView().substr(markers.size()));
        prefix = SnapshotPrefix(projection.name(), base_seq);
        break;
      }
    }
    if (auto status = FromRocks(it->status(), "reading snapshots"); !status.ok()) return status;
  }
  if (!prefix.empty()) {
    auto status = Scan(prefix, [&](std::string_view key, std::string_view value) {
      rows.emplace(key.substr(prefix.size()), value);
      return true;
    });
    if (!status.ok()) return status;
  }
  MapRows scratch(rows);
  Status result;
  auto scanned = log_.Scan(base_seq + 1, [&](const LoggedEvent& event) {
    if (!range.Contains(event)) return false;  // recorded_at never decreases
    if (projection.Consumes(event)) result = projection.Apply(event, scratch);
    return result.ok();
  });
  if (!scanned.ok()) return scanned;
  if (!result.ok()) return result;
  return rows;
}

ProjectionStore::ProjectionStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProjectionStore::~ProjectionStore() = default;

namespace {

std::string StoreDir(const std::string& ledger_data_dir, const ProjectionOptions& options) {
  return options.dir.empty() ? (std::filesystem::path(ledger_data_dir) / "projections").string()
                             : options.dir;
}

// Checks the store's format (writing it into a new store when `writable`)
// and returns its snapshot interval.
Result<uint64_t> ReadSettings(rocksdb::DB* db, const std::string& dir,
                              const ProjectionOptions& options, bool writable) {
  std::string value;
  auto status = db->Get(rocksdb::ReadOptions(), kFormatKey, &value);
  if (status.IsNotFound() && writable) {
    rocksdb::WriteBatch batch;
    TALLY_CHECK(batch.Put(kFormatKey, EncodeU64(kStoreFormat)).ok());
    TALLY_CHECK(batch.Put(kSnapshotEveryKey, EncodeU64(options.snapshot_every_events)).ok());
    status = db->Write(rocksdb::WriteOptions(), &batch);
    if (!status.ok()) return FromRocks(status, "creating projections in " + dir);
  } else if (status.IsNotFound()) {
    return Status::Unavailable("projections in " + dir + " are being created");
  } else if (!status.ok()) {
    return FromRocks(status, "opening projections in " + dir);
  } else if (value.size() != 8 || ReadU64(value) != kStoreFormat) {
    return Status::Corruption("projections in " + dir +
                              " have an unknown format; delete the directory and run "
                              "`tally rebuild`");
  }
  status = db->Get(rocksdb::ReadOptions(), kSnapshotEveryKey, &value);
  if (!status.ok() || value.size() != 8 || ReadU64(value) == 0) {
    return Status::Corruption("projections in " + dir + ": damaged settings");
  }
  return ReadU64(value);
}

// A directory of its own for a secondary instance's files.
std::string NewSecondaryDir() {
  static std::atomic<uint64_t> opened{0};
  return (std::filesystem::temp_directory_path() /
          ("tally-projections-" + std::to_string(getpid()) + "-" + std::to_string(++opened)))
      .string();
}

}  // namespace

Result<std::unique_ptr<ProjectionStore>> ProjectionStore::Open(const Log& log,
                                                               const std::string& ledger_data_dir,
                                                               const ProjectionOptions& options) {
  TALLY_CHECK(options.snapshot_every_events > 0 &&
              options.snapshot_every_events <= limits::kSnapshotEveryEventsMax);
  const std::string dir = StoreDir(ledger_data_dir, options);
  rocksdb::DB* raw = nullptr;
  auto status = rocksdb::DB::Open(StoreOptions(dir, options.env), dir, &raw);
  if (status.IsIOError() && status.ToString().find("/LOCK") != std::string::npos) {
    return Status::Unavailable("projections in " + dir + " are in use by another process");
  }
  if (!status.ok()) return FromRocks(status, "opening projections in " + dir);
  std::unique_ptr<rocksdb::DB> db(raw);
  auto snapshot_every = ReadSettings(db.get(), dir, options, /*writable=*/true);
  if (!snapshot_every.ok()) return snapshot_every.status();
  auto impl = std::make_unique<Impl>(log, std::move(db), *snapshot_every);
  if (auto loaded = impl->LoadCheckpoints(); !loaded.ok()) return loaded;
  return std::unique_ptr<ProjectionStore>(new ProjectionStore(std::move(impl)));
}

Result<std::unique_ptr<ProjectionStore>> ProjectionStore::OpenForReading(
    const Log& log, const std::string& ledger_data_dir, const ProjectionOptions& options) {
  const std::string dir = StoreDir(ledger_data_dir, options);
  const std::string secondary = NewSecondaryDir();
  auto remove_secondary = [&] {
    std::error_code ignored;
    std::filesystem::remove_all(secondary, ignored);
  };
  rocksdb::Options db_options = StoreOptions(/*log_dir=*/"", options.env);
  db_options.create_if_missing = false;
  db_options.max_open_files = -1;  // a secondary keeps every table file open
  rocksdb::DB* raw = nullptr;
  auto status = rocksdb::DB::OpenAsSecondary(db_options, dir, secondary, &raw);
  std::unique_ptr<rocksdb::DB> db(raw);
  Result<uint64_t> snapshot_every =
      status.ok() ? ReadSettings(db.get(), dir, options, /*writable=*/false)
                  : FromRocks(status, "opening projections in " + dir + " for reading");
  if (!snapshot_every.ok()) {
    db.reset();
    remove_secondary();
    return snapshot_every.status();
  }
  auto impl = std::make_unique<Impl>(log, std::move(db), *snapshot_every);
  impl->secondary_dir_ = secondary;  // removed with impl
  if (auto loaded = impl->LoadCheckpoints(); !loaded.ok()) return loaded;
  impl->stored_checkpoints_ = impl->checkpoints_;
  impl->overlay_ = std::make_unique<PendingRows>(impl->db_.get());
  return std::unique_ptr<ProjectionStore>(new ProjectionStore(std::move(impl)));
}

bool ProjectionStore::ahead_of_log() const { return impl_->ahead_; }

bool ProjectionStore::all_stored() const {
  if (impl_->overlay_ == nullptr) return true;
  for (const auto& [name, checkpoint] : impl_->checkpoints_) {
    auto stored = impl_->stored_checkpoints_.find(name);
    if (stored == impl_->stored_checkpoints_.end() || stored->second.seq != checkpoint.seq) {
      return false;
    }
  }
  return true;
}

Status ProjectionStore::LostHistory() const { return impl_->ahead_ ? impl_->lost_ : Status::Ok(); }

Result<uint64_t> ProjectionStore::CatchUp(const ProgressFn& progress) {
  return impl_->CatchUp(AllProjections(), progress);
}

Status ProjectionStore::Rebuild(std::span<const std::string> names, const ProgressFn& progress) {
  TALLY_CHECK(impl_->overlay_ == nullptr);
  std::vector<const Projection*> chosen;
  for (const std::string& name : names) {
    const Projection* projection = FindProjection(name);
    if (projection == nullptr) return Status::InvalidArgument("no projection named " + name);
    chosen.push_back(projection);
  }
  if (chosen.empty()) chosen = AllProjections();
  for (const Projection* projection : chosen) {
    if (auto dropped = impl_->Drop(*projection); !dropped.ok()) return dropped;
  }
  auto caught_up = impl_->CatchUp(chosen, progress);
  return caught_up.ok() ? Status::Ok() : caught_up.status();
}

Result<ProjectionCheckpoint> ProjectionStore::Checkpoint(std::string_view name) const {
  if (FindProjection(name) == nullptr) {
    return Status::InvalidArgument("no projection named " + std::string(name));
  }
  if (auto usable = impl_->Usable(name); !usable.ok()) return usable;
  return impl_->checkpoints_.at(std::string(name));
}

Result<RowMap> ProjectionStore::RowsAsOf(std::string_view name, const LogRange& range) const {
  const Projection* projection = FindProjection(name);
  TALLY_CHECK(projection != nullptr && projection->keeps_snapshots());
  return impl_->RowsAsOf(*projection, range);
}

Status ProjectionStore::ScanRows(
    std::string_view name, std::string_view prefix,
    const std::function<bool(std::string_view key, std::string_view value)>& visit,
    std::string_view start) const {
  if (auto usable = impl_->Usable(name); !usable.ok()) return usable;
  const std::string rows = RowPrefix(name);
  const std::string scanned = rows + std::string(prefix);
  if (impl_->overlay_ != nullptr) {
    auto current = impl_->overlay_->Current(scanned);
    if (!current.ok()) return current.status();
    for (auto it = current->lower_bound(std::string(start)); it != current->end(); ++it) {
      if (!visit(std::string(prefix) + it->first, it->second)) break;
    }
    return Status::Ok();
  }
  std::unique_ptr<rocksdb::Iterator> it(impl_->db_->NewIterator({}));
  for (it->Seek(scanned + std::string(start)); it->Valid() && it->key().starts_with(scanned);
       it->Next()) {
    if (!visit(it->key().ToStringView().substr(rows.size()), it->value().ToStringView())) break;
  }
  return FromRocks(it->status(), "reading projection " + std::string(name));
}

Result<std::optional<std::pair<std::string, std::string>>> ProjectionStore::LastRow(
    std::string_view name, std::string_view prefix, std::string_view key) const {
  if (auto usable = impl_->Usable(name); !usable.ok()) return usable;
  const std::string rows = RowPrefix(name);
  if (impl_->overlay_ != nullptr) {
    auto current = impl_->overlay_->Current(rows + std::string(prefix));
    if (!current.ok()) return current.status();
    std::optional<std::pair<std::string, std::string>> last;
    for (const auto& [suffix, value] : *current) {
      std::string full = std::string(prefix) + suffix;
      if (full > key) break;
      last.emplace(std::move(full), value);
    }
    return last;
  }
  std::unique_ptr<rocksdb::Iterator> it(impl_->db_->NewIterator({}));
  it->SeekForPrev(rows + std::string(key));
  std::optional<std::pair<std::string, std::string>> found;
  if (it->Valid() && it->key().starts_with(rows + std::string(prefix))) {
    found.emplace(it->key().ToString().substr(rows.size()), it->value().ToString());
  }
  if (auto status = FromRocks(it->status(), "reading projection " + std::string(name));
      !status.ok()) {
    return status;
  }
  return found;
}

Result<std::optional<std::string>> ProjectionStore::GetRow(std::string_view name,
                                                           std::string_view key) const {
  if (auto usable = impl_->Usable(name); !usable.ok()) return usable;
  if (impl_->overlay_ != nullptr) return impl_->overlay_->Get(RowPrefix(name) + std::string(key));
  std::string value;
  auto status = impl_->db_->Get(rocksdb::ReadOptions(), RowPrefix(name) + std::string(key), &value);
  if (status.IsNotFound()) return std::optional<std::string>();
  if (!status.ok()) return FromRocks(status, "reading projection " + std::string(name));
  return std::optional<std::string>(std::move(value));
}

Status ProjectionStore::ScanStored(
    std::string_view name,
    const std::function<void(std::string_view key, std::string_view value)>& visit) const {
  return impl_->Scan(Space(name), [&](std::string_view key, std::string_view value) {
    visit(key, value);
    return true;
  });
}

const Log& ProjectionStore::log() const { return impl_->log_; }
uint64_t ProjectionStore::snapshot_every_events() const { return impl_->snapshot_every_; }

namespace {

// A key as text: printable bytes as they are, others as \xNN.
std::string Printable(std::string_view key) {
  std::string out;
  for (char c : key) {
    auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
      out.push_back(c);
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 15]);
    }
  }
  return out;
}

}  // namespace

Result<ProjectionDifference> ProjectionStore::CompareWith(const ProjectionStore& other) const {
  for (const Projection* projection : AllProjections()) {
    const std::string space = Space(projection->name());
    std::unique_ptr<rocksdb::Iterator> a(impl_->db_->NewIterator({}));
    std::unique_ptr<rocksdb::Iterator> b(other.impl_->db_->NewIterator({}));
    auto in_space = [&](const rocksdb::Iterator& it) {
      return it.Valid() && it.key().starts_with(space);
    };
    std::string difference;
    for (a->Seek(space), b->Seek(space); in_space(*a) || in_space(*b); a->Next(), b->Next()) {
      if (!in_space(*a) || !in_space(*b) || a->key() != b->key()) {
        rocksdb::Slice key =
            !in_space(*b) || (in_space(*a) && a->key().compare(b->key()) < 0) ? a->key() : b->key();
        difference = "key " + Printable(key.ToStringView()) + " is in one store only";
        break;
      }
      if (a->value() != b->value()) {
        difference = "row " + Printable(a->key().ToStringView()) + " differs";
        break;
      }
    }
    for (const auto* it : {a.get(), b.get()}) {
      if (auto status = FromRocks(it->status(), "comparing projections"); !status.ok()) {
        return status;
      }
    }
    if (!difference.empty()) {
      return ProjectionDifference{std::string(projection->name()), difference};
    }
  }
  return ProjectionDifference{};
}

Result<ProjectionDifference> VerifyProjections(const ProjectionStore& live,
                                               const std::string& scratch_dir,
                                               const ProgressFn& progress) {
  const uint64_t head = live.log().head_seq();
  for (const Projection* projection : AllProjections()) {
    auto checkpoint = live.Checkpoint(projection->name());
    if (!checkpoint.ok())
      return ProjectionDifference{std::string(projection->name()), checkpoint.status().message()};
    if (checkpoint->seq != head) {
      return Status::Unavailable("projection " + std::string(projection->name()) +
                                 " is not caught up to the head");
    }
  }
  if (std::filesystem::exists(scratch_dir)) {
    return Status::IoError(scratch_dir + " already exists");
  }
  Result<ProjectionDifference> result = ProjectionDifference{};
  {
    ProjectionOptions options;
    options.dir = scratch_dir;
    options.snapshot_every_events = live.snapshot_every_events();
    auto scratch = ProjectionStore::Open(live.log(), "", options);
    if (!scratch.ok()) return scratch.status();
    auto built = (*scratch)->CatchUp(progress);
    result =
        built.ok() ? live.CompareWith(**scratch) : Result<ProjectionDifference>(built.status());
  }
  std::error_code ignored;
  std::filesystem::remove_all(scratch_dir, ignored);
  return result;
}

}  // namespace tally
