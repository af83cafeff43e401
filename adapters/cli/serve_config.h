// The settings of `tally serve` from its three sources: the command line,
// the environment (TALLY_<KEY>) and a TOML config file (--config). Each
// setting comes from the first of them that sets it, else its default
// (docs/operations.md, "Configuration").
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "adapters/cli/commands.h"
#include "events/status.h"

namespace tally::cli {

// One source's settings: each is set where that source names it. The
// config file's keys are these names; the environment's variables are
// TALLY_ and the name in capitals (TALLY_RATE_LIMIT).
struct ServeSettings {
  std::optional<std::string> data;
  std::optional<std::string> listen;
  std::optional<std::string> kafka_brokers;
  std::optional<std::vector<std::string>> topics;  // TALLY_TOPICS: comma-separated
  std::optional<std::string> group;
  std::optional<std::string> instance_id;
  std::optional<std::string> changelog_topic;
  std::optional<std::string> outcomes_topic;
  std::optional<std::string> dead_letter_topic;
  std::optional<std::string> out_format;  // json or capnp
  std::optional<int64_t> status_every_ms;
  std::optional<int64_t> exit_when_idle_ms;
  std::optional<bool> kafka;  // false: --no-kafka
  std::optional<double> rate_limit;
  std::optional<std::string> master_key_file;
};

// The value of an environment variable; nullopt when it is unset or empty.
using Environment = std::function<std::optional<std::string>(const std::string& name)>;

// The settings of the TOML file at `path`. InvalidArgument naming the file
// (and the line and key, where there are some) when it cannot be read, is
// not TOML, or has an unknown key, a value of the wrong type or out of range.
Result<ServeSettings> ReadServeConfig(const std::string& path);

// The settings `env` holds (TALLY_DATA, TALLY_LISTEN, ...). InvalidArgument
// naming the variable when a value is not of its type or out of range.
Result<ServeSettings> ServeSettingsFromEnvironment(const Environment& env);

// The options of tally serve: each setting from `command_line`, else from
// `env`, else from the config file at `config_file` (none if empty), else
// its default. InvalidArgument when one of them is bad, or when none names
// the data directory.
Result<ServeOptions> ResolveServeOptions(const ServeSettings& command_line,
                                         const std::string& config_file, const Environment& env);

}  // namespace tally::cli
