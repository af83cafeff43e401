// Old events forever: the corpus in tests/compat/v1, written by the first
// version of the log format (corpus.h), must decode, replay and project
// exactly as it did then. Never regenerate a committed corpus to make this
// pass: a difference means old logs would read differently.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "events/codec.h"
#include "ledger/export.h"
#include "tests/compat/corpus.h"

namespace tally {
namespace {

const std::string kCorpus = std::string(TALLY_SOURCE_DIR) + "/tests/compat/v1";

TEST(CompatTest, TheOldExportVerifiesAndReplaysToTheSameJournal) {
  auto report = VerifyExport(kCorpus + "/export", nullptr);
  ASSERT_TRUE(report.status.ok()) << report.status.ToString();
  auto records = compat::ReadRecords(kCorpus + "/export/records");
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  EXPECT_EQ(report.events_checked, records->size());
  EXPECT_GT(records->size(), 40u);
}

TEST(CompatTest, EveryOldEventDecodesToTheSameBytesAndJson) {
  auto records = compat::ReadRecords(kCorpus + "/export/records");
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  EventCodec codec;
  for (const LoggedEvent& record : *records) {
    // Records keep the event as the producer sent it; its log form adds the
    // ledger's fields.
    Event logged = record.event.WithLedgerFields(record.seq, record.recorded_at_micros);
    std::string json = codec.ToJson(logged);
    auto again = codec.ParseJson(json, EventSource::kLog);
    ASSERT_TRUE(again.ok()) << "seq " << record.seq << ": " << again.status().ToString() << "\n"
                            << json;
    EXPECT_EQ(again->bytes(), logged.bytes()) << "seq " << record.seq;
    EXPECT_EQ(codec.ToJson(*again), json) << "seq " << record.seq;
  }
}

TEST(CompatTest, OldEventsFoldIntoTheSameProjectionRows) {
  auto records = compat::ReadRecords(kCorpus + "/export/records");
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  auto digests = compat::ProjectionDigests(*records);
  ASSERT_TRUE(digests.ok()) << digests.status().ToString();
  EXPECT_EQ(*digests, compat::ReadFile(kCorpus + "/projections.txt"));
}

// The producer lines of the corpus still parse to the events the log holds.
TEST(CompatTest, TheOldProducerLinesStillParse) {
  EventCodec codec;
  std::istringstream in(compat::ReadFile(kCorpus + "/events.ndjson"));
  int lines = 0;
  for (std::string line; std::getline(in, line); ++lines) {
    auto event = codec.ParseJson(line);
    EXPECT_TRUE(event.ok()) << line << ": " << event.status().ToString();
  }
  EXPECT_GT(lines, 20);
}

}  // namespace
}  // namespace tally
