// Proof on the bytes on disk: which files under a directory hold a value.
#pragma once

#include <sodium.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "events/check.h"
#include "ledger/keystore.h"

namespace tally::testing {

// The files under `dir` (recursively) whose bytes contain `needle`.
inline std::vector<std::string> FilesContaining(const std::string& dir, const std::string& needle) {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos) {
      found.push_back(std::filesystem::relative(entry.path(), dir).string());
    }
  }
  return found;
}

inline MasterKey RandomMaster() {
  TALLY_CHECK(sodium_init() >= 0);
  MasterKey key;
  randombytes_buf(key.bytes.data(), key.bytes.size());
  return key;
}

inline std::string BytesOf(const DataKey& key) {
  return {reinterpret_cast<const char*>(key.bytes.data()), key.bytes.size()};
}

}  // namespace tally::testing
