// tally generate: the workload of workload/workload.h as NDJSON.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "adapters/cli/commands.h"
#include "adapters/cli/exit_codes.h"

namespace tally::cli {
namespace {

void WriteEvents(const workload::Workload& generated, std::ostream& out) {
  for (const workload::WorkloadEvent& event : generated.events) out << event.json << '\n';
  out.flush();
}

}  // namespace

// A file is written whole or not at all: to OUT.partial, renamed to OUT
// once every line is written, so a full disk never leaves half a month
// where a replay would take it for all of it.
int RunGenerate(const workload::WorkloadOptions& options, const std::string& out, Io io) {
  const workload::Workload generated = workload::Generate(options);
  if (out == "-") {
    WriteEvents(generated, io.out);
    return io.out ? kExitOk : kExitFailure;
  }
  const std::string partial = out + ".partial";
  std::error_code ignored;
  {
    std::ofstream file(partial, std::ios::binary | std::ios::trunc);
    if (!file) {
      io.err << "tally generate: cannot write " << partial << '\n';
      return kExitFailure;
    }
    WriteEvents(generated, file);
    file.close();
    if (!file) {
      std::filesystem::remove(partial, ignored);
      io.err << "tally generate: writing " << partial << " failed; nothing was written to " << out
             << '\n';
      return kExitFailure;
    }
  }
  if (std::rename(partial.c_str(), out.c_str()) != 0) {
    std::filesystem::remove(partial, ignored);
    io.err << "tally generate: cannot rename " << partial << " to " << out << '\n';
    return kExitFailure;
  }
  io.err << "wrote " << generated.events.size() << " events of " << generated.accounts.size()
         << " accounts to " << out << '\n';
  return kExitOk;
}

}  // namespace tally::cli
