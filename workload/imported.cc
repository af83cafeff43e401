// The account of an older billing system: a studio in Germany since 2019,
// a top-up every January and usage every month, imported before anything
// live (docs/ledger.md, "Import mode"). Its first years are past the
// seven-year horizon, so the retention plan has something to archive.
#include "events/timestamp.h"
#include "workload/internal/account.h"

namespace tally::workload::internal {
namespace {

constexpr Market kGermany = {"DE", "EUR", 2, {"stripe", nullptr}, "DE", 190, "tally-demo-eu", 100};

// 00:00 UTC of a civil date (days from civil, proleptic Gregorian).
int64_t Midnight(int year, int month, int day) {
  year -= month <= 2;
  const int era = (year >= 0 ? year : year - 399) / 400;
  const int yoe = year - era * 400;
  const int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return (static_cast<int64_t>(era) * 146097 + doe - 719468) * kDay;
}

}  // namespace

std::vector<WorkloadEvent> ImportedHistory(const std::string& account, int64_t until_micros) {
  std::vector<WorkloadEvent> out;
  int serial = 0;
  auto add = [&](int64_t at, const std::string& type, Json data) {
    if (at >= until_micros) return;
    WorkloadEvent event;
    event.at_micros = at;
    event.channel = Channel::kImport;
    event.id = "legacy-" + std::to_string(++serial);
    event.account = account;
    event.type = type;
    event.json = Encode(Envelope(event.id, account, at, "migration", type, std::move(data),
                                 /*imported=*/true));
    out.push_back(std::move(event));
  };
  auto plain = [](const char* text) { return Json::Object().Add("plaintext", Text(text)); };
  add(Midnight(2019, 1, 10) + 9 * kHour, "account_opened",
      Json::Object()
          .Add("email", plain("billing@legacy-studio.example.de"))
          .Add("legal_name", plain("Legacy Studio GmbH"))
          .Add("tax_id", plain("DE811122233"))
          .Add("country", Text("DE"))
          .Add("legal_entity", Text(kGermany.legal_entity)));
  for (int year = 2019; year <= 2026; ++year) {
    add(Midnight(year, 1, 10) + 10 * kHour, "top_up_settled",
        Json::Object()
            .Add("provider", Text("stripe"))
            .Add("reference", Text("ch_legacy_" + std::to_string(year)))
            .Add("amount", MoneyJson(kGermany, 2000))
            .Add("tax", MoneyJson(kGermany, TaxIncluded(2000, kGermany.tax_permille)))
            .Add("tax_jurisdiction", Text("DE"))
            .Add("credits", Text("2000"))
            .Add("legal_entity", Text(kGermany.legal_entity)));
    for (int month = 1; month <= 12; ++month) {
      const std::string usage_id = "legacy-u-" + std::to_string(year) + "-" + std::to_string(month);
      add(Midnight(year, month, 15) + 14 * kHour, "usage_recorded",
          Json::Object()
              .Add("usage_id", Text(usage_id))
              .Add("credits", Text("150"))
              .Add("model", Text("image-sd")));
    }
  }
  return out;
}

}  // namespace tally::workload::internal
