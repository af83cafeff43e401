#include "adapters/cli/ndjson_append.h"

#include "adapters/cli/progress.h"
#include "events/limits.h"

namespace tally::cli {
namespace {

bool IsBlank(const std::string& line) {
  return line.find_first_not_of(" \t\r") == std::string::npos;
}

}  // namespace

Result<NdjsonEvents> ReadNdjson(std::istream& in, uint64_t size_hint_bytes, const EventCodec& codec,
                                size_t events_max) {
  NdjsonEvents result;
  std::string line;
  uint64_t line_number = 0;
  uint64_t bytes_read = 0;
  Progress progress("checking", size_hint_bytes);
  while (std::getline(in, line)) {
    ++line_number;
    bytes_read += line.size() + 1;
    progress.Update(bytes_read);
    if (IsBlank(line)) continue;
    auto event = codec.ParseJson(line);
    if (!event.ok()) {
      if (result.errors.size() < kLineErrorsKept) {
        result.errors.push_back({line_number, event.status().message()});
      }
      ++result.errors_total;
      continue;
    }
    if (result.events.size() == events_max) {
      return Status::InvalidArgument("more than " + std::to_string(events_max) +
                                     " events in one file; split it");
    }
    auto id = event->reader().getId();
    result.ids.emplace_back(id.begin(), id.size());
    result.lines.push_back(line_number);
    result.events.push_back(std::move(event).value());
  }
  if (in.bad()) return Status::IoError("reading the input failed");
  if (result.errors_total > 0) {
    result.ids.clear();
    result.lines.clear();
    result.events.clear();
  }
  return result;
}

Result<NdjsonAppend> AppendNdjson(std::istream& in, uint64_t size_hint_bytes,
                                  const EventCodec& codec, Ledger& ledger) {
  auto read = ReadNdjson(in, size_hint_bytes, codec, limits::kBatchEventsMax);
  if (!read.ok()) return read.status();
  NdjsonAppend result;
  static_cast<NdjsonEvents&>(result) = std::move(read).value();
  if (result.errors_total > 0) return result;
  auto outcomes = ledger.Append(result.events);
  if (!outcomes.ok()) return outcomes.status();
  result.outcomes = std::move(outcomes).value();
  TALLY_CHECK(result.outcomes.size() == result.ids.size());
  return result;
}

}  // namespace tally::cli
