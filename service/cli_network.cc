// whoknows network | coverage: the talent network (network/network.h) over a
// local --db or a --server (role hr or admin). Thin: flags -> options ->
// backend -> text, JSON, GraphML, GEXF or SVG.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "whoknows/base/log.h"
#include "whoknows/network/network.h"
#include "whoknows/service/backend.h"
#include "whoknows/service/cli.h"
#include "whoknows/service/remote.h"

namespace whoknows::service {
namespace {

using json = nlohmann::json;

struct NetworkArgs {
  std::string db, from, to, format = "text", out;
  RemoteTarget remote;
  bool as_json = false, quiet = false;
  network::NetworkOptions o;
};

void AddCommon(CLI::App* cmd, NetworkArgs* a) {
  cmd->add_option("--db", a->db, "Index directory (local)");
  AddRemoteOptions(cmd, &a->remote, "Ask a whoknows server at HOST:PORT instead of --db (role hr or admin)");
  cmd->add_option("--from", a->from, "Window start YYYY-MM-DD (default: the oldest document)");
  cmd->add_option("--to", a->to, "Window end YYYY-MM-DD, inclusive (default: the newest document)");
  cmd->add_option("--community", a->o.community, "Only documents of this source community");
  cmd->add_option("--topic", a->o.topics, "Only documents with this topic (repeatable)");
  cmd->add_option("--left-after-months", a->o.left_after_months,
                  "No activity for this many months before the window's end = left (default 6)");
  cmd->add_option("--min-strength", a->o.min_strength, "Expert threshold: share of a topic's contributions (0.05)");
  cmd->add_option("--min-group-size", a->o.min_group_size, "Suppress communities smaller than this (default 3)");
  cmd->add_option("--top", a->o.top_k, "Brokers, influencers and members per community (default 20)");
  cmd->add_option("--out", a->out, "Write the output to this file instead of stdout");
  cmd->add_flag("--json", a->as_json, "JSON output (same as --format json)");
  cmd->add_flag("--quiet", a->quiet, "No progress lines");
}

absl::StatusOr<int64_t> Date(const std::string& s, bool end_of_day) {
  if (s.empty()) return 0;
  absl::Time t;
  std::string err;
  if (!absl::ParseTime("%Y-%m-%d", s, absl::UTCTimeZone(), &t, &err)) {
    return absl::InvalidArgumentError(absl::StrFormat("bad date \"%s\" (want YYYY-MM-DD)", s));
  }
  return absl::ToUnixSeconds(t) + (end_of_day ? 86399 : 0);
}

// Prepares options; returns the backend.
absl::StatusOr<std::unique_ptr<Backend>> Prepare(NetworkArgs& a) {
  absl::StatusOr<int64_t> from = Date(a.from, false), to = Date(a.to, true);
  if (!from.ok()) return from.status();
  if (!to.ok()) return to.status();
  a.o.from = *from;
  a.o.to = *to;
  if (a.as_json) a.format = "json";
  if (!a.quiet) {
    auto start = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
    auto last = std::make_shared<std::string>();
    a.o.progress = [start, last](std::string_view stage, double done) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - *start).count();
      // Only long runs report, once per stage (and per 10% of the documents stage).
      std::string key = absl::StrFormat("%s %d", stage, static_cast<int>(done * 10));
      if (s < 2 || key == *last) return;
      *last = key;
      std::fprintf(stderr, "[%6.1fs] %.*s %3.0f%%\n", s, static_cast<int>(stage.size()), stage.data(), done * 100);
    };
  }
  return OpenBackend(a.db, a.remote, false);
}

int Emit(const NetworkArgs& a, const std::string& text) {
  if (a.out.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  std::ofstream f(a.out, std::ios::binary);
  f << text;
  f.close();
  if (!f) {
    LogError("cannot write %s", a.out);
    return 1;
  }
  if (!a.quiet) std::fprintf(stderr, "wrote %s (%zu bytes)\n", a.out.c_str(), text.size());
  return 0;
}

json ExpertsJson(const std::vector<network::ExpertEntry>& v) {
  json out = json::array();
  for (const auto& e : v) {
    out.push_back({{"person_id", e.person_id}, {"name", e.name}, {"strength", e.strength}, {"docs", e.docs},
                   {"last_active", FormatDate(e.last_active)}});
  }
  return out;
}

json CoverageJson(const network::CoverageReport& r) {
  json topics = json::array();
  for (const network::TopicCoverage& t : r.topics) {
    json trend = json::array();
    for (const auto& q : t.trend) trend.push_back({{"quarter", q.quarter}, {"docs", q.docs}, {"people", q.people}});
    topics.push_back({{"topic", t.topic},
                      {"docs", t.docs},
                      {"units", t.units},
                      {"contributors", t.contributors},
                      {"bus_factor", t.bus_factor},
                      {"bus_factor_exact", t.bus_factor_exact},
                      {"bus_factor_people", t.bus_factor_people},
                      {"at_risk", t.at_risk},
                      {"experts", ExpertsJson(t.experts)},
                      {"left", ExpertsJson(t.left)},
                      {"trend", trend}});
  }
  return {{"from", FormatDate(r.from)},
          {"to", FormatDate(r.to)},
          {"docs", r.docs},
          {"persons", r.persons},
          {"definitions",
           {{"min_strength", r.options.min_strength},
            {"min_expert_docs", r.options.min_expert_docs},
            {"left_after_months", r.options.left_after_months},
            {"orphan_fraction", r.options.orphan_fraction},
            {"at_risk_max", r.options.at_risk_max}}},
          {"at_risk", r.at_risk},
          {"topics", topics}};
}

json PersonsJson(const std::vector<network::PersonScore>& v) {
  json out = json::array();
  for (const auto& p : v) {
    out.push_back({{"person_id", p.person_id}, {"name", p.name}, {"score", p.score}, {"community", p.community},
                   {"communities_bridged", p.communities_bridged}, {"replies_received", p.replies_received}});
  }
  return out;
}

json NetworkJson(const network::NetworkReport& r) {
  json comms = json::array();
  for (const network::Community& c : r.communities) {
    json members = json::array(), topics = json::array(), links = json::array();
    for (const auto& m : c.members) members.push_back({{"person_id", m.person_id}, {"name", m.name}, {"strength", m.strength}});
    for (const auto& [t, n] : c.top_topics) topics.push_back({{"topic", t}, {"docs", n}});
    for (const auto& [o, w] : c.links) links.push_back({{"community", o}, {"weight", w}});
    comms.push_back({{"id", c.id}, {"size", c.size}, {"members", members}, {"top_topics", topics}, {"links", links}});
  }
  json j = {{"from", FormatDate(r.from)},
            {"to", FormatDate(r.to)},
            {"docs", r.docs},
            {"persons", r.persons},
            {"contact_edges", r.contact_edges},
            {"reply_edges", r.reply_edges},
            {"modularity", r.modularity},
            {"community_method", r.community_method},
            {"communities_total", r.communities_total},
            {"suppressed_communities", r.suppressed_communities},
            {"suppressed_people", r.suppressed_people},
            {"min_group_size", r.options.min_group_size},
            {"communities", comms},
            {"betweenness", {{"exact", r.betweenness_exact}, {"pivots", r.betweenness_pivots}, {"error_bound", r.betweenness_error}}},
            {"brokers", PersonsJson(r.brokers)},
            {"influencers", PersonsJson(r.influencers)}};
  if (!r.nodes.empty()) {
    // networkx node-link form (networkx.node_link_graph reads it).
    json nodes = json::array(), edges = json::array();
    for (const network::Node& n : r.nodes) {
      nodes.push_back({{"id", n.id}, {"type", n.kind}, {"label", n.label}, {"community", n.community},
                       {"strength", n.strength}, {"docs", n.docs}, {"last_active", FormatDate(n.last_active)},
                       {"betweenness", n.betweenness}, {"pagerank", n.pagerank}});
    }
    for (const network::Edge& e : r.edges) {
      edges.push_back({{"source", r.nodes[e.source].id}, {"target", r.nodes[e.target].id}, {"relation", e.kind},
                       {"weight", e.weight}});
    }
    j["graph"] = {{"directed", false}, {"multigraph", false}, {"graph", json::object()}, {"nodes", nodes}, {"links", edges}};
  }
  return j;
}

// A window bound for people ("-" for an empty view).
std::string Day(int64_t t) { return t == 0 ? "-" : FormatDate(t); }

std::string Dump(const json& j) { return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n"; }

std::string Names(const std::vector<network::ExpertEntry>& v, size_t k, bool with_strength) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < v.size() && i < k; ++i) {
    parts.push_back(with_strength ? absl::StrFormat("%s %.2f", v[i].name, v[i].strength) : v[i].name);
  }
  if (v.size() > k) parts.push_back(absl::StrFormat("+%d", v.size() - k));
  return parts.empty() ? "-" : absl::StrJoin(parts, ", ");
}

std::string CoverageText(const network::CoverageReport& r, size_t limit) {
  std::string s = absl::StrFormat(
      "Skills inventory %s .. %s: %d documents, %d people, %d topics, %d at risk (bus factor <= %d)\n"
      "expert = strength >= %.2f and >= %d docs, active in the last %d months; bus factor = truck factor over "
      "answered threads\n\n",
      Day(r.from), Day(r.to), r.docs, r.persons, r.topics.size(), r.at_risk.size(), r.options.at_risk_max,
      r.options.min_strength, r.options.min_expert_docs, r.options.left_after_months);
  s += absl::StrFormat("%-28s %6s %5s %4s  %-44s %-20s %s\n", "topic", "docs", "units", "bus", "active experts (strength)",
                       "left", "last 4 quarters (docs)");
  for (size_t i = 0; i < r.topics.size() && i < limit; ++i) {
    const network::TopicCoverage& t = r.topics[i];
    std::vector<std::string> q;
    for (size_t k = t.trend.size() > 4 ? t.trend.size() - 4 : 0; k < t.trend.size(); ++k) {
      q.push_back(absl::StrFormat("%d", t.trend[k].docs));
    }
    s += absl::StrFormat("%-28s %6d %5d %3d%s  %-44s %-20s %s\n", t.topic.substr(0, 28), t.docs, t.units, t.bus_factor,
                         t.at_risk ? "!" : " ", Names(t.experts, 3, true).substr(0, 44), Names(t.left, 2, false).substr(0, 20),
                         absl::StrJoin(q, " "));
  }
  if (r.topics.size() > limit) s += absl::StrFormat("... %d more topics (--limit)\n", r.topics.size() - limit);
  s += absl::StrFormat("\nTopics at risk (%d):\n", r.at_risk.size());
  size_t shown = 0;
  for (const std::string& name : r.at_risk) {
    if (++shown > limit) {
      s += absl::StrFormat("  ... %d more\n", r.at_risk.size() - limit);
      break;
    }
    for (const network::TopicCoverage& t : r.topics) {
      if (t.topic != name) continue;
      s += absl::StrFormat("  %-28s bus factor %d%s, %d units; hangs on %s\n", t.topic.substr(0, 28), t.bus_factor,
                           t.bus_factor_exact ? "" : " (greedy)", t.units,
                           t.bus_factor_people.empty() ? "nobody active (already lost)" : absl::StrJoin(t.bus_factor_people, ", "));
    }
  }
  return s;
}

std::string NetworkText(const network::NetworkReport& r) {
  std::string s = absl::StrFormat(
      "Talent network %s .. %s: %d people, %d documents, %d contacts\n"
      "Communities: %d (modularity %.3f, %s); %d smaller than %d people suppressed (%d people)\n\n",
      Day(r.from), Day(r.to), r.persons, r.docs, r.contact_edges, r.communities_total, r.modularity,
      r.community_method, r.suppressed_communities, r.options.min_group_size, r.suppressed_people);
  for (const network::Community& c : r.communities) {
    if (c.id >= 15) {
      s += absl::StrFormat("... %d more communities (--json for all)\n", r.communities.size() - 15);
      break;
    }
    std::vector<std::string> topics, members, links;
    for (size_t i = 0; i < c.top_topics.size() && i < 5; ++i) topics.push_back(c.top_topics[i].first);
    for (size_t i = 0; i < c.members.size() && i < 5; ++i) members.push_back(c.members[i].name);
    for (size_t i = 0; i < c.links.size() && i < 4; ++i) links.push_back(absl::StrFormat("C%d (%.0f)", c.links[i].first, c.links[i].second));
    s += absl::StrFormat("C%-3d %5d people  topics: %s\n      members: %s\n      talks to: %s\n", c.id, c.size,
                         topics.empty() ? "-" : absl::StrJoin(topics, ", "), absl::StrJoin(members, ", "),
                         links.empty() ? "-" : absl::StrJoin(links, ", "));
  }
  s += absl::StrFormat("\nBrokers (betweenness, %s):\n",
                       r.betweenness_exact ? std::string("exact")
                                           : absl::StrFormat("%d pivots, error <= %.4f at 90%%", r.betweenness_pivots, r.betweenness_error));
  for (size_t i = 0; i < r.brokers.size(); ++i) {
    const auto& b = r.brokers[i];
    std::vector<std::string> cs;
    for (int c : b.communities_bridged) cs.push_back(absl::StrFormat("C%d", c));
    s += absl::StrFormat("%3d. %-32s %.4f  bridges %s\n", i + 1, b.name.substr(0, 32), b.score,
                         cs.empty() ? "-" : absl::StrJoin(cs, " "));
  }
  s += "\nInfluencers (PageRank on the reply graph):\n";
  for (size_t i = 0; i < r.influencers.size(); ++i) {
    const auto& b = r.influencers[i];
    s += absl::StrFormat("%3d. %-32s %.4f  %d replies received\n", i + 1, b.name.substr(0, 32), b.score, b.replies_received);
  }
  return s;
}

}  // namespace

void RegisterNetworkCommands(CLI::App& app, int* exit_code) {
  auto net = std::make_shared<NetworkArgs>();
  CLI::App* n = app.add_subcommand("network", "Talent network: communities, brokers, influencers, graph exports");
  AddCommon(n, net.get());
  n->add_option("--format", net->format, "text | json | graphml | gexf | svg (community map)")
      ->check(CLI::IsMember({"text", "json", "graphml", "gexf", "svg"}));
  n->callback([net, exit_code] {
    NetworkArgs& a = *net;
    auto backend = Prepare(a);
    if (!backend.ok()) {
      *exit_code = FailCommand(backend.status());
      return;
    }
    a.o.include_graph = a.format == "json" || a.format == "graphml" || a.format == "gexf";
    auto r = (*backend)->GetTalentNetwork(a.o, Caller{});
    if (!r.ok()) {
      *exit_code = FailCommand(r.status());
      return;
    }
    std::string out = a.format == "json"      ? Dump(NetworkJson(*r))
                      : a.format == "graphml" ? network::ToGraphML(*r)
                      : a.format == "gexf"    ? network::ToGexf(*r)
                      : a.format == "svg"     ? network::CommunityMapSvg(*r)
                                              : NetworkText(*r);
    *exit_code = Emit(a, out);
  });

  auto cov = std::make_shared<NetworkArgs>();
  auto limit = std::make_shared<size_t>(40);
  CLI::App* c = app.add_subcommand("coverage", "Skills inventory and bus factor per topic; topics at risk");
  AddCommon(c, cov.get());
  c->add_option("--format", cov->format, "text | json | svg (coverage over time)")
      ->check(CLI::IsMember({"text", "json", "svg"}));
  c->add_option("--limit", *limit, "Topics shown in text output (default 40)");
  c->add_option("--max-topics", cov->o.max_topics,
                "Compute and return only the most documented topics (default 0 = all; topics at risk among them)");
  c->callback([cov, limit, exit_code] {
    NetworkArgs& a = *cov;
    auto backend = Prepare(a);
    if (!backend.ok()) {
      *exit_code = FailCommand(backend.status());
      return;
    }
    auto r = (*backend)->GetTopicCoverage(a.o, Caller{});
    if (!r.ok()) {
      *exit_code = FailCommand(r.status());
      return;
    }
    std::string out = a.format == "json"  ? Dump(CoverageJson(*r))
                      : a.format == "svg" ? network::CoverageSvg(*r)
                                          : CoverageText(*r, *limit);
    *exit_code = Emit(a, out);
  });
}

}  // namespace whoknows::service
