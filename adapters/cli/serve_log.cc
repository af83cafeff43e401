#include "adapters/cli/serve_log.h"

#include "events/timestamp.h"

namespace tally::cli {

void ServeLog::Line(const char* level, const std::string& message, const Json& fields) const {
  if (!json_) {
    io_.err << "serve: " << (std::string(level) == "warn" ? "warning: " : "") << message
            << std::endl;
    return;
  }
  Json line = Json::Object();
  line.Add("time", Json::String(FormatTimestamp(clock_->NowMicros())))
      .Add("level", Json::String(level))
      .Add("msg", Json::String(message));
  for (const auto& [name, value] : fields.members()) line.Add(name, value);
  io_.err << Encode(line) << std::endl;
}

void ServeLog::Status(const Json& fields, const std::string& text) const {
  if (!json_) {
    io_.err << "serve: " << text << std::endl;
    return;
  }
  Json line = fields;
  line.Add("time", Json::String(FormatTimestamp(clock_->NowMicros())));
  io_.out << Encode(line) << std::endl;
}

}  // namespace tally::cli
