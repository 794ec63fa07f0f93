#ifndef WHOKNOWS_TESTS_SERVICE_CLI_RUN_H_
#define WHOKNOWS_TESTS_SERVICE_CLI_RUN_H_

// Runs `whoknows` subcommands in-process: `register_commands(app, &exit_code)`
// adds them (RegisterIndexCommands, RegisterQueryCommands, ...). Captures
// stdout into *out and, when `err` is given, stderr into *err. Returns the
// exit code (CLI11's for a parse error).

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace whoknows::testing {

template <typename Register>
int RunCli(Register register_commands, const std::vector<std::string>& args, std::string* out,
           std::string* err = nullptr) {
  CLI::App app{"whoknows"};
  int exit_code = 0;
  register_commands(app, &exit_code);
  std::vector<std::string> rev(args.rbegin(), args.rend());  // CLI11 takes them in reverse
  ::testing::internal::CaptureStdout();
  if (err != nullptr) ::testing::internal::CaptureStderr();
  try {
    app.parse(rev);
  } catch (const CLI::ParseError& e) {
    exit_code = app.exit(e);
  }
  *out = ::testing::internal::GetCapturedStdout();
  if (err != nullptr) *err = ::testing::internal::GetCapturedStderr();
  return exit_code;
}

}  // namespace whoknows::testing

#endif  // WHOKNOWS_TESTS_SERVICE_CLI_RUN_H_
