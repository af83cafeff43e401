// Helpers shared by the command implementations (not part of commands.h).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "adapters/cli/commands.h"
#include "adapters/cli/ndjson_append.h"
#include "adapters/cli/progress.h"
#include "events/status.h"
#include "ledger/ledger.h"
#include "ledger/retention.h"
#include "projections/log_range.h"
#include "projections/store.h"

namespace tally::cli {

// Prints `status` on stderr and returns its exit code.
int Fail(const Status& status, Io io);

// Prints the invalid lines of an NDJSON file (stderr; and stdout as JSON or
// CSV), then "nothing was <verb>".
void PrintLineErrors(const NdjsonEvents& read, const char* verb, OutputFormat format, Io io);

// The retention policy of `data_dir`: its retention.json, else the default.
Result<RetentionPolicy> LoadRetentionPolicy(const std::string& data_dir);

// The master key in `file`; nullopt when no file was given. InvalidArgument
// naming the file when it cannot be read or is not a key.
Result<std::optional<MasterKey>> LoadMasterKey(const MasterKeyFile& file);

// The options for the ledger in `data_dir`: the master key of `master_key`,
// if given, and the invoices' horizon from the retention policy.
Result<LedgerOptions> LedgerOptionsFor(const std::string& data_dir, const MasterKeyFile& master_key,
                                       bool create_if_missing);

// Opens (or creates) the ledger in `data_dir` with LedgerOptionsFor.
Result<std::unique_ptr<Ledger>> OpenLedger(const std::string& data_dir,
                                           const MasterKeyFile& master_key, const Clock* clock,
                                           bool create_if_missing);

// Opens an existing ledger; a missing one is NotFound.
Result<std::unique_ptr<Ledger>> OpenExisting(const std::string& data_dir,
                                             const MasterKeyFile& master_key, const Clock* clock);

// The key store of `data_dir`, read-only, for showing personal fields: null
// when the directory has none (nothing personal was ever sealed there).
// InvalidArgument when it has one and no master key was given.
Result<std::unique_ptr<KeyStore>> OpenKeysForReading(const std::string& data_dir,
                                                     const MasterKeyFile& master_key);

// The log prefix `as_of` names; InvalidArgument for a bad timestamp.
Result<LogRange> RangeOf(const AsOf& as_of);
// A short pause before opening stores again that another process is using.
void PauseBeforeRetry();
// The log read-only. A writer that flushes or compacts while it opens can
// remove a file the open is about to read: opened again, it reads the new
// set of files.
Result<std::unique_ptr<Log>> OpenLogForReading(const std::string& data_dir);

// InvalidArgument when `range` names a seq past the head of `log`: a report
// as of a seq that does not exist yet is an error, not today's figures.
Status CheckInLog(const LogRange& range, const Log& log);

// A progress bar that appears on the first report of `ProgressFn`.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label) : label_(std::move(label)) {}
  ProgressFn Fn();

 private:
  std::string label_;
  std::optional<Progress> bar_;
};

// Brings every projection up to the log's head, with a progress bar.
Status CatchUp(ProjectionStore& store);

// An existing log, opened for reading without replay, and its projections
// caught up: what the read commands need, ready at once on any length.
struct ReadView {
  std::unique_ptr<Log> log;
  std::unique_ptr<ProjectionStore> projections;
};

// The log and its projections for a read command, caught up to the log's
// head. Takes no lock another command needs for long: if another process
// holds the projections, they are read as a secondary and what they lack
// is folded from the log in memory.
Result<std::unique_ptr<ReadView>> OpenForReading(const std::string& data_dir);

// The projections of `log` for writing, waiting up to
// limits::kProjectionLockWaitMs while another process holds them.
Result<std::unique_ptr<ProjectionStore>> OpenProjectionsForWriting(const Log& log,
                                                                   const std::string& data_dir);

// After a committed write: brings the projections up to the log if no
// other process holds them; otherwise, or on failure, warns on `io.err`
// (the write stands; the next command catches up).
void CatchUpAfterWrite(const Log& log, const std::string& data_dir, Io io);

}  // namespace tally::cli
