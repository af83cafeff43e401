// Big-endian integers in byte strings: keys that sort by number, and the
// fixed-width fields of stored records.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "events/check.h"

namespace tally {

inline void AppendU64(std::string* out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(value >> shift));
}

// REQUIRES: bytes.size() >= 8
inline uint64_t ReadU64(std::string_view bytes) {
  TALLY_CHECK(bytes.size() >= 8);
  uint64_t value = 0;
  for (size_t i = 0; i < 8; ++i) value = value << 8 | static_cast<uint8_t>(bytes[i]);
  return value;
}

inline void AppendU32(std::string* out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(value >> shift));
}

// REQUIRES: bytes.size() >= 4
inline uint32_t ReadU32(std::string_view bytes) {
  TALLY_CHECK(bytes.size() >= 4);
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) value = value << 8 | static_cast<uint8_t>(bytes[i]);
  return value;
}

inline std::string EncodeU64(uint64_t value) {
  std::string out;
  AppendU64(&out, value);
  return out;
}

}  // namespace tally
