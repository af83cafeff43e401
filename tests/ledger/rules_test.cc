// The posting rules of docs/ledger.md, each with exact figures.
#include <gtest/gtest.h>

#include "events/timestamp.h"
#include "ledger/journal.h"
#include "tests/ledger/ledger_fixture.h"

namespace tally {
namespace {

using namespace testing;  // NOLINT: fixtures and builders
namespace acct = accounts;

using Kind = AppendOutcome::Kind;

class RulesTest : public LedgerFixture {};

TEST_F(RulesTest, TopUpBooksCashTaxDeferredRevenueAndIssuesCredits) {
  auto outcome = AppendOne(PaidTopUp("t1", "a", "1000", "USD", "10.00", "0.83"));
  ASSERT_EQ(outcome.kind, Kind::kAppended);
  Postings expected = {
      {"cash:stripe", "USD", 83},
      {"tax_payable:US-CA", "USD", -83},
      {"cash:stripe", "USD", 917},
      {"deferred_revenue", "USD", -917},
      {"platform:issued", "credits", CreditsMicros(1000)},
      {"customer:a:available", "credits", -CreditsMicros(1000)},
  };
  EXPECT_EQ(At(outcome.seq).postings, expected);
  auto view = ledger_->Account("a");
  ASSERT_EQ(view.lots.size(), 1u);
  EXPECT_EQ(view.lots[0].kind, "paid");
  EXPECT_EQ(view.lots[0].deferred->ToString(), "9.17");
}

TEST_F(RulesTest, LotsBurnEarliestExpiryThenPromotionalThenOldest) {
  Append({PaidTopUp("paid-never", "a", "10", "USD", "1.00"), Grant("promo-never", "a", "10"),
          PaidTopUp("paid-day2", "a", "10", "USD", "1.00", "", "2026-03-03T00:00:00Z"),
          Grant("promo-day2", "a", "10", "2026-03-03T00:00:00Z"),
          PaidTopUp("paid-day1", "a", "10", "USD", "1.00", "", "2026-03-02T00:00:00Z")});
  std::vector<std::string> order;
  for (const auto& lot : ledger_->Account("a").lots) order.push_back(lot.id);
  EXPECT_EQ(order, (std::vector<std::string>{"paid-day1", "promo-day2", "paid-day2", "promo-never",
                                             "paid-never"}));
  AppendOne(Usage("u1", "a", "15"));  // all of paid-day1, half of promo-day2
  auto lots = ledger_->Account("a").lots;
  ASSERT_EQ(lots.size(), 4u);
  EXPECT_EQ(lots[0].id, "promo-day2");
  EXPECT_EQ(lots[0].credits.ToString(), "5.000000");
}

TEST_F(RulesTest, RevenueOfALotSumsExactlyToItsPrice) {
  AppendOne(PaidTopUp("t1", "a", "3", "USD", "10.00"));
  std::vector<Int128> recognised;
  for (int i = 0; i < 3; ++i) {
    auto outcome = AppendOne(Usage("u" + std::to_string(i), "a", "1"));
    for (const Posting& p : At(outcome.seq).postings) {
      if (p.account == acct::kRevenueUsage) recognised.push_back(-p.amount);
    }
  }
  ASSERT_EQ(recognised.size(), 3u);
  EXPECT_EQ(recognised[0] + recognised[1] + recognised[2], 1000);
  for (const Int128& cents : recognised) EXPECT_TRUE(cents == 333 || cents == 334);
  EXPECT_EQ(Balance(acct::kDeferredRevenue, "USD"), 0);
  EXPECT_EQ(Balance(acct::kRevenueUsage, "USD"), -1000);
}

TEST_F(RulesTest, HoldIsAcceptedAndCaptureReleasesTheRest) {
  AppendOne(PaidTopUp("t1", "a", "100", "USD", "1.00"));
  auto submitted = AppendOne(Submit("s1", "a", "task-1", "30", 60'000));
  ASSERT_EQ(submitted.kind, Kind::kAppended);
  LoggedEvent decision = At(submitted.seq + 1);
  ASSERT_EQ(decision.event.type_name(), "hold_accepted");
  EXPECT_EQ(decision.event.reader().getHoldAccepted().getExpiresAt().getUnixMicros(),
            kStart + 60 * kSecond);
  EXPECT_EQ(Available("a"), "70.000000");
  EXPECT_EQ(ledger_->Account("a").held.ToString(), "30.000000");
  AppendOne(Succeed("s2", "a", "task-1", "20"));
  EXPECT_EQ(Available("a"), "80.000000");
  EXPECT_EQ(ledger_->Account("a").held.ToString(), "0.000000");
}

TEST_F(RulesTest, CaptureAboveTheHoldTakesAvailableThenReceivable) {
  AppendOne(Grant("g1", "a", "50"));
  AppendOne(Submit("s1", "a", "task-1", "30"));
  AppendOne(Succeed("s2", "a", "task-1", "45"));  // 30 held + 15 available
  EXPECT_EQ(Available("a"), "5.000000");
  AppendOne(Submit("s3", "a", "task-2", "5"));
  AppendOne(Succeed("s4", "a", "task-2", "12"));  // 5 held, 7 beyond: receivable
  auto view = ledger_->Account("a");
  EXPECT_EQ(view.available.ToString(), "0.000000");
  EXPECT_EQ(view.receivable.ToString(), "7.000000");
  EXPECT_EQ(Balance(acct::CustomerReceivable("a"), kCreditsAsset), CreditsMicros(7));
}

TEST_F(RulesTest, HoldIsRejectedWhenCreditsAreShort) {
  AppendOne(Grant("g1", "a", "10"));
  auto submitted = AppendOne(Submit("s1", "a", "task-1", "20"));
  ASSERT_EQ(submitted.kind, Kind::kAppended);
  LoggedEvent decision = At(submitted.seq + 1);
  ASSERT_EQ(decision.event.type_name(), "hold_rejected");
  auto rejected = decision.event.reader().getHoldRejected();
  EXPECT_EQ(std::string(rejected.getAvailable().cStr()), "10.000000");
  EXPECT_TRUE(decision.postings.empty());
  EXPECT_EQ(Available("a"), "10.000000");
}

TEST_F(RulesTest, FailedAndCancelledTasksReleaseTheirHolds) {
  AppendOne(Grant("g1", "a", "10"));
  Append({Submit("s1", "a", "t1", "4"), Submit("s2", "a", "t2", "5")});
  EXPECT_EQ(Available("a"), "1.000000");
  AppendOne(Outcome("f1", "a", "task_failed", "t1"));
  AppendOne(Outcome("c1", "a", "task_cancelled", "t2"));
  EXPECT_EQ(Available("a"), "10.000000");
  EXPECT_TRUE(ledger_->Account("a").holds.empty());
  EXPECT_EQ(AppendOne(Submit("s3", "a", "t1", "1")).kind, Kind::kAppended);  // task id reusable
  EXPECT_EQ(AppendOne(Submit("s4", "a", "t1", "1")).kind, Kind::kRejected);  // already held
}

TEST_F(RulesTest, AHoldWithoutOutcomeExpiresAfterItsTtl) {
  AppendOne(Grant("g1", "a", "10"));
  AppendOne(Submit("s1", "a", "task-1", "4", 1000));
  clock_.Advance(999'000);
  EXPECT_EQ(*ledger_->Tick(), 0u);
  clock_.Advance(1000);
  EXPECT_EQ(*ledger_->Tick(), 1u);
  LoggedEvent expired = At(ledger_->head_seq());
  EXPECT_EQ(expired.event.type_name(), "reservation_expired");
  EXPECT_EQ(expired.event.reader().getOccurredAt().getUnixMicros(), kStart + kSecond);
  EXPECT_EQ(Available("a"), "10.000000");
  AppendOne(Succeed("s2", "a", "task-1", "3"));  // late outcome: charged directly
  EXPECT_EQ(Available("a"), "7.000000");
}

TEST_F(RulesTest, ExpiryIsAppendedBeforeTheNextEventAndBooksBreakage) {
  AppendOne(PaidTopUp("t1", "a", "100", "USD", "10.00", "", "2026-03-01T11:00:00Z"));
  AppendOne(Usage("u1", "a", "40"));
  clock_.Advance(2 * kHour);
  auto outcome = AppendOne(Usage("u2", "a", "1"));  // expiry first, then a shortfall
  LoggedEvent expired = At(outcome.seq - 1);
  ASSERT_EQ(expired.event.type_name(), "credits_expired");
  EXPECT_EQ(std::string(expired.event.reader().getCreditsExpired().getCredits().cStr()),
            "60.000000");
  EXPECT_EQ(Balance(acct::kRevenueBreakage, "USD"), -600);
  EXPECT_EQ(Balance(acct::kRevenueUsage, "USD"), -400);
  EXPECT_EQ(Balance(acct::kExpired, kCreditsAsset), -CreditsMicros(60));
  EXPECT_EQ(ledger_->Account("a").receivable.ToString(), "1.000000");
}

TEST_F(RulesTest, HeldCreditsExpireOnlyOnceTheHoldIsReleased) {
  AppendOne(Grant("g1", "a", "100", "2026-03-01T11:00:00Z"));
  AppendOne(Submit("s1", "a", "task-1", "80", 24 * 3600 * 1000));
  clock_.Advance(2 * kHour);
  EXPECT_EQ(*ledger_->Tick(), 1u);  // the 20 not held
  EXPECT_EQ(ledger_->Account("a").lots[0].credits.ToString(), "80.000000");
  AppendOne(Outcome("f1", "a", "task_failed", "task-1"));
  EXPECT_EQ(*ledger_->Tick(), 1u);  // the rest, now released
  EXPECT_TRUE(ledger_->Account("a").lots.empty());
  EXPECT_EQ(Available("a"), "0.000000");
}

TEST_F(RulesTest, ALotExpiresAfterAnEarlierHoldOnItTimesOutInTheSameTick) {
  AppendOne(Grant("g1", "a", "100", "2026-03-01T12:00:00Z"));
  AppendOne(Submit("s1", "a", "task-1", "100", 3600 * 1000));  // hold until 11:00
  clock_.Advance(3 * kHour);
  EXPECT_EQ(*ledger_->Tick(), 2u);  // reservation_expired at 11:00, credits_expired at 12:00
  EXPECT_EQ(At(ledger_->head_seq()).event.type_name(), "credits_expired");
  EXPECT_EQ(Available("a"), "0.000000");
}

TEST_F(RulesTest, RefundClawsBackFromTheRefundedLotAndReversesTheMoney) {
  Append(
      {PaidTopUp("t1", "a", "1000", "USD", "10.00"), PaidTopUp("t2", "a", "500", "USD", "5.00")});
  auto refund = AppendOne(Refund("r1", "a", "t1", "USD", "10.00", "1000"));
  ASSERT_EQ(refund.kind, Kind::kAppended) << refund.reason;
  auto lots = ledger_->Account("a").lots;
  ASSERT_EQ(lots.size(), 1u);
  EXPECT_EQ(lots[0].id, "t2");
  EXPECT_EQ(Balance("cash:stripe", "USD"), 500);
  EXPECT_EQ(Balance(acct::kDeferredRevenue, "USD"), -500);
  EXPECT_EQ(Balance(acct::kRevenueRefunds, "USD"), 0);
}

TEST_F(RulesTest, RefundOfConsumedCreditsReversesRevenue) {
  AppendOne(PaidTopUp("t1", "a", "100", "USD", "10.00"));
  AppendOne(Usage("u1", "a", "100"));
  auto refund = AppendOne(Refund("r1", "a", "t1", "USD", "4.00", "0"));
  ASSERT_EQ(refund.kind, Kind::kAppended) << refund.reason;
  EXPECT_EQ(Balance(acct::kRevenueRefunds, "USD"), 400);
  EXPECT_EQ(Balance("cash:stripe", "USD"), 600);
}

TEST_F(RulesTest, RefundsThatCannotBeRightAreRejected) {
  AppendOne(PaidTopUp("t1", "a", "100", "USD", "10.00"));
  EXPECT_NE(
      AppendOne(Refund("r1", "a", "nope", "USD", "1.00", "0")).reason.find("no settled payment"),
      std::string::npos);
  EXPECT_NE(AppendOne(Refund("r2", "a", "t1", "EUR", "1.00", "0")).reason.find("EUR"),
            std::string::npos);
  AppendOne(Refund("r3", "a", "t1", "USD", "6.00", "0"));
  EXPECT_NE(AppendOne(Refund("r4", "a", "t1", "USD", "5.00", "0")).reason.find("exceed"),
            std::string::npos);
}

TEST_F(RulesTest, ReceivableIsSettledFirstByTheNextTopUp) {
  AppendOne(Grant("g1", "a", "10"));
  AppendOne(Usage("u1", "a", "25"));
  EXPECT_EQ(ledger_->Account("a").receivable.ToString(), "15.000000");
  auto topup = AppendOne(PaidTopUp("t1", "a", "100", "USD", "10.00"));
  auto view = ledger_->Account("a");
  EXPECT_EQ(view.receivable.ToString(), "0.000000");
  EXPECT_EQ(view.available.ToString(), "85.000000");
  // The 15 settled credits are earned at the new lot's price: 1.50 USD.
  EXPECT_EQ(Balance(acct::kRevenueUsage, "USD"), -150);
  bool settled = false;
  for (const Posting& p : At(topup.seq).postings) {
    settled |= p.account == acct::CustomerReceivable("a") && p.amount == -CreditsMicros(15);
  }
  EXPECT_TRUE(settled);
}

TEST_F(RulesTest, ExpectedVersionGuardsConcurrentWriters) {
  Append({Grant("g1", "a", "10"), Usage("u1", "a", "1")});
  auto stale =
      AppendOne(JsonEvent("u2", "a", "usage_recorded", R"({"usage_id":"u2","credits":"1"})",
                          R"("expected_version":1,)"));
  EXPECT_EQ(stale.kind, Kind::kRejected);
  EXPECT_NE(stale.reason.find("version conflict: expected_version 1, account is at 2"),
            std::string::npos);
  auto fresh =
      AppendOne(JsonEvent("u3", "a", "usage_recorded", R"({"usage_id":"u3","credits":"1"})",
                          R"("expected_version":2,)"));
  EXPECT_EQ(fresh.kind, Kind::kAppended);
  EXPECT_EQ(ledger_->Account("a").version, 3u);
}

TEST_F(RulesTest, LinkedEventsAreAllOrNothing) {
  uint64_t head = ledger_->head_seq();
  const std::string link = R"("link_group":"checkout-1",)";
  auto failed = Append({JsonEvent("t1", "a", "credits_granted",
                                  R"({"credits":"5","kind":"promotional","reason":"r"})", link),
                        JsonEvent("r1", "a", "refund_issued",
                                  R"({"refund_id":"r1","payment_reference":"nope","provider":"s",)"
                                  R"("amount":{"currency":"USD","value":"1.00"}})",
                                  link)});
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_EQ(failed[0].kind, Kind::kRejected);
  EXPECT_NE(failed[0].reason.find("linked event \"r1\" was rejected"), std::string::npos);
  EXPECT_EQ(failed[1].kind, Kind::kRejected);
  EXPECT_EQ(ledger_->head_seq(), head);
  EXPECT_EQ(Available("a"), "0.000000");
  auto applied =
      Append({JsonEvent("t2", "a", "credits_granted",
                        R"({"credits":"5","kind":"promotional","reason":"r"})", link),
              JsonEvent("u2", "a", "usage_recorded", R"({"usage_id":"u2","credits":"2"})", link)});
  EXPECT_EQ(applied[0].kind, Kind::kAppended);
  EXPECT_EQ(applied[1].kind, Kind::kAppended);
  EXPECT_EQ(Available("a"), "3.000000");
}

TEST_F(RulesTest, ImportedHistoryIsDecidedAtItsOwnTimeInOrder) {
  auto imported = [](const std::string& id, const std::string& at, const std::string& type,
                     const std::string& data) {
    return R"({"id":")" + id + R"(","account":"a","occurred_at":")" + at +
           R"(","producer":"legacy","imported":true,"type":")" + type + R"(","data":)" + data + "}";
  };
  auto outcomes = Append(
      {imported(
           "g1", "2020-01-01T00:00:00Z", "credits_granted",
           R"({"credits":"10","kind":"promotional","reason":"r","expires_at":"2020-02-01T00:00:00Z"})"),
       imported("u1", "2020-03-01T00:00:00Z", "usage_recorded",
                R"({"usage_id":"u1","credits":"1"})")});
  ASSERT_EQ(outcomes[1].kind, Kind::kAppended);
  LoggedEvent expired = At(outcomes[1].seq - 1);
  EXPECT_EQ(expired.event.type_name(), "credits_expired");  // at 2020-02-01, before the usage
  EXPECT_EQ(ledger_->Account("a").receivable.ToString(), "1.000000");
  auto late = AppendOne(imported("u0", "2020-02-15T00:00:00Z", "usage_recorded",
                                 R"({"usage_id":"u0","credits":"1"})"));
  EXPECT_EQ(late.kind, Kind::kRejected);
  EXPECT_NE(late.reason.find("time order"), std::string::npos);
}

std::string Period(const std::string& start, const std::string& end, const std::string& ref,
                   const std::string& credits) {
  return R"({"period_start":")" + start + R"(","period_end":")" + end +
         R"(","amount":{"currency":"USD","value":"20.00"},"credits":")" + credits +
         R"(","provider":"stripe","reference":")" + ref + R"("})";
}

TEST_F(RulesTest, SubscriptionPeriodsGrantCreditsThatExpireAtPeriodEnd) {
  auto started = AppendOne(
      JsonEvent("s1", "a", "subscription_started",
                R"({"subscription_id":"sub-1","plan":"pro","interval":"month","first_period":)" +
                    Period("2026-03-01T00:00:00Z", "2026-03-01T12:00:00Z", "inv-1", "1000") + "}"));
  ASSERT_EQ(started.kind, Kind::kAppended) << started.reason;
  EXPECT_EQ(ledger_->Account("a").lots[0].kind, "subscription");
  AppendOne(Usage("u1", "a", "250"));
  EXPECT_EQ(Balance(acct::kRevenueSubscription, "USD"), -500);
  clock_.Advance(3 * kHour);  // past period end
  auto renewed = AppendOne(
      JsonEvent("s2", "a", "subscription_renewed",
                R"({"subscription_id":"sub-1","period":)" +
                    Period("2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z", "inv-2", "1000") + "}"));
  ASSERT_EQ(renewed.kind, Kind::kAppended) << renewed.reason;
  EXPECT_EQ(At(renewed.seq - 1).event.type_name(), "credits_expired");
  EXPECT_EQ(Balance(acct::kRevenueBreakage, "USD"), -1500);
  EXPECT_EQ(Available("a"), "1000.000000");
  auto cancelled = AppendOne(JsonEvent("s3", "a", "subscription_cancelled",
                                       R"({"subscription_id":"sub-1","at_period_end":false})"));
  EXPECT_EQ(At(cancelled.seq + 1).event.type_name(), "credits_expired");
  EXPECT_EQ(Available("a"), "0.000000");
  EXPECT_EQ(AppendOne(JsonEvent("s4", "a", "subscription_renewed",
                                R"({"subscription_id":"sub-1","period":)" +
                                    Period("2026-03-02T12:00:00Z", "2026-03-03T12:00:00Z", "inv-3",
                                           "1000") +
                                    "}"))
                .kind,
            Kind::kRejected);
}

TEST_F(RulesTest, PlanChangesProrateMoneyAndCredits) {
  AppendOne(
      JsonEvent("s1", "a", "subscription_started",
                R"({"subscription_id":"sub-1","plan":"basic","interval":"month","first_period":)" +
                    Period("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", "inv-1", "1000") + "}"));
  auto upgrade = AppendOne(JsonEvent(
      "c1", "a", "subscription_plan_changed",
      R"({"subscription_id":"sub-1","new_plan":"pro","new_price":{"currency":"USD","value":"40.00"},)"
      R"("new_credits_per_period":"2000","effective_at":"2026-03-15T00:00:00Z",)"
      R"("proration_amount":{"currency":"USD","value":"5.00"},"proration_credits":"250",)"
      R"("provider":"stripe","reference":"inv-1b"})"));
  ASSERT_EQ(upgrade.kind, Kind::kAppended) << upgrade.reason;
  EXPECT_EQ(Available("a"), "1250.000000");
  auto downgrade = AppendOne(JsonEvent(
      "c2", "a", "subscription_plan_changed",
      R"({"subscription_id":"sub-1","new_plan":"basic","new_price":{"currency":"USD","value":"20.00"},)"
      R"("new_credits_per_period":"1000","effective_at":"2026-03-16T00:00:00Z",)"
      R"("proration_amount":{"currency":"USD","value":"-3.00"},"proration_credits":"-100",)"
      R"("provider":"stripe"})"));
  ASSERT_EQ(downgrade.kind, Kind::kAppended) << downgrade.reason;
  EXPECT_EQ(Available("a"), "1150.000000");
  EXPECT_EQ(Balance(acct::kRefundsPayable, "USD"), -300);
}

TEST_F(RulesTest, AdjustmentsMovePromotionalCreditsAndMoneyOnly) {
  auto adjust = [&](const std::string& id, const std::string& debit, const std::string& credit,
                    const std::string& amount) {
    return AppendOne(
        JsonEvent(id, "a", "adjustment_posted",
                  R"({"adjustment_id":")" + id + R"(","debit_account":")" + debit +
                      R"(","credit_account":")" + credit + R"(",)" + amount +
                      R"(,"reason":"support goodwill","approver":"cfo@example.com"})"));
  };
  EXPECT_EQ(adjust("j1", "platform:promotional", "customer:a:available", R"("credits":"7")").kind,
            Kind::kAppended);
  EXPECT_EQ(Available("a"), "7.000000");
  AppendOne(PaidTopUp("t1", "a", "100", "USD", "10.00"));
  EXPECT_EQ(adjust("j2", "customer:a:available", "platform:promotional", R"("credits":"8")").kind,
            Kind::kRejected);  // only 7 promotional
  EXPECT_EQ(adjust("j3", "customer:a:available", "platform:promotional", R"("credits":"7")").kind,
            Kind::kAppended);
  EXPECT_EQ(
      adjust("j4", "revenue:usage", "cash:stripe", R"("money":{"currency":"USD","value":"0.10"})")
          .kind,
      Kind::kAppended);
  EXPECT_EQ(adjust("j5", "deferred_revenue", "cash:stripe",
                   R"("money":{"currency":"USD","value":"1.00"})")
                .kind,
            Kind::kRejected);
  EXPECT_EQ(adjust("j6", "customer:b:available", "platform:issued", R"("credits":"1")").kind,
            Kind::kRejected);  // another customer's account
}

TEST_F(RulesTest, ChargebacksMoveCashAndALostOneCostsRevenue) {
  AppendOne(PaidTopUp("t1", "a", "100", "USD", "10.00"));
  auto opened =
      AppendOne(JsonEvent("cb1", "a", "chargeback_opened",
                          R"({"chargeback_id":"cb-1","payment_reference":"ref-t1",)"
                          R"("provider":"stripe","amount":{"currency":"USD","value":"10.00"}})"));
  ASSERT_EQ(opened.kind, Kind::kAppended) << opened.reason;
  EXPECT_EQ(Balance("cash:stripe", "USD"), 0);
  AppendOne(
      JsonEvent("cb2", "a", "chargeback_resolved", R"({"chargeback_id":"cb-1","outcome":"lost"})"));
  EXPECT_EQ(Balance(acct::kChargebacks, "USD"), 0);
  EXPECT_EQ(Balance(acct::kRevenueRefunds, "USD"), 1000);
  EXPECT_EQ(AppendOne(JsonEvent("cb3", "a", "chargeback_resolved",
                                R"({"chargeback_id":"cb-1","outcome":"won"})"))
                .kind,
            Kind::kRejected);
}

TEST_F(RulesTest, TaxInAnotherCurrencyIsRejected) {
  auto outcome = AppendOne(JsonEvent(
      "t1", "a", "top_up_settled",
      R"({"provider":"stripe","reference":"r","amount":{"currency":"USD","value":"10.00"},)"
      R"("tax":{"currency":"EUR","value":"1.00"},"credits":"10"})"));
  EXPECT_EQ(outcome.kind, Kind::kRejected);
  EXPECT_NE(outcome.reason.find("tax is in EUR"), std::string::npos);
}

TEST_F(RulesTest, ReopeningReplaysToTheSameStateAndTheLogVerifies) {
  Append({PaidTopUp("t1", "a", "100", "USD", "10.00", "", "2026-03-01T11:00:00Z"),
          Submit("s1", "a", "k", "30"), Usage("u1", "b", "5"), Grant("g1", "b", "3")});
  clock_.Advance(2 * kHour);
  ASSERT_TRUE(ledger_->Tick().ok());
  auto before_a = ledger_->Account("a");
  Hash head = ledger_->head_hash();
  Reopen();
  auto after_a = ledger_->Account("a");
  EXPECT_EQ(ledger_->head_hash(), head);
  EXPECT_EQ(after_a.available, before_a.available);
  EXPECT_EQ(after_a.held, before_a.held);
  EXPECT_EQ(after_a.lots.size(), before_a.lots.size());
  // Promotional credits do not settle a receivable; only paid lots do.
  EXPECT_EQ(ledger_->Account("b").receivable.ToString(), "5.000000");
  EXPECT_EQ(ledger_->Account("b").available.ToString(), "3.000000");
  VerifyReport report = ledger_->Verify();
  EXPECT_TRUE(report.status.ok()) << report.status.ToString();
  EXPECT_EQ(report.events_checked, ledger_->head_seq());
  EXPECT_TRUE(ledger_->TrialBalance().ok());
}

}  // namespace
}  // namespace tally

namespace tally {
namespace {

// The worked example of docs/ledger.md, figure by figure.
TEST_F(RulesTest, WorkedExampleOfTheDocs) {
  using testing::Grant;
  Append({PaidTopUp("p1", "alice", "1000", "USD", "10.00", "0.83"),
          Grant("g2", "alice", "50", "2026-12-01T00:00:00Z"), Usage("u3", "alice", "80"),
          Submit("s4", "alice", "task-1", "100")});
  auto lots = ledger_->Account("alice").lots;
  ASSERT_EQ(lots.size(), 1u);
  EXPECT_EQ(lots[0].credits.ToString(), "970.000000");
  EXPECT_EQ(lots[0].deferred->ToString(), "8.89");
  EXPECT_EQ(Balance(accounts::kRevenueUsage, "USD"), -28);
  EXPECT_EQ(ledger_->Account("alice").available.ToString(), "870.000000");
  Append({Succeed("s6", "alice", "task-1", "120")});
  lots = ledger_->Account("alice").lots;
  EXPECT_EQ(lots[0].credits.ToString(), "850.000000");
  EXPECT_EQ(lots[0].deferred->ToString(), "7.79");
  auto refund = AppendOne(JsonEvent(
      "r7", "alice", "refund_issued",
      R"({"refund_id":"r7","payment_reference":"ref-p1","provider":"stripe",)"
      R"("amount":{"currency":"USD","value":"2.00"},"tax":{"currency":"USD","value":"0.17"},)"
      R"("credits":"200"})"));
  ASSERT_EQ(refund.kind, AppendOutcome::Kind::kAppended) << refund.reason;
  EXPECT_EQ(refund.seq, 8u);
  LoggedEvent invoice_record = At(2);  // keep the record: readers point into it
  auto invoice = invoice_record.event.reader().getInvoiceIssued();
  EXPECT_EQ(std::string(invoice.getNumber().cStr()), "INV-2026-000001");
  EXPECT_EQ(std::string(invoice.getTotal().getValue().cStr()), "10.00");
  LoggedEvent note_record = At(9);  // keep the record: readers point into it
  auto note = note_record.event.reader().getCreditNoteIssued();
  EXPECT_EQ(std::string(note.getNumber().cStr()), "CN-2026-000001");
  EXPECT_EQ(std::string(note.getInvoiceNumber().cStr()), "INV-2026-000001");
  EXPECT_EQ(std::string(note.getTotal().getValue().cStr()), "2.00");
  lots = ledger_->Account("alice").lots;
  EXPECT_EQ(lots[0].credits.ToString(), "650.000000");
  EXPECT_EQ(lots[0].deferred->ToString(), "5.96");
  EXPECT_EQ(Balance("cash:stripe", "USD"), 800);
  EXPECT_EQ(Balance("tax_payable:US-CA", "USD"), -66);
  EXPECT_EQ(Balance(accounts::kDeferredRevenue, "USD"), -596);
  EXPECT_EQ(Balance(accounts::kRevenueUsage, "USD"), -138);
  EXPECT_EQ(Balance(accounts::kRevenueRefunds, "USD"), 0);
}

}  // namespace
}  // namespace tally

namespace tally {
namespace {

class InvoiceTest : public RulesTest {
 protected:
  // The numbers of every invoice_issued in the log, in order.
  std::vector<std::string> InvoiceNumbers() {
    std::vector<std::string> numbers;
    for (const LoggedEvent& e : Log()) {
      if (e.event.reader().which() == schema::Event::INVOICE_ISSUED) {
        numbers.push_back(e.event.reader().getInvoiceIssued().getNumber().cStr());
      }
    }
    return numbers;
  }
};

TEST_F(InvoiceTest, EveryPaymentIsInvoicedWithGapFreeNumbersPerEntityAndYear) {
  AppendOne(
      testing::JsonEvent("o1", "eu-customer", "account_opened", R"({"legal_entity":"acme-eu"})"));
  Append({PaidTopUp("t1", "a", "10", "USD", "1.00"),
          PaidTopUp("t2", "eu-customer", "10", "EUR", "1.19", "0.19"),
          PaidTopUp("t3", "a", "10", "USD", "1.00")});
  clock_.Set(*ParseTimestamp("2027-01-01T00:00:01Z"));
  AppendOne(PaidTopUp("t4", "a", "10", "USD", "1.00"));
  EXPECT_EQ(InvoiceNumbers(),
            (std::vector<std::string>{"INV-2026-000001", "INV-acme-eu-2026-000001",
                                      "INV-2026-000002", "INV-2027-000001"}));
  Reopen();  // numbering continues from the replayed state
  AppendOne(PaidTopUp("t5", "a", "10", "USD", "1.00"));
  EXPECT_EQ(InvoiceNumbers().back(), "INV-2027-000002");
}

TEST_F(InvoiceTest, AnInvoiceShowsNetTaxAndTotal) {
  auto outcome = AppendOne(PaidTopUp("t1", "a", "1000", "USD", "10.00", "0.83"));
  LoggedEvent invoice_record = At(outcome.seq + 1);  // keep the record: readers point into it
  auto invoice = invoice_record.event.reader().getInvoiceIssued();
  EXPECT_EQ(std::string(invoice.getSourceEventId().cStr()), "t1");
  EXPECT_EQ(std::string(invoice.getPaymentReference().cStr()), "ref-t1");
  EXPECT_EQ(std::string(invoice.getSubtotal().getValue().cStr()), "9.17");
  EXPECT_EQ(std::string(invoice.getTax().getValue().cStr()), "0.83");
  EXPECT_EQ(std::string(invoice.getTotal().getValue().cStr()), "10.00");
  ASSERT_EQ(invoice.getLines().size(), 1u);
  EXPECT_EQ(std::string(invoice.getLines()[0].getDescription().cStr()), "1000 credits");
  EXPECT_EQ(std::string(invoice.getLines()[0].getTaxJurisdiction().cStr()), "US-CA");
  EXPECT_TRUE(At(outcome.seq + 1).postings.empty());
}

TEST_F(InvoiceTest, ARejectedLinkedGroupTakesNoNumber) {
  const std::string link = R"("link_group":"g",)";
  auto failed = Append(
      {testing::JsonEvent(
           "t1", "a", "top_up_settled",
           R"({"provider":"stripe","reference":"r1","amount":{"currency":"USD","value":"1.00"},"credits":"10"})",
           link),
       testing::JsonEvent("u1", "a", "usage_recorded", R"({"usage_id":"u1","credits":"1"})",
                          link + R"("expected_version":7,)")});
  ASSERT_EQ(failed[0].kind, Kind::kRejected);
  AppendOne(PaidTopUp("t2", "a", "10", "USD", "1.00"));
  EXPECT_EQ(InvoiceNumbers(), std::vector<std::string>{"INV-2026-000001"});
}

TEST_F(InvoiceTest, SubscriptionPeriodsAndChargedProrationsAreInvoicedRefundsGetCreditNotes) {
  AppendOne(
      JsonEvent("s1", "a", "subscription_started",
                R"({"subscription_id":"sub-1","plan":"pro","interval":"month","first_period":)" +
                    Period("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", "inv-1", "1000") + "}"));
  AppendOne(JsonEvent(
      "c1", "a", "subscription_plan_changed",
      R"({"subscription_id":"sub-1","new_plan":"max","new_price":{"currency":"USD","value":"40.00"},)"
      R"("new_credits_per_period":"2000","effective_at":"2026-03-15T00:00:00Z",)"
      R"("proration_amount":{"currency":"USD","value":"5.00"},"proration_credits":"250",)"
      R"("provider":"stripe","reference":"inv-1b"})"));
  auto refund =
      AppendOne(JsonEvent("r1", "a", "refund_issued",
                          R"({"refund_id":"r1","payment_reference":"inv-1b","provider":"stripe",)"
                          R"("amount":{"currency":"USD","value":"5.00"},"credits":"250"})"));
  ASSERT_EQ(refund.kind, Kind::kAppended) << refund.reason;
  EXPECT_EQ(InvoiceNumbers(), (std::vector<std::string>{"INV-2026-000001", "INV-2026-000002"}));
  LoggedEvent note_record = At(refund.seq + 1);  // keep the record: readers point into it
  auto note = note_record.event.reader().getCreditNoteIssued();
  EXPECT_EQ(std::string(note.getNumber().cStr()), "CN-2026-000001");
  EXPECT_EQ(std::string(note.getInvoiceNumber().cStr()), "INV-2026-000002");
  EXPECT_EQ(std::string(note.getTotal().getValue().cStr()), "5.00");
}

}  // namespace
}  // namespace tally
