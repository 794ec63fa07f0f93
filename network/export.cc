// Exports of the talent network: GraphML (Boost.Graph), GEXF and SVG charts.
#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "boost/graph/adjacency_list.hpp"
#include "boost/graph/graphml.hpp"
#include "whoknows/network/network.h"

namespace whoknows::network {
namespace {

std::string Xml(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // Control characters are not allowed in XML 1.0.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string Date(int64_t t) {
  return t == 0 ? "" : absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(t), absl::UTCTimeZone());
}

// A qualitative palette (Tableau 10).
const char* Color(int i) {
  static const char* kColors[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                  "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  return i < 0 ? "#cccccc" : kColors[i % 10];
}

}  // namespace

std::string ToGraphML(const NetworkReport& r) {
  struct VP {
    std::string id, type, label, last_active;
    int community = -1;
    double strength = 0, betweenness = 0, pagerank = 0;
    int docs = 0;
  };
  struct EP {
    std::string relation;
    double weight = 0;
  };
  using G = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, VP, EP>;
  G g(r.nodes.size());
  for (size_t i = 0; i < r.nodes.size(); ++i) {
    const Node& n = r.nodes[i];
    g[i] = VP{n.id, n.kind, n.label, Date(n.last_active), n.community, n.strength, n.betweenness, n.pagerank,
              static_cast<int>(n.docs)};
  }
  for (const Edge& e : r.edges) boost::add_edge(e.source, e.target, EP{e.kind, e.weight}, g);
  boost::dynamic_properties dp(boost::ignore_other_properties);
  dp.property("id", boost::get(&VP::id, g));
  dp.property("type", boost::get(&VP::type, g));
  dp.property("label", boost::get(&VP::label, g));
  dp.property("community", boost::get(&VP::community, g));
  dp.property("strength", boost::get(&VP::strength, g));
  dp.property("docs", boost::get(&VP::docs, g));
  dp.property("last_active", boost::get(&VP::last_active, g));
  dp.property("betweenness", boost::get(&VP::betweenness, g));
  dp.property("pagerank", boost::get(&VP::pagerank, g));
  dp.property("relation", boost::get(&EP::relation, g));
  dp.property("weight", boost::get(&EP::weight, g));
  std::ostringstream out;
  boost::write_graphml(out, g, dp, true);
  return out.str();
}

std::string ToGexf(const NetworkReport& r) {
  std::string out;
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<gexf xmlns=\"http://gexf.net/1.2\" version=\"1.2\">\n";
  out += absl::StrFormat("  <meta><creator>whoknows network</creator><description>%s to %s</description></meta>\n",
                         Date(r.from), Date(r.to));
  out += "  <graph defaultedgetype=\"undirected\" mode=\"static\">\n";
  out += "    <attributes class=\"node\">\n"
         "      <attribute id=\"0\" title=\"type\" type=\"string\"/>\n"
         "      <attribute id=\"1\" title=\"community\" type=\"integer\"/>\n"
         "      <attribute id=\"2\" title=\"strength\" type=\"double\"/>\n"
         "      <attribute id=\"3\" title=\"docs\" type=\"integer\"/>\n"
         "      <attribute id=\"4\" title=\"last_active\" type=\"string\"/>\n"
         "      <attribute id=\"5\" title=\"betweenness\" type=\"double\"/>\n"
         "      <attribute id=\"6\" title=\"pagerank\" type=\"double\"/>\n"
         "      <attribute id=\"7\" title=\"id\" type=\"string\"/>\n"
         "    </attributes>\n"
         "    <attributes class=\"edge\">\n"
         "      <attribute id=\"0\" title=\"relation\" type=\"string\"/>\n"
         "    </attributes>\n";
  out += "    <nodes>\n";
  for (size_t i = 0; i < r.nodes.size(); ++i) {
    const Node& n = r.nodes[i];
    out += absl::StrFormat(
        "      <node id=\"n%d\" label=\"%s\"><attvalues><attvalue for=\"0\" value=\"%s\"/><attvalue for=\"1\" "
        "value=\"%d\"/><attvalue for=\"2\" value=\"%.6g\"/><attvalue for=\"3\" value=\"%d\"/><attvalue for=\"4\" "
        "value=\"%s\"/><attvalue for=\"5\" value=\"%.6g\"/><attvalue for=\"6\" value=\"%.6g\"/><attvalue for=\"7\" "
        "value=\"%s\"/></attvalues></node>\n",
        i, Xml(n.label), n.kind, n.community, n.strength, n.docs, Date(n.last_active), n.betweenness, n.pagerank,
        Xml(n.id));
  }
  out += "    </nodes>\n    <edges>\n";
  for (size_t i = 0; i < r.edges.size(); ++i) {
    const Edge& e = r.edges[i];
    out += absl::StrFormat(
        "      <edge id=\"e%d\" source=\"n%d\" target=\"n%d\" weight=\"%.6g\"><attvalues><attvalue for=\"0\" "
        "value=\"%s\"/></attvalues></edge>\n",
        i, e.source, e.target, e.weight, e.kind);
  }
  out += "    </edges>\n  </graph>\n</gexf>\n";
  return out;
}

std::string CommunityMapSvg(const NetworkReport& r) {
  const double W = 900, H = 700, cx = 450, cy = 360, ring = 250;
  const size_t k = std::min<size_t>(r.communities.size(), 12);
  std::string out = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
      "font-family=\"sans-serif\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
      W, H, W, H);
  out += absl::StrFormat(
      "<text x=\"20\" y=\"28\" font-size=\"18\" font-weight=\"bold\">Community map, %s to %s</text>\n"
      "<text x=\"20\" y=\"48\" font-size=\"12\" fill=\"#555\">%d people, %d contacts, modularity %.3f (%s); "
      "largest %d of %d communities shown; %d smaller than %d suppressed</text>\n",
      Xml(Date(r.from)), Xml(Date(r.to)), r.persons, r.contact_edges, r.modularity, Xml(r.community_method), k,
      r.communities.size(), r.suppressed_communities, r.options.min_group_size);
  if (k == 0) return out + "</svg>\n";
  uint32_t max_size = 1;
  double max_link = 1;
  for (size_t i = 0; i < k; ++i) {
    max_size = std::max(max_size, r.communities[i].size);
    for (const auto& [o, w] : r.communities[i].links) max_link = std::max(max_link, w);
  }
  std::vector<double> x(k), y(k), rad(k);
  for (size_t i = 0; i < k; ++i) {
    const double a = -M_PI / 2 + 2 * M_PI * static_cast<double>(i) / static_cast<double>(k);
    x[i] = k == 1 ? cx : cx + ring * std::cos(a);
    y[i] = k == 1 ? cy : cy + ring * std::sin(a);
    rad[i] = 12 + 48 * std::sqrt(static_cast<double>(r.communities[i].size) / max_size);
  }
  for (size_t i = 0; i < k; ++i) {
    for (const auto& [o, w] : r.communities[i].links) {
      if (o <= static_cast<int>(i) || o >= static_cast<int>(k)) continue;
      out += absl::StrFormat(
          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\" stroke-opacity=\"0.6\" "
          "stroke-width=\"%.1f\"><title>%.0f contacts between C%d and C%d</title></line>\n",
          x[i], y[i], x[o], y[o], 1 + 9 * std::sqrt(w / max_link), w, i, o);
    }
  }
  for (size_t i = 0; i < k; ++i) {
    const Community& c = r.communities[i];
    std::string topics;
    for (size_t t = 0; t < c.top_topics.size() && t < 3; ++t) topics += (t ? ", " : "") + c.top_topics[t].first;
    std::string lead = c.members.empty() ? "" : c.members[0].name;
    out += absl::StrFormat(
        "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\" fill-opacity=\"0.85\" stroke=\"#333\"><title>C%d: %d "
        "people; %s</title></circle>\n",
        x[i], y[i], rad[i], Color(static_cast<int>(i)), i, c.size, Xml(topics));
    out += absl::StrFormat(
        "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" text-anchor=\"middle\" font-weight=\"bold\">C%d (%d)</text>\n",
        x[i], y[i] + 4, i, c.size);
    out += absl::StrFormat("<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">%s</text>\n", x[i],
                           y[i] + rad[i] + 14, Xml(topics.substr(0, 48)));
    out += absl::StrFormat(
        "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\" fill=\"#555\">%s</text>\n", x[i],
        y[i] + rad[i] + 27, Xml(lead.substr(0, 40)));
  }
  if (!r.brokers.empty()) {
    std::string b;
    for (size_t i = 0; i < r.brokers.size() && i < 5; ++i) b += (i ? ", " : "") + r.brokers[i].name;
    out += absl::StrFormat("<text x=\"20\" y=\"%.0f\" font-size=\"12\">Top brokers: %s</text>\n", H - 16, Xml(b));
  }
  return out + "</svg>\n";
}

std::string CoverageSvg(const CoverageReport& r, size_t max_topics) {
  const double W = 900, H = 480, left = 60, right = 250, top = 60, bottom = 60;
  const double pw = W - left - right, ph = H - top - bottom;
  std::string out = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
      "font-family=\"sans-serif\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
      W, H, W, H);
  out += absl::StrFormat(
      "<text x=\"20\" y=\"28\" font-size=\"18\" font-weight=\"bold\">Topic coverage over time, %s to %s</text>\n"
      "<text x=\"20\" y=\"46\" font-size=\"12\" fill=\"#555\">People contributing per quarter to the %d largest "
      "topics; dashed = at risk (bus factor &lt;= %d)</text>\n",
      Xml(Date(r.from)), Xml(Date(r.to)), std::min(max_topics, r.topics.size()), r.options.at_risk_max);
  const size_t k = std::min(max_topics, r.topics.size());
  if (k == 0 || r.topics[0].trend.empty()) return out + "</svg>\n";
  const size_t nq = r.topics[0].trend.size();
  uint32_t ymax = 1;
  for (size_t i = 0; i < k; ++i) {
    for (const QuarterCount& q : r.topics[i].trend) ymax = std::max(ymax, q.people);
  }
  auto X = [&](size_t q) { return left + (nq == 1 ? pw / 2 : pw * static_cast<double>(q) / (nq - 1)); };
  auto Y = [&](double v) { return top + ph - ph * v / ymax; };
  out += absl::StrFormat("<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#333\"/>\n", left, top + ph,
                         left + pw, top + ph);
  out += absl::StrFormat("<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#333\"/>\n", left, top, left,
                         top + ph);
  for (int t = 0; t <= 4; ++t) {
    const double v = ymax * t / 4.0;
    out += absl::StrFormat(
        "<text x=\"%.0f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%.0f</text><line x1=\"%.0f\" y1=\"%.1f\" "
        "x2=\"%.0f\" y2=\"%.1f\" stroke=\"#eee\"/>\n",
        left - 6, Y(v) + 3, v, left, Y(v), left + pw, Y(v));
  }
  const size_t every = std::max<size_t>(1, (nq + 9) / 10);
  for (size_t q = 0; q < nq; q += every) {
    out += absl::StrFormat("<text x=\"%.1f\" y=\"%.0f\" font-size=\"10\" text-anchor=\"middle\">%s</text>\n", X(q),
                           top + ph + 16, r.topics[0].trend[q].quarter);
  }
  out += absl::StrFormat("<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\" text-anchor=\"middle\">quarter</text>\n",
                         left + pw / 2, H - 20);
  for (size_t i = 0; i < k; ++i) {
    const TopicCoverage& tc = r.topics[i];
    std::string pts;
    for (size_t q = 0; q < nq && q < tc.trend.size(); ++q) pts += absl::StrFormat("%.1f,%.1f ", X(q), Y(tc.trend[q].people));
    out += absl::StrFormat(
        "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s><title>%s</title></polyline>\n", pts,
        Color(static_cast<int>(i)), tc.at_risk ? " stroke-dasharray=\"6,4\"" : "", Xml(tc.topic));
    const double ly = top + 14 + 20 * static_cast<double>(i);
    out += absl::StrFormat(
        "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" stroke-width=\"3\"%s/>\n"
        "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\">%s: bus factor %d, %d experts</text>\n",
        left + pw + 15, ly, left + pw + 35, ly, Color(static_cast<int>(i)), tc.at_risk ? " stroke-dasharray=\"6,4\"" : "",
        left + pw + 40, ly + 4, Xml(tc.topic.substr(0, 22)), tc.bus_factor, tc.experts.size());
  }
  return out + "</svg>\n";
}

}  // namespace whoknows::network
