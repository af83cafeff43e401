// Exit codes of the `tally` binary (docs/cli.md). Scripts may rely on them.
#pragma once

#include "events/status.h"

namespace tally::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,       // environment failure (disk, store): retrying may help
  kExitUsage = 2,         // bad command line, or no ledger at --data
  kExitInvalidInput = 3,  // input rejected; nothing was written
  kExitRejected = 4,      // some events rejected (e.g. id conflict); the others were written
  kExitCorruption = 5,    // stored data failed a check: call an operator
};

inline ExitCode ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return kExitOk;
    case StatusCode::kInvalidArgument: return kExitInvalidInput;
    case StatusCode::kNotFound: return kExitUsage;
    case StatusCode::kConflict: return kExitRejected;
    case StatusCode::kCorruption: return kExitCorruption;
    case StatusCode::kIoError:
    case StatusCode::kUnavailable: return kExitFailure;
  }
  return kExitFailure;
}

}  // namespace tally::cli
