// A RocksDB FileSystem that fails on purpose, as a full or failing disk
// would: writes (IOStatus::NoSpace), syncs (IOError), renames and new files,
// from a chosen operation on, optionally only for paths containing a given
// text. Wired into a store through its options' `env` (NewCompositeEnv), never
// globally.
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

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
};

class FaultyWritableFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyWritableFile(std::unique_ptr<rocksdb::FSWritableFile> file, std::string path,
                     FaultPlan* plan)
      : FSWritableFileOwnerWrapper(std::move(file)), path_(std::move(path)), plan_(plan) {}
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    if (plan_->Fails(kFailWrites, path_)) return NoSpace();
    return target()->Append(data, options, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    if (plan_->Fails(kFailWrites, path_)) return NoSpace();
    return target()->Append(data, options, info, dbg);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    if (plan_->Fails(kFailWrites, path_)) return NoSpace();
    return target()->PositionedAppend(data, offset, options, dbg);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info,
                                     rocksdb::IODebugContext* dbg) override {
    if (plan_->Fails(kFailWrites, path_)) return NoSpace();
    return target()->PositionedAppend(data, offset, options, info, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (plan_->Fails(kFailSyncs, path_)) return SyncFailed();
    return target()->Sync(options, dbg);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    if (plan_->Fails(kFailSyncs, path_)) return SyncFailed();
    return target()->Fsync(options, dbg);
  }
  rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override {
    if (plan_->Fails(kFailSyncs, path_)) return SyncFailed();
    return target()->RangeSync(offset, nbytes, options, dbg);
  }

 private:
  rocksdb::IOStatus NoSpace() const { return rocksdb::IOStatus::NoSpace("injected", path_); }
  rocksdb::IOStatus SyncFailed() const {
    return rocksdb::IOStatus::IOError("injected sync", path_);
  }
  const std::string path_;
  FaultPlan* plan_;
};

class FaultyRandomRWFile final : public rocksdb::FSRandomRWFileOwnerWrapper {
 public:
  FaultyRandomRWFile(std::unique_ptr<rocksdb::FSRandomRWFile> file, std::string path,
                     FaultPlan* plan)
      : FSRandomRWFileOwnerWrapper(std::move(file)), path_(std::move(path)), plan_(plan) {}
  rocksdb::IOStatus Write(uint64_t offset, const rocksdb::Slice& data,
                          const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    if (plan_->Fails(kFailWrites, path_)) return rocksdb::IOStatus::NoSpace("injected", path_);
    return target()->Write(offset, data, options, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (plan_->Fails(kFailSyncs, path_)) return rocksdb::IOStatus::IOError("injected sync", path_);
    return target()->Sync(options, dbg);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    if (plan_->Fails(kFailSyncs, path_)) return rocksdb::IOStatus::IOError("injected sync", path_);
    return target()->Fsync(options, dbg);
  }

 private:
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
    if (plan_->Fails(kFailNewFiles, path)) return rocksdb::IOStatus::NoSpace("injected", path);
    return Wrap(path, target()->NewWritableFile(path, options, result, dbg), result);
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& path, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override {
    if (plan_->Fails(kFailNewFiles, path)) return rocksdb::IOStatus::NoSpace("injected", path);
    return Wrap(path, target()->ReopenWritableFile(path, options, result, dbg), result);
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& path, const std::string& old_path,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override {
    if (plan_->Fails(kFailNewFiles, path)) return rocksdb::IOStatus::NoSpace("injected", path);
    return Wrap(path, target()->ReuseWritableFile(path, old_path, options, result, dbg), result);
  }
  rocksdb::IOStatus NewRandomRWFile(const std::string& path, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    if (plan_->Fails(kFailNewFiles, path)) return rocksdb::IOStatus::NoSpace("injected", path);
    auto status = target()->NewRandomRWFile(path, options, result, dbg);
    if (status.ok())
      *result = std::make_unique<FaultyRandomRWFile>(std::move(*result), path, plan_);
    return status;
  }
  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override {
    if (plan_->Fails(kFailRenames, to)) return rocksdb::IOStatus::IOError("injected rename", to);
    return target()->RenameFile(from, to, options, dbg);
  }

 private:
  rocksdb::IOStatus Wrap(const std::string& path, rocksdb::IOStatus status,
                         std::unique_ptr<rocksdb::FSWritableFile>* result) {
    if (status.ok())
      *result = std::make_unique<FaultyWritableFile>(std::move(*result), path, plan_);
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
