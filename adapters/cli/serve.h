// The loop of `tally serve`, shared with `tally demo`.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "adapters/cli/commands.h"
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

// Ingests and publishes against `kafka` until `stop` is set, or
// options.exit_when_idle_ms pass with nothing to take or publish. Prints a
// status line every options.status_every_ms (format: table on stderr, JSON
// lines on stdout), and a line on stderr for each new offset warning
// (KafkaIngest::OffsetWarnings). A non-ok Status is a ledger failure or a fatal Kafka
// error; what was appended is durable and a restart resumes after it.
struct ConnectedKafka {
  KafkaCluster cluster;
  std::unique_ptr<EmbeddedKafka> embedded;  // the mock cluster, when no brokers were given
};

// The brokers of `options`, or a mock cluster started in this process;
// says which on `io.err`.
Result<ConnectedKafka> ConnectKafka(const ServeOptions& options, Io io);

// `catch_up` brings the projections up to the log when idle; empty: open
// them for it (when no other process holds them).
Result<ServeTotals> Serve(Ledger& ledger, const ServeOptions& options, const KafkaCluster& kafka,
                          const std::atomic<bool>& stop, OutputFormat format, Io io,
                          const std::function<void()>& catch_up = {});

// tally serve --listen: the HTTP API over a Service (service/service.h),
// with Kafka unless options.kafka is false, until `stop` is set.
int ServeHttp(const ServeOptions& options, const std::atomic<bool>& stop, OutputFormat format,
              Io io);

}  // namespace tally::cli
