#include "ledger/export.h"

#include <capnp/compat/json.h>
#include <capnp/message.h>
#include <sodium.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "ledger/internal/json_file.h"
#include "ledger/internal/keys.h"
#include "ledger/internal/read_file.h"
#include "ledger/internal/record.h"
#include "ledger/internal/replay.h"

namespace tally {
namespace {

// A seq as a JSON number: whole and at most 2^53. Anything else becomes a
// seq no export holds, so the manifest then fails to match its records
// (a cast of 4.7e41 to uint64_t was undefined behaviour).
uint64_t SeqOf(double number) {
  constexpr double kExactMax = 9007199254740992.0;  // 2^53
  if (!(number >= 0 && number <= kExactMax) || number != std::floor(number)) return UINT64_MAX;
  return static_cast<uint64_t>(number);
}

constexpr const char* kFormat = "tally-export-1";
constexpr size_t kFrameHeaderBytes = 8 + 4;  // seq:u64be length:u32be

std::string Hex(const unsigned char* bytes, size_t size) {
  std::string hex(size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), bytes, size);
  hex.pop_back();
  return hex;
}

struct Manifest {
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  std::string head_hash;
  std::string records_digest;
};

Status WriteManifest(const std::string& path, const Manifest& m, uint64_t events) {
  std::ofstream out(path, std::ios::trunc);
  out << "{\"format\":\"" << kFormat << "\",\"first_seq\":" << m.first_seq
      << ",\"last_seq\":" << m.last_seq << ",\"events\":" << events << ",\"head_hash\":\""
      << m.head_hash << "\",\"records_blake2b\":\"" << m.records_digest << "\"}\n";
  return out ? Status::Ok() : Status::IoError("cannot write " + path);
}

Result<Manifest> ReadManifest(const std::string& path) {
  Manifest m;
  std::string format;
  auto status =
      internal::ReadJsonObject(path, internal::JsonFileKind::kWrittenByTally,
                               [&](std::string_view name, capnp::JsonValue::Reader value) {
                                 if (name == "format" && value.isString())
                                   format = value.getString().cStr();
                                 if (name == "first_seq" && value.isNumber())
                                   m.first_seq = SeqOf(value.getNumber());
                                 if (name == "last_seq" && value.isNumber())
                                   m.last_seq = SeqOf(value.getNumber());
                                 if (name == "head_hash" && value.isString())
                                   m.head_hash = value.getString().cStr();
                                 if (name == "records_blake2b" && value.isString())
                                   m.records_digest = value.getString().cStr();
                                 return Status::Ok();
                               });
  if (!status.ok()) return status;
  if (format != kFormat)
    return Status::Corruption("manifest format is not " + std::string(kFormat));
  return m;
}

}  // namespace

Result<uint64_t> ExportLog(const Log& log, const std::string& dir) {
  TALLY_CHECK(sodium_init() >= 0);
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return Status::IoError("creating " + dir + ": " + error.message());
  if (std::filesystem::exists(dir + "/manifest.json")) {
    return Status::InvalidArgument(dir + " already holds an export");
  }
  std::ofstream out(dir + "/records", std::ios::binary | std::ios::trunc);
  if (!out) return Status::IoError("cannot write " + dir + "/records");
  crypto_generichash_state digest;
  crypto_generichash_init(&digest, nullptr, 0, kHashBytes);
  Manifest manifest;
  uint64_t events = 0;
  Hash head{};
  auto status = log.Scan(1, [&](const LoggedEvent& record) {
    std::string frame;
    internal::AppendU64(&frame, record.seq);
    std::string bytes = internal::EncodeRecord(record);
    internal::AppendU32(&frame, static_cast<uint32_t>(bytes.size()));
    frame += bytes;
    out.write(frame.data(), static_cast<std::streamsize>(frame.size()));
    crypto_generichash_update(&digest, reinterpret_cast<const unsigned char*>(frame.data()),
                              frame.size());
    if (events++ == 0) manifest.first_seq = record.seq;
    manifest.last_seq = record.seq;
    head = record.hash;
    return true;
  });
  if (!status.ok()) return status;
  out.flush();
  if (!out) return Status::IoError("writing " + dir + "/records");
  unsigned char sum[kHashBytes];
  crypto_generichash_final(&digest, sum, sizeof(sum));
  manifest.records_digest = Hex(sum, sizeof(sum));
  manifest.head_hash = HashHex(head);
  if (auto written = WriteManifest(dir + "/manifest.json", manifest, events); !written.ok()) {
    return written;
  }
  return events;
}

ExportReport VerifyExport(const std::string& dir, const PublicKey* key) {
  TALLY_CHECK(sodium_init() >= 0);
  ExportReport report;
  auto manifest = ReadManifest(dir + "/manifest.json");
  if (!manifest.ok()) {
    report.status = manifest.status();
    return report;
  }
  auto read = internal::ReadWholeFile(dir + "/records");
  if (!read.ok()) {
    report.status = read.status();
    return report;
  }
  const std::string& file = *read;
  unsigned char sum[kHashBytes];
  crypto_generichash(sum, sizeof(sum), reinterpret_cast<const unsigned char*>(file.data()),
                     file.size(), nullptr, 0);
  // Checked last: a damaged record is better named by its seq.
  const bool digest_matches = Hex(sum, sizeof(sum)) == manifest->records_digest;
  internal::State state;
  internal::ChainHead head{manifest->first_seq == 0 ? 0 : manifest->first_seq - 1, {}};
  size_t pos = 0;
  while (report.status.ok() && pos < file.size()) {
    if (file.size() - pos < kFrameHeaderBytes) {
      report.status = Status::Corruption("records end in a partial frame");
      break;
    }
    uint64_t seq = internal::ReadU64(std::string_view(file).substr(pos));
    uint64_t length = internal::ReadU32(std::string_view(file).substr(pos + 8));
    pos += kFrameHeaderBytes;
    if (file.size() - pos < length) {
      report.status = Status::Corruption("seq " + std::to_string(seq) + ": truncated record");
      break;
    }
    auto record = internal::DecodeRecord(seq, std::string_view(file).substr(pos, length));
    pos += length;
    Hash previous = head.hash;
    report.status = record.ok() ? internal::ReplayRecord(*record, head, state) : record.status();
    if (report.status.ok() && key != nullptr) {
      report.status = CheckCheckpointRecord(*record, previous, *key);
      report.checkpoints += record->event.reader().which() == schema::Event::CHECKPOINT_SIGNED;
    }
    if (!report.status.ok()) report.first_bad_seq = seq;
    if (report.status.ok()) ++report.events_checked;
  }
  report.head_hash = head.hash;
  if (report.status.ok() &&
      (head.seq != manifest->last_seq || HashHex(head.hash) != manifest->head_hash)) {
    report.status = Status::Corruption("the records end at seq " + std::to_string(head.seq) +
                                       ", not at the manifest's head");
  }
  if (report.status.ok() && !digest_matches) {
    report.status = Status::Corruption("records do not match the manifest's digest");
  }
  return report;
}

}  // namespace tally
