// `whoknows serve`: the gRPC server (and with --http the HTTP/JSON server and
// web page, http/) over one writable Backend.
//
// SIGINT/SIGTERM are blocked before any thread starts and collected by one
// sigwait thread, which calls Server::Shutdown(grace): new calls are refused,
// in-flight calls (and Ingest commits) finish, then the process exits 0.

#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_join.h"
#include "whoknows/base/log.h"
#include "whoknows/http/server.h"
#include "whoknows/service/backend.h"
#include "whoknows/service/cli.h"
#include "whoknows/service/server.h"

namespace whoknows::service {
namespace {

struct ServeArgs {
  std::string db;
  std::vector<std::string> shards;
  double follow_seconds = 0;
  bool no_connect_cache = false;
  bool no_experts_cache = false;
  double connect_r_max = 0;
  double experts_r_max = 0;
  ServerOptions server;
  std::string http_listen;  // empty: no HTTP
  double grace_seconds = 10;
  bool balance = false;
  routing::BalanceOptions balance_options;
  bool shard_writer = false;  // --shard-writer: also hold the shards' writer
  size_t mmap_threshold_kb = 1024;  // --mmap-threshold-kb
};

int RunServe(const ServeArgs& args) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // inherited by every thread started below

  // A fixed mmap threshold (glibc's adapts upwards, to 32 MiB, after each large free): a snapshot's
  // arrays are mmaps of their own, returned to the OS when a fold or refresh frees the old base,
  // instead of heap pages that later allocations fragment (bench/RESULTS.md "Memory after 100
  // ingests at 1M").
  if (args.mmap_threshold_kb > 0 && mallopt(M_MMAP_THRESHOLD, static_cast<int>(args.mmap_threshold_kb * 1024)) != 1) {
    LogWarning("serve: --mmap-threshold-kb %d not accepted by malloc; using its default", args.mmap_threshold_kb);
  }

  if (args.server.tokens_file.empty() && !IsLoopbackAddress(args.server.listen)) {
    LogError("refusing to listen on non-loopback %s without --tokens", args.server.listen);
    return 2;
  }
  if (args.db.empty() == args.shards.empty()) {
    LogError("serve: give either --db DIR or --shard LOCATION (repeatable)");
    return 2;
  }
  BackendOptions bopts;
  // --shard and --follow serve read-only: the shards' writer, or the
  // replication master, is elsewhere (unless --shard-writer: this server is it).
  bopts.writable = (args.shards.empty() || args.shard_writer) && args.follow_seconds <= 0;
  bopts.train_ranker = bopts.writable;  // retrain the learned ranker in the background as ingest grows the history
  bopts.shards = args.shards;
  bopts.follow_seconds = args.follow_seconds;
  bopts.connect_cache = !args.no_connect_cache;
  bopts.experts_cache = !args.no_experts_cache;
  bopts.connect_r_max = args.connect_r_max;
  bopts.experts_r_max = args.experts_r_max;
  const std::string what = args.db.empty() ? absl::StrJoin(args.shards, ",") : args.db;
  bopts.balance_by_default = args.balance;
  bopts.balance = args.balance_options;
  absl::StatusOr<std::unique_ptr<Backend>> backend = Backend::Open(args.db, bopts);
  if (!backend.ok()) {
    LogError("%s: %s", what, backend.status().ToString());
    return 1;
  }
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(backend->get(), args.server);
  if (!server.ok()) {
    LogError("serve: %s", server.status().ToString());
    return server.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  std::unique_ptr<http::HttpServer> web;
  if (!args.http_listen.empty()) {
    http::HttpOptions hopts;
    hopts.listen = args.http_listen;
    hopts.tls_cert_file = args.server.tls_cert_file;
    hopts.tls_key_file = args.server.tls_key_file;
    hopts.tokens_file = args.server.tokens_file;
    hopts.ingest_batch = args.server.ingest_batch;
    absl::StatusOr<std::unique_ptr<http::HttpServer>> h = http::HttpServer::Start(backend->get(), hopts);
    if (!h.ok()) {
      LogError("serve --http: %s", h.status().ToString());
      return h.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
    }
    web = *std::move(h);
  }
  LogInfo("whoknows serving %s%s on %s (%s, %s): %d documents, %d persons", what,
          bopts.writable ? "" : (args.follow_seconds > 0 ? " (read-only replica)" : " (read-only)"), (*server)->address(),
          args.server.tls_cert_file.empty() ? "plaintext" : "TLS",
          args.server.tokens_file.empty() ? "no auth, loopback only" : "bearer tokens", (*backend)->documents(),
          (*backend)->persons());
  std::printf("listening on %s\n", (*server)->address().c_str());
  if (web != nullptr) std::printf("http on %s\n", web->url().c_str());
  std::fflush(stdout);

  Server* srv = server->get();
  http::HttpServer* web_srv = web.get();
  const double grace = args.grace_seconds;
  std::thread signal_thread([signals, srv, web_srv, grace] {
    int sig = 0;
    if (sigwait(&signals, &sig) == 0) {
      LogInfo("signal %d: shutting down (grace %.1f s)", sig, grace);
    }
    std::thread web_stop([web_srv, grace] {
      if (web_srv != nullptr) web_srv->Shutdown(grace);
    });
    srv->Shutdown(grace);
    web_stop.join();
  });
  srv->Wait();
  signal_thread.join();
  web.reset();
  server->reset();  // before the backend it uses
  LogInfo("server stopped");
  return 0;
}

}  // namespace

void RegisterServeCommand(CLI::App& app, int* exit_code) {
  auto a = std::make_shared<ServeArgs>();
  a->server.listen = "127.0.0.1:7878";
  CLI::App* serve = app.add_subcommand("serve", "Serve the index over gRPC (whoknows.v1.WhoKnows, health, reflection) and, with --http, HTTP/JSON + web page");
  serve->add_option("--db", a->db, "Index directory (created when missing); or --shard");
  serve->add_option("--shard", a->shards,
                    "Answer from these shards combined (read-only): a path or tcp://HOST:PORT of xapian-tcpsrv; "
                    "repeatable, the first one holds the identity table");
  serve->add_flag("--shard-writer", a->shard_writer,
                  "With --shard: also be the shards' single writer (Ingest, routing log) over xapian-tcpsrv "
                  "--writable; an Ingest is acknowledged only after every shard committed it, and while a shard "
                  "is down writes fail with UNAVAILABLE naming it and resume when it is back");
  serve->add_option("--follow", a->follow_seconds,
                    "Read-only replica: every SECONDS, swap in a new snapshot when the index (kept current by "
                    "xapian-replicate) has a new revision")
      ->capture_default_str();
  serve->add_option("--listen", a->server.listen, "HOST:PORT to listen on; port 0 = any free port")
      ->capture_default_str();
  serve->add_option("--http", a->http_listen,
                    "Also serve the HTTP/JSON API and the web page on HOST:PORT (same tokens, TLS and rules)");
  serve->add_option("--tls-cert", a->server.tls_cert_file, "PEM certificate chain (TLS with --tls-key)");
  serve->add_option("--tls-key", a->server.tls_key_file, "PEM private key");
  serve->add_option("--tokens", a->server.tokens_file,
                    "Bearer tokens file: '<token> <name> <reader|ingester|service|admin> <group,...|*> "
                    "[person=<id>]' per line");
  serve->add_option("--grace", a->grace_seconds, "Seconds in-flight calls may take after SIGTERM/SIGINT")
      ->capture_default_str();
  serve->add_flag("--balance", a->balance, "FindExperts balances load by default (callers may still choose)");
  serve->add_option("--balance-weight", a->balance_options.weight, "Load price at full load (marginal gain: in reciprocal rank; spread charge: in score spreads; 0 = none)")
      ->capture_default_str();
  serve->add_option("--balance-capacity", a->balance_options.default_capacity,
                    "Routed questions per week for people who set no max_per_week")
      ->capture_default_str();
  serve->add_option("--balance-decline-weight", a->balance_options.decline_weight, "Discount for declines")
      ->capture_default_str();
  serve->add_option("--balance-pool", a->balance_options.pool, "Candidates re-ranked by load")
      ->capture_default_str();
  serve->add_option("--balance-share-cap", a->balance_options.share_cap,
                    "Share of the last --balance-recent routed questions that counts as full load (0 = off)")
      ->capture_default_str();
  serve->add_option("--balance-recent", a->balance_options.recent_questions, "Recent questions for the share")
      ->capture_default_str();
  serve->add_option("--balance-activity-weight", a->balance_options.activity_weight,
                    "The most active candidate's capacity is (1 + this) x the default")
      ->capture_default_str();
  serve->add_option("--balance-keep-top", a->balance_options.keep_top_margin,
                    "The first candidate keeps the first place when this far (in score spread) ahead (< 0 = off)")
      ->capture_default_str();
  serve->add_option("--balance-exponent", a->balance_options.exponent, "Load exponent")->capture_default_str();
  serve->add_option("--balance-route-k", a->balance_options.route_k,
                    "Only who fills the first N places changes, the rest keep their order (0 = re-sort the pool)")
      ->capture_default_str();
  serve->add_option("--balance-gain-depth", a->balance_options.gain_depth,
                    "Marginal-gain assignment among the first N (0 = the spread charge; README)")
      ->capture_default_str();
  serve->add_option("--balance-gain-beta", a->balance_options.gain_beta,
                    "Marginal gain: score calibration (chance of answering ~ exp(beta x score / spread))")
      ->capture_default_str();
  serve->add_option("--balance-outcome-weight", a->balance_options.outcome_weight,
                    "Feedback from recent outcomes: answer chance x m^this (0 = off; README)")
      ->capture_default_str();
  serve->add_option("--balance-outcome-prior", a->balance_options.outcome_prior,
                    "Pseudo-outcomes shrinking a person's answer rate towards the pool's")
      ->capture_default_str();
  serve->add_option("--balance-outcome-days", a->balance_options.outcome_days, "Outcomes of the last N days count")
      ->capture_default_str();
  serve->add_option("--balance-mail-weight", a->balance_options.mail_weight,
                    "--balance-weight for mail questions (most of the candidates' evidence is mail; < 0 = the same)")
      ->capture_default_str();
  serve->add_option("--balance-mail-share-cap", a->balance_options.mail_share_cap,
                    "--balance-share-cap for mail questions (< 0 = the same)")
      ->capture_default_str();
  serve->add_option("--balance-mail-free-load", a->balance_options.mail_free_load,
                    "--balance-free-load for mail questions (< 0 = the same)")
      ->capture_default_str();
  serve->add_option("--balance-free-load", a->balance_options.free_load,
                    "Loads below this fraction of full cost nothing (0 = off; < 1)")
      ->capture_default_str();
  serve->add_option("--ingest-batch", a->server.ingest_batch, "Ingest messages per commit within a stream")
      ->capture_default_str();
  serve->add_option("--max-inflight", a->server.max_inflight,
                    "Reader calls running at once; more wait in a bounded queue (0 = hardware threads)")
      ->capture_default_str();
  serve->add_option("--max-queue", a->server.max_queue,
                    "Reader calls waiting for a worker; beyond it RESOURCE_EXHAUSTED (0 = 4 x max-inflight)")
      ->capture_default_str();
  serve->add_option("--max-queue-wait-ms", a->server.max_queue_wait_ms,
                    "Longest wait for a worker before a call is shed with RESOURCE_EXHAUSTED")
      ->capture_default_str();
  serve->add_flag("--no-connect-cache", a->no_connect_cache,
                  "Recompute every SuggestConnections (default: answers are reused until the next ingest)");
  serve->add_flag("--no-experts-cache", a->no_experts_cache,
                  "Recompute every FindExperts (default: answers to the same request are reused until the next ingest)");
  serve->add_option("--connect-r-max", a->connect_r_max,
                    "SuggestConnections push budget: residual threshold of its personalized PageRank (work ~ "
                    "1 / (alpha * r_max); 0 = the engine default)")
      ->check(CLI::NonNegativeNumber);
  serve->add_option("--mmap-threshold-kb", a->mmap_threshold_kb,
                    "Allocations of this many KiB or more get mmaps of their own and go back to the OS when "
                    "freed (glibc M_MMAP_THRESHOLD, fixed; 0 = glibc's adaptive default, up to 32 MiB)")
      ->check(CLI::Range(size_t{0}, size_t{32} * 1024))
      ->capture_default_str();
  serve->add_option("--experts-r-max", a->experts_r_max,
                    "FindExperts push budget: residual threshold of its personalized PageRank (work ~ "
                    "1 / (alpha * r_max); 0 = the engine default, 1e-5)")
      ->check(CLI::NonNegativeNumber);
  serve->callback([a, exit_code] { *exit_code = RunServe(*a); });
}

}  // namespace whoknows::service
