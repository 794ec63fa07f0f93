// whoknows index | people | stats | optout | erase
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "whoknows/base/log.h"
#include "whoknows/base/status_macros.h"
#include "whoknows/indexer/index.h"
#include "whoknows/indexer/merge_suggestions.h"
#include "whoknows/indexer/pipeline.h"
#include "whoknows/ranker/ranker.h"
#include "whoknows/service/backend.h"
#include "whoknows/service/cli.h"
#include "whoknows/service/connect_training.h"
#include "whoknows/service/progress.h"

namespace whoknows::service {

std::string FormatDate(int64_t seconds) {
  return absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(seconds), absl::UTCTimeZone());
}

namespace {

using json = nlohmann::json;

void PrintJson(const json& j) {
  std::printf("%s\n", j.dump(2, ' ', false, json::error_handler_t::replace).c_str());
}

struct IndexArgs {
  std::string db;
  std::vector<std::string> paths;
  std::string community, visibility, source, aliases;
  size_t commit_every = 5000;
  size_t max_record_bytes = 16 << 20;
  bool strict = false, json = false, quiet = false, no_name_merge = false, no_train = false, no_connect_model = false;
  uint32_t shards = 0;
  std::vector<std::string> shard_locations;
};

// How many merges by name the text summary lists one by one (--json has all).
constexpr size_t kMergesShown = 20;

// Trains the index's learned ranker (force, or when the history grew enough:
// ranker::NeedsTraining) and stores it in the index.
absl::StatusOr<RankerTraining> TrainIndexRanker(const std::string& db, const std::vector<std::string>& shards,
                                                bool force, size_t min_history) {
  BackendOptions o;
  o.writable = true;
  o.shards = shards;
  o.train_ranker = false;  // here, in the foreground (the default too)
  if (min_history > 0) o.ranker.train.min_groups = min_history;
  WK_ASSIGN_OR_RETURN(std::unique_ptr<Backend> b, Backend::Open(db, o));
  return b->TrainRanker(force);
}

json RankerJson(const RankerTraining& t) {
  return {{"trained", t.trained}, {"learned", t.learned}, {"ranker", t.ranker}, {"history_queries", t.history_now},
          {"seconds", t.seconds}, {"feature_seconds", t.feature_seconds}, {"train_seconds", t.train_seconds}};
}

std::string RankerLine(const RankerTraining& t) {
  return t.trained ? absl::StrFormat("ranker: %s; trained in %.1f s (features %.1f s, xgboost %.1f s) from %d history "
                                     "queries",
                                     t.ranker, t.seconds, t.feature_seconds, t.train_seconds, t.history_now)
                   : absl::StrFormat("ranker: %s; current (%d history queries)", t.ranker, t.history_now);
}

int RunIndex(const IndexArgs& a) {
  indexer::PipelineOptions opt;
  opt.read.community = a.community;
  opt.read.visibility = a.visibility;
  opt.read.source = a.source;
  opt.read.max_record_bytes = a.max_record_bytes;
  opt.index.commit_every = a.commit_every;
  opt.index.shards = a.shards;
  opt.index.shard_locations = a.shard_locations;
  if (a.db.empty() == a.shard_locations.empty()) {
    LogError("index: give either --db DIR or --shard LOCATION (repeatable)");
    return 2;
  }

  opt.index.name_merge = !a.no_name_merge;
  opt.aliases_file = a.aliases;
  std::map<std::string, uint64_t> shown;
  opt.on_bad = [&](const SourcePos& pos, std::string_view reason, const absl::Status& status) {
    uint64_t& n = shown[std::string(reason)];
    if (++n <= 5) {
      const std::string where = pos.ToString();
      const std::string msg(status.message());
      if (msg.rfind(where, 0) == 0) {
        LogWarning("skipped (%s): %s", reason, msg);  // the message names the place already
      } else {
        LogWarning("skipped %s (%s): %s", where, reason, msg);
      }
    } else if (n == 6) {
      LogWarning("more '%s' records skipped; see the summary", reason);
    }
  };
  std::map<std::string, uint64_t> warned;
  opt.on_warning = [&](const SourcePos&, std::string_view reason, const absl::Status& status) {
    uint64_t& n = warned[std::string(reason)];
    if (++n <= 5) {
      LogWarning("warning (%s): %s", reason, status.message());  // the message names file, line and offset
    } else if (n == 6) {
      LogWarning("more '%s' warnings; see the summary", reason);
    }
  };
  Progress progress("index");
  if (!a.quiet) {
    opt.on_progress = [&](std::string_view file, uint64_t done, uint64_t total, uint64_t records) {
      progress.Update(file, done, total, records);
    };
  }
  absl::StatusOr<indexer::PipelineResult> r = indexer::IndexPaths(a.db, a.paths, opt);
  if (!r.ok()) {
    LogError("index failed: %s", r.status().ToString());
    return 1;
  }
  const indexer::IndexSummary& s = r->summary;
  if (!a.quiet) progress.Finish(s.read + s.skipped);
  absl::StatusOr<RankerTraining> trained = absl::CancelledError("--no-train");
  if (!a.no_train) {
    trained = TrainIndexRanker(a.db, a.shard_locations, /*force=*/false, 0);
    if (!trained.ok()) LogError("indexed, but the ranker was not trained: %s", trained.status().ToString());
  }
  for (const auto& [path, err] : r->failed_paths) LogError("cannot read %s: %s", path, err);
  // The learned connect ranking, trained from the whole history and stored with the index
  // (service/connect_training.h). Local indexes only; a failure leaves the documents indexed.
  std::optional<ConnectTrainingReport> connect;
  if (!a.db.empty() && !a.no_connect_model) {
    absl::StatusOr<ConnectTrainingReport> c = TrainConnectModel(a.db, {}, /*only_if_changed=*/true);
    if (c.ok()) {
      connect = *c;
    } else {
      LogWarning("index: connect model not trained: %s", c.status().ToString());
    }
  }
  if (a.json) {
    json j{{"read", s.read + s.skipped}, {"indexed", s.indexed}, {"duplicates", s.duplicates},
           {"skipped", s.skipped}, {"commits", s.commits}};
    json reasons = json::object();
    for (const auto& [reason, n] : s.skipped_by_reason) reasons[reason] = n;
    j["skipped_by_reason"] = reasons;
    json failed = json::array();
    for (const auto& [path, err] : r->failed_paths) failed.push_back({{"path", path}, {"error", err}});
    j["failed_paths"] = failed;
    json warnings = json::object();
    for (const auto& [reason, n] : r->warnings_by_reason) warnings[reason] = n;
    j["warnings"] = r->warnings;
    j["warnings_by_reason"] = warnings;
    json merges = json::array(), blocked = json::array();
    for (const indexer::NameMerge& m : s.name_merges) {
      merges.push_back({{"source", m.source}, {"name", m.name}, {"merged", m.merged}, {"into", m.into}});
    }
    for (const indexer::NameMergeBlocked& b : s.name_merges_blocked) {
      blocked.push_back(
          {{"source", b.source}, {"name", b.name}, {"person", b.person}, {"other", b.other}, {"reason", b.reason}});
    }
    j["name_merge"] = !a.no_name_merge;
    j["name_merges"] = merges;
    j["name_merges_blocked"] = blocked;
    if (trained.ok()) j["ranker"] = RankerJson(*trained);
    if (connect) {
      j["connect_model"] = {{"learned", connect->learned},
                            {"note", connect->note},
                            {"groups", connect->groups},
                            {"rows", connect->rows},
                            {"current", connect->current},
                            {"seconds", connect->seconds_snapshot + connect->seconds_features + connect->seconds_train}};
    }
    PrintJson(j);
  } else {
    std::printf("read %llu, indexed %llu new, %llu duplicates, %llu skipped\n",
                static_cast<unsigned long long>(s.read + s.skipped), static_cast<unsigned long long>(s.indexed),
                static_cast<unsigned long long>(s.duplicates), static_cast<unsigned long long>(s.skipped));
    for (const auto& [reason, n] : s.skipped_by_reason) {
      std::printf("  skipped %-20s %llu\n", reason.c_str(), static_cast<unsigned long long>(n));
    }
    for (const auto& [reason, n] : r->warnings_by_reason) {
      std::printf("  warning %-20s %llu\n", reason.c_str(), static_cast<unsigned long long>(n));
    }
    if (!s.name_merges.empty()) {
      std::printf("merged %zu identities by display name (same full name, same source; --no-name-merge turns this off)\n",
                  s.name_merges.size());
      for (size_t i = 0; i < s.name_merges.size() && i < kMergesShown; ++i) {
        const indexer::NameMerge& m = s.name_merges[i];
        std::printf("  %s (%s): %s -> %s\n", m.name.c_str(), m.source.c_str(), m.merged.c_str(), m.into.c_str());
      }
      if (s.name_merges.size() > kMergesShown) {
        std::printf("  ... %zu more (--json lists all)\n", s.name_merges.size() - kMergesShown);
      }
    }
    for (const indexer::NameMergeBlocked& b : s.name_merges_blocked) {
      std::printf("not merged by name: %s (%s): %s and %s: %s\n", b.name.c_str(), b.source.c_str(), b.person.c_str(),
                  b.other.c_str(), b.reason.c_str());
    }
    if (trained.ok()) std::printf("%s\n", RankerLine(*trained).c_str());
    if (connect && connect->current) {
      std::printf("connect ranking: %s\n", connect->note.c_str());
    } else if (connect) {
      std::printf("connect ranking: %s; %.1f s (snapshot %.1f, history %.1f, training %.1f)\n", connect->note.c_str(),
                  connect->seconds_snapshot + connect->seconds_features + connect->seconds_train,
                  connect->seconds_snapshot, connect->seconds_features, connect->seconds_train);
    }
  }
  if (!r->failed_paths.empty()) return 2;
  if (!a.no_train && !trained.ok()) return 1;
  if (a.strict && s.skipped > 0) return 3;
  return 0;
}

struct PersonRow {
  indexer::Person person;
  uint64_t docs = 0;
  int64_t first = 0, last = 0;
};

int RunSuggestMerges(indexer::IndexReader* reader, bool as_json, size_t limit) {
  auto cands = indexer::SuggestMerges(reader);
  if (!cands.ok()) {
    LogError("%s", cands.status().ToString());
    return 1;
  }
  if (limit > 0 && cands->size() > limit) cands->resize(limit);
  if (as_json) {
    json arr = json::array();
    for (const indexer::MergeCandidate& c : *cands) {
      json members = json::array();
      for (const auto& m : c.persons) {
        members.push_back({{"id", m.person}, {"name", m.name}, {"aliases", m.keys}, {"sources", m.sources},
                           {"documents", m.documents}});
      }
      arr.push_back({{"name", c.name}, {"kind", c.kind}, {"reason", c.reason}, {"persons", members},
                     {"aliases_line", c.aliases_line}});
    }
    PrintJson(json{{"candidates", arr}});
    return 0;
  }
  if (cands->empty()) {
    std::printf("no merge candidates\n");
    return 0;
  }
  std::printf("%zu merge candidates; to merge one, add its line to the aliases file and run index --aliases FILE\n",
              cands->size());
  for (const indexer::MergeCandidate& c : *cands) {
    std::printf("\n\"%s\": %s\n", c.name.c_str(), c.reason.c_str());
    for (const auto& m : c.persons) {
      std::string sources;
      for (const std::string& s : m.sources) sources += (sources.empty() ? "" : ", ") + s;
      std::printf("  %-45s %-28s %6llu docs  %s\n", m.person.c_str(), m.name.c_str(),
                  static_cast<unsigned long long>(m.documents), sources.c_str());
    }
    std::printf("  aliases line: %s\n", c.aliases_line.c_str());
  }
  return 0;
}

int RunPeople(const std::string& db, bool as_json, size_t limit, bool suggest_merges) {
  auto reader = indexer::IndexReader::Open(db);
  if (!reader.ok()) {
    LogError("%s", reader.status().ToString());
    return 1;
  }
  if (suggest_merges) return RunSuggestMerges(reader->get(), as_json, limit);
  auto persons = (*reader)->ListPersons();
  if (!persons.ok()) {
    LogError("%s", persons.status().ToString());
    return 1;
  }
  absl::flat_hash_map<std::string, size_t> index;
  std::vector<PersonRow> rows;
  rows.reserve(persons->size());
  for (indexer::Person& p : *persons) {
    index[p.id] = rows.size();
    rows.push_back({std::move(p)});
  }
  absl::Status s = (*reader)->ForEachDocument([&](const indexer::StoredDoc& d) {
    auto it = index.find(d.author);
    if (it == index.end()) return;
    PersonRow& row = rows[it->second];
    ++row.docs;
    if (row.first == 0 || d.timestamp < row.first) row.first = d.timestamp;
    row.last = std::max(row.last, d.timestamp);
  });
  if (!s.ok()) {
    LogError("%s", s.ToString());
    return 1;
  }
  std::sort(rows.begin(), rows.end(), [](const PersonRow& a, const PersonRow& b) {
    return a.docs != b.docs ? a.docs > b.docs : a.person.id < b.person.id;
  });
  if (limit > 0 && rows.size() > limit) rows.resize(limit);
  if (as_json) {
    json arr = json::array();
    for (const PersonRow& r : rows) {
      arr.push_back({{"id", r.person.id}, {"name", r.person.name}, {"aliases", r.person.keys},
                     {"documents", r.docs}, {"first_active", r.docs ? FormatDate(r.first) : ""},
                     {"last_active", r.docs ? FormatDate(r.last) : ""}, {"opted_out", r.person.opted_out}});
    }
    PrintJson(json{{"persons", arr}});
  } else {
    std::printf("%-45s %-28s %6s  %-10s  %-10s  %s\n", "PERSON", "NAME", "DOCS", "FIRST", "LAST", "ALIASES");
    for (const PersonRow& r : rows) {
      std::string aliases;
      for (const std::string& k : r.person.keys) {
        if (k == r.person.id) continue;
        if (!aliases.empty()) aliases += ", ";
        aliases += k;
      }
      std::printf("%-45s %-28s %6llu  %-10s  %-10s  %s%s\n", r.person.id.c_str(), r.person.name.c_str(),
                  static_cast<unsigned long long>(r.docs), r.docs ? FormatDate(r.first).c_str() : "-",
                  r.docs ? FormatDate(r.last).c_str() : "-", aliases.c_str(), r.person.opted_out ? " (opted out)" : "");
    }
  }
  return 0;
}

int RunStats(const std::string& db, bool as_json) {
  auto reader = indexer::IndexReader::Open(db);
  if (!reader.ok()) {
    LogError("%s", reader.status().ToString());
    return 1;
  }
  auto st = (*reader)->Stats();
  if (!st.ok()) {
    LogError("%s", st.status().ToString());
    return 1;
  }
  const absl::StatusOr<ranker::Ranker> ranker = ranker::Load(reader->get());
  auto pairs = [](const std::vector<std::pair<std::string, uint64_t>>& v) {
    json o = json::object();
    for (const auto& [k, n] : v) o[k] = n;
    return o;
  };
  if (as_json) {
    PrintJson(json{{"documents", st->documents},
                   {"by_kind", pairs(st->by_kind)},
                   {"by_source", pairs(st->by_source)},
                   {"persons", st->persons},
                   {"threads", st->threads},
                   {"topics", st->topics},
                   {"communities", pairs(st->communities)},
                   {"visibility", pairs(st->visibility)},
                   {"first_date", st->documents ? FormatDate(st->first_timestamp) : ""},
                   {"last_date", st->documents ? FormatDate(st->last_timestamp) : ""},
                   {"ranker", ranker.ok() ? ranker->Describe() : ranker.status().ToString()}});
    return 0;
  }
  std::printf("documents   %llu\n", static_cast<unsigned long long>(st->documents));
  for (const auto& [k, n] : st->by_kind) std::printf("  %-40s %llu\n", k.c_str(), static_cast<unsigned long long>(n));
  std::printf("sources\n");
  for (const auto& [k, n] : st->by_source) std::printf("  %-40s %llu\n", k.c_str(), static_cast<unsigned long long>(n));
  std::printf("persons     %llu\nthreads     %llu\ntopics      %llu\n", static_cast<unsigned long long>(st->persons),
              static_cast<unsigned long long>(st->threads), static_cast<unsigned long long>(st->topics));
  std::printf("communities\n");
  for (const auto& [k, n] : st->communities) std::printf("  %-40s %llu\n", k.c_str(), static_cast<unsigned long long>(n));
  std::printf("visibility\n");
  for (const auto& [k, n] : st->visibility) std::printf("  %-40s %llu\n", k.c_str(), static_cast<unsigned long long>(n));
  if (st->documents) {
    std::printf("dates       %s .. %s\n", FormatDate(st->first_timestamp).c_str(), FormatDate(st->last_timestamp).c_str());
  }
  std::printf("ranker      %s\n", ranker.ok() ? ranker->Describe().c_str() : ranker.status().ToString().c_str());
  return 0;
}

int RunOptOutOrErase(const std::string& db, const std::string& person, bool erase, bool undo, bool as_json) {
  std::string id = person;
  {
    auto reader = indexer::IndexReader::Open(db);
    if (!reader.ok()) {
      LogError("%s", reader.status().ToString());
      return 1;
    }
    auto resolved = (*reader)->ResolvePerson(person);
    if (!resolved.ok()) {
      LogError("%s", resolved.status().ToString());
      return 1;
    }
    id = *resolved;
  }
  auto writer = indexer::IndexWriter::Open(db, {});
  if (!writer.ok()) {
    LogError("%s", writer.status().ToString());
    return 1;
  }
  if (erase) {
    auto n = (*writer)->ErasePerson(id);
    if (!n.ok()) {
      LogError("%s", n.status().ToString());
      return 1;
    }
    if (as_json) PrintJson(json{{"person", id}, {"erased_documents", *n}});
    else std::printf("erased %s: %llu documents removed\n", id.c_str(), static_cast<unsigned long long>(*n));
    return 0;
  }
  absl::Status s = (*writer)->SetOptOut(id, !undo);
  if (!s.ok()) {
    LogError("%s", s.ToString());
    return 1;
  }
  if (as_json) PrintJson(json{{"person", id}, {"opted_out", !undo}});
  else std::printf("%s is now %s\n", id.c_str(), undo ? "opted in" : "opted out");
  return 0;
}

}  // namespace

void RegisterIndexCommands(CLI::App& app, int* exit_code) {
  auto a = std::make_shared<IndexArgs>();
  CLI::App* index = app.add_subcommand("index", "Read conversations (Stack Exchange, mbox, Slack, JSONL) into the index");
  index->add_option("--db", a->db, "Index directory (created when missing); or --shard");
  index->add_option("--shards", a->shards,
                    "With --db: split the index into N shards DIR/shard-NN (by a hash of each record's id) "
                    "plus the stub DIR/XAPIANDB; later runs on DIR reuse them");
  index->add_option("--shard", a->shard_locations,
                    "Write to these shards instead of --db: a path or tcp://HOST:PORT of `xapian-tcpsrv --writable` "
                    "(repeatable; the order fixes which record goes where; the first holds the identity table)");
  index->add_option("paths", a->paths, "Files or directories to read (format detected)")->required();
  index->add_option("--community", a->community, "Community for every record (default: per source)");
  index->add_option("--visibility", a->visibility, "internal|external|partner|public or a group (default: per source)");
  index->add_option("--source", a->source, "Source name override");
  index->add_option("--aliases", a->aliases, "Aliases file merging identities (one person per line)");
  index->add_option("--commit-every", a->commit_every, "Documents per commit")->capture_default_str();
  index->add_option("--max-record-bytes", a->max_record_bytes, "Skip records larger than this")->capture_default_str();
  index->add_flag("--strict", a->strict, "Exit non-zero when any record is skipped");
  index->add_flag("--no-connect-model", a->no_connect_model,
                  "Do not train the learned connect ranking from the history (the hand-tuned one is used)");
  index->add_flag("--no-name-merge", a->no_name_merge,
                  "Do not merge mail identities by display name (see people --suggest-merges)");
  index->add_flag("--json", a->json, "Print the summary as JSON");
  index->add_flag("--no-train", a->no_train,
                  "Do not (re)train the learned ranker at the end (by default it is trained when the index's "
                  "history of answered questions and replied threads grew enough; see `whoknows train`)");
  index->add_flag("--quiet", a->quiet, "No progress output");
  index->callback([a, exit_code] { *exit_code = RunIndex(*a); });

  struct TrainArgs {
    std::string db;
    std::vector<std::string> shards;
    bool force = false, json = false;
    size_t min_history = 0;
  };
  auto ta = std::make_shared<TrainArgs>();
  CLI::App* train = app.add_subcommand(
      "train", "Train the learned ranker from the index's own history (answered questions, replied threads) and store it "
               "in the index; the hand-tuned blend stays when the history is too small");
  train->add_option("--db", ta->db, "Index directory");
  train->add_option("--shard", ta->shards, "Shard locations instead of --db (repeatable, as for index)");
  train->add_flag("--force", ta->force, "Train even when the stored ranker is current");
  train->add_option("--min-history", ta->min_history,
                    "Fewer usable history queries than this: the blend (0 = the default, " +
                        std::to_string(engine::TrainOptions{}.min_groups) + ")");
  train->add_flag("--json", ta->json, "JSON output");
  train->callback([ta, exit_code] {
    if (ta->db.empty() == ta->shards.empty()) {
      LogError("train: give either --db DIR or --shard LOCATION");
      *exit_code = 2;
      return;
    }
    absl::StatusOr<RankerTraining> t = TrainIndexRanker(ta->db, ta->shards, ta->force || ta->min_history > 0,
                                                        ta->min_history);
    if (!t.ok()) {
      LogError("%s", t.status().ToString());
      *exit_code = 1;
      return;
    }
    if (ta->json) {
      PrintJson(RankerJson(*t));
    } else {
      std::printf("%s\n", RankerLine(*t).c_str());
    }
    *exit_code = 0;
  });

  auto db = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto limit = std::make_shared<size_t>(0);
  CLI::App* people = app.add_subcommand("people", "List persons with aliases, document counts and activity");
  people->add_option("--db", *db, "Index directory")->required();
  people->add_option("--limit", *limit, "Show at most this many (0 = all)");
  people->add_flag("--json", *as_json, "JSON output");
  auto suggest = std::make_shared<bool>(false);
  people->add_flag("--suggest-merges", *suggest,
                   "List identities that may be one person but were not merged (confirm in the aliases file)");
  people->callback([db, as_json, limit, suggest, exit_code] {
    *exit_code = RunPeople(*db, *as_json, *limit, *suggest);
  });

  auto sdb = std::make_shared<std::string>();
  auto sjson = std::make_shared<bool>(false);
  CLI::App* stats = app.add_subcommand("stats", "Documents by kind and source, people, threads, topics, dates");
  stats->add_option("--db", *sdb, "Index directory")->required();
  stats->add_flag("--json", *sjson, "JSON output");
  stats->callback([sdb, sjson, exit_code] { *exit_code = RunStats(*sdb, *sjson); });

  for (bool erase : {false, true}) {
    auto odb = std::make_shared<std::string>();
    auto person = std::make_shared<std::string>();
    auto undo = std::make_shared<bool>(false);
    auto ojson = std::make_shared<bool>(false);
    CLI::App* cmd = erase ? app.add_subcommand("erase", "Remove a person's documents and identity data from the index")
                          : app.add_subcommand("optout", "Never return a person as an expert or connection");
    cmd->add_option("--db", *odb, "Index directory")->required();
    cmd->add_option("--person", *person, "Person id or identity key")->required();
    if (!erase) cmd->add_flag("--undo", *undo, "Opt the person back in");
    cmd->add_flag("--json", *ojson, "JSON output");
    cmd->callback([=] { *exit_code = RunOptOutOrErase(*odb, *person, erase, *undo, *ojson); });
  }
}

}  // namespace whoknows::service
