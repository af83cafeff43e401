// What the log's store keeps for publishers (docs/formats/log.md):
//
//   'D' id:u64be      a dead letter: reason, key, value, headers
//   'C' name          cursor: seq:u64be
//
// Dead letters are written in the same batch as the append that made them;
// publishers delete them once delivered. Cursors are written on their own.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "events/status.h"
#include "ledger/ledger.h"

namespace tally::internal {

inline constexpr char kDeadLetterPrefix = 'D';
inline constexpr char kCursorPrefix = 'C';

std::string DeadLetterKey(uint64_t id);
std::string EncodeDeadLetter(const DeadLetter& letter);

// The highest dead-letter id stored; 0 if none.
Result<uint64_t> LastDeadLetterId(rocksdb::DB* db);
Result<std::vector<DeadLetter>> ReadDeadLetters(rocksdb::DB* db, size_t max);
Status DeleteDeadLetters(rocksdb::DB* db, std::span<const uint64_t> ids);

Result<uint64_t> ReadCursor(rocksdb::DB* db, const std::string& name);
Status WriteCursor(rocksdb::DB* db, const std::string& name, uint64_t seq);

}  // namespace tally::internal
