// The log's high-water mark file (ledger/internal/high_water.h).
#include "ledger/internal/high_water.h"

#include <rocksdb/file_system.h>
#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "events/big_endian.h"
#include "events/check.h"
#include "ledger/internal/rocks_status.h"

namespace tally::internal {
namespace {

constexpr std::string_view kMagic = "TALLYHW1";
constexpr size_t kCheckBytes = 16;
constexpr size_t kCheckedBytes = 8 + 8 + kHashBytes;
static_assert(kCheckedBytes + kCheckBytes == kHighWaterSlotBytes);
static_assert(kMagic.size() == 8);

std::string EncodeSlot(const HighWater& mark) {
  std::string slot(kMagic);
  AppendU64(&slot, mark.seq);
  slot.append(reinterpret_cast<const char*>(mark.hash.data()), kHashBytes);
  unsigned char check[kCheckBytes];
  crypto_generichash(check, kCheckBytes, reinterpret_cast<const unsigned char*>(slot.data()),
                     slot.size(), nullptr, 0);
  slot.append(reinterpret_cast<const char*>(check), kCheckBytes);
  TALLY_CHECK(slot.size() == kHighWaterSlotBytes);
  return slot;
}

enum class SlotState { kEmpty, kValid, kDamaged };

SlotState DecodeSlot(std::string_view slot, HighWater* mark) {
  TALLY_CHECK(slot.size() == kHighWaterSlotBytes);
  if (std::all_of(slot.begin(), slot.end(), [](char c) { return c == 0; })) {
    return SlotState::kEmpty;
  }
  unsigned char check[kCheckBytes];
  crypto_generichash(check, kCheckBytes, reinterpret_cast<const unsigned char*>(slot.data()),
                     kCheckedBytes, nullptr, 0);
  if (!slot.starts_with(kMagic) ||
      std::memcmp(check, slot.data() + kCheckedBytes, kCheckBytes) != 0) {
    return SlotState::kDamaged;
  }
  mark->seq = ReadU64(slot.substr(8, 8));
  std::memcpy(mark->hash.data(), slot.data() + 16, kHashBytes);
  return SlotState::kValid;
}

// Decodes both slots: the larger valid mark and the slot that holds it.
Result<std::pair<std::optional<HighWater>, int>> DecodeFile(std::string_view bytes,
                                                            const std::string& path) {
  if (bytes.size() != kHighWaterFileBytes) {
    return Status::Corruption(path + " has " + std::to_string(bytes.size()) + " bytes, not " +
                              std::to_string(kHighWaterFileBytes) +
                              ": the log's high-water mark is damaged; restore it from a backup");
  }
  std::optional<HighWater> best;
  int best_slot = 0;
  int damaged = 0;
  for (int slot = 0; slot < 2; ++slot) {
    HighWater mark;
    switch (DecodeSlot(bytes.substr(slot * kHighWaterSlotBytes, kHighWaterSlotBytes), &mark)) {
      case SlotState::kEmpty: break;
      case SlotState::kDamaged: ++damaged; break;
      case SlotState::kValid:
        if (!best || mark.seq > best->seq) {
          best = mark;
          best_slot = slot;
        }
        break;
    }
  }
  if (!best) {
    if (damaged == 0) return std::make_pair(best, 1);  // created, never written
    return Status::Corruption(path +
                              ": both slots of the log's high-water mark are damaged; restore it "
                              "from a backup");
  }
  return std::make_pair(best, best_slot);
}

Result<std::string> ReadFile(rocksdb::FileSystem* fs, const std::string& path) {
  std::string bytes;
  auto status = rocksdb::ReadFileToString(fs, path, &bytes);
  if (status.IsNotFound() || status.IsPathNotFound()) return Status::NotFound("no file at " + path);
  if (!status.ok()) return FromRocks(status, "reading " + path);
  return bytes;
}

// Writes a new mark file holding `current` in slot 0, synced, with its directory.
Status CreateFile(rocksdb::FileSystem* fs, const std::string& data_dir, const std::string& path,
                  const HighWater& current) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOOptions io;
  auto status = fs->NewWritableFile(path, rocksdb::FileOptions(), &file, nullptr);
  std::string bytes = EncodeSlot(current) + std::string(kHighWaterSlotBytes, '\0');
  if (status.ok()) status = file->Append(bytes, io, nullptr);
  if (status.ok()) status = file->Sync(io, nullptr);
  if (file) {
    auto closed = file->Close(io, nullptr);
    if (status.ok()) status = closed;
  }
  std::unique_ptr<rocksdb::FSDirectory> dir;
  if (status.ok()) status = fs->NewDirectory(data_dir, io, &dir, nullptr);
  if (status.ok()) status = dir->Fsync(io, nullptr);
  if (!status.ok()) {
    (void)fs->DeleteFile(path, io, nullptr);  // a partial file would read as damaged
    return FromRocks(status, "creating the log's high-water mark " + path);
  }
  return Status::Ok();
}

}  // namespace

std::string HighWaterPath(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "high-water").string();
}

Result<std::optional<HighWater>> ReadHighWater(rocksdb::FileSystem* fs,
                                               const std::string& data_dir) {
  const std::string path = HighWaterPath(data_dir);
  auto bytes = ReadFile(fs, path);
  if (!bytes.ok() && bytes.status().code() == StatusCode::kNotFound) {
    return std::optional<HighWater>();
  }
  if (!bytes.ok()) return bytes.status();
  auto decoded = DecodeFile(*bytes, path);
  if (!decoded.ok()) return decoded.status();
  return decoded->first;
}

Status CheckHighWater(const HighWater& mark, uint64_t head_seq,
                      const std::optional<Hash>& hash_at_mark, const std::string& data_dir) {
  const std::string where = "the log in " + data_dir;
  if (mark.seq > head_seq) {
    return Status::Corruption(
        where + " ends at seq " + std::to_string(head_seq) + " but its high-water mark (" +
        HighWaterPath(data_dir) + ") has seen seq " + std::to_string(mark.seq) + ": seqs " +
        std::to_string(head_seq + 1) + ".." + std::to_string(mark.seq) +
        " were acknowledged and then lost (a damaged or truncated write-ahead log, or a log "
        "restored from an older backup). The ledger will not open for writing, so that those "
        "seqs are not given to new events. Restore the log from a backup that holds them; do not "
        "run `tally rebuild`: the projections may be the last record of the lost events "
        "(docs/ledger.md, \"Lost history\")");
  }
  if (hash_at_mark && *hash_at_mark != mark.hash) {
    return Status::Corruption(where + " at seq " + std::to_string(mark.seq) +
                              " differs from the event acknowledged " + "there (chain hash " +
                              HashHex(*hash_at_mark) + ", high-water mark " + HashHex(mark.hash) +
                              "): this is another log, or a log restored from another ledger's "
                              "backup (docs/ledger.md, \"Lost history\")");
  }
  return Status::Ok();
}

HighWaterFile::HighWaterFile(std::unique_ptr<rocksdb::FSRandomRWFile> file, std::string path,
                             int next_slot, uint64_t seq)
    : file_(std::move(file)), path_(std::move(path)), next_slot_(next_slot), seq_(seq) {}

HighWaterFile::~HighWaterFile() { (void)file_->Close(rocksdb::IOOptions(), nullptr); }

Result<std::unique_ptr<HighWaterFile>> HighWaterFile::Open(rocksdb::FileSystem* fs,
                                                           const std::string& data_dir,
                                                           const HighWater& current) {
  const std::string path = HighWaterPath(data_dir);
  auto bytes = ReadFile(fs, path);
  if (!bytes.ok() && bytes.status().code() == StatusCode::kNotFound) {
    if (auto created = CreateFile(fs, data_dir, path, current); !created.ok()) return created;
    bytes = EncodeSlot(current) + std::string(kHighWaterSlotBytes, '\0');
  }
  if (!bytes.ok()) return bytes.status();
  auto decoded = DecodeFile(*bytes, path);
  if (!decoded.ok()) return decoded.status();
  std::unique_ptr<rocksdb::FSRandomRWFile> file;
  auto status = fs->NewRandomRWFile(path, rocksdb::FileOptions(), &file, nullptr);
  if (!status.ok()) return FromRocks(status, "opening the log's high-water mark " + path);
  const uint64_t seq = decoded->first ? decoded->first->seq : 0;
  auto opened = std::unique_ptr<HighWaterFile>(
      new HighWaterFile(std::move(file), path, 1 - decoded->second, seq));
  if (current.seq > seq) {  // a log kept before marks were, or a mark not yet written
    if (auto marked = opened->Write(current); !marked.ok()) return marked;
  }
  return opened;
}

Status HighWaterFile::Write(const HighWater& mark) {
  TALLY_CHECK(mark.seq >= seq_);
  rocksdb::IOOptions io;
  const std::string slot = EncodeSlot(mark);
  auto status =
      file_->Write(static_cast<uint64_t>(next_slot_) * kHighWaterSlotBytes, slot, io, nullptr);
  if (status.ok()) status = file_->Sync(io, nullptr);
  if (!status.ok()) return FromRocks(status, "writing the log's high-water mark " + path_);
  next_slot_ = 1 - next_slot_;
  seq_ = mark.seq;
  return Status::Ok();
}

}  // namespace tally::internal
