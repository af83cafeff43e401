// A RocksDB info logger that fails quietly (ledger/internal/info_log.h).
#include "ledger/internal/info_log.h"

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <mutex>

namespace tally::internal {
namespace {

constexpr size_t kLineBytesMax = 4096;  // longer lines are cut (RocksDB's stats run long)

class InfoLog final : public rocksdb::Logger {
 public:
  explicit InfoLog(std::unique_ptr<rocksdb::FSWritableFile> file)
      : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL), file_(std::move(file)) {}
  ~InfoLog() override { (void)CloseImpl(); }

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char line[kLineBytesMax];
    const size_t prefix = Timestamp(line, sizeof(line));
    va_list copy;
    va_copy(copy, ap);
    int written = std::vsnprintf(line + prefix, sizeof(line) - prefix - 1, format, copy);
    va_end(copy);
    size_t size = prefix + (written < 0 ? 0 : static_cast<size_t>(written));
    size = std::min(size, sizeof(line) - 2);
    line[size++] = '\n';
    std::lock_guard lock(mutex_);
    if (file_ == nullptr || failed_) return;
    rocksdb::IOOptions io;
    auto status = file_->Append(rocksdb::Slice(line, size), io, nullptr);
    if (status.ok()) status = file_->Flush(io, nullptr);
    failed_ = !status.ok();
  }

 protected:
  rocksdb::Status CloseImpl() override {
    std::lock_guard lock(mutex_);
    if (file_ != nullptr) (void)file_->Close(rocksdb::IOOptions(), nullptr);
    file_.reset();
    return rocksdb::Status::OK();
  }

 private:
  static size_t Timestamp(char* out, size_t size) {
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
        1'000'000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    size_t length = std::strftime(out, size, "%Y-%m-%dT%H:%M:%S", &utc);
    int more =
        std::snprintf(out + length, size - length, ".%06lldZ ", static_cast<long long>(micros));
    return length + (more < 0 ? 0 : static_cast<size_t>(more));
  }

  std::mutex mutex_;
  std::unique_ptr<rocksdb::FSWritableFile> file_;  // under mutex_; null: drop lines
  bool failed_ = false;                            // under mutex_
};

}  // namespace

std::shared_ptr<rocksdb::Logger> NewInfoLog(rocksdb::FileSystem* fs, const std::string& dir) {
  rocksdb::IOOptions io;
  const std::string path = (std::filesystem::path(dir) / "LOG").string();
  std::unique_ptr<rocksdb::FSWritableFile> file;
  auto status = fs->CreateDirIfMissing(dir, io, nullptr);
  if (status.ok() && fs->FileExists(path, io, nullptr).ok()) {
    (void)fs->RenameFile(path, path + ".old", io, nullptr);
  }
  if (status.ok()) status = fs->NewWritableFile(path, rocksdb::FileOptions(), &file, nullptr);
  if (!status.ok()) file.reset();
  return std::make_shared<InfoLog>(std::move(file));
}

std::shared_ptr<rocksdb::Logger> NewSilentInfoLog() { return std::make_shared<InfoLog>(nullptr); }

}  // namespace tally::internal
