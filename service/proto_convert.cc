// Backend structs <-> whoknows.v1 messages: the one mapping, shared by the
// gRPC server and client (service/) and the HTTP/JSON server (http/).
// Only the generated .pb.h, no gRPC.

#include "whoknows/service/proto_convert.h"

#include <string>
#include <utility>
#include <vector>

namespace whoknows::service {
namespace {

template <typename Map>
void NamedCounts(const std::vector<std::pair<std::string, uint64_t>>& in, Map* out) {
  for (const auto& [name, count] : in) {
    v1::NamedCount* nc = out->Add();
    nc->set_name(name);
    nc->set_count(count);
  }
}

template <typename Map>
std::vector<std::pair<std::string, uint64_t>> NamedCounts(const Map& in) {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const v1::NamedCount& nc : in) out.emplace_back(nc.name(), nc.count());
  return out;
}

template <typename Rep>
std::vector<std::string> Strings(const Rep& rep) {
  return std::vector<std::string>(rep.begin(), rep.end());
}

}  // namespace

void ToProto(const Evidence& in, v1::Evidence* out) {
  out->set_id(in.id);
  out->set_title(in.title);
  out->set_snippet(in.snippet);
  out->set_source(in.source);
  out->set_thread_id(in.thread_id);
  out->set_kind(in.kind);
  out->set_role(in.role);
  out->set_timestamp(in.timestamp);
  out->set_score(in.score);
}

Evidence FromProto(const v1::Evidence& in) {
  Evidence e;
  e.id = in.id();
  e.title = in.title();
  e.snippet = in.snippet();
  e.source = in.source();
  e.thread_id = in.thread_id();
  e.kind = in.kind();
  e.role = in.role();
  e.timestamp = in.timestamp();
  e.score = in.score();
  return e;
}

void ToProto(const ExpertsAnswer& in, v1::FindExpertsResponse* out) {
  for (const ExpertResult& r : in.experts) {
    v1::Expert* e = out->add_experts();
    e->set_person_id(r.person_id);
    e->set_name(r.name);
    e->set_score(r.score);
    for (const auto& [name, value] : r.components) {
      v1::ScoreComponent* c = e->add_components();
      c->set_name(name);
      c->set_value(value);
    }
    for (const Evidence& ev : r.evidence) ToProto(ev, e->add_evidence());
    for (const std::string& t : r.topics) e->add_topics(t);
    e->set_last_active(r.last_active);
    e->set_reason(r.reason);
  }
  out->set_documents_matched(in.documents_matched);
  out->set_ranker(in.ranker);
}

ExpertsAnswer FromProto(const v1::FindExpertsResponse& in) {
  ExpertsAnswer a;
  for (const v1::Expert& e : in.experts()) {
    ExpertResult r;
    r.person_id = e.person_id();
    r.name = e.name();
    r.score = e.score();
    for (const v1::ScoreComponent& c : e.components()) r.components.emplace_back(c.name(), c.value());
    for (const v1::Evidence& ev : e.evidence()) r.evidence.push_back(FromProto(ev));
    r.topics = Strings(e.topics());
    r.last_active = e.last_active();
    r.reason = e.reason();
    a.experts.push_back(std::move(r));
  }
  a.has_more = !in.next_page_token().empty();
  a.documents_matched = in.documents_matched();
  a.ranker = in.ranker();
  return a;
}

void ToProto(const std::vector<ConnectionResult>& in, v1::SuggestConnectionsResponse* out) {
  for (const ConnectionResult& r : in) {
    v1::Connection* c = out->add_connections();
    c->set_person_id(r.person_id);
    c->set_name(r.name);
    c->set_score(r.score);
    for (const std::string& s : r.mutual_contacts) c->add_mutual_contacts(s);
    for (const std::string& s : r.shared_topics) c->add_shared_topics(s);
    for (const std::string& s : r.bridged_communities) c->add_bridged_communities(s);
    c->set_reason(r.reason);
  }
}

std::vector<ConnectionResult> FromProto(const v1::SuggestConnectionsResponse& in) {
  std::vector<ConnectionResult> out;
  for (const v1::Connection& c : in.connections()) {
    ConnectionResult r;
    r.person_id = c.person_id();
    r.name = c.name();
    r.score = c.score();
    r.mutual_contacts = Strings(c.mutual_contacts());
    r.shared_topics = Strings(c.shared_topics());
    r.bridged_communities = Strings(c.bridged_communities());
    r.reason = c.reason();
    out.push_back(std::move(r));
  }
  return out;
}

void ToProto(const ProfileResult& in, v1::GetPersonResponse* out) {
  out->set_person_id(in.person_id);
  out->set_name(in.name);
  for (const std::string& a : in.aliases) out->add_aliases(a);
  out->set_opted_out(in.opted_out);
  out->set_documents(in.documents);
  out->set_first_active(in.first_active);
  out->set_last_active(in.last_active);
  for (const TopicStrength& t : in.topics) {
    v1::TopicStrength* p = out->add_topics();
    p->set_topic(t.topic);
    p->set_strength(t.strength);
    p->set_documents(t.documents);
    p->set_share(t.share);
    NamedCounts(t.by_role, p->mutable_by_role());
    p->set_first_active(t.first_active);
    p->set_last_active(t.last_active);
    p->set_recent(t.recent);
    p->set_previous(t.previous);
    p->set_trend(t.trend);
  }
  for (const Evidence& e : in.top_documents) ToProto(e, out->add_top_documents());
  for (const auto& [name, n] : in.contacts) {
    v1::Contact* c = out->add_contacts();
    c->set_name(name);
    c->set_interactions(n);
  }
  for (const auto& [year, n] : in.activity_by_year) {
    v1::YearActivity* y = out->add_activity_by_year();
    y->set_year(year);
    y->set_documents(n);
  }
}

ProfileResult FromProto(const v1::GetPersonResponse& in) {
  ProfileResult p;
  p.person_id = in.person_id();
  p.name = in.name();
  p.aliases = Strings(in.aliases());
  p.opted_out = in.opted_out();
  p.documents = in.documents();
  p.first_active = in.first_active();
  p.last_active = in.last_active();
  for (const v1::TopicStrength& t : in.topics()) {
    TopicStrength x;
    x.topic = t.topic();
    x.strength = t.strength();
    x.documents = t.documents();
    x.share = t.share();
    for (const v1::NamedCount& c : t.by_role()) x.by_role.emplace_back(c.name(), c.count());
    x.first_active = t.first_active();
    x.last_active = t.last_active();
    x.recent = t.recent();
    x.previous = t.previous();
    x.trend = t.trend();
    p.topics.push_back(std::move(x));
  }
  for (const v1::Evidence& e : in.top_documents()) p.top_documents.push_back(FromProto(e));
  for (const v1::Contact& c : in.contacts()) p.contacts.emplace_back(c.name(), c.interactions());
  for (const v1::YearActivity& y : in.activity_by_year()) p.activity_by_year.emplace_back(y.year(), y.documents());
  return p;
}

void ToProto(const std::vector<TopicResult>& in, v1::ListTopicsResponse* out) {
  for (const TopicResult& t : in) {
    v1::Topic* p = out->add_topics();
    p->set_topic(t.topic);
    p->set_documents(t.documents);
    for (const auto& [name, s] : t.top_people) {
      v1::PersonStrength* ps = p->add_top_people();
      ps->set_name(name);
      ps->set_strength(s);
    }
    p->set_trend(t.trend);
    p->set_recent(t.recent);
    p->set_previous(t.previous);
    p->set_direction(t.direction);
    for (const std::string& sp : t.spellings) p->add_spellings(sp);
  }
}

std::vector<TopicResult> FromProto(const v1::ListTopicsResponse& in) {
  std::vector<TopicResult> out;
  for (const v1::Topic& p : in.topics()) {
    TopicResult t;
    t.topic = p.topic();
    t.documents = p.documents();
    for (const v1::PersonStrength& ps : p.top_people()) t.top_people.emplace_back(ps.name(), ps.strength());
    t.trend = p.trend();
    t.recent = p.recent();
    t.previous = p.previous();
    t.direction = p.direction();
    t.spellings = Strings(p.spellings());
    out.push_back(std::move(t));
  }
  return out;
}

void ToProto(const indexer::IndexStats& in, v1::GetStatsResponse* out) {
  out->set_documents(in.documents);
  NamedCounts(in.by_kind, out->mutable_by_kind());
  NamedCounts(in.by_source, out->mutable_by_source());
  out->set_persons(in.persons);
  out->set_threads(in.threads);
  out->set_topics(in.topics);
  NamedCounts(in.communities, out->mutable_communities());
  NamedCounts(in.visibility, out->mutable_visibility());
  out->set_first_timestamp(in.first_timestamp);
  out->set_last_timestamp(in.last_timestamp);
  out->set_shards(in.shards);
  out->set_snapshot_revision(in.snapshot_revision);
  out->set_index_revision(in.index_revision);
  out->set_snapshot_time(in.snapshot_time);
  out->set_lag_seconds(in.lag_seconds);
  out->set_ranker(in.ranker);
}

indexer::IndexStats FromProto(const v1::GetStatsResponse& in) {
  indexer::IndexStats s;
  s.documents = in.documents();
  s.by_kind = NamedCounts(in.by_kind());
  s.by_source = NamedCounts(in.by_source());
  s.persons = in.persons();
  s.threads = in.threads();
  s.topics = in.topics();
  s.communities = NamedCounts(in.communities());
  s.visibility = NamedCounts(in.visibility());
  s.first_timestamp = in.first_timestamp();
  s.last_timestamp = in.last_timestamp();
  s.shards = in.shards();
  s.snapshot_revision = in.snapshot_revision();
  s.index_revision = in.index_revision();
  s.snapshot_time = in.snapshot_time();
  s.lag_seconds = in.lag_seconds();
  s.ranker = in.ranker();
  return s;
}

void ToProto(const IngestCounts& in, v1::IngestResponse* out) {
  out->set_received(in.received);
  out->set_indexed(in.indexed);
  out->set_duplicates(in.duplicates);
  out->set_skipped(in.skipped);
  NamedCounts(in.skipped_by_reason, out->mutable_skipped_by_reason());
}

IngestCounts FromProto(const v1::IngestResponse& in) {
  IngestCounts c;
  c.received = in.received();
  c.indexed = in.indexed();
  c.duplicates = in.duplicates();
  c.skipped = in.skipped();
  c.skipped_by_reason = NamedCounts(in.skipped_by_reason());
  return c;
}

void ToProto(const RoutingRecord& in, v1::RecordRoutingRequest* out) {
  out->set_question_id(in.question_id);
  out->set_question_text(in.question_text);
  for (const std::string& p : in.people) out->add_people(p);
  out->set_time(in.time);
  out->set_visibility(in.visibility);
}

RoutingRecord FromProto(const v1::RecordRoutingRequest& in) {
  RoutingRecord r;
  r.question_id = in.question_id();
  r.question_text = in.question_text();
  r.people = Strings(in.people());
  r.time = in.time();
  r.visibility = in.visibility();
  return r;
}

void ToProto(const routing::Availability& in, v1::SetAvailabilityRequest* out) {
  out->set_away_until(in.away_until);
  out->set_max_per_week(in.max_per_week);
}

routing::Availability FromProto(const v1::SetAvailabilityRequest& in) {
  routing::Availability a;
  a.away_until = in.away_until();
  a.max_per_week = in.max_per_week();
  return a;
}

void ToProto(const routing::RoutingEntry& in, v1::RoutingEntry* out) {
  out->set_routing_id(in.routing_id);
  out->set_person(in.person);
  out->set_question(in.question);
  out->set_visibility(in.visibility);
  out->set_time(in.time);
  out->set_outcome(std::string(routing::OutcomeName(in.outcome)));
  out->set_outcome_time(in.outcome_time);
}

routing::RoutingEntry FromProto(const v1::RoutingEntry& in) {
  routing::RoutingEntry e;
  e.routing_id = in.routing_id();
  e.person = in.person();
  e.question = in.question();
  e.visibility = in.visibility();
  e.time = in.time();
  absl::StatusOr<routing::Outcome> o = routing::ParseOutcome(in.outcome());
  e.outcome = o.ok() ? *o : routing::Outcome::kPending;
  e.outcome_time = in.outcome_time();
  return e;
}

void ToProto(const std::vector<routing::RoutingEntry>& in, v1::ListRoutingsResponse* out) {
  for (const routing::RoutingEntry& e : in) ToProto(e, out->add_entries());
}

std::vector<routing::RoutingEntry> FromProto(const v1::ListRoutingsResponse& in) {
  std::vector<routing::RoutingEntry> out;
  out.reserve(in.entries_size());
  for (const v1::RoutingEntry& x : in.entries()) out.push_back(FromProto(x));
  return out;
}

}  // namespace whoknows::service
