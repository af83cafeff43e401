// Exact money and credits: fixed-point decimals on checked 128-bit integers.
//
// Three value types, all immutable, all copyable:
//   Credits    the platform's unit, 6 decimal places, stored as micro-credits.
//   Money      an ISO-4217 currency and an amount in that currency's minor
//              units (USD 2 places, JPY 0, KWD 3).
//   UnitPrice  money per credit at a finer fixed scale (kUnitPriceScale
//              places), e.g. 0.0012 USD per credit.
//
// Rules (docs/money.md):
//   - Parsed from and formatted to decimal strings only; never from double.
//   - Arithmetic is checked: overflow is a failed invariant, never a wrap.
//   - Mixing currencies is a failed invariant.
//   - Rounding happens only in the functions that take a RoundingMode.
//   - Allocate() splits a total into parts that sum exactly to the total.
//
// Errors: Parse*() return Result (bad input is expected). Arithmetic on values
// that passed validation cannot overflow (every amount is at most
// kAmountUnitsMax) and never mixes currencies unless the code is wrong, so
// either stops the process through TALLY_FAIL (events/check.h): no exception
// leaves the money path with a half-applied batch behind it.
#pragma once

#include <boost/multiprecision/cpp_int.hpp>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "events/check.h"
#include "events/status.h"

namespace tally {

// Signed 128-bit integer that throws std::overflow_error instead of wrapping.
using Int128 = boost::multiprecision::checked_int128_t;

enum class RoundingMode {
  kHalfEven,  // banker's rounding: ties to the even neighbour (the default)
  kHalfUp,    // ties away from zero
  kDown,      // toward zero (truncate)
  kUp,        // away from zero
  kFloor,     // toward negative infinity
  kCeiling,   // toward positive infinity
};

// Parses "half_even", "half_up", "down", "up", "floor", "ceiling".
Result<RoundingMode> ParseRoundingMode(std::string_view name);
const char* RoundingModeName(RoundingMode mode);

// Divides `numerator` by `denominator` (> 0 or < 0, not 0), rounding with `mode`.
// REQUIRES: denominator != 0 (else TALLY_FAIL).
Int128 DivideRounded(const Int128& numerator, const Int128& denominator, RoundingMode mode);

// An ISO-4217 currency known to Tally, with its number of minor-unit digits.
class Currency {
 public:
  // Looks up an upper-case ISO-4217 code ("USD"); unknown codes are an error
  // whose message names the code.
  static Result<Currency> Parse(std::string_view code);

  std::string_view code() const { return code_; }
  int minor_digits() const { return minor_digits_; }
  friend bool operator==(const Currency& a, const Currency& b) { return a.code() == b.code(); }

 private:
  Currency(std::string_view code, int minor_digits) : code_(code), minor_digits_(minor_digits) {}
  std::string_view code_;  // points into a static table
  int minor_digits_ = 0;
};

// Upper bounds on parsed values, in whole units. They keep every product of a
// parsed Credits and a parsed UnitPrice inside 128 bits (10^18 micro-credits
// times 10^16 scaled price = 10^34 < 3.4 * 10^38), so that overflow can only
// come from summing an absurd number of maximal values.
inline constexpr int64_t kAmountUnitsMax = 1'000'000'000'000;  // 10^12 credits or currency units
inline constexpr int64_t kUnitPriceUnitsMax = 1'000'000;       // 10^6 currency units per credit
inline constexpr int kCreditsScale = 6;
inline constexpr int kUnitPriceScale = 10;

class Credits {
 public:
  Credits() = default;  // zero
  static Credits FromMicros(Int128 micros) { return Credits(std::move(micros)); }
  // Parses "12", "-3.5", "0.000001". More than 6 decimal places, exponents,
  // spaces, a leading '+', an empty string or |value| > kAmountUnitsMax are errors.
  static Result<Credits> Parse(std::string_view text);

  const Int128& micros() const { return micros_; }
  bool is_zero() const { return micros_ == 0; }
  bool is_negative() const { return micros_ < 0; }
  // Canonical form with exactly 6 decimals: "12.500000", "-0.000001".
  std::string ToString() const;

  // Overflow is TALLY_FAIL.
  Credits operator+(const Credits& o) const;
  Credits operator-(const Credits& o) const;
  Credits operator-() const { return Credits(-micros_); }
  Credits& operator+=(const Credits& o) { return *this = *this + o; }
  Credits& operator-=(const Credits& o) { return *this = *this - o; }
  friend bool operator==(const Credits& a, const Credits& b) { return a.micros_ == b.micros_; }
  friend std::strong_ordering operator<=>(const Credits& a, const Credits& b) {
    return a.micros_ < b.micros_   ? std::strong_ordering::less
           : a.micros_ > b.micros_ ? std::strong_ordering::greater
                                   : std::strong_ordering::equal;
  }

 private:
  explicit Credits(Int128 micros) : micros_(std::move(micros)) {}
  Int128 micros_ = 0;
};

class Money {
 public:
  static Money Zero(Currency currency) { return Money(currency, 0); }
  static Money FromMinor(Currency currency, Int128 minor_units) {
    return Money(currency, std::move(minor_units));
  }
  // Parses an amount in `currency`: "10.50" USD, "1200" JPY, "1.234" KWD.
  // More decimals than the currency's minor digits is an error (no silent
  // rounding); so are exponents, spaces, '+', and |value| > kAmountUnitsMax.
  static Result<Money> Parse(Currency currency, std::string_view text);
  // Parses a currency code and an amount.
  static Result<Money> Parse(std::string_view currency_code, std::string_view text);

  const Currency& currency() const { return currency_; }
  const Int128& minor_units() const { return minor_; }
  bool is_zero() const { return minor_ == 0; }
  bool is_negative() const { return minor_ < 0; }
  // Amount with exactly the currency's minor digits: "10.50", "1200", "1.234".
  std::string ToString() const;
  // "USD 10.50"
  std::string ToDisplayString() const;

  // TALLY_FAIL when currencies differ or on overflow.
  Money operator+(const Money& o) const;
  Money operator-(const Money& o) const;
  Money operator-() const { return Money(currency_, -minor_); }
  Money& operator+=(const Money& o) { return *this = *this + o; }
  Money& operator-=(const Money& o) { return *this = *this - o; }
  // Equality requires the same currency and amount. Ordering across
  // currencies is TALLY_FAIL.
  friend bool operator==(const Money& a, const Money& b) {
    return a.currency_ == b.currency_ && a.minor_ == b.minor_;
  }
  bool operator<(const Money& o) const;

 private:
  Money(Currency currency, Int128 minor) : currency_(currency), minor_(std::move(minor)) {}
  Currency currency_;
  Int128 minor_;
};

class UnitPrice {
 public:
  // Parses money per credit: "0.0012" USD. At most kUnitPriceScale decimals,
  // not negative, at most kUnitPriceUnitsMax.
  static Result<UnitPrice> Parse(Currency currency, std::string_view text);
  // The exact price of one credit when `total` buys `credits` (> 0), rounded
  // to kUnitPriceScale decimals with `mode`. REQUIRES: credits > 0 (else TALLY_FAIL).
  static UnitPrice Of(const Money& total, const Credits& credits,
                      RoundingMode mode = RoundingMode::kHalfEven);
  static UnitPrice Zero(Currency currency) { return UnitPrice(currency, 0); }

  const Currency& currency() const { return currency_; }
  // Amount in units of 10^-kUnitPriceScale of the currency.
  const Int128& scaled() const { return scaled_; }
  // Canonical form with exactly kUnitPriceScale decimals: "0.0012000000".
  std::string ToString() const;

  // The money for `credits` at this price, rounded to the currency's minor
  // units with `mode`. This is one of the named rounding points.
  Money Times(const Credits& credits, RoundingMode mode = RoundingMode::kHalfEven) const;

  friend bool operator==(const UnitPrice& a, const UnitPrice& b) {
    return a.currency_ == b.currency_ && a.scaled_ == b.scaled_;
  }

 private:
  UnitPrice(Currency currency, Int128 scaled) : currency_(currency), scaled_(std::move(scaled)) {}
  Currency currency_;
  Int128 scaled_;
};

// Splits `total` into weights.size() parts proportional to `weights` so that
// the parts sum exactly to `total`. Each part is first rounded toward zero;
// the leftover units go one each to the parts with the largest remainders
// (ties: lower index first). Negative totals split like their absolute value,
// negated. REQUIRES (else TALLY_FAIL): weights non-empty, every weight >= 0,
// sum of weights > 0.
std::vector<Int128> Allocate(const Int128& total, std::span<const Int128> weights);
std::vector<Money> Allocate(const Money& total, std::span<const Int128> weights);
std::vector<Credits> Allocate(const Credits& total, std::span<const Int128> weights);

}  // namespace tally
