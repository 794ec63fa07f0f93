#include "shards.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "whoknows/indexer/index.h"
#include "xapian_util.h"

namespace whoknows::indexer {

namespace {
constexpr char kStubName[] = "XAPIANDB";
// Timeouts for remote shards (ms): a shard that does not answer in time is
// reported as unavailable rather than stalling every query behind it.
constexpr unsigned kRemoteTimeoutMs = 10000;
constexpr unsigned kRemoteConnectTimeoutMs = 2000;
}  // namespace

uint32_t ShardOf(std::string_view record_id, uint32_t shards) {
  if (shards <= 1) return 0;
  uint64_t h = 1469598103934665603ull;  // FNV-1a 64
  for (unsigned char c : record_id) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<uint32_t>(h % shards);
}

std::vector<std::string> ShardLocations(const std::string& dir) {
  const std::filesystem::path stub = std::filesystem::path(dir) / kStubName;
  std::ifstream in(stub);
  if (!in) return {dir};
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view l = absl::StripAsciiWhitespace(line);
    if (absl::ConsumePrefix(&l, "auto ")) {
      std::filesystem::path p(std::string(absl::StripAsciiWhitespace(l)));
      out.push_back((p.is_absolute() ? p : std::filesystem::path(dir) / p).string());
    }
  }
  // One entry: not ours but e.g. a xapian-replicate copy (XAPIANDB -> replica_N,
  // switched on a full copy): let Xapian resolve the stub at each open.
  return out.size() <= 1 ? std::vector<std::string>{dir} : out;
}

absl::StatusOr<std::vector<std::string>> CreateShardLayout(const std::string& dir, uint32_t shards) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::filesystem::path stub = std::filesystem::path(dir) / kStubName;
  std::vector<std::string> existing = ShardLocations(dir);
  const bool has_stub = std::filesystem::exists(stub);
  if (!has_stub && (std::filesystem::exists(std::filesystem::path(dir) / "iamglass") ||
                    std::filesystem::exists(std::filesystem::path(dir) / "iamchert"))) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s is an unsharded index; re-index into a new directory to shard it", dir));
  }
  if (has_stub) {
    if (existing.size() != shards) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s has %d shards, not %d: the shard of a record depends on the count; re-index to change it", dir,
          existing.size(), shards));
    }
    return existing;
  }
  std::ostringstream body;
  std::vector<std::string> out;
  for (uint32_t i = 0; i < shards; ++i) {
    std::string name = absl::StrFormat("shard-%02d", i);
    body << "auto " << name << "\n";
    out.push_back((std::filesystem::path(dir) / name).string());
  }
  // Written before any shard, so an interrupted first run is still a stub dir.
  std::ofstream f(stub);
  f << body.str();
  f.close();
  if (!f) return absl::InternalError(absl::StrFormat("cannot write %s", stub.string()));
  return out;
}

namespace internal {

bool ParseTcpLocation(std::string_view location, std::string* host, unsigned* port) {
  absl::string_view l(location.data(), location.size());
  if (!absl::ConsumePrefix(&l, "tcp://")) return false;
  size_t colon = l.rfind(':');
  if (colon == absl::string_view::npos) return false;
  absl::string_view h = l.substr(0, colon), p = l.substr(colon + 1);
  if (absl::ConsumePrefix(&h, "[")) absl::ConsumeSuffix(&h, "]");
  unsigned v = 0;
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
  if (ec != std::errc() || ptr != p.data() + p.size() || v == 0 || v > 65535 || h.empty()) return false;
  *host = std::string(h);
  *port = v;
  return true;
}

Xapian::Database OpenShardForReading(const std::string& location) {
  std::string host;
  unsigned port = 0;
  if (ParseTcpLocation(location, &host, &port)) {
    return Xapian::Remote::open(host, port, kRemoteTimeoutMs, kRemoteConnectTimeoutMs);
  }
  if (location.rfind("tcp://", 0) == 0) throw Xapian::InvalidArgumentError("bad shard location " + location + " (want tcp://HOST:PORT)");
  return Xapian::Database(location);
}

Xapian::WritableDatabase OpenShardForWriting(const std::string& location) {
  std::string host;
  unsigned port = 0;
  if (ParseTcpLocation(location, &host, &port)) {
    return Xapian::Remote::open_writable(host, port, 0 /* no timeout: commits can be slow */,
                                         kRemoteConnectTimeoutMs);
  }
  if (location.rfind("tcp://", 0) == 0) throw Xapian::InvalidArgumentError("bad shard location " + location + " (want tcp://HOST:PORT)");
  std::error_code ec;
  std::filesystem::create_directories(location, ec);
  return Xapian::WritableDatabase(location, Xapian::DB_CREATE_OR_OPEN);
}

absl::Status NameDownShards(absl::Status s, const std::vector<std::string>& locations, std::string_view note) {
  if (s.code() != absl::StatusCode::kUnavailable) return s;
  std::vector<std::string> down;
  for (const std::string& loc : locations) {
    if (loc.rfind("tcp://", 0) != 0) continue;
    absl::Status probe = GuardXapian("probe", [&] { OpenShardForReading(loc).get_doccount(); });
    if (!probe.ok()) down.push_back(loc);
  }
  if (down.empty()) return s;
  return absl::UnavailableError(absl::StrFormat("shard %s unavailable (of %d shards; %s): %s",
                                                absl::StrJoin(down, ", "), locations.size(), note, s.message()));
}

}  // namespace internal
}  // namespace whoknows::indexer
