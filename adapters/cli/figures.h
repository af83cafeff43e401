// Figures the demo and `tally load` print: percentiles of round trips and
// fixed-point text of measured (never monetary) values.
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace tally::cli {

// The `p` quantile (0..1) of `values` by rank; 0 when empty.
inline double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(p * values.size()))];
}

inline std::string Fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.*f", decimals, value);
  return text;
}

}  // namespace tally::cli
