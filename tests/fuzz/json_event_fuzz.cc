// libFuzzer target: one JSON event, as a producer or a log reader sends it.
// Property: whatever parses prints as JSON that parses back to the same
// canonical bytes; nothing crashes, hangs or leaks.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "events/check.h"
#include "events/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const tally::EventCodec codec;
  if (size == 0) return 0;
  // The first byte picks the source; the rest is the text.
  auto source = data[0] % 2 == 0 ? tally::EventSource::kProducer : tally::EventSource::kLog;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto event = codec.ParseJson(text, source);
  if (!event.ok()) return 0;
  auto again = codec.ParseJson(codec.ToJson(*event), source);
  TALLY_CHECK(again.ok());
  TALLY_CHECK(again->bytes() == event->bytes());
  auto binary = codec.ParseBinary(codec.ToBinary(*event));
  if (source == tally::EventSource::kProducer) {
    TALLY_CHECK(binary.ok());
    TALLY_CHECK(binary->bytes() == event->bytes());
  }
  return 0;
}
