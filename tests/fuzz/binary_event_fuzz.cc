// libFuzzer target: one Cap'n Proto event message, as a producer sends it on
// Kafka. Property: what parses round-trips through JSON and binary to the
// same canonical bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "events/check.h"
#include "events/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const tally::EventCodec codec;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto event = codec.ParseBinary(bytes);
  if (!event.ok()) return 0;
  auto from_json = codec.ParseJson(codec.ToJson(*event));
  TALLY_CHECK(from_json.ok());
  TALLY_CHECK(from_json->bytes() == event->bytes());
  auto again = codec.ParseBinary(codec.ToBinary(*event));
  TALLY_CHECK(again.ok());
  TALLY_CHECK(again->bytes() == event->bytes());
  return 0;
}
