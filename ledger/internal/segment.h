// Archived log segments on disk (docs/formats/archive.md): a Cap'n Proto
// segment file of ArchivedRecord messages, one per record in seq order, and
// a JSON manifest beside it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "events/status.h"
#include "ledger/ledger.h"

namespace tally::internal {

inline constexpr const char* kSegmentFormat = "tally-segment-1";

struct SegmentManifest {
  std::string name;  // "segment-<first:020>-<last:020>"
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  uint64_t events = 0;
  Hash prev_hash{};  // chain hash at first_seq - 1
  Hash last_hash{};  // chain hash at last_seq
  Hash segment_blake2b{};
  Hash base_state_hash{};  // of the live log's base once this segment was purged
};

std::string SegmentName(uint64_t first_seq, uint64_t last_seq);
std::string SegmentPath(const std::string& dir, const std::string& name);   // .capnp
std::string ManifestPath(const std::string& dir, const std::string& name);  // .manifest.json

// Writes a segment file and its manifest through temporary names, synced,
// then renamed into place: a crash leaves either both or neither.
class SegmentWriter {
 public:
  static Result<std::unique_ptr<SegmentWriter>> Create(const std::string& dir,
                                                       const std::string& name);
  ~SegmentWriter();
  // REQUIRES: seqs in order, without gaps.
  Status Add(uint64_t seq, const std::string& record_bytes);
  // Fills the manifest's name and digest, writes both files in place.
  Status Finish(SegmentManifest* manifest);

 private:
  SegmentWriter() = default;
  struct State;
  std::unique_ptr<State> state_;
};

// The manifests in `dir`, in seq order; empty if the directory is absent.
Result<std::vector<SegmentManifest>> ListSegments(const std::string& dir);

// Calls `visit` for each record of the segment, in order; checks the file
// against the manifest's digest and seq range. Corruption names the file.
Status ReadSegment(const std::string& dir, const SegmentManifest& manifest,
                   const std::function<bool(const LoggedEvent&)>& visit);

}  // namespace tally::internal
