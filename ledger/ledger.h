// Ledger: the append-only event log on RocksDB.
//
// Append contract (docs/ledger.md): a batch is validated by the caller
// (events/codec.h), then each event is judged on its own: a new id is
// appended with the next seq and recorded_at; an id already in the log with
// the same content is acknowledged with its original seq; the same id with
// other content is rejected as a conflict. All appended events of a batch go
// to disk in one synced RocksDB write: all of them or none.
//
// Thread-safety: Append and the readers may be called from any thread;
// appends are applied one batch at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "events/event.h"
#include "events/status.h"
#include "ledger/clock.h"

namespace tally {

struct LedgerOptions {
  std::string data_dir;           // created if missing
  bool create_if_missing = true;  // false: an absent log is NotFound
};

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

class Ledger {
 public:
  // Opens (or creates) the log in options.data_dir. `clock` must outlive the Ledger.
  static Result<std::unique_ptr<Ledger>> Open(const LedgerOptions& options, const Clock* clock);
  virtual ~Ledger() = default;
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Appends `events` (each already validated) as one atomic, synced write.
  // Returns one outcome per event, in order; a non-ok Status means nothing
  // of the batch was written.
  virtual Result<std::vector<AppendOutcome>> Append(std::span<const Event> events) = 0;

  // The seq of the last appended event (0 for an empty log).
  virtual uint64_t head_seq() const = 0;

  // Calls `visit` for each event from `from_seq` on, in seq order, until it
  // returns false. Reads one consistent snapshot.
  virtual Status Scan(uint64_t from_seq, const std::function<bool(const Event&)>& visit) const = 0;

  // Calls `visit` for each event of `account`, in seq order.
  virtual Status ScanAccount(const std::string& account,
                             const std::function<bool(const Event&)>& visit) const = 0;

 protected:
  Ledger() = default;
};

}  // namespace tally
