// Helpers shared by the command implementations (not part of commands.h).
#pragma once

#include <memory>
#include <string>

#include "adapters/cli/commands.h"
#include "events/status.h"
#include "ledger/ledger.h"
#include "projections/fold.h"

namespace tally::cli {

// Prints `status` on stderr and returns its exit code.
int Fail(const Status& status, Io io);

// Opens an existing ledger for reading; a missing one is NotFound.
Result<std::unique_ptr<Ledger>> OpenExisting(const std::string& data_dir, const Clock* clock);

// The log prefix `as_of` names; InvalidArgument for a bad timestamp.
Result<LogRange> RangeOf(const AsOf& as_of);

}  // namespace tally::cli
