#ifndef WHOKNOWS_SERVICE_TOKENS_H_
#define WHOKNOWS_SERVICE_TOKENS_H_

// Bearer tokens of the gRPC server, and the opaque FindExperts page tokens.
// Plain C++, no gRPC types.
//
// Tokens file (`whoknows serve --tokens F`), one token per line:
//
//   # comment; blank lines are ignored
//   <token> <caller-name> <role> <group>[,<group>...] [person=<id>]
//   s3cr3t-reader   alice   reader    public
//   s3cr3t-ingest   bot     ingester  public,internal
//   s3cr3t-router   chatbot service   public,internal
//   s3cr3t-bob      bob     reader    public  person=se:ai.stackexchange.com:user:42
//   s3cr3t-admin    root    admin     *
//
// Fields are separated by spaces or tabs. <role> is reader (queries),
// ingester (queries + Ingest), service (queries + the routing log:
// RecordRouting, RecordOutcome, ListRoutings), hr (queries + the talent
// network calls GetTalentNetwork/GetTopicCoverage) or admin (everything,
// incl. OptOut/Erase); see RoleAllows(). The optional person=<id> binds the
// token to a person (id or identity key): it may then set that person's
// availability and list that person's routings.
// <group> names visibility groups the caller may see; "*" means every group.
// A token may only appear once. Clients send `authorization: Bearer <token>`.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "whoknows/service/backend.h"

namespace whoknows::service {

std::string_view RoleName(Role role);
// "reader" | "ingester" | "service" | "hr" | "admin"; false otherwise.
bool ParseRoleName(std::string_view name, Role* role);

// Token -> Caller. Immutable after loading; safe to share between threads.
class TokenTable {
 public:
  // InvalidArgument naming `name:line` for a malformed line or a repeated token.
  static absl::StatusOr<TokenTable> Parse(std::string_view content, std::string_view name);
  // NotFound / PermissionDenied when the file cannot be read.
  static absl::StatusOr<TokenTable> Load(const std::string& path);

  // nullptr when `token` is unknown. The pointer lives as long as the table.
  const Caller* Find(std::string_view token) const;
  size_t size() const { return callers_.size(); }

 private:
  std::map<std::string, Caller, std::less<>> callers_;
};

// Caller-facing check of the `authorization` metadata value against a table:
// Unauthenticated when missing, not "Bearer <token>", or unknown.
absl::StatusOr<Caller> Authenticate(const TokenTable& table, std::string_view authorization_header);

// Without tokens a server (gRPC or HTTP) only listens on a loopback address.
// True for 127.0.0.0/8, ::1 and localhost.
bool IsLoopbackAddress(std::string_view host_port);
// Host part of HOST:PORT ("[::1]:80" -> "::1", "127.0.0.1:80" -> "127.0.0.1").
std::string_view HostOfAddress(std::string_view host_port);

// A stable (cross-process) fingerprint of everything in `q` except offset,
// so a page token cannot be replayed against a different query.
uint64_t QueryFingerprint(const ExpertsQuery& q);
// Opaque, URL-safe token naming `offset` within the query `fingerprint`.
std::string EncodePageToken(uint64_t offset, uint64_t fingerprint);
// InvalidArgument when malformed, of another query, or past the 100000th result.
absl::StatusOr<uint64_t> DecodePageToken(std::string_view token, uint64_t fingerprint);

}  // namespace whoknows::service

#endif  // WHOKNOWS_SERVICE_TOKENS_H_
