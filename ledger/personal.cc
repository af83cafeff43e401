#include "ledger/personal.h"

#include <capnp/message.h>

#include <map>

#include "events/check.h"
#include "events/personal.h"
#include "ledger/internal/amounts.h"

namespace tally {
namespace {

using internal::TextOf;

KeyPurpose PurposeOf(schema::Purpose purpose) {
  return purpose == schema::Purpose::PROFILE ? KeyPurpose::kProfile : KeyPurpose::kBilling;
}

std::string BytesOf(capnp::Data::Reader data) {
  return std::string(reinterpret_cast<const char*>(data.begin()), data.size());
}

// Data keys looked up once per subject and purpose while reading.
class KeyCache {
 public:
  explicit KeyCache(const KeyStore& keys) : keys_(keys) {}

  // The live key, nullopt if shredded; Corruption if the store has none.
  Result<std::optional<DataKey>> Get(const std::string& subject, KeyPurpose purpose,
                                     const std::string& event_id) {
    auto slot = std::make_pair(subject, purpose);
    if (auto it = cache_.find(slot); it != cache_.end()) return it->second;
    KeyState state = KeyState::kAbsent;
    auto found = keys_.Find(subject, purpose, &state);
    if (!found.ok()) return found.status();
    if (state == KeyState::kAbsent) {
      return Status::Corruption("the key store has no " + std::string(KeyPurposeName(purpose)) +
                                " key for " + subject + ", which sealed fields of " + event_id +
                                "; was the key store restored from a backup older than the log?");
    }
    cache_.emplace(slot, *found);
    return *found;
  }

 private:
  const KeyStore& keys_;
  std::map<std::pair<std::string, KeyPurpose>, std::optional<DataKey>> cache_;
};

// Opens every sealed field of `event` in place in `root` (a copy of it).
Status OpenInto(schema::Event::Builder root, KeyCache& cache) {
  const std::string event_id = TextOf(root.asReader().getId());
  Status status;
  ForEachPersonalField(root, [&](std::string_view name, schema::Purpose purpose,
                                 schema::PersonalField::Builder field) {
    if (!status.ok() || field.which() != schema::PersonalField::SEALED) return;
    auto sealed_field = field.asReader().getSealed();
    const std::string subject = TextOf(sealed_field.getSubject());
    auto key = cache.Get(subject, PurposeOf(purpose), event_id);
    if (!key.ok()) {
      status = key.status();
      return;
    }
    if (!*key) {
      field.setErased(purpose);
      return;
    }
    Sealed sealed;
    auto nonce = sealed_field.getNonce();
    if (nonce.size() != sealed.nonce.size()) {
      status = Status::Corruption("a sealed " + std::string(name) + " of " + event_id +
                                  " has a damaged nonce");
      return;
    }
    std::copy(nonce.begin(), nonce.end(), sealed.nonce.begin());
    sealed.ciphertext = BytesOf(sealed_field.getCiphertext());
    auto plaintext = OpenField(**key, event_id, std::string(name), sealed);
    if (!plaintext.ok()) {
      status = Status::Corruption(plaintext.status().message());
      return;
    }
    field.setPlaintext(*plaintext);
  });
  return status;
}

bool HasPlaintext(schema::Event::Reader event) {
  bool any = false;
  ForEachPersonalField(event,
                       [&](std::string_view, schema::Purpose, schema::PersonalField::Reader field) {
                         any = any || field.which() == schema::PersonalField::PLAINTEXT;
                       });
  return any;
}

}  // namespace

Event RedactPersonalFields(const Event& event) {
  if (!HasPersonalFields(event.reader())) return event;
  capnp::MallocMessageBuilder message;
  message.setRoot(event.reader());
  auto root = message.getRoot<schema::Event>();
  ForEachPersonalField(
      root, [](std::string_view, schema::Purpose purpose, schema::PersonalField::Builder field) {
        if (field.which() == schema::PersonalField::PLAINTEXT) field.setErased(purpose);
      });
  Event redacted = Event::FromReader(root.asReader());
  TALLY_CHECK(!HasPlaintext(redacted.reader()));
  return redacted;
}

namespace {

// Corruption if the key store has no key for (subject, purpose) but the log
// holds fields sealed with one.
Status CheckKeyNotLost(const std::string& subject, KeyPurpose purpose, const KeyStore& keys,
                       const SealedBeforeFn& sealed_before) {
  if (!sealed_before) return Status::Ok();
  KeyState state = KeyState::kAbsent;
  auto found = keys.Find(subject, purpose, &state);
  if (!found.ok()) return found.status();
  if (state != KeyState::kAbsent) return Status::Ok();
  auto seq = sealed_before(subject, purpose);
  if (!seq.ok()) return seq.status();
  if (*seq == 0) return Status::Ok();
  return Status::Corruption(
      "the key store has no " + std::string(KeyPurposeName(purpose)) + " key for " + subject +
      ", but the log holds fields sealed with one (seq " + std::to_string(*seq) +
      "): the key store was restored from a backup older than the log, or lost that key. No new "
      "key is made (it would reuse the version the log names); restore a key store that has it "
      "(docs/privacy.md, \"Keys\")");
}

}  // namespace

Result<SealedEvent> SealPersonalFields(const Event& event, KeyStore* keys,
                                       const SealedBeforeFn& sealed_before) {
  auto reader = event.reader();
  if (!HasPersonalFields(reader)) return SealedEvent{event, ""};
  const std::string subject = TextOf(reader.getAccount());
  const std::string event_id = TextOf(reader.getId());
  if (keys == nullptr) {
    return SealedEvent{RedactPersonalFields(event),
                       "personal fields need the master key, and this ledger was opened "
                       "without one (--master-key-file PATH or TALLY_MASTER_KEY_FILE); nothing "
                       "personal is stored in plaintext"};
  }
  capnp::MallocMessageBuilder message;
  message.setRoot(reader);
  auto root = message.getRoot<schema::Event>();
  Status status;
  std::string rejection;
  std::map<KeyPurpose, DataKey> used;
  ForEachPersonalField(root, [&](std::string_view name, schema::Purpose purpose,
                                 schema::PersonalField::Builder field) {
    if (!status.ok() || !rejection.empty()) return;
    if (field.which() != schema::PersonalField::PLAINTEXT) return;
    KeyPurpose key_purpose = PurposeOf(purpose);
    if (!used.contains(key_purpose)) {
      status = CheckKeyNotLost(subject, key_purpose, *keys, sealed_before);
      if (!status.ok()) return;
      auto key = keys->KeyFor(subject, key_purpose);
      if (!key.ok() && key.status().code() == StatusCode::kConflict) {
        rejection = "the " + std::string(KeyPurposeName(key_purpose)) + " data of " + subject +
                    " was erased (subject_shredded); no new personal data is kept for it";
        return;
      }
      if (!key.ok()) {
        status = key.status();
        return;
      }
      used.emplace(key_purpose, *key);
    }
    const DataKey& key = used.at(key_purpose);
    std::string plaintext = field.asReader().getPlaintext();
    Sealed sealed = SealField(key, event_id, std::string(name), plaintext);
    auto out = field.initSealed();
    out.setSubject(subject);
    out.setPurpose(purpose);
    out.setKeyVersion(key.version);
    out.setNonce(kj::arrayPtr(sealed.nonce.data(), sealed.nonce.size()));
    out.setCiphertext(kj::arrayPtr(reinterpret_cast<const kj::byte*>(sealed.ciphertext.data()),
                                   sealed.ciphertext.size()));
  });
  if (!status.ok()) return status;
  if (!rejection.empty()) return SealedEvent{RedactPersonalFields(event), rejection};
  // setRoot copied the plaintext into `message`; the sealed event is a new
  // canonical copy, and `message` is freed with it never written anywhere.
  Event sealed = Event::FromReader(root.asReader());
  TALLY_CHECK(!HasPlaintext(sealed.reader()));
  return SealedEvent{std::move(sealed), ""};
}

Result<Event> OpenPersonalFields(const Event& event, const KeyStore& keys) {
  if (!HasPersonalFields(event.reader())) return event;
  capnp::MallocMessageBuilder message;
  message.setRoot(event.reader());
  KeyCache cache(keys);
  if (auto status = OpenInto(message.getRoot<schema::Event>(), cache); !status.ok()) return status;
  return Event::FromReader(message.getRoot<schema::Event>().asReader());
}

std::string PersonalValue::Display() const {
  switch (kind) {
    case Kind::kUnset: return "";
    case Kind::kText: return text;
    case Kind::kErased: return "erased";
  }
  return "";
}

const PersonalValue* Identity::Find(const std::string& json_name) const {
  for (const auto& [name, value] : fields) {
    if (name == json_name) return &value;
  }
  return nullptr;
}

Result<Identity> ReadIdentity(const Log& log, const std::string& account, uint64_t through_seq,
                              const KeyStore& keys) {
  KeyCache cache(keys);
  Identity identity;
  Status failed;
  auto status = log.ScanAccount(account, [&](const LoggedEvent& logged) {
    if (logged.seq > through_seq) return false;
    auto which = logged.event.reader().which();
    if (which != schema::Event::ACCOUNT_OPENED && which != schema::Event::PROFILE_UPDATED) {
      return true;
    }
    capnp::MallocMessageBuilder message;
    message.setRoot(logged.event.reader());
    auto root = message.getRoot<schema::Event>();
    if (failed = OpenInto(root, cache); !failed.ok()) return false;
    ForEachPersonalField(root.asReader(), [&](std::string_view name, schema::Purpose,
                                              schema::PersonalField::Reader field) {
      PersonalValue value;
      switch (field.which()) {
        case schema::PersonalField::PLAINTEXT:
          value = {PersonalValue::Kind::kText, field.getPlaintext()};
          break;
        case schema::PersonalField::ERASED: value.kind = PersonalValue::Kind::kErased; break;
        default: break;
      }
      PersonalValue* slot = nullptr;
      for (auto& [known, current] : identity.fields) {
        if (known == name) slot = &current;
      }
      if (slot == nullptr) {
        identity.fields.emplace_back(std::string(name), PersonalValue{});
        slot = &identity.fields.back().second;
      }
      // profile_updated changes only the fields it sets.
      if (value.kind != PersonalValue::Kind::kUnset) *slot = value;
    });
    return true;
  });
  if (!failed.ok()) return failed;
  if (!status.ok()) return status;
  return identity;
}

}  // namespace tally
