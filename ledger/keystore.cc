// The key store on RocksDB. Key layout, version 1:
//
//   key                                   value
//   0x00 "format"                         u64be: 1
//   0x00 "check"                          nonce:24 AEAD(master, kCheckText): proves the master key
//   'K' subject 0x00 purpose:1            version:u32be nonce:24 AEAD(master, data key):48
//   'S' subject 0x00 purpose:1            version:u32be of the last key (shredded)
//
// A wrapped key's associated data is "tally-data-key-v1" 0x00 subject 0x00
// purpose version, so a wrapped key cannot be moved to another subject.
#include "ledger/keystore.h"

#include <fcntl.h>
#include <rocksdb/db.h>
#include <rocksdb/file_system.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "events/big_endian.h"
#include "events/check.h"
#include "ledger/internal/info_log.h"
#include "ledger/internal/read_file.h"
#include "ledger/internal/rocks_status.h"

namespace tally {
namespace {

using internal::FromRocks;

constexpr uint64_t kKeyStoreFormat = 1;
constexpr std::string_view kFormatKey{"\0format", 7};
constexpr std::string_view kCheckKey{"\0check", 6};
constexpr std::string_view kCheckText = "tally-master-key-check-v1";
constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr size_t kWrappedBytes = 4 + kNonceBytes + kDataKeyBytes + kTagBytes;
static_assert(kNonceBytes == 24 && kTagBytes == 16);

std::string PairKey(char kind, const std::string& subject, KeyPurpose purpose) {
  std::string key(1, kind);
  key += subject;
  key.push_back('\0');
  key.push_back(static_cast<char>(purpose));
  return key;
}

std::string WrapAd(const std::string& subject, KeyPurpose purpose, uint32_t version) {
  std::string ad = "tally-data-key-v1";
  ad.push_back('\0');
  ad += subject;
  ad.push_back('\0');
  ad.push_back(static_cast<char>(purpose));
  AppendU32(&ad, version);
  return ad;
}

const unsigned char* Bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

// nonce || AEAD(key, plaintext, ad)
std::string Encrypt(const uint8_t* key, std::string_view plaintext, std::string_view ad) {
  std::string out(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, kNonceBytes);
  unsigned long long written = 0;
  TALLY_CHECK(crypto_aead_xchacha20poly1305_ietf_encrypt(
                  nonce + kNonceBytes, &written, Bytes(plaintext), plaintext.size(), Bytes(ad),
                  ad.size(), nullptr, nonce, key) == 0);
  TALLY_CHECK(written == plaintext.size() + kTagBytes);
  return out;
}

// Opens nonce || ciphertext; nullopt if it does not authenticate.
std::optional<std::string> Decrypt(const uint8_t* key, std::string_view sealed,
                                   std::string_view ad) {
  if (sealed.size() < kNonceBytes + kTagBytes) return std::nullopt;
  std::string plaintext(sealed.size() - kNonceBytes - kTagBytes, '\0');
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(plaintext.data()),
                                                 &written, nullptr, Bytes(sealed) + kNonceBytes,
                                                 sealed.size() - kNonceBytes, Bytes(ad), ad.size(),
                                                 Bytes(sealed), key) != 0) {
    return std::nullopt;
  }
  return plaintext;
}

// `read_only` opens leave RocksDB's diagnostic LOG alone.
// `env`: the file system (tests inject faults through it); null: the disk.
rocksdb::Options StoreOptions(const std::string& dir, bool read_only, rocksdb::Env* env) {
  rocksdb::Options options;
  if (env != nullptr) options.env = env;
  options.create_if_missing = true;
  options.paranoid_checks = true;
  // RocksDB's own logger aborts the process on a full disk (internal/info_log.h).
  options.info_log_level = rocksdb::InfoLogLevel::INFO_LEVEL;
  options.info_log = read_only ? internal::NewSilentInfoLog()
                               : internal::NewInfoLog(options.env->GetFileSystem().get(), dir);
  // Obsolete write-ahead logs are deleted, never archived or recycled: a
  // destroyed key must not survive in an old log file.
  options.WAL_ttl_seconds = 0;
  options.WAL_size_limit_MB = 0;
  options.recycle_log_file_num = 0;
  return options;
}

}  // namespace

const char* KeyPurposeName(KeyPurpose purpose) {
  return purpose == KeyPurpose::kProfile ? "profile" : "billing";
}

Result<MasterKey> MasterKey::LoadFile(const std::string& path) {
  auto read = internal::ReadWholeFile(path);
  if (!read.ok()) {
    return Status::InvalidArgument("master key file: " + read.status().message());
  }
  std::string bytes = std::move(read).value();
  if (bytes.size() != kMasterKeyBytes) {
    return Status::InvalidArgument("master key file " + path + " must hold exactly " +
                                   std::to_string(kMasterKeyBytes) + " random bytes, not " +
                                   std::to_string(bytes.size()));
  }
  MasterKey key;
  std::copy(bytes.begin(), bytes.end(), key.bytes.begin());
  sodium_memzero(bytes.data(), bytes.size());
  return key;
}

Result<MasterKey> MasterKey::Generate(const std::string& path) {
  if (sodium_init() < 0) return Status::IoError("libsodium failed to initialise");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::InvalidArgument("cannot create " + path + ": " + std::strerror(errno) +
                                   " (an existing key file is never overwritten)");
  }
  MasterKey key;
  randombytes_buf(key.bytes.data(), key.bytes.size());
  bool written =
      ::write(fd, key.bytes.data(), key.bytes.size()) == static_cast<ssize_t>(key.bytes.size());
  written = ::fsync(fd) == 0 && written;
  written = ::close(fd) == 0 && written;
  if (!written) return Status::IoError("writing " + path + " failed");
  return key;
}

class KeyStore::Impl {
 public:
  Impl(std::unique_ptr<rocksdb::DB> db, const MasterKey& master) : db_(std::move(db)) {
    master_ = master;
  }
  ~Impl() { sodium_memzero(master_.bytes.data(), master_.bytes.size()); }

  Result<std::optional<std::string>> Get(const std::string& key) const {
    std::string value;
    auto status = db_->Get(rocksdb::ReadOptions(), key, &value);
    if (status.IsNotFound()) return std::optional<std::string>();
    if (!status.ok()) return FromRocks(status, "reading the key store");
    return std::optional<std::string>(std::move(value));
  }

  Result<DataKey> Unwrap(const std::string& subject, KeyPurpose purpose,
                         std::string_view value) const {
    if (value.size() != kWrappedBytes) {
      return Status::Corruption("key store: the key of " + subject + "/" + KeyPurposeName(purpose) +
                                " is damaged");
    }
    DataKey key;
    key.version = ReadU32(value);
    auto plain =
        Decrypt(master_.bytes.data(), value.substr(4), WrapAd(subject, purpose, key.version));
    if (!plain || plain->size() != kDataKeyBytes) {
      return Status::Corruption("key store: the key of " + subject + "/" + KeyPurposeName(purpose) +
                                " does not open with the master key");
    }
    std::copy(plain->begin(), plain->end(), key.bytes.begin());
    sodium_memzero(plain->data(), plain->size());
    return key;
  }

  std::string Wrap(const std::string& subject, KeyPurpose purpose, const DataKey& key,
                   const MasterKey& master) const {
    std::string value;
    AppendU32(&value, key.version);
    value +=
        Encrypt(master.bytes.data(),
                std::string_view(reinterpret_cast<const char*>(key.bytes.data()), key.bytes.size()),
                WrapAd(subject, purpose, key.version));
    return value;
  }

  Status Write(rocksdb::WriteBatch& batch) {
    rocksdb::WriteOptions options;
    options.sync = true;
    return FromRocks(db_->Write(options, &batch), "writing the key store");
  }

  std::unique_ptr<rocksdb::DB> db_;
  MasterKey master_;
};

KeyStore::KeyStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KeyStore::~KeyStore() = default;

namespace {

// Checks the master key against the store's check value.
Status CheckMaster(const std::string& dir, const std::optional<std::string>& check,
                   const MasterKey& master) {
  if (!check || Decrypt(master.bytes.data(), *check, kCheckKey) != std::string(kCheckText)) {
    return Status::InvalidArgument("the master key does not match the key store in " + dir);
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<KeyStore>> KeyStore::Open(const std::string& dir, const MasterKey& master,
                                                 rocksdb::Env* env) {
  if (sodium_init() < 0) return Status::IoError("libsodium failed to initialise");
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return Status::IoError("creating " + dir + ": " + error.message());
  rocksdb::DB* raw = nullptr;
  auto status = rocksdb::DB::Open(StoreOptions(dir, false, env), dir, &raw);
  if (!status.ok()) return FromRocks(status, "opening the key store in " + dir);
  auto impl = std::make_unique<Impl>(std::unique_ptr<rocksdb::DB>(raw), master);
  auto format = impl->Get(std::string(kFormatKey));
  if (!format.ok()) return format.status();
  if (!*format) {
    rocksdb::WriteBatch batch;
    TALLY_CHECK(batch.Put(kFormatKey, EncodeU64(kKeyStoreFormat)).ok());
    TALLY_CHECK(batch.Put(kCheckKey, Encrypt(master.bytes.data(), kCheckText, kCheckKey)).ok());
    if (auto written = impl->Write(batch); !written.ok()) return written;
  } else if ((*format)->size() != 8 || ReadU64(**format) != kKeyStoreFormat) {
    return Status::Corruption("the key store in " + dir + " has an unknown format");
  } else {
    auto check = impl->Get(std::string(kCheckKey));
    if (!check.ok()) return check.status();
    if (auto matches = CheckMaster(dir, *check, master); !matches.ok()) return matches;
  }
  return std::unique_ptr<KeyStore>(new KeyStore(std::move(impl)));
}

Result<std::unique_ptr<KeyStore>> KeyStore::OpenForReading(const std::string& dir,
                                                           const MasterKey& master) {
  if (sodium_init() < 0) return Status::IoError("libsodium failed to initialise");
  if (!std::filesystem::exists(std::filesystem::path(dir) / "CURRENT")) {
    return Status::NotFound("no key store in " + dir);
  }
  rocksdb::DB* raw = nullptr;
  auto status = rocksdb::DB::OpenForReadOnly(StoreOptions(dir, true, nullptr), dir, &raw);
  if (!status.ok()) return FromRocks(status, "opening the key store in " + dir);
  auto impl = std::make_unique<Impl>(std::unique_ptr<rocksdb::DB>(raw), master);
  auto format = impl->Get(std::string(kFormatKey));
  if (!format.ok()) return format.status();
  if (!*format || (*format)->size() != 8 || ReadU64(**format) != kKeyStoreFormat) {
    return Status::Corruption("the key store in " + dir + " has an unknown format");
  }
  auto check = impl->Get(std::string(kCheckKey));
  if (!check.ok()) return check.status();
  if (auto matches = CheckMaster(dir, *check, master); !matches.ok()) return matches;
  return std::unique_ptr<KeyStore>(new KeyStore(std::move(impl)));
}

Result<std::optional<DataKey>> KeyStore::Find(const std::string& subject, KeyPurpose purpose,
                                              KeyState* state) const {
  KeyState found = KeyState::kAbsent;
  std::optional<DataKey> key;
  auto wrapped = impl_->Get(PairKey('K', subject, purpose));
  if (!wrapped.ok()) return wrapped.status();
  if (*wrapped) {
    auto unwrapped = impl_->Unwrap(subject, purpose, **wrapped);
    if (!unwrapped.ok()) return unwrapped.status();
    key = *unwrapped;
    found = KeyState::kLive;
  } else {
    auto shredded = impl_->Get(PairKey('S', subject, purpose));
    if (!shredded.ok()) return shredded.status();
    if (*shredded) found = KeyState::kShredded;
  }
  if (state != nullptr) *state = found;
  return key;
}

Result<DataKey> KeyStore::KeyFor(const std::string& subject, KeyPurpose purpose) {
  KeyState state = KeyState::kAbsent;
  auto found = Find(subject, purpose, &state);
  if (!found.ok()) return found.status();
  if (*found) return **found;
  if (state == KeyState::kShredded) {
    return Status::Conflict(subject + "/" + KeyPurposeName(purpose) +
                            " was shredded; no personal data is kept for it again");
  }
  DataKey key;
  key.version = 1;
  crypto_aead_xchacha20poly1305_ietf_keygen(key.bytes.data());
  rocksdb::WriteBatch batch;
  TALLY_CHECK(
      batch.Put(PairKey('K', subject, purpose), impl_->Wrap(subject, purpose, key, impl_->master_))
          .ok());
  if (auto written = impl_->Write(batch); !written.ok()) return written;
  return key;
}

Status KeyStore::Destroy(const std::string& subject, KeyPurpose purpose) {
  KeyState state = KeyState::kAbsent;
  auto found = Find(subject, purpose, &state);
  if (!found.ok()) return found.status();
  if (state == KeyState::kShredded) return Status::Ok();
  rocksdb::WriteBatch batch;
  TALLY_CHECK(batch.Delete(PairKey('K', subject, purpose)).ok());
  TALLY_CHECK(
      batch.Put(PairKey('S', subject, purpose), EncodeU64(*found ? (*found)->version : 0)).ok());
  if (auto written = impl_->Write(batch); !written.ok()) return written;
  // Out of every file: the memtable to a table without the key, every table
  // rewritten without it (and without the tombstone), and the write-ahead
  // logs that held it dropped once flushed.
  rocksdb::DB& db = *impl_->db_;
  auto status = db.Flush(rocksdb::FlushOptions());
  if (!status.ok()) return FromRocks(status, "flushing the key store");
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  status = db.CompactRange(compact, nullptr, nullptr);
  if (!status.ok()) return FromRocks(status, "compacting the key store");
  return FromRocks(db.FlushWAL(/*sync=*/true), "syncing the key store");
}

Result<bool> KeyStore::Empty() const {
  std::unique_ptr<rocksdb::Iterator> it(impl_->db_->NewIterator(rocksdb::ReadOptions()));
  bool empty = true;
  for (char prefix : {'K', 'S'}) {
    it->Seek(std::string(1, prefix));
    if (it->Valid() && it->key().size() > 0 && it->key()[0] == prefix) empty = false;
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading the key store");
  return empty;
}

Status KeyStore::RotateMaster(const MasterKey& next) {
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db_->NewIterator({}));
  for (it->Seek("K"); it->Valid() && it->key().starts_with("K"); it->Next()) {
    std::string key = it->key().ToString();
    size_t split = key.find('\0');
    if (split == std::string::npos || split + 2 != key.size()) {
      return Status::Corruption("key store: a damaged key name");
    }
    std::string subject = key.substr(1, split - 1);
    auto purpose = static_cast<KeyPurpose>(key.back());
    auto data_key = impl_->Unwrap(subject, purpose, it->value().ToStringView());
    if (!data_key.ok()) return data_key.status();
    TALLY_CHECK(batch.Put(key, impl_->Wrap(subject, purpose, *data_key, next)).ok());
  }
  if (auto status = FromRocks(it->status(), "reading the key store"); !status.ok()) return status;
  it.reset();
  TALLY_CHECK(batch.Put(kCheckKey, Encrypt(next.bytes.data(), kCheckText, kCheckKey)).ok());
  if (auto written = impl_->Write(batch); !written.ok()) return written;
  impl_->master_ = next;
  // The keys wrapped by the old master key leave the files too.
  auto status = impl_->db_->Flush(rocksdb::FlushOptions());
  if (!status.ok()) return FromRocks(status, "flushing the key store");
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  return FromRocks(impl_->db_->CompactRange(compact, nullptr, nullptr), "compacting the key store");
}

Sealed SealField(const DataKey& key, const std::string& event_id, const std::string& field,
                 const std::string& plaintext) {
  std::string ad = event_id + '\0' + field;
  // A synthetic nonce, keyed by the data key over everything sealed: the
  // same event sent again seals to the same bytes (so it is acknowledged as
  // a duplicate, not refused as a conflict); it repeats only for the same
  // key, event, field and value, so it reveals nothing new.
  Sealed out;
  std::string input = ad + '\0' + plaintext;
  TALLY_CHECK(crypto_generichash(out.nonce.data(), out.nonce.size(), Bytes(input), input.size(),
                                 key.bytes.data(), key.bytes.size()) == 0);
  sodium_memzero(input.data(), input.size());
  out.ciphertext.resize(plaintext.size() + kTagBytes);
  unsigned long long written = 0;
  TALLY_CHECK(crypto_aead_xchacha20poly1305_ietf_encrypt(
                  reinterpret_cast<unsigned char*>(out.ciphertext.data()), &written,
                  Bytes(plaintext), plaintext.size(), Bytes(ad), ad.size(), nullptr,
                  out.nonce.data(), key.bytes.data()) == 0);
  TALLY_CHECK(written == out.ciphertext.size());
  return out;
}

Result<std::string> OpenField(const DataKey& key, const std::string& event_id,
                              const std::string& field, const Sealed& sealed) {
  std::string bytes(sealed.nonce.begin(), sealed.nonce.end());
  bytes += sealed.ciphertext;
  auto plain = Decrypt(key.bytes.data(), bytes, event_id + '\0' + field);
  if (!plain) {
    return Status::InvalidArgument("a sealed " + field + " of " + event_id +
                                   " does not open with this key");
  }
  return *plain;
}

}  // namespace tally
