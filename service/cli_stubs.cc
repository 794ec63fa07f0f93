// Placeholders for commands that later work registers; removed as they land.
#include <CLI/CLI.hpp>

#include "whoknows/service/cli.h"

namespace whoknows::service {
void RegisterQueryCommands(CLI::App&, int*) {}
void RegisterEvalCommand(CLI::App&, int*) {}
void RegisterServeCommand(CLI::App&, int*) {}
}  // namespace whoknows::service
