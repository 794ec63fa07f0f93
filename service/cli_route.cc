// whoknows route record | outcome | availability | list: the routing log and
// availability, over a local --db (takes the index's writer lock) or a --server.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "whoknows/base/log.h"
#include "whoknows/service/backend.h"
#include "whoknows/service/cli.h"
#include "whoknows/service/remote.h"

namespace whoknows::service {
namespace {

using json = nlohmann::json;

struct RouteTarget {
  std::string db;
  RemoteTarget remote;
  bool as_json = false;
};

void AddOptions(CLI::App* cmd, RouteTarget* t) {
  cmd->add_option("--db", t->db, "Index directory (local; needs the writer lock, so not while a server runs)");
  AddRemoteOptions(cmd, &t->remote, "A whoknows server at HOST:PORT instead of --db");
  cmd->add_flag("--json", t->as_json, "JSON output");
}

absl::StatusOr<std::unique_ptr<Backend>> Open(const RouteTarget& t, bool write) {
  return OpenBackend(t.db, t.remote, write);
}

// "" -> 0; epoch seconds; YYYY-MM-DD; or RFC 3339. -1 when malformed.
int64_t ParseTime(const std::string& s) {
  if (s.empty()) return 0;
  int64_t n = 0;
  if (absl::SimpleAtoi(s, &n)) return n;
  absl::Time t;
  std::string err;
  if (absl::ParseTime("%Y-%m-%d", s, absl::UTCTimeZone(), &t, &err)) return absl::ToUnixSeconds(t);
  if (absl::ParseTime(absl::RFC3339_full, s, &t, &err)) return absl::ToUnixSeconds(t);
  return -1;
}

std::string Time(int64_t t) {
  return t == 0 ? "-" : absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixSeconds(t), absl::UTCTimeZone());
}

struct RecordArgs {
  RouteTarget t;
  RoutingRecord r;
  std::string time;
};

int RunRecord(RecordArgs a) {
  a.r.time = ParseTime(a.time);
  if (a.r.time < 0) return FailCommand(absl::InvalidArgumentError("--time: epoch seconds, YYYY-MM-DD or RFC 3339"));
  auto b = Open(a.t, true);
  if (!b.ok()) return FailCommand(b.status());
  absl::StatusOr<std::string> id = (*b)->RecordRouting(a.r, Caller{});
  if (!id.ok()) return FailCommand(id.status());
  if (a.t.as_json) {
    std::printf("%s\n", json{{"routing_id", *id}, {"people", a.r.people}}.dump(2).c_str());
  } else {
    std::printf("routing %s: %zu people\n", id->c_str(), a.r.people.size());
  }
  return 0;
}

struct OutcomeArgs {
  RouteTarget t;
  std::string routing_id, person, outcome, time;
};

int RunOutcome(const OutcomeArgs& a) {
  absl::StatusOr<routing::Outcome> o = routing::ParseOutcome(a.outcome);
  if (!o.ok()) return FailCommand(o.status());
  const int64_t t = ParseTime(a.time);
  if (t < 0) return FailCommand(absl::InvalidArgumentError("--time: epoch seconds, YYYY-MM-DD or RFC 3339"));
  auto b = Open(a.t, true);
  if (!b.ok()) return FailCommand(b.status());
  if (absl::Status s = (*b)->RecordOutcome(a.routing_id, a.person, *o, t, Caller{}); !s.ok()) return FailCommand(s);
  if (a.t.as_json) {
    std::printf("%s\n", json{{"routing_id", a.routing_id}, {"person", a.person}, {"outcome", a.outcome}}.dump(2).c_str());
  } else {
    std::printf("routing %s, %s: %s\n", a.routing_id.c_str(), a.person.c_str(), a.outcome.c_str());
  }
  return 0;
}

struct AvailArgs {
  RouteTarget t;
  std::string person, away_until;
  uint32_t max_per_week = 0;
};

int RunAvailability(const AvailArgs& a) {
  routing::Availability av;
  av.away_until = ParseTime(a.away_until);
  if (av.away_until < 0) return FailCommand(absl::InvalidArgumentError("--away-until: epoch seconds, YYYY-MM-DD or RFC 3339"));
  av.max_per_week = a.max_per_week;
  auto b = Open(a.t, true);
  if (!b.ok()) return FailCommand(b.status());
  if (absl::Status s = (*b)->SetAvailability(a.person, av, Caller{}); !s.ok()) return FailCommand(s);
  if (a.t.as_json) {
    std::printf("%s\n", json{{"person", a.person}, {"away_until", av.away_until}, {"max_per_week", av.max_per_week}}
                            .dump(2)
                            .c_str());
  } else {
    std::printf("%s: away until %s, max %s per week\n", a.person.c_str(), Time(av.away_until).c_str(),
                av.max_per_week == 0 ? "default" : absl::StrFormat("%d", av.max_per_week).c_str());
  }
  return 0;
}

struct ListArgs {
  RouteTarget t;
  std::string person;
  size_t limit = 100;
};

int RunList(const ListArgs& a) {
  auto b = Open(a.t, false);
  if (!b.ok()) return FailCommand(b.status());
  auto entries = (*b)->ListRoutings(a.person, a.limit, Caller{});
  if (!entries.ok()) return FailCommand(entries.status());
  if (a.t.as_json) {
    json arr = json::array();
    for (const routing::RoutingEntry& e : *entries) {
      arr.push_back({{"routing_id", e.routing_id}, {"person", e.person}, {"question", e.question},
                     {"visibility", e.visibility}, {"time", e.time}, {"outcome", std::string(OutcomeName(e.outcome))},
                     {"outcome_time", e.outcome_time}});
    }
    std::printf("%s\n", json{{"entries", arr}}.dump(2, ' ', false, json::error_handler_t::replace).c_str());
    return 0;
  }
  if (entries->empty()) std::printf("no routings\n");
  for (const routing::RoutingEntry& e : *entries) {
    std::printf("%s  %s  %-12s %s  -> %s [%s]\n", Time(e.time).c_str(), e.routing_id.c_str(),
                std::string(OutcomeName(e.outcome)).c_str(), e.question.c_str(), e.person.c_str(),
                e.visibility.c_str());
  }
  return 0;
}

}  // namespace

void RegisterRouteCommands(CLI::App& app, int* exit_code) {
  CLI::App* route = app.add_subcommand("route", "The routing log (who was asked what, and what came of it) and availability");
  route->require_subcommand(1);

  auto r = std::make_shared<RecordArgs>();
  CLI::App* rec = route->add_subcommand("record", "Log that a question was routed to people");
  AddOptions(rec, &r->t);
  rec->add_option("--question-id", r->r.question_id, "Record id of the question");
  rec->add_option("--question-text", r->r.question_text, "Or its text (only a hash is stored)");
  rec->add_option("--to", r->r.people, "Person id or identity key (repeatable)")->required();
  rec->add_option("--time", r->time, "When (epoch seconds, YYYY-MM-DD or RFC 3339; default now)");
  rec->add_option("--visibility", r->r.visibility, "Visibility group of the question (default internal)");
  rec->callback([r, exit_code] { *exit_code = RunRecord(*r); });

  auto o = std::make_shared<OutcomeArgs>();
  CLI::App* out = route->add_subcommand("outcome", "Log what came of a routing for one person");
  AddOptions(out, &o->t);
  out->add_option("--routing-id", o->routing_id, "From `route record`")->required();
  out->add_option("--person", o->person, "Person id or identity key")->required();
  out->add_option("--outcome", o->outcome, "answered | declined | no-response | helpful")->required();
  out->add_option("--time", o->time, "When (default now)");
  out->callback([o, exit_code] { *exit_code = RunOutcome(*o); });

  auto v = std::make_shared<AvailArgs>();
  CLI::App* av = route->add_subcommand("availability", "Set a person's availability: away until a date, weekly capacity");
  AddOptions(av, &v->t);
  av->add_option("--person", v->person, "Person id or identity key")->required();
  av->add_option("--away-until", v->away_until, "Not routed before this date (YYYY-MM-DD; omit = available)");
  av->add_option("--max-per-week", v->max_per_week, "Routed questions per week (0 = server default)");
  av->callback([v, exit_code] { *exit_code = RunAvailability(*v); });

  auto l = std::make_shared<ListArgs>();
  CLI::App* ls = route->add_subcommand("list", "Routing log entries, newest first");
  AddOptions(ls, &l->t);
  ls->add_option("--person", l->person, "Only this person's");
  ls->add_option("--limit", l->limit, "At most N (0 = all)")->capture_default_str();
  ls->callback([l, exit_code] { *exit_code = RunList(*l); });
}

}  // namespace whoknows::service
