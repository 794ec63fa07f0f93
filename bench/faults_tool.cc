// whoknows-faults: the helper behind scripts/crash-test and scripts/soak.
// Not shipped. Subcommands (exit 0 on success, 1 on a usage or I/O error):
//
//   ids DB                 every stored record id, one per line (docid order);
//                          a duplicated id shows up as two lines.
//   count DB               the number of documents (0 when DB does not exist yet).
//   gen N [--source S] [--prefix P] [--seed X] [--start-ts T]
//                          N deterministic JSONL messages (threads, replies,
//                          mentions, tags) for streaming ingest.
//   ingest ADDR FILE [--batch N] [--acked OUT] [--rate MSGS_PER_S]
//                    [--max-seconds S] [--stop-on-error] [--timeout S]
//                          streams FILE's lines in Ingest calls of N messages.
//                          After each acknowledged call (response received)
//                          the scoped ids "<source>:<id>" of its messages are
//                          appended to OUT and flushed. Prints one JSON summary.
//   query ADDR FILE --rate QPS --seconds S [--threads T] [--k K]
//                          bounded FindExperts load: at most QPS*S requests,
//                          queries from FILE (one per line) round-robin.
//                          Prints one JSON summary (requests, errors, p50/p99 ms).
//
// Loopback servers only by convention (the scripts pass 127.0.0.1:PORT).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "whoknows/indexer/index.h"
#include "whoknows/service/grpc_client.h"

namespace {

using Clock = std::chrono::steady_clock;
using whoknows::indexer::IndexReader;
using whoknows::service::RemoteClient;

// Value of `--name` in args[from..], or `def`.
std::string Flag(const std::vector<std::string>& args, const std::string& name, const std::string& def) {
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == name) return args[i + 1];
  }
  return def;
}
bool HasFlag(const std::vector<std::string>& args, const std::string& name) {
  return std::find(args.begin(), args.end(), name) != args.end();
}

int Ids(const std::string& db) {
  auto reader = IndexReader::Open(db);
  if (!reader.ok()) {
    std::fprintf(stderr, "ids: %s\n", reader.status().ToString().c_str());
    return 1;
  }
  absl::Status s = (*reader)->ForEachDocument(
      [](const whoknows::indexer::StoredDoc& d) { std::fprintf(stdout, "%s\n", d.id.c_str()); });
  if (!s.ok()) {
    std::fprintf(stderr, "ids: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}

int Count(const std::string& db) {
  if (!std::filesystem::exists(db)) {
    std::printf("0\n");
    return 0;
  }
  auto reader = IndexReader::Open(db);
  if (!reader.ok()) {
    // A database being created has no committed revision yet.
    std::printf("0\n");
    return 0;
  }
  std::printf("%llu\n", static_cast<unsigned long long>((*reader)->doc_count()));
  return 0;
}

int Gen(uint64_t n, const std::vector<std::string>& args) {
  const std::string source = Flag(args, "--source", "faults");
  const std::string prefix = Flag(args, "--prefix", "m");
  std::mt19937_64 rng(std::stoull(Flag(args, "--seed", "1")));
  int64_t ts = std::stoll(Flag(args, "--start-ts", "1700000000"));
  static const char* kWords[] = {
      "package", "build",  "fails",    "windows", "compiler", "segfault", "memory", "leak",     "regression",
      "matrix",  "lapack", "blas",     "vignette", "namespace", "S4",     "method", "dispatch", "closure",
      "bytecode", "garbage", "collector", "encoding", "utf8",   "locale",  "socket", "thread",  "parallel",
      "fork",    "signal", "timeout",  "graphics", "device",   "plot",    "latex",  "rd",       "docs",
      "check",   "cran",   "install",  "library", "fortran",  "linking",  "rcpp",   "serialize", "connection"};
  constexpr size_t kNumWords = sizeof(kWords) / sizeof(kWords[0]);
  std::uniform_int_distribution<size_t> word(0, kNumWords - 1);
  std::uniform_int_distribution<int> author(0, 199), len(8, 40), coin(0, 99);
  for (uint64_t i = 0; i < n; ++i) {
    nlohmann::json j;
    const std::string id = absl::StrFormat("%s-%d", prefix, i);
    j["id"] = id;
    j["source"] = source;
    j["kind"] = "mail";
    const int a = author(rng);
    j["author"] = absl::StrFormat("user%d@faults.example.org", a);
    j["author_name"] = absl::StrFormat("Fault User%d", a);
    ts += 1 + static_cast<int64_t>(coin(rng));
    j["timestamp"] = ts;
    std::string title, text;
    for (int w = 0; w < 4; ++w) title += std::string(w ? " " : "") + kWords[word(rng)];
    for (int w = 0, l = len(rng); w < l; ++w) text += std::string(w ? " " : "") + kWords[word(rng)];
    j["title"] = title;
    j["text"] = text;
    if (i > 0 && coin(rng) < 60) {
      const uint64_t parent = i - 1 - static_cast<uint64_t>(coin(rng)) % std::min<uint64_t>(i, 20);
      j["reply_to"] = absl::StrFormat("%s-%d", prefix, parent);
    }
    if (coin(rng) < 20) j["mentions"] = {absl::StrFormat("user%d@faults.example.org", author(rng))};
    j["tags"] = {kWords[word(rng)]};
    j["community"] = "faults";
    j["visibility"] = "internal";
    std::printf("%s\n", j.dump().c_str());
  }
  return 0;
}

int Ingest(const std::string& addr, const std::string& file, const std::vector<std::string>& args) {
  const size_t batch = std::max<size_t>(1, std::stoul(Flag(args, "--batch", "50")));
  const std::string acked_path = Flag(args, "--acked", "");
  const double rate = std::stod(Flag(args, "--rate", "0"));
  const double max_seconds = std::stod(Flag(args, "--max-seconds", "0"));
  const bool stop_on_error = HasFlag(args, "--stop-on-error");
  std::ifstream in(file);
  if (!in) {
    std::fprintf(stderr, "ingest: cannot read %s\n", file.c_str());
    return 1;
  }
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  auto client = RemoteClient::Connect(addr, "", "");
  if (!client.ok()) {
    std::fprintf(stderr, "ingest: %s\n", client.status().ToString().c_str());
    return 1;
  }
  (*client)->set_timeout_seconds(std::stod(Flag(args, "--timeout", "30")));
  std::FILE* acked = nullptr;
  if (!acked_path.empty()) {
    acked = std::fopen(acked_path.c_str(), "a");
    if (acked == nullptr) {
      std::fprintf(stderr, "ingest: cannot write %s\n", acked_path.c_str());
      return 1;
    }
  }
  const auto start = Clock::now();
  uint64_t calls = 0, acked_msgs = 0, received = 0, indexed = 0, duplicates = 0, skipped = 0, errors = 0;
  std::string last_error;
  for (size_t pos = 0; pos < lines.size(); pos += batch) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (max_seconds > 0 && elapsed >= max_seconds) break;
    if (rate > 0) {
      const double due = static_cast<double>(pos) / rate;
      if (due > elapsed) std::this_thread::sleep_for(std::chrono::duration<double>(due - elapsed));
    }
    std::vector<std::string> part(lines.begin() + static_cast<std::ptrdiff_t>(pos),
                                  lines.begin() + static_cast<std::ptrdiff_t>(std::min(lines.size(), pos + batch)));
    ++calls;
    auto r = (*client)->Ingest(part);
    if (!r.ok()) {
      ++errors;
      last_error = r.status().ToString();
      if (stop_on_error) break;
      continue;
    }
    received += r->received;
    indexed += r->indexed;
    duplicates += r->duplicates;
    skipped += r->skipped;
    acked_msgs += part.size();
    if (acked != nullptr) {
      for (const std::string& l : part) {
        nlohmann::json j = nlohmann::json::parse(l, nullptr, false);
        if (j.is_discarded() || !j.is_object()) continue;
        std::string source = j.value("source", ""), id = j.value("id", "");
        std::fprintf(acked, "%s:%s\n", source.c_str(), id.c_str());
      }
      std::fflush(acked);
    }
  }
  if (acked != nullptr) std::fclose(acked);
  nlohmann::json out = {{"calls", calls},       {"acked", acked_msgs}, {"received", received},
                        {"indexed", indexed},   {"duplicates", duplicates}, {"skipped", skipped},
                        {"errors", errors},     {"last_error", last_error},
                        {"seconds", std::chrono::duration<double>(Clock::now() - start).count()}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

int Query(const std::string& addr, const std::string& file, const std::vector<std::string>& args) {
  const double qps = std::stod(Flag(args, "--rate", "10"));
  const double seconds = std::stod(Flag(args, "--seconds", "10"));
  const int threads = std::max(1, std::stoi(Flag(args, "--threads", "4")));
  const size_t k = std::stoul(Flag(args, "--k", "10"));
  std::vector<std::string> queries;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) queries.push_back(line);
  }
  if (queries.empty() || qps <= 0 || seconds <= 0) {
    std::fprintf(stderr, "query: need queries in %s, --rate > 0 and --seconds > 0\n", file.c_str());
    return 1;
  }
  auto client = RemoteClient::Connect(addr, "", "");
  if (!client.ok()) {
    std::fprintf(stderr, "query: %s\n", client.status().ToString().c_str());
    return 1;
  }
  (*client)->set_timeout_seconds(10);
  const uint64_t total = static_cast<uint64_t>(qps * seconds);
  std::atomic<uint64_t> next{0}, errors{0};
  std::mutex mu;
  std::vector<double> latencies_ms;
  std::string last_error;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds * 1.5 + 10);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      std::vector<double> mine;
      for (uint64_t i; (i = next.fetch_add(1)) < total;) {
        const auto due = start + std::chrono::duration<double>(static_cast<double>(i) / qps);
        if (due > Clock::now()) std::this_thread::sleep_until(due);
        if (Clock::now() > deadline) break;
        whoknows::service::ExpertsQuery q;
        q.text = queries[i % queries.size()];
        q.k = k;
        const auto t0 = Clock::now();
        auto r = (*client)->FindExperts(q);
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (!r.ok()) {
          ++errors;
          std::lock_guard<std::mutex> lock(mu);
          last_error = r.status().ToString();
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
    });
  }
  for (std::thread& t : pool) t.join();
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto pct = [&](double p) {
    if (latencies_ms.empty()) return 0.0;
    return latencies_ms[std::min(latencies_ms.size() - 1, static_cast<size_t>(p * static_cast<double>(latencies_ms.size())))];
  };
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  nlohmann::json out = {{"requests", latencies_ms.size()},
                        {"planned", total},
                        {"errors", errors.load()},
                        {"last_error", last_error},
                        {"seconds", secs},
                        {"qps", static_cast<double>(latencies_ms.size()) / secs},
                        {"p50_ms", pct(0.50)},
                        {"p99_ms", pct(0.99)}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

int Usage() {
  std::fprintf(stderr,
               "usage: whoknows-faults ids DB | count DB | gen N [--source S --prefix P --seed X]\n"
               "       | ingest ADDR FILE [--batch N --acked OUT --rate R --max-seconds S --stop-on-error]\n"
               "       | query ADDR FILE --rate QPS --seconds S [--threads T --k K]\n");
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() < 2) return Usage();
  const std::string& cmd = args[0];
  try {
    if (cmd == "ids") return Ids(args[1]);
    if (cmd == "count") return Count(args[1]);
    if (cmd == "gen") return Gen(std::stoull(args[1]), args);
    if (cmd == "ingest" && args.size() >= 3) return Ingest(args[1], args[2], args);
    if (cmd == "query" && args.size() >= 3) return Query(args[1], args[2], args);
  } catch (const std::exception& e) {  // std::stoul & co. on a bad flag value
    std::fprintf(stderr, "whoknows-faults: %s\n", e.what());
    return 1;
  }
  return Usage();
}
