// The key store (ledger/keystore.h) on real RocksDB and libsodium, proven
// on the bytes on disk: raw data keys are never in any file, and a
// destroyed key's wrapped bytes leave every file of the store.
#include "ledger/keystore.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sodium.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "tests/file_scan.h"
#include "tests/temp_dir.h"

namespace tally {
namespace {

namespace fs = std::filesystem;
using testing::BytesOf;
using testing::FilesContaining;
using testing::RandomMaster;

class KeyStoreTest : public ::testing::Test {
 protected:
  std::string Dir() const { return dir_.path() + "/keys"; }
  std::unique_ptr<KeyStore> Open(const MasterKey& master) {
    auto store = KeyStore::Open(Dir(), master);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  testing::TempDir dir_;
  MasterKey master_ = RandomMaster();
};

TEST_F(KeyStoreTest, AKeyIsMadeOnceAndSurvivesReopening) {
  DataKey profile;
  {
    auto store = Open(master_);
    auto made = store->KeyFor("acct-1", KeyPurpose::kProfile);
    ASSERT_TRUE(made.ok());
    EXPECT_EQ(made->version, 1u);
    auto again = store->KeyFor("acct-1", KeyPurpose::kProfile);
    EXPECT_EQ(BytesOf(*again), BytesOf(*made));
    auto billing = store->KeyFor("acct-1", KeyPurpose::kBilling);
    EXPECT_NE(BytesOf(*billing), BytesOf(*made)) << "one key per purpose";
    profile = *made;
  }
  auto store = Open(master_);
  KeyState state = KeyState::kAbsent;
  auto found = store->Find("acct-1", KeyPurpose::kProfile, &state);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ(state, KeyState::kLive);
  EXPECT_EQ(BytesOf(**found), BytesOf(profile));
  ASSERT_TRUE(store->Find("acct-2", KeyPurpose::kProfile, &state).ok());
  EXPECT_EQ(state, KeyState::kAbsent);
}

TEST_F(KeyStoreTest, RawDataKeysAreNeverInAnyFile) {
  std::vector<std::string> raw;
  {
    auto store = Open(master_);
    for (int i = 0; i < 50; ++i) {
      raw.push_back(BytesOf(*store->KeyFor("acct-" + std::to_string(i), KeyPurpose::kBilling)));
    }
  }
  {
    auto store = Open(master_);  // reopening replays the write-ahead log into a table
    ASSERT_TRUE(store->Destroy("acct-0", KeyPurpose::kBilling).ok());  // flushes and compacts
  }
  for (const std::string& key : raw) EXPECT_EQ(FilesContaining(Dir(), key).size(), 0u);
  std::string master(reinterpret_cast<const char*>(master_.bytes.data()), master_.bytes.size());
  EXPECT_EQ(FilesContaining(Dir(), master).size(), 0u) << "the master key is never stored";
}

// Destroying a key removes its wrapped bytes from every file (tables and
// write-ahead logs); the pair stays shredded, across reopening, and no key is
// made for it again.
TEST_F(KeyStoreTest, ADestroyedKeyLeavesEveryFileAndIsNeverMadeAgain) {
  auto store = Open(master_);
  ASSERT_TRUE(store->KeyFor("acct-1", KeyPurpose::kProfile).ok());
  ASSERT_TRUE(store->KeyFor("acct-2", KeyPurpose::kProfile).ok());
  store.reset();
  // The wrapped value as stored, put into a table as well as the log.
  std::string wrapped;
  {
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), Dir(), &db).ok());
    std::string key = "Kacct-1";
    key.push_back('\0');
    key.push_back(static_cast<char>(KeyPurpose::kProfile));
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), key, &wrapped).ok());
    ASSERT_TRUE(db->Flush(rocksdb::FlushOptions()).ok());  // into a table as well
    delete db;
  }
  ASSERT_FALSE(FilesContaining(Dir(), wrapped).empty()) << "the test must see the bytes first";

  store = Open(master_);
  ASSERT_TRUE(store->Destroy("acct-1", KeyPurpose::kProfile).ok());
  EXPECT_EQ(FilesContaining(Dir(), wrapped), std::vector<std::string>{});
  KeyState state = KeyState::kLive;
  auto found = store->Find("acct-1", KeyPurpose::kProfile, &state);
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
  EXPECT_EQ(state, KeyState::kShredded);
  EXPECT_EQ(store->KeyFor("acct-1", KeyPurpose::kProfile).status().code(), StatusCode::kConflict);
  EXPECT_TRUE(store->Destroy("acct-1", KeyPurpose::kProfile).ok()) << "again: a no-op";
  EXPECT_TRUE(store->KeyFor("acct-2", KeyPurpose::kProfile).ok()) << "others are untouched";
  store.reset();
  store = Open(master_);
  ASSERT_TRUE(store->Find("acct-1", KeyPurpose::kProfile, &state).ok());
  EXPECT_EQ(state, KeyState::kShredded);
  EXPECT_EQ(FilesContaining(Dir(), wrapped), std::vector<std::string>{});
}

TEST_F(KeyStoreTest, OnlyTheRightMasterKeyOpensTheStore) {
  { ASSERT_NE(Open(master_), nullptr); }
  auto wrong = KeyStore::Open(Dir(), RandomMaster());
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.status().message().find("master key does not match"), std::string::npos);
}

TEST_F(KeyStoreTest, RotatingTheMasterKeyKeepsTheDataKeys) {
  MasterKey next = RandomMaster();
  std::string before;
  {
    auto store = Open(master_);
    before = BytesOf(*store->KeyFor("acct-1", KeyPurpose::kBilling));
    ASSERT_TRUE(store->RotateMaster(next).ok());
    EXPECT_EQ(BytesOf(**store->Find("acct-1", KeyPurpose::kBilling)), before);
  }
  EXPECT_FALSE(KeyStore::Open(Dir(), master_).ok()) << "the old master key no longer opens it";
  auto store = Open(next);
  EXPECT_EQ(BytesOf(**store->Find("acct-1", KeyPurpose::kBilling)), before);
}

TEST_F(KeyStoreTest, MasterKeyFilesMustHoldExactly32Bytes) {
  const std::string path = dir_.path() + "/master.key";
  EXPECT_EQ(MasterKey::LoadFile(path).status().code(), StatusCode::kInvalidArgument);
  std::ofstream(path, std::ios::binary) << "short";
  auto short_key = MasterKey::LoadFile(path);
  ASSERT_FALSE(short_key.ok());
  EXPECT_NE(short_key.status().message().find("exactly 32 random bytes, not 5"), std::string::npos);
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      << std::string(reinterpret_cast<const char*>(master_.bytes.data()), 32);
  auto loaded = MasterKey::LoadFile(path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->bytes, master_.bytes);
  // A directory given as the key file is refused, not a crash.
  EXPECT_EQ(MasterKey::LoadFile(dir_.path()).status().code(), StatusCode::kInvalidArgument);
}

// A sealed field opens only with its key, event id and field name, and not
// after a byte of it changed.
TEST_F(KeyStoreTest, SealedFieldsAreBoundToTheirEventAndField) {
  auto store = Open(master_);
  DataKey key = *store->KeyFor("acct-1", KeyPurpose::kProfile);
  Sealed sealed = SealField(key, "evt-1", "email", "alice@example.com");
  EXPECT_EQ(sealed.ciphertext.find("alice"), std::string::npos);
  EXPECT_EQ(*OpenField(key, "evt-1", "email", sealed), "alice@example.com");
  // Deterministic, so a resent event is a duplicate; any other input differs.
  Sealed again = SealField(key, "evt-1", "email", "alice@example.com");
  EXPECT_EQ(again.nonce, sealed.nonce);
  EXPECT_EQ(again.ciphertext, sealed.ciphertext);
  EXPECT_NE(SealField(key, "evt-1", "email", "alice@example.org").nonce, sealed.nonce);
  EXPECT_NE(SealField(key, "evt-9", "email", "alice@example.com").ciphertext, sealed.ciphertext);
  EXPECT_FALSE(OpenField(key, "evt-2", "email", sealed).ok());
  EXPECT_FALSE(OpenField(key, "evt-1", "display_name", sealed).ok());
  EXPECT_FALSE(
      OpenField(*store->KeyFor("acct-2", KeyPurpose::kProfile), "evt-1", "email", sealed).ok());
  Sealed altered = sealed;
  altered.ciphertext[0] ^= 1;
  EXPECT_FALSE(OpenField(key, "evt-1", "email", altered).ok());
}

}  // namespace
}  // namespace tally
