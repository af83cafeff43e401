// The decision state in the log base (ledger/internal/base.h): business ids
// and the per-payment and per-period figures survive, in both layouts.
#include "ledger/internal/base.h"

#include <gtest/gtest.h>

#include "ledger/internal/business_ids.h"
#include "ledger/internal/decider.h"
#include "tests/ledger/ledger_fixture.h"

namespace tally {
namespace {

using namespace testing;  // NOLINT: builders
namespace ids = internal::business_ids;

class BaseStateTest : public ::testing::Test {
 protected:
  // Decides and applies `json` at the next seq, as the ledger does.
  std::string Apply(const std::string& json) {
    auto event = codec_.ParseJson(json);
    EXPECT_TRUE(event.ok()) << event.status().ToString();
    internal::Decision decision = internal::Decide(state_, *event, kStart, seq_ + 1, {0, 0});
    for (const Event& accepted : decision.events) {
      internal::Apply(state_, accepted, ++seq_, kStart);
    }
    return decision.rejection;
  }

  EventCodec codec_;
  internal::State state_;
  uint64_t seq_ = 0;
};

TEST_F(BaseStateTest, BusinessIdsAndCapsSurviveTheBase) {
  ASSERT_EQ(Apply(PaidTopUp("t1", "a", "100", "USD", "10.00")), "");
  const uint64_t top_up_seq = 1;
  ASSERT_EQ(Apply(Usage("u1", "a", "5")), "");
  ASSERT_EQ(Apply(JsonEvent("c1", "a", "chargeback_opened",
                            R"({"chargeback_id":"cb-1","payment_reference":"ref-t1",)"
                            R"("provider":"stripe","amount":{"currency":"USD","value":"9.00"}})")),
            "");
  std::string bytes = internal::EncodeState(state_);
  internal::State restored;
  ASSERT_TRUE(internal::DecodeState(bytes, &restored).ok());
  EXPECT_EQ(internal::EncodeState(restored), bytes);
  EXPECT_EQ(restored.FirstUse(ids::Payment("ref-t1")), top_up_seq);
  EXPECT_TRUE(restored.FirstUse(ids::Usage("a", "u1")).has_value());
  EXPECT_EQ(restored.Find("a")->payments.at("ref-t1").Returnable(), 100);

  // A base of the first layout: references, chargebacks and subscriptions it
  // names are used "in an archived segment"; nothing is disputed.
  internal::State first_layout;
  ASSERT_TRUE(internal::DecodeState(internal::EncodeState(state_, 1), &first_layout).ok());
  EXPECT_EQ(first_layout.FirstUse(ids::Payment("ref-t1")), internal::State::kArchivedSeq);
  EXPECT_EQ(first_layout.FirstUse(ids::Chargeback("cb-1")), internal::State::kArchivedSeq);
  EXPECT_FALSE(first_layout.FirstUse(ids::Usage("a", "u1")).has_value());
  EXPECT_EQ(first_layout.Find("a")->payments.at("ref-t1").disputed, 0);
  EXPECT_EQ(internal::EncodeState(first_layout, 1), internal::EncodeState(state_, 1));
  state_ = std::move(first_layout);
  std::string again = Apply(JsonEvent(
      "t2", "b", "top_up_settled",
      R"({"provider":"stripe","reference":"ref-t1","amount":{"currency":"USD","value":"1.00"},)"
      R"("credits":"1"})"));
  EXPECT_NE(again.find("payment reference \"ref-t1\" was already used in an archived segment"),
            std::string::npos)
      << again;
}

}  // namespace
}  // namespace tally
