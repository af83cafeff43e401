#include "projections/internal/row_codec.h"

#include <limits>

#include "events/big_endian.h"

namespace tally::internal {

RowBuilder& RowBuilder::Add(std::string_view field) {
  uint64_t size = field.size();
  while (size >= 0x80) {
    bytes_.push_back(static_cast<char>((size & 0x7f) | 0x80));
    size >>= 7;
  }
  bytes_.push_back(static_cast<char>(size));
  bytes_.append(field);
  return *this;
}

std::string_view RowReader::Next() {
  if (!error_.empty()) return {};
  uint64_t size = 0;
  for (int shift = 0;; shift += 7) {
    if (rest_.empty() || shift > 28) {
      Fail("truncated field");
      return {};
    }
    auto byte = static_cast<uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    size |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
  }
  if (size > rest_.size()) {
    Fail("field longer than the row");
    return {};
  }
  std::string_view field = rest_.substr(0, size);
  rest_.remove_prefix(size);
  return field;
}

std::string RowReader::Text() { return std::string(Next()); }

Int128 RowReader::Int() {
  std::string_view digits = Next();
  bool negative = digits.starts_with('-');
  if (negative) digits.remove_prefix(1);
  if (digits.empty() || digits.size() > 38) {
    Fail("bad integer");
    return 0;
  }
  Int128 value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') {
      Fail("bad integer");
      return 0;
    }
    value = value * 10 + (c - '0');
  }
  return negative ? Int128(-value) : value;
}

int64_t RowReader::I64() {
  Int128 value = Int();
  if (value > std::numeric_limits<int64_t>::max() || value < std::numeric_limits<int64_t>::min()) {
    Fail("integer out of range");
    return 0;
  }
  return static_cast<int64_t>(value);
}

uint64_t RowReader::U64() {
  Int128 value = Int();
  if (value < 0 || value > std::numeric_limits<uint64_t>::max()) {
    Fail("integer out of range");
    return 0;
  }
  return static_cast<uint64_t>(value);
}

void RowReader::Fail(const std::string& why) {
  if (error_.empty()) error_ = why;
}

Status RowReader::Finish() const {
  if (error_.empty() && rest_.empty()) return Status::Ok();
  return Status::Corruption(what_ + ": damaged row (" +
                            (error_.empty() ? std::string("bytes left over") : error_) +
                            "); run `tally rebuild`");
}

std::string SeqKey(uint64_t seq) { return EncodeU64(seq); }

}  // namespace tally::internal
