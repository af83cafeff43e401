#include "ledger/archive.h"

#include <algorithm>
#include <map>

#include "ledger/internal/base.h"
#include "ledger/internal/record.h"
#include "ledger/internal/replay.h"
#include "ledger/internal/segment.h"

namespace tally {
namespace {

Hash HashOf(capnp::Data::Reader data) {
  Hash hash{};
  if (data.size() == hash.size()) std::copy(data.begin(), data.end(), hash.begin());
  return hash;
}

// Bases written before business ids hold the state in its first layout
// (ledger/internal/base.h). True if `base` (built from `state`) is such a
// base: then `state` becomes what that base keeps, as the ledger that wrote
// it went on from there.
bool MatchesFirstLayout(internal::LogBase base, internal::State& state, const Hash& expected) {
  base.state = internal::EncodeState(state, 1);
  if (internal::BaseHash(base) != expected) return false;
  internal::State kept;
  TALLY_CHECK(internal::DecodeState(base.state, &kept).ok());  // its own encoding
  state = std::move(kept);
  return true;
}

}  // namespace

ArchiveReport VerifyArchive(const Log& log, const std::string& archive_dir) {
  ArchiveReport report;
  auto fail = [&](uint64_t seq, Status status) {
    report.first_bad_seq = seq;
    report.status = std::move(status);
    return report;
  };
  auto segments = internal::ListSegments(archive_dir);
  if (!segments.ok()) return fail(1, segments.status());
  const uint64_t first_live = log.first_seq();
  if (segments->empty()) {
    if (first_live == 1) return report;
    return fail(1, Status::NotFound("the live log starts at seq " + std::to_string(first_live) +
                                    " but " + archive_dir + " holds no archived segment"));
  }
  internal::State state;
  internal::ChainHead chain;
  TrialBalanceBuilder totals;
  std::map<uint64_t, Hash> receipts;  // by last_seq: the base hash each receipt names
  auto note_receipt = [&](const LoggedEvent& record) {
    auto reader = record.event.reader();
    if (reader.which() != schema::Event::SEGMENT_ARCHIVED) return;
    auto archived = reader.getSegmentArchived();
    receipts[archived.getLastSeq()] = HashOf(archived.getBaseStateHash());
  };
  std::vector<std::pair<uint64_t, Hash>> bases;  // by segment: last_seq, computed base hash
  for (const auto& segment : *segments) {
    if (segment.last_seq >= first_live) break;  // archived again later; not purged (yet)
    if (segment.first_seq != chain.seq + 1) {
      return fail(chain.seq + 1,
                  Status::Corruption("archive: seqs " + std::to_string(chain.seq + 1) + ".." +
                                     std::to_string(segment.first_seq - 1) + " are missing"));
    }
    if (segment.prev_hash != chain.hash) {
      return fail(segment.first_seq, Status::Corruption("archive: " + segment.name +
                                                        " does not link to the segment before"));
    }
    Status failed;
    auto read = internal::ReadSegment(archive_dir, segment, [&](const LoggedEvent& record) {
      if (failed = internal::ReplayRecord(record, chain, state); !failed.ok()) return false;
      totals.Add(record.postings);
      note_receipt(record);
      ++report.events_checked;
      return true;
    });
    if (!read.ok()) return fail(chain.seq + 1, read);
    if (!failed.ok()) return fail(chain.seq + 1, failed);
    if (chain.hash != segment.last_hash) {
      return fail(segment.last_seq, Status::Corruption("archive: " + segment.name +
                                                       " does not end at its last_hash"));
    }
    auto lines = totals.Finish();
    if (!lines.ok()) return fail(segment.last_seq, lines.status());
    internal::LogBase base;
    base.first_seq = segment.last_seq + 1;
    base.prev_hash = chain.hash;
    base.state = internal::EncodeState(state);
    for (const TrialBalanceLine& line : *lines) {
      base.purged_totals.push_back({line.account, line.asset, line.balance});
    }
    Hash computed = internal::BaseHash(base);
    if (computed != segment.base_state_hash &&
        MatchesFirstLayout(base, state, segment.base_state_hash)) {
      computed = segment.base_state_hash;
    }
    if (computed != segment.base_state_hash) {
      return fail(segment.last_seq,
                  Status::Corruption("archive: replaying " + segment.name +
                                     " does not give the base its manifest names"));
    }
    bases.emplace_back(segment.last_seq, computed);
    ++report.segments;
  }
  if (chain.seq + 1 != first_live) {
    return fail(
        chain.seq + 1,
        Status::Corruption("archive: it ends at seq " + std::to_string(chain.seq) +
                           " but the live log starts at seq " + std::to_string(first_live)));
  }
  // The live log continues the chain, and holds the remaining receipts.
  Status live_status;
  bool first = true;
  auto scanned = log.Scan(first_live, [&](const LoggedEvent& record) {
    if (first) {
      first = false;
      if (internal::ChainHash(chain.hash, record.seq, record.recorded_at_micros,
                              record.event.bytes()) != record.hash) {
        live_status = Status::Corruption("seq " + std::to_string(record.seq) +
                                         ": the live log does not link to the archive");
        return false;
      }
    }
    note_receipt(record);
    return true;
  });
  if (!scanned.ok()) return fail(first_live, scanned);
  if (!live_status.ok()) return fail(first_live, live_status);
  for (const auto& [last_seq, computed] : bases) {
    auto receipt = receipts.find(last_seq);
    if (receipt == receipts.end() || receipt->second != computed) {
      return fail(last_seq, Status::Corruption("archive: the segment ending at seq " +
                                               std::to_string(last_seq) +
                                               " has no matching segment_archived receipt"));
    }
  }
  return report;
}

}  // namespace tally
