// Fixed-layout binary fields shared by the log record and the log base.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "events/big_endian.h"
#include "events/money.h"

namespace tally::internal {

inline void AppendU16(std::string* out, uint16_t value) {
  out->push_back(static_cast<char>(value >> 8));
  out->push_back(static_cast<char>(value));
}

// sign:u8 (0 or 1) magnitude_hi:u64be magnitude_lo:u64be
inline void AppendAmount(std::string* out, const Int128& amount) {
  Int128 magnitude = amount < 0 ? Int128(-amount) : amount;
  out->push_back(amount < 0 ? 1 : 0);
  AppendU64(out, static_cast<uint64_t>(magnitude >> 64));
  AppendU64(out, static_cast<uint64_t>(magnitude & Int128(UINT64_MAX)));
}

// length:u32be bytes
inline void AppendBytes(std::string* out, std::string_view bytes) {
  AppendU32(out, static_cast<uint32_t>(bytes.size()));
  out->append(bytes);
}

// Reads fixed-size fields; any overrun marks the input bad.
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}
  bool ok() const { return ok_; }
  bool done() const { return pos_ == bytes_.size(); }
  void Fail() { ok_ = false; }
  std::string_view Take(size_t n) {
    if (!ok_ || bytes_.size() - pos_ < n) {
      ok_ = false;
      return {};
    }
    pos_ += n;
    return bytes_.substr(pos_ - n, n);
  }
  uint64_t Uint(size_t n) {
    uint64_t value = 0;
    for (char c : Take(n)) value = value << 8 | static_cast<uint8_t>(c);
    return value;
  }
  Int128 Amount() {
    uint64_t sign = Uint(1);
    Int128 magnitude = Int128(Uint(8)) << 64;
    magnitude |= Int128(Uint(8));
    if (sign > 1) ok_ = false;
    return sign == 1 ? Int128(-magnitude) : magnitude;
  }
  std::string Bytes() { return std::string(Take(Uint(4))); }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace tally::internal
