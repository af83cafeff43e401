// tally shred and tally legal-hold: an operator's erasure request and legal
// holds, appended as events so that the log holds the receipt
// (docs/privacy.md).
#include <cstdlib>
#include <filesystem>

#include "adapters/cli/commands.h"
#include "adapters/cli/exit_codes.h"
#include "adapters/cli/support.h"
#include "events/codec.h"
#include "events/timestamp.h"
#include "reports/json.h"

namespace tally::cli {
namespace {

std::string OperatorName(const std::string& by) {
  if (!by.empty()) return by;
  const char* user = std::getenv("USER");
  return std::string("operator:") + (user != nullptr && *user != '\0' ? user : "unknown");
}

struct Appended {
  std::unique_ptr<Ledger> ledger;
  AppendOutcome outcome;
  std::string id;
};

// Appends one operator event of `type` for `subject`.
Result<Appended> AppendOperatorEvent(const std::string& data_dir, const MasterKeyFile& master_key,
                                     const std::string& subject, const std::string& type,
                                     const Json& data) {
  SystemClock clock;
  auto ledger = OpenExisting(data_dir, master_key, &clock);
  if (!ledger.ok()) return ledger.status();
  const int64_t now = clock.NowMicros();
  const std::string id = "cli-" + type + "-" + subject + "-" + std::to_string(now);
  Json line = Json::Object();
  line.Add("id", Json::String(id))
      .Add("account", Json::String(subject))
      .Add("occurred_at", Json::String(FormatTimestamp(now)))
      .Add("producer", Json::String("tally-cli"))
      .Add("type", Json::String(type))
      .Add("data", data);
  const std::string json = Encode(line);
  EventCodec codec;
  auto event = codec.ParseJson(json);
  if (!event.ok()) return event.status();
  auto outcomes = (*ledger)->Append(std::span<const Event>(&*event, 1));
  if (!outcomes.ok()) return outcomes.status();
  Appended appended{std::move(ledger).value(), (*outcomes)[0], id};
  return appended;
}

}  // namespace

int RunShred(const std::string& data_dir, const std::string& subject, const std::string& purpose,
             const std::string& by, const MasterKeyFile& master_key, OutputFormat format, Io io) {
  if (purpose != "profile" && purpose != "billing" && purpose != "all") {
    return Fail(Status::InvalidArgument("--purpose must be profile, billing or all"), io);
  }
  auto appended = AppendOperatorEvent(data_dir, master_key, subject, "erasure_requested",
                                      Json::Object()
                                          .Add("purpose", Json::String(purpose))
                                          .Add("requested_by", Json::String(OperatorName(by))));
  if (!appended.ok()) return Fail(appended.status(), io);
  const AppendOutcome& outcome = appended->outcome;
  if (outcome.kind == AppendOutcome::Kind::kRejected) {
    io.err << "tally shred: " << subject << ": " << outcome.reason << '\n';
    return kExitRejected;
  }
  const Ledger& ledger = *appended->ledger;
  Report report{{{"subject"}, {"purpose"}, {"result"}, {"seq", Column::Kind::kInteger}}, {}};
  Status scanned = ledger.ScanAccount(subject, [&](const LoggedEvent& logged) {
    auto reader = logged.event.reader();
    if (logged.seq > outcome.seq && reader.which() == schema::Event::SUBJECT_SHREDDED &&
        reader.getCorrelationId() == appended->id) {
      bool profile = reader.getSubjectShredded().getPurpose() == schema::ErasurePurpose::PROFILE;
      report.rows.push_back(
          {subject, profile ? "profile" : "billing", "shredded", std::to_string(logged.seq)});
    }
    return true;
  });
  if (!scanned.ok()) return Fail(scanned, io);
  PrivacyView privacy = ledger.Account(subject).privacy;
  auto shown = [&](const char* name) {
    for (const auto& row : report.rows) {
      if (row[1] == name) return true;
    }
    return false;
  };
  if (purpose != "billing" && !shown("profile")) {
    report.rows.push_back({subject, "profile", "already shredded", ""});
  }
  if (purpose != "profile" && !shown("billing")) {
    report.rows.push_back({subject, "billing",
                           privacy.billing_erasure_pending
                               ? "kept for its invoices until " +
                                     FormatTimestamp(privacy.billing_erasure_due_micros) +
                                     ", then shredded"
                               : "already shredded",
                           ""});
  }
  Render(report, format, io.out);
  if (format == OutputFormat::kTable) {
    io.out << "erasure_requested appended at seq " << outcome.seq << " (id " << appended->id
           << ")\n";
  }
  CatchUpAfterWrite(ledger, data_dir, io);
  return kExitOk;
}

int RunLegalHold(const std::string& data_dir, const std::string& subject, bool place,
                 const std::string& reason, const std::string& by, const MasterKeyFile& master_key,
                 OutputFormat format, Io io) {
  const std::string type = place ? "legal_hold_placed" : "legal_hold_released";
  Json data = Json::Object();
  data.Add("reason", Json::String(reason))
      .Add(place ? "placed_by" : "released_by", Json::String(OperatorName(by)));
  auto appended = AppendOperatorEvent(data_dir, master_key, subject, type, data);
  if (!appended.ok()) return Fail(appended.status(), io);
  if (appended->outcome.kind == AppendOutcome::Kind::kRejected) {
    io.err << "tally legal-hold: " << appended->outcome.reason << '\n';
    return kExitRejected;
  }
  Report report{{{"subject"}, {"legal_hold"}, {"seq", Column::Kind::kInteger}},
                {{subject, place ? "placed" : "released", std::to_string(appended->outcome.seq)}}};
  Render(report, format, io.out);
  CatchUpAfterWrite(*appended->ledger, data_dir, io);
  return kExitOk;
}

}  // namespace tally::cli

namespace tally::cli {

int RunMasterKeyNew(const std::string& out, Io io) {
  auto key = MasterKey::Generate(out);
  if (!key.ok()) return Fail(key.status(), io);
  io.out << "wrote " << out
         << " (32 random bytes, mode 0600); keep it outside the data directory\n";
  return kExitOk;
}

int RunMasterKeyRotate(const std::string& data_dir, const std::string& next_file,
                       const MasterKeyFile& master_key, Io io) {
  auto current = LoadMasterKey(master_key);
  if (!current.ok()) return Fail(current.status(), io);
  if (!*current) {
    return Fail(
        Status::NotFound("no master key: give --master-key-file or set TALLY_MASTER_KEY_FILE"), io);
  }
  auto next = MasterKey::LoadFile(next_file);
  if (!next.ok()) return Fail(next.status(), io);
  const std::string dir = KeyStoreDir(data_dir);
  if (!std::filesystem::exists(std::filesystem::path(dir) / "CURRENT")) {
    return Fail(Status::NotFound("no key store in " + dir), io);
  }
  auto keys = KeyStore::Open(dir, **current);
  if (!keys.ok()) return Fail(keys.status(), io);
  if (auto status = (*keys)->RotateMaster(*next); !status.ok()) return Fail(status, io);
  io.out << "every data key in " << dir << " is now wrapped by " << next_file
         << "; the old master key no longer opens it\n";
  return kExitOk;
}

}  // namespace tally::cli
