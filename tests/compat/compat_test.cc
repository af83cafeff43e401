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
  // The projections of the corpus's day, row for row; a projection added
  // since (its line is not in the file) folds none of the old events.
  const std::string expected = compat::ReadFile(kCorpus + "/projections.txt");
  std::istringstream lines(*digests);
  std::string line;
  while (std::getline(lines, line)) {
    const std::string name = line.substr(0, line.find(' '));
    const size_t at = expected.find(name + " ");
    if (at == 0 || (at != std::string::npos && expected[at - 1] == '\n')) {
      EXPECT_NE(expected.find(line + "\n"), std::string::npos) << line << "\n" << expected;
    } else {
      EXPECT_EQ(line.substr(name.size(), 3), " 0 ") << "new projection " << line;
    }
  }
  EXPECT_EQ(digests->substr(0, expected.size()), expected);
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
