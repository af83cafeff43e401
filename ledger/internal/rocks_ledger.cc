// The Ledger on RocksDB: one writer at a time, readers on snapshots.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <sodium.h>

#include <filesystem>
#include <mutex>
#include <unordered_map>

#include "ledger/internal/keys.h"
#include "ledger/ledger.h"

namespace tally {
namespace {

using internal::kDigestBytes;

// Digest of what the producer sent (the event without ledger fields), so
// that a redelivery with the same id is told apart from a different event.
std::string ContentDigest(const Event& event) {
  TALLY_CHECK(event.reader().getSeq() == 0);
  unsigned char digest[kDigestBytes];
  auto bytes = event.bytes();
  crypto_generichash(digest, sizeof(digest), reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size(), nullptr, 0);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

Status FromRocks(const rocksdb::Status& status, const std::string& what) {
  if (status.ok()) return Status::Ok();
  if (status.IsCorruption()) return Status::Corruption(what + ": " + status.ToString());
  return Status::IoError(what + ": " + status.ToString());
}

std::string ToString(kj::StringPtr text) { return {text.begin(), text.size()}; }

class RocksLedger final : public Ledger {
 public:
  RocksLedger(std::unique_ptr<rocksdb::DB> db, const Clock* clock, uint64_t head_seq)
      : db_(std::move(db)), clock_(clock), head_seq_(head_seq) {}

  Result<std::vector<AppendOutcome>> Append(std::span<const Event> events) override;
  uint64_t head_seq() const override {
    std::lock_guard lock(mutex_);
    return head_seq_;
  }
  Status Scan(uint64_t from_seq, const std::function<bool(const Event&)>& visit) const override;
  Status ScanAccount(const std::string& account,
                     const std::function<bool(const Event&)>& visit) const override;

 private:
  struct IdEntry {
    uint64_t seq;
    std::string digest;
  };
  // Looks `id` up in this batch, then in the log. Returns seq 0 if absent.
  Result<IdEntry> FindId(const std::string& id,
                         const std::unordered_map<std::string, IdEntry>& batch) const;
  Result<Event> ReadEvent(const rocksdb::ReadOptions& options, uint64_t seq) const;

  std::unique_ptr<rocksdb::DB> db_;
  const Clock* clock_;
  mutable std::mutex mutex_;  // one batch at a time; guards head_seq_
  uint64_t head_seq_;
};

Result<RocksLedger::IdEntry> RocksLedger::FindId(
    const std::string& id, const std::unordered_map<std::string, IdEntry>& batch) const {
  if (auto it = batch.find(id); it != batch.end()) return it->second;
  std::string value;
  auto status = db_->Get(rocksdb::ReadOptions(), internal::IdKey(id), &value);
  if (status.IsNotFound()) return IdEntry{0, ""};
  if (!status.ok()) return FromRocks(status, "reading id index");
  if (value.size() != internal::kIdValueBytes) {
    return Status::Corruption("id index entry for \"" + id + "\" has " +
                              std::to_string(value.size()) + " bytes");
  }
  return IdEntry{internal::ReadU64(value), value.substr(internal::kSeqBytes)};
}

Result<std::vector<AppendOutcome>> RocksLedger::Append(std::span<const Event> events) {
  std::lock_guard lock(mutex_);
  std::vector<AppendOutcome> outcomes;
  outcomes.reserve(events.size());
  std::unordered_map<std::string, IdEntry> batch_ids;
  rocksdb::WriteBatch batch;
  uint64_t seq = head_seq_;
  const int64_t recorded_at_micros = clock_->NowMicros();
  for (const Event& event : events) {
    auto reader = event.reader();
    std::string id = ToString(reader.getId());
    std::string digest = ContentDigest(event);
    auto found = FindId(id, batch_ids);
    if (!found.ok()) return found.status();
    if (found->seq != 0) {
      if (found->digest == digest) {
        outcomes.push_back({AppendOutcome::Kind::kDuplicate, found->seq, ""});
      } else {
        outcomes.push_back({AppendOutcome::Kind::kRejected, 0,
                            "conflict: id \"" + id + "\" is already at seq " +
                                std::to_string(found->seq) + " with other content"});
      }
      continue;
    }
    ++seq;
    Event stamped = event.WithLedgerFields(seq, recorded_at_micros);
    batch.Put(internal::EventKey(seq),
              rocksdb::Slice(stamped.bytes().data(), stamped.bytes().size()));
    batch.Put(internal::IdKey(id), internal::EncodeU64(seq) + digest);
    batch.Put(internal::AccountKey(ToString(reader.getAccount()), seq), "");
    batch_ids[id] = IdEntry{seq, digest};
    outcomes.push_back({AppendOutcome::Kind::kAppended, seq, ""});
  }
  if (seq == head_seq_) return outcomes;  // nothing new: no write
  batch.Put(std::string(internal::kHeadKey), internal::EncodeU64(seq));
  rocksdb::WriteOptions write_options;
  write_options.sync = true;  // acknowledged only once on disk
  auto status = db_->Write(write_options, &batch);
  if (!status.ok()) return FromRocks(status, "appending batch");
  head_seq_ = seq;
  return outcomes;
}

Result<Event> RocksLedger::ReadEvent(const rocksdb::ReadOptions& options, uint64_t seq) const {
  std::string value;
  auto status = db_->Get(options, internal::EventKey(seq), &value);
  if (status.IsNotFound()) {
    return Status::Corruption("seq " + std::to_string(seq) + " is indexed but missing");
  }
  if (!status.ok()) return FromRocks(status, "reading seq " + std::to_string(seq));
  auto event = Event::FromCanonical(value);
  if (!event.ok()) return event.status().WithContext("seq " + std::to_string(seq));
  return event;
}

Status RocksLedger::Scan(uint64_t from_seq, const std::function<bool(const Event&)>& visit) const {
  rocksdb::ReadOptions options;
  const rocksdb::Snapshot* snapshot = db_->GetSnapshot();
  options.snapshot = snapshot;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options));
  Status result;
  const std::string prefix(1, internal::kEventPrefix);
  for (it->Seek(internal::EventKey(from_seq)); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    uint64_t seq = internal::ReadU64(it->key().ToStringView().substr(1));
    auto event = Event::FromCanonical(it->value().ToStringView());
    if (!event.ok()) {
      result = event.status().WithContext("seq " + std::to_string(seq));
      break;
    }
    if (!visit(*event)) break;
  }
  if (result.ok()) result = FromRocks(it->status(), "scanning the log");
  it.reset();
  db_->ReleaseSnapshot(snapshot);
  return result;
}

Status RocksLedger::ScanAccount(const std::string& account,
                                const std::function<bool(const Event&)>& visit) const {
  rocksdb::ReadOptions options;
  const rocksdb::Snapshot* snapshot = db_->GetSnapshot();
  options.snapshot = snapshot;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options));
  Status result;
  const std::string prefix = internal::AccountPrefix(account);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto event =
        ReadEvent(options, internal::ReadU64(it->key().ToStringView().substr(prefix.size())));
    if (!event.ok()) {
      result = event.status();
      break;
    }
    if (!visit(*event)) break;
  }
  if (result.ok()) result = FromRocks(it->status(), "scanning account " + account);
  it.reset();
  db_->ReleaseSnapshot(snapshot);
  return result;
}

Result<uint64_t> ReadHead(rocksdb::DB* db) {
  std::string value;
  auto status = db->Get(rocksdb::ReadOptions(), std::string(internal::kHeadKey), &value);
  if (status.IsNotFound()) return uint64_t{0};
  if (!status.ok()) return FromRocks(status, "reading head");
  if (value.size() != internal::kSeqBytes) return Status::Corruption("head has a bad size");
  return internal::ReadU64(value);
}

// Writes the layout version into a new log; refuses a log of another version.
Status CheckFormat(rocksdb::DB* db) {
  std::string value;
  auto status = db->Get(rocksdb::ReadOptions(), std::string(internal::kFormatKey), &value);
  if (status.IsNotFound()) {
    rocksdb::WriteOptions write_options;
    write_options.sync = true;
    std::string version = internal::EncodeU64(internal::kFormatVersion);
    return FromRocks(db->Put(write_options, std::string(internal::kFormatKey), version),
                     "writing the format version");
  }
  if (!status.ok()) return FromRocks(status, "reading the format version");
  if (value.size() != internal::kSeqBytes || internal::ReadU64(value) != internal::kFormatVersion) {
    return Status::Corruption("this log has an unknown format version");
  }
  return Status::Ok();
}

}  // namespace

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
  if (sodium_init() < 0) return Status::IoError("libsodium failed to initialise");
  if (options.create_if_missing) {
    std::error_code error;
    std::filesystem::create_directories(options.data_dir, error);
    if (error) return Status::IoError("creating " + options.data_dir + ": " + error.message());
  }
  rocksdb::Options db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.paranoid_checks = true;
  rocksdb::DB* raw = nullptr;
  auto status = rocksdb::DB::Open(db_options, options.data_dir, &raw);
  if (!status.ok()) {
    if (!options.create_if_missing && status.IsInvalidArgument()) {
      return Status::NotFound("no ledger in " + options.data_dir);
    }
    return FromRocks(status, "opening " + options.data_dir);
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  if (auto format = CheckFormat(db.get()); !format.ok()) return format;
  auto head = ReadHead(db.get());
  if (!head.ok()) return head.status();
  return std::unique_ptr<Ledger>(std::make_unique<RocksLedger>(std::move(db), clock, *head));
}

}  // namespace tally
