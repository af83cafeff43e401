#include "service/tokens.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "events/limits.h"
#include "events/timestamp.h"
#include "ledger/internal/json_file.h"
#include "reports/json.h"

namespace tally::service {
namespace {

constexpr std::string_view kPrefix = "tally_";
constexpr size_t kIdBytes = 8;
constexpr size_t kSecretBytes = 32;
constexpr const char* kFormat = "tally-tokens/1";

std::string Hex(const unsigned char* bytes, size_t size) {
  std::string hex(size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), bytes, size);
  hex.pop_back();
  return hex;
}

std::string HashOf(std::string_view secret) {
  std::array<unsigned char, crypto_generichash_BYTES> hash;
  crypto_generichash(hash.data(), hash.size(),
                     reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), nullptr,
                     0);
  return Hex(hash.data(), hash.size());
}

// The file's identity and change time: a replaced file is a new inode.
std::string StampOf(const std::string& path) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) return "absent";
  return std::to_string(info.st_ino) + ":" + std::to_string(info.st_size) + ":" +
         std::to_string(info.st_mtim.tv_sec) + "." + std::to_string(info.st_mtim.tv_nsec);
}

Json TokenJson(const TokenInfo& token) {
  Json json = Json::Object();
  json.Add("id", Json::String(token.id))
      .Add("name", Json::String(token.name))
      .Add("role", Json::String(RoleName(token.role)))
      .Add("hash", Json::String(token.hash))
      .Add("created_at", Json::String(FormatTimestamp(token.created_at_micros)));
  if (token.revoked_at_micros != 0) {
    json.Add("revoked_at", Json::String(FormatTimestamp(token.revoked_at_micros)));
  }
  return json;
}

Result<int64_t> TimeOf(capnp::JsonValue::Reader value, const char* field) {
  if (!value.isString()) return Status::Corruption(std::string(field) + " is not a text");
  return ParseTimestamp(value.getString().cStr());
}

Result<TokenInfo> TokenOf(capnp::JsonValue::Reader value) {
  if (!value.isObject()) return Status::Corruption("a token is not an object");
  TokenInfo token;
  for (auto field : value.getObject()) {
    std::string name = field.getName();
    auto item = field.getValue();
    if (name == "revoked_at" || name == "created_at") {
      auto micros = TimeOf(item, name.c_str());
      if (!micros.ok()) return micros.status();
      (name == "created_at" ? token.created_at_micros : token.revoked_at_micros) = *micros;
      continue;
    }
    if (!item.isString()) return Status::Corruption(name + " is not a text");
    std::string text = item.getString();
    if (name == "id") token.id = text;
    if (name == "name") token.name = text;
    if (name == "hash") token.hash = text;
    if (name == "role") {
      auto role = RoleNamed(text);
      if (!role) return Status::Corruption("unknown role " + text);
      token.role = *role;
    }
  }
  if (token.id.size() != kIdBytes * 2 || token.hash.size() != crypto_generichash_BYTES * 2) {
    return Status::Corruption("a token lacks its id or hash");
  }
  return token;
}

// Holds DIR/tokens.lock while a change is read, made and written.
class FileLock {
 public:
  explicit FileLock(const std::string& path)
      : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool held() const { return fd_ >= 0; }

 private:
  int fd_;
};

Status WriteDurably(const std::string& path, const std::string& text) {
  const std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IoError("cannot create " + temp + ": " + std::strerror(errno));
  bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  written = ::fsync(fd) == 0 && written;
  written = ::close(fd) == 0 && written;
  if (!written || ::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    return Status::IoError("writing " + path + " failed: " + std::strerror(errno));
  }
  const std::string dir = path.substr(0, path.rfind('/') + 1) + ".";
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  bool synced = dir_fd >= 0 && ::fsync(dir_fd) == 0;
  if (dir_fd >= 0) ::close(dir_fd);
  return synced ? Status::Ok() : Status::IoError("syncing the directory of " + path);
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kPublisher: return "publisher";
    case Role::kFinance: return "finance";
    case Role::kAuditor: return "auditor";
    case Role::kOperator: return "operator";
  }
  return "unknown";
}

std::optional<Role> RoleNamed(std::string_view name) {
  for (Role role : {Role::kPublisher, Role::kFinance, Role::kAuditor, Role::kOperator}) {
    if (name == RoleName(role)) return role;
  }
  return std::nullopt;
}

bool Allows(Role role, Permission permission) {
  switch (role) {
    case Role::kOperator: return true;
    case Role::kPublisher:
      return permission == Permission::kPublish || permission == Permission::kReadBalance;
    case Role::kFinance:
      return permission == Permission::kRead || permission == Permission::kReadBalance;
    case Role::kAuditor:
      return permission != Permission::kPublish && permission != Permission::kOperate &&
             permission != Permission::kReadPersonal;
  }
  return false;
}

TokenStore::TokenStore(std::string data_dir, const Clock* clock)
    : data_dir_(std::move(data_dir)), clock_(clock) {}

std::string TokenStore::path() const { return data_dir_ + "/tokens.json"; }

Result<std::vector<TokenInfo>> TokenStore::Load() const {
  std::vector<TokenInfo> tokens;
  Status status = internal::ReadJsonObject(
      path(), internal::JsonFileKind::kWrittenByTally,
      [&](std::string_view name, capnp::JsonValue::Reader value) -> Status {
        if (name == "format") {
          if (value.isString() && value.getString() == kFormat) return Status::Ok();
          return Status::Corruption(path() + ": not a " + kFormat + " file");
        }
        if (name != "tokens" || !value.isArray()) return Status::Ok();
        for (auto item : value.getArray()) {
          auto token = TokenOf(item);
          if (!token.ok()) return token.status().WithContext(path());
          tokens.push_back(std::move(token).value());
        }
        return Status::Ok();
      });
  if (status.code() == StatusCode::kNotFound) return tokens;
  if (!status.ok()) return status;
  return tokens;
}

Status TokenStore::Save(const std::vector<TokenInfo>& tokens) const {
  Json list = Json::Array();
  for (const TokenInfo& token : tokens) list.Push(TokenJson(token));
  Json file = Json::Object();
  file.Add("format", Json::String(kFormat)).Add("tokens", std::move(list));
  return WriteDurably(path(), Encode(file) + "\n");
}

Result<NewToken> TokenStore::Create(const std::string& name, Role role) {
  if (sodium_init() < 0) return Status::IoError("libsodium failed to initialise");
  if (name.empty()) return Status::InvalidArgument("name: give the token a name");
  FileLock lock(data_dir_ + "/tokens.lock");
  if (!lock.held()) return Status::IoError("cannot lock " + data_dir_ + "/tokens.lock");
  auto loaded = Load();
  if (!loaded.ok()) return loaded.status();
  std::vector<TokenInfo> tokens = std::move(loaded).value();
  if (tokens.size() >= limits::kTokensMax) {
    return Status::InvalidArgument("a data directory holds at most " +
                                   std::to_string(limits::kTokensMax) + " tokens");
  }
  std::array<unsigned char, kIdBytes> id;
  std::array<unsigned char, kSecretBytes> secret;
  randombytes_buf(id.data(), id.size());
  randombytes_buf(secret.data(), secret.size());
  std::string encoded(
      sodium_base64_ENCODED_LEN(secret.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(encoded.data(), encoded.size(), secret.data(), secret.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  encoded.resize(std::strlen(encoded.c_str()));
  sodium_memzero(secret.data(), secret.size());
  NewToken made;
  made.info =
      TokenInfo{Hex(id.data(), id.size()), name, role, clock_->NowMicros(), 0, HashOf(encoded)};
  made.text = std::string(kPrefix) + made.info.id + "_" + encoded;
  tokens.push_back(made.info);
  if (auto saved = Save(tokens); !saved.ok()) return saved;
  return made;
}

Result<std::vector<TokenInfo>> TokenStore::List() const { return Load(); }

Status TokenStore::Revoke(const std::string& id) {
  FileLock lock(data_dir_ + "/tokens.lock");
  if (!lock.held()) return Status::IoError("cannot lock " + data_dir_ + "/tokens.lock");
  auto loaded = Load();
  if (!loaded.ok()) return loaded.status();
  std::vector<TokenInfo> tokens = std::move(loaded).value();
  for (TokenInfo& token : tokens) {
    if (token.id != id) continue;
    if (token.revoked_at_micros == 0) token.revoked_at_micros = clock_->NowMicros();
    return Save(tokens);
  }
  return Status::NotFound("no token with id " + id);
}

Result<std::optional<TokenInfo>> TokenStore::Authenticate(std::string_view text) const {
  const size_t id_end = kPrefix.size() + kIdBytes * 2;
  if (!text.starts_with(kPrefix) || text.size() <= id_end + 1 || text[id_end] != '_') {
    return std::optional<TokenInfo>();
  }
  const std::string_view id = text.substr(kPrefix.size(), kIdBytes * 2);
  const std::string hash = HashOf(text.substr(id_end + 1));
  std::lock_guard guard(mutex_);
  if (std::string stamp = StampOf(path()); stamp != cached_stamp_) {
    auto tokens = Load();
    if (!tokens.ok()) return tokens.status();
    cached_ = std::move(tokens).value();
    cached_stamp_ = stamp;
  }
  for (const TokenInfo& token : cached_) {
    if (token.id != id || token.hash.size() != hash.size()) continue;
    if (sodium_memcmp(token.hash.data(), hash.data(), hash.size()) != 0)
      return std::optional<TokenInfo>();
    if (token.revoked_at_micros != 0) return std::optional<TokenInfo>();
    return std::optional<TokenInfo>(token);
  }
  return std::optional<TokenInfo>();
}

}  // namespace tally::service
