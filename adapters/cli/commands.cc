#include "adapters/cli/commands.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>

#include "adapters/cli/exit_codes.h"
#include "adapters/cli/ndjson_append.h"
#include "adapters/cli/support.h"
#include "events/timestamp.h"
#include "ledger/archive.h"
#include "ledger/checkpoint.h"
#include "ledger/export.h"
#include "ledger/personal.h"
#include "projections/balance.h"
#include "projections/projection.h"
#include "projections/reports.h"
#include "projections/statement.h"
#include "projections/store.h"
#include "reports/finance.h"

namespace tally::cli {
namespace {

// Prints outcomes: a summary plus the events not appended (table), or every event (JSON/CSV).
int PrintOutcomes(const NdjsonAppend& result, uint64_t head_seq, OutputFormat format, Io io) {
  Report report{{{"line", Column::Kind::kInteger},
                 {"id"},
                 {"outcome"},
                 {"seq", Column::Kind::kInteger},
                 {"reason"}},
                {}};
  uint64_t counts[3] = {0, 0, 0};
  for (size_t i = 0; i < result.outcomes.size(); ++i) {
    const AppendOutcome& outcome = result.outcomes[i];
    ++counts[static_cast<int>(outcome.kind)];
    if (format == OutputFormat::kTable && outcome.kind == AppendOutcome::Kind::kAppended) continue;
    report.rows.push_back({std::to_string(result.lines[i]), result.ids[i],
                           AppendOutcomeName(outcome.kind),
                           outcome.seq ? std::to_string(outcome.seq) : "", outcome.reason});
  }
  if (format == OutputFormat::kTable) {
    io.out << "appended " << counts[0] << ", duplicate " << counts[1] << ", rejected " << counts[2]
           << "; log head at seq " << head_seq << '\n';
    if (!report.rows.empty()) Render(report, format, io.out);
  } else {
    Render(report, format, io.out);
  }
  return counts[2] > 0 ? kExitRejected : kExitOk;
}

}  // namespace

int RunAppend(const std::string& data_dir, const std::string& file, const MasterKeyFile& master_key,
              OutputFormat format, Io io) {
  std::ifstream stream;
  uint64_t size_hint_bytes = 0;
  if (file != "-") {
    stream.open(file, std::ios::binary);
    if (!stream) return Fail(Status::InvalidArgument("cannot open " + file), io);
    std::error_code ignored;
    size_hint_bytes = std::filesystem::file_size(file, ignored);
  }
  SystemClock clock;
  auto ledger = OpenLedger(data_dir, master_key, &clock, /*create_if_missing=*/true);
  if (!ledger.ok()) return Fail(ledger.status(), io);
  {  // Before the append: projections that have seen seqs the log no longer
     // holds refuse to open (Corruption), and those seqs must not be reused.
     // Closed again at once: the catch-up after the append opens it anew.
    auto store = ProjectionStore::Open(**ledger, data_dir);
    if (!store.ok() && store.status().code() == StatusCode::kCorruption) {
      return Fail(store.status(), io);
    }
    if (store.ok() && !(*store)->LostHistory().ok()) return Fail((*store)->LostHistory(), io);
  }
  EventCodec codec;
  std::istream& in = file == "-" ? std::cin : stream;
  auto result = AppendNdjson(in, size_hint_bytes, codec, **ledger);
  if (!result.ok()) return Fail(result.status(), io);
  if (!result->errors.empty()) {
    PrintLineErrors(*result, "appended", format, io);
    return kExitInvalidInput;
  }
  // The events are durable: that is the result, whatever the projections
  // do next (a catch-up that cannot run loses nothing: reads fold the log).
  int code = PrintOutcomes(*result, (*ledger)->head_seq(), format, io);
  CatchUpAfterWrite(**ledger, data_dir, io);
  return code;
}

int RunBalance(const std::string& data_dir, const std::vector<std::string>& accounts,
               const AsOf& as_of, OutputFormat format, Io io) {
  auto range = RangeOf(as_of);
  if (!range.ok()) return Fail(range.status(), io);
  auto view = OpenForReading(data_dir);
  if (!view.ok()) return Fail(view.status(), io);
  if (auto status = CheckInLog(*range, *(*view)->log); !status.ok()) return Fail(status, io);
  const ProjectionStore& store = *(*view)->projections;
  std::vector<AccountBalance> balances;
  if (accounts.empty()) {
    auto all = ReadAllBalances(store, *range);
    if (!all.ok()) return Fail(all.status(), io);
    balances = *all;
  }
  for (const std::string& account : accounts) {
    auto balance = ReadBalance(store, account, *range);
    if (!balance.ok()) return Fail(balance.status(), io);
    balances.push_back(*balance);
  }
  const bool now = as_of.at_seq.empty() && as_of.as_of.empty();
  Report report = BalancesTable(balances, now);
  Render(report, format, io.out);
  return kExitOk;
}

int RunLots(const std::string& data_dir, const std::vector<std::string>& accounts,
            OutputFormat format, Io io) {
  auto log = OpenLogForReading(data_dir);  // retried while a writer swaps its files
  if (!log.ok()) return Fail(log.status(), io);
  if (Status history = (*log)->CheckHistory(); !history.ok()) return Fail(history, io);
  auto views = (*log)->AccountsAtHead(accounts);
  if (!views.ok()) return Fail(views.status(), io);
  Report report = LotsTable();
  for (const AccountView& view : *views) AddLots(view.account, view.lots, report);
  Render(report, format, io.out);
  return kExitOk;
}

int RunEvents(const std::string& data_dir, uint64_t from_seq, uint64_t limit, bool sealed,
              const MasterKeyFile& master_key, Io io) {
  auto log = Log::OpenForReading(data_dir);
  if (!log.ok()) return Fail(log.status(), io);
  std::unique_ptr<KeyStore> keys;
  if (!sealed) {
    auto opened = OpenKeysForReading(data_dir, master_key);
    if (!opened.ok()) return Fail(opened.status(), io);
    keys = std::move(opened).value();
  }
  EventCodec codec;
  uint64_t printed = 0;
  Status failed;
  auto status = (*log)->Scan(from_seq, [&](const LoggedEvent& record) {
    Event event = record.event.WithLedgerFields(record.seq, record.recorded_at_micros);
    if (keys != nullptr) {
      auto opened = OpenPersonalFields(event, *keys);
      if (!opened.ok()) {
        failed = opened.status().WithContext("seq " + std::to_string(record.seq));
        return false;
      }
      event = *opened;
    }
    io.out << codec.ToJson(event) << '\n';
    return limit == 0 || ++printed < limit;
  });
  if (!failed.ok()) return Fail(failed, io);
  if (!status.ok()) return Fail(status, io);
  return kExitOk;
}

int RunJournal(const std::string& data_dir, const std::string& account, uint64_t from_seq,
               OutputFormat format, Io io) {
  auto log = OpenLogForReading(data_dir);  // retried while a writer swaps its files
  if (!log.ok()) return Fail(log.status(), io);
  Report report{{{"seq", Column::Kind::kInteger},
                 {"recorded_at"},
                 {"type"},
                 {"ledger_account"},
                 {"asset"},
                 {"debit", Column::Kind::kAmount},
                 {"credit", Column::Kind::kAmount}},
                {}};
  auto add = [&](const LoggedEvent& record) {
    for (const Posting& posting : record.postings) {
      bool debit = posting.amount > 0;
      std::string amount = FormatAmount(posting.asset, debit ? posting.amount : -posting.amount);
      report.rows.push_back({std::to_string(record.seq), FormatTimestamp(record.recorded_at_micros),
                             std::string(record.event.type_name()), posting.account, posting.asset,
                             debit ? amount : "", debit ? "" : amount});
    }
    return true;
  };
  Status status = account.empty() ? (*log)->Scan(from_seq, add)
                                  : (*log)->ScanAccount(account, [&](const LoggedEvent& r) {
                                      return r.seq < from_seq || add(r);
                                    });
  if (!status.ok()) return Fail(status, io);
  Render(report, format, io.out);
  return kExitOk;
}

namespace {

std::string ScratchDir(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / ("projections-verify-" + std::to_string(getpid())))
      .string();
}

// The log and the live projections with every event of the log in the
// store's bytes (what comparing stored bytes needs). While another process
// (tally serve) owns the store, it is opened read-only, again until that
// process has caught it up with the log this view opened.
Result<std::unique_ptr<ReadView>> OpenAllStored(const std::string& data_dir) {
  for (int attempt = 1;; ++attempt) {
    auto view = OpenForReading(data_dir);
    if (!view.ok()) return view.status();
    if ((*view)->projections->all_stored()) return view;
    if (attempt >= limits::kReadOpenAttemptsMax) {
      return Status::Unavailable(
          "the projections trail the log while another process writes them; try again");
    }
    PauseBeforeRetry();
  }
}

// Rebuilds every projection in scratch space and compares with the live
// store: Corruption naming the first projection that differs. Works while
// tally serve owns the store.
Status VerifyLiveProjections(const std::string& data_dir, uint64_t* head) {
  auto view = OpenAllStored(data_dir);
  if (!view.ok()) return view.status();
  *head = (*view)->log->head_seq();
  ProgressBar bar("rebuilding projections");
  auto compared = VerifyProjections(*(*view)->projections, ScratchDir(data_dir), bar.Fn());
  if (!compared.ok()) return compared.status();
  if (compared->projection.empty()) return Status::Ok();
  return Status::Corruption("projection " + compared->projection + ": " + compared->detail);
}

// The live revenue projection against the journal (`journal`: the log's
// trial balance) at the log's head; `months` gets the rows compared.
// The revenue report against the journal of the same log prefix. Both come
// from a log and projections opened together (OpenForReading), not from the
// log the other checks read: while a service appends, the projections may
// have moved past that one.
Status VerifyRevenue(const std::string& data_dir, uint64_t* months) {
  auto view = OpenForReading(data_dir);  // never the writer's lock
  if (!view.ok()) return view.status();
  auto journal = (*view)->log->TrialBalance();
  if (!journal.ok()) return journal.status();
  LogRange range;
  range.at_seq = (*view)->log->head_seq();
  auto revenue = ReadRevenue(*(*view)->projections, range);
  if (!revenue.ok()) return revenue.status();
  *months = revenue->size();
  return ReconcileRevenue(*revenue, *journal);
}

}  // namespace

namespace {

struct Rebuildable {
  std::unique_ptr<Log> log;
  std::unique_ptr<ProjectionStore> store;  // reads `log`
};

// The log, and the projections opened for writing. A store ahead of the log
// is a log opened just before another process appended and caught the
// store up: both are opened again. Still ahead once this process holds the
// store, the log lost acknowledged seqs, and a rebuild would hide the loss.
Result<Rebuildable> OpenToRebuild(const std::string& data_dir) {
  for (int attempt = 1;; ++attempt) {
    Rebuildable opened;
    auto log = OpenLogForReading(data_dir);
    if (!log.ok()) return log.status();
    opened.log = std::move(log).value();
    if (auto history = opened.log->CheckHistory(); !history.ok()) return history;
    auto store = OpenProjectionsForWriting(*opened.log, data_dir);
    if (!store.ok()) return store.status();
    opened.store = std::move(store).value();
    if (!opened.store->ahead_of_log()) return opened;
    if (attempt >= limits::kReadOpenAttemptsMax) return opened.store->LostHistory();
    opened.store.reset();
    PauseBeforeRetry();
  }
}

}  // namespace

int RunRebuild(const std::string& data_dir, const std::vector<std::string>& names,
               OutputFormat format, Io io) {
  for (const std::string& name : names) {
    if (FindProjection(name) == nullptr) {
      std::string known;
      for (const Projection* projection : AllProjections()) {
        known += (known.empty() ? "" : ", ") + std::string(projection->name());
      }
      return Fail(
          Status::InvalidArgument("no projection named " + name + " (known: " + known + ")"), io);
    }
  }
  auto opened = OpenToRebuild(data_dir);
  if (!opened.ok()) return Fail(opened.status(), io);
  auto& store = opened.value().store;
  auto started = std::chrono::steady_clock::now();
  {
    ProgressBar bar("rebuilding");
    auto status = store->Rebuild(names, bar.Fn());
    if (!status.ok()) return Fail(status, io);
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // The others may lag if an earlier command stopped early; bring them along.
  if (auto status = CatchUp(*store); !status.ok()) return Fail(status, io);
  Report report{{{"projection"}, {"seq", Column::Kind::kInteger}, {"rebuilt"}}, {}};
  for (const Projection* projection : AllProjections()) {
    auto checkpoint = store->Checkpoint(projection->name());
    if (!checkpoint.ok()) return Fail(checkpoint.status(), io);
    bool rebuilt =
        names.empty() || std::find(names.begin(), names.end(), projection->name()) != names.end();
    report.rows.push_back(
        {std::string(projection->name()), std::to_string(checkpoint->seq), rebuilt ? "yes" : "no"});
  }
  Render(report, format, io.out);
  if (format == OutputFormat::kTable) {
    uint64_t events = opened.value().log->head_seq();
    io.out << "rebuilt from " << events << " events in " << std::fixed << std::setprecision(3)
           << seconds << " s";
    if (seconds > 0) io.out << " (" << static_cast<uint64_t>(events / seconds) << " events/s)";
    io.out << '\n';
  }
  return kExitOk;
}

Result<AuditOutcome> AuditVerify(const std::string& data_dir, const std::string& public_key_file,
                                 const std::function<void(const Report&)>& progress) {
  // Read-only and without replay (Verify replays): no master key needed.
  auto ledger = Log::OpenForReading(data_dir);
  if (!ledger.ok()) return ledger.status();
  VerifyReport log = (*ledger)->Verify();
  auto trial = (*ledger)->TrialBalance();
  Status log_status = log.status.ok() ? trial.status() : log.status;
  Report out{{{"check"},
              {"result"},
              {"checked", Column::Kind::kInteger},
              {"first_bad_seq", Column::Kind::kInteger},
              {"detail"}},
             {}};
  auto row = [&](const char* check, const Status& status, uint64_t checked, uint64_t bad,
                 const std::string& detail) {
    out.rows.push_back({check, status.ok() ? "ok" : "failed", std::to_string(checked),
                        bad ? std::to_string(bad) : "", status.ok() ? detail : status.message()});
    if (progress) progress(out);
  };
  row("log", log_status, log.events_checked, log.first_bad_seq,
      "head " + std::to_string((*ledger)->head_seq()) + " " + HashHex((*ledger)->head_hash()));
  Status status = log_status;
  {
    uint64_t head = 0;
    Status projections = VerifyLiveProjections(data_dir, &head);
    row("projections", projections, AllProjections().size(), 0,
        "rebuilt from seq 1 and equal to the live store at seq " + std::to_string(head));
    if (status.ok()) status = projections;
  }
  {
    uint64_t months = 0;
    Status revenue = VerifyRevenue(data_dir, &months);
    row("revenue", revenue, months, 0,
        "every figure of the revenue report, per currency, equals the journal's");
    if (status.ok()) status = revenue;
  }
  {
    ArchiveReport archive = VerifyArchive(**ledger, ArchiveDir(data_dir));
    row("archive", archive.status, archive.events_checked, archive.first_bad_seq,
        archive.segments == 0
            ? std::string("nothing archived")
            : std::to_string(archive.segments) + " segment(s) in " + ArchiveDir(data_dir) +
                  " chain into the live log at seq " + std::to_string((*ledger)->first_seq()));
    if (status.ok()) status = archive.status;
  }
  if (!public_key_file.empty()) {
    auto key = LoadPublicKey(public_key_file);
    if (!key.ok()) return key.status();
    CheckpointReport checkpoints = VerifyCheckpoints(**ledger, *key);
    row("checkpoints", checkpoints.status, checkpoints.checkpoints, checkpoints.first_bad_seq,
        "key " + KeyIdOf(*key) + ", last signed seq " +
            std::to_string(checkpoints.last_signed_seq));
    if (status.ok()) status = checkpoints.status;
  }
  return AuditOutcome{std::move(out), status};
}

int RunAuditVerify(const std::string& data_dir, const std::string& public_key_file,
                   OutputFormat format, Io io) {
  auto outcome = AuditVerify(data_dir, public_key_file);
  if (!outcome.ok()) return Fail(outcome.status(), io);
  Render(outcome->checks, format, io.out);
  return outcome->status.ok() ? kExitOk : ExitCodeFor(outcome->status);
}

int RunAuditExport(const std::string& data_dir, const std::string& out, OutputFormat format,
                   Io io) {
  auto log = Log::OpenForReading(data_dir);
  if (!log.ok()) return Fail(log.status(), io);
  auto events = ExportLog(**log, out);
  if (!events.ok()) return Fail(events.status(), io);
  Report report{{{"export"}, {"events", Column::Kind::kInteger}, {"head_hash"}},
                {{out, std::to_string(*events), HashHex((*log)->head_hash())}}};
  Render(report, format, io.out);
  return kExitOk;
}

int RunAuditVerifyExport(const std::string& export_dir, const std::string& public_key_file,
                         OutputFormat format, Io io) {
  std::optional<PublicKey> key;
  if (!public_key_file.empty()) {
    auto loaded = LoadPublicKey(public_key_file);
    if (!loaded.ok()) return Fail(loaded.status(), io);
    key = *loaded;
  }
  ExportReport report = VerifyExport(export_dir, key ? &*key : nullptr);
  Report out{{{"check"},
              {"result"},
              {"checked", Column::Kind::kInteger},
              {"first_bad_seq", Column::Kind::kInteger},
              {"detail"}},
             {}};
  std::string detail = "head " + HashHex(report.head_hash);
  if (key)
    detail +=
        ", " + std::to_string(report.checkpoints) + " checkpoint(s) with key " + KeyIdOf(*key);
  out.rows.push_back({"export", report.status.ok() ? "ok" : "failed",
                      std::to_string(report.events_checked),
                      report.first_bad_seq ? std::to_string(report.first_bad_seq) : "",
                      report.status.ok() ? detail : report.status.message()});
  Render(out, format, io.out);
  return report.status.ok() ? kExitOk : ExitCodeFor(report.status);
}

int RunAuditKeygen(const std::string& out, Io io) {
  CheckpointKey key = CheckpointKey::Generate();
  if (auto status = key.Save(out); !status.ok()) return Fail(status, io);
  io.out << "wrote " << out << " (secret, mode 0600) and " << out << ".pub; key id " << key.key_id()
         << '\n';
  return kExitOk;
}

int RunAuditCheckpoint(const std::string& data_dir, const std::string& key_file,
                       const MasterKeyFile& master_key, OutputFormat format, Io io) {
  auto key = CheckpointKey::Load(key_file);
  if (!key.ok()) return Fail(key.status(), io);
  SystemClock clock;
  auto ledger = OpenExisting(data_dir, master_key, &clock);
  if (!ledger.ok()) return Fail(ledger.status(), io);
  uint64_t signed_seq = (*ledger)->head_seq();
  Hash signed_hash = (*ledger)->head_hash();
  auto seq = (*ledger)->Checkpoint(*key);
  if (!seq.ok()) return Fail(seq.status(), io);
  Report report{
      {{"checkpoint_seq", Column::Kind::kInteger},
       {"signed_seq", Column::Kind::kInteger},
       {"signed_hash"},
       {"key_id"}},
      {{std::to_string(*seq), std::to_string(signed_seq), HashHex(signed_hash), key->key_id()}}};
  Render(report, format, io.out);
  return kExitOk;
}

}  // namespace tally::cli
