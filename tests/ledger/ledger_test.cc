#include "ledger/ledger.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "events/codec.h"
#include "tests/ledger/ledger_fixture.h"

namespace tally {
namespace {

using testing::TopUp;
using testing::Usage;

// Grants rather than top-ups where seqs are counted: a top-up is followed by
// its invoice (docs/ledger.md).
class LedgerTest : public testing::LedgerFixture {};

TEST_F(LedgerTest, AssignsGapFreeSeqsAndRecordedAt) {
  auto outcomes =
      Append({testing::Grant("t1", "a", "100"), Usage("u1", "a", "30"), Usage("u2", "b", "1")});
  ASSERT_EQ(outcomes.size(), 3u);
  for (size_t i = 0; i < outcomes.size(); ++i) {
    EXPECT_EQ(outcomes[i].kind, AppendOutcome::Kind::kAppended);
    EXPECT_EQ(outcomes[i].seq, i + 1);
  }
  EXPECT_EQ(ledger_->head_seq(), 3u);
  uint64_t expected_seq = 1;
  ASSERT_TRUE(ledger_
                  ->Scan(1,
                         [&](const LoggedEvent& record) {
                           EXPECT_EQ(record.seq, expected_seq++);
                           EXPECT_EQ(record.recorded_at_micros, clock_.NowMicros());
                           return true;
                         })
                  .ok());
  EXPECT_EQ(expected_seq, 4u);
}

TEST_F(LedgerTest, DuplicateIdIsAcknowledgedWithOriginalSeq) {
  Append({testing::Grant("t1", "a", "100")});
  clock_.Advance(1'000'000);
  auto outcomes =
      Append({Usage("u1", "a", "5"), testing::Grant("t1", "a", "100"), Usage("u1", "a", "5")});
  EXPECT_EQ(outcomes[0].kind, AppendOutcome::Kind::kAppended);
  EXPECT_EQ(outcomes[0].seq, 2u);
  EXPECT_EQ(outcomes[1].kind, AppendOutcome::Kind::kDuplicate);
  EXPECT_EQ(outcomes[1].seq, 1u);
  EXPECT_EQ(outcomes[2].kind, AppendOutcome::Kind::kDuplicate);  // within one batch
  EXPECT_EQ(outcomes[2].seq, 2u);
  EXPECT_EQ(ledger_->head_seq(), 2u);
  EXPECT_EQ(Available("a"), "95.000000");
}

TEST_F(LedgerTest, SameIdWithOtherContentIsRejectedAsConflict) {
  Append({TopUp("t1", "a", "100")});
  auto outcomes = Append({TopUp("t1", "a", "999"), Usage("u1", "a", "1")});
  EXPECT_EQ(outcomes[0].kind, AppendOutcome::Kind::kRejected);
  EXPECT_NE(outcomes[0].reason.find("conflict"), std::string::npos);
  EXPECT_EQ(outcomes[1].kind, AppendOutcome::Kind::kAppended);
  EXPECT_EQ(Available("a"), "99.000000");
}

TEST_F(LedgerTest, EverythingSurvivesReopenIncludingTheIdIndex) {
  Append({testing::Grant("t1", "a", "100"), Usage("u1", "a", "2.5")});
  Reopen();
  EXPECT_EQ(ledger_->head_seq(), 2u);
  auto outcomes = Append({Usage("u1", "a", "2.5"), Usage("u2", "a", "0.5")});
  EXPECT_EQ(outcomes[0].kind, AppendOutcome::Kind::kDuplicate);
  EXPECT_EQ(outcomes[1].seq, 3u);
  EXPECT_EQ(Available("a"), "97.000000");
}

TEST_F(LedgerTest, BalanceCountsTopUpsGrantsAndUsagePerAccount) {
  Append({TopUp("t1", "a", "100"), TopUp("t2", "b", "10"), Usage("u1", "a", "0.000001"),
          testing::JsonEvent("g1", "b", "credits_granted",
                             R"({"credits":"5","kind":"promotional","reason":"promo"})"),
          Usage("u2", "b", "20")});
  EXPECT_EQ(Available("a"), "99.999999");
  EXPECT_EQ(Available("b"), "0.000000");
  EXPECT_EQ(ledger_->Account("b").receivable.ToString(), "5.000000");
  EXPECT_EQ(Available("nobody"), "0.000000");
  EXPECT_EQ(ledger_->Accounts(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ledger_->Account("b").version, 3u);
}

// Readers open the log without replaying it: they see the same head and
// records as the ledger, as of when they opened, even while the ledger
// appends; no log is NotFound.
TEST_F(LedgerTest, OpenForReadingSeesTheLogAsOfOpeningWithoutReplay) {
  Append({TopUp("t1", "a", "100"), Usage("u1", "a", "2.5")});
  auto log = Log::OpenForReading(dir_.path());
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ((*log)->head_seq(), ledger_->head_seq());
  EXPECT_EQ(HashHex((*log)->head_hash()), HashHex(ledger_->head_hash()));
  std::vector<uint64_t> seqs;
  ASSERT_TRUE((*log)
                  ->ScanAccount("a",
                                [&](const LoggedEvent& event) {
                                  seqs.push_back(event.seq);
                                  return true;
                                })
                  .ok());
  EXPECT_EQ(seqs.size(), 3u);  // the top-up, its invoice, the usage
  const uint64_t opened_at = (*log)->head_seq();
  Append({Usage("u2", "a", "1")});
  EXPECT_EQ((*log)->head_seq(), opened_at);
  EXPECT_TRUE((*log)->Verify().status.ok());
  EXPECT_TRUE((*log)->TrialBalance().ok());
  EXPECT_EQ(Log::OpenForReading(dir_.path() + "/nothing-here").status().code(),
            StatusCode::kNotFound);
}

// Appends kThreads * kPerThread usage events from kThreads threads and checks
// that every one got its own seq and the log has no gaps.
void AppendConcurrently(Ledger& ledger) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      EventCodec codec;
      for (int i = 0; i < kPerThread; ++i) {
        auto event =
            codec.ParseJson(Usage("u" + std::to_string(t) + "-" + std::to_string(i), "a", "1"));
        std::vector<Event> batch{*event};
        auto outcomes = ledger.Append(batch);
        TALLY_CHECK(outcomes.ok() && (*outcomes)[0].kind == AppendOutcome::Kind::kAppended);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ledger.head_seq(), uint64_t{kThreads} * kPerThread);
  uint64_t expected = 1;
  ASSERT_TRUE(ledger.Scan(1, [&](const LoggedEvent& e) { return e.seq == expected++; }).ok());
  EXPECT_EQ(expected, uint64_t{kThreads} * kPerThread + 1);
  EXPECT_TRUE(ledger.Verify().status.ok());
}

TEST_F(LedgerTest, ConcurrentAppendersGetDistinctGapFreeSeqs) { AppendConcurrently(*ledger_); }

TEST_F(LedgerTest, ConcurrentAppendersWithAGroupCommitWaitAndSmallGroups) {
  ledger_.reset();
  LedgerOptions options{dir_.path(), true};
  options.group_commit_wait_micros = 2000;
  options.group_commit_events_max = 3;
  auto ledger = Ledger::Open(options, &clock_);
  ASSERT_TRUE(ledger.ok());
  AppendConcurrently(**ledger);
}

TEST_F(LedgerTest, OpeningAMissingLogWithoutCreateIsNotFound) {
  auto missing = Ledger::Open({dir_.path() + "/absent", false}, &clock_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

using testing::TopUp;
using testing::Usage;

class SourceOffsetTest : public testing::LedgerFixture {
 protected:
  Result<std::vector<AppendOutcome>> AppendFrom(const std::vector<std::string>& lines,
                                                std::vector<SourceOffset> offsets) {
    std::vector<Event> events;
    for (const auto& line : lines) events.push_back(*codec_.ParseJson(line));
    return ledger_->AppendFrom(events, {.offsets = offsets});
  }
  std::optional<int64_t> Stored(int32_t partition) {
    auto stored = ledger_->StoredOffset("billing.events", partition);
    EXPECT_TRUE(stored.ok());
    return stored.ok() ? *stored : std::nullopt;
  }
};

TEST_F(SourceOffsetTest, OffsetsAreStoredWithTheEventsAndNeverGoBack) {
  EXPECT_EQ(Stored(3), std::nullopt);
  auto first = AppendFrom({TopUp("t1", "acct-1", "100"), Usage("u1", "acct-1", "5")},
                          {{"billing.events", 3, 101}});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ((*first)[1].kind, AppendOutcome::Kind::kAppended);
  EXPECT_EQ(Stored(3), 101);
  // Duplicates only, or nothing at all: the offset still moves on.
  auto again = AppendFrom({TopUp("t1", "acct-1", "100")}, {{"billing.events", 3, 102}});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[0].kind, AppendOutcome::Kind::kDuplicate);
  EXPECT_EQ(Stored(3), 102);
  ASSERT_TRUE(AppendFrom({}, {{"billing.events", 3, 110}, {"billing.events", 4, 7}}).ok());
  EXPECT_EQ(Stored(3), 110);
  EXPECT_EQ(Stored(4), 7);
  // Behind the stored offset: another consumer took the partition.
  const uint64_t head = ledger_->head_seq();
  auto fenced = AppendFrom({Usage("u2", "acct-1", "1")}, {{"billing.events", 3, 109}});
  ASSERT_FALSE(fenced.ok());
  EXPECT_EQ(fenced.status().code(), StatusCode::kConflict);
  EXPECT_NE(fenced.status().message().find("another writer"), std::string::npos);
  EXPECT_EQ(ledger_->head_seq(), head);
  EXPECT_EQ(Stored(3), 110);
  for (const SourceOffset& bad : {SourceOffset{"", 0, 1}, SourceOffset{"bad topic", 0, 1},
                                  SourceOffset{"t", -1, 1}, SourceOffset{"t", 0, -1}}) {
    EXPECT_EQ(AppendFrom({}, {bad}).status().code(), StatusCode::kInvalidArgument) << bad.topic;
  }
  Reopen();
  EXPECT_EQ(Stored(3), 110);
  EXPECT_EQ(Stored(4), 7);
  EXPECT_TRUE(ledger_->Verify().status.ok());
}

DeadLetter Letter(const std::string& key, const std::string& value) {
  DeadLetter letter;
  letter.key = key;
  letter.value = value;
  letter.headers = {{"tally-source-offset", value}, {"empty", ""}};
  return letter;
}

TEST_F(SourceOffsetTest, DeadLettersAreKeptWithTheOffsetsUntilRemoved) {
  std::vector<Event> events;
  for (const auto& line : {TopUp("t1", "acct-1", "100"), Usage("u1", "acct-1", "5"),
                           // the same id with other content: rejected
                           Usage("u1", "acct-1", "6")}) {
    events.push_back(*codec_.ParseJson(line));
  }
  std::vector<DeadLetter> if_rejected = {Letter("acct-1", "0"), Letter("acct-1", "1"),
                                         Letter("acct-1", "2")};
  DeadLetter malformed = Letter("acct-9", "{not json");
  malformed.reason = "does not parse";
  const SourceOffset offset{"billing.events", 0, 4};
  auto outcomes = ledger_->AppendFrom(
      events, {.offsets = {&offset, 1},
               .dead_letters = {&malformed, 1},
               .if_rejected = [&](size_t i, const Event&) { return if_rejected.at(i); }});
  ASSERT_TRUE(outcomes.ok()) << outcomes.status().ToString();
  ASSERT_EQ((*outcomes)[2].kind, AppendOutcome::Kind::kRejected);
  // A fenced call keeps none of its dead letters.
  const SourceOffset behind{"billing.events", 0, 3};
  ASSERT_FALSE(
      ledger_->AppendFrom({}, {.offsets = {&behind, 1}, .dead_letters = {&malformed, 1}}).ok());
  Reopen();
  auto letters = ledger_->DeadLetters(10);
  ASSERT_TRUE(letters.ok()) << letters.status().ToString();
  ASSERT_EQ(letters->size(), 2u);  // the malformed one and the rejection
  EXPECT_EQ((*letters)[0].reason, "does not parse");
  EXPECT_EQ((*letters)[0].value, "{not json");
  EXPECT_EQ((*letters)[1].value, "2");
  EXPECT_NE((*letters)[1].reason.find("u1"), std::string::npos) << (*letters)[1].reason;
  EXPECT_EQ((*letters)[1].headers, if_rejected[2].headers);
  EXPECT_LT((*letters)[0].id, (*letters)[1].id);
  const std::vector<uint64_t> delivered = {(*letters)[0].id, (*letters)[1].id};
  ASSERT_TRUE(ledger_->AppendFrom({}, {.dead_letters = {&malformed, 1}}).ok());
  ASSERT_TRUE(ledger_->RemoveDeadLetters(delivered).ok());
  Reopen();
  letters = ledger_->DeadLetters(10);
  ASSERT_TRUE(letters.ok());
  ASSERT_EQ(letters->size(), 1u);
  // New ones after a reopen get higher ids than any kept.
  const uint64_t kept = (*letters)[0].id;
  EXPECT_GT(kept, delivered[1]);
  ASSERT_TRUE(ledger_->AppendFrom({}, {.dead_letters = {&malformed, 1}}).ok());
  letters = ledger_->DeadLetters(10);
  ASSERT_EQ(letters->size(), 2u);
  EXPECT_GT((*letters)[1].id, kept);
  EXPECT_TRUE(ledger_->Verify().status.ok());
}

// Offsets are stored with their cluster. Another cluster numbers from 0
// again: its lower offset replaces the stored one; the same cluster's is
// fenced.
TEST_F(SourceOffsetTest, OffsetsAreBoundToTheirCluster) {
  const SourceOffset high{"billing.events", 0, 500};
  ASSERT_TRUE(ledger_->AppendFrom({}, {.offsets = {&high, 1}, .cluster = "old-cluster"}).ok());
  const SourceOffset low{"billing.events", 0, 3};
  auto fenced = ledger_->AppendFrom({}, {.offsets = {&low, 1}, .cluster = "old-cluster"});
  EXPECT_EQ(fenced.status().code(), StatusCode::kConflict);
  ASSERT_TRUE(ledger_->AppendFrom({}, {.offsets = {&low, 1}, .cluster = "new-cluster"}).ok());
  Reopen();
  auto stored = ledger_->StoredClusterOffset("billing.events", 0);
  ASSERT_TRUE(stored.ok() && *stored);
  EXPECT_EQ((*stored)->next_offset, 3);
  EXPECT_EQ((*stored)->cluster, "new-cluster");
  EXPECT_EQ(Stored(0), 3);
  const std::string too_long(limits::kClusterIdBytesMax + 1, 'c');
  EXPECT_EQ(ledger_->AppendFrom({}, {.offsets = {&low, 1}, .cluster = too_long}).status().code(),
            StatusCode::kInvalidArgument);
}

// A rejected event is handed to if_rejected as the ledger judged it: here
// (no master key) its personal fields cannot be sealed, so they are
// redacted, never passed on in plaintext.
TEST_F(SourceOffsetTest, ARejectedEventIsJudgedWithoutPlaintext) {
  const std::string email = "judged.plaintext.5521@example.test";
  std::vector<Event> events = {*codec_.ParseJson(testing::JsonEvent(
      "pu-1", "acct-1", "profile_updated", R"({"email":{"plaintext":")" + email + R"("}})"))};
  std::string judged_json;
  auto outcomes = ledger_->AppendFrom(events, {.if_rejected = [&](size_t, const Event& judged) {
                                        judged_json = codec_.ToJson(judged);
                                        return DeadLetter{};
                                      }});
  ASSERT_TRUE(outcomes.ok()) << outcomes.status().ToString();
  ASSERT_EQ((*outcomes)[0].kind, AppendOutcome::Kind::kRejected);
  EXPECT_EQ(judged_json.find(email), std::string::npos) << judged_json;
  EXPECT_NE(judged_json.find(R"("email":{"erased":"profile"})"), std::string::npos) << judged_json;
}

TEST_F(SourceOffsetTest, CursorsAreKeptAcrossReopening) {
  auto none = ledger_->Cursor("changelog");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0u);
  ASSERT_TRUE(ledger_->StoreCursor("changelog", 41).ok());
  ASSERT_TRUE(ledger_->StoreCursor("other", 7).ok());
  EXPECT_EQ(ledger_->StoreCursor("", 1).code(), StatusCode::kInvalidArgument);
  Reopen();
  EXPECT_EQ(*ledger_->Cursor("changelog"), 41u);
  EXPECT_EQ(*ledger_->Cursor("other"), 7u);
  EXPECT_TRUE(ledger_->Verify().status.ok());
}

}  // namespace
}  // namespace tally
