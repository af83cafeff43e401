#include "ledger/internal/replay.h"

#include <algorithm>
#include <cstring>

#include "events/personal.h"
#include "ledger/internal/decider.h"
#include "ledger/internal/keys.h"
#include "ledger/internal/record.h"

namespace tally::internal {
namespace {}  // namespace

Status ReplayRecord(const LoggedEvent& record, ChainHead& head, State& state) {
  auto bad = [&](const std::string& what) {
    return Status::Corruption("seq " + std::to_string(record.seq) + ": " + what);
  };
  if (record.seq != head.seq + 1) {
    return Status::Corruption("seq " + std::to_string(head.seq + 1) + " is missing");
  }
  Hash expected = ChainHash(head.hash, record.seq, record.recorded_at_micros, record.event.bytes());
  if (expected != record.hash) return bad("hash chain broken (the event or its hash was altered)");
  Postings replayed;
  try {
    replayed = Apply(state, record.event, record.seq, record.recorded_at_micros);
  } catch (const std::exception& e) {
    return bad(std::string("replay failed: ") + e.what());
  }
  if (replayed != record.postings) return bad("stored journal entry differs from replay");
  head = {record.seq, record.hash};
  return Status::Ok();
}

namespace {

Status CheckHead(rocksdb::DB* db, const rocksdb::Snapshot* snapshot, const ChainHead& head) {
  rocksdb::ReadOptions options;
  options.snapshot = snapshot;
  std::string value;
  auto status = db->Get(options, std::string(kHeadKey), &value);
  if (status.IsNotFound()) {
    return head.seq == 0 ? Status::Ok() : Status::Corruption("the head record is missing");
  }
  if (!status.ok()) return FromRocks(status, "reading the head");
  if (value.size() != kHeadValueBytes) return Status::Corruption("the head record has a bad size");
  if (ReadU64(value) != head.seq) {
    return Status::Corruption("head says seq " + std::to_string(ReadU64(value)) +
                              " but the log ends at seq " + std::to_string(head.seq));
  }
  if (std::memcmp(head.hash.data(), value.data() + kSeqBytes, kHashBytes) != 0) {
    return Status::Corruption("head hash differs from the chain at seq " +
                              std::to_string(head.seq));
  }
  return Status::Ok();
}

// Checks that the id index and the account index point at `record`.
Status CheckIndexes(rocksdb::DB* db, const rocksdb::ReadOptions& options,
                    const LoggedEvent& record) {
  auto reader = record.event.reader();
  std::string id(reader.getId().cStr());
  auto bad = [&](const std::string& what) {
    return Status::Corruption("seq " + std::to_string(record.seq) + ": " + what);
  };
  std::string value;
  auto status = db->Get(options, IdKey(id), &value);
  if (status.IsNotFound()) return bad("id \"" + id + "\" is missing from the id index");
  if (!status.ok()) return FromRocks(status, "reading the id index");
  if (value.size() != kIdValueBytes || ReadU64(value) != record.seq ||
      value.substr(kSeqBytes) != ContentDigest(record.event.bytes())) {
    return bad("the id index entry of \"" + id + "\" points elsewhere (an id appended twice?)");
  }
  status = db->Get(options, AccountKey(reader.getAccount().cStr(), record.seq), &value);
  if (status.IsNotFound()) return bad("missing from the account index");
  return FromRocks(status, "reading the account index");
}

// Whether `event` was sealed with keys of the key store, or names them.
// Whether `event` holds a field sealed with a data key. An erasure receipt
// does not: a subject erased before it ever had personal data had no key
// (a ledger without a master key records such erasures too).
bool NamesKeys(schema::Event::Reader event) {
  if (!HasPersonalFields(event)) return false;
  bool sealed = false;
  ForEachPersonalField(event,
                       [&](std::string_view, schema::Purpose, schema::PersonalField::Reader field) {
                         sealed = sealed || field.which() == schema::PersonalField::SEALED;
                       });
  return sealed;
}

VerifyReport Replay(rocksdb::DB* db, State* state, ChainHead* head, bool check_indexes,
                    uint64_t* first_keyed_seq) {
  VerifyReport report;
  const rocksdb::Snapshot* snapshot = db->GetSnapshot();
  rocksdb::ReadOptions index_options;
  index_options.snapshot = snapshot;
  auto base = ReadBase(db, snapshot);
  if (base.ok() && *base) {
    report.status = DecodeState((*base)->state, state);
    *head = {(*base)->first_seq - 1, (*base)->prev_hash};
  } else if (!base.ok()) {
    report.status = base.status();
  }
  if (!report.status.ok()) {
    report.first_bad_seq = 1;
    db->ReleaseSnapshot(snapshot);
    return report;
  }
  bool receipt_found = !*base;
  auto status = ScanRecords(db, snapshot, head->seq + 1, [&](const LoggedEvent& record) {
    auto reader = record.event.reader();
    if (*base && reader.which() == schema::Event::SEGMENT_ARCHIVED &&
        reader.getSegmentArchived().getLastSeq() == (*base)->first_seq - 1) {
      Hash expected = BaseHash(**base);
      auto recorded = reader.getSegmentArchived().getBaseStateHash();
      if (recorded.size() != kHashBytes ||
          !std::equal(recorded.begin(), recorded.end(), expected.begin())) {
        report.status = Status::Corruption("seq " + std::to_string(record.seq) +
                                           ": the log base differs from the one this "
                                           "segment_archived receipt names");
        report.first_bad_seq = record.seq;
        return false;
      }
      receipt_found = true;
    }
    if (*first_keyed_seq == 0 && NamesKeys(reader)) *first_keyed_seq = record.seq;
    report.status = ReplayRecord(record, *head, *state);
    if (!report.status.ok()) {
      report.first_bad_seq = head->seq + 1;  // the record that should follow the head
      return false;
    }
    if (check_indexes) report.status = CheckIndexes(db, index_options, record);
    if (!report.status.ok()) {
      report.first_bad_seq = record.seq;
      return false;
    }
    ++report.events_checked;
    return true;
  });
  if (report.status.ok() && !status.ok()) {
    report.status = status;
    report.first_bad_seq = head->seq + 1;
  }
  if (report.status.ok()) {
    report.status = CheckHead(db, snapshot, *head);
    if (!report.status.ok()) report.first_bad_seq = head->seq + 1;
  }
  if (report.status.ok() && !receipt_found) {
    report.status = Status::Corruption(
        "the log starts at seq " + std::to_string((*base)->first_seq) +
        " but no segment_archived receipt names its base (records were removed)");
    report.first_bad_seq = (*base)->first_seq;
  }
  db->ReleaseSnapshot(snapshot);
  return report;
}

}  // namespace

Result<std::optional<LogBase>> ReadBase(rocksdb::DB* db, const rocksdb::Snapshot* snapshot) {
  rocksdb::ReadOptions options;
  options.snapshot = snapshot;
  std::string value;
  auto status = db->Get(options, std::string(kBaseKey), &value);
  if (status.IsNotFound()) return std::optional<LogBase>();
  if (!status.ok()) return FromRocks(status, "reading the log base");
  auto base = DecodeBase(value);
  if (!base.ok()) return base.status();
  return std::optional<LogBase>(std::move(base).value());
}

Status ScanRecords(rocksdb::DB* db, const rocksdb::Snapshot* snapshot, uint64_t from_seq,
                   const std::function<bool(const LoggedEvent&)>& visit) {
  rocksdb::ReadOptions options;
  const rocksdb::Snapshot* own = snapshot == nullptr ? db->GetSnapshot() : nullptr;
  options.snapshot = snapshot == nullptr ? own : snapshot;
  options.verify_checksums = true;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(options));
  Status result;
  const std::string prefix(1, kEventPrefix);
  for (it->Seek(EventKey(from_seq)); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().size() != 1 + kSeqBytes) {
      result = Status::Corruption("a log key has a bad size");
      break;
    }
    auto record =
        DecodeRecord(ReadU64(it->key().ToStringView().substr(1)), it->value().ToStringView());
    if (!record.ok()) {
      result = record.status();
      break;
    }
    if (!visit(*record)) break;
  }
  if (result.ok()) result = FromRocks(it->status(), "scanning the log");
  it.reset();
  if (own != nullptr) db->ReleaseSnapshot(own);
  return result;
}

Result<ChainHead> ReplayLog(rocksdb::DB* db, State* state, uint64_t* first_keyed_seq) {
  TALLY_CHECK(state->account_count() == 0);
  ChainHead head;
  uint64_t keyed = 0;
  VerifyReport report = Replay(db, state, &head, /*check_indexes=*/false, &keyed);
  if (!report.status.ok()) return report.status;
  if (first_keyed_seq != nullptr) *first_keyed_seq = keyed;
  return head;
}

VerifyReport VerifyLog(rocksdb::DB* db, uint64_t* first_keyed_seq) {
  State state;
  ChainHead head;
  uint64_t keyed = 0;
  VerifyReport report = Replay(db, &state, &head, /*check_indexes=*/true, &keyed);
  if (first_keyed_seq != nullptr) *first_keyed_seq = keyed;
  if (report.status.ok()) {
    // Blocks that no record or index lookup reads (filters, properties, the
    // values of keys no record names) are checked by their checksums.
    report.status = FromRocks(db->VerifyChecksum(), "the store's tables are damaged");
  }
  return report;
}

AccountView ViewOf(const std::string& account, const AccountState* st) {
  AccountView view{account, 0, {}, {}, {}, {}, {}, {}};
  if (st == nullptr) return view;
  view.version = st->version;
  view.available = Credits::FromMicros(st->Available());
  view.held = Credits::FromMicros(st->held);
  view.receivable = Credits::FromMicros(st->receivable);
  std::vector<const Lot*> lots;
  for (const Lot& lot : st->lots) lots.push_back(&lot);
  std::sort(lots.begin(), lots.end(),
            [](const Lot* a, const Lot* b) { return BurnsBefore(*a, *b); });
  for (const Lot* lot : lots) {
    std::optional<Money> deferred;
    if (!lot->currency.empty())
      deferred = Money::FromMinor(*Currency::Parse(lot->currency), lot->deferred);
    view.lots.push_back({lot->id, LotKindName(lot->kind), Credits::FromMicros(lot->credits),
                         deferred, lot->expires_at, lot->created_seq});
  }
  for (const auto& [task_id, hold] : st->holds) {
    view.holds.push_back({task_id, Credits::FromMicros(hold.credits), hold.expires_at});
  }
  view.privacy.profile_shredded = st->profile_shredded;
  view.privacy.billing_shredded = st->billing_shredded;
  view.privacy.billing_erasure_pending = st->billing_erasure_pending;
  view.privacy.legal_hold = st->legal_hold;
  return view;
}

}  // namespace tally::internal
