#include "workload/internal/account.h"

#include <algorithm>

#include "events/timestamp.h"

namespace tally::workload::internal {
namespace {

constexpr int64_t kPromoCredits = 50;

const char* kFirstNames[] = {"Ada",  "Ben", "Chloe", "Dai",  "Emil", "Fang", "Grete", "Hiro",
                             "Ines", "Jun", "Kai",   "Lena", "Mei",  "Noah", "Olga",  "Ren"};
const char* kLastNames[] = {"Sato", "Weber", "Li", "Smith", "Tanaka", "Müller", "Wang", "Brown"};

}  // namespace

Persona PersonaFor(Rng& rng, int index, int accounts) {
  Persona p;
  const int kind = static_cast<int>(rng.Below(100));
  if (kind < 2) {
    p = {.tasks_per_100_days = 600, .pack_credits = 5000};  // a studio
  } else if (kind < 22) {
    p = {.tasks_per_100_days = 100, .pack_credits = 2000};
  } else if (kind < 70) {
    p = {.tasks_per_100_days = 20, .pack_credits = 1000};
  } else {
    p = {.tasks_per_100_days = 3, .pays = rng.Chance(300), .pack_credits = 500};
  }
  p.subscribes = kind < 70 && rng.Chance(150);
  p.refund_permille = rng.Chance(20) ? 1000 : 0;
  // Fixed roles, by index, so that every workload of 20 accounts or more has them.
  const int step = std::max(1, accounts / 10);
  p.chargeback = index == step || index == 2 * step;
  p.chargeback_won = index == step;
  p.erasure = index % step == 7 % step && index / step >= 3 && index / step < 8;
  p.legal_hold = p.erasure && index / step == 3;
  if (p.chargeback || p.erasure) p.refund_permille = 0;
  if (p.chargeback) p.pays = true;
  return p;
}

AccountMonth::AccountMonth(std::string account, Persona persona, const Market& market,
                           uint64_t seed, const WorkloadOptions& options)
    : account_(std::move(account)),
      persona_(persona),
      market_(market),
      rng_(seed),
      options_(options),
      end_(options.start_micros + options.days * kDay) {}

std::vector<WorkloadEvent> AccountMonth::Make() {
  // Most accounts exist when the month starts; the rest sign up during it.
  const int64_t span = std::max<int64_t>(kHour, (end_ - options_.start_micros) * 4 / 5);
  const bool early = rng_.Chance(700) || persona_.erasure || persona_.chargeback;
  opened_ = options_.start_micros +
            (early ? rng_.Between(kMinute, 6 * kHour) : rng_.Between(kMinute, span));
  if (persona_.erasure) {
    erase_at_ = std::max(opened_ + 2 * kHour,
                         options_.start_micros + (end_ - options_.start_micros) * 4 / 5);
    persona_.subscribes = false;
  }
  Open();
  if (persona_.subscribes) Subscribe();
  if (persona_.chargeback) TopUp(opened_ + 10 * kMinute, persona_.pack_credits);
  RunTasks();
  if (persona_.erasure) Erase();
  std::stable_sort(
      events_.begin(), events_.end(),
      [](const WorkloadEvent& a, const WorkloadEvent& b) { return a.at_micros < b.at_micros; });
  std::erase_if(events_, [&](const WorkloadEvent& e) { return e.at_micros >= end_; });
  if (persona_.legal_hold) {
    // The case closes a day after the window: the last event of all, so
    // that every hold and expiry due by then is decided on every path.
    Add(end_ + kDay, Channel::kOperator, "legal_hold_released",
        Json::Object()
            .Add("reason", Json::String("case closed"))
            .Add("released_by", Json::String("legal:counsel-2")),
        "compliance");
  }
  return std::move(events_);
}

void AccountMonth::Open() {
  const std::string first = kFirstNames[rng_.Below(std::size(kFirstNames))];
  const std::string last = kLastNames[rng_.Below(std::size(kLastNames))];
  auto plain = [](std::string text) {
    return Json::Object().Add("plaintext", Json::String(std::move(text)));
  };
  Json data = Json::Object()
                  .Add("email", plain(account_ + "@example.com"))
                  .Add("display_name", plain(first + " " + last))
                  .Add("ip_address", plain("198.51.100." + std::to_string(rng_.Between(1, 254))));
  if (std::string(market_.country) == "DE" || std::string(market_.country) == "CN") {
    data.Add("legal_name", plain(first + " " + last + " Studio"))
        .Add("tax_id", plain(std::string(market_.country) +
                             std::to_string(rng_.Between(100000000, 999999999))));
  }
  data.Add("country", Json::String(market_.country))
      .Add("legal_entity", Json::String(market_.legal_entity));
  Add(opened_, Channel::kFact, "account_opened", std::move(data), "accounts");
  const int64_t expires = CeilHour(opened_ + 7 * kDay);
  Add(opened_ + kSecond, Channel::kFact, "credits_granted",
      Json::Object()
          .Add("credits", Json::String(std::to_string(kPromoCredits)))
          .Add("kind", Json::String("promotional"))
          .Add("expires_at", Json::String(FormatTimestamp(expires)))
          .Add("reason", Json::String("signup trial")),
      "growth");
  lots_.push_back({opened_ + kSecond, expires, kPromoCredits * 100});
}

void AccountMonth::Add(int64_t at, Channel channel, const std::string& type, Json data,
                       const std::string& producer, const std::string& task_id) {
  WorkloadEvent event;
  event.at_micros = at;
  event.channel = channel;
  event.id = NextId(type.c_str());
  event.account = account_;
  event.type = type;
  event.task_id = task_id;
  event.json =
      Encode(Envelope(event.id, account_, at, producer, type, std::move(data), options_.imported));
  events_.push_back(std::move(event));
}

std::string AccountMonth::NextId(const char* kind) {
  return account_ + "-" + std::to_string(++serial_) + "-" + kind;
}

}  // namespace tally::workload::internal
