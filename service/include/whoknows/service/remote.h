#ifndef WHOKNOWS_SERVICE_REMOTE_H_
#define WHOKNOWS_SERVICE_REMOTE_H_

// The CLI's query commands talk to a Backend: a local one over --db, or a
// remote one over gRPC (--server). The gRPC side lives in whoknows_server and
// registers its connector at start-up, so service_core needs no gRPC.

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "whoknows/service/backend.h"

namespace CLI {
class App;
}  // namespace CLI

namespace whoknows::service {

struct RemoteTarget {
  std::string address;  // host:port
  std::string token;    // bearer token, optional
  std::string ca_file;  // PEM of the CA for TLS; empty = insecure channel
};

using RemoteConnector = std::function<absl::StatusOr<std::unique_ptr<Backend>>(const RemoteTarget&)>;

void SetRemoteConnector(RemoteConnector connector);
absl::StatusOr<std::unique_ptr<Backend>> ConnectRemote(const RemoteTarget& target);

// Adds --server (described by `server_help`), --token and --ca, filling
// `target`, to a CLI command that can ask a running server.
void AddRemoteOptions(CLI::App* cmd, RemoteTarget* target, const std::string& server_help);

// The backend a CLI command asks: the server at `remote` when its address is
// set, else the local index at `db` (holding the writer when `writable`).
// InvalidArgument when neither is given.
absl::StatusOr<std::unique_ptr<Backend>> OpenBackend(const std::string& db, const RemoteTarget& remote,
                                                      bool writable);

// Logs `s` and returns a CLI command's exit code for it: 2 for
// InvalidArgument or NotFound (the caller's mistake), else 1.
int FailCommand(const absl::Status& s);

// Installs the gRPC connector (defined in whoknows_server).
void InstallGrpcRemoteConnector();

}  // namespace whoknows::service

#endif  // WHOKNOWS_SERVICE_REMOTE_H_
