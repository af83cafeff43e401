// Signed checkpoints: an operator's Ed25519 signature over the chain head
// (seq, hash, time), appended to the log as checkpoint_signed. An auditor
// verifies them with the public key alone (docs/audit.md).
//
//   signed message := "tally-checkpoint-v1" seq:u64be hash:32 signed_at:i64be
//   key file       := 64 bytes (libsodium Ed25519 secret key), mode 0600
//   public key     := 32 bytes; key_id = hex of its first 8 bytes
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "events/status.h"
#include "ledger/ledger.h"

namespace tally {

inline constexpr size_t kPublicKeyBytes = 32;
inline constexpr size_t kSecretKeyBytes = 64;
inline constexpr size_t kSignatureBytes = 64;
using PublicKey = std::array<uint8_t, kPublicKeyBytes>;

class CheckpointKey {
 public:
  // Makes a new key pair.
  static CheckpointKey Generate();
  // Reads a secret key file written by Save.
  static Result<CheckpointKey> Load(const std::string& path);
  ~CheckpointKey();  // wipes the secret key
  CheckpointKey(CheckpointKey&& other) noexcept;
  CheckpointKey(const CheckpointKey&) = delete;
  CheckpointKey& operator=(const CheckpointKey&) = delete;
  CheckpointKey& operator=(CheckpointKey&&) = delete;

  // Writes the secret key (mode 0600) and the public key next to it (.pub).
  Status Save(const std::string& path) const;

  const PublicKey& public_key() const { return public_; }
  std::string key_id() const;
  std::array<uint8_t, kSignatureBytes> Sign(uint64_t seq, const Hash& hash,
                                            int64_t signed_at_micros) const;

 private:
  CheckpointKey() = default;
  std::array<uint8_t, kSecretKeyBytes> secret_{};
  PublicKey public_{};
};

Result<PublicKey> LoadPublicKey(const std::string& path);
std::string KeyIdOf(const PublicKey& key);

struct CheckpointReport {
  uint64_t checkpoints = 0;  // verified
  uint64_t last_signed_seq = 0;
  uint64_t first_bad_seq = 0;  // 0: all verified
  Status status;
};

// If `record` is a checkpoint_signed: checks that it covers the event just
// before it (whose chain hash is `previous`) and that `key` signed it.
// Other records are Ok. Corruption names the seq.
Status CheckCheckpointRecord(const LoggedEvent& record, const Hash& previous, const PublicKey& key);

// Checks every checkpoint_signed in `log`: signed by `key`, over the
// chain hash of the event just before it.
CheckpointReport VerifyCheckpoints(const Log& log, const PublicKey& key);

// True when `signature` is `key`'s signature over (seq, hash, signed_at).
bool VerifyCheckpoint(const PublicKey& key, uint64_t seq, const Hash& hash,
                      int64_t signed_at_micros, std::string_view signature);

}  // namespace tally
