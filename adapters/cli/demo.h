// tally demo's parts: what the drive through the service measured, and the
// report printed from the data it left (demo_report.cc).
#pragma once

#include <string>

#include "adapters/cli/commands.h"
#include "adapters/cli/demo_drive.h"
#include "adapters/cli/serve.h"
#include "workload/workload.h"

namespace tally::cli {

struct DemoRun {
  std::string data_dir;
  std::string ledger_dir;
  MasterKeyFile master_key;
  std::string publisher_token, operator_token, finance_token;
  DriveTotals drive;
  ServeTotals kafka;
  uint64_t head_seq = 0;
};

// The report a finance lead and an auditor would read, with the checks of
// its own identities; kExitOk if every check holds, else kExitCorruption.
int PrintDemoReport(const DemoOptions& options, const workload::Workload& month, const DemoRun& run,
                    Io io);

}  // namespace tally::cli
