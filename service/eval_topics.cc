#include "whoknows/service/eval_topics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "whoknows/base/log.h"
#include "whoknows/base/status_macros.h"
#include "whoknows/service/eval.h"

namespace whoknows::service {
namespace {

using indexer::Record;
using indexer::RecordKind;
using indexer::TopicExtractor;
using indexer::TopicOptions;

constexpr const char* kMethods[] = {"whoknows", "whoknows-no-vocab", "tfidf"};
constexpr size_t kNumMethods = 3;

struct Thread {
  int64_t time = 0;
  std::string title;
  std::string text;                 // every record's text, joined
  std::vector<const Record*> records;
  std::vector<std::string> tags;    // the question's
};

struct Dataset {
  std::string path;
  std::vector<Record> records;
  std::vector<Thread> threads;  // tagged threads, by question time
  std::string community;
};

absl::StatusOr<Dataset> LoadDataset(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return absl::NotFoundError(absl::StrFormat("%s: no such file or directory", path));
  Dataset d;
  d.path = path;
  WK_ASSIGN_OR_RETURN(d.records, LoadRecords(path, nullptr));
  absl::flat_hash_map<std::string, size_t> by_thread;
  std::vector<Thread> threads;
  for (const Record& r : d.records) {
    if (d.community.empty()) d.community = r.community;
    const std::string& tid = r.thread_id.empty() ? r.id : r.thread_id;
    auto [it, inserted] = by_thread.try_emplace(tid, threads.size());
    if (inserted) threads.emplace_back();
    Thread& t = threads[it->second];
    t.records.push_back(&r);
    if (r.kind == RecordKind::kQuestion && r.id == tid) {
      t.time = r.timestamp;
      t.title = r.title;
      t.tags = r.topics;
    }
  }
  for (Thread& t : threads) {
    if (t.tags.empty()) continue;  // not a tagged question thread
    for (const Record* r : t.records) {
      t.text += r->text;
      t.text += "\n\n";
    }
    d.threads.push_back(std::move(t));
  }
  std::stable_sort(d.threads.begin(), d.threads.end(), [](const Thread& a, const Thread& b) { return a.time < b.time; });
  return d;
}

// Corpus statistics of threads [0, end): document frequencies over their
// records and the vocabulary of their tags.
struct Corpus {
  absl::flat_hash_map<std::string, uint64_t> df;
  uint64_t docs = 0;
  indexer::TopicVocabulary vocabulary;
  absl::flat_hash_set<std::string> stop_keys;
  indexer::DocFreqSource Freqs() const {
    indexer::DocFreqSource f;
    f.num_docs = docs;
    f.df = [this](std::string_view w) -> uint64_t {
      auto it = df.find(absl::string_view(w.data(), w.size()));
      return it == df.end() ? 0 : it->second;
    };
    return f;
  }
};

void BuildCorpus(const Dataset& d, size_t end, TopicExtractor* ex, Corpus* c) {
  std::vector<std::string> words;
  for (size_t i = 0; i < end; ++i) {
    for (const Record* r : d.threads[i].records) {
      ex->Words(r->title, r->text, &words);
      for (const std::string& w : words) ++c->df[w];
      ++c->docs;
    }
    for (const std::string& tag : d.threads[i].tags) c->vocabulary.Add(tag, /*tag=*/true);
  }
  c->stop_keys = ex->StopKeys(std::vector<std::string>{d.community});
}

struct Sums {
  size_t n = 0;
  double p[kNumMethods] = {}, r[kNumMethods] = {};
};

// Scores threads [begin, end) against the corpus; appends examples when asked.
void ScoreThreads(const Dataset& d, size_t begin, size_t end, const Corpus& c, const TopicOptions& topics, size_t k,
                  Sums* sums, std::vector<std::string>* examples) {
  TopicExtractor ex(topics);
  const indexer::DocFreqSource freqs = c.Freqs();
  for (size_t i = begin; i < end; ++i) {
    const Thread& t = d.threads[i];
    absl::flat_hash_set<std::string> tag_keys;
    for (const std::string& tag : t.tags) tag_keys.insert(ex.Key(tag));
    std::vector<std::string> keys[kNumMethods];
    std::vector<std::string> shown[kNumMethods];
    for (const auto& x : ex.Extract(t.title, t.text, freqs, &c.vocabulary, c.stop_keys)) {
      keys[0].push_back(x.key);
      shown[0].push_back(x.display);
    }
    for (const auto& x : ex.Extract(t.title, t.text, freqs, nullptr, c.stop_keys)) {
      keys[1].push_back(x.key);
      shown[1].push_back(x.display);
    }
    keys[2] = ex.TfIdfTerms(t.title, t.text, freqs, k);
    shown[2] = keys[2];
    for (size_t m = 0; m < kNumMethods; ++m) {
      absl::flat_hash_set<std::string> matched;
      size_t hits = 0;
      for (size_t j = 0; j < keys[m].size() && j < k; ++j) {
        if (tag_keys.contains(keys[m][j])) {
          ++hits;
          matched.insert(keys[m][j]);
        }
      }
      sums->p[m] += static_cast<double>(hits) / static_cast<double>(k);
      sums->r[m] += tag_keys.empty() ? 0 : static_cast<double>(matched.size()) / static_cast<double>(tag_keys.size());
    }
    ++sums->n;
    if (examples != nullptr && examples->size() < 3 && (i - begin) % 17 == 0) {
      examples->push_back(absl::StrFormat("\"%s\"\n    tags: %s\n    whoknows: %s\n    tfidf: %s", t.title,
                                          absl::StrJoin(t.tags, ", "), absl::StrJoin(shown[0], ", "),
                                          absl::StrJoin(shown[2], ", ")));
    }
  }
}

std::vector<TopicsMethodResult> Means(const Sums& s) {
  std::vector<TopicsMethodResult> out;
  for (size_t m = 0; m < kNumMethods; ++m) {
    const double n = static_cast<double>(std::max<size_t>(s.n, 1));
    out.push_back({kMethods[m], s.p[m] / n, s.r[m] / n});
  }
  return out;
}

absl::Status CheckOptions(const std::vector<std::string>& paths, const TopicsEvalOptions& o) {
  if (!(o.split_fraction > 0 && o.split_fraction < 1)) {
    return absl::InvalidArgumentError(absl::StrFormat("--split-fraction must be in (0, 1), got %g", o.split_fraction));
  }
  if (paths.empty()) return absl::InvalidArgumentError("eval topics: no data set PATH given");
  if (o.k == 0) return absl::InvalidArgumentError("eval topics: k must be > 0");
  return absl::OkStatus();
}

size_t SplitIndex(size_t n, double fraction) {
  return static_cast<size_t>(std::floor(fraction * static_cast<double>(n)));
}

// Evaluates over every data set with corpus = threads [0, split) and test =
// [split, limit), where limit/split come from `bounds`.
TopicsEvalReport Evaluate(const std::vector<Dataset>& sets, const std::vector<std::pair<size_t, size_t>>& bounds,
                          const TopicsEvalOptions& o, bool examples) {
  TopicsEvalReport report;
  report.split_fraction = o.split_fraction;
  TopicOptions topics = o.topics;
  topics.max_topics = o.k;
  Sums pooled;
  for (size_t i = 0; i < sets.size(); ++i) {
    const auto [split, limit] = bounds[i];
    TopicExtractor ex(topics);
    Corpus c;
    BuildCorpus(sets[i], split, &ex, &c);
    Sums s;
    TopicsDatasetResult dr;
    dr.path = sets[i].path;
    ScoreThreads(sets[i], split, limit, c, topics, o.k, &s, examples ? &dr.examples : nullptr);
    dr.n = s.n;
    dr.corpus_threads = split;
    dr.corpus_records = c.docs;
    dr.methods = Means(s);
    report.datasets.push_back(std::move(dr));
    pooled.n += s.n;
    for (size_t m = 0; m < kNumMethods; ++m) {
      pooled.p[m] += s.p[m];
      pooled.r[m] += s.r[m];
    }
  }
  report.pooled.path = "pooled";
  report.pooled.n = pooled.n;
  report.pooled.methods = Means(pooled);
  return report;
}

absl::StatusOr<std::vector<Dataset>> LoadAll(const std::vector<std::string>& paths) {
  std::vector<Dataset> sets;
  for (const std::string& p : paths) {
    WK_ASSIGN_OR_RETURN(Dataset d, LoadDataset(p));
    if (d.threads.size() < 2) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: %d tagged question threads; eval topics needs tagged threads (Stack Exchange)", p,
                          d.threads.size()));
    }
    sets.push_back(std::move(d));
  }
  return sets;
}

}  // namespace

absl::Status SetTopicParam(std::string_view name, double value, TopicOptions* o) {
  if (!std::isfinite(value) || value < 0) {
    return absl::InvalidArgumentError(absl::StrFormat("topic parameter %s: bad value %g", name, value));
  }
  if (name == "title_weight") o->title_weight = value;
  else if (name == "min_df") o->min_df = static_cast<uint64_t>(value);
  else if (name == "max_df_fraction") o->max_df_fraction = value;
  else if (name == "phrase_boost") o->phrase_boost = value;
  else if (name == "min_phrase_tf") o->min_phrase_tf = static_cast<uint32_t>(value);
  else if (name == "known_boost") o->known_boost = value;
  else if (name == "min_score") o->min_score = value;
  else if (name == "min_phrase_cohesion") o->min_phrase_cohesion = value;
  else return absl::InvalidArgumentError(absl::StrFormat("unknown topic parameter %s", name));
  return absl::OkStatus();
}

absl::StatusOr<TopicsEvalReport> RunTopicsEval(const std::vector<std::string>& paths, const TopicsEvalOptions& o) {
  WK_RETURN_IF_ERROR(CheckOptions(paths, o));
  WK_ASSIGN_OR_RETURN(std::vector<Dataset> sets, LoadAll(paths));
  std::vector<std::pair<size_t, size_t>> bounds;
  for (const Dataset& d : sets) bounds.emplace_back(SplitIndex(d.threads.size(), o.split_fraction), d.threads.size());
  if (o.log) o.log(absl::StrFormat("eval topics: %d data sets", sets.size()));
  return Evaluate(sets, bounds, o, true);
}

absl::StatusOr<TopicsEvalReport> TuneTopicsOnValidation(const std::vector<std::string>& paths,
                                                        const TopicsEvalOptions& o_in) {
  WK_RETURN_IF_ERROR(CheckOptions(paths, o_in));
  WK_ASSIGN_OR_RETURN(std::vector<Dataset> sets, LoadAll(paths));
  // Only threads before each test split: corpus = the first split_fraction
  // of them, validation = the rest.
  std::vector<std::pair<size_t, size_t>> bounds;
  for (const Dataset& d : sets) {
    const size_t train = SplitIndex(d.threads.size(), o_in.split_fraction);
    bounds.emplace_back(SplitIndex(train, o_in.split_fraction), train);
  }
  TopicsEvalOptions o = o_in;
  auto objective = [&](const TopicsEvalOptions& x) { return Evaluate(sets, bounds, x, false).pooled.methods[0].p_at_5; };
  const double start = objective(o);
  double best = start;
  const std::vector<std::pair<std::string, std::vector<double>>> grid = {
      {"known_boost", {1, 1.5, 2, 3, 5, 8, 12}},     {"phrase_boost", {0.75, 1, 1.5, 2, 3}},
      {"title_weight", {1, 2, 3, 5}},          {"min_df", {1, 2, 3, 5, 10}},
      {"max_df_fraction", {0.02, 0.05, 0.1, 0.2, 0.5}}, {"min_phrase_tf", {1, 2, 3}},
      {"min_phrase_cohesion", {0.3, 0.45, 0.6, 0.8}}};
  std::vector<std::pair<std::string, double>> chosen;
  for (int round = 0; round < o.tune_rounds; ++round) {
    bool changed = false;
    for (const auto& [name, values] : grid) {
      for (double v : values) {
        TopicsEvalOptions x = o;
        if (!SetTopicParam(name, v, &x.topics).ok()) continue;
        const double score = objective(x);
        if (o.log) o.log(absl::StrFormat("validate: %s=%g -> P@5 %.4f", name, v, score));
        if (score > best + 1e-9) {
          best = score;
          o = x;
          changed = true;
          const std::string& param = name;  // clang 14 cannot capture a structured binding
          auto it = std::find_if(chosen.begin(), chosen.end(), [&param](const auto& p) { return p.first == param; });
          if (it == chosen.end()) chosen.emplace_back(name, v);
          else it->second = v;
        }
      }
    }
    if (!changed) break;
  }
  TopicsEvalReport r = Evaluate(sets, bounds, o, false);
  r.chosen = chosen;
  r.validation_start = start;
  r.validation_best = best;
  r.validation_n = r.pooled.n;
  return r;
}

nlohmann::json TopicsEvalReportToJson(const TopicsEvalReport& r) {
  auto methods = [](const std::vector<TopicsMethodResult>& ms) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& m : ms) arr.push_back({{"method", m.method}, {"p_at_5", m.p_at_5}, {"recall_at_5", m.recall_at_5}});
    return arr;
  };
  nlohmann::json datasets = nlohmann::json::array();
  for (const auto& d : r.datasets) datasets.push_back({{"path", d.path}, {"n", d.n}, {"methods", methods(d.methods)}});
  nlohmann::json j = {{"task", "topics"},
                      {"split_fraction", r.split_fraction},
                      {"datasets", datasets},
                      {"pooled", {{"n", r.pooled.n}, {"methods", methods(r.pooled.methods)}}}};
  if (!r.chosen.empty() || r.validation_n > 0) {
    nlohmann::json chosen = nlohmann::json::object();
    for (const auto& [k, v] : r.chosen) chosen[k] = v;
    j["validation"] = {{"n", r.validation_n}, {"start_p_at_5", r.validation_start}, {"best_p_at_5", r.validation_best},
                       {"chosen", chosen}};
  }
  return j;
}

std::string FormatTopicsEvalReport(const TopicsEvalReport& r) {
  std::string out;
  auto table = [&](const TopicsDatasetResult& d) {
    absl::StrAppendFormat(&out, "%s  (%d test threads", d.path, d.n);
    if (d.corpus_threads > 0) absl::StrAppendFormat(&out, "; corpus %d threads, %d records", d.corpus_threads, d.corpus_records);
    out += ")\n";
    absl::StrAppendFormat(&out, "  %-20s %8s %12s\n", "method", "P@5", "recall@5");
    for (const auto& m : d.methods) absl::StrAppendFormat(&out, "  %-20s %8.3f %12.3f\n", m.method, m.p_at_5, m.recall_at_5);
    for (const std::string& e : d.examples) absl::StrAppendFormat(&out, "  e.g. %s\n", e);
  };
  absl::StrAppendFormat(&out, "eval topics (split fraction %.2f; tags hidden from the extractor)\n", r.split_fraction);
  for (const auto& d : r.datasets) table(d);
  table(r.pooled);
  if (r.validation_n > 0) {
    absl::StrAppendFormat(&out, "validation: %d threads, whoknows P@5 %.4f -> %.4f; chosen:", r.validation_n,
                          r.validation_start, r.validation_best);
    for (const auto& [k, v] : r.chosen) absl::StrAppendFormat(&out, " %s=%g", k, v);
    out += "\n";
  }
  return out;
}

int RunEvalTopicsCommand(const std::vector<std::string>& paths, double split_fraction,
                         const std::vector<std::string>& params, bool validate, bool json, bool quiet,
                         int tune_rounds) {
  TopicsEvalOptions o;
  o.split_fraction = split_fraction;
  o.tune_rounds = tune_rounds;
  for (const std::string& kv : params) {
    const size_t eq = kv.find('=');
    double value = 0;
    if (eq == std::string::npos || !absl::SimpleAtod(kv.substr(eq + 1), &value)) {
      LogError("eval topics: --param wants NAME=VALUE, got '%s'", kv);
      return 2;
    }
    if (absl::Status s = SetTopicParam(std::string_view(kv).substr(0, eq), value, &o.topics); !s.ok()) {
      LogError("eval topics: %s", s.message());
      return 2;
    }
  }
  if (!quiet) o.log = [](const std::string& line) { LogInfo("%s", line); };
  absl::StatusOr<TopicsEvalReport> r = validate ? TuneTopicsOnValidation(paths, o) : RunTopicsEval(paths, o);
  if (!r.ok()) {
    LogError("eval topics: %s", r.status().ToString());
    return r.status().code() == absl::StatusCode::kInvalidArgument || r.status().code() == absl::StatusCode::kNotFound
               ? 2
               : 1;
  }
  if (json) {
    std::printf("%s\n", TopicsEvalReportToJson(*r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("%s", FormatTopicsEvalReport(*r).c_str());
  }
  return 0;
}

}  // namespace whoknows::service
