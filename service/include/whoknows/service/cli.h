#ifndef WHOKNOWS_SERVICE_CLI_H_
#define WHOKNOWS_SERVICE_CLI_H_

// Subcommands of the `whoknows` binary. Each Register* adds its subcommands
// to `app`; the callback stores the exit code in *exit_code.

#include <string>

namespace CLI {
class App;
}

namespace whoknows::service {

void RegisterIndexCommands(CLI::App& app, int* exit_code);   // index, people, stats, optout, erase
void RegisterQueryCommands(CLI::App& app, int* exit_code);   // ask, connect, profile, topics
void RegisterEvalCommand(CLI::App& app, int* exit_code);     // eval
void RegisterServeCommand(CLI::App& app, int* exit_code);    // serve
void RegisterRouteCommands(CLI::App& app, int* exit_code);   // route record|outcome|availability|list

void RegisterNetworkCommands(CLI::App& app, int* exit_code);  // network, coverage

// "2016-11-02" style UTC date for people.
std::string FormatDate(int64_t seconds);

}  // namespace whoknows::service

#endif  // WHOKNOWS_SERVICE_CLI_H_
