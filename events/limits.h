// Every limit in Tally, with the reason for its value. Change them here only.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tally::limits {

// One JSON event line. Generous for an invoice with many lines, small enough
// that a batch of kBatchEventsMax events stays well under 100 MiB of memory.
inline constexpr size_t kEventJsonBytesMax = 64 * 1024;
// One encoded event. JSON is never smaller than its binary form for our
// schema (names cost more than pointers), so this bound follows from the above.
inline constexpr size_t kEventBinaryBytesMax = kEventJsonBytesMax;
// Default length of a Text field (ids, references, reasons, names).
inline constexpr uint32_t kTextBytesMax = 256;
// A plaintext personal field (a billing address is the longest).
inline constexpr uint32_t kPersonalTextBytesMax = 1024;
// Entries in any list field (invoice lines).
inline constexpr uint32_t kListEntriesMax = 1000;
// A JSON file Tally reads whole (retention policy, archive manifest): a
// few hundred bytes in practice; the bound keeps a wrong path from filling memory.
inline constexpr size_t kJsonFileBytesMax = 1024 * 1024;
// JSON nesting: the deepest event is envelope > data > period > money (4).
inline constexpr uint32_t kJsonNestingMax = 16;
// Events in one appended batch (one atomic, synced RocksDB write).
inline constexpr size_t kBatchEventsMax = 1'000'000;
// Events decided and written in one group commit (one synced RocksDB write).
// Bounds the write's size (~64 MiB at ~1 KiB per event with its indexes) and
// how long readers wait behind it.
inline constexpr size_t kGroupCommitEventsMax = 65'536;
// How long a group commit's leader may wait for more appenders before it
// writes: latency traded for fewer fsyncs. Above 10 ms it would dominate
// the latency of a hold decision.
inline constexpr int64_t kGroupCommitWaitMicrosMax = 10'000;
// Hold TTLs: a task that runs longer than a day should hold in steps.
inline constexpr int64_t kHoldTtlMsDefault = 15 * 60 * 1000;
inline constexpr int64_t kHoldTtlMsMax = 24 * 60 * 60 * 1000;
// Timer events (expiries) appended before one event: more means the ledger
// was down for long; the rest follow before the next event.
inline constexpr size_t kTimerEventsPerStepMax = 100'000;
// Aggregate projections snapshot their rows every this many events
// (projections/store.h): an as-of read folds at most this many events.
inline constexpr uint64_t kSnapshotEveryEventsDefault = 100'000;
inline constexpr uint64_t kSnapshotEveryEventsMax = 10'000'000;
// Events applied per projection write during catch-up.
inline constexpr uint64_t kProjectionChunkEvents = 10'000;
// A store closed with at least this much in its memtables flushes them
// first, so that read-only opens (every read command) need not replay the
// WAL: 38 MB of it, after `tally append` of the demo's month, took 1.7 s
// per read. Below it the replay is a few milliseconds, and closing without
// a flush spares a tiny table file per small append.
inline constexpr uint64_t kFlushOnCloseBytesMin = 1 << 20;
// Retention: financial records are kept at least this many years unless a
// policy says longer (docs/retention.md); a policy may not go below 1 year
// nor above 100.
inline constexpr int kRetentionYearsDefault = 7;
inline constexpr int kRetentionYearsMin = 1;
inline constexpr int kRetentionYearsMax = 100;
// Timestamps: 1970-01-01 to 9999-12-31, the range RFC 3339 can write.
inline constexpr int64_t kTimestampMicrosMin = 0;
inline constexpr int64_t kTimestampMicrosMax = 253'402'300'799'999'999;
// A Kafka cluster's identity stored with each source offset: Kafka's
// cluster ids are 22 characters; the embedded cluster's are 32 hex digits.
inline constexpr size_t kClusterIdBytesMax = 255;
// How long a partition assignment waits for the brokers' cluster id when
// it is not known yet (it normally is, from the metadata the group needed).
inline constexpr int kKafkaClusterIdWaitMs = 5'000;
// A command that writes the projections (rebuild, audit verify, retention)
// waits this long for another process to release them: read commands hold
// them for a catch-up, usually milliseconds.
inline constexpr int64_t kProjectionLockWaitMs = 60'000;
// A read command opens the log and the projections again at most this many
// times when another process moved the projections past the log it opened.
inline constexpr int kReadOpenAttemptsMax = 50;

// HTTP (tally serve --listen, service/http_server.h).
// One request body: 10,000 events of a few hundred bytes each, with room.
inline constexpr size_t kHttpBodyBytesMax = 16 * 1024 * 1024;
// Events in one POST /v1/events: one group commit's worth, so one request
// cannot hold the writer for longer than a commit.
inline constexpr size_t kHttpEventsPerRequestMax = 10'000;
// Request line and headers together: a bearer token and a few headers fit
// many times over; a client sending more is broken or hostile.
inline constexpr size_t kHttpHeaderBytesMax = 16 * 1024;
// A request must arrive whole within this (a slow client holds a connection
// at most this long) ...
inline constexpr int64_t kHttpRequestTimeoutMs = 30'000;
// ... and a kept-alive connection may wait this long for its next request.
inline constexpr int64_t kHttpIdleTimeoutMs = 60'000;
// Open connections; more are closed as they arrive. Each costs a few KiB
// of buffers; 64 concurrent publishers are the measured case.
inline constexpr size_t kHttpConnectionsMax = 1024;
// Threads that run requests (appends block on the group commit's fsync):
// as many requests as this are decided in one group commit.
inline constexpr int kHttpWorkerThreads = 64;

static_assert(kEventBinaryBytesMax <= kEventJsonBytesMax);
// Rows in one page of a list read: the default, and the most a client may
// ask for with `limit` (a page is built in memory; a bigger one would let
// one request hold the read lock and memory for long). Larger lists page on
// with the cursor.
inline constexpr size_t kHttpPageRowsDefault = 100;
inline constexpr size_t kHttpPageRowsMax = 10'000;

// Requests per second one API token may make (a token bucket of twice
// that): well above what one billing service needs (a hold per task), low
// enough that a runaway client leaves the service to the others. 429 with
// Retry-After beyond it; `serve --rate-limit` changes it (0: none).
inline constexpr double kHttpTokenRequestsPerSecond = 5000;

// Verifications started over HTTP whose results are kept to be read back
// (older ones are forgotten; `tally audit verify` is the record).
inline constexpr size_t kAuditJobsKept = 16;

// API tokens of one data directory: tokens.json is read whole (and must
// stay under kJsonFileBytesMax, about 250 bytes per token).
inline constexpr size_t kTokensMax = 1000;

static_assert(kHttpEventsPerRequestMax <= kBatchEventsMax);
static_assert(kHoldTtlMsDefault <= kHoldTtlMsMax);
static_assert(kGroupCommitEventsMax <= kBatchEventsMax);
static_assert(kTextBytesMax < kPersonalTextBytesMax);
static_assert(kPersonalTextBytesMax < kEventJsonBytesMax);

}  // namespace tally::limits
