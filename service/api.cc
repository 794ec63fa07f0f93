#include "whoknows/service/api.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "network_proto.h"
#include "nlohmann/json.hpp"
#include "whoknows/base/log.h"
#include "whoknows/base/status_macros.h"
#include "whoknows/indexer/readers.h"
#include "whoknows/service/proto_convert.h"

namespace whoknows::service {
namespace {

void Merge(const IngestCounts& add, IngestCounts* total) {
  total->indexed += add.indexed;
  total->duplicates += add.duplicates;
  total->skipped += add.skipped;
  for (const auto& [reason, n] : add.skipped_by_reason) {
    bool found = false;
    for (auto& [r, m] : total->skipped_by_reason) {
      if (r == reason) {
        m += n;
        found = true;
      }
    }
    if (!found) total->skipped_by_reason.emplace_back(reason, n);
  }
}

absl::Status NeedPerson(const std::string& person) {
  if (person.empty()) return absl::InvalidArgumentError("person is required");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Caller> Api::Authorize(std::string_view authorization, Role min) const {
  Caller caller;  // no tokens: local admin, every group
  if (tokens_ != nullptr) {
    WK_ASSIGN_OR_RETURN(caller, Authenticate(*tokens_, authorization));
  }
  if (!RoleAllows(caller.role, min)) {
    return absl::PermissionDeniedError(absl::StrFormat("caller %s has role %s; this call needs %s", caller.name,
                                                       RoleName(caller.role), RoleName(min)));
  }
  return caller;
}

absl::Status Api::FindExperts(const Caller& caller, const v1::FindExpertsRequest& req,
                              v1::FindExpertsResponse* resp) const {
  ExpertsQuery q;
  q.text = req.text();
  q.k = req.k() == 0 ? 10 : req.k();
  q.communities.assign(req.communities().begin(), req.communities().end());
  q.topics.assign(req.topics().begin(), req.topics().end());
  q.exclude.assign(req.exclude().begin(), req.exclude().end());
  q.from = req.window().from();
  q.to = req.window().to();
  if (req.balance() != v1::BALANCE_DEFAULT) q.balance = req.balance() == v1::BALANCE_ON;
  q.asker = req.asker();
  if (req.has_min_vote_share()) q.min_vote_share = req.min_vote_share();
  q.mix_evidence = req.mix_evidence();
  const uint64_t fp = QueryFingerprint(q);
  if (!req.page_token().empty()) {
    WK_ASSIGN_OR_RETURN(q.offset, DecodePageToken(req.page_token(), fp));
  }
  WK_ASSIGN_OR_RETURN(ExpertsAnswer answer, backend_->FindExperts(q, caller));
  ToProto(answer, resp);
  if (answer.has_more) resp->set_next_page_token(EncodePageToken(q.offset + q.k, fp));
  return absl::OkStatus();
}

absl::Status Api::SuggestConnections(const Caller& caller, const v1::SuggestConnectionsRequest& req,
                                     v1::SuggestConnectionsResponse* resp) const {
  ConnectQuery q;
  q.person = req.person();
  q.about = req.about();
  q.k = req.k() == 0 ? 10 : req.k();
  WK_RETURN_IF_ERROR(NeedPerson(q.person));
  WK_ASSIGN_OR_RETURN(std::vector<ConnectionResult> out, backend_->SuggestConnections(q, caller));
  ToProto(out, resp);
  return absl::OkStatus();
}

absl::Status Api::GetPerson(const Caller& caller, const v1::GetPersonRequest& req, v1::GetPersonResponse* resp) const {
  WK_RETURN_IF_ERROR(NeedPerson(req.person()));
  WK_ASSIGN_OR_RETURN(ProfileResult p, backend_->GetPerson(req.person(), caller));
  ToProto(p, resp);
  return absl::OkStatus();
}

absl::Status Api::ListTopics(const Caller& caller, const v1::ListTopicsRequest& req,
                             v1::ListTopicsResponse* resp) const {
  const size_t limit = req.limit() == 0 ? 20 : req.limit();
  if (limit > 1000) return absl::InvalidArgumentError("limit must be at most 1000");
  TopicsQuery q;
  q.limit = limit;
  q.topics.assign(req.topics().begin(), req.topics().end());
  if (q.topics.size() > 1000) return absl::InvalidArgumentError("at most 1000 topics");
  for (const std::string& t : q.topics) WK_RETURN_IF_ERROR(CheckQuerySize("topic", t));
  q.period_days = req.period_days() == 0 ? 90 : req.period_days();
  if (q.period_days > 36500) return absl::InvalidArgumentError("period_days must be at most 36500");
  WK_ASSIGN_OR_RETURN(std::vector<TopicResult> out, backend_->FindTopics(q, caller));
  ToProto(out, resp);
  return absl::OkStatus();
}

absl::Status Api::GetStats(const Caller& /*caller*/, const v1::GetStatsRequest& /*req*/,
                           v1::GetStatsResponse* resp) const {
  WK_ASSIGN_OR_RETURN(indexer::IndexStats s, backend_->GetStats());
  ToProto(s, resp);
  return absl::OkStatus();
}

absl::Status Api::OptOut(const Caller& caller, const v1::OptOutRequest& req, v1::OptOutResponse* /*resp*/) const {
  WK_RETURN_IF_ERROR(NeedPerson(req.person()));
  WK_RETURN_IF_ERROR(backend_->OptOut(req.person(), req.opted_out()));
  LogInfo("optout %s=%d by %s", req.person(), req.opted_out() ? 1 : 0, caller.name);
  return absl::OkStatus();
}

absl::Status Api::Erase(const Caller& caller, const v1::EraseRequest& req, v1::EraseResponse* resp) const {
  WK_RETURN_IF_ERROR(NeedPerson(req.person()));
  WK_ASSIGN_OR_RETURN(uint64_t removed, backend_->Erase(req.person()));
  resp->set_documents_removed(removed);
  LogInfo("erase %s: %d documents removed by %s", req.person(), removed, caller.name);
  return absl::OkStatus();
}

absl::Status Api::RecordRouting(const Caller& caller, const v1::RecordRoutingRequest& req,
                                v1::RecordRoutingResponse* resp) const {
  WK_ASSIGN_OR_RETURN(std::string id, backend_->RecordRouting(FromProto(req), caller));
  resp->set_routing_id(id);
  return absl::OkStatus();
}

absl::Status Api::RecordOutcome(const Caller& caller, const v1::RecordOutcomeRequest& req,
                                v1::RecordOutcomeResponse* /*resp*/) const {
  if (req.routing_id().empty() || req.person().empty()) {
    return absl::InvalidArgumentError("routing_id and person are required");
  }
  WK_ASSIGN_OR_RETURN(routing::Outcome o, routing::ParseOutcome(req.outcome()));
  return backend_->RecordOutcome(req.routing_id(), req.person(), o, req.time(), caller);
}

absl::Status Api::SetAvailability(const Caller& caller, const v1::SetAvailabilityRequest& req,
                                  v1::SetAvailabilityResponse* /*resp*/) const {
  WK_RETURN_IF_ERROR(NeedPerson(req.person()));
  const routing::Availability a = FromProto(req);
  WK_RETURN_IF_ERROR(backend_->SetAvailability(req.person(), a, caller));
  LogInfo("availability %s: away until %d, max %d/week, by %s", req.person(), a.away_until, a.max_per_week,
          caller.name);
  return absl::OkStatus();
}

absl::Status Api::ListRoutings(const Caller& caller, const v1::ListRoutingsRequest& req,
                               v1::ListRoutingsResponse* resp) const {
  const size_t limit = req.limit() == 0 ? 100 : req.limit();
  if (limit > 10000) return absl::InvalidArgumentError("limit must be at most 10000");
  WK_ASSIGN_OR_RETURN(std::vector<routing::RoutingEntry> entries, backend_->ListRoutings(req.person(), limit, caller));
  ToProto(entries, resp);
  return absl::OkStatus();
}

absl::Status Api::GetTopicCoverage(const Caller& caller, const v1::GetTopicCoverageRequest& req,
                                   v1::GetTopicCoverageResponse* resp) const {
  WK_ASSIGN_OR_RETURN(network::NetworkOptions o, OptionsFromProto(req.query()));
  WK_ASSIGN_OR_RETURN(network::CoverageReport r, backend_->GetTopicCoverage(o, caller));
  ToProto(r, resp);
  return absl::OkStatus();
}

absl::Status Api::GetTalentNetwork(const Caller& caller, const v1::GetTalentNetworkRequest& req,
                                   v1::GetTalentNetworkResponse* resp) const {
  WK_ASSIGN_OR_RETURN(network::NetworkOptions o, OptionsFromProto(req.query()));
  o.include_graph = req.include_graph();
  WK_ASSIGN_OR_RETURN(network::NetworkReport r, backend_->GetTalentNetwork(o, caller));
  ToProto(r, resp);
  if (req.include_svg()) resp->set_community_map_svg(network::CommunityMapSvg(r));
  return absl::OkStatus();
}

std::string MessageToJsonl(const v1::Message& m) {
  nlohmann::json j = nlohmann::json::object();
  auto str = [&](const char* key, const std::string& v) {
    if (!v.empty()) j[key] = v;
  };
  str("id", m.id());
  str("source", m.source());
  str("kind", m.kind());
  str("author", m.author());
  str("author_name", m.author_name());
  if (m.timestamp() != 0) j["timestamp"] = m.timestamp();
  str("title", m.title());
  str("text", m.text());
  str("thread", m.thread());
  str("reply_to", m.reply_to());
  if (m.mentions_size() > 0) j["mentions"] = std::vector<std::string>(m.mentions().begin(), m.mentions().end());
  if (m.tags_size() > 0) j["tags"] = std::vector<std::string>(m.tags().begin(), m.tags().end());
  str("community", m.community());
  str("visibility", m.visibility());
  if (m.score() != 0) j["score"] = m.score();
  if (m.accepted()) j["accepted"] = true;
  // Replace invalid UTF-8 instead of throwing; the parser sanitises again.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::Status IngestStream::Add(const v1::Message& m) {
  ++total_.received;
  absl::StatusOr<indexer::Record> r = indexer::ParseJsonRecord(MessageToJsonl(m), options_, default_source_);
  if (r.ok()) {
    records_.push_back(*std::move(r));
  } else {
    // The parser's message is "<reason>: <detail>".
    std::string msg(r.status().message());
    size_t colon = msg.find(':');
    std::string reason = colon == std::string::npos ? "bad-message" : msg.substr(0, colon);
    bad_.emplace_back(std::move(reason), absl::StrFormat("message %d (id %s): %s", total_.received, m.id(), msg));
  }
  return MaybeFlush();
}

absl::Status IngestStream::AddBad(std::string reason, std::string detail) {
  ++total_.received;
  bad_.emplace_back(std::move(reason), std::move(detail));
  return MaybeFlush();
}

absl::Status IngestStream::MaybeFlush() {
  if (records_.size() + bad_.size() >= batch_) return Flush();
  return absl::OkStatus();
}

absl::Status IngestStream::Flush() {
  if (records_.empty() && bad_.empty()) return absl::OkStatus();
  absl::StatusOr<IngestCounts> c = backend_->Ingest(std::move(records_), std::move(bad_));
  records_.clear();
  bad_.clear();
  if (!c.ok()) return c.status();
  Merge(*c, &total_);
  return absl::OkStatus();
}

}  // namespace whoknows::service
