// tally retention plan|apply: what is past its horizon, and archiving it
// (docs/retention.md).
#include "ledger/retention.h"

#include "adapters/cli/commands.h"
#include "adapters/cli/exit_codes.h"
#include "adapters/cli/support.h"
#include "events/timestamp.h"
#include "reports/privacy.h"

namespace tally::cli {
namespace {

void PrintPlan(const RetentionPlan& plan, OutputFormat format, Io io) {
  Render(RetentionTable(plan), format, io.out);
  if (format != OutputFormat::kTable) return;
  io.out << "live log: seqs " << plan.first_live_seq << ".." << plan.head_seq << '\n';
  if (plan.archivable_through > 0) {
    io.out << "past their horizon and archivable now: seqs " << plan.first_live_seq << ".."
           << plan.archivable_through << " (tally retention apply)\n";
  } else {
    io.out << "nothing is archivable now\n";
  }
  if (plan.next_seq > 0) {
    io.out << "next: seq " << plan.next_seq << " (" << plan.next_category
           << ") passes its horizon on " << FormatTimestamp(plan.next_horizon_micros) << '\n';
  }
}

}  // namespace

int RunRetentionPlan(const std::string& data_dir, OutputFormat format, Io io) {
  auto policy = LoadRetentionPolicy(data_dir);
  if (!policy.ok()) return Fail(policy.status(), io);
  auto log = Log::OpenForReading(data_dir);
  if (!log.ok()) return Fail(log.status(), io);
  SystemClock clock;
  auto plan = PlanRetention(**log, *policy, clock.NowMicros());
  if (!plan.ok()) return Fail(plan.status(), io);
  PrintPlan(*plan, format, io);
  return kExitOk;
}

int RunRetentionApply(const std::string& data_dir, uint64_t through_seq,
                      const MasterKeyFile& master_key, OutputFormat format, Io io) {
  auto policy = LoadRetentionPolicy(data_dir);
  if (!policy.ok()) return Fail(policy.status(), io);
  SystemClock clock;
  auto ledger = OpenExisting(data_dir, master_key, &clock);
  if (!ledger.ok()) return Fail(ledger.status(), io);
  // The projections must have folded every record before it leaves.
  auto store = OpenProjectionsForWriting(**ledger, data_dir);
  if (!store.ok()) return Fail(store.status(), io);
  if (auto status = CatchUp(**store); !status.ok()) return Fail(status, io);
  uint64_t through = through_seq;
  if (through == 0) {
    auto plan = PlanRetention(**ledger, *policy, clock.NowMicros());
    if (!plan.ok()) return Fail(plan.status(), io);
    through = plan->archivable_through;
    if (through == 0) {
      if (format == OutputFormat::kTable) {
        io.out << "nothing is past its horizon; nothing was archived\n";
        if (plan->next_seq > 0) {
          io.out << "next: seq " << plan->next_seq << " (" << plan->next_category
                 << ") passes its horizon on " << FormatTimestamp(plan->next_horizon_micros)
                 << '\n';
        }
      } else {
        Render(Report{{{"segment"}}, {}}, format, io.out);
      }
      return kExitOk;
    }
  }
  const std::string archive_dir = ArchiveDir(data_dir);
  auto archived = (*ledger)->Archive(through, *policy, archive_dir);
  if (!archived.ok()) return Fail(archived.status(), io);
  Report report{
      {{"segment"},
       {"first_seq", Column::Kind::kInteger},
       {"last_seq", Column::Kind::kInteger},
       {"receipt_seq", Column::Kind::kInteger},
       {"last_hash"},
       {"archive_dir"}},
      {{archived->name, std::to_string(archived->first_seq), std::to_string(archived->last_seq),
        std::to_string(archived->receipt_seq), HashHex(archived->last_hash), archive_dir}}};
  Render(report, format, io.out);
  if (auto status = CatchUp(**store); !status.ok()) {
    return Fail(status.WithContext("updating projections"), io);
  }
  return kExitOk;
}

}  // namespace tally::cli
