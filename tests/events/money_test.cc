#include "events/money.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace tally {
namespace {

Currency Cur(std::string_view code) { return Currency::Parse(code).value(); }

Money Usd(std::string_view text) { return Money::Parse(Cur("USD"), text).value(); }

Credits Cr(std::string_view text) { return Credits::Parse(text).value(); }

UnitPrice Price(std::string_view code, std::string_view text) {
  return UnitPrice::Parse(Cur(code), text).value();
}

Int128 I(int64_t value) { return Int128(value); }

std::vector<Int128> Ints(std::initializer_list<int64_t> values) {
  std::vector<Int128> result;
  for (int64_t v : values) result.emplace_back(v);
  return result;
}

// Expects `status` to be an invalid-argument error whose message contains `needle`.
void ExpectInvalid(const Status& status, std::string_view needle) {
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  EXPECT_NE(status.message().find(needle), std::string::npos)
      << "message \"" << status.message() << "\" lacks \"" << needle << "\"";
}

// `text` as a POSIX extended regular expression matching itself.
std::string Literal(std::string_view text) {
  std::string regex;
  for (char c : text) {
    if (std::string_view(".[]{}()\\*+?^$|").find(c) != std::string_view::npos) regex += '\\';
    regex += c;
  }
  return regex;
}

// Runs `op` in a child process and expects it to stop on a failed invariant
// whose message contains every needle: overflow and mixed currencies are
// bugs (validated amounts are bounded), never exceptions.
template <typename Op>
void ExpectFailedInvariant(Op op, std::initializer_list<std::string_view> needles) {
  for (std::string_view needle : needles) {
    EXPECT_DEATH(op(), "invariant violated: .*" + Literal(needle));
  }
}

// ---------------------------------------------------------------- currencies

TEST(MoneyCurrencyTest, KnownCodesHaveIsoMinorDigits) {
  const std::vector<std::pair<std::string_view, int>> expected = {
      {"USD", 2}, {"EUR", 2}, {"GBP", 2}, {"CNY", 2}, {"JPY", 0}, {"KRW", 0}, {"KWD", 3},
      {"BHD", 3}, {"JOD", 3}, {"OMR", 3}, {"TND", 3}, {"CHF", 2}, {"CAD", 2}, {"AUD", 2},
      {"NZD", 2}, {"HKD", 2}, {"SGD", 2}, {"TWD", 2}, {"INR", 2}, {"IDR", 2}, {"THB", 2},
      {"VND", 0}, {"PHP", 2}, {"MYR", 2}, {"BRL", 2}, {"MXN", 2}, {"ARS", 2}, {"CLP", 0},
      {"COP", 2}, {"SEK", 2}, {"NOK", 2}, {"DKK", 2}, {"PLN", 2}, {"CZK", 2}, {"HUF", 2},
      {"RON", 2}, {"TRY", 2}, {"ILS", 2}, {"AED", 2}, {"SAR", 2}, {"ZAR", 2}, {"NGN", 2},
      {"EGP", 2}, {"UAH", 2}, {"ISK", 0}, {"UGX", 0}, {"XAF", 0}, {"XOF", 0}};
  for (const auto& [code, digits] : expected) {
    const Result<Currency> currency = Currency::Parse(code);
    ASSERT_TRUE(currency.ok()) << code << ": " << currency.status().ToString();
    EXPECT_EQ(currency->code(), code);
    EXPECT_EQ(currency->minor_digits(), digits) << code;
  }
}

TEST(MoneyCurrencyTest, RejectsUnknownAndLowerCaseCodes) {
  ExpectInvalid(Currency::Parse("usd").status(), "unknown currency \"usd\"");
  ExpectInvalid(Currency::Parse("XYZ").status(), "unknown currency \"XYZ\"");
  ExpectInvalid(Currency::Parse("").status(), "unknown currency \"\"");
  ExpectInvalid(Currency::Parse("USDX").status(), "unknown currency \"USDX\"");
  ExpectInvalid(Currency::Parse(" USD").status(), "unknown currency");
  ExpectInvalid(Money::Parse("usd", "1.00").status(), "unknown currency \"usd\"");
}

TEST(MoneyCurrencyTest, EqualityIsByCode) {
  EXPECT_EQ(Cur("USD"), Cur("USD"));
  EXPECT_FALSE(Cur("USD") == Cur("EUR"));
}

// ------------------------------------------------------------------- parsing

TEST(MoneyParseTest, CreditsAcceptsValidDecimals) {
  EXPECT_EQ(Cr("12").micros(), 12'000'000);
  EXPECT_EQ(Cr("-3.5").micros(), -3'500'000);
  EXPECT_EQ(Cr("0.000001").micros(), 1);
  EXPECT_EQ(Cr("007.5").micros(), 7'500'000);
  EXPECT_EQ(Cr("0").micros(), 0);
  EXPECT_EQ(Cr("-0").micros(), 0);
  EXPECT_EQ(Cr("1000000000000").micros(), Int128(kAmountUnitsMax) * 1'000'000);
  EXPECT_EQ(Cr("-1000000000000.000000").micros(), -Int128(kAmountUnitsMax) * 1'000'000);
  // 40 characters is still accepted, leading zeros and all.
  EXPECT_EQ(Cr(std::string(39, '0') + "1").micros(), 1'000'000);
}

TEST(MoneyParseTest, RejectsEverythingOutsideTheGrammar) {
  for (std::string_view bad : {"1e3",  "1E3",      "+1",  " 1",    "1 ",  "1.",    ".5",   "-.5",
                               "",     "-",        "--1", "1.2.3", "abc", "1,000", "0x10", "1_000",
                               "1.-5", "\xd9\xa1", "12a", "1..2",  "- 1", "\t1"}) {
    SCOPED_TRACE(std::string("input \"") + std::string(bad) + "\"");
    ExpectInvalid(Credits::Parse(bad).status(), "invalid amount");
    ExpectInvalid(Money::Parse(Cur("USD"), bad).status(), "invalid amount");
    ExpectInvalid(UnitPrice::Parse(Cur("USD"), bad).status(), "invalid amount");
  }
}

TEST(MoneyParseTest, RejectsTooManyDecimalPlaces) {
  ExpectInvalid(Money::Parse(Cur("USD"), "12.345").status(),
                "\"12.345\" has 3 decimal places; USD allows 2");
  ExpectInvalid(Money::Parse(Cur("USD"), "12.340").status(), "USD allows 2");  // no silent rounding
  ExpectInvalid(Money::Parse(Cur("JPY"), "1200.5").status(),
                "\"1200.5\" has 1 decimal place; JPY allows 0");
  ExpectInvalid(Money::Parse(Cur("JPY"), "1200.0").status(), "JPY allows 0");
  ExpectInvalid(Money::Parse(Cur("KWD"), "1.2345").status(), "KWD allows 3");
  ExpectInvalid(Credits::Parse("0.0000001").status(),
                "\"0.0000001\" has 7 decimal places; credits allow 6");
  ExpectInvalid(UnitPrice::Parse(Cur("USD"), "0.00000000001").status(),
                "has 11 decimal places; USD unit prices allow 10");
}

TEST(MoneyParseTest, RejectsValuesAboveTheLimit) {
  ExpectInvalid(Credits::Parse("1000000000000.000001").status(),
                "exceeds the limit of 1000000000000 credits");
  ExpectInvalid(Credits::Parse("-1000000000000.000001").status(), "exceeds the limit");
  ExpectInvalid(Credits::Parse("1000000000001").status(), "exceeds the limit");
  ExpectInvalid(Money::Parse(Cur("USD"), "1000000000000.01").status(),
                "exceeds the limit of 1000000000000 USD");
  ExpectInvalid(Money::Parse(Cur("JPY"), "1000000000001").status(), "exceeds the limit");
  EXPECT_TRUE(Money::Parse(Cur("KWD"), "1000000000000.000").ok());
  // 38 digits would overflow a naive parser; it must be "too large", not a crash.
  ExpectInvalid(Credits::Parse(std::string(38, '9')).status(), "exceeds the limit");
  ExpectInvalid(Credits::Parse("-" + std::string(39, '9')).status(), "exceeds the limit");
}

TEST(MoneyParseTest, RejectsOverlongStringsUpFront) {
  ExpectInvalid(Credits::Parse(std::string(40, '0') + "1").status(), "too long");
  ExpectInvalid(Credits::Parse(std::string(10'000, '9')).status(), "too long");
  ExpectInvalid(Money::Parse(Cur("USD"), "0." + std::string(100, '0')).status(), "too long");
}

TEST(MoneyParseTest, MoneyPerCurrencyScale) {
  EXPECT_EQ(Usd("10.50").minor_units(), 1050);
  EXPECT_EQ(Usd("10.5").minor_units(), 1050);
  EXPECT_EQ(Usd("10").minor_units(), 1000);
  EXPECT_EQ(Money::Parse(Cur("JPY"), "1200").value().minor_units(), 1200);
  EXPECT_EQ(Money::Parse(Cur("KWD"), "1.234").value().minor_units(), 1234);
  EXPECT_EQ(Money::Parse(Cur("KWD"), "-1.2").value().minor_units(), -1200);
  const Result<Money> by_code = Money::Parse("EUR", "3.07");
  ASSERT_TRUE(by_code.ok());
  EXPECT_EQ(by_code->currency(), Cur("EUR"));
  EXPECT_EQ(by_code->minor_units(), 307);
}

TEST(MoneyParseTest, UnitPrices) {
  EXPECT_EQ(Price("USD", "0.0012").scaled(), 12'000'000);
  EXPECT_EQ(Price("USD", "0.0000000001").scaled(), 1);
  EXPECT_EQ(Price("USD", "1000000").scaled(), Int128(kUnitPriceUnitsMax) * 10'000'000'000);
  ExpectInvalid(UnitPrice::Parse(Cur("USD"), "1000000.0000000001").status(),
                "exceeds the limit of 1000000 USD per credit");
  ExpectInvalid(UnitPrice::Parse(Cur("USD"), "-0.0012").status(), "must not be negative");
}

// ---------------------------------------------------------------- formatting

TEST(MoneyFormatTest, CanonicalFormsRoundTrip) {
  for (std::string_view text : {"0.000000", "12.500000", "-3.500000", "0.000001", "-0.000001",
                                "1000000000000.000000", "-1000000000000.000000"}) {
    EXPECT_EQ(Cr(text).ToString(), text);
  }
  const std::vector<std::pair<std::string_view, std::string_view>> money = {
      {"USD", "10.50"}, {"USD", "-0.05"}, {"USD", "0.00"},   {"JPY", "1200"}, {"JPY", "-5"},
      {"JPY", "0"},     {"KWD", "1.234"}, {"KWD", "-0.001"}, {"BHD", "0.000"}};
  for (const auto& [code, text] : money) {
    EXPECT_EQ(Money::Parse(Cur(code), text).value().ToString(), text) << code;
  }
  for (std::string_view text : {"0.0012000000", "0.0000000001", "1000000.0000000000"}) {
    EXPECT_EQ(Price("USD", text).ToString(), text);
  }
}

TEST(MoneyFormatTest, PadsAndNeverWritesMinusZero) {
  EXPECT_EQ(Cr("12.5").ToString(), "12.500000");
  EXPECT_EQ(Cr("007.5").ToString(), "7.500000");
  EXPECT_EQ(Cr("-0").ToString(), "0.000000");
  EXPECT_EQ(Cr("-0.000000").ToString(), "0.000000");
  EXPECT_EQ(Credits::FromMicros(-1).ToString(), "-0.000001");
  EXPECT_EQ(Credits().ToString(), "0.000000");
  EXPECT_EQ(Usd("-0").ToString(), "0.00");
  EXPECT_EQ(Usd("10.5").ToString(), "10.50");
  EXPECT_EQ(Usd("10.5").ToDisplayString(), "USD 10.50");
  EXPECT_EQ(Money::FromMinor(Cur("JPY"), 1200).ToDisplayString(), "JPY 1200");
  EXPECT_EQ(Money::FromMinor(Cur("KWD"), -1).ToString(), "-0.001");
  EXPECT_EQ(Money::Zero(Cur("KWD")).ToString(), "0.000");
  EXPECT_EQ(Price("USD", "0.5").ToString(), "0.5000000000");
  // Values beyond the parse limits still format exactly.
  EXPECT_EQ(Credits::FromMicros(Int128(1) << 127).ToString(),
            "170141183460469231731687303715884.105728");
}

// ---------------------------------------------------------------- arithmetic

TEST(MoneyArithmeticTest, CreditsAndMoneyAddSubtractCompare) {
  EXPECT_EQ((Cr("1.5") + Cr("2.25")).ToString(), "3.750000");
  EXPECT_EQ((Cr("1.5") - Cr("2.25")).ToString(), "-0.750000");
  EXPECT_LT(Cr("-1"), Cr("0.000001"));
  EXPECT_EQ((Usd("10.50") + Usd("0.55")).ToString(), "11.05");
  EXPECT_EQ((Usd("10.50") - Usd("10.51")).ToString(), "-0.01");
  EXPECT_EQ((-Usd("1.00")).ToString(), "-1.00");
  Money sum = Usd("0");
  for (int i = 0; i < 10; ++i) sum += Usd("0.10");
  EXPECT_EQ(sum, Usd("1.00"));  // exact, unlike 0.1 in binary floating point
  EXPECT_TRUE(Usd("1.00") < Usd("1.01"));
  EXPECT_FALSE(Usd("1.01") < Usd("1.00"));
}

TEST(MoneyArithmeticTest, MixingCurrenciesThrows) {
  const Money usd = Usd("1.00");
  const Money eur = Money::Parse("EUR", "1.00").value();
  ExpectFailedInvariant([&] { (void)(usd + eur); }, {"USD", "EUR"});
  ExpectFailedInvariant([&] { (void)(usd - eur); }, {"USD", "EUR"});
  ExpectFailedInvariant([&] { (void)(usd < eur); }, {"USD", "EUR"});
  Money accumulator = usd;
  ExpectFailedInvariant([&] { accumulator += eur; }, {"USD", "EUR"});
  EXPECT_EQ(accumulator, usd);
  EXPECT_FALSE(Money::Zero(Cur("USD")) == Money::Zero(Cur("EUR")));  // no throw
}

TEST(MoneyArithmeticTest, Int128IsChecked) {
  EXPECT_THROW((void)((Int128(1) << 126) * 4), std::overflow_error);
}

TEST(MoneyArithmeticTest, MoneyOverflowIsAFailedInvariant) {
  const Money huge = Money::FromMinor(Cur("USD"), Int128(1) << 127);
  ExpectFailedInvariant([&] { (void)(huge + huge); }, {"amount overflow in"});
  ExpectFailedInvariant([&] { (void)(-huge - huge); }, {"amount overflow in"});
  Money doubling = Money::FromMinor(Cur("USD"), 1);
  ExpectFailedInvariant(
      [&] {
        for (int i = 0; i < 200; ++i) doubling += doubling;
      },
      {"amount overflow"});
}

// Issue 12.15: reading the value of a failed Result is a bug, caught on every
// path (the non-const accessor did not check).
TEST(ResultTest, ReadingTheValueOfAFailureStopsTheProcess) {
  Result<int> failed = Status::InvalidArgument("bad");
  EXPECT_DEATH((void)failed.value(), "invariant violated: ok\\(\\)");
  const Result<int>& as_const = failed;
  EXPECT_DEATH((void)as_const.value(), "invariant violated: ok\\(\\)");
  EXPECT_DEATH((void)std::move(failed).value(), "invariant violated: ok\\(\\)");
}

// Credits overflow stops the process too; it never wraps.
TEST(MoneyArithmeticTest, CreditsOverflowIsAFailedInvariant) {
  Credits doubling = Credits::FromMicros(Int128(1) << 100);
  ExpectFailedInvariant(
      [&] {
        for (int i = 0; i < 200; ++i) doubling += doubling;
      },
      {"Credits addition"});
}

TEST(MoneyArithmeticTest, LargestParsedValuesMultiplyWithoutOverflow) {
  const Credits credits = Cr("1000000000000");
  for (std::string_view code : {"USD", "JPY", "KWD"}) {
    const Money money = Price(code, "1000000").Times(credits);
    EXPECT_EQ(money.minor_units(), Int128(1'000'000'000'000'000'000) *
                                       Money::Parse(Cur(code), "1").value().minor_units())
        << code;
  }
}

// ------------------------------------------------------------------ rounding

TEST(MoneyRoundingTest, ModeNamesRoundTrip) {
  for (RoundingMode mode : {RoundingMode::kHalfEven, RoundingMode::kHalfUp, RoundingMode::kDown,
                            RoundingMode::kUp, RoundingMode::kFloor, RoundingMode::kCeiling}) {
    const Result<RoundingMode> parsed = ParseRoundingMode(RoundingModeName(mode));
    ASSERT_TRUE(parsed.ok()) << RoundingModeName(mode);
    EXPECT_EQ(*parsed, mode);
  }
  EXPECT_STREQ(RoundingModeName(RoundingMode::kHalfEven), "half_even");
  EXPECT_STREQ(RoundingModeName(RoundingMode::kCeiling), "ceiling");
  for (std::string_view bad : {"", "HALF_EVEN", "half-even", "nearest", "half_even "}) {
    ExpectInvalid(ParseRoundingMode(bad).status(), "unknown rounding mode");
  }
}

struct RoundingCase {
  int64_t numerator;
  int64_t denominator;
  // Expected quotient for kHalfEven, kHalfUp, kDown, kUp, kFloor, kCeiling.
  int64_t half_even, half_up, down, up, floor, ceiling;
};

// Every row is checked in all six modes; ties, non-ties and exact quotients,
// with every sign combination of numerator and denominator.
const RoundingCase kRoundingCases[] = {
    // Ties.
    {25, 10, 2, 3, 2, 3, 2, 3},         // 2.5
    {-25, 10, -2, -3, -2, -3, -3, -2},  // -2.5
    {25, -10, -2, -3, -2, -3, -3, -2},  // -2.5, negative denominator
    {-25, -10, 2, 3, 2, 3, 2, 3},       // 2.5, both negative
    {35, 10, 4, 4, 3, 4, 3, 4},         // 3.5
    {-35, 10, -4, -4, -3, -4, -4, -3},  // -3.5
    {1, 2, 0, 1, 0, 1, 0, 1},           // 0.5
    {-1, 2, 0, -1, 0, -1, -1, 0},       // -0.5
    {3, -2, -2, -2, -1, -2, -2, -1},    // -1.5
    // Non-ties.
    {24, 10, 2, 2, 2, 3, 2, 3},         // 2.4
    {26, 10, 3, 3, 2, 3, 2, 3},         // 2.6
    {-24, 10, -2, -2, -2, -3, -3, -2},  // -2.4
    {-26, 10, -3, -3, -2, -3, -3, -2},  // -2.6
    {26, -10, -3, -3, -2, -3, -3, -2},  // -2.6
    {-26, -10, 3, 3, 2, 3, 2, 3},       // 2.6
    {1, 10, 0, 0, 0, 1, 0, 1},          // 0.1
    {-1, 10, 0, 0, 0, -1, -1, 0},       // -0.1
    {7, 3, 2, 2, 2, 3, 2, 3},           // 2.33
    {-7, 3, -2, -2, -2, -3, -3, -2},    // -2.33
    {7, -3, -2, -2, -2, -3, -3, -2},    // -2.33
    {5, 3, 2, 2, 1, 2, 1, 2},           // 1.67
    {-5, 3, -2, -2, -1, -2, -2, -1},    // -1.67
    // Exact.
    {40, 10, 4, 4, 4, 4, 4, 4},
    {-40, 10, -4, -4, -4, -4, -4, -4},
    {0, 7, 0, 0, 0, 0, 0, 0},
    {0, -7, 0, 0, 0, 0, 0, 0},
};

TEST(MoneyRoundingTest, AllModesAllSigns) {
  for (const RoundingCase& c : kRoundingCases) {
    SCOPED_TRACE(std::to_string(c.numerator) + " / " + std::to_string(c.denominator));
    const auto divide = [&](RoundingMode mode) {
      return DivideRounded(I(c.numerator), I(c.denominator), mode);
    };
    EXPECT_EQ(divide(RoundingMode::kHalfEven), c.half_even) << "half_even";
    EXPECT_EQ(divide(RoundingMode::kHalfUp), c.half_up) << "half_up";
    EXPECT_EQ(divide(RoundingMode::kDown), c.down) << "down";
    EXPECT_EQ(divide(RoundingMode::kUp), c.up) << "up";
    EXPECT_EQ(divide(RoundingMode::kFloor), c.floor) << "floor";
    EXPECT_EQ(divide(RoundingMode::kCeiling), c.ceiling) << "ceiling";
  }
}

TEST(MoneyRoundingTest, HugeOperands) {
  const Int128 max = std::numeric_limits<Int128>::max();  // 2^128 - 1
  const Int128 half_up = Int128(1) << 127;                // just above max / 2
  EXPECT_EQ(DivideRounded(half_up, max, RoundingMode::kHalfEven), 1);
  EXPECT_EQ(DivideRounded(half_up - 1, max, RoundingMode::kHalfUp), 0);  // just below
  EXPECT_EQ(DivideRounded(-half_up, max, RoundingMode::kHalfEven), -1);
  EXPECT_EQ(DivideRounded(max, max, RoundingMode::kUp), 1);
  EXPECT_EQ(DivideRounded(max, 1, RoundingMode::kUp), max);
  // A tie at 10^30 + 0.5.
  const Int128 big = Int128(1'000'000'000'000'000) * 1'000'000'000'000'000;
  EXPECT_EQ(DivideRounded(2 * big + 1, 2, RoundingMode::kHalfEven), big);
  EXPECT_EQ(DivideRounded(2 * big + 1, 2, RoundingMode::kHalfUp), big + 1);
  EXPECT_EQ(DivideRounded(-(2 * big + 1), 2, RoundingMode::kHalfUp), -(big + 1));
}

TEST(MoneyRoundingTest, DivisionByZeroThrows) {
  ExpectFailedInvariant([] { (void)DivideRounded(1, 0, RoundingMode::kHalfEven); },
                        {"division by zero"});
  ExpectFailedInvariant([] { (void)DivideRounded(0, 0, RoundingMode::kDown); },
                        {"division by zero"});
}

// ---------------------------------------------------------------- unit price

TEST(MoneyUnitPriceTest, TimesRoundsToMinorUnits) {
  const UnitPrice price = Price("USD", "0.0012");
  EXPECT_EQ(price.Times(Cr("1000")).ToString(), "1.20");
  EXPECT_EQ(price.Times(Cr("1")).ToString(), "0.00");  // 0.12 cents
  EXPECT_EQ(price.Times(Cr("5")).ToString(), "0.01");  // 0.6 cents
  EXPECT_EQ(price.Times(Cr("1"), RoundingMode::kUp).ToString(), "0.01");
  EXPECT_EQ(price.Times(Cr("5"), RoundingMode::kDown).ToString(), "0.00");
  EXPECT_EQ(price.Times(Cr("0.5")).ToString(), "0.00");
  EXPECT_EQ(price.Times(Cr("-5")).ToString(), "-0.01");  // refunds round symmetrically
  EXPECT_EQ(price.Times(Cr("-5"), RoundingMode::kDown).ToString(), "0.00");
  EXPECT_EQ(price.Times(Cr("-5"), RoundingMode::kCeiling).ToString(), "0.00");
  EXPECT_EQ(price.Times(Cr("-5"), RoundingMode::kFloor).ToString(), "-0.01");
  EXPECT_EQ(price.Times(Cr("0")).ToString(), "0.00");
  EXPECT_EQ(price.Times(Cr("1")).currency(), Cur("USD"));
}

TEST(MoneyUnitPriceTest, TimesTies) {
  EXPECT_EQ(Price("USD", "0.005").Times(Cr("1")).ToString(), "0.00");
  EXPECT_EQ(Price("USD", "0.015").Times(Cr("1")).ToString(), "0.02");
  EXPECT_EQ(Price("USD", "0.005").Times(Cr("1"), RoundingMode::kHalfUp).ToString(), "0.01");
  EXPECT_EQ(Price("USD", "0.005").Times(Cr("-1"), RoundingMode::kHalfUp).ToString(), "-0.01");
  EXPECT_EQ(Price("USD", "0.005").Times(Cr("-1")).ToString(), "0.00");
  EXPECT_EQ(Price("JPY", "0.5").Times(Cr("3")).ToString(), "2");         // 1.5
  EXPECT_EQ(Price("JPY", "0.5").Times(Cr("5")).ToString(), "2");         // 2.5
  EXPECT_EQ(Price("KWD", "0.0005").Times(Cr("3")).ToString(), "0.002");  // 0.0015
  EXPECT_EQ(Price("KWD", "0.0005").Times(Cr("1")).ToString(), "0.000");  // 0.0005
  // A fractional number of credits: 2.5 credits at 0.01 = 0.025 -> 0.02.
  EXPECT_EQ(Price("USD", "0.01").Times(Cr("2.5")).ToString(), "0.02");
}

TEST(MoneyUnitPriceTest, OfTotalAndCredits) {
  EXPECT_EQ(UnitPrice::Of(Usd("10.00"), Cr("3")).ToString(), "3.3333333333");
  EXPECT_EQ(UnitPrice::Of(Usd("10.00"), Cr("3"), RoundingMode::kUp).ToString(), "3.3333333334");
  EXPECT_EQ(UnitPrice::Of(Usd("20.00"), Cr("3")).ToString(), "6.6666666667");
  EXPECT_EQ(UnitPrice::Of(Usd("20.00"), Cr("3"), RoundingMode::kDown).ToString(), "6.6666666666");
  EXPECT_EQ(UnitPrice::Of(Usd("1.20"), Cr("1000")), Price("USD", "0.0012"));
  EXPECT_EQ(UnitPrice::Of(Usd("1.00"), Cr("0.5")).ToString(), "2.0000000000");
  EXPECT_EQ(UnitPrice::Of(Money::Parse("JPY", "1000").value(), Cr("3")).ToString(),
            "333.3333333333");
  EXPECT_EQ(UnitPrice::Of(Money::Parse("KWD", "1.000").value(), Cr("8")).ToString(),
            "0.1250000000");
  EXPECT_EQ(UnitPrice::Of(Usd("10.00"), Cr("3")).currency(), Cur("USD"));
  // Buying back at the derived price reproduces the total.
  EXPECT_EQ(UnitPrice::Of(Usd("10.00"), Cr("3")).Times(Cr("3")), Usd("10.00"));
}

TEST(MoneyUnitPriceTest, OfRejectsNonPositiveCredits) {
  ExpectFailedInvariant([] { (void)UnitPrice::Of(Usd("1.00"), Cr("0")); }, {"positive"});
  ExpectFailedInvariant([] { (void)UnitPrice::Of(Usd("1.00"), Cr("-1")); }, {"-1.000000"});
}

TEST(MoneyUnitPriceTest, OverflowIsAFailedInvariant) {
  const Credits absurd = Credits::FromMicros(Int128(1) << 100);
  ExpectFailedInvariant([&] { (void)Price("USD", "1000000").Times(absurd); },
                        {"amount overflow in"});
  const Money huge = Money::FromMinor(Cur("USD"), Int128(1) << 100);
  ExpectFailedInvariant([&] { (void)UnitPrice::Of(huge, Cr("1")); }, {"amount overflow in"});
}

// ---------------------------------------------------------------- allocation

TEST(MoneyAllocateTest, LargestRemainder) {
  EXPECT_EQ(Allocate(I(100), Ints({1, 1, 1})), Ints({34, 33, 33}));
  EXPECT_EQ(Allocate(I(1), Ints({1, 1, 1})), Ints({1, 0, 0}));
  EXPECT_EQ(Allocate(I(2), Ints({1, 1, 1})), Ints({1, 1, 0}));
  EXPECT_EQ(Allocate(I(0), Ints({1, 1, 1})), Ints({0, 0, 0}));
  EXPECT_EQ(Allocate(I(7), Ints({5})), Ints({7}));
  // 11 * {1, 2, 2} / 5: floors {2, 4, 4}, remainders {1, 2, 2}; the one
  // leftover unit goes to the tied largest remainder with the lower index.
  EXPECT_EQ(Allocate(I(11), Ints({1, 2, 2})), Ints({2, 5, 4}));
  // Largest remainder wins even when it is not first: 9 * {1, 3} / 4 has
  // floors {2, 6} and remainders {1, 3}.
  EXPECT_EQ(Allocate(I(9), Ints({1, 3})), Ints({2, 7}));
  // Equal remainders {2, 2}: the lower index wins.
  EXPECT_EQ(Allocate(I(10), Ints({1, 3})), Ints({3, 7}));
}

TEST(MoneyAllocateTest, MoneyOverWeights) {
  const std::vector<Money> parts = Allocate(Usd("10.00"), Ints({1, 2, 3}));
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].ToDisplayString(), "USD 1.67");
  EXPECT_EQ(parts[1].ToDisplayString(), "USD 3.33");
  EXPECT_EQ(parts[2].ToDisplayString(), "USD 5.00");
  const std::vector<Credits> credits = Allocate(Cr("1"), Ints({1, 1, 1}));
  ASSERT_EQ(credits.size(), 3u);
  EXPECT_EQ(credits[0].ToString(), "0.333334");
  EXPECT_EQ(credits[1].ToString(), "0.333333");
  EXPECT_EQ(credits[2].ToString(), "0.333333");
}

TEST(MoneyAllocateTest, NegativeTotalsMirrorPositive) {
  EXPECT_EQ(Allocate(I(-100), Ints({1, 1, 1})), Ints({-34, -33, -33}));
  EXPECT_EQ(Allocate(I(-9), Ints({1, 3})), Ints({-2, -7}));
  EXPECT_EQ(Allocate(I(-10), Ints({1, 3})), Ints({-3, -7}));
  const std::vector<Money> parts = Allocate(Usd("-10.00"), Ints({1, 2, 3}));
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].ToString(), "-1.67");
  EXPECT_EQ(parts[1].ToString(), "-3.33");
  EXPECT_EQ(parts[2].ToString(), "-5.00");
}

TEST(MoneyAllocateTest, ZeroWeightsGetZero) {
  EXPECT_EQ(Allocate(I(5), Ints({0, 1, 0, 1})), Ints({0, 3, 0, 2}));
  EXPECT_EQ(Allocate(I(-5), Ints({0, 1, 0, 1})), Ints({0, -3, 0, -2}));
  EXPECT_EQ(Allocate(I(1), Ints({0, 0, 1})), Ints({0, 0, 1}));
}

TEST(MoneyAllocateTest, RejectsBadWeights) {
  ExpectFailedInvariant([] { (void)Allocate(I(1), std::vector<Int128>{}); }, {"no weights"});
  ExpectFailedInvariant([] { (void)Allocate(I(1), Ints({1, -1})); }, {"weight 1 is negative"});
  ExpectFailedInvariant([] { (void)Allocate(I(1), Ints({0, 0})); }, {"sum to zero"});
  ExpectFailedInvariant([] { (void)Allocate(Usd("1.00"), Ints({0})); }, {"sum to zero"});
  ExpectFailedInvariant([] { (void)Allocate(Cr("1"), Ints({-1})); }, {"negative"});
}

TEST(MoneyAllocateTest, OverflowIsAFailedInvariant) {
  const Int128 huge = Int128(1) << 100;
  ExpectFailedInvariant(
      [&] {
        (void)Allocate(huge, std::vector<Int128>{huge, 1});
      },
      {"amount overflow in Allocate"});
  const Int128 max = std::numeric_limits<Int128>::max();
  ExpectFailedInvariant(
      [&] {
        (void)Allocate(I(1), std::vector<Int128>{max, max});
      },
      {"amount overflow"});
}

// The header's rule spelled out naively, for non-negative totals: floor each
// share, then hand out leftover units one at a time to the largest remaining
// remainder, lowest index first.
std::vector<Int128> ReferenceAllocate(const Int128& total, const std::vector<Int128>& weights,
                                      const Int128& weight_sum) {
  std::vector<Int128> parts;
  std::vector<Int128> remainders;
  Int128 leftover = total;
  for (const Int128& w : weights) {
    parts.push_back(total * w / weight_sum);
    remainders.push_back(total * w % weight_sum);
    leftover -= parts.back();
  }
  for (; leftover > 0; leftover -= 1) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < remainders.size(); ++i) {
      if (remainders[i] > remainders[best]) best = i;
    }
    parts[best] += 1;
    remainders[best] = -1;  // each part gets at most one leftover unit
  }
  return parts;
}

TEST(MoneyAllocateTest, TiesAmongManyPartsGoToLowerIndices) {
  // Enough parts that an unstable sort would reorder the equal remainders.
  for (int count : {17, 40, 100}) {
    for (int64_t total : {1, 7, 16, 39}) {
      if (total >= count) continue;
      const std::vector<Int128> parts =
          Allocate(I(total), std::vector<Int128>(static_cast<std::size_t>(count), 1));
      for (int i = 0; i < count; ++i) {
        EXPECT_EQ(parts[static_cast<std::size_t>(i)], i < total ? 1 : 0)
            << "count " << count << " total " << total << " index " << i;
      }
    }
  }
}

// Checks every property Allocate promises for `total` over `weights`.
void CheckAllocation(const Int128& total, const std::vector<Int128>& weights) {
  Int128 weight_sum = 0;
  for (const Int128& w : weights) weight_sum += w;
  const std::vector<Int128> parts = Allocate(total, weights);
  ASSERT_EQ(parts.size(), weights.size());
  Int128 parts_sum = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    parts_sum += parts[i];
    // |part - total * w / sum| < 1, scaled by sum to stay exact.
    const Int128 error = parts[i] * weight_sum - total * weights[i];
    ASSERT_LT(error < 0 ? Int128(-error) : error, weight_sum)
        << "total " << total << " part " << i << " = " << parts[i];
    ASSERT_TRUE(weights[i] != 0 || parts[i] == 0) << "part " << i << " = " << parts[i];
    // Parts never have the opposite sign of the total.
    ASSERT_TRUE(parts[i] == 0 || (parts[i] < 0) == (total < 0))
        << "total " << total << " part " << i << " = " << parts[i];
  }
  ASSERT_EQ(parts_sum, total);
  if (total >= 0) {
    ASSERT_EQ(parts, ReferenceAllocate(total, weights, weight_sum));
  }
  std::vector<Int128> mirrored = Allocate(Int128(-total), weights);
  for (Int128& part : mirrored) part = -part;
  ASSERT_EQ(mirrored, parts);
}

// 1 to 40 weights, about a fifth of them zero, never all zero. Tiny weights
// (0 to 3) make equal remainders common.
std::vector<Int128> RandomWeights(std::mt19937_64& rng, bool tiny) {
  std::uniform_int_distribution<int> size_dist(1, 40);
  std::uniform_int_distribution<int64_t> weight_dist(0, tiny ? 3 : 1'000'000);
  std::bernoulli_distribution zero_weight(0.2);
  std::vector<Int128> weights(static_cast<std::size_t>(size_dist(rng)));
  bool all_zero = true;
  for (Int128& w : weights) {
    w = zero_weight(rng) ? 0 : weight_dist(rng);
    all_zero = all_zero && w == 0;
  }
  if (all_zero) weights[0] = 1;
  return weights;
}

TEST(MoneyAllocateTest, RandomizedPartsSumExactlyAndStayWithinOneUnit) {
  constexpr uint64_t kSeed = 0x7a11'e0e5'2024'0611;
  SCOPED_TRACE("std::mt19937_64 seed " + std::to_string(kSeed));
  std::mt19937_64 rng(kSeed);
  std::uniform_int_distribution<int64_t> total_dist(-1'000'000'000'000'000, 1'000'000'000'000'000);
  for (int iteration = 0; iteration < 5000; ++iteration) {
    SCOPED_TRACE("iteration " + std::to_string(iteration));
    // Every tenth total is small (-250..249), so parts of 0 and 1 unit occur.
    const Int128 total =
        iteration % 10 == 0 ? Int128(iteration / 10 - 250) : Int128(total_dist(rng));
    CheckAllocation(total, RandomWeights(rng, iteration % 2 == 0));
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace tally
