// Ledger: the append-only, hash-chained event log and its decisions.
//
// Append contract (docs/ledger.md): each event of a batch is judged on its
// own, in order:
//   - an id already in the log with the same content is acknowledged with
//     its original seq (kDuplicate); with other content it is rejected;
//   - a business rule may reject it (kRejected, with the reason): version
//     conflict, refund of an unknown payment, ...; nothing is written for it;
//   - otherwise it is appended (kAppended) with the next seq and recorded_at,
//     extends the hash chain, becomes a balanced journal entry, and may be
//     followed by ledger-made events (hold_accepted, credits_expired, ...).
// Events sharing a link_group are all appended or all rejected. Everything
// appended by concurrent Append calls is written in one synced RocksDB write
// (group commit) and acknowledged only after it is on disk.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "events/event.h"
#include "events/limits.h"
#include "events/money.h"
#include "events/status.h"
#include "ledger/clock.h"
#include "ledger/journal.h"
#include "ledger/keystore.h"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace tally {

inline constexpr size_t kHashBytes = 32;
using Hash = std::array<uint8_t, kHashBytes>;
std::string HashHex(const Hash& hash);

// One group commit, for metrics (LedgerOptions::on_group_commit).
struct GroupCommit {
  size_t events = 0;     // sent by the group's appenders
  size_t appenders = 0;  // callers of Append whose events it wrote
  double seconds = 0;    // the synced write and the high-water mark
  bool ok = true;
};

struct LedgerOptions {
  std::string data_dir;           // created if missing
  bool create_if_missing = true;  // false: an absent log is NotFound
  // Hold TTL when task_submitted gives none.
  int64_t hold_ttl_ms_default = limits::kHoldTtlMsDefault;
  // Most events in one group commit (<= limits::kGroupCommitEventsMax).
  size_t group_commit_events_max = limits::kGroupCommitEventsMax;
  // How long the leader of a group commit waits for more appenders before it
  // writes, unless the group is already full (<= kGroupCommitWaitMicrosMax).
  // 0: write at once with whoever is queued (the default; under load the
  // queue fills while the previous group's fsync runs).
  int64_t group_commit_wait_micros = 0;
  // The operator's master key for the key store in `data_dir`/keys
  // (docs/privacy.md). Without it, events with personal fields are
  // rejected, and a data directory that holds a key store does not open.
  std::optional<MasterKey> master_key = std::nullopt;
  // Years invoices are kept (the retention policy's horizon for invoices):
  // an erased subject's billing identity is shredded that long after its
  // last invoice or credit note.
  int invoice_retention_years = limits::kRetentionYearsDefault;
  // The RocksDB environment the log's files (and its high-water mark) are
  // read and written through; nullptr: the default (the local disk). Tests
  // pass one that fails writes, syncs or space on purpose. Not owned; must
  // outlive the Ledger.
  rocksdb::Env* env = nullptr;
  // If set: told of every group commit once it is durable (or failed): how
  // many events its appenders sent and how long the synced write took.
  // Runs on the group's leading thread, with no lock held; keep it cheap.
  std::function<void(const GroupCommit&)> on_group_commit = nullptr;
};

// Where archived segments of the log in `data_dir` go (docs/retention.md).
std::string ArchiveDir(const std::string& data_dir);

// Where the key store of the log in `data_dir` lives.
std::string KeyStoreDir(const std::string& data_dir);
// The error for a data directory with a key store opened without the master key.
Status MasterKeyNeeded(const std::string& data_dir);

struct AppendOutcome {
  enum class Kind {
    kAppended,   // new: written at `seq`
    kDuplicate,  // same id and content already at `seq`; nothing written
    kRejected,   // not written; `reason` says why
  };
  Kind kind = Kind::kAppended;
  uint64_t seq = 0;    // 0 when rejected
  std::string reason;  // empty unless rejected
};

const char* AppendOutcomeName(AppendOutcome::Kind kind);

// One event as stored: its place in the chain and its journal entry.
struct LoggedEvent {
  uint64_t seq = 0;
  int64_t recorded_at_micros = 0;
  Hash hash{};  // chain hash at seq
  Event event;  // as the producer (or the ledger) made it; seq/recorded_at unset
  Postings postings;
};

struct LotView {
  std::string id;                 // the event that created the lot
  std::string kind;               // "promotional", "paid", "subscription"
  Credits credits;                // remaining
  std::optional<Money> deferred;  // remaining deferred revenue (paid lots)
  int64_t expires_at_micros = 0;  // 0: never
  uint64_t created_seq = 0;
};

struct HoldView {
  std::string task_id;
  Credits credits;
  int64_t expires_at_micros = 0;
};

// Where an account's personal data stands (docs/privacy.md).
struct PrivacyView {
  bool profile_shredded = false;
  bool billing_shredded = false;
  bool billing_erasure_pending = false;    // asked, waiting for the invoices' horizon
  int64_t billing_erasure_due_micros = 0;  // when it runs (if pending)
  std::string legal_hold;                  // the hold's reason; empty: none
};

struct AccountView {
  std::string account;
  uint64_t version = 0;  // producer events appended for the account
  Credits available;     // spendable: live lots less holds
  Credits held;
  Credits receivable;         // consumed beyond the balance
  std::vector<LotView> lots;  // in burn order
  std::vector<HoldView> holds;
  PrivacyView privacy;
};

// A position in a source of events (a Kafka topic partition): the first
// offset not yet appended. Stored in the same write as the events taken
// from before it, so that a consumer resuming from StoredOffset takes every
// message exactly once (docs/ledger.md, "Source offsets").
struct SourceOffset {
  std::string topic;  // 1-249 characters of [a-zA-Z0-9._-]
  int32_t partition = 0;
  int64_t next_offset = 0;
};

// A stored offset and the cluster it is of. An offset means something only
// on the cluster it came from: another cluster (a new embedded one, a
// migration) numbers its messages from 0 again.
struct ClusterOffset {
  int64_t next_offset = 0;
  std::string cluster;  // empty: not known (and for offsets stored before clusters were)
};

// A message that did not become an event (it did not parse, or the ledger
// rejected it), kept in the log's store until the caller has delivered it
// to its dead-letter destination (docs/kafka.md, "Dead letters").
struct DeadLetter {
  uint64_t id = 0;     // given by the ledger when stored, from 1
  std::string reason;  // why it is a dead letter
  std::string key;     // the original message key
  std::string value;   // the original message bytes
  std::vector<std::pair<std::string, std::string>> headers;  // name, value
};

// What AppendFrom stores beside the events, in the same write.
struct SourceBatch {
  std::span<const SourceOffset> offsets = {};
  // The identity of the cluster `offsets` are of, stored with them (at most
  // limits::kClusterIdBytesMax bytes; empty: not known).
  std::string cluster = {};
  // Kept as given (messages that did not become events). They must hold no
  // plaintext personal data (docs/privacy.md, "Dead letters").
  std::span<const DeadLetter> dead_letters = {};
  // If set: called with the index of each event the ledger rejects and the
  // event as the ledger judged it: its personal fields sealed, or redacted
  // where they could not be (RedactPersonalFields), never in plaintext. The
  // dead letter it returns is kept with the rejection's reason; its value
  // must come from `judged`, not from the original bytes, if the event has
  // personal fields. It runs inside the write, on whichever thread leads it.
  std::function<DeadLetter(size_t event_index, const Event& judged)> if_rejected = nullptr;
};

struct ArchivedSegment {
  std::string name;  // segment-<first>-<last>
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  Hash prev_hash{};          // chain hash at first_seq - 1
  Hash last_hash{};          // chain hash at last_seq
  uint64_t receipt_seq = 0;  // the segment_archived event
};

struct VerifyReport {
  uint64_t events_checked = 0;
  uint64_t first_bad_seq = 0;  // 0 when the log verified
  Status status;               // ok, or what is wrong at first_bad_seq
};

// The instant the ledger decided `event` at: occurred_at for imported and
// ledger-made events (an expiry's due time), recorded_at otherwise. Reports
// by period use it.
int64_t EffectiveTime(const LoggedEvent& event);

// Whether the ledger made `event` (hold_accepted, credits_expired, ...):
// those do not count in an account's version.
bool IsLedgerMade(const Event& event);

// Whether `event` counts in its account's version (expected_version): every
// producer event but personal_data_accessed, a record of a read that
// changes nothing of the account.
bool CountsInVersion(const Event& event);

// The log for reading: its head, scans and checks. A Ledger is a Log;
// Log::OpenForReading gives one without the ledger's decision state.
class Log {
 public:
  // Opens an existing log read-only, without replaying it, so it is ready at
  // once whatever its length. It reads the log as it was when opened; it
  // checks the format, not the chain (Verify does). NotFound if there is no
  // log in `data_dir`.
  static Result<std::unique_ptr<Log>> OpenForReading(const std::string& data_dir);
  virtual ~Log() = default;
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  virtual uint64_t head_seq() const = 0;
  virtual Hash head_hash() const = 0;
  // The first seq in the live store: 1, or after an archive and purge
  // (docs/retention.md) the seq after the last one archived.
  virtual uint64_t first_seq() const = 0;

  // Calls `visit` for each event from `from_seq` on, in seq order, until it
  // returns false. Reads one consistent snapshot. Seqs before first_seq()
  // are read from the archived segments in ArchiveDir (NotFound, naming
  // them, when they are not there).
  virtual Status Scan(uint64_t from_seq,
                      const std::function<bool(const LoggedEvent&)>& visit) const = 0;
  // Calls `visit` for each event of `account`, in seq order.
  virtual Status ScanAccount(const std::string& account,
                             const std::function<bool(const LoggedEvent&)>& visit) const = 0;

  // Sums every journal entry per ledger account and asset (purged ones by
  // their stored totals); checks that each asset sums to zero.
  virtual Result<std::vector<TrialBalanceLine>> TrialBalance() const = 0;

  // Re-reads the whole log: seqs without gaps, every record decodes, the hash
  // chain links to the head, and replaying every event from an empty state
  // gives the stored journal entries. Names the first bad seq.
  virtual VerifyReport Verify() const = 0;

  // Ok unless the log lost events it once acknowledged: its high-water mark
  // (docs/formats/log.md) has seen a later seq than its head, or another
  // event at that seq. Then Corruption naming the lost seqs and what to do
  // (docs/ledger.md, "Lost history"). A Ledger does not open in that case.
  virtual Status CheckHistory() const = 0;

  // The named accounts' balances, lots and holds at the head. A Ledger
  // answers from its state; a log opened for reading replays itself into a
  // scratch state first (time grows with the log), so it answers beside a
  // running writer.
  virtual Result<std::vector<AccountView>> AccountsAtHead(
      const std::vector<std::string>& accounts) const = 0;

 protected:
  Log() = default;
};

class Ledger : public Log {
 public:
  // Opens (or creates) the log and rebuilds the decision state by replaying
  // it, checking the hash chain and every journal entry on the way: a
  // damaged log does not open (Corruption names the seq), nor does a log
  // that lost acknowledged events (CheckHistory: Corruption naming the lost
  // seqs; nothing is written before that check). `clock` must outlive the
  // Ledger.
  static Result<std::unique_ptr<Ledger>> Open(const LedgerOptions& options, const Clock* clock);

  // Appends `events` (each validated by EventCodec as producer input) and
  // returns one outcome per event, in order. A non-ok Status means nothing of
  // the batch was written; retry the whole batch.
  virtual Result<std::vector<AppendOutcome>> Append(std::span<const Event> events) = 0;

  // Append, and stores `source` (offsets, dead letters) in the same synced
  // write, even when every event was a duplicate or rejected (or `events`
  // is empty). An offset below the stored one for its partition (of the
  // same cluster: one of another cluster replaces it) means another writer took the partition:
  // Conflict, nothing of the call is written.
  virtual Result<std::vector<AppendOutcome>> AppendFrom(std::span<const Event> events,
                                                        const SourceBatch& source) = 0;
  // The offset stored for (topic, partition), of whichever cluster; nullopt
  // if none was.
  virtual Result<std::optional<int64_t>> StoredOffset(const std::string& topic,
                                                      int32_t partition) const = 0;
  // The same with the cluster it is of.
  virtual Result<std::optional<ClusterOffset>> StoredClusterOffset(const std::string& topic,
                                                                   int32_t partition) const = 0;

  // The oldest `max` dead letters not yet removed, in the order stored.
  virtual Result<std::vector<DeadLetter>> DeadLetters(size_t max) const = 0;
  // Removes delivered dead letters (unknown ids are ignored).
  virtual Status RemoveDeadLetters(std::span<const uint64_t> ids) = 0;

  // A named reader's position in the log (the last seq it has handled; 0:
  // none), kept in the log's store so that a publisher resumes after a
  // crash where it stopped. StoreCursor writes it to disk before returning.
  virtual Result<uint64_t> Cursor(const std::string& name) const = 0;
  virtual Status StoreCursor(const std::string& name, uint64_t seq) = 0;

  // Appends the ledger-made events due by the clock's now (hold TTLs, lot
  // expiry). Append does this too; a server calls Tick when idle. Returns
  // how many were appended.
  virtual Result<uint64_t> Tick() = 0;

  // Appends a checkpoint_signed with `key`'s Ed25519 signature over the head
  // (seq, hash) and the clock's now (ledger/checkpoint.h). Returns its seq.
  virtual Result<uint64_t> Checkpoint(const class CheckpointKey& key) = 0;

  // Archives the live records first_seq()..through_seq into `archive_dir`
  // (a Cap'n Proto segment file and a manifest, docs/formats/archive.md),
  // then appends segment_archived and purges them from the live store in
  // one write, and compacts them out of its files. Refused (InvalidArgument,
  // nothing written) if any of them is not past its horizon under `policy`
  // by the clock: no record younger than its horizon is ever deleted.
  virtual Result<struct ArchivedSegment> Archive(uint64_t through_seq,
                                                 const class RetentionPolicy& policy,
                                                 const std::string& archive_dir) = 0;

  // The account's balances, lots and holds now (an unknown account is empty).
  virtual AccountView Account(const std::string& account) const = 0;
  // Every customer account with events, sorted (not the ledger's own "_" accounts).
  virtual std::vector<std::string> Accounts() const = 0;

 protected:
  Ledger() = default;
};

}  // namespace tally
