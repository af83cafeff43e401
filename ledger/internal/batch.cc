#include "ledger/internal/batch.h"

#include <sodium.h>

#include <algorithm>

#include "events/limits.h"
#include "ledger/internal/amounts.h"
#include "ledger/internal/keys.h"
#include "ledger/internal/made.h"
#include "ledger/internal/record.h"

namespace tally::internal {
namespace {

// Decide and Apply compute on validated amounts, bounded so that no sum or
// product overflows (events/money.h). An exception from them (boost's
// overflow check, an allocation failure) is therefore a bug: the process
// stops here, before anything of the half-judged batch is written, and the
// next start rebuilds the state from the log.
template <typename F>
auto Guarded(const char* step, F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    TALLY_FAIL(std::string(step) + " threw: " + e.what());
  }
}

AppendOutcome Rejected(std::string reason) {
  return {AppendOutcome::Kind::kRejected, 0, std::move(reason)};
}

std::string LinkGroupOf(const Event& event) { return TextOf(event.reader().getLinkGroup()); }

}  // namespace

std::string ContentDigest(std::string_view event_bytes) {
  unsigned char digest[kDigestBytes];
  crypto_generichash(digest, sizeof(digest),
                     reinterpret_cast<const unsigned char*>(event_bytes.data()), event_bytes.size(),
                     nullptr, 0);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

BatchBuilder::BatchBuilder(State& state, ChainHead head, int64_t now, DecideOptions options,
                           IdLookup lookup)
    : state_(state),
      head_(head),
      now_(std::max(now, state.time())),
      options_(options),
      lookup_(std::move(lookup)) {}

Result<std::vector<AppendOutcome>> BatchBuilder::Add(std::span<const Event> events,
                                                     std::span<const std::string> rejections) {
  TALLY_CHECK(rejections.empty() || rejections.size() == events.size());
  std::vector<AppendOutcome> outcomes;
  outcomes.reserve(events.size());
  size_t begin = 0;
  while (begin < events.size()) {
    std::string group = LinkGroupOf(events[begin]);
    size_t end = begin + 1;
    while (!group.empty() && end < events.size() && LinkGroupOf(events[end]) == group) ++end;
    auto status =
        AddUnit(events.subspan(begin, end - begin),
                rejections.empty() ? rejections : rejections.subspan(begin, end - begin), outcomes);
    if (!status.ok()) return status;
    begin = end;
  }
  TALLY_CHECK(outcomes.size() == events.size());
  return outcomes;
}

Status BatchBuilder::AddUnit(std::span<const Event> unit, std::span<const std::string> rejections,
                             std::vector<AppendOutcome>& outcomes) {
  const bool linked = unit.size() > 1 || !LinkGroupOf(unit[0]).empty();
  const ChainHead saved_head = head_;
  const uint64_t saved_appended = appended_;
  const size_t saved_index_puts = index_puts_.size();
  if (linked) {
    state_.Savepoint();
    batch_.SetSavePoint();
  }
  size_t first = outcomes.size();
  const size_t saved_shredded = shredded_.size();
  std::vector<std::string> added_ids;
  for (size_t i = 0; i < unit.size(); ++i) {
    const Event& event = unit[i];
    auto outcome = AddEvent(event, rejections.empty() ? std::string() : rejections[i]);
    if (!outcome.ok()) return outcome.status();
    outcomes.push_back(*outcome);
    if (outcome->kind == AppendOutcome::Kind::kRejected) break;
    added_ids.push_back(TextOf(event.reader().getId()));
  }
  bool rejected = outcomes.back().kind == AppendOutcome::Kind::kRejected;
  if (!linked) return Status::Ok();
  if (!rejected) {
    state_.Release();
    batch_.PopSavePoint();
    return Status::Ok();
  }
  // One rejected member rejects the group: undo everything it appended.
  state_.Rollback();
  auto rollback = batch_.RollbackToSavePoint();
  TALLY_CHECK(rollback.ok());
  head_ = saved_head;
  appended_ = saved_appended;
  shredded_.resize(saved_shredded);
  index_puts_.resize(saved_index_puts);
  for (const std::string& id : added_ids) batch_ids_.erase(id);
  std::string cause = TextOf(unit[outcomes.size() - 1 - first].reader().getId());
  std::string reason = outcomes.back().reason;
  outcomes.resize(first);
  for (const Event& event : unit) {
    bool is_cause = TextOf(event.reader().getId()) == cause;
    outcomes.push_back(
        Rejected(is_cause ? reason : "linked event \"" + cause + "\" was rejected: " + reason));
  }
  return Status::Ok();
}

Result<AppendOutcome> BatchBuilder::AddEvent(const Event& event, const std::string& rejection) {
  auto reader = event.reader();
  TALLY_CHECK(reader.getSeq() == 0);
  if (!rejection.empty()) return Rejected(rejection);
  std::string id = TextOf(reader.getId());
  std::string digest = ContentDigest(event.bytes());
  std::optional<IdEntry> found;
  if (auto it = batch_ids_.find(id); it != batch_ids_.end()) {
    found = it->second;
  } else {
    auto looked_up = lookup_(id);
    if (!looked_up.ok()) return looked_up.status();
    found = *looked_up;
  }
  if (found) {
    if (found->digest == digest)
      return AppendOutcome{AppendOutcome::Kind::kDuplicate, found->seq, ""};
    return Rejected("conflict: id \"" + id + "\" is already at seq " + std::to_string(found->seq) +
                    " with other content");
  }
  int64_t t = reader.getImported() ? reader.getOccurredAt().getUnixMicros() : now_;
  if (t < state_.time()) {
    return Rejected("imported event occurred before the ledger time " +
                    std::to_string(state_.time()) + "; import history in time order, first");
  }
  if (auto status = RunTimers(t); !status.ok()) return status;
  Decision decision =
      Guarded("Decide", [&] { return Decide(state_, event, t, head_.seq + 1, options_); });
  if (!decision.rejection.empty()) return Rejected(decision.rejection);
  TALLY_CHECK(decision.events[0].bytes() == event.bytes());
  uint64_t seq = head_.seq + 1;
  AppendRecord(event, digest);
  for (size_t i = 1; i < decision.events.size(); ++i) {
    AppendRecord(decision.events[i], ContentDigest(decision.events[i].bytes()));
  }
  return AppendOutcome{AppendOutcome::Kind::kAppended, seq, ""};
}

Status BatchBuilder::AddDueTimers() { return RunTimers(now_); }

rocksdb::WriteBatch& BatchBuilder::Finish() {
  std::sort(index_puts_.begin(), index_puts_.end());
  for (const auto& [key, value] : index_puts_) TALLY_CHECK(batch_.Put(key, value).ok());
  index_puts_.clear();
  return batch_;
}

uint64_t BatchBuilder::AddCheckpoint(const CheckpointKey& key) {
  const ChainHead signed_head = head_;
  auto signature = key.Sign(signed_head.seq, signed_head.hash, now_);
  Event event =
      MakeLedgerEvent(head_.seq + 1, kLedgerAccount, now_, "", [&](schema::Event::Builder e) {
        auto c = e.initCheckpointSigned();
        c.setCheckpointSeq(signed_head.seq);
        c.setHash(kj::arrayPtr(signed_head.hash.data(), signed_head.hash.size()));
        c.initSignedAt().setUnixMicros(now_);
        c.setKeyId(key.key_id());
        c.setSignature(kj::arrayPtr(signature.data(), signature.size()));
      });
  AppendRecord(event, ContentDigest(event.bytes()));
  return head_.seq;
}

uint64_t BatchBuilder::AddSegmentArchived(uint64_t first_seq, uint64_t last_seq,
                                          const Hash& prev_hash, const Hash& last_hash,
                                          const std::string& name, const Hash& base_state_hash) {
  auto bytes = [](const Hash& hash) { return kj::arrayPtr(hash.data(), hash.size()); };
  Event event =
      MakeLedgerEvent(head_.seq + 1, kLedgerAccount, now_, "", [&](schema::Event::Builder e) {
        auto a = e.initSegmentArchived();
        a.setFirstSeq(first_seq);
        a.setLastSeq(last_seq);
        a.setPrevHash(bytes(prev_hash));
        a.setLastHash(bytes(last_hash));
        a.setArchiveName(name);
        a.setBaseStateHash(bytes(base_state_hash));
        a.setEvents(last_seq - first_seq + 1);
      });
  AppendRecord(event, ContentDigest(event.bytes()));
  return head_.seq;
}

Status BatchBuilder::RunTimers(int64_t t) {
  for (size_t i = 0; i < limits::kTimerEventsPerStepMax; ++i) {
    auto timer_event = NextTimerEvent(state_, t, head_.seq + 1);
    if (!timer_event) return Status::Ok();
    AppendRecord(*timer_event, ContentDigest(timer_event->bytes()));
  }
  return Status::Ok();
}

void BatchBuilder::AppendRecord(const Event& event, const std::string& digest) {
  auto reader = event.reader();
  LoggedEvent record{head_.seq + 1, now_, {}, event, {}};
  record.hash = ChainHash(head_.hash, record.seq, record.recorded_at_micros, event.bytes());
  record.postings =
      Guarded("Apply", [&] { return Apply(state_, event, record.seq, record.recorded_at_micros); });
  std::string id = TextOf(reader.getId());
  batch_.Put(EventKey(record.seq), EncodeRecord(record));
  index_puts_.emplace_back(IdKey(id), EncodeU64(record.seq) + digest);
  index_puts_.emplace_back(AccountKey(TextOf(reader.getAccount()), record.seq), "");
  batch_ids_[id] = {record.seq, digest};
  if (reader.which() == schema::Event::SUBJECT_SHREDDED) {
    shredded_.emplace_back(TextOf(reader.getSubjectShredded().getSubject()),
                           reader.getSubjectShredded().getPurpose());
  }
  head_ = {record.seq, record.hash};
  ++appended_;
}

}  // namespace tally::internal
