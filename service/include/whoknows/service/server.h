#ifndef WHOKNOWS_SERVICE_SERVER_H_
#define WHOKNOWS_SERVICE_SERVER_H_

// The gRPC server (whoknows.v1.WhoKnows + grpc.health.v1.Health + server
// reflection) over a Backend. No gRPC types in this header.

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "whoknows/service/backend.h"
#include "whoknows/service/tokens.h"  // IsLoopbackAddress

namespace whoknows::service {

struct ServerOptions {
  std::string listen = "127.0.0.1:0";  // HOST:PORT; port 0 picks a free one
  std::string tls_cert_file;           // PEM; TLS when both cert and key are set
  std::string tls_key_file;
  // Bearer tokens (format in tokens.h). Empty: no authentication, every
  // caller is an admin who sees all groups, and only a loopback `listen`
  // address is accepted.
  std::string tokens_file;
  size_t ingest_batch = 5000;  // messages per commit within one Ingest stream
};

// A running server. Thread-safe. `backend` must outlive it.
class Server {
 public:
  // InvalidArgument for bad options (non-loopback without tokens, half a TLS
  // pair, malformed tokens file); Unavailable when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<Server>> Start(Backend* backend, const ServerOptions& options);
  // Shuts down (no grace) when still running, then waits.
  virtual ~Server() = default;

  // The bound port (the ephemeral one when listen had port 0).
  virtual int port() const = 0;
  // HOST:PORT with the bound port, e.g. "127.0.0.1:40321".
  virtual std::string address() const = 0;
  // Stops accepting calls; in-flight calls (and Ingest commits) may finish
  // for `grace_seconds`, then are cancelled. Idempotent; returns when done.
  virtual void Shutdown(double grace_seconds) = 0;
  // Blocks until the server has shut down.
  virtual void Wait() = 0;
};

}  // namespace whoknows::service

#endif  // WHOKNOWS_SERVICE_SERVER_H_
