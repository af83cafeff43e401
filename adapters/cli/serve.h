// The loop of `tally serve`, shared with `tally demo`.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "adapters/cli/commands.h"
#include "adapters/cli/serve_log.h"
#include "adapters/kafka/embedded.h"
#include "adapters/kafka/ingest.h"
#include "adapters/kafka/publisher.h"
#include "ledger/ledger.h"

namespace tally::cli {

struct ServeTotals {
  IngestCounts ingest;
  PublishCounts published;
  uint64_t ticked = 0;  // ledger-made events appended by Tick
};

// The mock cluster holding `options`' topics (tally serve without brokers).
Result<std::unique_ptr<EmbeddedKafka>> StartEmbeddedKafka(const ServeOptions& options);

// Where Serve takes its messages from.
struct KafkaCluster {
  std::string brokers;     // bootstrap servers
  std::string cluster_id;  // empty: the id the brokers report (KafkaIngestOptions)
};

struct ConnectedKafka {
  KafkaCluster cluster;
  std::unique_ptr<EmbeddedKafka> embedded;  // the mock cluster, when no brokers were given
};

// The brokers of `options`, or a mock cluster started in this process;
// says which on `log`.
Result<ConnectedKafka> ConnectKafka(const ServeOptions& options, const ServeLog& log);

// What Serve tells its caller while it runs.
struct ServeProgress {
  const ServeTotals& totals;
  std::optional<uint64_t> lag;  // messages not yet taken; nullopt before the first fetch
  size_t partitions = 0;        // assigned to this consumer
};

struct ServeHooks {
  // Brings the projections up to the log when idle; empty: open them for
  // it (when no other process holds them).
  std::function<void()> catch_up = nullptr;
  // About once a second (metrics).
  std::function<void(const ServeProgress&)> on_progress = nullptr;
};

// Ingests and publishes against `kafka` until `stop` is set, or
// options.exit_when_idle_ms pass with nothing to take or publish. Prints a
// status line every options.status_every_ms on `log`, and a warning for each new offset warning
// (KafkaIngest::OffsetWarnings). A non-ok Status is a ledger failure or a fatal Kafka
// error; what was appended is durable and a restart resumes after it.
Result<ServeTotals> Serve(Ledger& ledger, const ServeOptions& options, const KafkaCluster& kafka,
                          const std::atomic<bool>& stop, const ServeLog& log,
                          const ServeHooks& hooks = {});

// tally serve --listen: the HTTP API over a Service (service/service.h),
// with Kafka unless options.kafka is false, until `stop` is set.
int ServeHttp(const ServeOptions& options, const std::atomic<bool>& stop, OutputFormat format,
              Io io);

}  // namespace tally::cli
