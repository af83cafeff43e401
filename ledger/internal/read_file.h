// Reading a small file whole, without exceptions (a directory or an
// unreadable path is a Status, never a crash).
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "events/status.h"

namespace tally::internal {

// NotFound if nothing is at `path`; IoError if it is not a regular file or
// cannot be read.
inline Result<std::string> ReadWholeFile(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error) && !error)
    return Status::NotFound("no file at " + path);
  if (!std::filesystem::is_regular_file(path, error)) {
    return Status::IoError(path + " is not a regular file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path + " cannot be read");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::IoError("reading " + path + " failed");
  return bytes;
}

}  // namespace tally::internal
