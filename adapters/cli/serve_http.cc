// tally serve --listen: one process owns the stores (service/service.h) and
// answers HTTP (service/http_server.h), with Kafka ingest beside it.
#include <chrono>
#include <cstdlib>
#include <thread>

#include "adapters/cli/exit_codes.h"
#include "adapters/cli/serve.h"
#include "adapters/cli/support.h"
#include "ledger/clock.h"
#include "service/http_server.h"

namespace tally::cli {
namespace {

constexpr auto kTickEvery = std::chrono::seconds(1);  // expiries, without Kafka

// HOST:PORT, or [IPV6]:PORT.
Result<service::HttpServerOptions> ListenAddress(const std::string& listen) {
  size_t colon = listen.rfind(':');
  service::HttpServerOptions options;
  if (colon == std::string::npos || colon == 0) {
    return Status::InvalidArgument("--listen: \"" + listen + "\" is not HOST:PORT");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const std::string port = listen.substr(colon + 1);
  char* end = nullptr;
  const unsigned long value = std::strtoul(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || value > 65535) {
    return Status::InvalidArgument("--listen: \"" + port + "\" is not a port (0-65535)");
  }
  options.host = host;
  options.port = static_cast<uint16_t>(value);
  return options;
}

// Without Kafka: ticks the ledger (expiries) until `stop`.
Status TickUntilStopped(service::Service& service, const std::atomic<bool>& stop) {
  auto last_tick = std::chrono::steady_clock::now();
  while (!stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (std::chrono::steady_clock::now() - last_tick < kTickEvery) continue;
    last_tick = std::chrono::steady_clock::now();
    auto ticked = service.ledger().Tick();
    if (!ticked.ok()) return ticked.status();
    if (*ticked > 0) {
      if (auto status = service.CatchUp(); !status.ok()) return status;
    }
  }
  return Status::Ok();
}

// Kafka ingest and publishing beside the HTTP API, its lag in `metrics`.
Status ServeKafka(service::Service& service, service::Metrics& metrics, const ServeOptions& options,
                  const std::atomic<bool>& stop, const ServeLog& log) {
  auto kafka = ConnectKafka(options, log);
  if (!kafka.ok()) return kafka.status();
  ServeHooks hooks;
  hooks.catch_up = [&] { (void)service.CatchUp(); };
  hooks.on_progress = [&](const ServeProgress& progress) {
    if (progress.lag) {
      metrics.Set("tally_kafka_lag_messages",
                  "messages of the consumed topics not yet taken (high watermark less position)",
                  {}, static_cast<double>(*progress.lag));
    }
    metrics.Set("tally_kafka_partitions", "partitions assigned to this consumer", {},
                static_cast<double>(progress.partitions));
  };
  return Serve(service.ledger(), options, kafka->cluster, stop, log, hooks).status();
}

}  // namespace

int ServeHttp(const ServeOptions& options, const std::atomic<bool>& stop, OutputFormat format,
              Io io) {
  auto address = ListenAddress(options.listen);
  if (!address.ok()) return Fail(address.status(), io);
  auto ledger_options =
      LedgerOptionsFor(options.data_dir, options.master_key, /*create_if_missing=*/true);
  if (!ledger_options.ok()) return Fail(ledger_options.status(), io);
  SystemClock clock;
  service::Metrics metrics;
  auto service = service::Service::Open(*ledger_options, &clock, &metrics);
  if (!service.ok()) return Fail(service.status(), io);
  service::TokenStore tokens(options.data_dir, &clock);
  auto live = tokens.List();
  if (!live.ok()) return Fail(live.status(), io);
  const ServeLog log(io, format, &clock);
  if (live->empty()) {
    log.Warn(
        "no API token yet; every /v1 request is refused until one is made: tally token "
        "create --data " +
        options.data_dir + " --role operator --name NAME");
  }
  service::RateLimiter limiter(options.rate_limit, 2 * options.rate_limit, &clock);
  service::AuditJobs audits(
      [data_dir =
           options.data_dir](const service::AuditProgress& progress) -> Result<service::AuditRun> {
        auto outcome = AuditVerify(data_dir, "", progress);
        if (!outcome.ok()) return outcome.status();
        return service::AuditRun{std::move(outcome->checks), outcome->status};
      },
      &clock);
  service::HttpApi api(**service, tokens, limiter, metrics, &audits);
  auto server = service::HttpServer::Start(api, *address);
  if (!server.ok()) return Fail(server.status(), io);
  const std::string port = std::to_string((*server)->port());
  log.Info("HTTP API on " + address->host + ":" + port + "; data in " + options.data_dir,
           Json::Object().Add("listen", Json::String(address->host + ":" + port)));
  Status failed = options.kafka ? ServeKafka(**service, metrics, options, stop, log)
                                : TickUntilStopped(**service, stop);
  (*server)->Stop();
  if (!failed.ok()) return Fail(failed, io);
  const uint64_t head = (*service)->ledger().head_seq();
  log.Info("stopped cleanly at head seq " + std::to_string(head),
           Json::Object().Add("head_seq", Json::Integer(static_cast<int64_t>(head))));
  return kExitOk;
}

}  // namespace tally::cli
