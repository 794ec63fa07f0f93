#ifndef WHOKNOWS_HTTP_SERVER_H_
#define WHOKNOWS_HTTP_SERVER_H_

// `whoknows serve --http HOST:PORT`: the HTTP/JSON API (router.h) and the web
// page over the same Backend as the gRPC server, on Boost.Beast.
//
// Why Beast and not cpp-httplib (both in Debian): cpp-httplib is blocking with
// a thread per connection from a fixed pool, so N slow clients (slowloris,
// idle keep-alive) occupy N workers until their read timeout and the (N+1)th
// waits; its limits are global knobs. Beast is asynchronous: a connection
// costs a socket and a buffer, not a thread, so idle or slow clients never
// hold a worker; every read/write has its own deadline; the parser takes
// per-request header and body limits; TLS is the same code over an
// ssl_stream; and it ships with Boost, which the project already uses. The
// cost is more code here (this file), which is worth it for a server that
// must stay up under hostile clients.
//
// Limits: headers <= max_header_bytes and bodies <= max_body_bytes (413
// beyond), a deadline for the headers, for the body, for each write and for
// idle keep-alive; at most max_connections open (503 beyond) and at most
// max_inflight requests being answered (429 beyond). Request handling runs on
// a worker pool, I/O on its own threads, so a slow query does not stall other
// connections' I/O.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "whoknows/service/backend.h"

namespace whoknows::http {

struct HttpOptions {
  std::string listen = "127.0.0.1:0";  // HOST:PORT; port 0 picks a free one
  std::string tls_cert_file;           // PEM; HTTPS when both are set
  std::string tls_key_file;
  std::string tokens_file;             // as for gRPC (service/tokens.h); empty: loopback only, no auth
  size_t ingest_batch = 5000;
  size_t max_header_bytes = 256 * 1024;       // request line + headers (a 64 KiB query, %-escaped, fits)
  size_t max_body_bytes = 32 * 1024 * 1024;   // POST /v1/messages
  size_t max_connections = 512;
  size_t max_inflight = 64;
  size_t io_threads = 2;
  size_t worker_threads = 0;                  // 0: max(2, hardware threads)
  double header_timeout_seconds = 10;         // from connect / previous response to full headers
  double body_timeout_seconds = 60;
  double write_timeout_seconds = 30;
  double idle_timeout_seconds = 30;           // keep-alive
};

class HttpServer {
 public:
  // InvalidArgument for bad options (non-loopback without tokens, half a TLS
  // pair, bad tokens file or certificate); Unavailable when it cannot bind.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(service::Backend* backend, const HttpOptions& options);
  virtual ~HttpServer() = default;

  virtual int port() const = 0;
  // HOST:PORT with the bound port.
  virtual std::string address() const = 0;
  // "http://127.0.0.1:8080/" or "https://...".
  virtual std::string url() const = 0;
  // Stops accepting; requests being answered may finish for `grace_seconds`;
  // new requests on open connections get 503. Idempotent.
  virtual void Shutdown(double grace_seconds) = 0;
  virtual void Wait() = 0;
};

}  // namespace whoknows::http

#endif  // WHOKNOWS_HTTP_SERVER_H_
