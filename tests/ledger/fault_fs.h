// A RocksDB FileSystem that fails on purpose, as a full or failing disk
// would: writes (IOStatus::NoSpace), syncs (IOError), renames and new files,
// from a chosen operation on, optionally only for paths containing a given
// text. Wired into a store through its options' `env` (NewCompositeEnv), never
// globally.
//
// It also loses power: from a chosen operation on, every change to the disk
// fails (the machine is off), and after the stores are closed the files it
// wrote are put back as a disk would hold them after the reboot: what was
// synced survives; of what was not, nothing, or a random part (a torn
// write). Directory entries are taken as durable once made (RocksDB syncs
// its directories; a lost one is not simulated).
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace tally::testing {

enum FaultKind : unsigned {
  kFailWrites = 1,    // Append, PositionedAppend, RW Write: NoSpace
  kFailSyncs = 2,     // Sync, Fsync, RangeSync: IOError
  kFailRenames = 4,   // RenameFile: IOError
  kFailNewFiles = 8,  // NewWritableFile, ReopenWritableFile, NewRandomRWFile: NoSpace
  kDiskFull = kFailWrites | kFailNewFiles,
};

// What to fail and when. Thread-safe.
class FaultPlan {
 public:
  // Fails `kinds` from the (`ok_ops_before`+1)-th matching operation on, for
  // paths containing `path_part` (empty: every path).
  void Inject(unsigned kinds, int ok_ops_before = 0, std::string path_part = "") {
    std::lock_guard lock(mutex_);
    kinds_ = kinds;
    ok_ops_left_ = ok_ops_before;
    path_part_ = std::move(path_part);
  }
  void Clear() { Inject(0); }
  int failures() const { return failures_.load(); }

  // Power is cut at the (`ok_ops_before`+1)-th change to the disk from now.
  void CutPowerAfter(int ok_ops_before) {
    std::lock_guard lock(mutex_);
    power_armed_ = true;
    power_ops_left_ = ok_ops_before;
    power_ops_counted_ = 0;
  }
  bool power_off() {
    std::lock_guard lock(mutex_);
    return power_armed_ && power_ops_left_ < 0;
  }
  // Whether the change to `path` about to be made is lost (the power is
  // off). RocksDB's diagnostic LOG is written line by line: its lines do not
  // count as changes, or most cuts would land in the options it logs on open.
  bool PowerOff(const std::string& path) {
    std::lock_guard lock(mutex_);
    if (!power_armed_) return false;
    if (path.ends_with("/LOG")) return power_ops_left_ < 0;
    ++power_ops_counted_;
    return --power_ops_left_ < 0;
  }
  // Changes to the disk counted since the power was last cut or armed.
  int power_ops_counted() {
    std::lock_guard lock(mutex_);
    return power_ops_counted_;
  }

  // What the disk holds after the reboot (call with every store closed):
  // each file written since the last call keeps its synced bytes and, if
  // `tear`, a random part of the rest. Then the power is on again.
  void Reboot(std::mt19937_64& rng, bool tear) {
    std::lock_guard lock(mutex_);
    for (auto& [path, file] : files_) file.Reboot(path, rng, tear);
    files_.clear();
    power_armed_ = false;
  }

  // What the files written through this file system hold, for Reboot.
  void Created(const std::string& path, uint64_t size) {
    std::lock_guard lock(mutex_);
    files_[path] = TrackedFile{size, size, {}, {}};
  }
  void CreatedInPlace(const std::string& path, std::string image) {
    std::lock_guard lock(mutex_);
    files_[path] = TrackedFile{0, 0, std::move(image), {}, true};
  }
  void Appended(const std::string& path, uint64_t end) {
    std::lock_guard lock(mutex_);
    auto& file = files_[path];
    file.written = std::max(file.written, end);
  }
  void Wrote(const std::string& path, uint64_t offset, std::string data) {
    std::lock_guard lock(mutex_);
    files_[path].pending.emplace_back(offset, std::move(data));
  }
  void Synced(const std::string& path) {
    std::lock_guard lock(mutex_);
    auto& file = files_[path];
    file.synced = file.written;
    for (auto& write : file.pending) file.Apply(write, write.second.size());
    file.pending.clear();
  }
  void Renamed(const std::string& from, const std::string& to) {
    std::lock_guard lock(mutex_);
    auto it = files_.find(from);
    if (it == files_.end()) return;
    files_[to] = std::move(it->second);
    files_.erase(from);
  }
  void Deleted(const std::string& path) {
    std::lock_guard lock(mutex_);
    files_.erase(path);
  }

  // Whether an operation of `kind` on `path` fails now.
  bool Fails(FaultKind kind, const std::string& path) {
    std::lock_guard lock(mutex_);
    if ((kinds_ & kind) == 0) return false;
    if (!path_part_.empty() && path.find(path_part_) == std::string::npos) return false;
    if (ok_ops_left_ > 0) {
      --ok_ops_left_;
      return false;
    }
    ++failures_;
    return true;
  }

 private:
  std::mutex mutex_;
  unsigned kinds_ = 0;
  int ok_ops_left_ = 0;
  std::string path_part_;
  std::atomic<int> failures_{0};

  // A file as the disk will hold it: appended files by length, files
  // written in place (the high-water mark) by their synced image.
  struct TrackedFile {
    uint64_t written = 0;
    uint64_t synced = 0;
    std::string image;  // in-place files: the content as last synced
    std::vector<std::pair<uint64_t, std::string>> pending;  // in-place writes since
    bool in_place = false;

    void Apply(const std::pair<uint64_t, std::string>& write, size_t bytes) {
      const auto& [offset, data] = write;
      if (image.size() < offset + bytes) image.resize(offset + bytes, '\0');
      image.replace(offset, bytes, data, 0, bytes);
    }
    void Reboot(const std::string& path, std::mt19937_64& rng, bool tear) {
      std::error_code error;
      if (!std::filesystem::exists(path, error)) return;
      if (!in_place) {
        uint64_t keep = synced;
        if (tear && written > synced) keep += rng() % (written - synced + 1);
        if (std::filesystem::file_size(path, error) > keep) {
          std::filesystem::resize_file(path, keep, error);
        }
        return;
      }
      if (pending.empty()) return;
      if (tear) {  // the first writes reached the disk, the next one in part
        const size_t whole = rng() % pending.size();
        for (size_t i = 0; i < whole; ++i) Apply(pending[i], pending[i].second.size());
        Apply(pending[whole], rng() % (pending[whole].second.size() + 1));
      }
      std::FILE* out = std::fopen(path.c_str(), "wb");
      if (out == nullptr) return;
      std::fwrite(image.data(), 1, image.size(), out);
      std::fclose(out);
    }
  };
  bool power_armed_ = false;
  int power_ops_left_ = 0;
  int power_ops_counted_ = 0;
  std::map<std::string, TrackedFile> files_;
};

// The fault, if any, for an operation of `kind` on `path`: a power cut
// first, then what the plan injects.
inline rocksdb::IOStatus FaultFor(FaultPlan* plan, FaultKind kind, const std::string& path) {
  if (plan->PowerOff(path)) return rocksdb::IOStatus::IOError("power cut", path);
  if (!plan->Fails(kind, path)) return rocksdb::IOStatus::OK();
  if (kind == kFailWrites || kind == kFailNewFiles) {
    return rocksdb::IOStatus::NoSpace("injected", path);
  }
  return rocksdb::IOStatus::IOError(kind == kFailSyncs ? "injected sync" : "injected rename", path);
}

// A sync, unless faulted; once done, what was written to `path` is durable.
template <typename Sync>
rocksdb::IOStatus SyncTracked(FaultPlan* plan, const std::string& path, Sync sync) {
  if (auto fault = FaultFor(plan, kFailSyncs, path); !fault.ok()) return fault;
  auto status = sync();
  if (status.ok()) plan->Synced(path);
  return status;
}

class FaultyWritableFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyWritableFile(std::unique_ptr<rocksdb::FSWritableFile> file, std::string path,
                     FaultPlan* plan, uint64_t size)
      : FSWritableFileOwnerWrapper(std::move(file)), path_(std::move(path)), plan_(plan),
        end_(size) {}
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    return Appended(end_ + data.size(), [&] { return target()->Append(data, options, dbg); });
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    return Appended(end_ + data.size(),
                    [&] { return target()->Append(data, options, info, dbg); });
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    return Appended(offset + data.size(),
                    [&] { return target()->PositionedAppend(data, offset, options, dbg); });
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info,
                                     rocksdb::IODebugContext* dbg) override {
    return Appended(offset + data.size(),
                    [&] { return target()->PositionedAppend(data, offset, options, info, dbg); });
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    return Synced([&] { return target()->Sync(options, dbg); });
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    return Synced([&] { return target()->Fsync(options, dbg); });
  }
  rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override {
    // Not a promise that the range is durable: what was synced stays as it was.
    if (auto fault = FaultFor(plan_, kFailSyncs, path_); !fault.ok()) return fault;
    return target()->RangeSync(offset, nbytes, options, dbg);
  }

 private:
  template <typename Write>
  rocksdb::IOStatus Appended(uint64_t end, Write write) {
    if (auto fault = FaultFor(plan_, kFailWrites, path_); !fault.ok()) return fault;
    auto status = write();
    if (status.ok()) {
      end_ = std::max(end_, end);
      plan_->Appended(path_, end_);
    }
    return status;
  }
  template <typename Sync>
  rocksdb::IOStatus Synced(Sync sync) {
    return SyncTracked(plan_, path_, sync);
  }
  const std::string path_;
  FaultPlan* plan_;
  uint64_t end_;
};

class FaultyRandomRWFile final : public rocksdb::FSRandomRWFileOwnerWrapper {
 public:
  FaultyRandomRWFile(std::unique_ptr<rocksdb::FSRandomRWFile> file, std::string path,
                     FaultPlan* plan)
      : FSRandomRWFileOwnerWrapper(std::move(file)), path_(std::move(path)), plan_(plan) {}
  rocksdb::IOStatus Write(uint64_t offset, const rocksdb::Slice& data,
                          const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    if (auto fault = FaultFor(plan_, kFailWrites, path_); !fault.ok()) return fault;
    auto status = target()->Write(offset, data, options, dbg);
    if (status.ok()) plan_->Wrote(path_, offset, data.ToString());
    return status;
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    return Synced([&] { return target()->Sync(options, dbg); });
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    return Synced([&] { return target()->Fsync(options, dbg); });
  }

 private:
  template <typename Sync>
  rocksdb::IOStatus Synced(Sync sync) {
    return SyncTracked(plan_, path_, sync);
  }
  const std::string path_;
  FaultPlan* plan_;
};

class FaultyFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  FaultyFileSystem(std::shared_ptr<rocksdb::FileSystem> base, FaultPlan* plan)
      : FileSystemWrapper(std::move(base)), plan_(plan) {}
  const char* Name() const override { return "FaultyFileSystem"; }

  rocksdb::IOStatus NewWritableFile(const std::string& path, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    if (auto fault = FaultFor(plan_, kFailNewFiles, path); !fault.ok()) return fault;
    return Wrap(path, target()->NewWritableFile(path, options, result, dbg), result);
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& path, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override {
    if (auto fault = FaultFor(plan_, kFailNewFiles, path); !fault.ok()) return fault;
    return Wrap(path, target()->ReopenWritableFile(path, options, result, dbg), result);
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& path, const std::string& old_path,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override {
    if (auto fault = FaultFor(plan_, kFailNewFiles, path); !fault.ok()) return fault;
    plan_->Renamed(old_path, path);
    return Wrap(path, target()->ReuseWritableFile(path, old_path, options, result, dbg), result);
  }
  rocksdb::IOStatus NewRandomRWFile(const std::string& path, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    if (auto fault = FaultFor(plan_, kFailNewFiles, path); !fault.ok()) return fault;
    std::string image;
    (void)rocksdb::ReadFileToString(target(), path, &image);
    auto status = target()->NewRandomRWFile(path, options, result, dbg);
    if (!status.ok()) return status;
    plan_->CreatedInPlace(path, std::move(image));
    *result = std::make_unique<FaultyRandomRWFile>(std::move(*result), path, plan_);
    return status;
  }
  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override {
    if (auto fault = FaultFor(plan_, kFailRenames, to); !fault.ok()) return fault;
    auto status = target()->RenameFile(from, to, options, dbg);
    if (status.ok()) plan_->Renamed(from, to);
    return status;
  }
  rocksdb::IOStatus DeleteFile(const std::string& path, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override {
    if (plan_->PowerOff(path)) return rocksdb::IOStatus::IOError("power cut", path);
    auto status = target()->DeleteFile(path, options, dbg);
    if (status.ok()) plan_->Deleted(path);
    return status;
  }
  rocksdb::IOStatus CreateDirIfMissing(const std::string& path, const rocksdb::IOOptions& options,
                                       rocksdb::IODebugContext* dbg) override {
    if (plan_->PowerOff(path)) return rocksdb::IOStatus::IOError("power cut", path);
    return target()->CreateDirIfMissing(path, options, dbg);
  }

 private:
  rocksdb::IOStatus Wrap(const std::string& path, rocksdb::IOStatus status,
                         std::unique_ptr<rocksdb::FSWritableFile>* result) {
    if (!status.ok()) return status;
    const uint64_t size = (*result)->GetFileSize(rocksdb::IOOptions(), nullptr);
    plan_->Created(path, size);
    *result = std::make_unique<FaultyWritableFile>(std::move(*result), path, plan_, size);
    return status;
  }
  FaultPlan* plan_;
};

// An Env whose files go through a FaultyFileSystem. Its NewLogger makes
// RocksDB's own logger (EnvLogger) over those files too, as the default Env
// does over the disk: a store that leaves its LOG to RocksDB meets the fault
// there as well.
class FaultyEnv final : public rocksdb::EnvWrapper {
 public:
  explicit FaultyEnv(std::unique_ptr<rocksdb::Env> composite)
      : EnvWrapper(composite.get()), owned_(std::move(composite)) {}
  const char* Name() const override { return "FaultyEnv"; }
  rocksdb::Status NewLogger(const std::string& path,
                            std::shared_ptr<rocksdb::Logger>* result) override {
    return rocksdb::NewEnvLogger(path, this, result);
  }

 private:
  std::unique_ptr<rocksdb::Env> owned_;
};

// An Env whose files go through a FaultyFileSystem driven by `plan`.
inline std::unique_ptr<rocksdb::Env> NewFaultyEnv(FaultPlan* plan) {
  auto fs = std::make_shared<FaultyFileSystem>(rocksdb::FileSystem::Default(), plan);
  return std::make_unique<FaultyEnv>(rocksdb::NewCompositeEnv(fs));
}

}  // namespace tally::testing
