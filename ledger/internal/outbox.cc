#include "ledger/internal/outbox.h"

#include <memory>

#include "ledger/internal/bytes.h"
#include "ledger/internal/rocks_status.h"

namespace tally::internal {
namespace {

constexpr size_t kIdBytes = 8;
constexpr size_t kHeadersMax = 64;

std::string CursorKey(const std::string& name) { return std::string(1, kCursorPrefix) + name; }

rocksdb::WriteOptions Synced() {
  rocksdb::WriteOptions options;
  options.sync = true;
  return options;
}

Result<DeadLetter> DecodeDeadLetter(uint64_t id, std::string_view bytes) {
  ByteReader reader(bytes);
  DeadLetter letter;
  letter.id = id;
  letter.reason = reader.Bytes();
  letter.key = reader.Bytes();
  letter.value = reader.Bytes();
  uint64_t headers = reader.Uint(2);
  if (headers > kHeadersMax) reader.Fail();
  for (uint64_t i = 0; reader.ok() && i < headers; ++i) {
    std::string name = reader.Bytes();
    letter.headers.emplace_back(std::move(name), reader.Bytes());
  }
  if (!reader.ok() || !reader.done()) {
    return Status::Corruption("dead letter " + std::to_string(id) + " is damaged");
  }
  return letter;
}

}  // namespace

std::string DeadLetterKey(uint64_t id) {
  std::string key(1, kDeadLetterPrefix);
  AppendU64(&key, id);
  return key;
}

std::string EncodeDeadLetter(const DeadLetter& letter) {
  TALLY_CHECK(letter.headers.size() <= kHeadersMax);
  std::string out;
  AppendBytes(&out, letter.reason);
  AppendBytes(&out, letter.key);
  AppendBytes(&out, letter.value);
  AppendU16(&out, static_cast<uint16_t>(letter.headers.size()));
  for (const auto& [name, value] : letter.headers) {
    AppendBytes(&out, name);
    AppendBytes(&out, value);
  }
  return out;
}

Result<uint64_t> LastDeadLetterId(rocksdb::DB* db) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  it->SeekForPrev(DeadLetterKey(UINT64_MAX));
  if (!it->status().ok()) return FromRocks(it->status(), "reading dead letters");
  if (!it->Valid() || it->key()[0] != kDeadLetterPrefix) return uint64_t{0};
  if (it->key().size() != 1 + kIdBytes) return Status::Corruption("a dead-letter key is damaged");
  return ReadU64(std::string_view(it->key().data() + 1, kIdBytes));
}

Result<std::vector<DeadLetter>> ReadDeadLetters(rocksdb::DB* db, size_t max) {
  std::vector<DeadLetter> letters;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(std::string(1, kDeadLetterPrefix));
       it->Valid() && it->key()[0] == kDeadLetterPrefix && letters.size() < max; it->Next()) {
    if (it->key().size() != 1 + kIdBytes) return Status::Corruption("a dead-letter key is damaged");
    uint64_t id = ReadU64(std::string_view(it->key().data() + 1, kIdBytes));
    auto letter = DecodeDeadLetter(id, it->value().ToStringView());
    if (!letter.ok()) return letter.status();
    letters.push_back(std::move(letter).value());
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading dead letters");
  return letters;
}

Status DeleteDeadLetters(rocksdb::DB* db, std::span<const uint64_t> ids) {
  rocksdb::WriteBatch batch;
  for (uint64_t id : ids) TALLY_CHECK(batch.Delete(DeadLetterKey(id)).ok());
  return FromRocks(db->Write(Synced(), &batch), "removing dead letters");
}

Result<uint64_t> ReadCursor(rocksdb::DB* db, const std::string& name) {
  std::string value;
  auto status = db->Get(rocksdb::ReadOptions(), CursorKey(name), &value);
  if (status.IsNotFound()) return uint64_t{0};
  if (!status.ok()) return FromRocks(status, "reading cursor " + name);
  if (value.size() != kIdBytes) {
    return Status::Corruption("cursor " + name + " has a bad size");
  }
  return ReadU64(value);
}

Status WriteCursor(rocksdb::DB* db, const std::string& name, uint64_t seq) {
  if (name.empty()) return Status::InvalidArgument("a cursor needs a name");
  return FromRocks(db->Put(Synced(), CursorKey(name), EncodeU64(seq)), "storing cursor " + name);
}

}  // namespace tally::internal
