// The Beast transport of the HTTP/JSON API: accept, TLS, limits, deadlines,
// and a worker pool that runs Router::Handle. See server.h for the choices.

#include "whoknows/http/server.h"

#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "whoknows/base/log.h"
#include "whoknows/base/status_macros.h"
#include "whoknows/http/router.h"
#include "whoknows/indexer/input.h"
#include "whoknows/service/api.h"
#include "whoknows/service/tokens.h"

namespace whoknows::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

std::chrono::milliseconds Ms(double seconds) { return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)); }

// What every connection shares; owned by the server, outlives the io_context.
struct Shared {
  Shared(service::Backend* backend, std::unique_ptr<service::TokenTable> tokens, const HttpOptions& o)
      : api(backend, std::move(tokens)), router(&api, o.ingest_batch), options(o) {}
  service::Api api;
  Router router;
  HttpOptions options;
  asio::thread_pool* pool = nullptr;
  std::atomic<size_t> connections{0};
  std::atomic<size_t> inflight{0};
  std::atomic<bool> stopping{false};
};

template <bool kTls>
class Session : public std::enable_shared_from_this<Session<kTls>> {
  using Stream = std::conditional_t<kTls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

 public:
  Session(tcp::socket&& socket, asio::ssl::context* ctx, Shared* shared, bool reject)
      : stream_(MakeStream(std::move(socket), ctx)), shared_(shared), reject_(reject) {}
  ~Session() {
    if (counted_) --shared_->inflight;
    --shared_->connections;
  }

  void Start() {
    // Run on the connection's strand.
    asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::Begin, this->shared_from_this()));
  }

 private:
  static Stream MakeStream(tcp::socket&& socket, asio::ssl::context* ctx) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *ctx);
    } else {
      (void)ctx;
      return Stream(std::move(socket));
    }
  }

  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void Begin() {
    if constexpr (kTls) {
      Lowest().expires_after(Ms(shared_->options.header_timeout_seconds));
      stream_.async_handshake(asio::ssl::stream_base::server,
                              beast::bind_front_handler(&Session::OnHandshake, this->shared_from_this()));
    } else {
      AfterHandshake();
    }
  }

  void OnHandshake(beast::error_code ec) {
    if (ec) return;  // bad or slow TLS client: drop
    AfterHandshake();
  }

  void AfterHandshake() {
    if (reject_) {
      keep_alive_ = false;
      Write(ErrorResponse(absl::UnavailableError(
          absl::StrFormat("too many connections (limit %d); retry", shared_->options.max_connections))));
      return;
    }
    ReadHeader();
  }

  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_->options.max_header_bytes));
    parser_->body_limit(shared_->options.max_body_bytes);
    // A slow or silent client loses the connection at this deadline; it never holds a thread.
    Lowest().expires_after(Ms(first_ ? shared_->options.header_timeout_seconds : shared_->options.idle_timeout_seconds));
    first_ = false;
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&Session::OnHeader, this->shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t /*bytes*/) {
    if (ec == bhttp::error::header_limit) {
      return Fail(413, absl::StrFormat("request line and headers over %d bytes", shared_->options.max_header_bytes));
    }
    if (ec == bhttp::error::body_limit) {  // Content-Length over the limit, seen with the headers
      return Fail(413, absl::StrFormat("request body over %d bytes", shared_->options.max_body_bytes));
    }
    if (ec) return;  // closed, reset, timeout or garbage: drop the connection
    const auto& h = parser_->get();
    keep_alive_ = h.keep_alive();
    version_ = h.version();
    head_ = h.method() == bhttp::verb::head;
    if (h.has_content_length()) {
      auto len = parser_->content_length();
      if (len && *len > shared_->options.max_body_bytes) {
        return Fail(413, absl::StrFormat("request body of %d bytes is over the %d-byte limit", *len,
                                         shared_->options.max_body_bytes));
      }
    }
    if (shared_->stopping) {
      keep_alive_ = false;
      linger_ = true;  // the body is not read
      return Write(ErrorResponse(absl::UnavailableError("server is shutting down")));
    }
    if (shared_->inflight.fetch_add(1) >= shared_->options.max_inflight) {
      --shared_->inflight;
      keep_alive_ = false;  // the body (if any) is not read
      linger_ = true;
      return Write(ErrorResponse(absl::ResourceExhaustedError(
          absl::StrFormat("too many requests in flight (limit %d); retry", shared_->options.max_inflight))));
    }
    counted_ = true;
    Lowest().expires_after(Ms(shared_->options.body_timeout_seconds));
    bhttp::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::OnBody, this->shared_from_this()));
  }

  void OnBody(beast::error_code ec, size_t /*bytes*/) {
    if (ec == bhttp::error::body_limit) {
      return Fail(413, absl::StrFormat("request body over %d bytes", shared_->options.max_body_bytes));
    }
    if (ec) return;
    Lowest().expires_never();  // the worker's time is bounded by the query, not by the client
    bhttp::request<bhttp::string_body> msg = parser_->release();
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.authorization = std::string(msg[bhttp::field::authorization]);
    req.body = std::move(msg.body());
    asio::post(*shared_->pool, [self = this->shared_from_this(), req = std::move(req)]() mutable {
      Response r = self->shared_->router.Handle(req);
      asio::post(self->stream_.get_executor(), [self, r = std::move(r)]() mutable { self->Write(std::move(r)); });
    });
  }

  void Fail(int http_status, const std::string& why) {
    keep_alive_ = false;
    linger_ = true;  // the client may still be sending: read and drop it so the answer is not lost to a reset
    Write(ErrorResponse(http_status, absl::ResourceExhaustedError(why)));
  }

  void Write(Response r) {
    res_ = {};
    res_.version(version_);
    res_.result(static_cast<unsigned>(r.status));
    res_.set(bhttp::field::server, "whoknows");
    res_.set(bhttp::field::content_type, r.content_type);
    res_.set("X-Content-Type-Options", "nosniff");
    if (r.content_type.rfind("text/html", 0) == 0) {
      // Everything the page needs comes from this server.
      res_.set("Content-Security-Policy",
               "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
               "connect-src 'self'; frame-ancestors 'none'");
      res_.set("Referrer-Policy", "no-referrer");
    }
    for (auto& [k, v] : r.headers) res_.set(k, v);
    res_.keep_alive(keep_alive_ && !shared_->stopping);
    if (head_) {
      res_.content_length(r.body.size());
    } else {
      res_.body() = std::move(r.body);
      res_.prepare_payload();
    }
    Lowest().expires_after(Ms(shared_->options.write_timeout_seconds));
    bhttp::async_write(stream_, res_, beast::bind_front_handler(&Session::OnWrite, this->shared_from_this()));
  }

  void OnWrite(beast::error_code ec, size_t /*bytes*/) {
    if (counted_) {
      counted_ = false;
      --shared_->inflight;
    }
    if (ec) return;
    if (!res_.keep_alive()) return Close();
    ReadHeader();
  }

  void Close() {
    if (linger_) return Linger();
    if constexpr (kTls) {
      Lowest().expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    } else {
      beast::error_code ec;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    }
  }

  // After an early error answer: stop sending, then read and discard what the
  // client still sends (at most 1 MiB, at most 1 s) before closing.
  void Linger() {
    beast::error_code ec;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    Lowest().expires_after(std::chrono::seconds(1));
    DrainSome();
  }
  void DrainSome() {
    if (drained_ > (1u << 20)) return;
    Lowest().async_read_some(asio::buffer(drain_buf_), [self = this->shared_from_this()](beast::error_code ec, size_t n) {
      if (ec) return;
      self->drained_ += n;
      self->DrainSome();
    });
  }

  Stream stream_;
  Shared* shared_;
  bool reject_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> res_;
  bool first_ = true;
  bool keep_alive_ = true;
  bool head_ = false;
  unsigned version_ = 11;
  bool counted_ = false;  // holds one of max_inflight
  bool linger_ = false;
  size_t drained_ = 0;
  std::array<char, 16384> drain_buf_;
};

class HttpServerImpl final : public HttpServer {
 public:
  HttpServerImpl(std::unique_ptr<Shared> shared, std::unique_ptr<asio::ssl::context> ssl, const HttpOptions& o)
      : shared_(std::move(shared)),
        ssl_(std::move(ssl)),
        pool_(o.worker_threads != 0 ? o.worker_threads : std::max(2u, std::thread::hardware_concurrency())),
        ioc_(static_cast<int>(std::max<size_t>(1, o.io_threads))),
        acceptor_(asio::make_strand(ioc_)) {
    shared_->pool = &pool_;
  }

  ~HttpServerImpl() override {
    Shutdown(0);
    Wait();
  }

  absl::Status Listen(const std::string& listen) {
    std::string_view host = service::HostOfAddress(listen);
    std::string_view port_str = std::string_view(listen).substr(std::min(listen.size(), listen.rfind(':') + 1));
    int port = 0;
    if (listen.rfind(':') == std::string::npos || !absl::SimpleAtoi(absl::string_view(port_str.data(), port_str.size()), &port) || port < 0 || port > 65535) {
      return absl::InvalidArgumentError(absl::StrFormat("--http %s: expected HOST:PORT", listen));
    }
    beast::error_code ec;
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(std::string(host), std::to_string(port), ec);
    if (ec || results.empty()) {
      return absl::InvalidArgumentError(absl::StrFormat("--http %s: cannot resolve %s: %s", listen, host, ec.message()));
    }
    tcp::endpoint ep = results.begin()->endpoint();
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return absl::UnavailableError(absl::StrFormat("cannot listen on %s: %s", listen, ec.message()));
    port_ = acceptor_.local_endpoint().port();
    address_ = host.find(':') != std::string_view::npos ? absl::StrFormat("[%s]:%d", host, port_)
                                                        : absl::StrFormat("%s:%d", host, port_);
    return absl::OkStatus();
  }

  void Run() {
    Accept();
    for (size_t i = 0; i < std::max<size_t>(1, shared_->options.io_threads); ++i) {
      threads_.emplace_back([this] { ioc_.run(); });
    }
  }

  int port() const override { return port_; }
  std::string address() const override { return address_; }
  std::string url() const override { return absl::StrFormat("%s://%s/", ssl_ ? "https" : "http", address_); }

  void Shutdown(double grace_seconds) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (shutting_down_) return;
      shutting_down_ = true;
    }
    shared_->stopping = true;
    asio::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    const auto deadline = std::chrono::steady_clock::now() + Ms(grace_seconds);
    while (shared_->inflight > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ioc_.stop();
    for (std::thread& t : threads_) t.join();
    pool_.stop();
    pool_.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
  }

  void Wait() override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return done_; });
  }

 private:
  void Accept() {
    acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (!acceptor_.is_open()) return;  // shut down
        LogWarning("http accept: %s", ec.message());
      } else {
        const bool reject = shared_->connections.fetch_add(1) >= shared_->options.max_connections;
        if (ssl_) {
          std::make_shared<Session<true>>(std::move(socket), ssl_.get(), shared_.get(), reject)->Start();
        } else {
          std::make_shared<Session<false>>(std::move(socket), nullptr, shared_.get(), reject)->Start();
        }
      }
      Accept();
    });
  }

  // Declaration order = reverse destruction order: the io_context (and the
  // sessions its queue still owns) goes before the TLS context and Shared.
  std::unique_ptr<Shared> shared_;
  std::unique_ptr<asio::ssl::context> ssl_;
  asio::thread_pool pool_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  int port_ = 0;
  std::string address_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool shutting_down_ = false;
  bool done_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(service::Backend* backend, const HttpOptions& options) {
  if (backend == nullptr) return absl::InvalidArgumentError("no backend");
  std::unique_ptr<service::TokenTable> tokens;
  if (!options.tokens_file.empty()) {
    WK_ASSIGN_OR_RETURN(service::TokenTable t, service::TokenTable::Load(options.tokens_file));
    tokens = std::make_unique<service::TokenTable>(std::move(t));
  } else if (!service::IsLoopbackAddress(options.listen)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "refusing to serve HTTP on non-loopback %s without --tokens (anyone could read and erase)", options.listen));
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError("TLS needs both --tls-cert and --tls-key");
  }
  std::unique_ptr<asio::ssl::context> ssl;
  if (!options.tls_cert_file.empty()) {
    WK_ASSIGN_OR_RETURN(std::string cert, indexer::ReadFileToString(options.tls_cert_file));
    WK_ASSIGN_OR_RETURN(std::string key, indexer::ReadFileToString(options.tls_key_file));
    ssl = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    beast::error_code ec;
    ssl->use_certificate_chain(asio::buffer(cert), ec);
    if (ec) return absl::InvalidArgumentError(absl::StrFormat("%s: %s", options.tls_cert_file, ec.message()));
    ssl->use_private_key(asio::buffer(key), asio::ssl::context::pem, ec);
    if (ec) return absl::InvalidArgumentError(absl::StrFormat("%s: %s", options.tls_key_file, ec.message()));
  }
  auto shared = std::make_unique<Shared>(backend, std::move(tokens), options);
  auto server = std::make_unique<HttpServerImpl>(std::move(shared), std::move(ssl), options);
  WK_RETURN_IF_ERROR(server->Listen(options.listen));
  server->Run();
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace whoknows::http
