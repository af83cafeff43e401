#include "events/timestamp.h"

#include <gtest/gtest.h>

#include "events/limits.h"

namespace tally {
namespace {

TEST(TimestampTest, ParsesUtcAndFormatsBack) {
  auto parsed = ParseTimestamp("2026-03-01T10:00:00Z");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, 1772359200LL * 1'000'000);
  EXPECT_EQ(FormatTimestamp(*parsed), "2026-03-01T10:00:00Z");
}

TEST(TimestampTest, FractionsUpToMicroseconds) {
  EXPECT_EQ(*ParseTimestamp("1970-01-01T00:00:00.5Z"), 500'000);
  EXPECT_EQ(*ParseTimestamp("1970-01-01T00:00:00.000001Z"), 1);
  EXPECT_EQ(FormatTimestamp(1), "1970-01-01T00:00:00.000001Z");
  EXPECT_EQ(FormatTimestamp(500'000), "1970-01-01T00:00:00.500000Z");
  EXPECT_FALSE(ParseTimestamp("1970-01-01T00:00:00.0000001Z").ok());
  EXPECT_FALSE(ParseTimestamp("1970-01-01T00:00:00.Z").ok());
}

TEST(TimestampTest, OffsetsAreConvertedToUtc) {
  EXPECT_EQ(*ParseTimestamp("2026-03-01T18:00:00+08:00"), *ParseTimestamp("2026-03-01T10:00:00Z"));
  EXPECT_EQ(*ParseTimestamp("2026-03-01T05:30:00-04:30"), *ParseTimestamp("2026-03-01T10:00:00Z"));
}

TEST(TimestampTest, LeapDaysAndYearEnds) {
  EXPECT_TRUE(ParseTimestamp("2028-02-29T00:00:00Z").ok());
  EXPECT_FALSE(ParseTimestamp("2026-02-29T00:00:00Z").ok());
  EXPECT_FALSE(ParseTimestamp("2026-02-30T00:00:00Z").ok());
  auto last = ParseTimestamp("9999-12-31T23:59:59.999999Z");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, limits::kTimestampMicrosMax);
  EXPECT_EQ(FormatTimestamp(*last), "9999-12-31T23:59:59.999999Z");
}

TEST(TimestampTest, RejectsMalformedText) {
  for (const char* text :
       {"", "2026-03-01", "2026-03-01 10:00:00Z", "2026-03-01T10:00:00", "2026-3-01T10:00:00Z",
        "2026-03-01T24:00:00Z", "2026-03-01T10:60:00Z", "2026-03-01T10:00:60Z",
        "2026-13-01T10:00:00Z", "2026-03-01T10:00:00z", "2026-03-01T10:00:00+0800",
        "2026-03-01T10:00:00Z ", "1969-12-31T23:59:59Z", "abcd-03-01T10:00:00Z"}) {
    EXPECT_FALSE(ParseTimestamp(text).ok()) << text;
  }
}

TEST(TimestampTest, RoundTripsEverySecondOfADayAndManyDays) {
  for (int64_t seconds = 0; seconds < 400LL * 86400 * 30; seconds += 86400 * 7 + 3607) {
    int64_t micros = seconds * 1'000'000 + seconds % 1'000'000;
    auto parsed = ParseTimestamp(FormatTimestamp(micros));
    ASSERT_TRUE(parsed.ok()) << FormatTimestamp(micros);
    ASSERT_EQ(*parsed, micros);
  }
}

}  // namespace
}  // namespace tally
