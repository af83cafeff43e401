// Runs the real `tally` binary as a user would, in a temporary directory.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/temp_dir.h"

namespace tally {

struct CliRun {
  int exit_code;
  std::string out;
  std::string err;
};

class CliTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) { return dir_.path() + "/" + name; }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(Path(name)) << text;
  }

  std::string Read(const std::string& name) {
    std::ifstream in(Path(name));
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // Runs `tally ARGS < stdin_file`.
  // A small day of four accounts and an imported 2018 history
  // (tests/adapters/data), appended under `dir`/ledger with the master key
  // `dir`/master.key: the fixture of the tests that need known figures.
  void AppendDemoDay(const std::string& dir) {
    std::filesystem::create_directories(Path(dir));
    ASSERT_EQ(Tally("master-key new --out " + Path(dir + "/master.key")).exit_code, 0);
    for (const char* file : {"legacy_history.ndjson", "demo_day.ndjson"}) {
      CliRun append = Tally("append --data " + Path(dir + "/ledger") + " --master-key-file " +
                            Path(dir + "/master.key") + " " + TALLY_SOURCE_DIR +
                            "/tests/adapters/data/" + file);
      ASSERT_EQ(append.exit_code, 0) << append.out << append.err;
    }
  }

  CliRun Tally(const std::string& args, const std::string& stdin_file = "/dev/null") {
    return Shell(std::string(TALLY_BINARY) + " " + args + " <" + stdin_file);
  }

  // Runs a shell command line (the binary is $TALLY); its output is captured.
  CliRun Shell(const std::string& command_line) {
    std::string command = "TALLY=" + std::string(TALLY_BINARY) + "; { " + command_line + "; } >" +
                          Path("out") + " 2>" + Path("err");
    int status = std::system(command.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, Read("out"), Read("err")};
  }

  std::string Data() { return "--data " + Path("ledger"); }

  testing::TempDir dir_;
};

}  // namespace tally
