#include "events/money.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <numeric>
#include <utility>

#include "events/check.h"

namespace tally {

namespace {

// Longest decimal string we try to parse. The largest valid value,
// "-1000000000000.000000", has 21 characters; beyond this bound the input is
// rejected before any digit is read, so parsing never works on huge strings.
constexpr std::size_t kMaxDecimalChars = 40;

struct CurrencyInfo {
  std::string_view code;
  int minor_digits;
};

// ISO-4217 codes Tally accepts and their minor-unit digits.
constexpr std::array<CurrencyInfo, 48> kCurrencies = {{
    {"USD", 2}, {"EUR", 2}, {"GBP", 2}, {"CNY", 2}, {"JPY", 0}, {"KRW", 0}, {"KWD", 3}, {"BHD", 3},
    {"JOD", 3}, {"OMR", 3}, {"TND", 3}, {"CHF", 2}, {"CAD", 2}, {"AUD", 2}, {"NZD", 2}, {"HKD", 2},
    {"SGD", 2}, {"TWD", 2}, {"INR", 2}, {"IDR", 2}, {"THB", 2}, {"VND", 0}, {"PHP", 2}, {"MYR", 2},
    {"BRL", 2}, {"MXN", 2}, {"ARS", 2}, {"CLP", 0}, {"COP", 2}, {"SEK", 2}, {"NOK", 2}, {"DKK", 2},
    {"PLN", 2}, {"CZK", 2}, {"HUF", 2}, {"RON", 2}, {"TRY", 2}, {"ILS", 2}, {"AED", 2}, {"SAR", 2},
    {"ZAR", 2}, {"NGN", 2}, {"EGP", 2}, {"UAH", 2}, {"ISK", 0}, {"UGX", 0}, {"XAF", 0}, {"XOF", 0},
}};

// Every scale we use must fit the unit-price scale (see UnitPrice::Of).
static_assert(std::all_of(kCurrencies.begin(), kCurrencies.end(), [](const CurrencyInfo& c) {
  return c.minor_digits >= 0 && c.minor_digits <= kUnitPriceScale;
}));

constexpr std::array<std::pair<RoundingMode, const char*>, 6> kRoundingModeNames = {{
    {RoundingMode::kHalfEven, "half_even"},
    {RoundingMode::kHalfUp, "half_up"},
    {RoundingMode::kDown, "down"},
    {RoundingMode::kUp, "up"},
    {RoundingMode::kFloor, "floor"},
    {RoundingMode::kCeiling, "ceiling"},
}};

// Runs `op`; boost's std::overflow_error becomes a failed invariant naming
// `what` (validated amounts are bounded so that sums and products cannot overflow).
// Converting to Int128 inside the try forces evaluation there.
template <typename Op>
Int128 Checked(const char* what, Op&& op) {
  try {
    return Int128(std::forward<Op>(op)());
  } catch (const std::overflow_error&) {
    TALLY_FAIL(std::string("amount overflow in ") + what);
  }
}

Int128 Pow10(int exponent) {
  TALLY_CHECK(exponent >= 0 && exponent <= 38);
  Int128 result = 1;
  for (int i = 0; i < exponent; ++i) result *= 10;
  return result;
}

Int128 Abs(const Int128& value) { return value < 0 ? Int128(-value) : value; }

std::string Quote(std::string_view text) { return "\"" + std::string(text) + "\""; }

// Formats `value` (in units of 10^-scale) with exactly `scale` decimals.
// Never produces "-0": the sign is only written for values below zero.
std::string FormatScaled(const Int128& value, int scale) {
  std::string digits = Abs(value).str();
  const std::size_t min_size = static_cast<std::size_t>(scale) + 1;
  if (digits.size() < min_size) digits.insert(0, min_size - digits.size(), '0');
  if (scale > 0) digits.insert(digits.size() - static_cast<std::size_t>(scale), 1, '.');
  return value < 0 ? "-" + digits : digits;
}

// What a decimal string is parsed into and how errors describe it.
struct DecimalSpec {
  int scale;               // decimal places allowed, and the scale of the result
  int64_t max_units;       // largest allowed magnitude in whole units
  std::string allows;      // "USD allows", "credits allow"
  std::string limit_unit;  // "USD", "credits", "USD per credit"
};

// A decimal string split per the grammar -?[0-9]+(\.[0-9]+)?
struct DecimalParts {
  bool negative = false;
  std::string_view whole;
  std::string_view fraction;  // empty when there is no '.'
};

bool AllAsciiDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<DecimalParts> SplitDecimal(std::string_view text) {
  DecimalParts parts;
  if (!text.empty() && text.front() == '-') {
    parts.negative = true;
    text.remove_prefix(1);
  }
  const std::size_t dot = text.find('.');
  parts.whole = text.substr(0, dot);
  if (!AllAsciiDigits(parts.whole)) return std::nullopt;
  if (dot == std::string_view::npos) return parts;
  parts.fraction = text.substr(dot + 1);
  if (!AllAsciiDigits(parts.fraction)) return std::nullopt;
  return parts;
}

// The value of an all-digit string, or nullopt as soon as it exceeds `limit`;
// stopping early keeps arbitrarily many digits from overflowing.
std::optional<Int128> DigitsValue(std::string_view digits, const Int128& limit) {
  Int128 value = 0;
  for (char c : digits) {
    value = value * 10 + (c - '0');
    if (value > limit) return std::nullopt;
  }
  return value;
}

Status TooLarge(std::string_view text, const DecimalSpec& spec) {
  return Status::InvalidArgument(Quote(text) + " exceeds the limit of " +
                                 std::to_string(spec.max_units) + " " + spec.limit_unit);
}

Status TooManyDecimals(std::string_view text, std::size_t places, const DecimalSpec& spec) {
  return Status::InvalidArgument(Quote(text) + " has " + std::to_string(places) +
                                 (places == 1 ? " decimal place; " : " decimal places; ") +
                                 spec.allows + " " + std::to_string(spec.scale));
}

// Parses `text` into an integer in units of 10^-spec.scale.
Result<Int128> ParseDecimal(std::string_view text, const DecimalSpec& spec) {
  if (text.size() > kMaxDecimalChars) {
    return Status::InvalidArgument("amount is too long (" + std::to_string(text.size()) +
                                   " characters; at most " + std::to_string(kMaxDecimalChars) +
                                   ")");
  }
  const std::optional<DecimalParts> parts = SplitDecimal(text);
  if (!parts) {
    return Status::InvalidArgument("invalid amount " + Quote(text) +
                                   ": expected digits, an optional leading '-' and an "
                                   "optional '.' followed by digits");
  }
  const std::size_t places = parts->fraction.size();
  if (places > static_cast<std::size_t>(spec.scale)) return TooManyDecimals(text, places, spec);
  const Int128 limit = Int128(spec.max_units) * Pow10(spec.scale);
  const std::optional<Int128> whole = DigitsValue(parts->whole, Int128(spec.max_units));
  const std::optional<Int128> fraction = DigitsValue(parts->fraction, limit);
  if (!whole || !fraction) return TooLarge(text, spec);
  const Int128 value =
      *whole * Pow10(spec.scale) + *fraction * Pow10(spec.scale - static_cast<int>(places));
  if (value > limit) return TooLarge(text, spec);
  return parts->negative ? Int128(-value) : value;
}

void CheckSameCurrency(const Money& a, const Money& b, const char* operation) {
  if (a.currency() == b.currency()) return;
  TALLY_FAIL("currency mismatch in " + std::string(operation) + ": " +
             std::string(a.currency().code()) + " vs " + std::string(b.currency().code()));
}

// Validates the weights for Allocate and returns their sum.
Int128 SumWeights(std::span<const Int128> weights) {
  if (weights.empty()) TALLY_FAIL("Allocate: no weights");
  Int128 sum = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    if (weights[i] < 0) {
      TALLY_FAIL("Allocate: weight " + std::to_string(i) + " is negative (" + weights[i].str() +
                 ")");
    }
    sum = Checked("Allocate (sum of weights)", [&] { return sum + weights[i]; });
  }
  if (sum == 0) TALLY_FAIL("Allocate: weights sum to zero");
  return sum;
}

// Adds one unit to each of the `leftover` parts with the largest remainders;
// stable sorting makes ties go to the lower index.
void DistributeLeftover(std::vector<Int128>& parts, const std::vector<Int128>& remainders,
                        const Int128& leftover) {
  TALLY_CHECK(leftover >= 0 && leftover < Int128(parts.size()));
  std::vector<std::size_t> order(parts.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return remainders[a] > remainders[b]; });
  const auto count = static_cast<std::size_t>(leftover);
  for (std::size_t i = 0; i < count; ++i) {
    // The remainders sum to leftover * sum_of_weights and each is below the
    // sum, so every part receiving a unit has a nonzero remainder (and so a
    // nonzero weight).
    TALLY_CHECK(remainders[order[i]] > 0);
    parts[order[i]] += 1;
  }
}

// Allocate for a total >= 0.
std::vector<Int128> AllocateNonNegative(const Int128& total, std::span<const Int128> weights,
                                        const Int128& weight_sum) {
  std::vector<Int128> parts;
  std::vector<Int128> remainders;
  parts.reserve(weights.size());
  remainders.reserve(weights.size());
  Int128 assigned = 0;
  for (const Int128& weight : weights) {
    const Int128 share = Checked("Allocate", [&] { return total * weight; });
    parts.push_back(share / weight_sum);
    remainders.push_back(share % weight_sum);
    assigned += parts.back();
  }
  DistributeLeftover(parts, remainders, total - assigned);
  return parts;
}

}  // namespace

Result<RoundingMode> ParseRoundingMode(std::string_view name) {
  for (const auto& [mode, mode_name] : kRoundingModeNames) {
    if (name == mode_name) return mode;
  }
  return Status::InvalidArgument("unknown rounding mode " + Quote(name) +
                                 " (expected half_even, half_up, down, up, floor or ceiling)");
}

const char* RoundingModeName(RoundingMode mode) {
  for (const auto& [known_mode, name] : kRoundingModeNames) {
    if (known_mode == mode) return name;
  }
  return "unknown";
}

Int128 DivideRounded(const Int128& numerator, const Int128& denominator, RoundingMode mode) {
  if (denominator == 0) TALLY_FAIL("division by zero in DivideRounded");
  // Boost divides toward zero; the remainder has the numerator's sign.
  Int128 quotient = numerator / denominator;
  const Int128 remainder = numerator % denominator;
  if (remainder == 0) return quotient;
  const bool negative = (numerator < 0) != (denominator < 0);
  Int128 away = Checked("DivideRounded", [&] { return quotient + (negative ? -1 : 1); });
  // Compares |remainder| with |denominator| / 2 without computing 2 * |remainder|,
  // which could overflow for denominators near the 128-bit limit.
  const Int128 abs_remainder = Abs(remainder);
  const Int128 rest = Abs(denominator) - abs_remainder;
  switch (mode) {
    case RoundingMode::kDown: return quotient;
    case RoundingMode::kUp: return away;
    case RoundingMode::kFloor: return negative ? away : quotient;
    case RoundingMode::kCeiling: return negative ? quotient : away;
    case RoundingMode::kHalfUp: return abs_remainder >= rest ? away : quotient;
    case RoundingMode::kHalfEven:
      if (abs_remainder != rest) return abs_remainder > rest ? away : quotient;
      return quotient % 2 == 0 ? quotient : away;
  }
  TALLY_CHECK(false && "unhandled RoundingMode");
  return quotient;
}

Result<Currency> Currency::Parse(std::string_view code) {
  for (const CurrencyInfo& info : kCurrencies) {
    if (info.code == code) return Currency(info.code, info.minor_digits);
  }
  return Status::InvalidArgument("unknown currency " + Quote(code));
}

Result<Credits> Credits::Parse(std::string_view text) {
  const DecimalSpec spec{kCreditsScale, kAmountUnitsMax, "credits allow", "credits"};
  Result<Int128> micros = ParseDecimal(text, spec);
  if (!micros.ok()) return micros.status();
  return Credits(std::move(micros).value());
}

std::string Credits::ToString() const { return FormatScaled(micros_, kCreditsScale); }

Result<Money> Money::Parse(Currency currency, std::string_view text) {
  const std::string code(currency.code());
  const DecimalSpec spec{currency.minor_digits(), kAmountUnitsMax, code + " allows", code};
  Result<Int128> minor = ParseDecimal(text, spec);
  if (!minor.ok()) return minor.status();
  return Money(currency, std::move(minor).value());
}

Result<Money> Money::Parse(std::string_view currency_code, std::string_view text) {
  const Result<Currency> currency = Currency::Parse(currency_code);
  if (!currency.ok()) return currency.status();
  return Parse(*currency, text);
}

std::string Money::ToString() const { return FormatScaled(minor_, currency_.minor_digits()); }

std::string Money::ToDisplayString() const {
  return std::string(currency_.code()) + " " + ToString();
}

Credits Credits::operator+(const Credits& o) const {
  return Credits(Checked("Credits addition", [&] { return micros_ + o.micros_; }));
}

Credits Credits::operator-(const Credits& o) const {
  return Credits(Checked("Credits subtraction", [&] { return micros_ - o.micros_; }));
}

Money Money::operator+(const Money& o) const {
  CheckSameCurrency(*this, o, "addition");
  return Money(currency_, Checked("Money addition", [&] { return minor_ + o.minor_; }));
}

Money Money::operator-(const Money& o) const {
  CheckSameCurrency(*this, o, "subtraction");
  return Money(currency_, Checked("Money subtraction", [&] { return minor_ - o.minor_; }));
}

bool Money::operator<(const Money& o) const {
  CheckSameCurrency(*this, o, "comparison");
  return minor_ < o.minor_;
}

Result<UnitPrice> UnitPrice::Parse(Currency currency, std::string_view text) {
  const std::string code(currency.code());
  const DecimalSpec spec{kUnitPriceScale, kUnitPriceUnitsMax, code + " unit prices allow",
                         code + " per credit"};
  Result<Int128> scaled = ParseDecimal(text, spec);
  if (!scaled.ok()) return scaled.status();
  if (*scaled < 0) {
    return Status::InvalidArgument("unit price " + Quote(text) + " must not be negative");
  }
  return UnitPrice(currency, std::move(scaled).value());
}

UnitPrice UnitPrice::Of(const Money& total, const Credits& credits, RoundingMode mode) {
  if (credits.micros() <= 0) {
    TALLY_FAIL("UnitPrice::Of needs a positive number of credits, got " + credits.ToString());
  }
  // price = (minor / 10^d) / (micros / 10^6), expressed in units of 10^-kUnitPriceScale.
  const int exponent = kUnitPriceScale - total.currency().minor_digits() + kCreditsScale;
  const Int128 numerator =
      Checked("UnitPrice::Of", [&] { return total.minor_units() * Pow10(exponent); });
  return UnitPrice(total.currency(), DivideRounded(numerator, credits.micros(), mode));
}

std::string UnitPrice::ToString() const { return FormatScaled(scaled_, kUnitPriceScale); }

Money UnitPrice::Times(const Credits& credits, RoundingMode mode) const {
  // micros * scaled has kCreditsScale + kUnitPriceScale decimals; bring it
  // down to the currency's minor digits.
  const Int128 product = Checked("UnitPrice::Times", [&] { return credits.micros() * scaled_; });
  const int exponent = kCreditsScale + kUnitPriceScale - currency_.minor_digits();
  return Money::FromMinor(currency_, DivideRounded(product, Pow10(exponent), mode));
}

std::vector<Int128> Allocate(const Int128& total, std::span<const Int128> weights) {
  const Int128 weight_sum = SumWeights(weights);
  std::vector<Int128> parts = AllocateNonNegative(Abs(total), weights, weight_sum);
  Int128 parts_sum = 0;
  for (Int128& part : parts) {
    if (total < 0) part = -part;
    parts_sum += part;
  }
  TALLY_CHECK(parts_sum == total);
  return parts;
}

std::vector<Money> Allocate(const Money& total, std::span<const Int128> weights) {
  std::vector<Money> parts;
  parts.reserve(weights.size());
  for (Int128& minor : Allocate(total.minor_units(), weights)) {
    parts.push_back(Money::FromMinor(total.currency(), std::move(minor)));
  }
  return parts;
}

std::vector<Credits> Allocate(const Credits& total, std::span<const Int128> weights) {
  std::vector<Credits> parts;
  parts.reserve(weights.size());
  for (Int128& micros : Allocate(total.micros(), weights)) {
    parts.push_back(Credits::FromMicros(std::move(micros)));
  }
  return parts;
}

}  // namespace tally
