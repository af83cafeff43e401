#include "workload/internal/builders.h"

#include <cstdio>

#include "events/timestamp.h"

namespace tally::workload::internal {
namespace {

// Four markets, by share of accounts: list prices of 100 credits and the
// tax included in them.
constexpr Market kMarkets[] = {
    {"US", "USD", 2, {"stripe", nullptr}, "US-NY", 0, "tally-demo-us", 100},
    {"DE", "EUR", 2, {"stripe", nullptr}, "DE", 190, "tally-demo-eu", 100},
    {"CN", "CNY", 2, {"alipay", "wechat_pay"}, "CN", 60, "tally-demo-cn", 680},
    {"JP", "JPY", 0, {"stripe", nullptr}, "JP", 100, "tally-demo-jp", 150},
};
constexpr int kMarketShare[] = {40, 20, 25, 15};  // percent

}  // namespace

uint64_t Rng::Next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

const Market& MarketFor(Rng& rng) {
  int draw = static_cast<int>(rng.Below(100));
  for (size_t i = 0; i < std::size(kMarkets); ++i) {
    if (draw < kMarketShare[i]) return kMarkets[i];
    draw -= kMarketShare[i];
  }
  return kMarkets[0];
}

std::string FormatMinor(int64_t minor, int decimals) {
  const bool negative = minor < 0;
  const uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(minor) : minor;
  std::string text = std::to_string(magnitude);
  if (decimals > 0) {
    if (text.size() <= static_cast<size_t>(decimals)) {
      text.insert(0, static_cast<size_t>(decimals) + 1 - text.size(), '0');
    }
    text.insert(text.size() - static_cast<size_t>(decimals), ".");
  }
  return negative ? "-" + text : text;
}

std::string FormatCenti(int64_t centi) {
  std::string text = FormatMinor(centi, 2);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

int64_t TaxIncluded(int64_t gross, int permille) {
  const int64_t denominator = 1000 + permille;
  return (gross * permille * 2 + denominator) / (2 * denominator);
}

Json MoneyJson(const Market& market, int64_t minor) {
  return Json::Object()
      .Add("currency", Json::String(market.currency))
      .Add("value", Json::String(FormatMinor(minor, market.decimals)));
}

Json Envelope(const std::string& id, const std::string& account, int64_t at_micros,
              const std::string& producer, const std::string& type, Json data, bool imported) {
  Json event = Json::Object()
                   .Add("id", Json::String(id))
                   .Add("account", Json::String(account))
                   .Add("occurred_at", Json::String(FormatTimestamp(at_micros)))
                   .Add("producer", Json::String(producer));
  if (imported) event.Add("imported", Json::Bool(true));
  event.Add("type", Json::String(type)).Add("data", std::move(data));
  return event;
}

}  // namespace tally::workload::internal
