// The bytes of projection rows: a sequence of length-prefixed fields
// (varint length, then the bytes). Integers are decimal text, so rows read
// the same on every machine and a damaged row is seen, not misread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "events/money.h"
#include "events/status.h"

namespace tally::internal {

class RowBuilder {
 public:
  RowBuilder& Add(std::string_view field);
  RowBuilder& Add(const Int128& value) { return Add(value.str()); }
  RowBuilder& Add(int64_t value) { return Add(std::to_string(value)); }
  RowBuilder& Add(uint64_t value) { return Add(std::to_string(value)); }
  std::string Take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

// Reads the fields of one row in order; the first error sticks and is
// returned by Finish (Corruption naming `what`).
class RowReader {
 public:
  RowReader(std::string_view bytes, std::string what) : rest_(bytes), what_(std::move(what)) {}
  std::string Text();
  Int128 Int();
  int64_t I64();
  uint64_t U64();
  // Ok when every field read and nothing is left over.
  Status Finish() const;

 private:
  std::string_view Next();
  void Fail(const std::string& why);

  std::string_view rest_;
  std::string what_;
  std::string error_;
};

// "seq" bytes of a key, big-endian so rows sort by seq.
std::string SeqKey(uint64_t seq);

}  // namespace tally::internal
