// Bearer tokens of the HTTP API and the roles they carry (docs/api.md).
//
// A token is "tally_<id>_<secret>": the id (16 hex digits) names it in
// lists and logs; the secret (32 random bytes, base64url) is shown once when
// the token is made and never stored: the file keeps a BLAKE2b-256 hash of
// it, compared in constant time. The tokens of a data directory live in
// DIR/tokens.json (docs/formats/tokens.md), replaced whole and synced on
// each change under DIR/tokens.lock, so `tally token create` and `revoke`
// work while `tally serve` runs; the service reads the file again when it
// changes.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/status.h"
#include "ledger/clock.h"

namespace tally::service {

enum class Role {
  kPublisher,  // billing services: append events, ask for holds, read balances
  kFinance,    // every finance read
  kAuditor,    // finance reads and the audit routes
  kOperator,   // everything, erasure and retention included
};

// What a route needs of the caller's role.
// kReadPersonal: personal fields in plaintext (operator only; every such
// read is recorded in the log as personal_data_accessed).
enum class Permission { kPublish, kReadBalance, kRead, kAudit, kOperate, kReadPersonal };

const char* RoleName(Role role);
std::optional<Role> RoleNamed(std::string_view name);
bool Allows(Role role, Permission permission);

struct TokenInfo {
  std::string id;
  std::string name;
  Role role = Role::kFinance;
  int64_t created_at_micros = 0;
  int64_t revoked_at_micros = 0;  // 0: live
  std::string hash;               // hex BLAKE2b-256 of the secret
};

struct NewToken {
  std::string text;  // shown once; not kept anywhere
  TokenInfo info;
};

class TokenStore {
 public:
  // `clock` must outlive the store.
  TokenStore(std::string data_dir, const Clock* clock);

  Result<NewToken> Create(const std::string& name, Role role);
  // Every token, live and revoked, in the order made.
  Result<std::vector<TokenInfo>> List() const;
  // Revokes the token with `id`; NotFound if there is none.
  Status Revoke(const std::string& id);

  // The token `text` names, if it is live; nullopt if it is malformed,
  // unknown or revoked. Reads the file again if it changed.
  Result<std::optional<TokenInfo>> Authenticate(std::string_view text) const;

 private:
  std::string path() const;
  Result<std::vector<TokenInfo>> Load() const;
  Status Save(const std::vector<TokenInfo>& tokens) const;

  std::string data_dir_;
  const Clock* clock_;
  // The file's contents as last read, and its change time then.
  mutable std::mutex mutex_;
  mutable std::vector<TokenInfo> cached_;
  mutable std::string cached_stamp_;
};

}  // namespace tally::service
