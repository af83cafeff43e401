// The key store: one data key per subject and purpose, for sealing personal
// fields (crypto-shredding, docs/privacy.md once written).
//
// Data keys are made with libsodium and stored only wrapped (XChaCha20-
// Poly1305) by a master key the operator supplies, in a RocksDB of their own
// (`DIR/keys`), apart from the log, so that they can be backed up and
// compacted separately. Destroying a key deletes it, records that the pair
// is shredded (it is never made again), and forces the wrapped bytes out of
// every file of the store: flush, full compaction, and the write-ahead log
// files RocksDB then drops.
//
// Thread-safety: one KeyStore per process; its methods are not concurrent.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "events/status.h"

namespace rocksdb {
class Env;
}

namespace tally {

inline constexpr size_t kMasterKeyBytes = 32;
inline constexpr size_t kDataKeyBytes = 32;

enum class KeyPurpose { kProfile, kBilling };
const char* KeyPurposeName(KeyPurpose purpose);

// The operator's key-encryption key: exactly 32 random bytes in a file.
struct MasterKey {
  std::array<uint8_t, kMasterKeyBytes> bytes{};
  // InvalidArgument naming the file and what is wrong (missing, wrong size).
  static Result<MasterKey> LoadFile(const std::string& path);
  // Makes a new random key and writes it to `path`, readable by its owner
  // only; refuses to overwrite a file.
  static Result<MasterKey> Generate(const std::string& path);
};

struct DataKey {
  std::array<uint8_t, kDataKeyBytes> bytes{};
  uint32_t version = 0;  // 1 for the first key of a subject and purpose
};

// Where a subject's key for one purpose stands.
enum class KeyState {
  kAbsent,    // never made
  kLive,      // made, usable
  kShredded,  // destroyed: what it sealed reads as erased, for good
};

class KeyStore {
 public:
  // Opens (or creates) the store in `dir`. A store made with another master
  // key is refused (InvalidArgument: the master key does not match).
  // `env`: the file system to use (tests inject faults); null: the disk.
  static Result<std::unique_ptr<KeyStore>> Open(const std::string& dir, const MasterKey& master,
                                                rocksdb::Env* env = nullptr);
  // Opens an existing store read-only (beside a process that writes it):
  // Find works, the rest fails. NotFound if there is no store in `dir`.
  static Result<std::unique_ptr<KeyStore>> OpenForReading(const std::string& dir,
                                                          const MasterKey& master);
  ~KeyStore();
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  // The live key of (subject, purpose), made on first use. Conflict if the
  // pair was shredded: nothing is sealed for it again.
  Result<DataKey> KeyFor(const std::string& subject, KeyPurpose purpose);
  // The key if live; nullopt with `state` saying why not.
  Result<std::optional<DataKey>> Find(const std::string& subject, KeyPurpose purpose,
                                      KeyState* state = nullptr) const;
  // Destroys the key and forces its bytes out of the store's files. Done
  // again it is a no-op; a pair that never had a key is recorded shredded.
  Status Destroy(const std::string& subject, KeyPurpose purpose);
  // True when no key was ever made or shredded in this store.
  Result<bool> Empty() const;
  // Re-wraps every data key under `next` in one write; afterwards only
  // `next` opens the store.
  Status RotateMaster(const MasterKey& next);

 private:
  class Impl;
  explicit KeyStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A personal field sealed with a data key: the associated data binds it to
// the event id and the field name, so a sealed value cannot be moved to
// another event or field. Sealing is deterministic (a synthetic nonce), so
// an event sent twice is stored the same.
struct Sealed {
  std::array<uint8_t, 24> nonce{};
  std::string ciphertext;  // plaintext + 16-byte tag
};

Sealed SealField(const DataKey& key, const std::string& event_id, const std::string& field,
                 const std::string& plaintext);
// InvalidArgument when the key, event id or field do not match, or the bytes
// were altered.
Result<std::string> OpenField(const DataKey& key, const std::string& event_id,
                              const std::string& field, const Sealed& sealed);

}  // namespace tally
