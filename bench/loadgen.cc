// whoknows-load: a load generator for `whoknows serve` (loopback only).
//
// Async gRPC client (callback API, generated whoknows_grpc stubs). Two modes:
//   --rate R         open loop: request i is scheduled at t0 + i/R whatever
//                    happened to earlier ones, and its latency is measured
//                    from that *scheduled* time, so a stalled server shows up
//                    as latency instead of silently lowering the send rate
//                    (no coordinated omission).
//   --concurrency C  closed loop: C calls in flight; each completion sends the
//                    next one at once (max throughput); latency from the send.
// Requests: --method mix sends FindExperts with probability --mix and
// SuggestConnections otherwise (queries from --queries, one text per line;
// persons from --persons, one person id or identity key per line);
// --method experts|connect|stats|health sends only that call (health =
// grpc.health.v1.Health/Check, the trivial baseline: gRPC and network cost
// only; GetStats counts terms in the index and grows with it). The run stops after --requests N calls or --duration S
// seconds, whichever comes first (0 = no bound), then waits for in-flight calls
// (each has a --timeout deadline).
// Prints p50/p90/p99/max latency per method and overall, throughput and
// errors by status code; --json prints one JSON object.
//
//   whoknows-load --target 127.0.0.1:7878 --rate 500 --duration 20
//                 --queries queries.txt --persons persons.txt --mix 0.8 --json

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/channel_arguments.h"
#include "grpcpp/support/slice.h"
#include "absl/strings/str_split.h"
#include "whoknows/service/server.h"
#include "whoknows/v1/whoknows.grpc.pb.h"

namespace {

namespace pb = whoknows::v1;
using Clock = std::chrono::steady_clock;

enum Kind : uint8_t { kExperts = 0, kConnect = 1, kStats = 2, kHealth = 3 };
constexpr const char* kKindName[] = {"FindExperts", "SuggestConnections", "GetStats", "Health.Check"};
constexpr int kNumKinds = 4;

struct Options {
  std::string target = "127.0.0.1:7878";
  double rate = 0;
  int concurrency = 0;
  std::string method = "mix";
  double mix = 0.8;
  std::string queries_file;
  std::string persons_file;
  uint64_t requests = 0;
  double duration = 0;
  double timeout = 10;
  uint32_t k = 10;
  uint64_t warmup = 0;
  uint64_t seed = 1;
  int channels = 1;
  std::string token;
  bool json = false;
};

struct Sample {
  double latency_ms;
  Kind kind;
  int code;  // grpc::StatusCode
};

uint64_t Mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

bool ReadLines(const std::string& path, std::vector<std::string>* out) {
  std::ifstream in(path);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) out->push_back(line);
  }
  return true;
}

class Load {
 public:
  Load(const Options& o, std::vector<std::string> queries, std::vector<std::string> persons)
      : o_(o), queries_(std::move(queries)), persons_(std::move(persons)) {
    for (int c = 0; c < std::max(1, o.channels); ++c) {
      grpc::ChannelArguments args;
      args.SetInt("whoknows.load.channel", c);  // distinct args -> distinct connections
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      std::string target = o.target;
      if (target.find(',') != std::string::npos) {  // replicas: one channel, calls spread round-robin
        target = "ipv4:" + target;
        args.SetLoadBalancingPolicyName("round_robin");
      }
      std::shared_ptr<grpc::Channel> channel =
          grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
      stubs_.push_back(pb::WhoKnows::NewStub(channel));
      generic_.push_back(std::make_unique<grpc::GenericStub>(channel));
    }
  }

  // Deterministic request kind and payload index for call i.
  Kind KindOf(uint64_t i) const {
    if (o_.method == "experts") return kExperts;
    if (o_.method == "connect") return kConnect;
    if (o_.method == "stats") return kStats;
    if (o_.method == "health") return kHealth;
    const double u = static_cast<double>(Mix64(o_.seed * 1000003 + i) >> 11) * 0x1.0p-53;
    return u < o_.mix ? kExperts : kConnect;
  }

  // Blocking warm-up calls (not measured).
  void Warmup() {
    for (uint64_t i = 0; i < o_.warmup; ++i) {
      grpc::ClientContext ctx;
      Prepare(&ctx);
      pb::FindExpertsRequest req;
      req.set_text(queries_[Mix64(o_.seed + 77 + i) % queries_.size()]);
      req.set_k(o_.k);
      pb::FindExpertsResponse resp;
      (void)stubs_[i % stubs_.size()]->FindExperts(&ctx, req, &resp);
    }
  }

  void Run() {
    t0_ = Clock::now() + std::chrono::milliseconds(20);
    end_ = o_.duration > 0
               ? t0_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.duration))
               : Clock::time_point::max();
    if (o_.rate > 0) {
      const double interval = 1.0 / o_.rate;
      for (uint64_t i = 0;; ++i) {
        if (o_.requests > 0 && i >= o_.requests) break;
        const Clock::time_point at =
            t0_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval * i));
        if (at >= end_) break;
        std::this_thread::sleep_until(at);
        const double lag = std::chrono::duration<double, std::milli>(Clock::now() - at).count();
        max_send_lag_ms_ = std::max(max_send_lag_ms_, lag);
        Issue(i, at);
      }
    } else {
      std::this_thread::sleep_until(t0_);
      for (int c = 0; c < o_.concurrency; ++c) IssueNextClosed();
    }
    issuing_done_ = true;
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return outstanding_ == 0 && (o_.rate > 0 || closed_done_); });
  }

  nlohmann::json Report() const {
    nlohmann::json j;
    j["target"] = o_.target;
    j["mode"] = o_.rate > 0 ? "open" : "closed";
    if (o_.rate > 0)
      j["rate"] = o_.rate;
    else
      j["concurrency"] = o_.concurrency;
    j["method"] = o_.method;
    if (o_.method == "mix") j["mix"] = o_.mix;
    const double elapsed = std::chrono::duration<double>(last_done_ - t0_).count();
    uint64_t ok = 0;
    std::map<std::string, uint64_t> errors;
    std::vector<double> all;
    std::vector<double> per[kNumKinds];
    for (const Sample& s : samples_) {
      if (s.code == 0) {
        ++ok;
        all.push_back(s.latency_ms);
        per[s.kind].push_back(s.latency_ms);
      } else {
        ++errors[CodeName(s.code)];
      }
    }
    j["sent"] = samples_.size();
    j["ok"] = ok;
    j["errors"] = errors;
    j["error_count"] = samples_.size() - ok;
    j["elapsed_s"] = elapsed;
    j["throughput_rps"] = elapsed > 0 ? ok / elapsed : 0.0;
    if (o_.rate > 0) j["max_send_lag_ms"] = max_send_lag_ms_;
    j["latency_ms"] = Percentiles(all);
    for (int k = 0; k < kNumKinds; ++k) {
      if (!per[k].empty()) j["by_method"][kKindName[k]] = Percentiles(per[k]);
    }
    return j;
  }

 private:
  struct Call {
    grpc::ClientContext ctx;
    Kind kind = kExperts;
    Clock::time_point start;
    pb::FindExpertsRequest fe_req;
    pb::FindExpertsResponse fe_resp;
    pb::SuggestConnectionsRequest sc_req;
    pb::SuggestConnectionsResponse sc_resp;
    pb::GetStatsRequest st_req;
    pb::GetStatsResponse st_resp;
    grpc::ByteBuffer raw_req, raw_resp;  // grpc.health.v1 HealthCheckRequest{service: ""} is empty
  };

  static std::string CodeName(int code) {
    static const char* kNames[] = {
        "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
        "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
        "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
        "DATA_LOSS", "UNAUTHENTICATED"};
    return code >= 0 && code <= 16 ? kNames[code] : std::to_string(code);
  }

  static nlohmann::json Percentiles(std::vector<double> v) {
    nlohmann::json j;
    j["count"] = v.size();
    if (v.empty()) return j;
    std::sort(v.begin(), v.end());
    auto at = [&](double p) {
      const size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
      return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
    };
    j["p50"] = at(0.50);
    j["p90"] = at(0.90);
    j["p99"] = at(0.99);
    j["max"] = v.back();
    double sum = 0;
    for (double x : v) sum += x;
    j["mean"] = sum / static_cast<double>(v.size());
    return j;
  }

  void Prepare(grpc::ClientContext* ctx) const {
    ctx->set_deadline(
        std::chrono::system_clock::now() +
        std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(o_.timeout)));
    if (!o_.token.empty()) ctx->AddMetadata("authorization", "Bearer " + o_.token);
  }

  void IssueNextClosed() {
    const uint64_t i = next_.fetch_add(1);
    if ((o_.requests > 0 && i >= o_.requests) || Clock::now() >= end_) {
      std::lock_guard<std::mutex> lock(mu_);
      closed_done_ = true;
      cv_.notify_all();
      return;
    }
    Issue(i, Clock::now());
  }

  // Starts call i; its latency counts from `start` (the scheduled time in
  // open loop). The Call owns everything the async call needs until done.
  void Issue(uint64_t i, Clock::time_point start) {
    auto* call = new Call;
    call->kind = KindOf(i);
    call->start = start;
    Prepare(&call->ctx);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++outstanding_;
    }
    pb::WhoKnows::Stub* stub = stubs_[i % stubs_.size()].get();
    auto done = [this, call](grpc::Status status) { Done(call, status); };
    const uint64_t h = Mix64(o_.seed * 7919 + i);
    switch (call->kind) {
      case kExperts:
        call->fe_req.set_text(queries_[h % queries_.size()]);
        call->fe_req.set_k(o_.k);
        stub->async()->FindExperts(&call->ctx, &call->fe_req, &call->fe_resp, done);
        break;
      case kConnect: {
        call->sc_req.set_person(persons_[h % persons_.size()]);
        call->sc_req.set_k(o_.k);
        stub->async()->SuggestConnections(&call->ctx, &call->sc_req, &call->sc_resp, done);
        break;
      }
      case kStats:
        stub->async()->GetStats(&call->ctx, &call->st_req, &call->st_resp, done);
        break;
      case kHealth: {
        grpc::Slice empty;  // an empty message still needs one (empty) slice
        call->raw_req = grpc::ByteBuffer(&empty, 1);
        generic_[i % generic_.size()]->UnaryCall(&call->ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                                                 &call->raw_req, &call->raw_resp, done);
        break;
      }
    }
  }

  void Done(Call* call, const grpc::Status& status) {
    const Clock::time_point now = Clock::now();
    const Sample s{std::chrono::duration<double, std::milli>(now - call->start).count(), call->kind,
                   static_cast<int>(status.error_code())};
    delete call;
    {
      std::lock_guard<std::mutex> lock(mu_);
      samples_.push_back(s);
      last_done_ = std::max(last_done_, now);
    }
    if (o_.rate <= 0) IssueNextClosed();
    std::lock_guard<std::mutex> lock(mu_);
    if (--outstanding_ == 0 && issuing_done_) cv_.notify_all();
  }

  const Options o_;
  const std::vector<std::string> queries_;
  const std::vector<std::string> persons_;
  std::vector<std::unique_ptr<pb::WhoKnows::Stub>> stubs_;
  std::vector<std::unique_ptr<grpc::GenericStub>> generic_;
  Clock::time_point t0_, end_;
  Clock::time_point last_done_{};
  std::atomic<uint64_t> next_{0};
  std::atomic<bool> issuing_done_{false};
  double max_send_lag_ms_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t outstanding_ = 0;
  bool closed_done_ = false;
  std::vector<Sample> samples_;
};

void PrintText(const nlohmann::json& j) {
  std::printf("%s loop against %s: %s", j["mode"].get<std::string>().c_str(), j["target"].get<std::string>().c_str(),
              j["method"].get<std::string>().c_str());
  if (j.contains("rate")) std::printf(", %.0f req/s scheduled", j["rate"].get<double>());
  if (j.contains("concurrency")) std::printf(", concurrency %d", j["concurrency"].get<int>());
  std::printf("\n  sent %llu, ok %llu, errors %llu in %.2f s -> %.1f req/s\n",
              static_cast<unsigned long long>(j["sent"].get<uint64_t>()),
              static_cast<unsigned long long>(j["ok"].get<uint64_t>()),
              static_cast<unsigned long long>(j["error_count"].get<uint64_t>()), j["elapsed_s"].get<double>(),
              j["throughput_rps"].get<double>());
  for (const auto& [code, n] : j["errors"].items()) {
    std::printf("    %s: %llu\n", code.c_str(), static_cast<unsigned long long>(n.get<uint64_t>()));
  }
  if (j.contains("max_send_lag_ms")) std::printf("  max send lag %.2f ms\n", j["max_send_lag_ms"].get<double>());
  auto line = [](const char* name, const nlohmann::json& p) {
    if (!p.contains("p50")) return;
    std::printf("  %-20s n=%-7llu p50 %8.2f  p90 %8.2f  p99 %8.2f  max %8.2f ms\n", name,
                static_cast<unsigned long long>(p["count"].get<uint64_t>()), p["p50"].get<double>(),
                p["p90"].get<double>(), p["p99"].get<double>(), p["max"].get<double>());
  };
  line("all", j["latency_ms"]);
  if (j.contains("by_method")) {
    for (const auto& [name, p] : j["by_method"].items()) line(name.c_str(), p);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app("whoknows-load: open/closed-loop load against a loopback whoknows server");
  app.add_option("--target", o.target, "HOST:PORT, or IP:PORT,IP:PORT,... spread round-robin (loopback only)")->capture_default_str();
  auto* rate = app.add_option("--rate", o.rate, "Open loop: requests per second (latency from scheduled time)");
  auto* conc = app.add_option("--concurrency", o.concurrency, "Closed loop: calls in flight");
  rate->excludes(conc);
  app.add_option("--method", o.method, "mix | experts | connect | stats | health")
      ->check(CLI::IsMember({"mix", "experts", "connect", "stats", "health"}))
      ->capture_default_str();
  app.add_option("--mix", o.mix, "Fraction of FindExperts in --method mix (rest SuggestConnections)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--queries", o.queries_file, "Query texts, one per line");
  app.add_option("--persons", o.persons_file, "Person ids / identity keys, one per line");
  app.add_option("--requests", o.requests, "Stop after N requests (0 = no bound)")->capture_default_str();
  app.add_option("--duration", o.duration, "Stop sending after S seconds (0 = no bound)")->capture_default_str();
  app.add_option("--timeout", o.timeout, "Per-call deadline, seconds")->capture_default_str();
  app.add_option("--k", o.k, "Results per call")->capture_default_str();
  app.add_option("--warmup", o.warmup, "Blocking FindExperts calls before measuring")->capture_default_str();
  app.add_option("--seed", o.seed, "Seed of the request sequence")->capture_default_str();
  app.add_option("--channels", o.channels, "Separate connections (round robin)")->capture_default_str();
  app.add_option("--token", o.token, "Bearer token (servers started with --tokens)");
  app.add_flag("--json", o.json, "Print one JSON object");
  CLI11_PARSE(app, argc, argv);

  for (const std::string& one : std::vector<std::string>(absl::StrSplit(o.target, ','))) {  // A:P or A:P,B:P,... (round-robin)
    if (!whoknows::service::IsLoopbackAddress(one)) {
      std::fprintf(stderr, "whoknows-load: refusing non-loopback target %s (127.0.0.0/8, ::1, localhost only)\n",
                   one.c_str());
      return 2;
    }
  }
  if (o.rate <= 0 && o.concurrency <= 0) {
    std::fprintf(stderr, "whoknows-load: give --rate R (open loop) or --concurrency C (closed loop)\n");
    return 2;
  }
  if (o.requests == 0 && o.duration <= 0) {
    std::fprintf(stderr, "whoknows-load: give --requests N and/or --duration S\n");
    return 2;
  }
  std::vector<std::string> queries, persons;
  const bool need_queries = o.method == "experts" || (o.method == "mix" && o.mix > 0) || o.warmup > 0;
  const bool need_persons = o.method == "connect" || (o.method == "mix" && o.mix < 1);
  if (need_queries && (o.queries_file.empty() || !ReadLines(o.queries_file, &queries) || queries.empty())) {
    std::fprintf(stderr, "whoknows-load: --queries FILE with at least one line is required\n");
    return 2;
  }
  if (need_persons && (o.persons_file.empty() || !ReadLines(o.persons_file, &persons) || persons.empty())) {
    std::fprintf(stderr, "whoknows-load: --persons FILE with at least one line is required for SuggestConnections\n");
    return 2;
  }
  Load load(o, std::move(queries), std::move(persons));
  load.Warmup();
  load.Run();
  const nlohmann::json j = load.Report();
  if (o.json) {
    std::printf("%s\n", j.dump().c_str());
  } else {
    PrintText(j);
  }
  return j["ok"].get<uint64_t>() > 0 ? 0 : 1;
}
