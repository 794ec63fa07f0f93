#include "network_proto.h"

#include "absl/strings/str_format.h"

namespace whoknows::service {
namespace {

void ToProto(const network::ExpertEntry& e, v1::TopicExpert* out) {
  out->set_person_id(e.person_id);
  out->set_name(e.name);
  out->set_strength(e.strength);
  out->set_documents(e.docs);
  out->set_last_active(e.last_active);
}
network::ExpertEntry FromProto(const v1::TopicExpert& e) {
  return {e.person_id(), e.name(), e.strength(), static_cast<uint32_t>(e.documents()), e.last_active()};
}
void ToProto(const network::PersonScore& p, v1::NetworkPerson* out) {
  out->set_person_id(p.person_id);
  out->set_name(p.name);
  out->set_score(p.score);
  out->set_community(p.community);
  for (int c : p.communities_bridged) out->add_communities_bridged(c);
  out->set_replies_received(p.replies_received);
}
network::PersonScore FromProto(const v1::NetworkPerson& p) {
  network::PersonScore s{p.person_id(), p.name(), p.score(), p.community(), {}, static_cast<uint32_t>(p.replies_received())};
  s.communities_bridged.assign(p.communities_bridged().begin(), p.communities_bridged().end());
  return s;
}

}  // namespace

absl::StatusOr<network::NetworkOptions> OptionsFromProto(const v1::TalentQuery& q) {
  network::NetworkOptions o;
  o.from = q.window().from();
  o.to = q.window().to() == 0 ? 0 : q.window().to() - 1;
  o.community = q.community();
  o.topics.assign(q.topics().begin(), q.topics().end());
  if (q.left_after_months() != 0) o.left_after_months = static_cast<int>(std::min<uint32_t>(q.left_after_months(), 1200));
  if (q.min_strength() != 0) o.min_strength = q.min_strength();
  if (q.min_group_size() != 0) o.min_group_size = q.min_group_size();
  if (q.top_k() != 0) o.top_k = q.top_k();
  if (o.top_k > 1000) return absl::InvalidArgumentError("top_k must be at most 1000");
  o.max_topics = q.max_topics();
  return o;
}

void OptionsToProto(const network::NetworkOptions& o, v1::TalentQuery* q) {
  q->mutable_window()->set_from(o.from);
  q->mutable_window()->set_to(o.to == 0 ? 0 : o.to + 1);
  q->set_community(o.community);
  for (const std::string& t : o.topics) q->add_topics(t);
  q->set_left_after_months(static_cast<uint32_t>(o.left_after_months));
  q->set_min_strength(o.min_strength);
  q->set_min_group_size(static_cast<uint32_t>(o.min_group_size));
  q->set_top_k(static_cast<uint32_t>(o.top_k));
  q->set_max_topics(static_cast<uint32_t>(o.max_topics));
}

void ToProto(const network::CoverageReport& r, v1::GetTopicCoverageResponse* out) {
  out->mutable_window()->set_from(r.from);
  out->mutable_window()->set_to(r.to == 0 ? 0 : r.to + 1);
  out->set_documents(r.docs);
  out->set_persons(r.persons);
  for (const network::TopicCoverage& t : r.topics) {
    v1::TopicCoverage* p = out->add_topics();
    p->set_topic(t.topic);
    p->set_documents(t.docs);
    p->set_units(t.units);
    p->set_contributors(t.contributors);
    for (const auto& e : t.experts) ToProto(e, p->add_experts());
    for (const auto& e : t.left) ToProto(e, p->add_left());
    for (const auto& q : t.trend) {
      v1::QuarterActivity* a = p->add_trend();
      a->set_quarter(q.quarter);
      a->set_documents(q.docs);
      a->set_people(q.people);
    }
    p->set_bus_factor(t.bus_factor);
    p->set_bus_factor_exact(t.bus_factor_exact);
    for (const auto& n : t.bus_factor_people) p->add_bus_factor_people(n);
    p->set_at_risk(t.at_risk);
  }
  for (const auto& t : r.at_risk) out->add_at_risk(t);
}

network::CoverageReport FromProto(const v1::GetTopicCoverageResponse& in, const network::NetworkOptions& options) {
  network::CoverageReport r;
  r.from = in.window().from();
  r.to = in.window().to() == 0 ? 0 : in.window().to() - 1;
  r.docs = in.documents();
  r.persons = in.persons();
  r.options = options;
  for (const v1::TopicCoverage& p : in.topics()) {
    network::TopicCoverage t;
    t.topic = p.topic();
    t.docs = static_cast<uint32_t>(p.documents());
    t.units = static_cast<uint32_t>(p.units());
    t.contributors = static_cast<uint32_t>(p.contributors());
    for (const auto& e : p.experts()) t.experts.push_back(FromProto(e));
    for (const auto& e : p.left()) t.left.push_back(FromProto(e));
    for (const auto& q : p.trend()) {
      t.trend.push_back({q.quarter(), static_cast<uint32_t>(q.documents()), static_cast<uint32_t>(q.people())});
    }
    t.bus_factor = p.bus_factor();
    t.bus_factor_exact = p.bus_factor_exact();
    t.bus_factor_people.assign(p.bus_factor_people().begin(), p.bus_factor_people().end());
    t.at_risk = p.at_risk();
    r.topics.push_back(std::move(t));
  }
  r.at_risk.assign(in.at_risk().begin(), in.at_risk().end());
  return r;
}

void ToProto(const network::NetworkReport& r, v1::GetTalentNetworkResponse* out) {
  out->mutable_window()->set_from(r.from);
  out->mutable_window()->set_to(r.to == 0 ? 0 : r.to + 1);
  out->set_documents(r.docs);
  out->set_persons(r.persons);
  out->set_contact_edges(r.contact_edges);
  out->set_reply_edges(r.reply_edges);
  out->set_modularity(r.modularity);
  out->set_community_method(r.community_method);
  out->set_communities_total(r.communities_total);
  out->set_suppressed_communities(r.suppressed_communities);
  out->set_suppressed_people(r.suppressed_people);
  for (const network::Community& c : r.communities) {
    v1::TalentCommunity* p = out->add_communities();
    p->set_id(c.id);
    p->set_size(c.size);
    for (const auto& m : c.members) {
      v1::CommunityMember* x = p->add_members();
      x->set_person_id(m.person_id);
      x->set_name(m.name);
      x->set_strength(m.strength);
    }
    for (const auto& [t, n] : c.top_topics) {
      v1::NamedCount* x = p->add_top_topics();
      x->set_name(t);
      x->set_count(n);
    }
    for (const auto& [o, w] : c.links) {
      v1::CommunityLink* x = p->add_links();
      x->set_community(o);
      x->set_weight(w);
    }
  }
  out->set_betweenness_exact(r.betweenness_exact);
  out->set_betweenness_pivots(r.betweenness_pivots);
  out->set_betweenness_error(r.betweenness_error);
  for (const auto& b : r.brokers) ToProto(b, out->add_brokers());
  for (const auto& b : r.influencers) ToProto(b, out->add_influencers());
  for (const network::Node& n : r.nodes) {
    v1::NetworkNode* p = out->add_nodes();
    p->set_id(n.id);
    p->set_kind(n.kind);
    p->set_label(n.label);
    p->set_community(n.community);
    p->set_strength(n.strength);
    p->set_documents(n.docs);
    p->set_last_active(n.last_active);
    p->set_betweenness(n.betweenness);
    p->set_pagerank(n.pagerank);
  }
  for (const network::Edge& e : r.edges) {
    v1::NetworkEdge* p = out->add_edges();
    p->set_source(e.source);
    p->set_target(e.target);
    p->set_kind(e.kind);
    p->set_weight(e.weight);
  }
}

network::NetworkReport FromProto(const v1::GetTalentNetworkResponse& in, const network::NetworkOptions& options) {
  network::NetworkReport r;
  r.from = in.window().from();
  r.to = in.window().to() == 0 ? 0 : in.window().to() - 1;
  r.docs = in.documents();
  r.persons = in.persons();
  r.contact_edges = in.contact_edges();
  r.reply_edges = in.reply_edges();
  r.modularity = in.modularity();
  r.community_method = in.community_method();
  r.communities_total = in.communities_total();
  r.suppressed_communities = in.suppressed_communities();
  r.suppressed_people = in.suppressed_people();
  r.options = options;
  for (const v1::TalentCommunity& p : in.communities()) {
    network::Community c;
    c.id = p.id();
    c.size = static_cast<uint32_t>(p.size());
    for (const auto& m : p.members()) c.members.push_back({m.person_id(), m.name(), m.strength()});
    for (const auto& t : p.top_topics()) c.top_topics.emplace_back(t.name(), static_cast<uint32_t>(t.count()));
    for (const auto& l : p.links()) c.links.emplace_back(l.community(), l.weight());
    r.communities.push_back(std::move(c));
  }
  r.betweenness_exact = in.betweenness_exact();
  r.betweenness_pivots = in.betweenness_pivots();
  r.betweenness_error = in.betweenness_error();
  for (const auto& b : in.brokers()) r.brokers.push_back(FromProto(b));
  for (const auto& b : in.influencers()) r.influencers.push_back(FromProto(b));
  for (const v1::NetworkNode& n : in.nodes()) {
    r.nodes.push_back({n.id(), n.kind(), n.label(), n.community(), n.strength(), static_cast<uint32_t>(n.documents()),
                       n.last_active(), n.betweenness(), n.pagerank()});
  }
  for (const v1::NetworkEdge& e : in.edges()) r.edges.push_back({e.source(), e.target(), e.kind(), e.weight()});
  return r;
}

}  // namespace whoknows::service
