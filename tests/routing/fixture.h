#ifndef WHOKNOWS_TESTS_ROUTING_FIXTURE_H_
#define WHOKNOWS_TESTS_ROUTING_FIXTURE_H_

// A small corpus for routing tests: alice and bob know xapian (bob most),
// dave knows less; carol only in internal documents.
#include <string>
#include <vector>

#include "whoknows/indexer/record.h"

namespace whoknows::routing::testing {

inline constexpr int64_t kT0 = 1600000000;

inline indexer::Record Doc(std::string id, std::string author, std::string name, std::string title, std::string text,
                           std::string visibility, indexer::RecordKind kind, std::string thread, int64_t dt) {
  indexer::Record r;
  r.source = "jsonl:routing";
  r.id = "jsonl:routing:" + id;
  r.kind = kind;
  r.thread_id = thread.empty() ? r.id : "jsonl:routing:" + thread;
  if (!thread.empty()) r.reply_to = r.thread_id;
  r.author_key = "mail:" + author + "@example.org";
  r.author_name = std::move(name);
  r.title = std::move(title);
  r.text = std::move(text);
  r.visibility = std::move(visibility);
  r.community = "search";
  r.timestamp = kT0 + dt;
  return r;
}

inline std::vector<indexer::Record> Corpus() {
  using K = indexer::RecordKind;
  return {
      Doc("q1", "erin", "Erin Asker", "Xapian ranking", "How do I tune xapian ranking weights?", "public", K::kQuestion,
          "", 0),
      Doc("a1", "bob", "Bob Jones", "", "Xapian ranking: tune bm25 k1 and b; xapian ranking weights.", "public",
          K::kAnswer, "q1", 10),
      Doc("a2", "alice", "Alice Smith", "", "Xapian ranking weights can also use a custom weight class.", "public",
          K::kAnswer, "q1", 20),
      Doc("q2", "erin", "Erin Asker", "Xapian index size", "Why is my xapian index large?", "public", K::kQuestion, "",
          30),
      Doc("a3", "bob", "Bob Jones", "", "Xapian index size shrinks after compaction; xapian compact.", "public",
          K::kAnswer, "q2", 40),
      Doc("a4", "dave", "Dave Brown", "", "Xapian stores positions which makes the index large.", "public",
          K::kAnswer, "q2", 50),
      Doc("q3", "erin", "Erin Asker", "Zanzibar plan", "Internal zanzibar xapian plan.", "internal", K::kQuestion, "",
          60),
      Doc("a5", "carol", "Carol Hidden", "", "The zanzibar xapian plan uses custom weights.", "internal", K::kAnswer,
          "q3", 70),
  };
}

inline constexpr char kBob[] = "mail:bob@example.org";
inline constexpr char kAlice[] = "mail:alice@example.org";
inline constexpr char kDave[] = "mail:dave@example.org";
inline constexpr char kCarol[] = "mail:carol@example.org";

}  // namespace whoknows::routing::testing

#endif  // WHOKNOWS_TESTS_ROUTING_FIXTURE_H_
