#include "whoknows/service/tokens.h"

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace whoknows::service {
namespace {

constexpr uint64_t kMaxOffset = 100000;
constexpr char kPageMagic[2] = {'w', '1'};

std::string_view TrimWs(std::string_view s) {
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

void Fnv(uint64_t* h, std::string_view s) {
  for (unsigned char c : s) {
    *h ^= c;
    *h *= 1099511628211ULL;
  }
  // Separator that cannot occur inside a length-prefixed field boundary.
  *h ^= 0xff;
  *h *= 1099511628211ULL;
}

void FnvList(uint64_t* h, const std::vector<std::string>& list) {
  Fnv(h, absl::StrFormat("%d", list.size()));
  for (const std::string& s : list) Fnv(h, s);
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kReader:
      return "reader";
    case Role::kIngester:
      return "ingester";
    case Role::kAdmin:
      return "admin";
    case Role::kService:
      return "service";
    case Role::kHr:
      return "hr";
  }
  return "unknown";
}

bool ParseRoleName(std::string_view name, Role* role) {
  if (name == "reader") {
    *role = Role::kReader;
  } else if (name == "ingester") {
    *role = Role::kIngester;
  } else if (name == "admin") {
    *role = Role::kAdmin;
  } else if (name == "service") {
    *role = Role::kService;
  } else if (name == "hr") {
    *role = Role::kHr;
  } else {
    return false;
  }
  return true;
}

absl::StatusOr<TokenTable> TokenTable::Parse(std::string_view content, std::string_view name) {
  TokenTable table;
  int line_no = 0;
  for (absl::string_view raw : absl::StrSplit(absl::string_view(content.data(), content.size()), '\n')) {
    ++line_no;
    std::string_view line = TrimWs(std::string_view(raw.data(), raw.size()));
    if (line.empty() || line.front() == '#') continue;
    std::vector<std::string> fields =
        absl::StrSplit(absl::string_view(line.data(), line.size()), absl::ByAnyChar(" \t"), absl::SkipEmpty());
    auto bad = [&](std::string_view why) {
      return absl::InvalidArgumentError(absl::StrFormat("%s:%d: %s", name, line_no, why));
    };
    if (fields.size() != 4 && fields.size() != 5) {
      return bad("expected 4 or 5 fields: <token> <caller-name> <role> <groups> [person=<id>]");
    }
    Caller caller;
    caller.name = fields[1];
    if (!ParseRoleName(fields[2], &caller.role)) {
      return bad(absl::StrFormat("unknown role \"%s\" (reader, ingester, service, hr or admin)", fields[2]));
    }
    if (fields.size() == 5) {
      constexpr absl::string_view kPerson = "person=";
      if (!absl::StartsWith(fields[4], kPerson) || fields[4].size() == kPerson.size()) {
        return bad("the fifth field must be person=<person id or identity key>");
      }
      caller.person = fields[4].substr(kPerson.size());
    }
    if (fields[3] != "*") {
      for (absl::string_view g : absl::StrSplit(fields[3], ',', absl::SkipEmpty())) {
        caller.groups.emplace_back(g);
      }
      if (caller.groups.empty()) return bad("no visibility groups (use * for all)");
    }
    if (!table.callers_.emplace(fields[0], std::move(caller)).second) return bad("token repeated");
  }
  return table;
}

absl::StatusOr<TokenTable> TokenTable::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrFormat("%s: cannot open tokens file", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return Parse(ss.str(), path);
}

const Caller* TokenTable::Find(std::string_view token) const {
  auto it = callers_.find(token);
  return it == callers_.end() ? nullptr : &it->second;
}

absl::StatusOr<Caller> Authenticate(const TokenTable& table, std::string_view header) {
  if (header.empty()) return absl::UnauthenticatedError("missing authorization: Bearer <token> metadata");
  constexpr std::string_view kBearer = "bearer ";
  if (header.size() <= kBearer.size() ||
      absl::AsciiStrToLower(absl::string_view(header.data(), kBearer.size())) != kBearer) {
    return absl::UnauthenticatedError("authorization metadata is not \"Bearer <token>\"");
  }
  const Caller* caller = table.Find(TrimWs(header.substr(kBearer.size())));
  if (caller == nullptr) return absl::UnauthenticatedError("unknown token");
  return *caller;
}

std::string_view HostOfAddress(std::string_view host_port) {
  if (!host_port.empty() && host_port.front() == '[') {
    size_t close = host_port.find(']');
    return close == std::string_view::npos ? host_port.substr(1) : host_port.substr(1, close - 1);
  }
  size_t colon = host_port.rfind(':');
  return colon == std::string_view::npos ? host_port : host_port.substr(0, colon);
}

bool IsLoopbackAddress(std::string_view host_port) {
  std::string_view host = HostOfAddress(host_port);
  return host == "localhost" || host == "::1" || absl::StartsWith(absl::string_view(host.data(), host.size()), "127.");
}

uint64_t QueryFingerprint(const ExpertsQuery& q) {
  uint64_t h = 14695981039346656037ULL;
  Fnv(&h, q.text);
  Fnv(&h, absl::StrFormat("%d|%d|%d", q.k, q.from, q.to));
  FnvList(&h, q.communities);
  FnvList(&h, q.topics);
  FnvList(&h, q.exclude);
  if (q.balance.has_value()) Fnv(&h, *q.balance ? "balance=1" : "balance=0");
  if (!q.asker.empty()) Fnv(&h, "asker=" + q.asker);
  if (q.min_vote_share.has_value()) Fnv(&h, absl::StrFormat("min_vote_share=%a", *q.min_vote_share));
  if (q.mix_evidence) Fnv(&h, "mix_evidence=1");
  return h;
}

std::string EncodePageToken(uint64_t offset, uint64_t fingerprint) {
  char raw[18];
  std::memcpy(raw, kPageMagic, 2);
  for (int i = 0; i < 8; ++i) raw[2 + i] = static_cast<char>((offset >> (8 * i)) & 0xff);
  for (int i = 0; i < 8; ++i) raw[10 + i] = static_cast<char>((fingerprint >> (8 * i)) & 0xff);
  return absl::WebSafeBase64Escape(absl::string_view(raw, sizeof(raw)));
}

absl::StatusOr<uint64_t> DecodePageToken(std::string_view token, uint64_t fingerprint) {
  std::string raw;
  if (token.size() > 64 || !absl::WebSafeBase64Unescape(absl::string_view(token.data(), token.size()), &raw) ||
      raw.size() != 18 || std::memcmp(raw.data(), kPageMagic, 2) != 0) {
    return absl::InvalidArgumentError("malformed page token");
  }
  uint64_t offset = 0, fp = 0;
  for (int i = 0; i < 8; ++i) offset |= static_cast<uint64_t>(static_cast<unsigned char>(raw[2 + i])) << (8 * i);
  for (int i = 0; i < 8; ++i) fp |= static_cast<uint64_t>(static_cast<unsigned char>(raw[10 + i])) << (8 * i);
  if (fp != fingerprint) return absl::InvalidArgumentError("page token belongs to a different query");
  if (offset > kMaxOffset) return absl::InvalidArgumentError("page token offset out of range");
  return offset;
}

}  // namespace whoknows::service
