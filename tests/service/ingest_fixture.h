#ifndef WHOKNOWS_TESTS_SERVICE_INGEST_FIXTURE_H_
#define WHOKNOWS_TESTS_SERVICE_INGEST_FIXTURE_H_

// Messages for ingest and cache tests. IngestMsg (ingest_refresh_test, ingest_delta_test): threads
// of 5 (a question and 4 answers, each replying to the one before), 11
// authors, some mentions, two topics, two visibility groups.

#include <cstdint>
#include <string>

#include "absl/strings/str_format.h"
#include "whoknows/indexer/record.h"

namespace whoknows::service::ingest_fixture {

inline const char* const kIngestWords[] = {"compiler cache build", "yeast brewing temperature",
                                           "linker symbols build", "espresso grind temperature",
                                           "cache eviction policy"};

// Message i of source `source` (ids "<source>:m<i>").
inline indexer::Record IngestMsg(const std::string& source, int i) {
  indexer::Record r;
  r.source = source;
  const int thread = i % 5 == 0 ? i : i - i % 5;
  r.id = absl::StrFormat("%s:m%d", source, i);
  r.thread_id = absl::StrFormat("%s:m%d", source, thread);
  if (thread != i) r.reply_to = absl::StrFormat("%s:m%d", source, i - 1);
  r.kind = thread == i ? indexer::RecordKind::kQuestion : indexer::RecordKind::kAnswer;
  r.author_key = absl::StrFormat("mail:p%d@example.org", (i * 7) % 11);
  r.author_name = absl::StrFormat("Person %d", (i * 7) % 11);
  if (i % 3 == 0) r.mentions = {absl::StrFormat("mail:p%d@example.org", (i + 4) % 11)};
  r.text = kIngestWords[(i / 5) % 5];
  r.topics = {i % 2 == 0 ? "build" : "coffee"};
  r.visibility = i % 4 == 3 ? "internal" : "public";
  r.timestamp = 1600000000 + 3600 * i;
  return r;
}

// A message of thread `thread` in source `source` (ids "<source>:<id>"): the
// thread's question when id == thread, else an answer replying to it.
inline indexer::Record ThreadMsg(const std::string& source, const std::string& id, const std::string& author,
                                 const std::string& thread, int64_t t, const std::string& text,
                                 const std::string& topic) {
  indexer::Record r;
  r.source = source;
  r.id = source + ":" + id;
  r.thread_id = source + ":" + thread;
  if (id != thread) r.reply_to = r.thread_id;
  r.kind = id == thread ? indexer::RecordKind::kQuestion : indexer::RecordKind::kAnswer;
  r.author_key = "mail:" + author + "@example.org";
  r.author_name = author;
  r.text = text;
  r.topics = {topic};
  r.visibility = "public";
  r.timestamp = t;
  return r;
}

}  // namespace whoknows::service::ingest_fixture

#endif  // WHOKNOWS_TESTS_SERVICE_INGEST_FIXTURE_H_
