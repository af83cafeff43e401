// Every event type has an example under docs/events/, and every example
// parses and round-trips JSON -> binary -> JSON unchanged.
#include <capnp/schema.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "events/codec.h"

namespace tally {
namespace {

const std::filesystem::path kExamplesDir = std::filesystem::path(TALLY_SOURCE_DIR) / "docs/events";

// Ledger-made types are shown as they appear in the log (with seq); a
// producer may not send them.
Result<Event> ParseExample(const EventCodec& codec, const std::string& line) {
  if (line.find("\"seq\"") == std::string::npos) return codec.ParseJson(line);
  TALLY_CHECK(!codec.ParseJson(line, EventSource::kProducer).ok());
  return codec.ParseJson(line, EventSource::kLog);
}

TEST(ExamplesTest, EveryEventTypeHasAnExampleFile) {
  for (auto field : capnp::Schema::from<schema::Event>().getUnionFields()) {
    auto which = static_cast<schema::Event::Which>(field.getProto().getDiscriminantValue());
    auto file = kExamplesDir / (std::string(EventTypeName(which)) + ".ndjson");
    EXPECT_TRUE(std::filesystem::exists(file)) << file;
  }
}

TEST(ExamplesTest, EveryExampleParsesAndRoundTrips) {
  EventCodec codec;
  int lines_checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kExamplesDir)) {
    if (entry.path().extension() != ".ndjson") continue;
    std::ifstream in(entry.path());
    std::string line;
    int line_number = 0;
    while (std::getline(in, line)) {
      ++line_number;
      SCOPED_TRACE(entry.path().filename().string() + ":" + std::to_string(line_number));
      auto event = ParseExample(codec, line);
      ASSERT_TRUE(event.ok()) << event.status().ToString();
      EXPECT_EQ(std::string(event->type_name()) + ".ndjson", entry.path().filename().string());
      std::string json = codec.ToJson(*event);
      auto again = ParseExample(codec, json);
      ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << json;
      EXPECT_EQ(again->bytes(), event->bytes());
      EXPECT_EQ(codec.ToJson(*again), json);
      ++lines_checked;
    }
  }
  EXPECT_GE(lines_checked, 30);
}

}  // namespace
}  // namespace tally
