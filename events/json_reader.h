// Reading JSON text into Cap'n Proto's JsonValue tree, strictly.
//
// The text is parsed by simdjson, which validates UTF-8 and decodes every
// escape (including surrogate pairs) exactly; Debian 12's capnp-json text
// parser misreads \u escapes and so is never used on producer input. On top
// of RFC 8259 this reader refuses what a billing ledger must not guess at:
// duplicate keys in one object, numbers a double cannot hold exactly, and
// anything after the value.
#pragma once

#include <capnp/compat/json.h>

#include <memory>
#include <string_view>

#include "events/limits.h"
#include "events/status.h"

namespace tally {

// Owns simdjson's parser buffers (reused across calls). Not thread-safe.
class JsonReader {
 public:
  // Texts longer than `size_bytes_max` are refused; objects and arrays
  // nest at most `depth_max` deep.
  explicit JsonReader(size_t size_bytes_max = limits::kEventJsonBytesMax,
                      uint32_t depth_max = limits::kJsonNestingMax);
  ~JsonReader();
  JsonReader(const JsonReader&) = delete;
  JsonReader& operator=(const JsonReader&) = delete;

  // Parses `text` into `out`. Returns InvalidArgument naming the member by
  // its JSON path ("data.credits: duplicate key") where there is one.
  Status Read(std::string_view text, capnp::JsonValue::Builder out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tally
