// tally generate: the workload of workload/workload.h as NDJSON.
#include <fstream>

#include "adapters/cli/commands.h"
#include "adapters/cli/exit_codes.h"

namespace tally::cli {

int RunGenerate(const workload::WorkloadOptions& options, const std::string& out, Io io) {
  const workload::Workload generated = workload::Generate(options);
  std::ofstream file;
  std::ostream* sink = &io.out;
  if (out != "-") {
    file.open(out, std::ios::binary | std::ios::trunc);
    if (!file) {
      io.err << "tally generate: cannot write " << out << '\n';
      return kExitFailure;
    }
    sink = &file;
  }
  for (const workload::WorkloadEvent& event : generated.events) *sink << event.json << '\n';
  sink->flush();
  if (!*sink) {
    io.err << "tally generate: writing " << out << " failed\n";
    return kExitFailure;
  }
  if (out != "-") {
    io.err << "wrote " << generated.events.size() << " events of " << generated.accounts.size()
           << " accounts to " << out << '\n';
  }
  return kExitOk;
}

}  // namespace tally::cli
