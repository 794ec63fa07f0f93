#include <CLI/CLI.hpp>

#include "whoknows/service/cli.h"
#include "whoknows/service/remote.h"

int main(int argc, char** argv) {
  CLI::App app{"whoknows: find who knows about X, and who to connect with, from conversations"};
  app.require_subcommand(1);
  int exit_code = 0;
  whoknows::service::InstallGrpcRemoteConnector();
  whoknows::service::RegisterIndexCommands(app, &exit_code);
  whoknows::service::RegisterQueryCommands(app, &exit_code);
  whoknows::service::RegisterEvalCommand(app, &exit_code);
  whoknows::service::RegisterServeCommand(app, &exit_code);
  whoknows::service::RegisterRouteCommands(app, &exit_code);

  whoknows::service::RegisterNetworkCommands(app, &exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
