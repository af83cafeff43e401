// tally serve's settings (adapters/cli/serve_config.h): the TOML config
// file, the environment over it and the command line over both. The
// environment is handed in as a lookup; nothing here sets a variable.
#include "adapters/cli/serve_config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "tests/temp_dir.h"

namespace tally::cli {
namespace {

// An environment holding `variables` only.
Environment EnvironmentOf(std::map<std::string, std::string> variables) {
  return [variables = std::move(variables)](const std::string& name) -> std::optional<std::string> {
    auto found = variables.find(name);
    if (found == variables.end()) return std::nullopt;
    return found->second;
  };
}

class ServeConfigTest : public ::testing::Test {
 protected:
  // Writes `text` to serve.toml and returns its path.
  std::string Config(const std::string& text) {
    std::string path = dir_.path() + "/serve.toml";
    std::ofstream(path) << text;
    return path;
  }

  // The message of the error reading `text` as the config file gives.
  std::string ErrorOf(const std::string& text) {
    auto read = ReadServeConfig(Config(text));
    EXPECT_FALSE(read.ok());
    if (read.ok()) return "";
    EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument);
    return read.status().message();
  }

  testing::TempDir dir_;
};

TEST_F(ServeConfigTest, AFileSetsListenDataAndRateLimit) {
  const std::string path =
      Config("data = \"/var/lib/tally\"\nlisten = \"127.0.0.1:8080\"\nrate_limit = 250\n");
  auto options = ResolveServeOptions({}, path, EnvironmentOf({}));
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->data_dir, "/var/lib/tally");
  EXPECT_EQ(options->listen, "127.0.0.1:8080");
  EXPECT_EQ(options->rate_limit, 250);
  // What the file does not set keeps its default.
  const ServeOptions defaults;
  EXPECT_EQ(options->group_id, defaults.group_id);
  EXPECT_EQ(options->topics, defaults.topics);
  EXPECT_EQ(options->status_every_ms, defaults.status_every_ms);
  EXPECT_TRUE(options->kafka);
  EXPECT_FALSE(options->binary_out);
  EXPECT_EQ(options->master_key.path, "");
}

// The example in docs/operations.md is a valid file and sets every setting.
TEST_F(ServeConfigTest, TheDocumentedExampleSetsEverySetting) {
  std::ifstream doc(std::string(TALLY_SOURCE_DIR) + "/docs/operations.md");
  std::stringstream text;
  text << doc.rdbuf();
  const std::string markdown = text.str();
  const size_t begin = markdown.find("```toml\n");
  ASSERT_NE(begin, std::string::npos);
  const size_t end = markdown.find("```\n", begin + 8);
  ASSERT_NE(end, std::string::npos);
  auto read = ReadServeConfig(Config(markdown.substr(begin + 8, end - begin - 8)));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->data, "/var/lib/tally");
  EXPECT_EQ(read->kafka_brokers, "kafka-1:9092,kafka-2:9092");
  EXPECT_EQ(read->topics, std::vector<std::string>{"tally.events"});
  EXPECT_EQ(read->instance_id, "tally-1");
  EXPECT_EQ(read->dead_letter_topic, "tally.dead-letter");
  EXPECT_EQ(read->out_format, "json");
  EXPECT_EQ(read->status_every_ms, 10000);
  EXPECT_EQ(read->exit_when_idle_ms, 0);
  EXPECT_EQ(read->kafka, true);
  EXPECT_EQ(read->rate_limit, 5000.0);
  EXPECT_EQ(read->master_key_file, "/etc/tally/master.key");
  for (const auto& setting :
       {read->listen, read->group, read->changelog_topic, read->outcomes_topic}) {
    EXPECT_TRUE(setting.has_value());
  }
}

TEST_F(ServeConfigTest, AFlagWinsOverTheEnvironmentAndTheFile) {
  const std::string path =
      Config("data = \"/from/file\"\nlisten = \"file:1\"\nrate_limit = 5\nout_format = \"json\"\n");
  ServeSettings flags;
  flags.listen = "flag:3";
  flags.rate_limit = 3;
  flags.out_format = "capnp";
  auto options = ResolveServeOptions(
      flags, path, EnvironmentOf({{"TALLY_LISTEN", "env:2"}, {"TALLY_RATE_LIMIT", "7"}}));
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->listen, "flag:3");
  EXPECT_EQ(options->rate_limit, 3);
  EXPECT_TRUE(options->binary_out);
  EXPECT_EQ(options->data_dir, "/from/file");
}

TEST_F(ServeConfigTest, TheEnvironmentWinsOverTheFileButNotOverAFlag) {
  const std::string path = Config(
      "data = \"/from/file\"\nlisten = \"file:1\"\nrate_limit = 5\nkafka = true\n"
      "topics = [\"file.events\"]\nmaster_key_file = \"/file.key\"\n");
  const Environment env = EnvironmentOf({{"TALLY_DATA", "/from/env"},
                                         {"TALLY_RATE_LIMIT", "7.5"},
                                         {"TALLY_KAFKA", "false"},
                                         {"TALLY_TOPICS", "a,b"},
                                         {"TALLY_MASTER_KEY_FILE", "/env.key"},
                                         {"TALLY_STATUS_EVERY_MS", "250"}});
  auto from_env = ResolveServeOptions({}, path, env);
  ASSERT_TRUE(from_env.ok()) << from_env.status().ToString();
  EXPECT_EQ(from_env->data_dir, "/from/env");
  EXPECT_EQ(from_env->rate_limit, 7.5);
  EXPECT_FALSE(from_env->kafka);
  EXPECT_EQ(from_env->topics, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(from_env->master_key.path, "/env.key");
  EXPECT_EQ(from_env->status_every_ms, 250);
  EXPECT_EQ(from_env->listen, "file:1");  // not in the environment: the file's

  ServeSettings flags;
  flags.data = "/from/flag";
  flags.master_key_file = "/flag.key";
  auto from_flags = ResolveServeOptions(flags, path, env);
  ASSERT_TRUE(from_flags.ok()) << from_flags.status().ToString();
  EXPECT_EQ(from_flags->data_dir, "/from/flag");
  EXPECT_EQ(from_flags->master_key.path, "/flag.key");
  EXPECT_EQ(from_flags->rate_limit, 7.5);
}

TEST_F(ServeConfigTest, WithoutAnyDataDirectoryItIsAnError) {
  auto options = ResolveServeOptions({}, Config("listen = \"127.0.0.1:0\"\n"), EnvironmentOf({}));
  ASSERT_FALSE(options.ok());
  EXPECT_NE(options.status().message().find("give --data DIR, TALLY_DATA=DIR or data"),
            std::string::npos)
      << options.status().message();
  EXPECT_TRUE(ResolveServeOptions({}, "", EnvironmentOf({{"TALLY_DATA", "/d"}})).ok());
}

TEST_F(ServeConfigTest, AnUnknownKeyIsNamedWithItsFileAndLine) {
  const std::string path = dir_.path() + "/serve.toml";
  std::string message = ErrorOf("data = \"/d\"\n\nlisten_adress = \"127.0.0.1:8080\"\n");
  EXPECT_NE(message.find(path + ":3: listen_adress: unknown key; the keys are data, listen,"),
            std::string::npos)
      << message;
  // A table is no way around it: its key is unknown too.
  message = ErrorOf("data = \"/d\"\n[http]\nlisten = \"127.0.0.1:8080\"\n");
  EXPECT_NE(message.find(path + ":2: http: unknown key"), std::string::npos) << message;
}

TEST_F(ServeConfigTest, AWrongTypeIsNamedWithItsFileLineAndKey) {
  const std::string path = dir_.path() + "/serve.toml";
  std::string message = ErrorOf("data = \"/d\"\nrate_limit = \"fast\"\n");
  EXPECT_NE(message.find(path + ":2: rate_limit: expected a number, not a string"),
            std::string::npos)
      << message;
  message = ErrorOf("status_every_ms = 2.5\n");
  EXPECT_NE(message.find(":1: status_every_ms: expected a whole number, not a floating-point"),
            std::string::npos)
      << message;
  message = ErrorOf("kafka = \"no\"\n");
  EXPECT_NE(message.find(":1: kafka: expected true or false, not a string"), std::string::npos)
      << message;
  message = ErrorOf("topics = [\"a\", 1]\n");
  EXPECT_NE(message.find(":1: topics: expected a list of strings, not an array"), std::string::npos)
      << message;
  message = ErrorOf("listen = 8080\n");
  EXPECT_NE(message.find(":1: listen: expected a string, not an integer"), std::string::npos)
      << message;
}

TEST_F(ServeConfigTest, AValueOutOfRangeIsNamedWithItsFileLineAndKey) {
  EXPECT_NE(ErrorOf("status_every_ms = 0\n").find(":1: status_every_ms: must be 1 or more"),
            std::string::npos);
  EXPECT_NE(ErrorOf("\nexit_when_idle_ms = -1\n").find(":2: exit_when_idle_ms: must be 0 or more"),
            std::string::npos);
  EXPECT_NE(ErrorOf("rate_limit = -0.5\n").find(":1: rate_limit: must be 0 or more"),
            std::string::npos);
  EXPECT_NE(ErrorOf("rate_limit = inf\n").find(":1: rate_limit: must be a finite number"),
            std::string::npos);
  EXPECT_NE(ErrorOf("out_format = \"xml\"\n").find(":1: out_format: must be json or capnp"),
            std::string::npos);
  EXPECT_NE(ErrorOf("topics = []\n").find(":1: topics: must name at least one topic"),
            std::string::npos);
}

TEST_F(ServeConfigTest, BadTomlIsNamedWithItsFileAndLine) {
  const std::string path = dir_.path() + "/serve.toml";
  std::string message = ErrorOf("data = \"/d\"\nlisten = \"127.0.0.1:8080\nrate_limit = 5\n");
  EXPECT_NE(message.find(path + ":2:"), std::string::npos) << message;
  EXPECT_NE(message.find("not valid TOML"), std::string::npos) << message;
  message = ErrorOf("data = \"/d\"\ndata = \"/e\"\n");
  EXPECT_NE(message.find(path + ":2:"), std::string::npos) << message;
  message = ErrorOf("listen: 127.0.0.1:8080\n");
  EXPECT_NE(message.find(path + ":1:"), std::string::npos) << message;
}

TEST_F(ServeConfigTest, AnUnreadableFileIsNamed) {
  const std::string absent = dir_.path() + "/absent.toml";
  auto read = ReadServeConfig(absent);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find(absent + ": cannot read the config file"),
            std::string::npos)
      << read.status().message();
  auto directory = ReadServeConfig(dir_.path());
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.status().message().find("it is a directory"), std::string::npos);
  auto resolved = ResolveServeOptions({}, absent, EnvironmentOf({{"TALLY_DATA", "/d"}}));
  EXPECT_FALSE(resolved.ok());
}

TEST_F(ServeConfigTest, ABadEnvironmentValueIsNamed) {
  for (const auto& [name, value, expected] :
       {std::tuple<std::string, std::string, std::string>{
            "TALLY_RATE_LIMIT", "fast", "TALLY_RATE_LIMIT: expected a number, not \"fast\""},
        {"TALLY_KAFKA", "no", "TALLY_KAFKA: expected true or false, not \"no\""},
        {"TALLY_STATUS_EVERY_MS", "0", "TALLY_STATUS_EVERY_MS: must be 1 or more"},
        {"TALLY_EXIT_WHEN_IDLE_MS", "10s", "TALLY_EXIT_WHEN_IDLE_MS: expected a whole number"},
        {"TALLY_OUT_FORMAT", "xml", "TALLY_OUT_FORMAT: must be json or capnp"},
        {"TALLY_TOPICS", "a,,b", "TALLY_TOPICS: must not name an empty topic"}}) {
    auto options =
        ResolveServeOptions({}, "", EnvironmentOf({{"TALLY_DATA", "/d"}, {name, value}}));
    ASSERT_FALSE(options.ok()) << name;
    EXPECT_NE(options.status().message().find(expected), std::string::npos)
        << options.status().message();
  }
}

}  // namespace
}  // namespace tally::cli
