// The log lines of `tally serve`: "serve: ..." text on stderr, or (--json)
// one JSON object per line with the time, the level, the message and its
// fields, written through the JSON codec. Status lines go to stdout with
// --json (docs/kafka.md). No line holds a personal value: messages name
// seqs, topics, addresses and counts, never an event's fields.
#pragma once

#include <string>

#include "adapters/cli/commands.h"
#include "ledger/clock.h"
#include "reports/json.h"

namespace tally::cli {

class ServeLog {
 public:
  // `clock` must outlive the log.
  ServeLog(Io io, OutputFormat format, const Clock* clock)
      : io_(io), json_(format == OutputFormat::kJson), clock_(clock) {}

  void Info(const std::string& message, const Json& fields = Json::Object()) const {
    Line("info", message, fields);
  }
  void Warn(const std::string& message, const Json& fields = Json::Object()) const {
    Line("warn", message, fields);
  }
  // A status line: `fields` as a JSON object on stdout (--json), else `text`.
  void Status(const Json& fields, const std::string& text) const;
  bool json() const { return json_; }

 private:
  void Line(const char* level, const std::string& message, const Json& fields) const;

  Io io_;
  bool json_;
  const Clock* clock_;
};

}  // namespace tally::cli
