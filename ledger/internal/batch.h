// BatchBuilder: turns the events of one group commit into one RocksDB
// WriteBatch, deciding and applying each against the State as it goes.
// Only the group commit's leader uses it, one at a time.
#pragma once

#include <rocksdb/write_batch.h>

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "ledger/checkpoint.h"
#include "ledger/internal/decider.h"
#include "ledger/internal/state.h"
#include "ledger/ledger.h"

namespace tally::internal {

struct ChainHead {
  uint64_t seq = 0;
  Hash hash{};
};

struct IdEntry {
  uint64_t seq = 0;
  std::string digest;  // of the event's canonical bytes
};

// Where an id is in the log, if it is.
using IdLookup = std::function<Result<std::optional<IdEntry>>(const std::string& id)>;

// BLAKE2b-128 of canonical event bytes, for telling redeliveries from conflicts.
std::string ContentDigest(std::string_view event_bytes);

class BatchBuilder {
 public:
  // `now` becomes recorded_at of every event of the batch (raised to the
  // ledger time if the clock went back).
  BatchBuilder(State& state, ChainHead head, int64_t now, DecideOptions options, IdLookup lookup);

  // Judges `events` in order and adds what is appended to the batch.
  // `rejections` (empty, or one per event) holds reasons found before
  // judging (personal fields that cannot be sealed): such an event is
  // rejected, and so is its link group.
  // Non-ok: an environment failure; the caller must abandon the whole batch.
  Result<std::vector<AppendOutcome>> Add(std::span<const Event> events,
                                         std::span<const std::string> rejections = {});

  // Adds the timer events due at `now`.
  Status AddDueTimers();

  // Adds a checkpoint_signed over the head as it stands; returns its seq.
  uint64_t AddCheckpoint(const CheckpointKey& key);

  // Adds the segment_archived receipt of an archived segment; returns its seq.
  uint64_t AddSegmentArchived(uint64_t first_seq, uint64_t last_seq, const Hash& prev_hash,
                              const Hash& last_hash, const std::string& name,
                              const Hash& base_state_hash);

  rocksdb::WriteBatch& batch() { return batch_; }
  // The batch with the id and account index entries added, in key order
  // (each index's inserts then walk the memtable forwards); call once,
  // before writing it.
  rocksdb::WriteBatch& Finish();
  const ChainHead& head() const { return head_; }
  uint64_t appended() const { return appended_; }
  // The subject_shredded events added: (subject, purpose) whose keys go once
  // the batch is written.
  const std::vector<std::pair<std::string, schema::ErasurePurpose>>& shredded() const {
    return shredded_;
  }

 private:
  // A single event, or a run of events sharing a link_group.
  Status AddUnit(std::span<const Event> unit, std::span<const std::string> rejections,
                 std::vector<AppendOutcome>& outcomes);
  Result<AppendOutcome> AddEvent(const Event& event, const std::string& rejection);
  Status RunTimers(int64_t t);
  void AppendRecord(const Event& event, const std::string& digest);

  State& state_;
  ChainHead head_;
  const int64_t now_;
  const DecideOptions options_;
  IdLookup lookup_;
  rocksdb::WriteBatch batch_;
  // Index entries (key, value) of the records added, put by Finish.
  std::vector<std::pair<std::string, std::string>> index_puts_;
  std::unordered_map<std::string, IdEntry> batch_ids_;
  uint64_t appended_ = 0;
  std::vector<std::pair<std::string, schema::ErasurePurpose>> shredded_;
};

}  // namespace tally::internal
