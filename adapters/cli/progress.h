// A progress bar on stderr for long commands. Draws only when stderr is a
// terminal, at most ten times a second, so pipes and logs stay clean.
#pragma once

#include <cstdint>
#include <string>

namespace tally::cli {

class Progress {
 public:
  // `total` units of work (0: unknown), described by `label` ("parsing").
  Progress(std::string label, uint64_t total);
  ~Progress();  // clears the bar
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Update(uint64_t done);

 private:
  std::string label_;
  uint64_t total_;
  bool enabled_;
  int64_t last_draw_ms_ = 0;
  bool drawn_ = false;
};

}  // namespace tally::cli
