#include "events/timestamp.h"

#include <chrono>
#include <cstdio>

#include "events/limits.h"

namespace tally {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;

// Reads exactly `digits` decimal digits at text[pos...]; false if any is not a digit.
bool ReadDigits(std::string_view text, size_t pos, int digits, int* out) {
  if (pos + digits > text.size()) return false;
  int value = 0;
  for (int i = 0; i < digits; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  *out = value;
  return true;
}

bool Expect(std::string_view text, size_t pos, char c) {
  return pos < text.size() && text[pos] == c;
}

// Parses the fraction ".f{1,6}" at pos, if present. Returns false on a bad fraction.
bool ReadFraction(std::string_view text, size_t* pos, int64_t* micros) {
  *micros = 0;
  if (!Expect(text, *pos, '.')) return true;
  ++*pos;
  int digits = 0;
  while (*pos < text.size() && text[*pos] >= '0' && text[*pos] <= '9') {
    if (++digits > 6) return false;
    *micros = *micros * 10 + (text[*pos] - '0');
    ++*pos;
  }
  for (int i = digits; i < 6; ++i) *micros *= 10;
  return digits > 0;
}

// Parses "Z" or "+hh:mm"/"-hh:mm" ending the string; sets the offset in seconds.
bool ReadOffset(std::string_view text, size_t pos, int64_t* offset_seconds) {
  if (Expect(text, pos, 'Z') && pos + 1 == text.size()) {
    *offset_seconds = 0;
    return true;
  }
  if (!Expect(text, pos, '+') && !Expect(text, pos, '-')) return false;
  int hours = 0;
  int minutes = 0;
  if (pos + 6 != text.size() || !ReadDigits(text, pos + 1, 2, &hours) ||
      !Expect(text, pos + 3, ':') || !ReadDigits(text, pos + 4, 2, &minutes) || hours > 23 ||
      minutes > 59) {
    return false;
  }
  int64_t sign = text[pos] == '-' ? -1 : 1;
  *offset_seconds = sign * (int64_t{hours} * 3600 + int64_t{minutes} * 60);
  return true;
}

}  // namespace

Result<int64_t> ParseTimestamp(std::string_view text) {
  const auto bad = [&] {
    return Status::InvalidArgument("\"" + std::string(text.substr(0, 64)) +
                                   "\" is not an RFC 3339 timestamp (2026-03-01T10:00:00Z)");
  };
  int year, month, day, hour, minute, second;
  if (!ReadDigits(text, 0, 4, &year) || !Expect(text, 4, '-') || !ReadDigits(text, 5, 2, &month) ||
      !Expect(text, 7, '-') || !ReadDigits(text, 8, 2, &day) || !Expect(text, 10, 'T') ||
      !ReadDigits(text, 11, 2, &hour) || !Expect(text, 13, ':') ||
      !ReadDigits(text, 14, 2, &minute) || !Expect(text, 16, ':') ||
      !ReadDigits(text, 17, 2, &second)) {
    return bad();
  }
  size_t pos = 19;
  int64_t fraction_micros = 0;
  int64_t offset_seconds = 0;
  if (!ReadFraction(text, &pos, &fraction_micros) || !ReadOffset(text, pos, &offset_seconds)) {
    return bad();
  }
  std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(month),
                                   std::chrono::day(day)};
  if (!date.ok() || hour > 23 || minute > 59 || second > 59) return bad();
  int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  int64_t seconds =
      days * 86400 + int64_t{hour} * 3600 + int64_t{minute} * 60 + second - offset_seconds;
  int64_t micros = seconds * kMicrosPerSecond + fraction_micros;
  if (micros < limits::kTimestampMicrosMin || micros > limits::kTimestampMicrosMax) {
    return Status::InvalidArgument("timestamp \"" + std::string(text) +
                                   "\" is outside 1970-01-01..9999-12-31");
  }
  return micros;
}

std::string FormatTimestamp(int64_t unix_micros) {
  TALLY_CHECK(unix_micros >= limits::kTimestampMicrosMin &&
              unix_micros <= limits::kTimestampMicrosMax);
  int64_t seconds = unix_micros / kMicrosPerSecond;
  int64_t fraction = unix_micros % kMicrosPerSecond;
  std::chrono::sys_days days{std::chrono::days(seconds / 86400)};
  std::chrono::year_month_day date(days);
  int64_t in_day = seconds % 86400;
  char buffer[40];
  int n = std::snprintf(buffer, sizeof(buffer), "%04d-%02u-%02uT%02d:%02d:%02d",
                        static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                        static_cast<unsigned>(date.day()), static_cast<int>(in_day / 3600),
                        static_cast<int>(in_day / 60 % 60), static_cast<int>(in_day % 60));
  std::string out(buffer, n);
  if (fraction != 0) {
    std::snprintf(buffer, sizeof(buffer), ".%06d", static_cast<int>(fraction));
    out += buffer;
  }
  out += 'Z';
  return out;
}

int64_t AddYears(int64_t unix_micros, int years) {
  TALLY_CHECK(years >= 0);
  using namespace std::chrono;
  const sys_time<microseconds> instant{microseconds(unix_micros)};
  const sys_days day = floor<days>(instant);
  const microseconds time_of_day = instant - day;
  year_month_day date{day};
  date = (date.year() + std::chrono::years(years)) / date.month() / date.day();
  if (!date.ok()) date = sys_days(date.year() / date.month() / last) + days(1);  // 29 Feb
  int64_t out = (sys_days(date) + time_of_day).time_since_epoch().count();
  return std::min(out, limits::kTimestampMicrosMax);
}

}  // namespace tally
