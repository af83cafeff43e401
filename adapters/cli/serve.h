// The loop of `tally serve`, shared with `tally demo`.
#pragma once

#include <atomic>
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
Result<ServeTotals> Serve(Ledger& ledger, const ServeOptions& options, const KafkaCluster& kafka,
                          const std::atomic<bool>& stop, OutputFormat format, Io io);

}  // namespace tally::cli
