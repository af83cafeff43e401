// Hostile inputs that are valid JSON but must not book money wrongly:
// caps of refunds and chargebacks, business ids taking effect once,
// subscription amounts and periods, lots that expire before they are bought.
#include <gtest/gtest.h>

#include "events/timestamp.h"
#include "ledger/journal.h"
#include "ledger/retention.h"
#include "tests/ledger/ledger_fixture.h"

namespace tally {
namespace {

using namespace testing;  // NOLINT: fixtures and builders
namespace acct = accounts;

using Kind = AppendOutcome::Kind;

std::string Chargeback(const std::string& id, const std::string& account,
                       const std::string& chargeback_id, const std::string& reference,
                       const std::string& amount) {
  return JsonEvent(id, account, "chargeback_opened",
                   R"({"chargeback_id":")" + chargeback_id + R"(","payment_reference":")" +
                       reference + R"(","provider":"stripe","amount":)" +
                       testing::Money("USD", amount) + "}");
}

std::string Resolve(const std::string& id, const std::string& account,
                    const std::string& chargeback_id, const std::string& outcome) {
  return JsonEvent(
      id, account, "chargeback_resolved",
      R"({"chargeback_id":")" + chargeback_id + R"(","outcome":")" + outcome + R"("})");
}

std::string Period(const std::string& start, const std::string& end, const std::string& ref,
                   const std::string& amount = "20.00", const std::string& credits = "1000") {
  return R"({"period_start":")" + start + R"(","period_end":")" + end +
         R"(","amount":{"currency":"USD","value":")" + amount + R"("},"credits":")" + credits +
         R"(","provider":"stripe","reference":")" + ref + R"("})";
}

std::string Started(const std::string& id, const std::string& account, const std::string& sub,
                    const std::string& period) {
  return JsonEvent(id, account, "subscription_started",
                   R"({"subscription_id":")" + sub +
                       R"(","plan":"pro","interval":"month","first_period":)" + period + "}");
}

std::string Renewed(const std::string& id, const std::string& account, const std::string& sub,
                    const std::string& period) {
  return JsonEvent(id, account, "subscription_renewed",
                   R"({"subscription_id":")" + sub + R"(","period":)" + period + "}");
}

std::string Prorate(const std::string& id, const std::string& account, const std::string& amount,
                    const std::string& credits, const std::string& extra = "") {
  return JsonEvent(
      id, account, "subscription_plan_changed",
      R"({"subscription_id":"sub-1","new_plan":"basic","new_price":{"currency":"USD","value":"5.00"},)"
      R"("new_credits_per_period":"100","effective_at":"2026-03-15T00:00:00Z",)"
      R"("proration_amount":)" +
          testing::Money("USD", amount) + R"(,"proration_credits":")" + credits +
          R"(","provider":"stripe")" + extra + "}");
}

class GuardsTest : public LedgerFixture {
 protected:
  void ExpectRejected(const AppendOutcome& outcome, const std::string& reason_part) {
    EXPECT_EQ(outcome.kind, Kind::kRejected) << outcome.reason;
    EXPECT_NE(outcome.reason.find(reason_part), std::string::npos) << outcome.reason;
  }
};

// ---- refunds and chargebacks never exceed their payment -----------------

TEST_F(GuardsTest, ChargebacksAreCappedByThePayment) {
  AppendOne(PaidTopUp("t1", "a", "100", "USD", "10.00"));
  ExpectRejected(AppendOne(Chargeback("c1", "a", "cb-1", "ref-t1", "10.01")),
                 "would exceed the payment of 10.00");
  ASSERT_EQ(AppendOne(Chargeback("c2", "a", "cb-2", "ref-t1", "6.00")).kind, Kind::kAppended);
  ExpectRejected(AppendOne(Chargeback("c3", "a", "cb-3", "ref-t1", "4.01")), "exceed");
  ASSERT_EQ(AppendOne(Chargeback("c4", "a", "cb-4", "ref-t1", "4.00")).kind, Kind::kAppended);
  EXPECT_EQ(Balance("cash:stripe", "USD"), 0);
  // A won chargeback gives the money back to the platform: it frees the cap.
  ASSERT_EQ(AppendOne(Resolve("r4", "a", "cb-4", "won")).kind, Kind::kAppended);
  ASSERT_EQ(AppendOne(Chargeback("c5", "a", "cb-5", "ref-t1", "4.00")).kind, Kind::kAppended);
  // A lost one does not.
  ASSERT_EQ(AppendOne(Resolve("r5", "a", "cb-5", "lost")).kind, Kind::kAppended);
  ExpectRejected(AppendOne(Chargeback("c6", "a", "cb-6", "ref-t1", "0.01")), "exceed");
  EXPECT_GE(Balance("cash:stripe", "USD"), 0);
}

TEST_F(GuardsTest, RefundsAndChargebacksOfAPaymentTogetherNeverExceedIt) {
  AppendOne(PaidTopUp("t1", "a", "100", "USD", "10.00"));
  ASSERT_EQ(AppendOne(Refund("rf1", "a", "t1", "USD", "3.00", "30")).kind, Kind::kAppended);
  ExpectRejected(AppendOne(Chargeback("c1", "a", "cb-1", "ref-t1", "7.01")), "exceed");
  ASSERT_EQ(AppendOne(Chargeback("c2", "a", "cb-2", "ref-t1", "7.00")).kind, Kind::kAppended);
  ExpectRejected(AppendOne(Refund("rf2", "a", "t1", "USD", "0.01", "0")), "exceed");
  EXPECT_EQ(Balance("cash:stripe", "USD"), 0);
  // Audit tools agree with the books after all of it.
  Projections();
  EXPECT_TRUE(ledger_->Verify().status.ok());
}

TEST_F(GuardsTest, RefundedTaxNeverExceedsThePaymentsTax) {
  AppendOne(PaidTopUp("t1", "a", "100", "USD", "10.00", "0.83"));
  auto refund = [&](const std::string& id, const std::string& amount, const std::string& tax) {
    return AppendOne(JsonEvent(id, "a", "refund_issued",
                               R"({"refund_id":")" + id +
                                   R"(","payment_reference":"ref-t1","provider":"stripe",)"
                                   R"("amount":)" +
                                   testing::Money("USD", amount) + R"(,"tax":)" +
                                   testing::Money("USD", tax) + "}"));
  };
  ASSERT_EQ(refund("r1", "5.00", "0.50").kind, Kind::kAppended);
  ExpectRejected(refund("r2", "1.00", "0.50"),
                 "exceeds the tax of the payment not yet refunded (0.33)");
  ASSERT_EQ(refund("r3", "1.00", "0.33").kind, Kind::kAppended);
  EXPECT_EQ(Balance("tax_payable:US-CA", "USD"), 0);
}

// ---- business ids take effect once --------------------------------------

TEST_F(GuardsTest, ARefundIdIsUsedOnceAndTheRejectionNamesTheFirstSeq) {
  AppendOne(PaidTopUp("t1", "a", "100", "USD", "10.00"));
  std::string refund = R"({"refund_id":"re-1","payment_reference":"ref-t1","provider":"stripe",)"
                       R"("amount":{"currency":"USD","value":"1.00"},"credits":"10"})";
  auto first = AppendOne(JsonEvent("e1", "a", "refund_issued", refund));
  ASSERT_EQ(first.kind, Kind::kAppended) << first.reason;
  auto second = AppendOne(JsonEvent("e2", "a", "refund_issued", refund));
  ExpectRejected(second, "refund_id \"re-1\"");
  EXPECT_NE(second.reason.find("seq " + std::to_string(first.seq)), std::string::npos)
      << second.reason;
  EXPECT_EQ(Balance("cash:stripe", "USD"), 900);
  EXPECT_EQ(Available("a"), "90.000000");
}

TEST_F(GuardsTest, ATaskOutcomeTakesEffectOnce) {
  AppendOne(PaidTopUp("t1", "a", "100", "USD", "10.00"));
  AppendOne(Submit("s1", "a", "task-1", "30"));
  auto first = AppendOne(Succeed("s2", "a", "task-1", "20"));
  ASSERT_EQ(first.kind, Kind::kAppended);
  auto again = AppendOne(Succeed("s3", "a", "task-1", "20"));
  ExpectRejected(again, "task \"task-1\"");
  EXPECT_NE(again.reason.find("seq " + std::to_string(first.seq)), std::string::npos)
      << again.reason;
  ExpectRejected(AppendOne(Outcome("s4", "a", "task_failed", "task-1")),
                 "task \"task-1\" already succeeded");
  // A task that succeeded cannot hold credits again either (a failed one
  // may: a retry under the same task id, RulesTest.FailedAndCancelled...).
  ExpectRejected(AppendOne(Submit("s5", "a", "task-1", "10")), "task \"task-1\"");
  EXPECT_EQ(Available("a"), "80.000000");
  // A task captured without a hold (no task_submitted) is charged once too.
  ASSERT_EQ(AppendOne(Succeed("s6", "a", "task-2", "5")).kind, Kind::kAppended);
  ExpectRejected(AppendOne(Succeed("s7", "a", "task-2", "5")), "task \"task-2\"");
  EXPECT_EQ(Available("a"), "75.000000");
}

TEST_F(GuardsTest, AHoldThatWasRejectedMayBeAskedForAgain) {
  AppendOne(PaidTopUp("t1", "a", "10", "USD", "1.00"));
  auto refused = AppendOne(Submit("s1", "a", "task-1", "30"));
  ASSERT_EQ(At(refused.seq + 1).event.type_name(), "hold_rejected");
  AppendOne(PaidTopUp("t2", "a", "100", "USD", "10.00"));
  auto retried = AppendOne(Submit("s2", "a", "task-1", "30"));
  EXPECT_EQ(At(retried.seq + 1).event.type_name(), "hold_accepted");
}

TEST_F(GuardsTest, APaymentReferenceIsSettledOnceAcrossAccounts) {
  auto first = AppendOne(PaidTopUp("t1", "a", "100", "USD", "10.00"));
  ASSERT_EQ(first.kind, Kind::kAppended);
  auto other = AppendOne(JsonEvent(
      "t2", "b", "top_up_settled",
      R"({"provider":"stripe","reference":"ref-t1","amount":{"currency":"USD","value":"10.00"},)"
      R"("credits":"100"})"));
  ExpectRejected(other, "payment reference \"ref-t1\"");
  EXPECT_NE(other.reason.find("seq " + std::to_string(first.seq)), std::string::npos)
      << other.reason;
  // Nor as a subscription period's payment.
  ExpectRejected(
      AppendOne(Started("s1", "b", "sub-1",
                        Period("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", "ref-t1"))),
      "payment reference \"ref-t1\"");
  EXPECT_EQ(Available("b"), "0.000000");
}

TEST_F(GuardsTest, UsageChargebackAndSubscriptionIdsTakeEffectOnce) {
  AppendOne(PaidTopUp("t1", "a", "100", "USD", "10.00"));
  auto usage = AppendOne(Usage("u1", "a", "5"));
  ExpectRejected(
      AppendOne(JsonEvent("u2", "a", "usage_recorded", R"({"usage_id":"u1","credits":"5"})")),
      "usage_id \"u1\"");
  EXPECT_EQ(Available("a"), "95.000000");
  (void)usage;
  ASSERT_EQ(AppendOne(Chargeback("c1", "a", "cb-1", "ref-t1", "1.00")).kind, Kind::kAppended);
  ExpectRejected(AppendOne(Chargeback("c2", "a", "cb-1", "ref-t1", "1.00")),
                 "chargeback_id \"cb-1\"");
  AppendOne(PaidTopUp("t2", "b", "100", "USD", "10.00"));
  ExpectRejected(AppendOne(Chargeback("c3", "b", "cb-1", "ref-t2", "1.00")),
                 "chargeback_id \"cb-1\"");
  auto started = AppendOne(
      Started("s1", "a", "sub-1", Period("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", "p-1")));
  ASSERT_EQ(started.kind, Kind::kAppended) << started.reason;
  auto again = AppendOne(
      Started("s2", "a", "sub-1", Period("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", "p-2")));
  ExpectRejected(again, "subscription \"sub-1\"");
  EXPECT_NE(again.reason.find("seq " + std::to_string(started.seq)), std::string::npos);
  // The same period renewed again under another payment reference.
  ASSERT_EQ(AppendOne(Renewed("s3", "a", "sub-1",
                              Period("2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z", "p-3")))
                .kind,
            Kind::kAppended);
  ExpectRejected(AppendOne(Renewed("s4", "a", "sub-1",
                                   Period("2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z", "p-4"))),
                 "period");
}

TEST_F(GuardsTest, BusinessIdsSurviveReopenAndArchiving) {
  AppendOne(PaidTopUp("t1", "a", "100", "USD", "10.00"));
  AppendOne(Submit("s1", "a", "task-1", "10"));
  auto succeeded = AppendOne(Succeed("s2", "a", "task-1", "10"));
  Reopen();
  auto again = AppendOne(Succeed("s3", "a", "task-1", "10"));
  ExpectRejected(again, "seq " + std::to_string(succeeded.seq));
  // Archive everything; the base carries the business ids.
  clock_.Set(AddYears(kStart, 7) + 24 * kHour);
  const RetentionPolicy policy;
  auto archived = ledger_->Archive(ledger_->head_seq(), policy, ArchiveDir(dir_.path()));
  ASSERT_TRUE(archived.ok()) << archived.status().ToString();
  Reopen();
  ExpectRejected(AppendOne(Succeed("s4", "a", "task-1", "10")),
                 "seq " + std::to_string(succeeded.seq));
  ExpectRejected(
      AppendOne(JsonEvent("t2", "b", "top_up_settled",
                          R"({"provider":"stripe","reference":"ref-t1",)"
                          R"("amount":{"currency":"USD","value":"1.00"},"credits":"1"})")),
      "payment reference \"ref-t1\"");
  EXPECT_TRUE(ledger_->Verify().status.ok());
}

// ---- subscription amounts and periods -----------------------------------

TEST_F(GuardsTest, AProrationCreditCannotExceedWhatWasPaidForThePeriod) {
  ASSERT_EQ(
      AppendOne(Started("s1", "a", "sub-1",
                        Period("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", "p-1", "10.00")))
          .kind,
      Kind::kAppended);
  ExpectRejected(AppendOne(Prorate("c1", "a", "-500.00", "0")), "10.00");
  EXPECT_EQ(Balance(acct::kRefundsPayable, "USD"), 0);
  ASSERT_EQ(AppendOne(Prorate("c2", "a", "-6.00", "-100")).kind, Kind::kAppended);
  ExpectRejected(AppendOne(Prorate("c3", "a", "-4.01", "0")), "4.00");
  ASSERT_EQ(AppendOne(Prorate("c4", "a", "-4.00", "0")).kind, Kind::kAppended);
  EXPECT_EQ(Balance(acct::kRefundsPayable, "USD"), -1000);
  // The next period resets what may be credited.
  clock_.Set(kStart + 31 * 24 * kHour);
  ASSERT_EQ(
      AppendOne(Renewed("s2", "a", "sub-1",
                        Period("2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z", "p-2", "10.00")))
          .kind,
      Kind::kAppended);
  EXPECT_EQ(AppendOne(Prorate("c5", "a", "-1.00", "0")).kind, Kind::kAppended);
}

TEST_F(GuardsTest, ProrationTaxFollowsTheAmount) {
  AppendOne(Started("s1", "a", "sub-1",
                    Period("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", "p-1", "10.00")));
  ExpectRejected(AppendOne(Prorate("c1", "a", "-2.00", "0",
                                   R"(,"proration_tax":{"currency":"USD","value":"1.00"})")),
                 "proration_tax");
  ExpectRejected(AppendOne(Prorate("c2", "a", "2.00", "0",
                                   R"(,"reference":"x","proration_tax":)"
                                   R"({"currency":"USD","value":"3.00"})")),
                 "tax exceeds");
  ExpectRejected(AppendOne(Prorate("c3", "a", "0.00", "0",
                                   R"(,"proration_tax":{"currency":"USD","value":"1.00"})")),
                 "proration_tax");
}

TEST_F(GuardsTest, APeriodMustEndAfterItStartsAndNotOverlapTheLast) {
  ExpectRejected(AppendOne(Started("s1", "a", "sub-1",
                                   Period("2026-04-01T00:00:00Z", "2026-03-01T00:00:00Z", "p-1"))),
                 "period_end");
  ExpectRejected(AppendOne(Started("s2", "a", "sub-1",
                                   Period("2026-04-01T00:00:00Z", "2026-04-01T00:00:00Z", "p-2"))),
                 "period_end");
  ASSERT_EQ(AppendOne(Started("s3", "a", "sub-1",
                              Period("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", "p-3")))
                .kind,
            Kind::kAppended);
  ExpectRejected(AppendOne(Renewed("s4", "a", "sub-1",
                                   Period("2026-05-01T00:00:00Z", "2026-04-15T00:00:00Z", "p-4"))),
                 "period_end");
  ExpectRejected(AppendOne(Renewed("s5", "a", "sub-1",
                                   Period("2026-03-15T00:00:00Z", "2026-04-15T00:00:00Z", "p-5"))),
                 "overlaps");
  EXPECT_EQ(Balance("cash:stripe", "USD"), 2000);
}

TEST_F(GuardsTest, AFailedPaymentIsInTheSubscriptionsCurrency) {
  AppendOne(Started("s1", "a", "sub-1",
                    Period("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", "p-1", "10.00")));
  auto failed = [&](const std::string& id, const std::string& currency) {
    return AppendOne(JsonEvent(id, "a", "subscription_payment_failed",
                               R"({"subscription_id":"sub-1","amount":)" +
                                   testing::Money(currency, "10.00") + R"(,"attempt":1})"));
  };
  ExpectRejected(failed("f1", "EUR"), "subscription is billed in USD, not EUR");
  EXPECT_EQ(failed("f2", "USD").kind, Kind::kAppended);
}

// ---- lots that expire before they are bought ----------------------------

TEST_F(GuardsTest, ALotCannotExpireBeforeItIsBought) {
  ExpectRejected(AppendOne(PaidTopUp("t1", "a", "100", "USD", "10.00", "", "2026-02-01T00:00:00Z")),
                 "lot_expires_at");
  ExpectRejected(AppendOne(PaidTopUp("t2", "a", "100", "USD", "10.00", "", "2026-03-01T10:00:00Z")),
                 "lot_expires_at");
  ExpectRejected(AppendOne(Grant("g1", "a", "10", "2026-02-01T00:00:00Z")), "expires_at");
  // A period that already ended when it is settled would expire at once.
  ExpectRejected(AppendOne(Started("s1", "a", "sub-1",
                                   Period("2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "p-1"))),
                 "period_end");
  EXPECT_EQ(Balance(acct::kRevenueBreakage, "USD"), 0);
  EXPECT_EQ(Balance("cash:stripe", "USD"), 0);
  EXPECT_EQ(ledger_->head_seq(), 0u);
}

}  // namespace
}  // namespace tally
