// Where a FindExperts call spends its time, stage by stage, in one process on
// one index (no gRPC): the BM25 search, the ranking (votes, propagation,
// candidates, components, explanations) and the evidence fetch (document data
// + snippet), by ablation: each variant is the full ranking with one stage
// switched off, run on the same query right after the full one, so the
// difference is that stage's cost under the same box noise.
//
//   experts_profile --db DIR --queries FILE [--n 300] [--retrieve-n 200] [--reps 3] [--json]
//
// Every stage runs --reps times per query and the fastest run counts (the box is shared).
//
// Prints, per stage, the median and p99 over the queries (ms of this thread's CPU time), the mean
// number of hits, candidates and PPR-touched vertices.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "absl/strings/str_format.h"
#include "whoknows/engine/connect.h"
#include "whoknows/engine/person_activity.h"
#include "whoknows/engine/ppr.h"
#include "whoknows/engine/rank.h"
#include "whoknows/engine/snapshot.h"
#include "whoknows/indexer/index.h"
#include "whoknows/ranker/ranker.h"

namespace {

// This thread's CPU time: on a shared box wall time mostly measures the other
// processes; CPU time is what a quiet machine would see as latency.
struct Clock {
  using time_point = double;  // ms
  static double now() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
  }
};

double Ms(double a, double b) { return b - a; }

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  using namespace whoknows;
  CLI::App app{"FindExperts stage profile (ablation, in process)"};
  std::string db, queries_file;
  size_t n = 300, retrieve_n = 200, reps = 3;
  bool json = false;
  std::string persons_file;
  size_t connect_n = 100;
  app.add_option("--db", db)->required();
  app.add_option("--queries", queries_file)->required();
  app.add_option("--n", n, "queries (cycled)")->capture_default_str();
  app.add_option("--retrieve-n", retrieve_n, "BM25 documents per query")->capture_default_str();
  app.add_option("--reps", reps, "runs per variant and query; the fastest counts")->capture_default_str();
  app.add_option("--persons", persons_file, "also profile SuggestConnections for these people (one id/key a line)");
  app.add_option("--connect-n", connect_n, "SuggestConnections calls (people cycled)")->capture_default_str();
  app.add_flag("--json", json);
  CLI11_PARSE(app, argc, argv);

  std::vector<std::string> queries;
  std::ifstream in(queries_file);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) queries.push_back(line);
  }
  if (queries.empty()) {
    std::fprintf(stderr, "%s: no queries\n", queries_file.c_str());
    return 2;
  }
  auto reader = indexer::IndexReader::Open(db);
  if (!reader.ok()) {
    std::fprintf(stderr, "%s\n", reader.status().ToString().c_str());
    return 1;
  }
  // The same reader code weighing with Xapian's own document lengths (the baseline of
  // the in-memory lengths, indexer/bm25_source.h).
  setenv("WHOKNOWS_XAPIAN_LENGTHS", "1", 1);
  auto xapian_reader = indexer::IndexReader::Open(db);
  unsetenv("WHOKNOWS_XAPIAN_LENGTHS");
  if (!xapian_reader.ok()) return 1;
  // In-memory lengths without the decoded term postings cache (the baseline of the cache).
  setenv("WHOKNOWS_TERM_CACHE_MB", "0", 1);
  auto uncached_reader = indexer::IndexReader::Open(db);
  unsetenv("WHOKNOWS_TERM_CACHE_MB");
  if (!uncached_reader.ok()) return 1;
  // Xapian's matcher for every query (the baseline of the indexer's own OR matcher, indexer/term_match.h).
  setenv("WHOKNOWS_XAPIAN_MATCHER", "1", 1);
  auto xapian_matcher_reader = indexer::IndexReader::Open(db);
  unsetenv("WHOKNOWS_XAPIAN_MATCHER");
  if (!xapian_matcher_reader.ok()) return 1;
  const auto t0 = Clock::now();
  std::vector<indexer::StoredDoc> docs;
  if (auto st = (*reader)->ForEachDocument([&](const indexer::StoredDoc& d) { docs.push_back(d); }); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  auto persons = (*reader)->ListPersons();
  if (!persons.ok()) return 1;
  auto snap = engine::BuildSnapshot(docs, *persons);
  if (!snap.ok()) {
    std::fprintf(stderr, "%s\n", snap.status().ToString().c_str());
    return 1;
  }
  docs.clear();
  docs.shrink_to_fit();
  const engine::Snapshot& s = **snap;
  const double load_ms = Ms(t0, Clock::now());

  // Variants of the ranking, each the server's options with one stage off.
  engine::AskOptions base;
  base.k = 11;  // the backend asks for k + 1 (has_more)
  struct Variant {
    std::string name;
    engine::AskOptions o;
  };
  std::vector<Variant> variants;
  variants.push_back({"rank", base});
  const auto activity_t0 = Clock::now();
  std::shared_ptr<const engine::PersonActivity> activity = engine::PersonActivity::Build(s);
  const double activity_ms = Ms(activity_t0, Clock::now());
  {
    engine::AskOptions o = base;
    o.activity = activity;
    variants.push_back({"rank_activity", o});
  }
  {
    engine::AskOptions o = base;
    o.activity = activity;
    o.w_ppr = 0;
    variants.push_back({"rank_activity_no_ppr", o});
  }
  {
    engine::AskOptions o = base;
    o.activity = activity;
    o.explain = false;
    variants.push_back({"rank_activity_no_explain", o});
  }
  // The topic candidates' per-snapshot (author, documents) lists (PersonActivity::TopicAuthors)
  // against the scan they replace: a window from 1 s after the epoch admits every document (same
  // answers) but is not "sees everything", so the scan runs. PPR off in both (a window slows it).
  {
    engine::AskOptions o = base;
    o.activity = activity;
    o.w_ppr = 0;
    o.from = 1;
    variants.push_back({"rank_activity_no_ppr_scan_topics", o});
  }
  {
    engine::AskOptions o = base;
    o.explain = false;
    variants.push_back({"rank_no_explain", o});
  }
  {
    engine::AskOptions o = base;
    o.w_ppr = 0;
    variants.push_back({"rank_no_ppr", o});
  }
  {
    engine::AskOptions o = base;
    o.topic_candidates = 0;
    variants.push_back({"rank_no_topic_cand", o});
  }
  {
    engine::AskOptions o = base;
    o.recent_candidates = 0;
    variants.push_back({"rank_no_recent_cand", o});
  }
  {
    engine::AskOptions o = base;
    o.w_prior = 0;
    variants.push_back({"rank_no_prior", o});
  }

  // The learned ranker stored with the index (the server's default when there is one): ranked without
  // the precomputed table (every candidate's documents scanned) and with it.
  std::string ranker_desc = "none (hand-tuned blend)";
  if (auto r = ranker::Load(reader->get()); r.ok() && r->model != nullptr) {
    ranker_desc = r->Describe();
    engine::AskOptions o = base;
    o.model = r->model;
    variants.push_back({"rank_model", o});
    o.activity = activity;
    variants.push_back({"rank_model_activity", o});
  }

  // The server's ranking: the learned model with the activity table when the index has one, else the blend.
  const size_t served_variant = variants.back().name == "rank_model_activity" ? variants.size() - 1 : 1;
  size_t hits_differ = 0, answers_differ = 0;
  std::map<std::string, std::vector<double>> t;
  double hits_sum = 0, cand_sum = 0, evidence_sum = 0;
  indexer::SearchFilter filter;
  for (size_t i = 0; i < n; ++i) {
    const std::string& q = queries[i % queries.size()];
    absl::StatusOr<std::vector<indexer::SearchHit>> hits;
    Clock::time_point a, b;
    double best_search = 1e18;
    for (size_t rep = 0; rep < reps; ++rep) {
      a = Clock::now();
      hits = (*reader)->Search(q, filter, retrieve_n);
      b = Clock::now();
      best_search = std::min(best_search, Ms(a, b));
      // The first run of the query: its terms not yet decoded unless an earlier query had them.
      if (rep == 0) t["search_term_cache_first_run"].push_back(Ms(a, b));
    }
    if (!hits.ok()) continue;
    t["search"].push_back(best_search);
    {
      double best = 1e18;
      for (size_t rep = 0; rep < reps; ++rep) {
        a = Clock::now();
        auto h = (*uncached_reader)->Search(q, filter, retrieve_n);
        b = Clock::now();
        best = std::min(best, Ms(a, b));
      }
      t["search_no_term_cache"].push_back(best);
    }
    {
      double best = 1e18;
      for (size_t rep = 0; rep < reps; ++rep) {
        a = Clock::now();
        auto h = (*xapian_reader)->Search(q, filter, retrieve_n);
        b = Clock::now();
        best = std::min(best, Ms(a, b));
      }
      t["search_xapian_lengths"].push_back(best);
    }
    {
      double best = 1e18;
      absl::StatusOr<std::vector<indexer::SearchHit>> h;
      for (size_t rep = 0; rep < reps; ++rep) {
        a = Clock::now();
        h = (*xapian_matcher_reader)->Search(q, filter, retrieve_n);
        b = Clock::now();
        best = std::min(best, Ms(a, b));
      }
      t["search_xapian_matcher"].push_back(best);
      // Same hits? Where not, does the served ranking (activity table, learned model if any) change?
      bool same = h.ok() && h->size() == hits->size();
      for (size_t j = 0; same && j < h->size(); ++j) same = (*h)[j].docid == (*hits)[j].docid && (*h)[j].score == (*hits)[j].score;
      if (!same && h.ok()) {
        ++hits_differ;
        const engine::AskOptions& so = variants[served_variant].o;
        auto x = engine::RankExperts(s, *h, so);
        auto y = engine::RankExperts(s, *hits, so);
        bool same_answer = x.ok() && y.ok() && x->size() == y->size();
        for (size_t j = 0; same_answer && j < x->size(); ++j) {
          const engine::Expert& ex = (*x)[j];
          const engine::Expert& ey = (*y)[j];
          same_answer = ex.id == ey.id && ex.score == ey.score && ex.evidence.size() == ey.evidence.size();
          for (size_t e = 0; same_answer && e < ex.evidence.size(); ++e) same_answer = ex.evidence[e].docid == ey.evidence[e].docid;
        }
        answers_differ += same_answer ? 0 : 1;
      }
    }
    for (size_t depth : {retrieve_n / 2, retrieve_n / 4}) {
      double best = 1e18;
      for (size_t rep = 0; rep < reps; ++rep) {
        a = Clock::now();
        auto h = (*reader)->Search(q, filter, depth);
        b = Clock::now();
        best = std::min(best, Ms(a, b));
      }
      t["search_depth_" + std::to_string(depth)].push_back(best);
    }
    hits_sum += static_cast<double>(hits->size());
    std::vector<engine::Expert> experts;
    // Each variant `reps` times, the fastest kept: a preempted run on a shared box says nothing.
    for (const Variant& v : variants) {
      double best = 1e18;
      for (size_t rep = 0; rep < reps; ++rep) {
        a = Clock::now();
        auto r = engine::RankExperts(s, *hits, v.o);
        b = Clock::now();
        best = std::min(best, Ms(a, b));
        if (v.name == "rank" && r.ok()) experts = std::move(*r);
      }
      t[v.name].push_back(best);
    }
    auto cand = engine::CandidatePeople(s, *hits, base);
    if (cand.ok()) cand_sum += static_cast<double>(cand->size());
    a = Clock::now();
    size_t ev = 0;
    for (const engine::Expert& e : experts) {
      for (const engine::Evidence& x : e.evidence) {
        auto d = (*reader)->GetDoc(x.docid);
        if (!d.ok()) continue;
        std::string snip = (*reader)->Snippet(*d, q, 200);
        ev += snip.empty() ? 0 : 1;
      }
    }
    b = Clock::now();
    evidence_sum += static_cast<double>(ev);
    t["evidence_one_by_one"].push_back(Ms(a, b));
    // As the server reads them (IndexReader::GetDocs: docid order, field by field).
    a = Clock::now();
    std::vector<uint32_t> ids;
    for (const engine::Expert& e : experts) {
      for (const engine::Evidence& x : e.evidence) ids.push_back(x.docid);
    }
    for (const auto& d : (*reader)->GetDocs(ids)) {
      if (d.ok()) ev += (*reader)->Snippet(*d, q, 200).empty() ? 0 : 1;
    }
    b = Clock::now();
    t["evidence"].push_back(Ms(a, b));
    t["total"].push_back(t["search"].back() + t["rank"].back() + t["evidence"].back());
  }
  // SuggestConnections: the server's options against bounded push budgets.
  std::vector<std::string> people;
  if (!persons_file.empty()) {
    std::ifstream pin(persons_file);
    for (std::string line; std::getline(pin, line);) {
      auto id = line.empty() ? absl::StatusOr<std::string>(absl::NotFoundError("")) : (*reader)->ResolvePerson(line);
      if (id.ok()) people.push_back(*id);
    }
  }
  double pushes_sum = 0;
  for (size_t i = 0; i < connect_n && !people.empty(); ++i) {
    const std::string& who = people[i % people.size()];
    for (double r_max : {1e-6, 3e-6, 1e-5}) {
      engine::ConnectOptions co;
      co.ppr.r_max = r_max;
      double best = 1e18;
      for (size_t rep = 0; rep < reps; ++rep) {
        const double a = Clock::now();
        auto r = engine::SuggestConnections(s, who, {}, co);
        best = std::min(best, Clock::now() - a);
      }
      t[absl::StrFormat("connect_rmax_%g", r_max)].push_back(best);
    }
    // The push alone, at the default budget.
    engine::PprWorkspace ws;
    engine::PprOptions po = engine::ConnectOptions{}.ppr;
    const engine::Seed seed{s.PersonVertex(s.FindPerson(who)), 1.0};
    const double a = Clock::now();
    if (engine::ForwardPush(s.graph(), std::span<const engine::Seed>(&seed, 1), po, &ws).ok()) {
      t["connect_push_only_rmax_1e-06"].push_back(Clock::now() - a);
      pushes_sum += static_cast<double>(ws.pushes);
    }
  }
  const double m = static_cast<double>(t["search"].size());
  nlohmann::json out;
  out["documents"] = s.num_docs();
  out["persons"] = s.num_persons();
  out["load_ms"] = load_ms;
  out["activity_build_ms"] = activity_ms;
  out["activity_bytes"] = activity->bytes();
  out["ranker"] = ranker_desc;
  out["queries"] = m;
  out["mean_hits"] = hits_sum / m;
  out["mean_candidates"] = cand_sum / m;
  out["mean_evidence_docs"] = evidence_sum / m;
  out["hits_differ_xapian_matcher"] = hits_differ;
  out["answers_differ_xapian_matcher"] = answers_differ;
  if (!people.empty()) out["connect_mean_pushes_rmax_1e-06"] = pushes_sum / static_cast<double>(connect_n);
  for (const auto& [k, v] : t) out["ms"][k] = {{"p50", Quantile(v, 0.5)}, {"p90", Quantile(v, 0.9)}, {"p99", Quantile(v, 0.99)}};
  if (json) {
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  std::printf("%u docs, %u persons, loaded in %.0f ms; %.0f queries, mean %.0f hits, %.0f candidates, %.0f evidence docs\n",
              s.num_docs(), s.num_persons(), load_ms, m, hits_sum / m, cand_sum / m, evidence_sum / m);
  if (!people.empty()) std::printf("connect: %zu people, mean %.0f pushes at r_max 1e-6\n", people.size(), pushes_sum / static_cast<double>(connect_n));
  std::printf("own OR matcher vs Xapian's: hits differ for %zu of %.0f queries, served answers (experts, scores, evidence) for %zu\n",
              hits_differ, m, answers_differ);
  std::printf("PersonActivity: built in %.1f ms, %.1f MB; ranker: %s\n", activity_ms,
              static_cast<double>(activity->bytes()) / 1e6, ranker_desc.c_str());
  for (const auto& [k, v] : t) {
    std::printf("%-22s p50 %8.3f  p90 %8.3f  p99 %8.3f ms\n", k.c_str(), Quantile(v, 0.5), Quantile(v, 0.9), Quantile(v, 0.99));
  }
  return 0;
}
