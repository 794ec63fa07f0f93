// whoknows ask | connect | profile | topics, over a local --db or a --server.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "whoknows/base/log.h"
#include "whoknows/service/backend.h"
#include "whoknows/service/cli.h"
#include "whoknows/service/remote.h"

namespace whoknows::service {

namespace {
RemoteConnector& Connector() {
  static RemoteConnector* c = new RemoteConnector();
  return *c;
}
}  // namespace

void SetRemoteConnector(RemoteConnector connector) { Connector() = std::move(connector); }

void AddRemoteOptions(CLI::App* cmd, RemoteTarget* target, const std::string& server_help) {
  cmd->add_option("--server", target->address, server_help);
  cmd->add_option("--token", target->token, "Bearer token for --server");
  cmd->add_option("--ca", target->ca_file, "CA certificate (PEM) for a TLS --server");
}

absl::StatusOr<std::unique_ptr<Backend>> OpenBackend(const std::string& db, const RemoteTarget& remote,
                                                      bool writable) {
  if (!remote.address.empty()) return ConnectRemote(remote);
  if (db.empty()) return absl::InvalidArgumentError("give --db DIR or --server HOST:PORT");
  BackendOptions o;
  o.writable = writable;
  return Backend::Open(db, o);
}

int FailCommand(const absl::Status& s) {
  LogError("%s", s.ToString());
  return s.code() == absl::StatusCode::kInvalidArgument || s.code() == absl::StatusCode::kNotFound ? 2 : 1;
}

absl::StatusOr<std::unique_ptr<Backend>> ConnectRemote(const RemoteTarget& target) {
  if (!Connector()) return absl::UnimplementedError("this binary was built without the gRPC client");
  return Connector()(target);
}

namespace {

using json = nlohmann::json;

struct Target {
  std::string db;
  RemoteTarget remote;
  bool as_json = false;
};

void AddTargetOptions(CLI::App* cmd, Target* t) {
  cmd->add_option("--db", t->db, "Index directory (local)");
  AddRemoteOptions(cmd, &t->remote, "Ask a whoknows server at HOST:PORT instead of --db");
  cmd->add_flag("--json", t->as_json, "JSON output");
}

absl::StatusOr<std::unique_ptr<Backend>> Open(const Target& t) { return OpenBackend(t.db, t.remote, false); }

void Print(const json& j) { std::printf("%s\n", j.dump(2, ' ', false, json::error_handler_t::replace).c_str()); }

json EvidenceJson(const Evidence& e) {
  return {{"id", e.id},       {"title", e.title},   {"snippet", e.snippet}, {"date", FormatDate(e.timestamp)},
          {"source", e.source}, {"thread", e.thread_id}, {"kind", e.kind},   {"role", e.role},
          {"score", e.score}};
}

int64_t ParseDate(const std::string& s) {
  if (s.empty()) return 0;
  absl::Time t;
  std::string err;
  if (absl::ParseTime("%Y-%m-%d", s, absl::UTCTimeZone(), &t, &err)) return absl::ToUnixSeconds(t);
  return -1;
}

// A year's bar, scaled to the person's busiest year (which gets the full
// width); a year with any activity gets at least one mark.
constexpr uint64_t kActivityBarWidth = 60;
std::string ActivityBar(uint64_t n, uint64_t busiest) {
  if (n == 0 || busiest == 0) return "";
  const uint64_t width = std::max<uint64_t>(1, (n * kActivityBarWidth + busiest / 2) / busiest);
  return std::string(std::min(width, kActivityBarWidth), '#');
}

struct AskArgs {
  Target t;
  std::string text, from, to;
  size_t k = 10, offset = 0;
  std::vector<std::string> communities, topics, exclude;
  bool balance = false, no_balance = false;
  std::string asker;
  std::optional<double> min_vote_share;
  bool mix_evidence = false;
};

// `ask -` reads the question from standard input (a whole mail or log pasted
// or piped); anything past kMaxQueryBytes + 1 is not read, the check refuses it.
absl::StatusOr<std::string> QuestionText(const std::string& arg) {
  if (arg != "-") return arg;
  std::string text;
  char buf[16384];
  size_t n;
  while (text.size() <= kMaxQueryBytes && (n = std::fread(buf, 1, sizeof(buf), stdin)) > 0) text.append(buf, n);
  if (std::ferror(stdin)) return absl::UnavailableError("cannot read the question from standard input");
  return text;
}

int RunAsk(const AskArgs& a) {
  ExpertsQuery q;
  absl::StatusOr<std::string> text = QuestionText(a.text);
  if (!text.ok()) return FailCommand(text.status());
  q.text = std::move(*text);
  // Refused before any connection: a server would say the same after the upload.
  if (absl::Status s = CheckQuerySize("query text", q.text); !s.ok()) return FailCommand(s);
  q.k = a.k;
  q.offset = a.offset;
  q.communities = a.communities;
  q.topics = a.topics;
  q.exclude = a.exclude;
  q.asker = a.asker;
  q.from = ParseDate(a.from);
  q.to = ParseDate(a.to);
  if (a.balance || a.no_balance) q.balance = a.balance;
  q.min_vote_share = a.min_vote_share;
  q.mix_evidence = a.mix_evidence;
  if (q.from < 0 || q.to < 0) return FailCommand(absl::InvalidArgumentError("--from/--to must be YYYY-MM-DD"));
  auto backend = Open(a.t);
  if (!backend.ok()) return FailCommand(backend.status());
  auto ans = (*backend)->FindExperts(q, Caller{});
  if (!ans.ok()) return FailCommand(ans.status());
  if (a.t.as_json) {
    json experts = json::array();
    for (const ExpertResult& e : ans->experts) {
      json comps = json::object();
      for (const auto& [name, v] : e.components) comps[name] = v;
      json ev = json::array();
      for (const Evidence& x : e.evidence) ev.push_back(EvidenceJson(x));
      experts.push_back({{"person", e.person_id}, {"name", e.name}, {"score", e.score}, {"components", comps},
                         {"evidence", ev}, {"topics", e.topics}, {"last_active", FormatDate(e.last_active)},
                         {"reason", e.reason}});
    }
    Print({{"query", q.text}, {"experts", experts}, {"has_more", ans->has_more},
           {"documents_matched", ans->documents_matched}, {"ranker", ans->ranker}});
    return 0;
  }
  if (ans->experts.empty()) {
    if (q.text.size() <= 200 && q.text.find('\n') == std::string::npos) {
      std::printf("nobody found for \"%s\"\n", q.text.c_str());
    } else {
      std::printf("nobody found for the %zu-byte question\n", q.text.size());
    }
    return 0;
  }
  int rank = static_cast<int>(a.offset);
  for (const ExpertResult& e : ans->experts) {
    std::printf("%2d. %s (%s)  score %.3f  last active %s\n", ++rank, e.name.c_str(), e.person_id.c_str(), e.score,
                FormatDate(e.last_active).c_str());
    std::printf("    why: %s\n", e.reason.c_str());
    if (!e.topics.empty()) std::printf("    topics: %s\n", absl::StrJoin(e.topics, ", ").c_str());
    std::string comps;
    for (const auto& [name, v] : e.components) comps += absl::StrFormat("%s=%.3f ", name, v);
    std::printf("    components: %s\n", comps.c_str());
    for (size_t i = 0; i < e.evidence.size() && i < 3; ++i) {
      const Evidence& x = e.evidence[i];
      std::printf("    - [%s, %s, %s] %s\n      %s\n", x.role.c_str(), x.kind.c_str(), FormatDate(x.timestamp).c_str(),
                  x.title.c_str(), x.snippet.c_str());
    }
  }
  if (ans->has_more) std::printf("(more: --offset %zu)\n", a.offset + a.k);
  if (!ans->ranker.empty()) std::printf("ranker: %s\n", ans->ranker.c_str());
  return 0;
}

struct ConnectArgs {
  Target t;
  std::string person, about;
  size_t k = 10;
};

int RunConnect(const ConnectArgs& a) {
  if (absl::Status s = CheckQuerySize("about text", a.about); !s.ok()) return FailCommand(s);
  auto backend = Open(a.t);
  if (!backend.ok()) return FailCommand(backend.status());
  auto res = (*backend)->SuggestConnections({a.person, a.about, a.k}, Caller{});
  if (!res.ok()) return FailCommand(res.status());
  if (a.t.as_json) {
    json arr = json::array();
    for (const ConnectionResult& c : *res) {
      arr.push_back({{"person", c.person_id}, {"name", c.name}, {"score", c.score}, {"mutual_contacts", c.mutual_contacts},
                     {"shared_topics", c.shared_topics}, {"bridged_communities", c.bridged_communities},
                     {"reason", c.reason}});
    }
    Print({{"person", a.person}, {"about", a.about}, {"connections", arr}});
    return 0;
  }
  if (res->empty()) std::printf("no suggestions for %s\n", a.person.c_str());
  int rank = 0;
  for (const ConnectionResult& c : *res) {
    std::printf("%2d. %s (%s)  score %.4f\n    why: %s\n", ++rank, c.name.c_str(), c.person_id.c_str(), c.score,
                c.reason.c_str());
    if (!c.mutual_contacts.empty()) std::printf("    mutual contacts: %s\n", absl::StrJoin(c.mutual_contacts, ", ").c_str());
    if (!c.shared_topics.empty()) std::printf("    shared topics: %s\n", absl::StrJoin(c.shared_topics, ", ").c_str());
    if (!c.bridged_communities.empty()) {
      std::printf("    bridges: %s\n", absl::StrJoin(c.bridged_communities, ", ").c_str());
    }
  }
  return 0;
}

int RunProfile(const Target& t, const std::string& person) {
  auto backend = Open(t);
  if (!backend.ok()) return FailCommand(backend.status());
  auto p = (*backend)->GetPerson(person, Caller{});
  if (!p.ok()) return FailCommand(p.status());
  if (t.as_json) {
    json topics = json::array(), docs = json::array(), contacts = json::array(), years = json::array();
    for (const TopicStrength& x : p->topics) {
      json roles = json::object();
      for (const auto& [role, n] : x.by_role) roles[role] = n;
      topics.push_back({{"topic", x.topic}, {"strength", x.strength}, {"documents", x.documents}, {"share", x.share},
                        {"by_role", roles}, {"first_active", FormatDate(x.first_active)},
                        {"last_active", FormatDate(x.last_active)}, {"recent", x.recent}, {"previous", x.previous},
                        {"trend", x.trend}});
    }
    for (const Evidence& e : p->top_documents) docs.push_back(EvidenceJson(e));
    for (const auto& [name, n] : p->contacts) contacts.push_back({{"name", name}, {"interactions", n}});
    for (const auto& [y, n] : p->activity_by_year) years.push_back({{"year", y}, {"documents", n}});
    Print({{"person", p->person_id}, {"name", p->name}, {"aliases", p->aliases}, {"opted_out", p->opted_out},
           {"documents", p->documents}, {"first_active", FormatDate(p->first_active)},
           {"last_active", FormatDate(p->last_active)}, {"topics", topics}, {"top_documents", docs},
           {"contacts", contacts}, {"activity", years}});
    return 0;
  }
  std::printf("%s (%s)%s\n", p->name.c_str(), p->person_id.c_str(), p->opted_out ? " [opted out]" : "");
  if (!p->aliases.empty()) std::printf("aliases: %s\n", absl::StrJoin(p->aliases, ", ").c_str());
  std::printf("documents: %llu, active %s .. %s\n", static_cast<unsigned long long>(p->documents),
              FormatDate(p->first_active).c_str(), FormatDate(p->last_active).c_str());
  std::printf("topics (strength = role-weighted documents, half-life 365 days; trend: last 365 days vs the 365 before):\n");
  for (const TopicStrength& x : p->topics) {
    std::vector<std::string> roles;
    for (const auto& [role, n] : x.by_role) roles.push_back(absl::StrFormat("%s %d", role, n));
    std::printf("  %-30s %7.2f %5llu docs  last %s  %-9s  %s\n", x.topic.c_str(), x.strength,
                static_cast<unsigned long long>(x.documents), FormatDate(x.last_active).c_str(), x.trend.c_str(),
                absl::StrJoin(roles, ", ").c_str());
  }
  std::printf("top documents:\n");
  for (const Evidence& e : p->top_documents) std::printf("  [%s %s] %s\n", e.kind.c_str(), FormatDate(e.timestamp).c_str(), e.title.c_str());
  std::printf("contacts:\n");
  for (const auto& [name, n] : p->contacts) std::printf("  %-30s %llu\n", name.c_str(), static_cast<unsigned long long>(n));
  std::printf("activity:\n");
  uint64_t busiest = 0;
  for (const auto& [y, n] : p->activity_by_year) busiest = std::max(busiest, n);
  for (const auto& [y, n] : p->activity_by_year) {
    std::printf("  %d %-*s %llu\n", y, static_cast<int>(kActivityBarWidth), ActivityBar(n, busiest).c_str(),
                static_cast<unsigned long long>(n));
  }
  return 0;
}

struct TopicsArgs {
  Target t;
  TopicsQuery q;
};

int RunTopics(const TopicsArgs& a) {
  for (const std::string& name : a.q.topics) {
    if (absl::Status s = CheckQuerySize("topic", name); !s.ok()) return FailCommand(s);
  }
  if (a.q.period_days == 0) return FailCommand(absl::InvalidArgumentError("--period-days must be at least 1"));
  auto backend = Open(a.t);
  if (!backend.ok()) return FailCommand(backend.status());
  auto topics = (*backend)->FindTopics(a.q, Caller{});
  if (!topics.ok()) return FailCommand(topics.status());
  if (a.t.as_json) {
    json arr = json::array();
    for (const TopicResult& r : *topics) {
      json people = json::array();
      for (const auto& [name, s] : r.top_people) people.push_back({{"name", name}, {"strength", s}});
      arr.push_back({{"topic", r.topic}, {"documents", r.documents}, {"top_people", people}, {"trend", r.trend},
                     {"recent", r.recent}, {"previous", r.previous}, {"direction", r.direction},
                     {"spellings", r.spellings}});
    }
    Print({{"period_days", a.q.period_days}, {"topics", arr}});
    return 0;
  }
  if (!a.q.topics.empty() && topics->empty()) {
    std::printf("no such topic: %s\n", absl::StrJoin(a.q.topics, ", ").c_str());
    return 0;
  }
  std::printf("%-32s %8s %7s %-9s  %s   (trend: last %u days vs the %u before)\n", "TOPIC", "DOCS", "TREND", "DIRECTION",
              "TOP PEOPLE (strength)", a.q.period_days, a.q.period_days);
  for (const TopicResult& r : *topics) {
    std::vector<std::string> names;
    for (const auto& [name, s] : r.top_people) names.push_back(absl::StrFormat("%s (%.1f)", name, s));
    std::printf("%-32s %8llu %6.2fx %-9s  %s\n", r.topic.c_str(), static_cast<unsigned long long>(r.documents), r.trend,
                r.direction.c_str(), absl::StrJoin(names, ", ").c_str());
    if (r.spellings.size() > 1) std::printf("%-32s spellings: %s\n", "", absl::StrJoin(r.spellings, ", ").c_str());
  }
  return 0;
}

}  // namespace

void RegisterQueryCommands(CLI::App& app, int* exit_code) {
  auto a = std::make_shared<AskArgs>();
  CLI::App* ask = app.add_subcommand("ask", "Who knows about TEXT? Ranked people with evidence and reasons");
  AddTargetOptions(ask, &a->t);
  ask->add_option("text", a->text, "What you want to know about (up to 64 KiB; - reads standard input)")->required();
  ask->add_option("-k,--k", a->k, "Number of people")->capture_default_str();
  ask->add_option("--offset", a->offset, "Skip this many (paging)");
  ask->add_option("--community", a->communities, "Only documents of these communities");
  ask->add_option("--topic", a->topics, "Only documents with any of these topics/tags/hashtags");
  ask->add_option("--exclude", a->exclude, "Never return these people");
  ask->add_option("--asker", a->asker,
                  "Who asks (person id or identity key): weighs who replied to them before (not excluded)");
  ask->add_option("--from", a->from, "Only documents on or after YYYY-MM-DD");
  ask->add_option("--to", a->to, "Only documents before YYYY-MM-DD");
  ask->add_flag("--balance", a->balance, "Balance load: discount people routed many questions lately (README)");
  ask->add_flag("--no-balance", a->no_balance, "Pure relevance ranking, whatever the server default");
  ask->add_option("--min-vote-share", a->min_vote_share,
                  "People whose matching evidence is under this share of the best are listed after the rest "
                  "(default 0.1; 0: any matching document counts)")
      ->check(CLI::Range(0.0, 1.0));
  ask->add_flag("--mix-evidence", a->mix_evidence,
                "One list by score: people without a matching document may rank above those with one");
  ask->callback([a, exit_code] { *exit_code = RunAsk(*a); });

  auto c = std::make_shared<ConnectArgs>();
  CLI::App* connect = app.add_subcommand("connect", "Who should PERSON connect with? People not yet in touch, with reasons");
  AddTargetOptions(connect, &c->t);
  connect->add_option("--person", c->person, "Person id or identity key")->required();
  connect->add_option("--about", c->about, "Focus on people who know about this");
  connect->add_option("-k,--k", c->k, "Number of people")->capture_default_str();
  connect->callback([c, exit_code] { *exit_code = RunConnect(*c); });

  auto pt = std::make_shared<Target>();
  auto person = std::make_shared<std::string>();
  CLI::App* profile = app.add_subcommand("profile", "A person's topics, top evidence, contacts and activity");
  AddTargetOptions(profile, pt.get());
  profile->add_option("--person", *person, "Person id or identity key")->required();
  profile->callback([pt, person, exit_code] { *exit_code = RunProfile(*pt, *person); });

  auto ta = std::make_shared<TopicsArgs>();
  ta->q.limit = 30;
  CLI::App* topics = app.add_subcommand("topics", "Topics with document counts, strongest people and trend (or look topics up)");
  AddTargetOptions(topics, &ta->t);
  topics->add_option("--limit", ta->q.limit, "Show at most this many (0 = all)")->capture_default_str();
  topics->add_option("--topic", ta->q.topics,
                     "Only this topic, in any spelling (\"neural network\" = neural-networks; repeatable)");
  topics->add_option("--period-days", ta->q.period_days, "Trend: the last this many days vs the same before")
      ->capture_default_str();
  topics->callback([ta, exit_code] { *exit_code = RunTopics(*ta); });
}

}  // namespace whoknows::service
