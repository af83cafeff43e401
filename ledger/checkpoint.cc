#include "ledger/checkpoint.h"

#include <sodium.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "ledger/internal/keys.h"
#include "ledger/internal/read_file.h"

namespace tally {
namespace {

constexpr std::string_view kDomain = "tally-checkpoint-v1";

std::string Message(uint64_t seq, const Hash& hash, int64_t signed_at_micros) {
  std::string message(kDomain);
  internal::AppendU64(&message, seq);
  message.append(reinterpret_cast<const char*>(hash.data()), hash.size());
  internal::AppendU64(&message, static_cast<uint64_t>(signed_at_micros));
  return message;
}

Result<std::string> ReadFile(const std::string& path, size_t size) {
  auto read = internal::ReadWholeFile(path);
  if (!read.ok()) return read.status();
  const std::string& bytes = *read;
  if (bytes.size() != size) {
    return Status::InvalidArgument(path + " is " + std::to_string(bytes.size()) + " bytes, not " +
                                   std::to_string(size));
  }
  return bytes;
}

}  // namespace

CheckpointKey CheckpointKey::Generate() {
  TALLY_CHECK(sodium_init() >= 0);
  CheckpointKey key;
  crypto_sign_keypair(key.public_.data(), key.secret_.data());
  return key;
}

Result<CheckpointKey> CheckpointKey::Load(const std::string& path) {
  TALLY_CHECK(sodium_init() >= 0);
  auto bytes = ReadFile(path, kSecretKeyBytes);
  if (!bytes.ok()) return bytes.status();
  CheckpointKey key;
  std::copy(bytes->begin(), bytes->end(), key.secret_.begin());
  sodium_memzero(bytes.value().data(), bytes->size());
  crypto_sign_ed25519_sk_to_pk(key.public_.data(), key.secret_.data());
  return key;
}

CheckpointKey::~CheckpointKey() { sodium_memzero(secret_.data(), secret_.size()); }

CheckpointKey::CheckpointKey(CheckpointKey&& other) noexcept
    : secret_(other.secret_), public_(other.public_) {
  sodium_memzero(other.secret_.data(), other.secret_.size());
}

Status CheckpointKey::Save(const std::string& path) const {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) return Status::IoError("cannot write " + path);
    out.write(reinterpret_cast<const char*>(secret_.data()), secret_.size());
    if (!out) return Status::IoError("cannot write " + path);
  }
  if (chmod(path.c_str(), 0600) != 0) return Status::IoError("cannot restrict " + path);
  std::ofstream pub(path + ".pub", std::ios::binary | std::ios::trunc);
  pub.write(reinterpret_cast<const char*>(public_.data()), public_.size());
  return pub ? Status::Ok() : Status::IoError("cannot write " + path + ".pub");
}

std::string CheckpointKey::key_id() const { return KeyIdOf(public_); }

std::array<uint8_t, kSignatureBytes> CheckpointKey::Sign(uint64_t seq, const Hash& hash,
                                                         int64_t signed_at_micros) const {
  std::string message = Message(seq, hash, signed_at_micros);
  std::array<uint8_t, kSignatureBytes> signature;
  crypto_sign_detached(signature.data(), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       secret_.data());
  return signature;
}

Result<PublicKey> LoadPublicKey(const std::string& path) {
  auto bytes = ReadFile(path, kPublicKeyBytes);
  if (!bytes.ok()) return bytes.status();
  PublicKey key;
  std::copy(bytes->begin(), bytes->end(), key.begin());
  return key;
}

std::string KeyIdOf(const PublicKey& key) {
  char hex[17];
  sodium_bin2hex(hex, sizeof(hex), key.data(), 8);
  return hex;
}

bool VerifyCheckpoint(const PublicKey& key, uint64_t seq, const Hash& hash,
                      int64_t signed_at_micros, std::string_view signature) {
  if (signature.size() != kSignatureBytes) return false;
  TALLY_CHECK(sodium_init() >= 0);
  std::string message = Message(seq, hash, signed_at_micros);
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), key.data()) == 0;
}

Status CheckCheckpointRecord(const LoggedEvent& record, const Hash& previous,
                             const PublicKey& key) {
  auto reader = record.event.reader();
  if (reader.which() != schema::Event::CHECKPOINT_SIGNED) return Status::Ok();
  auto c = reader.getCheckpointSigned();
  auto hash = c.getHash();
  auto signature = c.getSignature();
  bool covers_head = c.getCheckpointSeq() == record.seq - 1 && hash.size() == kHashBytes &&
                     std::equal(hash.begin(), hash.end(), previous.begin());
  if (!covers_head) {
    return Status::Corruption("seq " + std::to_string(record.seq) +
                              ": checkpoint does not match the chain");
  }
  if (!VerifyCheckpoint(key, c.getCheckpointSeq(), previous, c.getSignedAt().getUnixMicros(),
                        {reinterpret_cast<const char*>(signature.begin()), signature.size()})) {
    return Status::Corruption("seq " + std::to_string(record.seq) +
                              ": checkpoint signature does not verify with key " + KeyIdOf(key));
  }
  return Status::Ok();
}

CheckpointReport VerifyCheckpoints(const Log& log, const PublicKey& key) {
  CheckpointReport report;
  Hash previous{};
  auto status = log.Scan(1, [&](const LoggedEvent& record) {
    report.status = CheckCheckpointRecord(record, previous, key);
    if (!report.status.ok()) {
      report.first_bad_seq = record.seq;
      return false;
    }
    if (record.event.reader().which() == schema::Event::CHECKPOINT_SIGNED) {
      ++report.checkpoints;
      report.last_signed_seq = record.seq - 1;
    }
    previous = record.hash;
    return true;
  });
  if (report.status.ok()) report.status = status;
  return report;
}

}  // namespace tally
