// A ledger on a temp dir with a manual clock, and JSON builders for events.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "events/codec.h"
#include "ledger/ledger.h"
#include "projections/store.h"
#include "tests/events/event_fixtures.h"
#include "tests/temp_dir.h"

namespace tally::testing {

inline constexpr int64_t kSecond = 1'000'000;
inline constexpr int64_t kHour = 3600 * kSecond;
inline constexpr int64_t kStart = 1'772'359'200'000'000;  // 2026-03-01T10:00:00Z

inline Int128 CreditsMicros(int64_t whole) { return Int128(whole) * 1'000'000; }

class LedgerFixture : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    projections_.reset();
    ledger_.reset();
    LedgerOptions options{dir_.path(), true};
    options.master_key = master_key_;
    auto ledger = Ledger::Open(options, &clock_);
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    ledger_ = std::move(ledger).value();
  }

  // Parses and appends one batch; every line must be valid producer JSON.
  std::vector<AppendOutcome> Append(const std::vector<std::string>& lines) {
    std::vector<Event> events;
    for (const auto& line : lines) {
      auto event = codec_.ParseJson(line);
      EXPECT_TRUE(event.ok()) << event.status().ToString() << "\n" << line;
      if (!event.ok()) return {};
      events.push_back(*event);
    }
    auto outcomes = ledger_->Append(events);
    EXPECT_TRUE(outcomes.ok()) << outcomes.status().ToString();
    return outcomes.ok() ? *outcomes : std::vector<AppendOutcome>{};
  }

  AppendOutcome AppendOne(const std::string& line) {
    auto outcomes = Append({line});
    return outcomes.empty() ? AppendOutcome{} : outcomes[0];
  }

  std::vector<LoggedEvent> Log(uint64_t from_seq = 1) {
    std::vector<LoggedEvent> log;
    EXPECT_TRUE(ledger_
                    ->Scan(from_seq,
                           [&](const LoggedEvent& e) {
                             log.push_back(e);
                             return true;
                           })
                    .ok());
    return log;
  }

  LoggedEvent At(uint64_t seq) {
    auto log = Log(seq);
    TALLY_CHECK(!log.empty() && log[0].seq == seq);
    return log[0];
  }

  // Balance (debits - credits) of a ledger account in an asset, from the journal.
  Int128 Balance(const std::string& account, const std::string& asset) {
    auto lines = ledger_->TrialBalance();
    EXPECT_TRUE(lines.ok()) << lines.status().ToString();
    if (!lines.ok()) return 0;
    for (const auto& line : *lines) {
      if (line.account == account && line.asset == asset) return line.balance;
    }
    return 0;
  }

  std::string Available(const std::string& account) {
    return ledger_->Account(account).available.ToString();
  }

  // The projection store beside the log, caught up to the head.
  const ProjectionStore& Projections() {
    if (!projections_) {
      auto opened = ProjectionStore::Open(*ledger_, dir_.path());
      TALLY_CHECK(opened.ok());
      projections_ = std::move(opened).value();
    }
    auto caught_up = projections_->CatchUp();
    EXPECT_TRUE(caught_up.ok()) << caught_up.status().ToString();
    return *projections_;
  }

  TempDir dir_;
  std::optional<MasterKey> master_key_;  // set before SetUp for personal fields
  ManualClock clock_{kStart};
  EventCodec codec_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<ProjectionStore> projections_;
};

// ---- JSON builders -------------------------------------------------------

inline std::string Money(const std::string& currency, const std::string& value) {
  return R"({"currency":")" + currency + R"(","value":")" + value + R"("})";
}

inline std::string PaidTopUp(const std::string& id, const std::string& account,
                             const std::string& credits, const std::string& currency,
                             const std::string& amount, const std::string& tax = "",
                             const std::string& expires_at = "") {
  std::string data = R"({"provider":"stripe","reference":"ref-)" + id + R"(","amount":)" +
                     Money(currency, amount) + R"(,"credits":")" + credits + R"(")";
  if (!tax.empty()) data += R"(,"tax":)" + Money(currency, tax) + R"(,"tax_jurisdiction":"US-CA")";
  if (!expires_at.empty()) data += R"(,"lot_expires_at":")" + expires_at + R"(")";
  return JsonEvent(id, account, "top_up_settled", data + "}");
}

inline std::string Grant(const std::string& id, const std::string& account,
                         const std::string& credits, const std::string& expires_at = "") {
  std::string data = R"({"credits":")" + credits + R"(","kind":"promotional","reason":"promo")";
  if (!expires_at.empty()) data += R"(,"expires_at":")" + expires_at + R"(")";
  return JsonEvent(id, account, "credits_granted", data + "}");
}

inline std::string Submit(const std::string& id, const std::string& account,
                          const std::string& task, const std::string& estimate, int ttl_ms = 0) {
  std::string data = R"({"task_id":")" + task + R"(","estimate":")" + estimate + R"(")";
  if (ttl_ms > 0) data += R"(,"hold_ttl_ms":)" + std::to_string(ttl_ms);
  return JsonEvent(id, account, "task_submitted", data + "}");
}

inline std::string Succeed(const std::string& id, const std::string& account,
                           const std::string& task, const std::string& cost) {
  return JsonEvent(id, account, "task_succeeded",
                   R"({"task_id":")" + task + R"(","cost":")" + cost + R"("})");
}

inline std::string Outcome(const std::string& id, const std::string& account,
                           const std::string& type, const std::string& task) {
  return JsonEvent(id, account, type, R"({"task_id":")" + task + R"("})");
}

inline std::string Refund(const std::string& id, const std::string& account,
                          const std::string& payment_id, const std::string& currency,
                          const std::string& amount, const std::string& credits) {
  return JsonEvent(id, account, "refund_issued",
                   R"({"refund_id":")" + id + R"(","payment_reference":"ref-)" + payment_id +
                       R"(","provider":"stripe","amount":)" + Money(currency, amount) +
                       R"(,"credits":")" + credits + R"("})");
}

}  // namespace tally::testing
