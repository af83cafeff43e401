// Projections: read models kept in RocksDB and folded from the log.
//
// A projection is a deterministic function of the log: it declares the
// events it consumes and turns each into changes to its rows (key and value
// bytes). The same events always give the same rows, byte for byte, however
// they are split into catch-up batches; `tally rebuild` and `tally audit
// verify` rely on that. Rows and the projection's checkpoint (the last seq
// applied) are written in one RocksDB write (projections/store.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/status.h"
#include "ledger/ledger.h"

namespace tally {

// The rows of one projection. Reads see the writes made before them.
class Rows {
 public:
  virtual ~Rows() = default;
  virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;
  virtual void Put(std::string_view key, std::string_view value) = 0;
  virtual void Delete(std::string_view key) = 0;
};

class Projection {
 public:
  virtual ~Projection() = default;
  // Lower case, used in keys and on the command line ("trial_balance").
  virtual std::string_view name() const = 0;
  // Aggregates answer as-of reads from periodic snapshots of all their rows;
  // the others keep the seq in their rows and answer as-of by filtering.
  virtual bool keeps_snapshots() const = 0;
  // The events Apply changes rows for.
  virtual bool Consumes(const LoggedEvent& event) const = 0;
  // Folds one event into `rows`. Corruption if a row does not decode.
  virtual Status Apply(const LoggedEvent& event, Rows& rows) const = 0;
};

// Every projection the ledger keeps, in a fixed order.
const std::vector<const Projection*>& AllProjections();
// nullptr when no projection has that name.
const Projection* FindProjection(std::string_view name);

}  // namespace tally
