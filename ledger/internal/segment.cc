#include "ledger/internal/segment.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fcntl.h>
#include <kj/io.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "ledger/internal/json_file.h"
#include "ledger/internal/record.h"
#include "schema/event.capnp.h"

namespace tally::internal {
namespace {

std::string Hex(const Hash& hash) { return HashHex(hash); }

bool FromHex(const std::string& hex, Hash* out) {
  size_t written = 0;
  return hex.size() == kHashBytes * 2 &&
         sodium_hex2bin(out->data(), out->size(), hex.data(), hex.size(), nullptr, &written,
                        nullptr) == 0 &&
         written == kHashBytes;
}

Status WriteAll(int fd, const void* data, size_t size, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::IoError("writing " + path + ": " + std::strerror(errno));
    p += n;
    size -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IoError("opening " + dir + ": " + std::strerror(errno));
  int synced = ::fsync(fd);
  ::close(fd);
  return synced == 0 ? Status::Ok() : Status::IoError("syncing " + dir);
}

std::string ManifestJson(const SegmentManifest& m) {
  return std::string("{\"format\":\"") + kSegmentFormat + "\",\"name\":\"" + m.name +
         "\",\"first_seq\":" + std::to_string(m.first_seq) +
         ",\"last_seq\":" + std::to_string(m.last_seq) + ",\"events\":" + std::to_string(m.events) +
         ",\"prev_hash\":\"" + Hex(m.prev_hash) + "\",\"last_hash\":\"" + Hex(m.last_hash) +
         "\",\"segment_blake2b\":\"" + Hex(m.segment_blake2b) + "\",\"base_state_hash\":\"" +
         Hex(m.base_state_hash) + "\"}\n";
}

Result<SegmentManifest> ReadManifest(const std::string& path) {
  SegmentManifest m;
  std::string format;
  bool hashes_ok = true;
  auto hash = [&](capnp::JsonValue::Reader value, Hash* out) {
    hashes_ok = hashes_ok && value.isString() && FromHex(value.getString().cStr(), out);
  };
  auto status = ReadJsonObject(path, JsonFileKind::kWrittenByTally,
                               [&](std::string_view name, capnp::JsonValue::Reader v) {
                                 // Whole numbers up to 2^53 only (a cast of a larger one is
                                 // undefined).
                                 auto number = [&]() -> uint64_t {
                                   double n = v.isNumber() ? v.getNumber() : -1;
                                   return n >= 0 && n <= 9007199254740992.0 &&
                                                  n == static_cast<double>(static_cast<uint64_t>(n))
                                              ? static_cast<uint64_t>(n)
                                              : 0;
                                 };
                                 if (name == "format" && v.isString())
                                   format = v.getString().cStr();
                                 if (name == "name" && v.isString()) m.name = v.getString().cStr();
                                 if (name == "first_seq") m.first_seq = number();
                                 if (name == "last_seq") m.last_seq = number();
                                 if (name == "events") m.events = number();
                                 if (name == "prev_hash") hash(v, &m.prev_hash);
                                 if (name == "last_hash") hash(v, &m.last_hash);
                                 if (name == "segment_blake2b") hash(v, &m.segment_blake2b);
                                 if (name == "base_state_hash") hash(v, &m.base_state_hash);
                                 return Status::Ok();
                               });
  if (!status.ok()) return status;
  if (format != kSegmentFormat || !hashes_ok || m.first_seq == 0 || m.last_seq < m.first_seq ||
      m.events != m.last_seq - m.first_seq + 1 || m.name != SegmentName(m.first_seq, m.last_seq)) {
    return Status::Corruption(path + " is not a valid " + kSegmentFormat + " manifest");
  }
  return m;
}

}  // namespace

std::string SegmentName(uint64_t first_seq, uint64_t last_seq) {
  char name[64];
  std::snprintf(name, sizeof(name), "segment-%020llu-%020llu",
                static_cast<unsigned long long>(first_seq),
                static_cast<unsigned long long>(last_seq));
  return name;
}

std::string SegmentPath(const std::string& dir, const std::string& name) {
  return (std::filesystem::path(dir) / (name + ".capnp")).string();
}

std::string ManifestPath(const std::string& dir, const std::string& name) {
  return (std::filesystem::path(dir) / (name + ".manifest.json")).string();
}

struct SegmentWriter::State {
  std::string dir;
  std::string name;
  std::string temp_path;
  int fd = -1;
  crypto_generichash_state digest;
  ~State() {  // not finished: nothing half-written stays behind
    if (fd >= 0) {
      ::close(fd);
      ::unlink(temp_path.c_str());
    }
  }
};

SegmentWriter::~SegmentWriter() = default;

Result<std::unique_ptr<SegmentWriter>> SegmentWriter::Create(const std::string& dir,
                                                             const std::string& name) {
  TALLY_CHECK(sodium_init() >= 0);
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return Status::IoError("creating " + dir + ": " + error.message());
  std::unique_ptr<SegmentWriter> writer(new SegmentWriter());
  writer->state_ = std::make_unique<State>();
  State& s = *writer->state_;
  s.dir = dir;
  s.name = name;
  s.temp_path = SegmentPath(dir, name) + ".tmp";
  s.fd = ::open(s.temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (s.fd < 0) return Status::IoError("creating " + s.temp_path + ": " + std::strerror(errno));
  crypto_generichash_init(&s.digest, nullptr, 0, kHashBytes);
  return writer;
}

Status SegmentWriter::Add(uint64_t seq, const std::string& record_bytes) {
  capnp::MallocMessageBuilder message;
  auto record = message.initRoot<schema::ArchivedRecord>();
  record.setSeq(seq);
  record.setRecord(
      kj::arrayPtr(reinterpret_cast<const kj::byte*>(record_bytes.data()), record_bytes.size()));
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  crypto_generichash_update(&state_->digest, bytes.begin(), bytes.size());
  return WriteAll(state_->fd, bytes.begin(), bytes.size(), state_->temp_path);
}

Status SegmentWriter::Finish(SegmentManifest* manifest) {
  State& s = *state_;
  manifest->name = s.name;
  crypto_generichash_final(&s.digest, manifest->segment_blake2b.data(),
                           manifest->segment_blake2b.size());
  if (::fsync(s.fd) != 0) return Status::IoError("syncing " + s.temp_path);
  ::close(s.fd);
  s.fd = -1;
  struct Unlink {  // the segment's temporary file, unless it was renamed
    std::string path;
    ~Unlink() { std::filesystem::remove(path, ignored); }
    std::error_code ignored;
  } cleanup{s.temp_path, {}};
  const std::string manifest_temp = ManifestPath(s.dir, s.name) + ".tmp";
  {
    int fd = ::open(manifest_temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Status::IoError("creating " + manifest_temp + ": " + std::strerror(errno));
    std::string json = ManifestJson(*manifest);
    Status written = WriteAll(fd, json.data(), json.size(), manifest_temp);
    if (written.ok() && ::fsync(fd) != 0) written = Status::IoError("syncing " + manifest_temp);
    ::close(fd);
    if (!written.ok()) return written;
  }
  std::error_code error;
  std::filesystem::rename(s.temp_path, SegmentPath(s.dir, s.name), error);
  if (!error) std::filesystem::rename(manifest_temp, ManifestPath(s.dir, s.name), error);
  if (error) return Status::IoError("renaming the segment " + s.name + ": " + error.message());
  return SyncDir(s.dir);
}

Result<std::vector<SegmentManifest>> ListSegments(const std::string& dir) {
  std::vector<SegmentManifest> segments;
  std::error_code error;
  if (!std::filesystem::exists(dir, error)) return segments;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string file = entry.path().filename().string();
    const std::string suffix = ".manifest.json";
    if (!file.starts_with("segment-") || !file.ends_with(suffix)) continue;
    auto manifest = ReadManifest(entry.path().string());
    if (!manifest.ok()) return manifest.status();
    segments.push_back(*manifest);
  }
  if (error) return Status::IoError("listing " + dir + ": " + error.message());
  std::sort(segments.begin(), segments.end(),
            [](const auto& a, const auto& b) { return a.first_seq < b.first_seq; });
  return segments;
}

Status ReadSegment(const std::string& dir, const SegmentManifest& manifest,
                   const std::function<bool(const LoggedEvent&)>& visit) {
  const std::string path = SegmentPath(dir, manifest.name);
  auto bad = [&](const std::string& what) { return Status::Corruption(path + ": " + what); };
  {  // The whole file against its digest first.
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::NotFound("the archived segment " + path + " is missing");
    crypto_generichash_state digest;
    crypto_generichash_init(&digest, nullptr, 0, kHashBytes);
    std::vector<char> buffer(1 << 20);
    while (in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      crypto_generichash_update(&digest, reinterpret_cast<const unsigned char*>(buffer.data()),
                                static_cast<size_t>(in.gcount()));
    }
    Hash sum;
    crypto_generichash_final(&digest, sum.data(), sum.size());
    if (sum != manifest.segment_blake2b) return bad("does not match its manifest's digest");
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IoError("opening " + path + ": " + std::strerror(errno));
  kj::AutoCloseFd owned(fd);
  uint64_t expected = manifest.first_seq;
  // Never return while a message reader is alive: its destructor skips the
  // rest of a damaged message and may throw, which would leak the Status
  // being returned. Each reader ends with its loop iteration.
  Status result;
  bool stopped = false;
  try {
    kj::FdInputStream raw(owned.get());
    kj::BufferedInputStreamWrapper buffered(raw);
    while (result.ok() && !stopped && buffered.tryGetReadBuffer().size() > 0) {
      capnp::InputStreamMessageReader message(buffered);
      auto archived = message.getRoot<schema::ArchivedRecord>();
      if (archived.getSeq() != expected) {
        result = bad("holds seq " + std::to_string(archived.getSeq()) + " where seq " +
                     std::to_string(expected) + " belongs");
        continue;
      }
      auto bytes = archived.getRecord();
      auto record = DecodeRecord(
          expected, std::string_view(reinterpret_cast<const char*>(bytes.begin()), bytes.size()));
      if (!record.ok()) {
        result = bad(record.status().message());
        continue;
      }
      ++expected;
      stopped = !visit(*record);
    }
  } catch (const kj::Exception& e) {
    return bad(e.getDescription().cStr());
  }
  if (!result.ok() || stopped) return result;
  if (expected != manifest.last_seq + 1) return bad("ends before its last seq");
  return Status::Ok();
}

}  // namespace tally::internal
