// The Ledger on RocksDB: group commit of appends, replay on open, reads on snapshots.
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <thread>

#include "events/personal.h"
#include "events/timestamp.h"
#include "ledger/internal/amounts.h"
#include "ledger/internal/batch.h"
#include "ledger/internal/decider.h"
#include "ledger/internal/flush_on_close.h"
#include "ledger/internal/high_water.h"
#include "ledger/internal/info_log.h"
#include "ledger/internal/keys.h"
#include "ledger/internal/outbox.h"
#include "ledger/internal/record.h"
#include "ledger/internal/replay.h"
#include "ledger/internal/segment.h"
#include "ledger/internal/source_offsets.h"
#include "ledger/personal.h"
#include "ledger/retention.h"

namespace tally {
namespace {

using internal::ChainHead;
using internal::FromRocks;

// A topic name Kafka accepts, and no negative partition or offset.
Status CheckSourceOffset(const SourceOffset& offset) {
  const bool topic_ok =
      !offset.topic.empty() && offset.topic.size() <= 249 &&
      std::all_of(offset.topic.begin(), offset.topic.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
      });
  if (!topic_ok) return Status::InvalidArgument("\"" + offset.topic + "\" is not a topic name");
  if (offset.partition < 0 || offset.next_offset < 0) {
    return Status::InvalidArgument(offset.topic + ": partition and offset must not be negative");
  }
  return Status::Ok();
}

// Visits the records of `account` through the account index, on one snapshot.
Status ScanAccountRecords(rocksdb::DB* db, const std::string& account,
                          const std::function<bool(const LoggedEvent&)>& visit) {
  rocksdb::ReadOptions options;
  const rocksdb::Snapshot* snapshot = db->GetSnapshot();
  options.snapshot = snapshot;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(options));
  Status result;
  const std::string prefix = internal::AccountPrefix(account);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    uint64_t seq = internal::ReadU64(it->key().ToStringView().substr(prefix.size()));
    std::string value;
    auto status = db->Get(options, internal::EventKey(seq), &value);
    if (!status.ok()) {
      result = status.IsNotFound()
                   ? Status::Corruption("seq " + std::to_string(seq) + " is indexed but missing")
                   : FromRocks(status, "reading the log");
      break;
    }
    auto record = internal::DecodeRecord(seq, value);
    if (!record.ok()) {
      result = record.status();
      break;
    }
    if (!visit(*record)) break;
  }
  if (result.ok()) result = FromRocks(it->status(), "scanning account " + account);
  it.reset();
  db->ReleaseSnapshot(snapshot);
  return result;
}

// Sums every stored journal entry (Corruption if an asset does not sum to zero).
Result<std::vector<TrialBalanceLine>> TrialBalanceOf(rocksdb::DB* db) {
  TrialBalanceBuilder builder;
  const rocksdb::Snapshot* snapshot = db->GetSnapshot();
  auto base = internal::ReadBase(db, snapshot);
  if (!base.ok()) {
    db->ReleaseSnapshot(snapshot);
    return base.status();
  }
  if (*base) builder.Add((*base)->purged_totals);
  auto status = internal::ScanRecords(db, snapshot, 1, [&](const LoggedEvent& record) {
    builder.Add(record.postings);
    return true;
  });
  db->ReleaseSnapshot(snapshot);
  if (!status.ok()) return status;
  return builder.Finish();
}

// Scans from `from_seq`: the archived segments for seqs before `first_seq`,
// then the live store.
Status ScanFrom(rocksdb::DB* db, const std::string& data_dir, uint64_t first_seq, uint64_t from_seq,
                const std::function<bool(const LoggedEvent&)>& visit) {
  if (from_seq < first_seq) {
    const std::string dir = ArchiveDir(data_dir);
    auto missing = [&] {
      return Status::NotFound("seqs " + std::to_string(from_seq) + ".." +
                              std::to_string(first_seq - 1) +
                              " were archived and purged from the live store, and " + dir +
                              " does not hold them all: restore the archive there to read them");
    };
    auto segments = internal::ListSegments(dir);
    if (!segments.ok()) return segments.status();
    uint64_t next = from_seq;
    bool stopped = false;
    for (const auto& segment : *segments) {
      if (segment.last_seq < next || stopped) continue;
      if (segment.first_seq > next) return missing();
      auto status = internal::ReadSegment(dir, segment, [&](const LoggedEvent& record) {
        if (record.seq < next) return true;
        next = record.seq + 1;
        stopped = !visit(record);
        return !stopped;
      });
      if (!status.ok()) return status;
      if (next >= first_seq) break;
    }
    if (stopped) return Status::Ok();
    if (next < first_seq) return missing();
    from_seq = first_seq;
  }
  return internal::ScanRecords(db, nullptr, from_seq, visit);
}

Status KeyStoreMissing(const std::string& data_dir, uint64_t first_keyed_seq, bool empty);

// The account's view in `state` (an unknown account is empty).
AccountView ViewAt(const internal::State& state, const std::string& account) {
  const internal::AccountState* st = state.Find(account);
  AccountView view = internal::ViewOf(account, st);
  if (st != nullptr && st->billing_erasure_pending) {
    view.privacy.billing_erasure_due_micros = state.BillingErasureDue(*st);
  }
  return view;
}

// The log read-only: no decision state, no writes.
class RocksLog final : public Log {
 public:
  RocksLog(std::unique_ptr<rocksdb::DB> db, std::string data_dir, ChainHead head,
           uint64_t first_seq, Status history)
      : db_(std::move(db)),
        data_dir_(std::move(data_dir)),
        head_(head),
        first_seq_(first_seq),
        history_(std::move(history)) {}
  uint64_t head_seq() const override { return head_.seq; }
  Hash head_hash() const override { return head_.hash; }
  uint64_t first_seq() const override { return first_seq_; }
  Status Scan(uint64_t from_seq,
              const std::function<bool(const LoggedEvent&)>& visit) const override {
    return ScanFrom(db_.get(), data_dir_, first_seq_, from_seq, visit);
  }
  Status ScanAccount(const std::string& account,
                     const std::function<bool(const LoggedEvent&)>& visit) const override {
    return ScanAccountRecords(db_.get(), account, visit);
  }
  Result<std::vector<TrialBalanceLine>> TrialBalance() const override {
    return TrialBalanceOf(db_.get());
  }
  // The log as stored, then its history: a log that verifies up to its head
  // but lost acknowledged seqs after it does not verify.
  VerifyReport Verify() const override {
    uint64_t first_keyed_seq = 0;
    VerifyReport report = internal::VerifyLog(db_.get(), &first_keyed_seq);
    if (report.status.ok() && !history_.ok()) {
      report.status = history_;
      report.first_bad_seq = head_.seq + 1;
    }
    if (report.status.ok() && first_keyed_seq > 0 &&
        !std::filesystem::exists(std::filesystem::path(KeyStoreDir(data_dir_)) / "CURRENT")) {
      report.status = KeyStoreMissing(data_dir_, first_keyed_seq, false);
      report.first_bad_seq = first_keyed_seq;
    }
    return report;
  }
  Status CheckHistory() const override { return history_; }
  Result<std::vector<AccountView>> AccountsAtHead(
      const std::vector<std::string>& accounts) const override {
    internal::State state;
    auto head = internal::ReplayLog(db_.get(), &state);
    if (!head.ok()) return head.status();
    std::vector<AccountView> views;
    for (const std::string& account : accounts) views.push_back(ViewAt(state, account));
    return views;
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  const std::string data_dir_;
  ChainHead head_;
  const uint64_t first_seq_;
  const Status history_;  // CheckHistory's answer, found on open
};

// One caller of Append waiting in the group-commit queue.
struct Writer {
  std::span<const Event> events;
  std::span<const std::string> rejections;    // empty, or one per event
  SourceBatch source;                         // stored with the events
  bool tick = false;                          // a Tick: no events, run due timers
  const CheckpointKey* checkpoint = nullptr;  // a Checkpoint: sign the head
  std::function<Status()> exclusive;          // runs alone, holding the queue (Archive)
  uint64_t checkpoint_seq = 0;
  Result<std::vector<AppendOutcome>> result = Status::Unavailable("not written yet");
  uint64_t timer_events = 0;
  bool done = false;
  std::condition_variable cv;
};

class RocksLedger final : public Ledger {
 public:
  RocksLedger(std::unique_ptr<rocksdb::DB> db, std::unique_ptr<internal::HighWaterFile> high_water,
              std::unique_ptr<KeyStore> keys, const Clock* clock, LedgerOptions options,
              internal::State state, ChainHead head, std::optional<internal::LogBase> base)
      : db_(std::move(db)),
        high_water_(std::move(high_water)),
        keys_(std::move(keys)),
        clock_(clock),
        options_(std::move(options)),
        state_(std::move(state)),
        head_(head),
        base_(std::move(base)) {}
  // A clean close leaves little in the WAL (limits::kFlushOnCloseBytesMin).
  // A failed flush loses nothing: the WAL still holds it.
  ~RocksLedger() override {
    if (db_ != nullptr) internal::FlushIfLarge(db_.get());
  }

  // Destroys every key the log says was shredded that the key store still
  // holds: after a crash between the append and the destroy, or a key
  // store restored from a backup older than the shredding.
  Status DestroyShreddedKeys();

  Result<std::vector<AppendOutcome>> Append(std::span<const Event> events) override {
    return AppendFrom(events, SourceBatch{});
  }
  Result<std::vector<AppendOutcome>> AppendFrom(std::span<const Event> events,
                                                const SourceBatch& source) override;
  Result<std::optional<int64_t>> StoredOffset(const std::string& topic,
                                              int32_t partition) const override;
  Result<std::optional<ClusterOffset>> StoredClusterOffset(const std::string& topic,
                                                           int32_t partition) const override {
    return internal::ReadSourceOffset(db_.get(), topic, partition);
  }
  Result<std::vector<DeadLetter>> DeadLetters(size_t max) const override {
    return internal::ReadDeadLetters(db_.get(), max);
  }
  Status RemoveDeadLetters(std::span<const uint64_t> ids) override {
    return internal::DeleteDeadLetters(db_.get(), ids);
  }
  Result<uint64_t> Cursor(const std::string& name) const override {
    return internal::ReadCursor(db_.get(), name);
  }
  Status StoreCursor(const std::string& name, uint64_t seq) override {
    return internal::WriteCursor(db_.get(), name, seq);
  }
  void set_last_dead_letter_id(uint64_t id) { last_dead_letter_id_ = id; }
  Result<uint64_t> Tick() override;
  Result<uint64_t> Checkpoint(const CheckpointKey& key) override;
  Result<ArchivedSegment> Archive(uint64_t through_seq, const RetentionPolicy& policy,
                                  const std::string& archive_dir) override;
  uint64_t first_seq() const override {
    std::shared_lock lock(state_mutex_);
    return base_ ? base_->first_seq : 1;
  }
  uint64_t head_seq() const override {
    std::shared_lock lock(state_mutex_);
    return head_.seq;
  }
  Hash head_hash() const override {
    std::shared_lock lock(state_mutex_);
    return head_.hash;
  }
  Status Scan(uint64_t from_seq,
              const std::function<bool(const LoggedEvent&)>& visit) const override {
    return ScanFrom(db_.get(), options_.data_dir, first_seq(), from_seq, visit);
  }
  Status ScanAccount(const std::string& account,
                     const std::function<bool(const LoggedEvent&)>& visit) const override {
    return ScanAccountRecords(db_.get(), account, visit);
  }
  AccountView Account(const std::string& account) const override;
  Result<std::vector<AccountView>> AccountsAtHead(
      const std::vector<std::string>& accounts) const override;
  std::vector<std::string> Accounts() const override;
  Result<std::vector<TrialBalanceLine>> TrialBalance() const override {
    return TrialBalanceOf(db_.get());
  }
  VerifyReport Verify() const override { return internal::VerifyLog(db_.get()); }
  Status CheckHistory() const override { return Status::Ok(); }  // checked by Open

 private:
  // The first live seq holding a field of `subject` sealed for `purpose`
  // (0: none).
  Result<uint64_t> FirstSealedSeq(const std::string& subject, KeyPurpose purpose) const;
  // Syncs the high-water mark to the head (whose events are in a synced
  // write) unless it is there already; the leader of a group calls it before
  // answering the group's callers, after handing the queue to the next.
  Status MarkHighWater();
  Writer* Enqueue(Writer* writer, std::unique_lock<std::mutex>& lock);
  void Lead(Writer* leader, std::unique_lock<std::mutex>& lock);
  // Decides and writes the events of `group` as one synced write.
  Status WriteGroup(const std::vector<Writer*>& group);
  Result<std::optional<internal::IdEntry>> LookupId(const std::string& id) const;
  // Checks `offsets` against the stored ones and those staged by earlier
  // writers of the group, then stages them.
  Status StageOffsets(const SourceBatch& source,
                      std::map<std::string, ClusterOffset>& staged) const;
  Result<ArchivedSegment> ArchiveNow(uint64_t through_seq, const RetentionPolicy& policy,
                                     const std::string& archive_dir);
  // Destroys the keys of (subject, purpose) pairs; a pair that fails stays
  // queued for the next write or open.
  Status DestroyKeys(std::vector<std::pair<std::string, schema::ErasurePurpose>> pairs);

  std::unique_ptr<rocksdb::DB> db_;
  std::mutex mark_mutex_;                                // guards high_water_
  std::unique_ptr<internal::HighWaterFile> high_water_;  // under mark_mutex_
  std::mutex keys_mutex_;  // the key store's methods are not concurrent
  std::unique_ptr<KeyStore> keys_;
  std::vector<std::pair<std::string, schema::ErasurePurpose>>
      keys_to_destroy_;  // under keys_mutex_
  const Clock* clock_;
  const LedgerOptions options_;

  size_t QueuedEvents() const {
    size_t events = 0;
    for (const Writer* writer : writers_) events += writer->events.size();
    return events;
  }

  std::mutex queue_mutex_;              // guards writers_
  std::deque<Writer*> writers_;         // front: the leader of the next group
  std::condition_variable queue_grew_;  // a writer joined the queue

  mutable std::shared_mutex state_mutex_;  // writers exclusive, readers shared
  internal::State state_;
  ChainHead head_;
  std::optional<internal::LogBase> base_;  // set once records were purged
  uint64_t last_dead_letter_id_ = 0;       // under state_mutex_
};

Result<std::vector<AppendOutcome>> RocksLedger::AppendFrom(std::span<const Event> events,
                                                           const SourceBatch& source) {
  for (const SourceOffset& offset : source.offsets) {
    if (auto valid = CheckSourceOffset(offset); !valid.ok()) return valid;
  }
  if (source.cluster.size() > limits::kClusterIdBytesMax) {
    return Status::InvalidArgument("the cluster id is longer than " +
                                   std::to_string(limits::kClusterIdBytesMax) + " bytes");
  }
  // Personal fields are sealed before anything else sees the event, so the
  // idempotency check compares sealed bytes (sealing is deterministic).
  std::vector<Event> sealed;
  std::vector<std::string> rejections;
  bool personal = false;
  for (const Event& event : events) personal = personal || HasPersonalFields(event.reader());
  if (personal) {
    sealed.reserve(events.size());
    rejections.reserve(events.size());
    std::lock_guard keys_lock(keys_mutex_);
    for (const Event& event : events) {
      auto result = SealPersonalFields(event, keys_.get(),
                                       [this](const std::string& subject, KeyPurpose purpose) {
                                         return FirstSealedSeq(subject, purpose);
                                       });
      if (!result.ok()) return result.status();
      SealedEvent outcome = std::move(result).value();
      sealed.push_back(std::move(outcome.event));
      rejections.push_back(std::move(outcome.rejection));
    }
  }
  Writer writer;
  writer.events = personal ? std::span<const Event>(sealed) : events;
  writer.rejections = rejections;
  writer.source = source;
  std::unique_lock lock(queue_mutex_);
  Lead(Enqueue(&writer, lock), lock);
  return std::move(writer.result);
}

Result<uint64_t> RocksLedger::Tick() {
  Writer writer;
  writer.tick = true;
  std::unique_lock lock(queue_mutex_);
  Lead(Enqueue(&writer, lock), lock);
  if (!writer.result.ok()) return writer.result.status();
  return writer.timer_events;
}

Result<uint64_t> RocksLedger::Checkpoint(const CheckpointKey& key) {
  Writer writer;
  writer.checkpoint = &key;
  std::unique_lock lock(queue_mutex_);
  Lead(Enqueue(&writer, lock), lock);
  if (!writer.result.ok()) return writer.result.status();
  return writer.checkpoint_seq;
}

// Queues `writer` and waits until it is done or at the front. Returns the
// writer that must lead a group, or nullptr if another leader finished it.
Writer* RocksLedger::Enqueue(Writer* writer, std::unique_lock<std::mutex>& lock) {
  writers_.push_back(writer);
  queue_grew_.notify_all();
  writer->cv.wait(lock, [&] { return writer->done || writers_.front() == writer; });
  return writer->done ? nullptr : writer;
}

void RocksLedger::Lead(Writer* leader, std::unique_lock<std::mutex>& lock) {
  if (leader == nullptr) return;
  if (options_.group_commit_wait_micros > 0) {
    queue_grew_.wait_for(lock, std::chrono::microseconds(options_.group_commit_wait_micros),
                         [&] { return QueuedEvents() >= options_.group_commit_events_max; });
  }
  std::vector<Writer*> group;
  size_t events = 0;
  for (Writer* writer : writers_) {
    if (!group.empty() && (writer->exclusive || group.front()->exclusive)) break;
    if (!group.empty() && events + writer->events.size() > options_.group_commit_events_max) break;
    group.push_back(writer);
    events += writer->events.size();
  }
  lock.unlock();
  const auto started = std::chrono::steady_clock::now();
  Status status = WriteGroup(group);
  lock.lock();
  for (Writer* writer : group) {
    TALLY_CHECK(writers_.front() == writer);
    writers_.pop_front();
  }
  // The next group's write overlaps this group's high-water sync; the
  // group's callers are answered only after it.
  if (!writers_.empty()) writers_.front()->cv.notify_one();
  lock.unlock();
  if (status.ok()) status = MarkHighWater();
  if (options_.on_group_commit && !group.front()->exclusive) {
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    options_.on_group_commit(GroupCommit{events, group.size(), took.count(), status.ok()});
  }
  lock.lock();
  for (Writer* writer : group) {
    if (!status.ok()) writer->result = status;
    writer->done = true;
    if (writer != leader) writer->cv.notify_one();
  }
}

Status RocksLedger::WriteGroup(const std::vector<Writer*>& group) {
  if (group.front()->exclusive) {
    TALLY_CHECK(group.size() == 1);
    Status status = group.front()->exclusive();
    if (status.ok()) group.front()->result = std::vector<AppendOutcome>();
    return status;
  }
  std::unique_lock lock(state_mutex_);
  state_.Savepoint();  // undone if the write fails
  internal::DecideOptions decide{options_.hold_ttl_ms_default * 1000, limits::kHoldTtlMsMax * 1000};
  internal::BatchBuilder builder(state_, head_, clock_->NowMicros(), decide,
                                 [this](const std::string& id) { return LookupId(id); });
  std::map<std::string, ClusterOffset> staged_offsets;  // by offset key, for this write
  uint64_t dead_letter_id = last_dead_letter_id_;
  auto stage_dead_letter = [&](const DeadLetter& letter, const std::string& reason) {
    DeadLetter stored = letter;
    if (!reason.empty()) stored.reason = reason;
    TALLY_CHECK(
        builder.batch()
            .Put(internal::DeadLetterKey(++dead_letter_id), internal::EncodeDeadLetter(stored))
            .ok());
  };
  Status status;
  for (Writer* writer : group) {
    uint64_t before = builder.appended();
    if (writer->checkpoint != nullptr) {
      writer->checkpoint_seq = builder.AddCheckpoint(*writer->checkpoint);
      writer->result = std::vector<AppendOutcome>();
    } else if (writer->tick) {
      status = builder.AddDueTimers();
      writer->timer_events = builder.appended() - before;
      writer->result = std::vector<AppendOutcome>();
    } else {
      // The offsets first: a writer that lost its partition adds nothing.
      Status fenced = StageOffsets(writer->source, staged_offsets);
      if (!fenced.ok()) {
        writer->result = fenced;
        continue;
      }
      writer->result = builder.Add(writer->events, writer->rejections);
      status = writer->result.status();
      if (status.ok()) {
        for (const DeadLetter& letter : writer->source.dead_letters) stage_dead_letter(letter, "");
        const std::vector<AppendOutcome>& outcomes = *writer->result;
        for (size_t i = 0; writer->source.if_rejected && i < outcomes.size(); ++i) {
          if (outcomes[i].kind != AppendOutcome::Kind::kRejected) continue;
          stage_dead_letter(writer->source.if_rejected(i, writer->events[i]), outcomes[i].reason);
        }
      }
    }
    if (!status.ok()) break;
  }
  for (const auto& [key, offset] : staged_offsets) {
    TALLY_CHECK(builder.batch().Put(key, internal::EncodeSourceOffset(offset)).ok());
  }
  const bool dead_letters = dead_letter_id != last_dead_letter_id_;
  if (status.ok() && (builder.appended() > 0 || !staged_offsets.empty() || dead_letters)) {
    std::string head_value = internal::EncodeU64(builder.head().seq);
    head_value.append(reinterpret_cast<const char*>(builder.head().hash.data()), kHashBytes);
    builder.batch().Put(std::string(internal::kHeadKey), head_value);
    rocksdb::WriteOptions write_options;
    write_options.sync = true;                            // acknowledged only once on disk
    write_options.memtable_insert_hint_per_batch = true;  // seqs and account keys run in order
    status = FromRocks(db_->Write(write_options, &builder.Finish()), "appending");
  }
  if (!status.ok()) {
    state_.Rollback();
    return status;
  }
  state_.Release();
  head_ = builder.head();
  last_dead_letter_id_ = dead_letter_id;
  lock.unlock();
  // The receipts are durable; now the keys go. A failure here is not the
  // append's: the events are written, and the keys are destroyed on the
  // next write or open (DestroyShreddedKeys).
  (void)DestroyKeys(builder.shredded());
  return Status::Ok();
}

Result<uint64_t> RocksLedger::FirstSealedSeq(const std::string& subject, KeyPurpose purpose) const {
  const schema::Purpose wanted =
      purpose == KeyPurpose::kProfile ? schema::Purpose::PROFILE : schema::Purpose::BILLING;
  uint64_t found = 0;
  auto status = ScanAccountRecords(db_.get(), subject, [&](const LoggedEvent& record) {
    ForEachPersonalField(record.event.reader(), [&](std::string_view, schema::Purpose field_purpose,
                                                    schema::PersonalField::Reader field) {
      if (found == 0 && field_purpose == wanted && field.which() == schema::PersonalField::SEALED) {
        found = record.seq;
      }
    });
    return found == 0;
  });
  if (!status.ok()) return status;
  return found;
}

Status RocksLedger::MarkHighWater() {
  ChainHead head;
  {
    std::shared_lock lock(state_mutex_);
    head = head_;  // in a synced write already (a later group's, perhaps)
  }
  std::lock_guard mark_lock(mark_mutex_);
  // A later group's leader may have marked past it already; also after a
  // write of duplicates only, so that a retry after a failed mark marks the
  // events it finds.
  if (head.seq <= high_water_->seq()) return Status::Ok();
  auto marked = high_water_->Write({head.seq, head.hash});
  if (marked.ok()) return marked;
  // The events are in the log but were not acknowledged: a retry of the
  // batch finds them (duplicates, with their seqs) and marks them then.
  return marked.WithContext("seqs through " + std::to_string(head.seq) +
                            " were written but not confirmed; retry the batch");
}

Status RocksLedger::DestroyKeys(std::vector<std::pair<std::string, schema::ErasurePurpose>> pairs) {
  std::lock_guard keys_lock(keys_mutex_);
  keys_to_destroy_.insert(keys_to_destroy_.end(), pairs.begin(), pairs.end());
  if (keys_ == nullptr || keys_to_destroy_.empty()) return Status::Ok();
  std::vector<std::pair<std::string, schema::ErasurePurpose>> failed;
  Status first_failure;
  for (const auto& [subject, purpose] : keys_to_destroy_) {
    auto key_purpose =
        purpose == schema::ErasurePurpose::PROFILE ? KeyPurpose::kProfile : KeyPurpose::kBilling;
    auto status = keys_->Destroy(subject, key_purpose);
    if (!status.ok()) {
      failed.emplace_back(subject, purpose);
      if (first_failure.ok()) first_failure = status;
    }
  }
  keys_to_destroy_ = std::move(failed);
  return first_failure;
}

Status RocksLedger::DestroyShreddedKeys() {
  std::vector<std::pair<std::string, schema::ErasurePurpose>> pairs;
  {
    std::shared_lock lock(state_mutex_);
    for (const auto& [name, st] : state_.accounts()) {
      if (st.profile_shredded) pairs.emplace_back(name, schema::ErasurePurpose::PROFILE);
      if (st.billing_shredded) pairs.emplace_back(name, schema::ErasurePurpose::BILLING);
    }
  }
  return DestroyKeys(std::move(pairs));
}

Result<ArchivedSegment> RocksLedger::Archive(uint64_t through_seq, const RetentionPolicy& policy,
                                             const std::string& archive_dir) {
  Result<ArchivedSegment> archived = Status::Unavailable("not archived yet");
  Writer writer;
  writer.exclusive = [&]() -> Status {
    archived = ArchiveNow(through_seq, policy, archive_dir);
    return archived.status();
  };
  std::unique_lock lock(queue_mutex_);
  Lead(Enqueue(&writer, lock), lock);
  return archived;
}

// Runs alone (no group commit meanwhile): writes the segment, then the
// receipt, the new base and the purge in one synced write.
Result<ArchivedSegment> RocksLedger::ArchiveNow(uint64_t through_seq, const RetentionPolicy& policy,
                                                const std::string& archive_dir) {
  std::unique_lock lock(state_mutex_);
  const uint64_t first = base_ ? base_->first_seq : 1;
  if (through_seq < first || through_seq > head_.seq) {
    return Status::InvalidArgument("the live log holds seqs " + std::to_string(first) + ".." +
                                   std::to_string(head_.seq) + "; cannot archive through seq " +
                                   std::to_string(through_seq));
  }
  const int64_t now = std::max(clock_->NowMicros(), state_.time());
  // The state after `through_seq`, replayed from the current base.
  internal::State scratch;
  scratch.set_invoice_retention_years(options_.invoice_retention_years);
  ChainHead chain;
  TrialBalanceBuilder totals;
  if (base_) {
    if (auto status = internal::DecodeState(base_->state, &scratch); !status.ok()) return status;
    chain = {first - 1, base_->prev_hash};
    totals.Add(base_->purged_totals);
  }
  internal::SegmentManifest manifest;
  manifest.first_seq = first;
  manifest.last_seq = through_seq;
  manifest.events = through_seq - first + 1;
  manifest.prev_hash = chain.hash;
  // Segments of an attempt that stopped before its purge hold records the
  // live store still has: this one replaces them.
  auto earlier = internal::ListSegments(archive_dir);
  if (!earlier.ok()) return earlier.status();
  for (const auto& stale : *earlier) {
    if (stale.first_seq < first) continue;
    std::error_code ignored;
    std::filesystem::remove(internal::ManifestPath(archive_dir, stale.name), ignored);
    std::filesystem::remove(internal::SegmentPath(archive_dir, stale.name), ignored);
  }
  auto segment =
      internal::SegmentWriter::Create(archive_dir, internal::SegmentName(first, through_seq));
  if (!segment.ok()) return segment.status();
  std::vector<std::string> purged_account_keys;
  Status failed;
  auto scanned = internal::ScanRecords(db_.get(), nullptr, first, [&](const LoggedEvent& record) {
    if (record.seq > through_seq) return false;
    const int64_t horizon = HorizonEnd(record, policy);
    if (horizon > now) {
      const std::string category(RecordCategoryOf(record.event.reader().which()));
      failed = Status::InvalidArgument(
          "seq " + std::to_string(record.seq) + " (" + std::string(record.event.type_name()) +
          ", " + category + ", kept " + std::to_string(policy.YearsFor(category)) +
          " years) is kept until " + FormatTimestamp(horizon) + "; nothing was archived");
      return false;
    }
    if (failed = internal::ReplayRecord(record, chain, scratch); !failed.ok()) return false;
    totals.Add(record.postings);
    if (failed = (*segment)->Add(record.seq, internal::EncodeRecord(record)); !failed.ok()) {
      return false;
    }
    purged_account_keys.push_back(
        internal::AccountKey(internal::TextOf(record.event.reader().getAccount()), record.seq));
    return true;
  });
  if (!failed.ok()) return failed;
  if (!scanned.ok()) return scanned;
  if (chain.seq != through_seq) {
    return Status::Corruption("seq " + std::to_string(chain.seq + 1) + " is missing");
  }
  auto lines = totals.Finish();
  if (!lines.ok()) return lines.status();
  internal::LogBase base;
  base.first_seq = through_seq + 1;
  base.prev_hash = chain.hash;
  base.state = internal::EncodeState(scratch);
  for (const TrialBalanceLine& line : *lines) {
    base.purged_totals.push_back({line.account, line.asset, line.balance});
  }
  manifest.last_hash = chain.hash;
  manifest.base_state_hash = internal::BaseHash(base);
  if (auto status = (*segment)->Finish(&manifest); !status.ok()) return status;

  state_.Savepoint();
  internal::DecideOptions decide{options_.hold_ttl_ms_default * 1000, limits::kHoldTtlMsMax * 1000};
  internal::BatchBuilder builder(state_, head_, now, decide,
                                 [this](const std::string& id) { return LookupId(id); });
  const uint64_t receipt_seq =
      builder.AddSegmentArchived(manifest.first_seq, manifest.last_seq, manifest.prev_hash,
                                 manifest.last_hash, manifest.name, manifest.base_state_hash);
  rocksdb::WriteBatch& batch = builder.Finish();
  for (const std::string& key : purged_account_keys) TALLY_CHECK(batch.Delete(key).ok());
  std::string head_value = internal::EncodeU64(builder.head().seq);
  head_value.append(reinterpret_cast<const char*>(builder.head().hash.data()), kHashBytes);
  TALLY_CHECK(batch.Put(std::string(internal::kHeadKey), head_value).ok());
  TALLY_CHECK(batch.Put(std::string(internal::kBaseKey), internal::EncodeBase(base)).ok());
  const std::string purge_begin = internal::EventKey(first);
  const std::string purge_end = internal::EventKey(through_seq + 1);
  TALLY_CHECK(batch.DeleteRange(purge_begin, purge_end).ok());
  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  Status written = FromRocks(db_->Write(write_options, &batch), "archiving");
  if (!written.ok()) {
    state_.Rollback();
    return written;
  }
  state_.Release();
  head_ = builder.head();
  base_ = std::move(base);
  lock.unlock();
  // Out of the files too: the purged records and index entries are rewritten away.
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  if (auto status = FromRocks(db_->CompactRange(compact, nullptr, nullptr), "compacting the log");
      !status.ok()) {
    return status;
  }
  return ArchivedSegment{manifest.name,      manifest.first_seq, manifest.last_seq,
                         manifest.prev_hash, manifest.last_hash, receipt_seq};
}

Status RocksLedger::StageOffsets(const SourceBatch& source,
                                 std::map<std::string, ClusterOffset>& staged) const {
  std::map<std::string, ClusterOffset> mine;
  for (const SourceOffset& offset : source.offsets) {
    const std::string key = internal::OffsetKey(offset.topic, offset.partition);
    std::optional<ClusterOffset> current;
    if (auto it = staged.find(key); it != staged.end()) {
      current = it->second;
    } else {
      auto stored = StoredClusterOffset(offset.topic, offset.partition);
      if (!stored.ok()) return stored.status();
      current = std::move(stored).value();
    }
    // Another cluster counts from 0 again: only the same cluster's offsets are fenced.
    if (current && current->cluster == source.cluster &&
        offset.next_offset < current->next_offset) {
      return Status::Conflict(offset.topic + "/" + std::to_string(offset.partition) + ": offset " +
                              std::to_string(offset.next_offset) + " is behind the stored " +
                              std::to_string(current->next_offset) +
                              " (another writer appended this partition); nothing was written");
    }
    mine[key] = ClusterOffset{offset.next_offset, source.cluster};
  }
  for (auto& [key, offset] : mine) staged[key] = std::move(offset);
  return Status::Ok();
}

Result<std::optional<int64_t>> RocksLedger::StoredOffset(const std::string& topic,
                                                         int32_t partition) const {
  auto stored = StoredClusterOffset(topic, partition);
  if (!stored.ok()) return stored.status();
  if (!*stored) return std::optional<int64_t>();
  return std::optional<int64_t>((*stored)->next_offset);
}

Result<std::optional<internal::IdEntry>> RocksLedger::LookupId(const std::string& id) const {
  std::string value;
  auto status = db_->Get(rocksdb::ReadOptions(), internal::IdKey(id), &value);
  if (status.IsNotFound()) return std::optional<internal::IdEntry>();
  if (!status.ok()) return FromRocks(status, "reading the id index");
  if (value.size() != internal::kIdValueBytes) {
    return Status::Corruption("id index entry for \"" + id + "\" has a bad size");
  }
  return std::optional<internal::IdEntry>(
      internal::IdEntry{internal::ReadU64(value), value.substr(internal::kSeqBytes)});
}

AccountView RocksLedger::Account(const std::string& account) const {
  std::shared_lock lock(state_mutex_);
  return ViewAt(state_, account);
}

Result<std::vector<AccountView>> RocksLedger::AccountsAtHead(
    const std::vector<std::string>& accounts) const {
  std::vector<AccountView> views;
  for (const std::string& account : accounts) views.push_back(Account(account));
  return views;
}

std::vector<std::string> RocksLedger::Accounts() const {
  std::shared_lock lock(state_mutex_);
  std::vector<std::string> names;
  for (const auto& [name, st] : state_.accounts()) {
    if (!name.starts_with('_')) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Writes the layout version into a new log; refuses a log of another version.
Status CheckFormat(rocksdb::DB* db) {
  std::string value;
  auto status = db->Get(rocksdb::ReadOptions(), std::string(internal::kFormatKey), &value);
  if (status.IsNotFound()) {
    rocksdb::WriteOptions write_options;
    write_options.sync = true;
    return FromRocks(db->Put(write_options, std::string(internal::kFormatKey),
                             internal::EncodeU64(internal::kFormatVersion)),
                     "writing the format version");
  }
  if (!status.ok()) return FromRocks(status, "reading the format version");
  if (value.size() != internal::kSeqBytes || internal::ReadU64(value) != internal::kFormatVersion) {
    return Status::Corruption("this log has an unknown format version");
  }
  return Status::Ok();
}

rocksdb::FileSystem* FileSystemOf(rocksdb::Env* env) {
  return (env != nullptr ? env : rocksdb::Env::Default())->GetFileSystem().get();
}

// The log's options; `read_only` opens leave RocksDB's diagnostic LOG alone.
rocksdb::Options DbOptions(bool create_if_missing, rocksdb::Env* env, const std::string& data_dir,
                           bool read_only) {
  rocksdb::Options options;
  options.create_if_missing = create_if_missing;
  if (env != nullptr) options.env = env;
  // RocksDB's own logger aborts the process on a full disk (info_log.h).
  options.info_log_level = rocksdb::InfoLogLevel::INFO_LEVEL;
  options.info_log =
      read_only ? internal::NewSilentInfoLog() : internal::NewInfoLog(FileSystemOf(env), data_dir);
  options.paranoid_checks = true;
  // A torn last WAL record is a write that was never acknowledged (it did not
  // finish its fsync) and may be dropped; damage anywhere else must stop the
  // open. The default (point in time) would silently drop every later,
  // acknowledged write. A tail lost whole (a truncated file) cannot be told
  // from a torn one here: the high-water mark, outside the WAL, tells them
  // apart (CheckHistory). kAbsoluteConsistency would refuse every crash
  // during a write, acknowledged or not.
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  options.IncreaseParallelism(2);
  // Appends are bound by memtable inserts (two of the three puts per event
  // have random keys). A memtable that stays in cache inserts faster:
  // measured 80k vs 70k events/s at batches of 4096 (docs/performance.md).
  options.write_buffer_size = 8 << 20;
  rocksdb::BlockBasedTableOptions table;
  // Id lookups are mostly for ids that are not there: a bloom filter answers
  // them without reading a data block.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // The same for ids still in the memtable: a bloom filter over whole keys.
  options.memtable_whole_key_filtering = true;
  options.memtable_prefix_bloom_size_ratio = 0.02;
  return options;
}

// Every block checksum of the store's tables. Replay reads only the records
// and the head: a damaged block of the id or account index would otherwise
// go unnoticed until a compaction or `audit verify` reads it, while appends
// go on adding to a damaged store.
Status CheckTables(rocksdb::DB* db, const std::string& data_dir) {
  auto status = db->VerifyChecksum();
  if (status.ok()) return Status::Ok();
  return internal::FromRocks(status, "the store in " + data_dir +
                                         " is damaged; nothing was written. Run `tally audit "
                                         "verify` and restore the ledger from a backup");
}

// The error for a log that names keys its key store does not have.
Status KeyStoreMissing(const std::string& data_dir, uint64_t first_keyed_seq, bool empty) {
  return Status::Corruption(
      "the log in " + data_dir + " holds personal data sealed with keys from its key store " +
      "(first at seq " + std::to_string(first_keyed_seq) + "), but the key store " +
      KeyStoreDir(data_dir) + (empty ? " is empty" : " is missing") +
      ". Restore it from its backup (docs/privacy.md, \"Keys\"); a new one is not made, "
      "because new keys would seal new data under versions the log already names and the "
      "sealed data could never be read again");
}

// The key store beside the log, or none when no master key was given; a
// data directory that has one needs the master key. A log that names keys
// (from `first_keyed_seq` on; 0: none) needs them: a missing or empty key
// store is refused, never made again.
Result<std::unique_ptr<KeyStore>> OpenKeyStore(const LedgerOptions& options,
                                               uint64_t first_keyed_seq) {
  const std::string dir = KeyStoreDir(options.data_dir);
  const bool exists = std::filesystem::exists(std::filesystem::path(dir) / "CURRENT");
  if (first_keyed_seq > 0 && !exists) {
    return KeyStoreMissing(options.data_dir, first_keyed_seq, false);
  }
  if (options.master_key) {
    auto keys = KeyStore::Open(dir, *options.master_key, options.env);
    if (!keys.ok() || first_keyed_seq == 0) return keys;
    auto empty = (*keys)->Empty();
    if (!empty.ok()) return empty.status();
    if (*empty) return KeyStoreMissing(options.data_dir, first_keyed_seq, true);
    return keys;
  }
  if (exists) return MasterKeyNeeded(options.data_dir);
  return std::unique_ptr<KeyStore>();
}

// The head record as stored; zero for an empty log.
Result<ChainHead> ReadStoredHead(rocksdb::DB* db) {
  ChainHead head;
  std::string value;
  auto status = db->Get(rocksdb::ReadOptions(), std::string(internal::kHeadKey), &value);
  if (status.IsNotFound()) return head;
  if (!status.ok()) return FromRocks(status, "reading the head");
  if (value.size() != internal::kHeadValueBytes) {
    return Status::Corruption("the head record has a bad size");
  }
  head.seq = internal::ReadU64(value);
  std::copy_n(value.begin() + internal::kSeqBytes, kHashBytes, head.hash.begin());
  return head;
}

// The chain hash at `seq` if the live log holds that record.
Result<std::optional<Hash>> HashAt(rocksdb::DB* db, uint64_t seq) {
  std::optional<Hash> hash;
  auto status = internal::ScanRecords(db, nullptr, seq, [&](const LoggedEvent& record) {
    if (record.seq == seq) hash = record.hash;
    return false;
  });
  if (!status.ok()) return status;
  return hash;
}

// The log (whose stored head is `head`) against its high-water mark:
// Corruption naming the seqs it lost (internal::CheckHighWater).
// `mark`: the high-water mark as read before `db` was opened (a reader must
// read it first: a writer moves the mark only after its events are in the
// log, so a log opened after the mark was read holds everything it names).
Status CheckAgainstMark(rocksdb::DB* db, const Result<std::optional<internal::HighWater>>& mark,
                        const std::string& data_dir, const ChainHead& head) {
  if (!mark.ok()) return mark.status();
  if (!*mark || (*mark)->seq == 0) return Status::Ok();
  std::optional<Hash> hash_at_mark;
  if ((*mark)->seq == head.seq) hash_at_mark = head.hash;
  if ((*mark)->seq < head.seq) {
    auto hash = HashAt(db, (*mark)->seq);  // nullopt once archived and purged
    if (!hash.ok()) return hash.status();
    hash_at_mark = *hash;
  }
  return internal::CheckHighWater(**mark, head.seq, hash_at_mark, data_dir);
}

Status CheckAgainstHighWater(rocksdb::DB* db, rocksdb::FileSystem* fs, const std::string& data_dir,
                             const ChainHead& head) {
  return CheckAgainstMark(db, internal::ReadHighWater(fs, data_dir), data_dir, head);
}

}  // namespace

std::string KeyStoreDir(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "keys").string();
}

std::string ArchiveDir(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "archive").string();
}

Status MasterKeyNeeded(const std::string& data_dir) {
  return Status::InvalidArgument(
      data_dir + " holds personal data sealed under a master key (its key store is " +
      KeyStoreDir(data_dir) +
      "); give the master key with --master-key-file PATH or TALLY_MASTER_KEY_FILE");
}

int64_t EffectiveTime(const LoggedEvent& event) {
  return internal::DecisionTime(event.event, event.recorded_at_micros);
}

bool IsLedgerMade(const Event& event) { return internal::IsLedgerMade(event.reader().which()); }

bool CountsInVersion(const Event& event) {
  return internal::CountsInVersion(event.reader().which());
}

std::string HashHex(const Hash& hash) {
  char hex[kHashBytes * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), hash.data(), hash.size());
  return hex;
}

const char* AppendOutcomeName(AppendOutcome::Kind kind) {
  switch (kind) {
    case AppendOutcome::Kind::kAppended: return "appended";
    case AppendOutcome::Kind::kDuplicate: return "duplicate";
    case AppendOutcome::Kind::kRejected: return "rejected";
  }
  return "unknown";
}

Result<std::unique_ptr<Ledger>> Ledger::Open(const LedgerOptions& options, const Clock* clock) {
  TALLY_CHECK(clock != nullptr);
  TALLY_CHECK(options.group_commit_events_max > 0 &&
              options.group_commit_events_max <= limits::kGroupCommitEventsMax);
  TALLY_CHECK(options.hold_ttl_ms_default > 0 &&
              options.hold_ttl_ms_default <= limits::kHoldTtlMsMax);
  TALLY_CHECK(options.group_commit_wait_micros >= 0 &&
              options.group_commit_wait_micros <= limits::kGroupCommitWaitMicrosMax);
  if (sodium_init() < 0) return Status::IoError("libsodium failed to initialise");
  if (options.create_if_missing) {
    std::error_code error;
    std::filesystem::create_directories(options.data_dir, error);
    if (error) return Status::IoError("creating " + options.data_dir + ": " + error.message());
  }
  rocksdb::DB* raw = nullptr;
  auto status =
      rocksdb::DB::Open(DbOptions(options.create_if_missing, options.env, options.data_dir, false),
                        options.data_dir, &raw);
  if (!status.ok()) {
    if (!options.create_if_missing && status.IsInvalidArgument()) {
      return Status::NotFound("no ledger in " + options.data_dir);
    }
    return FromRocks(status, "opening " + options.data_dir);
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::FileSystem* fs = FileSystemOf(options.env);
  // Before anything is written: a log that lost acknowledged seqs must not
  // give them to new events.
  auto stored_head = ReadStoredHead(db.get());
  if (!stored_head.ok()) return stored_head.status();
  if (auto history = CheckAgainstHighWater(db.get(), fs, options.data_dir, *stored_head);
      !history.ok()) {
    return history;
  }
  if (auto format = CheckFormat(db.get()); !format.ok()) return format;
  if (auto tables = CheckTables(db.get(), options.data_dir); !tables.ok()) return tables;
  internal::State state;
  state.set_invoice_retention_years(options.invoice_retention_years);
  uint64_t first_keyed_seq = 0;
  auto head = internal::ReplayLog(db.get(), &state, &first_keyed_seq);
  if (!head.ok()) return head.status();
  auto keys = OpenKeyStore(options, first_keyed_seq);
  if (!keys.ok()) return keys.status();
  auto base = internal::ReadBase(db.get(), nullptr);
  if (!base.ok()) return base.status();
  auto last_dead_letter = internal::LastDeadLetterId(db.get());
  if (!last_dead_letter.ok()) return last_dead_letter.status();
  auto high_water = internal::HighWaterFile::Open(fs, options.data_dir, {head->seq, head->hash});
  if (!high_water.ok()) return high_water.status();
  auto ledger = std::make_unique<RocksLedger>(std::move(db), std::move(high_water).value(),
                                              std::move(keys).value(), clock, options,
                                              std::move(state), *head, *base);
  ledger->set_last_dead_letter_id(*last_dead_letter);
  if (auto destroyed = ledger->DestroyShreddedKeys(); !destroyed.ok()) {
    return destroyed.WithContext("destroying the keys of shredded subjects");
  }
  return std::unique_ptr<Ledger>(std::move(ledger));
}

namespace {

// The names of the store's files (tables, write-ahead logs, manifests). A
// writer that flushes or compacts while a reader opens the store creates and
// deletes files under it: the reader may then see a table's records neither
// in the tables it listed nor in the write-ahead log it replayed.
std::set<std::string> StoreFileNames(const std::string& data_dir) {
  std::set<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(data_dir, error)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

// The log read-only, opened while no file of it was created or deleted
// (nullptr: a writer changed them meanwhile; open again).
Result<std::unique_ptr<rocksdb::DB>> OpenReadOnlyUnchanged(const std::string& data_dir) {
  const std::set<std::string> before = StoreFileNames(data_dir);
  rocksdb::DB* raw = nullptr;
  auto status =
      rocksdb::DB::OpenForReadOnly(DbOptions(false, nullptr, data_dir, true), data_dir, &raw);
  std::unique_ptr<rocksdb::DB> db(raw);
  const bool changed = StoreFileNames(data_dir) != before;
  if (changed) return std::unique_ptr<rocksdb::DB>();
  if (!status.ok()) return FromRocks(status, "opening " + data_dir);
  return db;
}

}  // namespace

Result<std::unique_ptr<Log>> Log::OpenForReading(const std::string& data_dir) {
  if (sodium_init() < 0) return Status::IoError("libsodium failed to initialise");
  if (!std::filesystem::exists(std::filesystem::path(data_dir) / "CURRENT")) {
    return Status::NotFound("no ledger in " + data_dir);
  }
  // The mark before the log: a writer appending meanwhile is no false alarm.
  auto mark = internal::ReadHighWater(FileSystemOf(nullptr), data_dir);
  std::unique_ptr<rocksdb::DB> db;
  for (int attempt = 1; db == nullptr; ++attempt) {
    auto opened = OpenReadOnlyUnchanged(data_dir);
    if (!opened.ok()) return opened.status();
    db = std::move(opened).value();
    if (db == nullptr && attempt >= limits::kReadOpenAttemptsMax) {
      return Status::Unavailable("opening " + data_dir +
                                 ": another process kept changing its files; try again");
    }
    if (db == nullptr) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  rocksdb::Status status;
  std::string value;
  status = db->Get(rocksdb::ReadOptions(), std::string(internal::kFormatKey), &value);
  if (!status.ok() && !status.IsNotFound()) return FromRocks(status, "reading the format version");
  if (status.ok() && (value.size() != internal::kSeqBytes ||
                      internal::ReadU64(value) != internal::kFormatVersion)) {
    return Status::Corruption("this log has an unknown format version");
  }
  auto head = ReadStoredHead(db.get());
  if (!head.ok()) return head.status();
  auto base = internal::ReadBase(db.get(), nullptr);
  if (!base.ok()) return base.status();
  Status history = CheckAgainstMark(db.get(), mark, data_dir, *head);
  // A damaged mark file is reported as the history's status, like a lost tail.
  return std::unique_ptr<Log>(std::make_unique<RocksLog>(
      std::move(db), data_dir, *head, *base ? (*base)->first_seq : 1, std::move(history)));
}

}  // namespace tally
