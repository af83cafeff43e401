// tally serve's settings: the TOML config file (read with toml++), the
// environment, and the order in which they apply.
#include "adapters/cli/serve_config.h"

#include <toml++/toml.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <type_traits>
#include <variant>

namespace tally::cli {
namespace {

using Field =
    std::variant<std::optional<std::string> ServeSettings::*,
                 std::optional<std::vector<std::string>> ServeSettings::*,
                 std::optional<int64_t> ServeSettings::*, std::optional<double> ServeSettings::*,
                 std::optional<bool> ServeSettings::*>;

// Which values of its type a setting takes.
enum class Range { kAny, kPositive, kNonNegative, kOutFormat };

struct Setting {
  const char* key;
  Field field;
  Range range = Range::kAny;
};

const Setting kSettings[] = {
    {"data", &ServeSettings::data},
    {"listen", &ServeSettings::listen},
    {"kafka_brokers", &ServeSettings::kafka_brokers},
    {"topics", &ServeSettings::topics},
    {"group", &ServeSettings::group},
    {"instance_id", &ServeSettings::instance_id},
    {"changelog_topic", &ServeSettings::changelog_topic},
    {"outcomes_topic", &ServeSettings::outcomes_topic},
    {"dead_letter_topic", &ServeSettings::dead_letter_topic},
    {"out_format", &ServeSettings::out_format, Range::kOutFormat},
    {"status_every_ms", &ServeSettings::status_every_ms, Range::kPositive},
    {"exit_when_idle_ms", &ServeSettings::exit_when_idle_ms, Range::kNonNegative},
    {"kafka", &ServeSettings::kafka},
    {"rate_limit", &ServeSettings::rate_limit, Range::kNonNegative},
    {"master_key_file", &ServeSettings::master_key_file},
};

const Setting* FindSetting(std::string_view key) {
  for (const Setting& setting : kSettings) {
    if (key == setting.key) return &setting;
  }
  return nullptr;
}

std::string KeyList() {
  std::string keys;
  for (const Setting& setting : kSettings)
    keys += (keys.empty() ? "" : ", ") + std::string(setting.key);
  return keys;
}

// TALLY_ and the key in capitals.
std::string EnvironmentName(const char* key) {
  std::string name = "TALLY_";
  for (const char* c = key; *c != '\0'; ++c) {
    name += static_cast<char>(std::toupper(static_cast<unsigned char>(*c)));
  }
  return name;
}

// Why `value` is out of `range`; nullopt when it is in.
std::optional<std::string> OutOfRange(Range range, const std::string& value) {
  if (range == Range::kOutFormat && value != "json" && value != "capnp") {
    return "must be json or capnp, not \"" + value + "\"";
  }
  return std::nullopt;
}
std::optional<std::string> OutOfRange(Range, const std::vector<std::string>& topics) {
  if (topics.empty()) return "must name at least one topic";
  for (const std::string& topic : topics) {
    if (topic.empty()) return "must not name an empty topic";
  }
  return std::nullopt;
}
std::optional<std::string> OutOfRange(Range range, int64_t value) {
  if (range == Range::kPositive && value <= 0) return "must be 1 or more";
  if (range == Range::kNonNegative && value < 0) return "must be 0 or more";
  return std::nullopt;
}
std::optional<std::string> OutOfRange(Range range, double value) {
  if (!std::isfinite(value)) return "must be a finite number";
  if (range == Range::kNonNegative && value < 0) return "must be 0 or more";
  return std::nullopt;
}
std::optional<std::string> OutOfRange(Range, bool) { return std::nullopt; }

// The type a setting of type T wants, as a message says it.
template <typename T>
const char* Wanted() {
  if constexpr (std::is_same_v<T, std::string>) {
    return "a string";
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    return "a list of strings";
  } else if constexpr (std::is_same_v<T, int64_t>) {
    return "a whole number";
  } else if constexpr (std::is_same_v<T, double>) {
    return "a number";
  } else {
    static_assert(std::is_same_v<T, bool>);
    return "true or false";
  }
}

// `node` as a T; nullopt when it is of another type.
template <typename T>
std::optional<T> FromToml(const toml::node& node) {
  if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    const toml::array* array = node.as_array();
    if (array == nullptr) return std::nullopt;
    std::vector<std::string> texts;
    for (const toml::node& element : *array) {
      auto text = element.value_exact<std::string>();
      if (!text) return std::nullopt;
      texts.push_back(*text);
    }
    return texts;
  } else if constexpr (std::is_same_v<T, double>) {
    if (!node.is_number()) return std::nullopt;
    return node.value<double>();
  } else {
    return node.value_exact<T>();
  }
}

const char* TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time: return "a date or time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

// `text` (an environment variable's value) as a T; nullopt when it is not one.
template <typename T>
std::optional<T> FromText(const std::string& text) {
  if constexpr (std::is_same_v<T, std::string>) {
    return text;
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    std::vector<std::string> parts;
    std::istringstream in(text);
    for (std::string part; std::getline(in, part, ',');) parts.push_back(part);
    return parts;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (text == "true" || text == "false") return text == "true";
    return std::nullopt;
  } else {
    T value{};
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
  }
}

// Sets `setting` in `settings` to `value` (nullopt: it was of another type,
// `found`), or says what is wrong, after `where`.
template <typename T>
Status Assign(const std::string& where, const Setting& setting, std::optional<T> value,
              const std::string& found, std::optional<T> ServeSettings::*field,
              ServeSettings* settings) {
  if (!value)
    return Status::InvalidArgument(where + ": expected " + Wanted<T>() + ", not " + found);
  if (auto why = OutOfRange(setting.range, *value)) {
    return Status::InvalidArgument(where + ": " + *why);
  }
  settings->*field = std::move(value);
  return Status::Ok();
}

Result<std::string> ReadText(const std::string& path) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) {
    return Status::InvalidArgument(path + ": cannot read the config file: it is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument(path + ": cannot read the config file: " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::InvalidArgument(path + ": cannot read the config file");
  return text.str();
}

}  // namespace

Result<ServeSettings> ReadServeConfig(const std::string& path) {
  auto text = ReadText(path);
  if (!text.ok()) return text.status();
  toml::table table;
  try {  // toml++ reports bad TOML by throwing: it ends here
    table = toml::parse(*text, path);
  } catch (const toml::parse_error& error) {
    const toml::source_position& at = error.source().begin;
    return Status::InvalidArgument(path + ":" + std::to_string(at.line) + ":" +
                                   std::to_string(at.column) +
                                   ": not valid TOML: " + std::string(error.description()));
  }
  ServeSettings settings;
  for (auto&& entry : table) {
    const toml::key& key = entry.first;
    const toml::node& node = entry.second;
    const std::string where =
        path + ":" + std::to_string(key.source().begin.line) + ": " + std::string(key.str());
    const Setting* setting = FindSetting(key.str());
    if (setting == nullptr) {
      return Status::InvalidArgument(where + ": unknown key; the keys are " + KeyList());
    }
    Status status = std::visit(
        [&](auto field) {
          using T = typename std::remove_reference_t<decltype(settings.*field)>::value_type;
          return Assign<T>(where, *setting, FromToml<T>(node), TypeName(node), field, &settings);
        },
        setting->field);
    if (!status.ok()) return status;
  }
  return settings;
}

Result<ServeSettings> ServeSettingsFromEnvironment(const Environment& env) {
  ServeSettings settings;
  for (const Setting& setting : kSettings) {
    const std::string name = EnvironmentName(setting.key);
    const std::optional<std::string> text = env(name);
    if (!text) continue;
    Status status = std::visit(
        [&](auto field) {
          using T = typename std::remove_reference_t<decltype(settings.*field)>::value_type;
          return Assign<T>(name, setting, FromText<T>(*text), "\"" + *text + "\"", field,
                           &settings);
        },
        setting.field);
    if (!status.ok()) return status;
  }
  return settings;
}

namespace {

// `top`, with the settings it lacks taken from `below`.
ServeSettings Overlay(ServeSettings top, const ServeSettings& below) {
  for (const Setting& setting : kSettings) {
    std::visit(
        [&](auto field) {
          if (!(top.*field)) top.*field = below.*field;
        },
        setting.field);
  }
  return top;
}

// The options `settings` give, with the defaults of ServeOptions where they
// give none.
ServeOptions ToOptions(const ServeSettings& settings) {
  ServeOptions options;
  options.data_dir = settings.data.value_or("");
  options.listen = settings.listen.value_or(options.listen);
  options.brokers = settings.kafka_brokers.value_or(options.brokers);
  options.topics = settings.topics.value_or(options.topics);
  options.group_id = settings.group.value_or(options.group_id);
  options.instance_id = settings.instance_id.value_or(options.instance_id);
  options.changelog_topic = settings.changelog_topic.value_or(options.changelog_topic);
  options.outcomes_topic = settings.outcomes_topic.value_or(options.outcomes_topic);
  options.dead_letter_topic = settings.dead_letter_topic.value_or(options.dead_letter_topic);
  options.binary_out = settings.out_format.value_or("json") == "capnp";
  options.status_every_ms = settings.status_every_ms.value_or(options.status_every_ms);
  options.exit_when_idle_ms = settings.exit_when_idle_ms.value_or(options.exit_when_idle_ms);
  options.kafka = settings.kafka.value_or(options.kafka);
  options.rate_limit = settings.rate_limit.value_or(options.rate_limit);
  options.master_key.path = settings.master_key_file.value_or("");
  return options;
}

}  // namespace

Result<ServeOptions> ResolveServeOptions(const ServeSettings& command_line,
                                         const std::string& config_file, const Environment& env) {
  ServeSettings file;
  if (!config_file.empty()) {
    auto read = ReadServeConfig(config_file);
    if (!read.ok()) return read.status();
    file = std::move(read).value();
  }
  auto from_env = ServeSettingsFromEnvironment(env);
  if (!from_env.ok()) return from_env.status();
  const ServeSettings settings = Overlay(Overlay(command_line, *from_env), file);
  if (settings.data.value_or("").empty()) {
    return Status::InvalidArgument(
        "no data directory: give --data DIR, TALLY_DATA=DIR or data = \"DIR\" in the --config "
        "file");
  }
  return ToOptions(settings);
}

}  // namespace tally::cli
