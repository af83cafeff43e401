#include "events/codec.h"

#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/schema.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "events/limits.h"
#include "schema/event.capnp.h"
#include "tests/events/event_fixtures.h"

namespace tally {
namespace {

using testing::JsonEvent;
using testing::TopUp;
using testing::Usage;

std::string TextOfReader(capnp::Text::Reader text) { return std::string(text.cStr(), text.size()); }

// An input binary_event_fuzz once failed on (tests/fuzz/regressions).
std::string FuzzRegression(const std::string& name) {
  std::ifstream in(
      std::string(TALLY_SOURCE_DIR) + "/tests/fuzz/regressions/binary_event_fuzz/" + name,
      std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class CodecTest : public ::testing::Test {
 protected:
  // Expects `json` to be rejected with a message containing `fragment`.
  void ExpectRejected(const std::string& json, const std::string& fragment) {
    auto event = codec_.ParseJson(json);
    ASSERT_FALSE(event.ok()) << "accepted: " << json;
    EXPECT_EQ(event.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(event.status().message().find(fragment), std::string::npos)
        << "message: " << event.status().message() << "\nexpected to contain: " << fragment;
  }
  EventCodec codec_;
};

TEST_F(CodecTest, ParsesATopUpAndCanonicalisesAmounts) {
  auto event = codec_.ParseJson(TopUp("e1", "acct-1", "1000", "10.5"));
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  auto reader = event->reader();
  EXPECT_EQ(event->type_name(), "top_up_settled");
  EXPECT_EQ(std::string(reader.getTopUpSettled().getCredits().cStr()), "1000.000000");
  EXPECT_EQ(std::string(reader.getTopUpSettled().getAmount().getValue().cStr()), "10.50");
  EXPECT_EQ(reader.getExpectedVersion(), -1);
}

TEST_F(CodecTest, JsonBinaryJsonRoundTripIsStable) {
  auto first = codec_.ParseJson(TopUp("e1", "acct-1", "12.5"));
  ASSERT_TRUE(first.ok());
  std::string json = codec_.ToJson(*first);
  auto second = codec_.ParseJson(json);
  ASSERT_TRUE(second.ok()) << second.status().ToString() << "\n" << json;
  EXPECT_EQ(first->bytes(), second->bytes());
  EXPECT_EQ(codec_.ToJson(*second), json);
}

TEST_F(CodecTest, EquivalentInputsHaveEqualCanonicalBytes) {
  auto a = codec_.ParseJson(TopUp("e1", "acct-1", "5", "10.5"));
  auto b = codec_.ParseJson(TopUp("e1", "acct-1", "5.000000", "10.50"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->bytes(), b->bytes());
}

TEST_F(CodecTest, BinaryMessageParsesLikeJson) {
  auto from_json = codec_.ParseJson(Usage("u1", "acct-1", "2.5"));
  ASSERT_TRUE(from_json.ok());
  capnp::MallocMessageBuilder message;
  message.setRoot(from_json->reader());
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  auto from_binary =
      codec_.ParseBinary({reinterpret_cast<const char*>(bytes.begin()), bytes.size()});
  ASSERT_TRUE(from_binary.ok()) << from_binary.status().ToString();
  EXPECT_EQ(from_binary->bytes(), from_json->bytes());
}

TEST_F(CodecTest, BinaryGarbageIsRejectedNotCrashed) {
  EXPECT_FALSE(codec_.ParseBinary("").ok());
  EXPECT_FALSE(codec_.ParseBinary("abc").ok());
  std::string garbage(64, '\xff');
  EXPECT_FALSE(codec_.ParseBinary(garbage).ok());
  std::string zeros(64, '\0');
  EXPECT_FALSE(codec_.ParseBinary(zeros).ok());  // empty event: required fields missing
}

// Found by binary_event_fuzz: a text without its closing NUL passed the
// copy and made validation throw, which would have stopped `tally serve` on
// one hostile Kafka message. It is invalid input like any other.
TEST_F(CodecTest, BinaryTextWithoutItsClosingNulIsRejectedNotThrown) {
  auto event = codec_.ParseJson(Usage("u1", "acct-unterminated", "2.5"));
  ASSERT_TRUE(event.ok());
  std::string bytes = codec_.ToBinary(*event);
  size_t text = bytes.find("acct-unterminated");
  ASSERT_NE(text, std::string::npos);
  bytes[text + std::string("acct-unterminated").size()] = 'x';  // the NUL
  auto parsed = codec_.ParseBinary(bytes);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("binary event: "), std::string::npos)
      << parsed.status().message();
  std::string found = FuzzRegression("unterminated-text");
  ASSERT_EQ(found.size(), 424u);
  EXPECT_EQ(codec_.ParseBinary(found).status().code(), StatusCode::kInvalidArgument);
}

// Found by binary_event_fuzz: binary events skipped the UTF-8 check JSON
// gets as it is read, and personal fields took control characters (an email
// with NULs) from either form.
TEST_F(CodecTest, BinaryTextAndPersonalFieldsAreCheckedLikeJson) {
  auto event = codec_.ParseJson(Usage("u1", "acct-zz", "2.5"));
  ASSERT_TRUE(event.ok());
  std::string bytes = codec_.ToBinary(*event);
  size_t text = bytes.find("acct-zz");
  ASSERT_NE(text, std::string::npos);
  bytes.replace(text + 5, 2, "\xFF\xFE");
  auto parsed = codec_.ParseBinary(bytes);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(), "account: is not valid UTF-8");
  auto opened = [](const std::string& email, const std::string& address) {
    return JsonEvent("o1", "a", "account_opened",
                     R"({"email":{"plaintext":")" + email + R"("},"billing_address":)" +
                         R"({"plaintext":")" + address + R"("}})");
  };
  ExpectRejected(opened(R"(bob\u0000@example.com)", "x"),
                 "data.email: contains a control character");
  ExpectRejected(opened(R"(bob\u001b[31m@example.com)", "x"),
                 "data.email: contains a control character");
  EXPECT_TRUE(codec_.ParseJson(opened("bob@example.com", R"(Torstr. 101\n10119 Berlin)")).ok());
}

// Found by binary_event_fuzz: a binary struct larger than the schema's kept
// its unknown bytes in the canonical event (hashed and stored, shown by no
// reader, and so a JSON redelivery of the same event was a conflict).
TEST_F(CodecTest, BinaryEventsWithFieldsThisVersionDoesNotKnowAreRejected) {
  auto proto = capnp::Schema::from<schema::Event>().getProto().getStruct();
  for (bool extra_pointer : {false, true}) {
    capnp::MallocMessageBuilder message;
    auto any = message.getRoot<capnp::AnyPointer>().initAsAnyStruct(
        proto.getDataWordCount() + (extra_pointer ? 0 : 1),
        proto.getPointerCount() + (extra_pointer ? 1 : 0));
    auto event = any.as<schema::Event>();
    event.setId("u1");
    event.setAccount("acct-1");
    event.setProducer("test");
    event.setExpectedVersion(-1);
    event.initOccurredAt().setUnixMicros(1'772'000'000'000'000);
    auto usage = event.initUsageRecorded();
    usage.setUsageId("u1");
    usage.setCredits("1");
    auto words = capnp::messageToFlatArray(message);
    std::string clean(words.asChars().begin(), words.asChars().size());
    ASSERT_TRUE(codec_.ParseBinary(clean).ok()) << codec_.ParseBinary(clean).status().ToString();
    if (extra_pointer) {
      any.getPointerSection()[proto.getPointerCount()].setAs<capnp::Text>("abc");
    } else {
      any.getDataSection()[proto.getDataWordCount() * 8] = 1;
    }
    words = capnp::messageToFlatArray(message);
    auto parsed = codec_.ParseBinary(std::string(words.asChars().begin(), words.asChars().size()));
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().message(),
              "event: carries fields this version of Tally does not know");
  }
}

// Found by binary_event_fuzz: a binary event that says the same as a JSON
// one (an empty text sent as a set pointer, bits in padding) had other
// canonical bytes, so the same event sent once in each format was a conflict.
TEST_F(CodecTest, ABinaryEventHasTheCanonicalBytesOfItsJson) {
  capnp::MallocMessageBuilder message;
  auto event = message.initRoot<schema::Event>();
  event.setId("g1");
  event.setAccount("acct-1");
  event.setProducer("test");
  event.setExpectedVersion(-1);
  event.setCorrelationId("");  // set, but empty: JSON has no way to say so
  event.initOccurredAt().setUnixMicros(1'772'000'000'000'000);
  auto usage = event.initUsageRecorded();
  usage.setUsageId("g1");
  usage.setCredits("1");
  auto words = capnp::messageToFlatArray(message);
  auto binary = codec_.ParseBinary(std::string(words.asChars().begin(), words.asChars().size()));
  ASSERT_TRUE(binary.ok()) << binary.status().ToString();
  auto json = codec_.ParseJson(codec_.ToJson(*binary));
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ(binary->bytes(), json->bytes());
  auto fuzzed = codec_.ParseBinary(FuzzRegression("non-canonical-binary"));
  ASSERT_TRUE(fuzzed.ok()) << fuzzed.status().ToString();
  EXPECT_EQ(codec_.ParseJson(codec_.ToJson(*fuzzed))->bytes(), fuzzed->bytes());
}

// Every input binary_event_fuzz once failed on is now invalid input, or an
// event whose JSON form parses back to the same canonical bytes.
TEST_F(CodecTest, EveryBinaryFuzzRegressionIsRejectedOrRoundTrips) {
  namespace fs = std::filesystem;
  int files = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(TALLY_SOURCE_DIR) /
                                                  "tests/fuzz/regressions/binary_event_fuzz")) {
    auto event = codec_.ParseBinary(FuzzRegression(entry.path().filename().string()));
    ++files;
    if (!event.ok()) {
      EXPECT_EQ(event.status().code(), StatusCode::kInvalidArgument) << entry.path();
      continue;
    }
    auto json = codec_.ParseJson(codec_.ToJson(*event));
    ASSERT_TRUE(json.ok()) << entry.path() << ": " << json.status().ToString();
    EXPECT_EQ(json->bytes(), event->bytes()) << entry.path();
  }
  EXPECT_GE(files, 4);
  // Judged as copied: an empty credits text in the adjustment's union was
  // accepted in binary and refused in its own JSON form.
  EXPECT_EQ(codec_.ParseBinary(FuzzRegression("judged-before-copy")).status().message(),
            "data.credits: is required");
}

TEST_F(CodecTest, CanonicalBytesSurviveStorageAndCorruptionIsDetected) {
  auto event = codec_.ParseJson(Usage("u1", "acct-1", "1"));
  ASSERT_TRUE(event.ok());
  auto again = Event::FromCanonical(event->bytes());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->bytes(), event->bytes());
  std::string damaged(event->bytes());
  damaged[3] ^= 0x40;  // the root pointer
  auto bad = Event::FromCanonical(damaged);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kCorruption);
  EXPECT_FALSE(Event::FromCanonical(std::string(event->bytes()).substr(0, 12)).ok());
}

TEST_F(CodecTest, RejectsUnknownAndMissingType) {
  ExpectRejected(JsonEvent("e", "a", "top_up_setled", "{}"), "type: unknown event type");
  ExpectRejected(
      R"({"id":"e","account":"a","occurred_at":"2026-03-01T10:00:00Z","producer":"p","data":{}})",
      "type: is required");
  ExpectRejected(JsonEvent("e", "a", "usage_recorded", "{}").replace(0, 1, "["), "not valid JSON");
}

TEST_F(CodecTest, RejectsMissingRequiredFieldsByName) {
  ExpectRejected(Usage("", "acct", "1"), "id: is required");
  ExpectRejected(Usage("u", "", "1"), "account: is required");
  ExpectRejected(
      JsonEvent("e", "a", "top_up_settled",
                R"({"provider":"stripe","amount":{"currency":"USD","value":"1"},"credits":"1"})"),
      "data.reference: is required");
  ExpectRejected(JsonEvent("e", "a", "top_up_settled",
                           R"({"provider":"stripe","reference":"r","credits":"1"})"),
                 "data.amount: is required");
  ExpectRejected(
      R"({"id":"e","account":"a","producer":"p","type":"usage_recorded","data":{"usage_id":"u","credits":"1"}})",
      "occurred_at: is required");
}

TEST_F(CodecTest, RejectsMalformedAmountsByName) {
  ExpectRejected(Usage("u", "a", "1.1234567"), "data.credits: \"1.1234567\" has 7 decimal places");
  ExpectRejected(Usage("u", "a", "1e3"), "data.credits");
  ExpectRejected(Usage("u", "a", "-1"), "data.credits: must be greater than zero");
  ExpectRejected(TopUp("e", "a", "10", "10.001"), "data.amount.value");
  ExpectRejected(TopUp("e", "a", "0"), "data.credits: must be greater than zero");
  ExpectRejected(JsonEvent("e", "a", "usage_recorded", R"({"usage_id":"u","credits":5})"),
                 "data.credits: expected a string");
}

TEST_F(CodecTest, RejectsUnknownCurrencyByName) {
  ExpectRejected(
      JsonEvent(
          "e", "a", "top_up_settled",
          R"({"provider":"s","reference":"r","amount":{"currency":"usd","value":"1"},"credits":"1"})"),
      "data.amount.currency: unknown currency \"usd\"");
}

TEST_F(CodecTest, RejectsOversizeFieldsByName) {
  ExpectRejected(Usage(std::string(limits::kTextBytesMax + 1, 'x'), "a", "1"), "id: is 257 bytes");
  ExpectRejected(JsonEvent("e", "a", "account_opened", R"({"country":"USA"})"),
                 "data.country: is 3 bytes; at most 2");
  std::string huge =
      JsonEvent("e", "a", "account_closed",
                R"({"reason":")" + std::string(limits::kEventJsonBytesMax, 'r') + R"("})");
  ExpectRejected(huge, "at most 65536 allowed");
  ExpectRejected(JsonEvent("e", "a", "account_opened",
                           R"({"email":{"plaintext":")" +
                               std::string(limits::kPersonalTextBytesMax + 1, 'm') + R"("}})"),
                 "data.email: is 1025 bytes");
}

TEST_F(CodecTest, RejectsUnknownFieldsAndBadKindsByName) {
  ExpectRejected(
      JsonEvent("e", "a", "usage_recorded", R"({"usage_id":"u","credits":"1","ammount":"3"})"),
      "data.ammount: unknown field");
  ExpectRejected(Usage("u", "a", "1").replace(1, 4, R"("idd")"), "idd: unknown field");
  ExpectRejected(
      JsonEvent("e", "a", "credits_granted", R"({"credits":"1","reason":"r","kind":"bogus"})"),
      "data.kind: unknown value \"bogus\"");
  ExpectRejected(
      R"({"id":"e","account":"a","occurred_at":"2026-13-01T00:00:00Z","producer":"p","type":"usage_recorded","data":{"usage_id":"u","credits":"1"}})",
      "occurred_at: \"2026-13-01T00:00:00Z\" is not an RFC 3339 timestamp");
}

TEST_F(CodecTest, RequiredEnumsMustBeSet) {
  // Left out, an outcome must not default to "won" (the platform keeps the money).
  ExpectRejected(JsonEvent("e", "a", "chargeback_resolved", R"({"chargeback_id":"c"})"),
                 "data.outcome: is required");
  ExpectRejected(JsonEvent("e", "a", "credits_granted", R"({"credits":"1","reason":"r"})"),
                 "data.kind: is required");
  ExpectRejected(JsonEvent("e", "a", "chargeback_resolved",
                           R"({"chargeback_id":"c","outcome":"unspecified"})"),
                 "data.outcome: is required");
}

TEST_F(CodecTest, AdjustmentNeedsAnAmount) {
  std::string fields = R"("adjustment_id":"adj","debit_account":"d","credit_account":"c",)"
                       R"("reason":"r","approver":"cfo")";
  ExpectRejected(JsonEvent("e", "a", "adjustment_posted", "{" + fields + "}"),
                 "data.credits: is required");
  auto with_money =
      codec_.ParseJson(JsonEvent("e", "a", "adjustment_posted",
                                 "{" + fields + R"(,"money":{"currency":"EUR","value":"3.10"}})"));
  EXPECT_TRUE(with_money.ok()) << with_money.status().ToString();
}

TEST_F(CodecTest, UnderscoreAccountsAreReservedForTheLedger) {
  ExpectRejected(Usage("u", "_ledger", "1"), "account: names starting with '_' are reserved");
}

TEST_F(CodecTest, RejectsControlCharacters) {
  ExpectRejected(Usage("u\\u0000x", "a", "1"), "id: contains a control character");
  ExpectRejected(Usage("u\\nx", "a", "1"), "id: contains a control character");
}

// Issue 12.1: every JSON escape decodes to the character it names, so an
// escaped event is the same event as the one sent literally (same bytes, same
// id, same account). Python's json.dumps escapes all non-ASCII by default.
TEST_F(CodecTest, EscapedTextIsTheSameEventAsLiteralText) {
  struct Case {
    std::string escaped, literal;
  };
  const Case cases[] = {
      {R"(acct-\u00e9)", "acct-\xC3\xA9"},  // é
      {R"(acct-\u00E9\u00ea\u00fF)", "acct-\xC3\xA9\xC3\xAA\xC3\xBF"},
      {R"(\u4e2d\u6587)", "\xE4\xB8\xAD\xE6\x96\x87"},  // 中文
      {R"(x\ud83d\ude00y)", "x\xF0\x9F\x98\x80y"},      // an emoji: a surrogate pair
      {R"(a\/b\u0041\u007e)", "a/bA~"},
      {R"(\uffff\u0800\u07ff)", "\xEF\xBF\xBF\xE0\xA0\x80\xDF\xBF"},
  };
  for (const auto& c : cases) {
    auto escaped = codec_.ParseJson(JsonEvent(
        "t-" + c.escaped, c.escaped, "task_submitted",
        R"({"task_id":")" + c.escaped + R"(","model":")" + c.escaped + R"(","estimate":"1"})"));
    auto literal = codec_.ParseJson(JsonEvent(
        "t-" + c.literal, c.literal, "task_submitted",
        R"({"task_id":")" + c.literal + R"(","model":")" + c.literal + R"(","estimate":"1"})"));
    ASSERT_TRUE(escaped.ok()) << c.escaped << ": " << escaped.status().ToString();
    ASSERT_TRUE(literal.ok()) << c.literal << ": " << literal.status().ToString();
    EXPECT_EQ(escaped->bytes(), literal->bytes()) << c.escaped;
    EXPECT_EQ(TextOfReader(escaped->reader().getAccount()), c.literal);
    EXPECT_EQ(TextOfReader(escaped->reader().getId()), "t-" + c.literal);
    EXPECT_EQ(TextOfReader(escaped->reader().getTaskSubmitted().getModel()), c.literal);
  }
}

TEST_F(CodecTest, RejectsBrokenEscapes) {
  ExpectRejected(Usage(R"(u\ud800)", "a", "1"), "not valid JSON");        // lone high surrogate
  ExpectRejected(Usage(R"(u\udc00)", "a", "1"), "not valid JSON");        // lone low surrogate
  ExpectRejected(Usage(R"(u\ud800\u0041)", "a", "1"), "not valid JSON");  // high + non-low
  ExpectRejected(Usage(R"(u\u00g1)", "a", "1"), "not valid JSON");
  ExpectRejected(Usage(R"(u\x41)", "a", "1"), "not valid JSON");
}

// Issue 12.2: a repeated key is refused, never "last one wins".
TEST_F(CodecTest, RejectsDuplicateKeysNamingTheField) {
  ExpectRejected(JsonEvent("u", "a", "usage_recorded",
                           R"({"usage_id":"u","credits":"1000","credits":"5000000"})"),
                 "data.credits: duplicate key");
  ExpectRejected(R"({"id":"u","account":"a","account":"b","occurred_at":"2026-03-01T10:00:00Z",)"
                 R"("producer":"p","type":"usage_recorded","data":{"usage_id":"u","credits":"1"}})",
                 "account: duplicate key");
  // The same name escaped differently is the same key.
  ExpectRejected(
      JsonEvent("u", "a", "usage_recorded", R"({"usage_id":"u","credits":"1","cr\u0065dits":"2"})"),
      "data.credits: duplicate key");
}

// Issue 12.3: text that is not UTF-8 is refused at the edge, naming the field.
TEST_F(CodecTest, RejectsInvalidUtf8NamingTheField) {
  ExpectRejected(Usage("u", "acct-\xFF", "1"), "account: is not valid UTF-8");
  ExpectRejected(Usage("u\xC0\xAF", "a", "1"), "id: is not valid UTF-8");          // overlong '/'
  ExpectRejected(Usage("u\xED\xA0\x80", "a", "1"), "id: is not valid UTF-8");      // a surrogate
  ExpectRejected(Usage("u\xF4\x90\x80\x80", "a", "1"), "id: is not valid UTF-8");  // > U+10FFFF
  ExpectRejected(Usage("u", "a\xE4\xB8", "1"), "account: is not valid UTF-8");     // truncated
  ExpectRejected(JsonEvent("u", "a", "usage_recorded", "{\"usage_id\":\"u\",\"cr\xFF\":\"1\"}"),
                 "data.cr\xEF\xBF\xBD: is not valid UTF-8");
}

// Issue 12.17: nothing may follow the event, not even a NUL.
TEST_F(CodecTest, RejectsAnythingAfterTheEvent) {
  ExpectRejected(Usage("u", "a", "1") + std::string(1, '\0'), "not valid JSON");
  ExpectRejected(Usage("u", "a", "1") + "x", "not valid JSON");
  ExpectRejected(Usage("u", "a", "1") + Usage("v", "a", "1"), "not valid JSON");
  EXPECT_TRUE(codec_.ParseJson(Usage("u", "a", "1") + " \n").ok());
}

// Issue 12.17: integers out of their field's range name the field.
TEST_F(CodecTest, RejectsIntegersOutOfRangeNamingTheField) {
  auto task = [](const std::string& ttl) {
    return JsonEvent("t", "a", "task_submitted",
                     R"({"task_id":"t","estimate":"1","hold_ttl_ms":)" + ttl + "}");
  };
  ExpectRejected(task("-1"), "data.hold_ttl_ms: out of range; expected 0 to 4294967295");
  ExpectRejected(task("1e11"), "data.hold_ttl_ms: out of range");
  ExpectRejected(task("1.5"), "data.hold_ttl_ms: expected a whole number");
  ExpectRejected(task("\"12x\""), "data.hold_ttl_ms: expected a whole number");
  ExpectRejected(task("9007199254740993"), "data.hold_ttl_ms: 9007199254740993 is too large");
  ExpectRejected(task("18446744073709551615"),
                 "data.hold_ttl_ms: 18446744073709551615 is too large");
  ExpectRejected(task("1e400"), "not valid JSON");
  ExpectRejected(JsonEvent("f", "a", "subscription_payment_failed",
                           R"({"subscription_id":"s","amount":{"currency":"USD","value":"1.00"},)"
                           R"("attempt":1e11})"),
                 "data.attempt: out of range");
  EXPECT_TRUE(codec_.ParseJson(task("60000")).ok());
}

TEST_F(CodecTest, RejectsNestingBeyondTheLimit) {
  std::string deep = std::string(40, '[') + std::string(40, ']');
  ExpectRejected(JsonEvent("u", "a", "usage_recorded", deep), "nested deeper than");
}

TEST_F(CodecTest, ProducersCannotSetLedgerFieldsOrSendLedgerTypes) {
  ExpectRejected(
      JsonEvent("e", "a", "usage_recorded", R"({"usage_id":"u","credits":"1"})", R"("seq":"5",)"),
      "seq: is assigned by the ledger");
  ExpectRejected(JsonEvent("e", "a", "usage_recorded", R"({"usage_id":"u","credits":"1"})",
                           R"("recorded_at":"2026-03-01T10:00:00Z",)"),
                 "recorded_at: is assigned by the ledger");
  ExpectRejected(JsonEvent("e", "a", "hold_accepted", R"({"task_id":"t","credits":"1"})"),
                 "\"hold_accepted\" events are appended by the ledger only");
  ExpectRejected(JsonEvent("e", "a", "usage_recorded", R"({"usage_id":"u","credits":"1"})",
                           R"("expected_version":-2,)"),
                 "expected_version: must be >= 0");
}

TEST_F(CodecTest, LogFormRequiresLedgerFields) {
  std::string hold =
      JsonEvent("e", "a", "hold_accepted",
                R"({"task_id":"t","credits":"1","expires_at":"2026-03-01T10:15:00Z"})",
                R"("seq":"7","recorded_at":"2026-03-01T10:00:01Z",)");
  auto event = codec_.ParseJson(hold, EventSource::kLog);
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->reader().getSeq(), 7u);
  auto unsequenced = codec_.ParseJson(
      JsonEvent("e", "a", "hold_accepted", R"({"task_id":"t","credits":"1"})"), EventSource::kLog);
  EXPECT_FALSE(unsequenced.ok());
}

TEST_F(CodecTest, PersonalFieldsMustArriveAsPlaintext) {
  auto opened = codec_.ParseJson(
      JsonEvent("e", "a", "account_opened", R"({"email":{"plaintext":"a@example.com"}})"));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::string sealed = R"({"email":{"sealed":{"subject":"a","key_version":1}}})";
  ExpectRejected(JsonEvent("e", "a", "account_opened", sealed),
                 "data.email: producers send personal fields as plaintext");
  // The log holds sealed fields, and reading it back must work.
  auto from_log = codec_.ParseJson(JsonEvent("e", "a", "account_opened", sealed,
                                             R"("seq":"3","recorded_at":"2026-03-01T10:00:01Z",)"),
                                   EventSource::kLog);
  EXPECT_TRUE(from_log.ok()) << from_log.status().ToString();
}

TEST_F(CodecTest, AnEventCanBeReadAnyNumberOfTimes) {
  auto event = codec_.ParseJson(TopUp("e1", "acct-1", "5"));
  ASSERT_TRUE(event.ok());
  auto stored = Event::FromCanonical(event->bytes());
  ASSERT_TRUE(stored.ok());
  const std::string json = codec_.ToJson(*stored);
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(codec_.ToJson(*stored), json);
}

TEST_F(CodecTest, WithLedgerFieldsSetsSeqAndRecordedAt) {
  auto event = codec_.ParseJson(Usage("u", "a", "1"));
  ASSERT_TRUE(event.ok());
  Event stamped = event->WithLedgerFields(42, 1'000'000);
  EXPECT_EQ(stamped.reader().getSeq(), 42u);
  EXPECT_EQ(stamped.reader().getRecordedAt().getUnixMicros(), 1'000'000);
  EXPECT_EQ(event->reader().getSeq(), 0u);  // the original is unchanged
}

// The ledger names its own events "tally:<seq>"; a producer id there would
// collide with one (the append succeeds, then verification and redelivery fail).
TEST_F(CodecTest, TheLedgersIdSpaceIsReservedForTheLedger) {
  ExpectRejected(Usage("tally:3", "a", "1"), "id: ");
  ExpectRejected(Usage("tally:", "a", "1"), "reserved for events the ledger makes");
  EXPECT_TRUE(codec_.ParseJson(Usage("tally-3", "a", "1")).ok());
  EXPECT_TRUE(codec_.ParseJson(Usage("talley:3", "a", "1")).ok());
  // Read back from the log, the ledger's own ids are of course fine.
  auto logged = codec_.ParseJson(
      JsonEvent("tally:3", "a", "usage_recorded", R"({"usage_id":"u","credits":"1"})",
                R"("seq":"3","recorded_at":"2026-03-01T10:00:00Z",)"),
      EventSource::kLog);
  EXPECT_TRUE(logged.ok()) << logged.status().ToString();
}

}  // namespace
}  // namespace tally
