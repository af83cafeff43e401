// tally demo: a generated month of an AI image and video platform driven
// through a service in this process (HTTP on loopback, Kafka's mock
// cluster), then a report that checks its own books (demo_report.cc).
#include "adapters/cli/demo.h"

#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <thread>

#include "adapters/cli/commands.h"
#include "adapters/cli/demo_drive.h"
#include "adapters/cli/exit_codes.h"
#include "adapters/cli/progress.h"
#include "adapters/cli/serve.h"
#include "adapters/cli/support.h"
#include "service/http_server.h"

namespace tally::cli {
namespace {

Result<std::string> MakeTempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "tally-demo-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return Status::IoError("cannot create a temporary directory under " +
                           std::filesystem::temp_directory_path().string());
  }
  return pattern;
}

// The master key for the demo's personal fields: `given`, else
// `dir`/master.key, made if missing.
Result<MasterKeyFile> EnsureMasterKey(const MasterKeyFile& given, const std::string& dir) {
  if (!given.path.empty()) return given;
  MasterKeyFile made{dir + "/master.key"};
  if (!std::filesystem::exists(made.path)) {
    if (auto key = MasterKey::Generate(made.path); !key.ok()) return key.status();
  }
  return made;
}

// The service's parts, wired as `tally serve --listen` wires them.
struct RunningService {
  ManualClock clock;
  service::Metrics metrics;
  std::unique_ptr<service::Service> service;
  std::unique_ptr<service::TokenStore> tokens;
  std::unique_ptr<service::RateLimiter> limiter;
  std::unique_ptr<service::HttpApi> api;
  std::unique_ptr<service::HttpServer> server;
  std::unique_ptr<EmbeddedKafka> kafka;
  explicit RunningService(int64_t now) : clock(now) {}
};

Result<std::unique_ptr<RunningService>> StartService(const std::string& ledger_dir,
                                                     const MasterKeyFile& master_key,
                                                     const ServeOptions& serve, int64_t start,
                                                     DemoRun* run) {
  auto running = std::make_unique<RunningService>(start);
  auto options = LedgerOptionsFor(ledger_dir, master_key, /*create_if_missing=*/true);
  if (!options.ok()) return options.status();
  auto service = service::Service::Open(*options, &running->clock, &running->metrics);
  if (!service.ok()) return service.status();
  running->service = std::move(service).value();
  running->tokens = std::make_unique<service::TokenStore>(ledger_dir, &running->clock);
  for (auto [role, name, text] :
       {std::tuple{service::Role::kPublisher, "demo-platform", &run->publisher_token},
        std::tuple{service::Role::kOperator, "demo-operator", &run->operator_token},
        std::tuple{service::Role::kFinance, "demo-finance", &run->finance_token}}) {
    auto made = running->tokens->Create(name, role);
    if (!made.ok()) return made.status();
    *text = made->text;
  }
  running->limiter = std::make_unique<service::RateLimiter>(0, 0, &running->clock);
  running->api = std::make_unique<service::HttpApi>(*running->service, *running->tokens,
                                                    *running->limiter, running->metrics);
  auto server = service::HttpServer::Start(*running->api, {});
  if (!server.ok()) return server.status();
  running->server = std::move(server).value();
  auto kafka = StartEmbeddedKafka(serve);
  if (!kafka.ok()) return kafka.status();
  running->kafka = std::move(kafka).value();
  return running;
}

// Drives the month with Kafka ingest running beside it; stops both.
Status DriveThroughService(const std::string& ledger_dir, const MasterKeyFile& master_key,
                           const DemoOptions& options, const workload::Workload& month,
                           DemoRun* run) {
  ServeOptions serve;
  serve.data_dir = ledger_dir;
  serve.partitions = 1;  // the barrier of each hour reads one stored offset
  serve.status_every_ms = INT64_MAX;
  serve.fetch_wait_max_ms = 2;  // each hour waits for its facts: take them at once
  auto running = StartService(ledger_dir, master_key, serve, options.workload.start_micros, run);
  if (!running.ok()) return running.status();
  RunningService& s = **running;
  auto producer =
      EventProducer::Create({.brokers = s.kafka->bootstrap(), .topic = serve.topics.front()});
  if (!producer.ok()) return producer.status();
  std::atomic<bool> stop{false};
  std::ostringstream quiet_out, quiet_err;
  const ServeLog log(Io{quiet_out, quiet_err}, OutputFormat::kTable, &s.clock);
  Result<ServeTotals> kafka_totals = ServeTotals{};
  std::thread ingest([&] {
    ServeHooks hooks;
    hooks.catch_up = [&] { (void)s.service->CatchUp(); };
    kafka_totals = Serve(s.service->ledger(), serve, {s.kafka->bootstrap(), s.kafka->cluster_id()},
                         stop, log, hooks);
  });
  DriveTargets targets{s.service.get(),
                       &s.clock,
                       producer->get(),
                       serve.topics.front(),
                       {"127.0.0.1", s.server->port()},
                       run->publisher_token,
                       run->operator_token,
                       options.connections};
  Result<DriveTotals> drive = Status::Unavailable("not driven");
  {
    Progress progress("month", month.events.size());
    drive = DriveMonth(month, targets, [&](uint64_t done) { progress.Update(done); });
  }
  stop = true;
  ingest.join();
  s.server->Stop();
  if (!drive.ok()) return drive.status();
  if (!kafka_totals.ok()) return kafka_totals.status();
  run->drive = std::move(drive).value();
  run->kafka = *kafka_totals;
  run->head_seq = s.service->ledger().head_seq();
  return s.service->CatchUp();
}

}  // namespace

int RunDemo(const DemoOptions& options, Io io) {
  std::string data_dir = options.data_dir;
  const bool temporary = data_dir.empty();
  if (temporary) {
    auto dir = MakeTempDir();
    if (!dir.ok()) return Fail(dir.status(), io);
    data_dir = *dir;
  }
  std::error_code ignored;
  std::filesystem::create_directories(data_dir, ignored);
  auto key = EnsureMasterKey(options.master_key, data_dir);
  if (!key.ok()) return Fail(key.status(), io);
  const std::string ledger_dir = data_dir + "/ledger";
  if (std::filesystem::exists(ledger_dir + "/CURRENT")) {
    return Fail(
        Status::InvalidArgument(ledger_dir + " already holds a ledger; give an empty --data"), io);
  }
  const workload::Workload month = workload::Generate(options.workload);
  DemoRun run;
  run.data_dir = data_dir;
  run.ledger_dir = ledger_dir;
  run.master_key = *key;
  if (Status status = DriveThroughService(ledger_dir, *key, options, month, &run); !status.ok()) {
    return Fail(status, io);
  }
  const int code = PrintDemoReport(options, month, run, io);
  if (temporary && !options.keep) std::filesystem::remove_all(data_dir, ignored);
  return code;
}

}  // namespace tally::cli
