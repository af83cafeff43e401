// Crypto-shredding proven on the bytes on disk (docs/privacy.md): personal
// values never reach any file under the data directory (log, projections,
// key store, an export), raw data keys are never in any file, and after
// shredding the keys are gone while amounts, invoices, the hash chain and
// the projections stay whole.
#include <gtest/gtest.h>

#include <filesystem>

#include "events/codec.h"
#include "events/timestamp.h"
#include "ledger/export.h"
#include "ledger/personal.h"
#include "projections/reports.h"
#include "projections/statement.h"
#include "projections/store.h"
#include "tests/events/event_fixtures.h"
#include "tests/file_scan.h"
#include "tests/ledger/ledger_fixture.h"
#include "tests/temp_dir.h"

namespace tally {
namespace {

using testing::FilesContaining;
using testing::JsonEvent;
using testing::TopUp;
using testing::Usage;

using testing::kStart;
constexpr int64_t kDay = 86'400'000'000;

// Distinctive values: found by a byte scan wherever they would be stored.
const std::vector<std::string> kPersonalValues = {
    "zebra.quokka.7731@example.test", "Quokka Zebra Display", "198.51.100.173",
    "Quokka Holdings Zebra GmbH",     "DE999888777QZ",        "Zebrastrasse 17, 10115 Berlin"};

std::string Opened(const std::string& id, const std::string& account) {
  return JsonEvent(
      id, account, "account_opened",
      R"({"email":{"plaintext":")" + kPersonalValues[0] + R"("},"display_name":{"plaintext":")" +
          kPersonalValues[1] + R"("},"ip_address":{"plaintext":")" + kPersonalValues[2] +
          R"("},"legal_name":{"plaintext":")" + kPersonalValues[3] +
          R"("},"tax_id":{"plaintext":")" + kPersonalValues[4] +
          R"("},"billing_address":{"plaintext":")" + kPersonalValues[5] + R"("},"country":"DE"})");
}

std::string Erasure(const std::string& id, const std::string& account, const std::string& purpose) {
  return JsonEvent(id, account, "erasure_requested",
                   R"({"purpose":")" + purpose + R"(","requested_by":"dsar-portal"})");
}

std::string Hold(const std::string& id, const std::string& account, bool place) {
  return place ? JsonEvent(id, account, "legal_hold_placed",
                           R"({"reason":"case 2026-007","placed_by":"legal"})")
               : JsonEvent(id, account, "legal_hold_released",
                           R"({"reason":"case closed","released_by":"legal"})");
}

class PrivacyTest : public testing::LedgerFixture {
 protected:
  PrivacyTest() { master_key_ = master_; }

  std::string DataDir() const { return dir_.path(); }

  void Open() { Reopen(); }

  void Close() {
    projections_.reset();
    ledger_.reset();
  }

  // The raw data keys of `subject`, read with the ledger closed.
  std::vector<std::string> RawKeys(const std::string& subject) {
    Close();
    std::vector<std::string> raw;
    {
      auto keys = KeyStore::Open(KeyStoreDir(DataDir()), master_);
      EXPECT_TRUE(keys.ok());
      for (KeyPurpose purpose : {KeyPurpose::kProfile, KeyPurpose::kBilling}) {
        auto key = (*keys)->Find(subject, purpose);
        EXPECT_TRUE(key.ok() && key->has_value());
        if (key.ok() && key->has_value()) raw.push_back(testing::BytesOf(**key));
      }
    }
    Open();
    return raw;
  }

  KeyState StateOf(const std::string& subject, KeyPurpose purpose) {
    Close();
    KeyState state = KeyState::kAbsent;
    {
      auto keys = KeyStore::OpenForReading(KeyStoreDir(DataDir()), master_);
      EXPECT_TRUE(keys.ok()) << keys.status().ToString();
      EXPECT_TRUE((*keys)->Find(subject, purpose, &state).ok());
    }
    Open();
    return state;
  }

  Identity IdentityOf(const std::string& account) {
    Close();
    Identity identity;
    {
      auto log = Log::OpenForReading(DataDir());
      auto keys = KeyStore::OpenForReading(KeyStoreDir(DataDir()), master_);
      EXPECT_TRUE(log.ok() && keys.ok());
      auto read = ReadIdentity(**log, account, (*log)->head_seq(), **keys);
      EXPECT_TRUE(read.ok()) << read.status().ToString();
      if (read.ok()) identity = *read;
    }
    Open();
    return identity;
  }

  // Every file under the data directory, checked for each personal value.
  void ExpectNoPlaintextOnDisk() {
    for (const std::string& value : kPersonalValues) {
      EXPECT_EQ(FilesContaining(dir_.path(), value), std::vector<std::string>{}) << value;
    }
  }

  MasterKey master_ = testing::RandomMaster();
};

TEST_F(PrivacyTest, PersonalValuesNeverReachAnyFileAndShreddedKeysLeaveEveryFile) {
  ASSERT_EQ(AppendOne(Opened("open-1", "acct-q")).kind, AppendOutcome::Kind::kAppended);
  // A redelivery seals to the same bytes: a duplicate, not a conflict.
  EXPECT_EQ(AppendOne(Opened("open-1", "acct-q")).kind, AppendOutcome::Kind::kDuplicate);
  Append({TopUp("pay-zebra-control", "acct-q", "100"), Usage("u1", "acct-q", "30")});
  auto statement_before = ReadStatement(Projections(), "acct-q", {});
  auto invoices_before = ReadInvoices(Projections(), "acct-q", {});
  ASSERT_TRUE(statement_before.ok() && invoices_before.ok());
  ASSERT_EQ(invoices_before->size(), 1u);
  ASSERT_TRUE(ExportLog(*ledger_, DataDir() + "/export-before").ok());
  EXPECT_EQ(IdentityOf("acct-q").Find("email")->Display(), kPersonalValues[0]);
  EXPECT_EQ(IdentityOf("acct-q").Find("tax_id")->Display(), kPersonalValues[4]);

  // The scan sees stored values: a non-personal one is found in the log.
  EXPECT_FALSE(FilesContaining(dir_.path(), "pi_pay-zebra-control").empty());
  ExpectNoPlaintextOnDisk();
  const std::vector<std::string> raw_keys = RawKeys("acct-q");
  ASSERT_EQ(raw_keys.size(), 2u);
  for (const std::string& raw : raw_keys) {
    EXPECT_EQ(FilesContaining(dir_.path(), raw), std::vector<std::string>{});
  }
  const std::string master(reinterpret_cast<const char*>(master_.bytes.data()),
                           master_.bytes.size());
  EXPECT_EQ(FilesContaining(dir_.path(), master), std::vector<std::string>{});

  // Erasure: the profile key goes at once; the billing identity stays for
  // the invoice until its horizon (7 years) has passed.
  auto erased = Append({Erasure("erase-1", "acct-q", "all")});
  ASSERT_EQ(erased.size(), 1u);
  ASSERT_EQ(erased[0].kind, AppendOutcome::Kind::kAppended);
  EXPECT_EQ(StateOf("acct-q", KeyPurpose::kProfile), KeyState::kShredded);
  EXPECT_EQ(StateOf("acct-q", KeyPurpose::kBilling), KeyState::kLive);
  EXPECT_EQ(IdentityOf("acct-q").Find("email")->Display(), "erased");
  EXPECT_EQ(IdentityOf("acct-q").Find("legal_name")->Display(), kPersonalValues[3]);
  EXPECT_TRUE(ledger_->Account("acct-q").privacy.billing_erasure_pending);

  clock_.Advance(int64_t{7} * 365 * kDay);  // not yet: 7 calendar years include leap days
  ASSERT_TRUE(ledger_->Tick().ok());
  EXPECT_EQ(StateOf("acct-q", KeyPurpose::kBilling), KeyState::kLive);
  clock_.Advance(3 * kDay);
  auto ticked = ledger_->Tick();
  ASSERT_TRUE(ticked.ok());
  EXPECT_EQ(*ticked, 1u);  // subject_shredded (billing)
  EXPECT_EQ(StateOf("acct-q", KeyPurpose::kBilling), KeyState::kShredded);
  EXPECT_TRUE(ledger_->Account("acct-q").privacy.billing_shredded);

  // Gone from every file: no personal value, and no data key at all.
  ExpectNoPlaintextOnDisk();
  for (const std::string& raw : raw_keys) {
    EXPECT_EQ(FilesContaining(dir_.path(), raw), std::vector<std::string>{});
  }
  Identity identity = IdentityOf("acct-q");
  for (const char* field :
       {"email", "display_name", "ip_address", "legal_name", "tax_id", "billing_address"}) {
    EXPECT_EQ(identity.Find(field)->Display(), "erased") << field;
  }
  // Amounts and documents intact; the chain verifies; rebuild equals live.
  auto statement_after = ReadStatement(Projections(), "acct-q", {});
  auto invoices_after = ReadInvoices(Projections(), "acct-q", {});
  ASSERT_TRUE(statement_after.ok() && invoices_after.ok());
  ASSERT_GE(statement_after->size(), statement_before->size());
  for (size_t i = 0; i < statement_before->size(); ++i) {
    EXPECT_EQ((*statement_after)[i].change, (*statement_before)[i].change);
    EXPECT_EQ((*statement_after)[i].available, (*statement_before)[i].available);
  }
  ASSERT_EQ(invoices_after->size(), 1u);
  EXPECT_EQ((*invoices_after)[0].total, (*invoices_before)[0].total);
  EXPECT_EQ((*invoices_after)[0].number, (*invoices_before)[0].number);
  VerifyReport verified = ledger_->Verify();
  EXPECT_TRUE(verified.status.ok()) << verified.status.ToString();
  auto compared = VerifyProjections(Projections(), dir_.path() + "/scratch");
  ASSERT_TRUE(compared.ok()) << compared.status().ToString();
  EXPECT_EQ(compared->projection, "") << compared->detail;
  // The export written before the erasure verifies too, and holds no key.
  EXPECT_TRUE(VerifyExport(DataDir() + "/export-before", nullptr).status.ok());
}

TEST_F(PrivacyTest, ARestoredKeyStoreCannotBringBackAShreddedKey) {
  ASSERT_EQ(AppendOne(Opened("open-1", "acct-q")).kind, AppendOutcome::Kind::kAppended);
  const std::vector<std::string> raw_keys = RawKeys("acct-q");
  Close();
  const std::string keys_dir = KeyStoreDir(DataDir());
  const std::string backup = dir_.path() + "/keys-backup";
  std::filesystem::copy(keys_dir, backup, std::filesystem::copy_options::recursive);
  Open();
  ASSERT_EQ(AppendOne(Erasure("erase-1", "acct-q", "all")).kind, AppendOutcome::Kind::kAppended);
  EXPECT_EQ(StateOf("acct-q", KeyPurpose::kBilling), KeyState::kShredded);  // no invoices
  Close();
  // The operator restores the key store from the backup made before.
  std::filesystem::remove_all(keys_dir);
  std::filesystem::rename(backup, keys_dir);
  EXPECT_FALSE(FilesContaining(keys_dir, "acct-q").empty());
  Open();  // the log's subject_shredded receipts destroy the keys again
  EXPECT_EQ(StateOf("acct-q", KeyPurpose::kProfile), KeyState::kShredded);
  EXPECT_EQ(StateOf("acct-q", KeyPurpose::kBilling), KeyState::kShredded);
  EXPECT_EQ(IdentityOf("acct-q").Find("email")->Display(), "erased");
  Close();
  // Reading the restored store needs no open ledger to be safe afterwards:
  // the wrapped keys left its files when they were destroyed.
  auto keys = KeyStore::OpenForReading(keys_dir, master_);
  ASSERT_TRUE(keys.ok());
  KeyState state = KeyState::kLive;
  ASSERT_TRUE((*keys)->Find("acct-q", KeyPurpose::kProfile, &state).ok());
  EXPECT_EQ(state, KeyState::kShredded);
  for (const std::string& raw : raw_keys) {
    EXPECT_EQ(FilesContaining(dir_.path(), raw), std::vector<std::string>{});
  }
}

// A deleted (or emptied) key store is not made again: the log names keys it
// lacks, and new keys would seal new data under versions the log already
// names. The ledger does not open, saying to restore the key store; audit
// verify reports it too.
// Found by ndjson_append_fuzz: an erasure in a ledger without a master key
// (the subject never had personal data, so no key) left a receipt that the
// key-store check took for sealed data, and the ledger no longer opened.
TEST(KeylessErasureTest, ALedgerWithoutKeysReopensAfterAnErasure) {
  testing::TempDir dir;
  ManualClock clock(kStart);
  EventCodec codec;
  {
    auto ledger = Ledger::Open(LedgerOptions{dir.path(), true}, &clock);
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    auto event = codec.ParseJson(Erasure("erase-1", "acct-erin", "all"));
    ASSERT_TRUE(event.ok()) << event.status().ToString();
    auto appended = (*ledger)->Append(std::vector<Event>{*event});
    ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  }
  auto reopened = Ledger::Open(LedgerOptions{dir.path(), true}, &clock);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_TRUE((*reopened)->Verify().status.ok()) << (*reopened)->Verify().status.ToString();
}

TEST_F(PrivacyTest, ADeletedKeyStoreIsNotMadeAgain) {
  const AppendOutcome opened_outcome = AppendOne(Opened("open-1", "acct-q"));
  ASSERT_EQ(opened_outcome.kind, AppendOutcome::Kind::kAppended);
  const uint64_t sealed_seq = opened_outcome.seq;
  Close();
  const std::string keys_dir = KeyStoreDir(DataDir());
  const std::string backup = dir_.path() + "/keys-backup";
  std::filesystem::rename(keys_dir, backup);
  for (bool empty : {false, true}) {
    SCOPED_TRACE(empty ? "an empty key store" : "no key store");
    if (empty) {
      ASSERT_TRUE(KeyStore::Open(keys_dir, master_).ok());
    }
    LedgerOptions options{DataDir(), true};
    options.master_key = master_;
    auto opened = Ledger::Open(options, &clock_);
    ASSERT_FALSE(opened.ok()) << "opened, and would mint new keys";
    EXPECT_EQ(opened.status().code(), StatusCode::kCorruption);
    EXPECT_NE(opened.status().message().find(keys_dir + (empty ? " is empty" : " is missing")),
              std::string::npos)
        << opened.status().ToString();
    EXPECT_NE(opened.status().message().find("Restore it from its backup"), std::string::npos);
    EXPECT_NE(opened.status().message().find("first at seq " + std::to_string(sealed_seq)),
              std::string::npos)
        << opened.status().ToString();
    options.master_key.reset();  // without the master key: refused the same way
    if (!empty) {
      EXPECT_EQ(Ledger::Open(options, &clock_).status().code(), StatusCode::kCorruption);
    }
  }
  std::filesystem::remove_all(keys_dir);
  {
    auto log = Log::OpenForReading(DataDir());
    ASSERT_TRUE(log.ok());
    VerifyReport report = (*log)->Verify();
    EXPECT_EQ(report.status.code(), StatusCode::kCorruption) << report.status.ToString();
    EXPECT_EQ(report.first_bad_seq, sealed_seq);
  }
  std::filesystem::rename(backup, keys_dir);
  Open();
  EXPECT_EQ(IdentityOf("acct-q").Find("email")->Display(), kPersonalValues[0]);
}

// A key store restored from a backup older than a subject's first key: the
// subject's sealed fields are in the log, its key is not in the store. New
// personal data for it is refused rather than sealed under a new key that
// would be labelled version 1 again; other subjects go on.
TEST_F(PrivacyTest, AKeyTheLogNamesIsNotMadeAgainAfterAnOldBackupIsRestored) {
  ASSERT_EQ(AppendOne(Opened("open-p", "acct-p")).kind, AppendOutcome::Kind::kAppended);
  Close();
  const std::string keys_dir = KeyStoreDir(DataDir());
  const std::string backup = dir_.path() + "/keys-backup";
  std::filesystem::copy(keys_dir, backup, std::filesystem::copy_options::recursive);
  Open();
  const AppendOutcome sealed = AppendOne(Opened("open-q", "acct-q"));
  ASSERT_EQ(sealed.kind, AppendOutcome::Kind::kAppended);
  Close();
  std::filesystem::remove_all(keys_dir);
  std::filesystem::rename(backup, keys_dir);
  Open();
  auto event = codec_.ParseJson(Opened("open-q2", "acct-q"));
  ASSERT_TRUE(event.ok());
  auto refused = ledger_->Append(std::vector<Event>{*event});
  ASSERT_FALSE(refused.ok()) << "a new key was made for acct-q";
  EXPECT_EQ(refused.status().code(), StatusCode::kCorruption);
  EXPECT_NE(refused.status().message().find("no profile key for acct-q, but the log holds fields "
                                            "sealed with one (seq " +
                                            std::to_string(sealed.seq) + ")"),
            std::string::npos)
      << refused.status().ToString();
  EXPECT_EQ(StateOf("acct-q", KeyPurpose::kProfile), KeyState::kAbsent);
  EXPECT_EQ(AppendOne(Opened("open-r", "acct-r")).kind, AppendOutcome::Kind::kAppended);
}

TEST_F(PrivacyTest, ALegalHoldBlocksErasureAndDelaysTheBillingShred) {
  ASSERT_EQ(AppendOne(Opened("open-1", "acct-q")).kind, AppendOutcome::Kind::kAppended);
  ASSERT_EQ(AppendOne(TopUp("t1", "acct-q", "10")).kind, AppendOutcome::Kind::kAppended);
  ASSERT_EQ(AppendOne(Erasure("erase-1", "acct-q", "billing")).kind,
            AppendOutcome::Kind::kAppended);
  ASSERT_EQ(AppendOne(Hold("hold-1", "acct-q", true)).kind, AppendOutcome::Kind::kAppended);
  AppendOutcome blocked = AppendOne(Erasure("erase-2", "acct-q", "profile"));
  EXPECT_EQ(blocked.kind, AppendOutcome::Kind::kRejected);
  EXPECT_NE(blocked.reason.find("legal hold (case 2026-007)"), std::string::npos) << blocked.reason;
  EXPECT_EQ(AppendOne(Hold("hold-2", "acct-q", true)).kind, AppendOutcome::Kind::kRejected);
  clock_.Advance(int64_t{8} * 366 * kDay);  // past the invoice's horizon, but held
  ASSERT_TRUE(ledger_->Tick().ok());
  EXPECT_FALSE(ledger_->Account("acct-q").privacy.billing_shredded);
  EXPECT_EQ(StateOf("acct-q", KeyPurpose::kBilling), KeyState::kLive);
  ASSERT_EQ(AppendOne(Hold("hold-3", "acct-q", false)).kind, AppendOutcome::Kind::kAppended);
  // The shred that was waiting runs at the next tick (or event).
  auto ticked = ledger_->Tick();
  ASSERT_TRUE(ticked.ok());
  EXPECT_EQ(*ticked, 1u);
  EXPECT_TRUE(ledger_->Account("acct-q").privacy.billing_shredded);
  EXPECT_EQ(StateOf("acct-q", KeyPurpose::kBilling), KeyState::kShredded);
  EXPECT_EQ(StateOf("acct-q", KeyPurpose::kProfile), KeyState::kLive);  // never asked
  // Replay gives the same decisions.
  Close();
  Open();
  EXPECT_TRUE(ledger_->Account("acct-q").privacy.billing_shredded);
  EXPECT_TRUE(ledger_->Account("acct-q").privacy.legal_hold.empty());
}

TEST_F(PrivacyTest, NoNewPersonalDataIsKeptForAShreddedSubject) {
  ASSERT_EQ(AppendOne(Opened("open-1", "acct-q")).kind, AppendOutcome::Kind::kAppended);
  ASSERT_EQ(AppendOne(Erasure("erase-1", "acct-q", "profile")).kind,
            AppendOutcome::Kind::kAppended);
  AppendOutcome update = AppendOne(JsonEvent(
      "upd-1", "acct-q", "profile_updated", R"({"email":{"plaintext":"new.zebra@example.test"}})"));
  EXPECT_EQ(update.kind, AppendOutcome::Kind::kRejected);
  EXPECT_NE(update.reason.find("was erased"), std::string::npos) << update.reason;
  EXPECT_EQ(update.reason.find("new.zebra"), std::string::npos);  // never quoted
  // A profile update without personal fields is still fine.
  EXPECT_EQ(AppendOne(JsonEvent("upd-2", "acct-q", "profile_updated", R"({"country":"FR"})")).kind,
            AppendOutcome::Kind::kAppended);
}

TEST_F(PrivacyTest, WithoutTheMasterKeyNothingPersonalIsStoredAndTheStoreDoesNotOpen) {
  Close();
  testing::TempDir other;
  LedgerOptions options;
  options.data_dir = other.path() + "/ledger";
  auto keyless = Ledger::Open(options, &clock_);
  ASSERT_TRUE(keyless.ok());
  auto event = codec_.ParseJson(Opened("open-1", "acct-q"));
  ASSERT_TRUE(event.ok());
  auto outcomes = (*keyless)->Append(std::span<const Event>(&*event, 1));
  ASSERT_TRUE(outcomes.ok());
  EXPECT_EQ((*outcomes)[0].kind, AppendOutcome::Kind::kRejected);
  EXPECT_NE((*outcomes)[0].reason.find("master key"), std::string::npos);
  for (const std::string& value : kPersonalValues) {
    EXPECT_EQ((*outcomes)[0].reason.find(value), std::string::npos);
    EXPECT_EQ(FilesContaining(other.path(), value), std::vector<std::string>{});
  }
  // A directory that holds a key store needs the master key, and the right one.
  Open();
  ASSERT_EQ(AppendOne(Opened("open-1", "acct-q")).kind, AppendOutcome::Kind::kAppended);
  Close();
  options.data_dir = DataDir();
  auto refused = Ledger::Open(options, &clock_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("--master-key-file"), std::string::npos);
  options.master_key = testing::RandomMaster();
  auto wrong = Ledger::Open(options, &clock_);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("does not match"), std::string::npos);
  Open();
}

TEST_F(PrivacyTest, AKeyStoreOlderThanTheLogIsNamedNotReadAsErased) {
  Close();
  const std::string keys_dir = KeyStoreDir(DataDir());
  Open();
  ASSERT_EQ(AppendOne(Erasure("noop", "acct-other", "profile")).kind,
            AppendOutcome::Kind::kAppended);  // the store exists, without acct-q's keys
  Close();
  const std::string backup = dir_.path() + "/keys-backup";
  std::filesystem::copy(keys_dir, backup, std::filesystem::copy_options::recursive);
  Open();
  ASSERT_EQ(AppendOne(Opened("open-1", "acct-q")).kind, AppendOutcome::Kind::kAppended);
  Close();
  std::filesystem::remove_all(keys_dir);
  std::filesystem::rename(backup, keys_dir);
  auto log = Log::OpenForReading(DataDir());
  auto keys = KeyStore::OpenForReading(keys_dir, master_);
  ASSERT_TRUE(log.ok() && keys.ok());
  auto identity = ReadIdentity(**log, "acct-q", (*log)->head_seq(), **keys);
  ASSERT_FALSE(identity.ok());
  EXPECT_EQ(identity.status().code(), StatusCode::kCorruption);
  EXPECT_NE(identity.status().message().find("restored from a backup"), std::string::npos);
}

}  // namespace
}  // namespace tally
