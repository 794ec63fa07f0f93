#ifndef WHOKNOWS_TESTS_ENGINE_FIXTURES_H_
#define WHOKNOWS_TESTS_ENGINE_FIXTURES_H_

// Small hand-made corpora for engine tests.

#include <cstdint>
#include <string>
#include <vector>

#include "whoknows/indexer/index.h"

namespace whoknows::engine::testing {

inline constexpr int64_t kDay = 86400;
inline constexpr int64_t kT0 = 1480000000;  // 2016-11-24

class Corpus {
 public:
  // Adds a doc; returns its docid (1, 2, ...).
  uint32_t Add(indexer::RecordKind kind, const std::string& id, const std::string& author, int64_t ts,
               const std::string& thread = "", const std::string& reply_to = "",
               std::vector<std::string> topics = {}, const std::string& visibility = "public",
               bool accepted = false, std::vector<std::string> mentions = {}, const std::string& community = "c1") {
    indexer::StoredDoc d;
    d.docid = static_cast<uint32_t>(docs.size() + 1);
    d.id = id;
    d.kind = kind;
    d.source = "test";
    d.thread_id = thread.empty() ? id : thread;
    d.reply_to = reply_to;
    d.author = author;
    d.mentions = std::move(mentions);
    d.timestamp = ts;
    d.topics = std::move(topics);
    d.community = community;
    d.visibility = visibility;
    d.accepted = accepted;
    docs.push_back(d);
    return d.docid;
  }
  uint32_t Question(const std::string& id, const std::string& author, int64_t ts, std::vector<std::string> topics,
                    const std::string& vis = "public") {
    return Add(indexer::RecordKind::kQuestion, id, author, ts, id, "", std::move(topics), vis);
  }
  uint32_t Answer(const std::string& id, const std::string& q, const std::string& author, int64_t ts,
                  bool accepted = false, const std::string& vis = "public") {
    return Add(indexer::RecordKind::kAnswer, id, author, ts, q, q, {}, vis, accepted);
  }
  void Person(const std::string& id, const std::string& name, bool opted_out = false) {
    indexer::Person p;
    p.id = id;
    p.name = name;
    p.opted_out = opted_out;
    persons.push_back(p);
  }

  std::vector<indexer::StoredDoc> docs;
  std::vector<indexer::Person> persons;
};

}  // namespace whoknows::engine::testing

#endif  // WHOKNOWS_TESTS_ENGINE_FIXTURES_H_
