#include "adapters/kafka/publisher.h"

#include <utility>
#include <vector>

#include "adapters/kafka/internal/client.h"
#include "events/check.h"
#include "events/codec.h"
#include "schema/event.capnp.h"

namespace tally {
namespace {

constexpr const char* kJsonContentType = "application/json";
constexpr const char* kBinaryContentType = "application/x-capnp";

bool IsHoldOutcome(const Event& event) {
  auto which = event.reader().which();
  return which == schema::Event::HOLD_ACCEPTED || which == schema::Event::HOLD_REJECTED;
}

}  // namespace

struct KafkaPublisher::Impl {
  Impl(Ledger& ledger_in, KafkaPublisherOptions options_in)
      : ledger(ledger_in), options(std::move(options_in)) {}

  Result<size_t> PublishDeadLetters() {
    auto letters = ledger.DeadLetters(options.batch_events_max);
    if (!letters.ok()) return letters.status();
    if (letters->empty()) return size_t{0};
    std::vector<uint64_t> ids;
    for (const DeadLetter& letter : *letters) {
      kafka_internal::Settings headers = letter.headers;
      headers.emplace_back("tally-error", letter.reason);
      if (auto status =
              producer->Produce(options.dead_letter_topic, letter.key, letter.value, headers);
          !status.ok()) {
        return status;
      }
      ids.push_back(letter.id);
    }
    if (auto status = producer->AwaitAcknowledgements(); !status.ok()) return status;
    if (auto status = ledger.RemoveDeadLetters(ids); !status.ok()) return status;
    return ids.size();
  }

  Ledger& ledger;
  const KafkaPublisherOptions options;
  std::unique_ptr<kafka_internal::Producer> producer;
  EventCodec codec;
};

KafkaPublisher::KafkaPublisher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KafkaPublisher::~KafkaPublisher() = default;

Result<std::unique_ptr<KafkaPublisher>> KafkaPublisher::Create(
    Ledger& ledger, const KafkaPublisherOptions& options) {
  TALLY_CHECK(options.batch_events_max > 0);
  auto producer = kafka_internal::Producer::Create(options.brokers, options.delivery_timeout_ms);
  if (!producer.ok()) return producer.status();
  auto impl = std::make_unique<Impl>(ledger, options);
  impl->producer = std::move(producer).value();
  return std::unique_ptr<KafkaPublisher>(new KafkaPublisher(std::move(impl)));
}

Result<bool> KafkaPublisher::PublishOnce(PublishCounts& counts) {
  Impl& s = *impl_;
  s.producer->Poll();  // serve the error callback
  auto letters = s.PublishDeadLetters();
  if (!letters.ok()) return letters.status();
  counts.dead_letters += *letters;
  auto cursor = s.ledger.Cursor(kChangelogCursor);
  if (!cursor.ok()) return cursor.status();
  counts.published_seq = *cursor;
  const uint64_t head = s.ledger.head_seq();
  if (*cursor >= head) return *letters == s.options.batch_events_max;
  uint64_t last_seq = *cursor;
  uint64_t changelog = 0, outcomes = 0;
  Status failed;
  auto scanned = s.ledger.Scan(*cursor + 1, [&](const LoggedEvent& record) {
    const Event event = record.event.WithLedgerFields(record.seq, record.recorded_at_micros);
    const std::string key = event.reader().getAccount().cStr();
    const bool binary = s.options.binary;
    const std::string value = binary ? s.codec.ToBinary(event) : s.codec.ToJson(event);
    const kafka_internal::Settings headers = {
        {"content-type", binary ? kBinaryContentType : kJsonContentType},
        {"tally-seq", std::to_string(record.seq)},
        {"tally-hash", HashHex(record.hash)}};
    failed = s.producer->Produce(s.options.changelog_topic, key, value, headers);
    if (failed.ok() && IsHoldOutcome(event)) {
      failed = s.producer->Produce(s.options.outcomes_topic, key, value, headers);
      ++outcomes;
    }
    ++changelog;
    last_seq = record.seq;
    return failed.ok() && last_seq - *cursor < s.options.batch_events_max;
  });
  if (!failed.ok()) return failed;
  if (!scanned.ok()) return scanned;
  if (auto status = s.producer->AwaitAcknowledgements(); !status.ok()) return status;
  if (auto status = s.ledger.StoreCursor(kChangelogCursor, last_seq); !status.ok()) return status;
  counts.changelog += changelog;
  counts.outcomes += outcomes;
  counts.published_seq = last_seq;
  return last_seq < s.ledger.head_seq();
}

const KafkaHealth& KafkaPublisher::health() const { return impl_->producer->health(); }

}  // namespace tally
