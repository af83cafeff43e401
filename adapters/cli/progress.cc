#include "adapters/cli/progress.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace tally::cli {
namespace {

constexpr int64_t kRedrawIntervalMs = 100;
constexpr int kBarWidth = 30;

int64_t SteadyNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Progress::Progress(std::string label, uint64_t total)
    : label_(std::move(label)), total_(total), enabled_(isatty(STDERR_FILENO) == 1) {}

Progress::~Progress() {
  if (drawn_) std::fprintf(stderr, "\r\033[K");
}

void Progress::Update(uint64_t done) {
  if (!enabled_) return;
  int64_t now_ms = SteadyNowMs();
  if (now_ms - last_draw_ms_ < kRedrawIntervalMs) return;
  last_draw_ms_ = now_ms;
  drawn_ = true;
  if (total_ == 0) {
    std::fprintf(stderr, "\r%s %llu", label_.c_str(), static_cast<unsigned long long>(done));
    return;
  }
  uint64_t filled = done >= total_ ? kBarWidth : done * kBarWidth / total_;
  std::string bar(filled, '=');
  bar.resize(kBarWidth, ' ');
  std::fprintf(stderr, "\r%s [%s] %3llu%%", label_.c_str(), bar.c_str(),
               static_cast<unsigned long long>(done >= total_ ? 100 : done * 100 / total_));
  std::fflush(stderr);
}

}  // namespace tally::cli
