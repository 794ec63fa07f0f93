// Ingest-to-visible latency against a running `whoknows serve` (loopback
// only): each round streams one message with a fresh nonce word through
// Ingest, then polls FindExperts(nonce) until the message's author is
// returned. Prints per round the Ingest call time and the time until visible
// (from before the Ingest call), then median and max.
//
//   ingest_probe --target 127.0.0.1:7878 [--rounds 10] [--json]

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "whoknows/service/grpc_client.h"
#include "whoknows/service/server.h"

namespace {
double Ms(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}
}  // namespace

int main(int argc, char** argv) {
  std::string target = "127.0.0.1:7878";
  int rounds = 10;
  double give_up_s = 10;
  bool json = false;
  CLI::App app("ingest_probe: time from Ingest until FindExperts shows the new message");
  app.add_option("--target", target, "HOST:PORT (loopback only)")->capture_default_str();
  app.add_option("--rounds", rounds, "Messages to probe")->capture_default_str();
  app.add_option("--give-up", give_up_s, "Seconds to poll before counting a round as failed")->capture_default_str();
  app.add_flag("--json", json, "JSON output");
  CLI11_PARSE(app, argc, argv);
  if (!whoknows::service::IsLoopbackAddress(target)) {
    std::fprintf(stderr, "ingest_probe: refusing non-loopback target %s\n", target.c_str());
    return 2;
  }
  absl::StatusOr<std::unique_ptr<whoknows::service::RemoteClient>> client =
      whoknows::service::RemoteClient::Connect(target, "", "");
  if (!client.ok()) {
    std::fprintf(stderr, "ingest_probe: %s\n", client.status().ToString().c_str());
    return 1;
  }
  const long long stamp =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::vector<double> ingest_ms, visible_ms;
  int failed = 0;
  int max_polls = 0;  // 1 = visible to the first FindExperts after Ingest returned
  for (int r = 0; r < rounds; ++r) {
    // A nonce made of letters only, so the stemmer keeps it one term.
    std::string nonce = "zqprobe";
    for (long long x = stamp * 100 + r; x > 0; x /= 26) nonce += static_cast<char>('a' + x % 26);
    const std::string author = nonce + "@probe.example.org";
    nlohmann::json m = {{"id", nonce},
                        {"source", "probe"},
                        {"kind", "post"},
                        {"author", author},
                        {"author_name", "Probe " + nonce},
                        {"timestamp", stamp},
                        {"title", "probe " + nonce},
                        {"text", "ingest latency probe " + nonce},
                        {"visibility", "public"}};
    const auto t0 = std::chrono::steady_clock::now();
    absl::StatusOr<whoknows::service::IngestCounts> counts = (*client)->Ingest({m.dump()});
    const auto t1 = std::chrono::steady_clock::now();
    if (!counts.ok() || counts->indexed != 1) {
      std::fprintf(stderr, "ingest_probe: round %d: Ingest %s\n", r,
                   counts.ok() ? "did not index the message" : counts.status().ToString().c_str());
      ++failed;
      continue;
    }
    bool seen = false;
    int polls = 0;
    while (!seen && Ms(t0, std::chrono::steady_clock::now()) < give_up_s * 1000) {
      whoknows::service::ExpertsQuery q;
      q.text = nonce;
      ++polls;
      absl::StatusOr<whoknows::service::ExpertsAnswer> a = (*client)->FindExperts(q);
      if (a.ok()) {
        for (const auto& e : a->experts) {
          if (e.person_id.find(nonce) != std::string::npos) seen = true;
        }
      }
      if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const auto t2 = std::chrono::steady_clock::now();
    if (!seen) {
      ++failed;
      continue;
    }
    max_polls = std::max(max_polls, polls);
    ingest_ms.push_back(Ms(t0, t1));
    visible_ms.push_back(Ms(t0, t2));
    if (!json)
      std::printf("round %d: Ingest %.1f ms, visible after %.1f ms (%d polls)\n", r, Ms(t0, t1), Ms(t0, t2), polls);
  }
  auto median = [](std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  auto mx = [](const std::vector<double>& v) { return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()); };
  nlohmann::json j = {{"rounds", rounds},
                      {"failed", failed},
                      {"ingest_ms_median", median(ingest_ms)},
                      {"ingest_ms_max", mx(ingest_ms)},
                      {"visible_ms_median", median(visible_ms)},
                      {"visible_ms_max", mx(visible_ms)},
                      {"max_polls", max_polls}};
  std::printf("%s\n", json ? j.dump().c_str() : j.dump(2).c_str());
  return failed == 0 ? 0 : 1;
}
