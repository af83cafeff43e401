// The corpus of old events (tests/compat/v1): how it is read and folded,
// shared by the writer (compat_write) and the test (compat_test).
//
//   v1/events.ndjson      the producer events appended, in order
//   v1/export/            the log they made, as `tally audit export` writes it
//   v1/projections.txt    per projection: name, rows, BLAKE2b-256 of its rows
//
// A later version must decode every record of v1/export to the same
// canonical bytes, replay it to the same journal entries and hash chain, and
// fold it into the same projection rows, byte for byte.
#pragma once

#include <sodium.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "events/big_endian.h"
#include "events/check.h"
#include "ledger/internal/record.h"
#include "ledger/internal/read_file.h"
#include "projections/projection.h"

namespace tally::compat {

// Rows of one projection in memory.
class MapRows final : public Rows {
 public:
  Result<std::optional<std::string>> Get(std::string_view key) override {
    auto it = rows_.find(std::string(key));
    if (it == rows_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  void Put(std::string_view key, std::string_view value) override {
    rows_[std::string(key)] = std::string(value);
  }
  void Delete(std::string_view key) override { rows_.erase(std::string(key)); }
  const std::map<std::string, std::string>& rows() const { return rows_; }

 private:
  std::map<std::string, std::string> rows_;
};

// A corpus file, whole; a missing or unreadable one stops the test program.
inline std::string ReadFile(const std::string& path) {
  auto bytes = internal::ReadWholeFile(path);
  TALLY_CHECK(bytes.ok());
  return *std::move(bytes);
}

// The records of an export's `records` file (docs/formats/export.md).
inline Result<std::vector<LoggedEvent>> ReadRecords(const std::string& path) {
  std::string file = ReadFile(path);
  std::vector<LoggedEvent> records;
  for (size_t pos = 0; pos < file.size();) {
    if (file.size() - pos < 12) return Status::Corruption("partial frame");
    uint64_t seq = ReadU64(std::string_view(file).substr(pos));
    uint32_t length = ReadU32(std::string_view(file).substr(pos + 8));
    pos += 12;
    if (file.size() - pos < length) return Status::Corruption("truncated record");
    auto record = internal::DecodeRecord(seq, std::string_view(file).substr(pos, length));
    if (!record.ok()) return record.status();
    records.push_back(*record);
    pos += length;
  }
  return records;
}

// One line per projection: "name rows blake2b-hex" of its rows after
// folding `records` in order.
inline Result<std::string> ProjectionDigests(const std::vector<LoggedEvent>& records) {
  std::string out;
  for (const Projection* projection : AllProjections()) {
    MapRows rows;
    for (const LoggedEvent& record : records) {
      if (!projection->Consumes(record)) continue;
      if (auto status = projection->Apply(record, rows); !status.ok()) return status;
    }
    crypto_generichash_state state;
    crypto_generichash_init(&state, nullptr, 0, 32);
    for (const auto& [key, value] : rows.rows()) {
      for (const std::string* part : {&key, &value}) {
        std::string framed;
        AppendU32(&framed, static_cast<uint32_t>(part->size()));
        framed += *part;
        crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(framed.data()),
                                  framed.size());
      }
    }
    unsigned char sum[32];
    crypto_generichash_final(&state, sum, sizeof sum);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, sum, sizeof sum);
    out += std::string(projection->name()) + " " + std::to_string(rows.rows().size()) + " " + hex +
           "\n";
  }
  return out;
}

}  // namespace tally::compat
