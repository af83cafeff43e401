#include "reports/report.h"

#include <gtest/gtest.h>

#include <sstream>

namespace tally {
namespace {

Report Sample() {
  return Report{{{"account"}, {"credits", Column::Kind::kAmount}, {"seq", Column::Kind::kInteger}},
                {{"acct-1", "12.500000", "3"}, {"b,\"q\"", "-0.000001", "10"}}};
}

std::string RenderTo(const Report& report, OutputFormat format) {
  std::ostringstream out;
  Render(report, format, out);
  return out.str();
}

TEST(ReportTest, TableAlignsTextLeftAndNumbersRight) {
  EXPECT_EQ(RenderTo(Sample(), OutputFormat::kTable),
            "account    credits  seq\n"
            "-------  ---------  ---\n"
            "acct-1   12.500000    3\n"
            "b,\"q\"    -0.000001   10\n");
}

TEST(ReportTest, CsvQuotesPerRfc4180) {
  EXPECT_EQ(RenderTo(Sample(), OutputFormat::kCsv),
            "account,credits,seq\r\nacct-1,12.500000,3\r\n\"b,\"\"q\"\"\",-0.000001,10\r\n");
}

TEST(ReportTest, JsonKeepsAmountsAsStringsAndEscapes) {
  EXPECT_EQ(RenderTo(Sample(), OutputFormat::kJson),
            R"([{"account":"acct-1","credits":"12.500000","seq":3},)"
            R"({"account":"b,\"q\"","credits":"-0.000001","seq":10}])"
            "\n");
}

TEST(ReportTest, JsonQuoteEscapesControlCharacters) {
  EXPECT_EQ(JsonQuote("a\"b\\c\nd\x01"), R"("a\"b\\c\nd\u0001")");
}

TEST(ReportTest, JsonWritesLargeIntegersExactly) {
  Report report{{{"seq", Column::Kind::kInteger}}, {{"1234567890123456"}}};
  EXPECT_EQ(RenderTo(report, OutputFormat::kJson), "[{\"seq\":1234567890123456}]\n");
}

}  // namespace
}  // namespace tally
