// RocksDB's diagnostic log (the LOG file in a store's directory), written
// through the store's FileSystem by a logger that survives a full disk.
//
// RocksDB 7.8's own logger (EnvLogger) appends again to a file whose last
// write failed, which trips an assertion in WritableFileWriter
// (`sync_without_flush_called_`) in Debian's build, which keeps assertions:
// a full disk aborted the process (exit 134) as soon as a store opened.
// This logger writes each line with one append and stops at its first
// failure: the diagnostics are lost, the store's own writes report the
// error as a Status.
#pragma once

#include <memory>
#include <string>

namespace rocksdb {
class FileSystem;
class Logger;
}  // namespace rocksdb

namespace tally::internal {

// A logger writing `dir`/LOG through `fs` (the previous LOG becomes
// LOG.old). `dir` is created if missing. Never fails: if the file cannot be
// made, the logger drops every line.
std::shared_ptr<rocksdb::Logger> NewInfoLog(rocksdb::FileSystem* fs, const std::string& dir);

// A logger that drops every line (read-only opens: they leave the writer's
// LOG alone).
std::shared_ptr<rocksdb::Logger> NewSilentInfoLog();

}  // namespace tally::internal
