// ExtendSnapshot equals BuildSnapshot over the same documents, field for
// field, over many random batches (new persons inside the sorted person table,
// new topics and spellings, new communities, replies across batches, threads
// growing, a second visibility group); and the cases only a full rebuild gets
// right are refused.

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "whoknows/engine/snapshot.h"

namespace whoknows::engine {
namespace {

using indexer::Person;
using indexer::RecordKind;
using indexer::StoredDoc;

void ExpectGraphsEqual(const Graph& a, const Graph& b, const char* what) {
  ASSERT_EQ(a.num_vertices(), b.num_vertices()) << what;
  ASSERT_EQ(a.num_edges(), b.num_edges()) << what;
  for (VertexId v = 0; v < a.num_vertices(); ++v) {
    ASSERT_EQ(a.row_begin(v), b.row_begin(v)) << what << " row " << v;
    ASSERT_EQ(a.out_weight(v), b.out_weight(v)) << what << " out weight " << v;
  }
  for (EdgeIndex e = 0; e < a.num_edges(); ++e) {
    ASSERT_EQ(a.target(e), b.target(e)) << what << " edge " << e;
    ASSERT_EQ(a.weight(e), b.weight(e)) << what << " edge " << e;
    ASSERT_EQ(a.mask(e), b.mask(e)) << what << " edge " << e;
  }
  EXPECT_EQ(a.all_masks(), b.all_masks()) << what;
}

template <typename A, typename B>
void ExpectSpanEq(A a, B b, const std::string& what) {
  ASSERT_EQ(std::vector<typename A::value_type>(a.begin(), a.end()),
            std::vector<typename B::value_type>(b.begin(), b.end()))
      << what;
}

void ExpectSnapshotsEqual(const Snapshot& a, const Snapshot& b) {
  ASSERT_EQ(a.num_persons(), b.num_persons());
  ASSERT_EQ(a.num_docs(), b.num_docs());
  ASSERT_EQ(a.num_topics(), b.num_topics());
  ASSERT_EQ(a.num_threads(), b.num_threads());
  ASSERT_EQ(a.num_communities(), b.num_communities());
  EXPECT_EQ(a.group_names(), b.group_names());
  for (uint32_t p = 0; p < a.num_persons(); ++p) {
    const PersonInfo& x = a.person(p);
    const PersonInfo& y = b.person(p);
    ASSERT_EQ(x.id, y.id) << p;
    EXPECT_EQ(x.name, y.name) << p;
    EXPECT_EQ(x.opted_out, y.opted_out) << p;
    EXPECT_EQ(x.doc_count, y.doc_count) << p;
    EXPECT_EQ(x.answers, y.answers) << p;
    EXPECT_EQ(x.accepted, y.accepted) << p;
    EXPECT_EQ(x.questions, y.questions) << p;
    EXPECT_EQ(x.first_active, y.first_active) << p;
    EXPECT_EQ(x.last_active, y.last_active) << p;
    EXPECT_EQ(x.topics, y.topics) << p;
    EXPECT_EQ(a.FindPerson(x.id), p);
    ExpectSpanEq(a.PersonDocs(p), b.PersonDocs(p), absl::StrCat("person docs ", p));
  }
  for (uint32_t d = 0; d < a.num_docs(); ++d) {
    const DocInfo& x = a.doc(d);
    const DocInfo& y = b.doc(d);
    ASSERT_EQ(x.docid, y.docid) << d;
    EXPECT_EQ(x.author, y.author) << d;
    EXPECT_EQ(x.thread, y.thread) << d;
    EXPECT_EQ(x.parent, y.parent) << d;
    EXPECT_EQ(x.timestamp, y.timestamp) << d;
    EXPECT_EQ(x.group, y.group) << d;
    EXPECT_EQ(x.community, y.community) << d;
    EXPECT_EQ(a.DocIndex(x.docid), d);
    EXPECT_EQ(b.DocIndex(x.docid), d);
    ExpectSpanEq(a.DocTopics(d), b.DocTopics(d), absl::StrCat("doc topics ", d));
    ExpectSpanEq(a.DocMentions(d), b.DocMentions(d), absl::StrCat("doc mentions ", d));
  }
  for (uint32_t t = 0; t < a.num_topics(); ++t) {
    ASSERT_EQ(a.topic_name(t), b.topic_name(t)) << t;
    EXPECT_EQ(a.topic_key(t), b.topic_key(t)) << t;
    EXPECT_EQ(a.topic_doc_count(t), b.topic_doc_count(t)) << t;
    ExpectSpanEq(a.TopicSpellings(t), b.TopicSpellings(t), absl::StrCat("spellings ", t));
    EXPECT_EQ(a.FindTopic(a.topic_name(t)), t);
  }
  for (uint32_t t = 0; t < a.num_threads(); ++t) {
    EXPECT_EQ(a.ThreadRoot(t), b.ThreadRoot(t)) << t;
    ExpectSpanEq(a.ThreadDocs(t), b.ThreadDocs(t), absl::StrCat("thread ", t));
  }
  for (uint32_t c = 0; c < a.num_communities(); ++c) {
    EXPECT_EQ(a.community_name(c), b.community_name(c));
    EXPECT_EQ(a.community_max_timestamp(c), b.community_max_timestamp(c));
  }
  const uint32_t n = a.num_persons() + a.num_docs() + a.num_topics();
  for (uint32_t v = 0; v < n; ++v) ASSERT_EQ(a.vertex_time()[v], b.vertex_time()[v]) << v;
  EXPECT_EQ(a.min_timestamp(), b.min_timestamp());
  EXPECT_EQ(a.max_timestamp(), b.max_timestamp());
  EXPECT_EQ(a.duplicate_docids(), b.duplicate_docids());
  EXPECT_EQ(a.docs_without_group(), b.docs_without_group());
  EXPECT_EQ(a.dropped_cross_group_edges(), b.dropped_cross_group_edges());
  ExpectGraphsEqual(a.graph(), b.graph(), "main graph");
  ExpectGraphsEqual(a.contacts(), b.contacts(), "contacts");
}

// A random corpus that grows the way ingest does: threads that get replies,
// mentions, tags with variant spellings, persons both in the table and only
// in documents.
struct Corpus {
  std::mt19937 rng{7};
  std::vector<StoredDoc> docs;
  std::vector<Person> table;  // sorted by id
  uint32_t next_docid = 1;
  int64_t now = 1'600'000'000;

  std::string RandomPerson() { return absl::StrCat("u", rng() % 60); }
  StoredDoc Make() {
    StoredDoc d;
    d.docid = next_docid++;
    d.id = absl::StrCat("m", d.docid);
    now += 3600 + rng() % 7200;
    d.timestamp = now;
    d.author = RandomPerson();
    d.visibility = rng() % 5 == 0 ? "team" : "public";
    d.community = absl::StrCat("c", rng() % 4);
    if (!docs.empty() && rng() % 3 != 0) {
      const StoredDoc& parent = docs[rng() % docs.size()];
      d.reply_to = parent.id;
      d.thread_id = parent.thread_id.empty() ? parent.id : parent.thread_id;
      d.kind = RecordKind::kAnswer;
      d.accepted = rng() % 4 == 0;
      d.visibility = parent.visibility;
    } else {
      d.kind = RecordKind::kQuestion;
    }
    static const char* kTopics[] = {"r", "R", "ggplot2", "ggplot", "data-frames", "data frame", "lapply", "memory"};
    for (int i = rng() % 3; i > 0; --i) d.topics.push_back(kTopics[rng() % 8]);
    if (rng() % 6 == 0) d.topics.push_back(absl::StrCat("new-topic-", d.docid));
    if (rng() % 4 == 0) d.mentions.push_back(absl::StrCat("u", 40 + rng() % 20));
    return d;
  }
  void AddToTable(const std::string& id) {
    auto it = std::lower_bound(table.begin(), table.end(), id, [](const Person& p, const std::string& x) { return p.id < x; });
    if (it != table.end() && it->id == id) return;
    Person p;
    p.id = id;
    p.name = absl::StrCat("Name of ", id);
    table.insert(it, p);
  }
};

TEST(SnapshotExtendTest, EqualsAFullBuildAfterEveryBatch) {
  Corpus c;
  SnapshotOptions options;
  options.extendable = true;
  options.max_thread_contacts = 1000;
  for (int i = 0; i < 300; ++i) c.docs.push_back(c.Make());
  for (const StoredDoc& d : c.docs) {
    if (d.author < "u40") c.AddToTable(d.author);  // u40..u59 (and u5..u9) appear only in documents
  }
  absl::StatusOr<std::shared_ptr<const Snapshot>> cur = BuildSnapshot(c.docs, c.table, options);
  ASSERT_TRUE(cur.ok()) << cur.status();
  int extended = 0, refused = 0;
  for (int batch = 0; batch < 40; ++batch) {
    const size_t first = c.docs.size();
    const int n = 1 + static_cast<int>(c.rng() % 4);
    for (int i = 0; i < n; ++i) {
      c.docs.push_back(c.Make());
      // Ingest puts new authors in the table; document-only people stay out.
      if (c.docs.back().author < "u40") c.AddToTable(c.docs.back().author);
    }
    if (batch % 7 == 3) c.AddToTable(absl::StrCat("t", batch));  // a person with no documents yet, mid-table
    const std::span<const StoredDoc> added(c.docs.data() + first, c.docs.size() - first);
    absl::StatusOr<std::shared_ptr<const Snapshot>> next = ExtendSnapshot(**cur, added, c.table, options);
    absl::StatusOr<std::shared_ptr<const Snapshot>> full = BuildSnapshot(c.docs, c.table, options);
    ASSERT_TRUE(full.ok()) << full.status();
    if (next.ok()) {
      ++extended;
      ExpectSnapshotsEqual(**next, **full);
      if (HasFatalFailure()) return;
      cur = next;
    } else {
      ASSERT_EQ(next.status().code(), absl::StatusCode::kFailedPrecondition) << next.status();
      ++refused;
      cur = full;
    }
  }
  // Most batches take the incremental path (the refusals are threads whose new
  // reply is older than none here, or topic display names that flip).
  EXPECT_GE(extended, 30) << "refused " << refused;
}

TEST(SnapshotExtendTest, RefusesWhatOnlyAFullRebuildGetsRight) {
  SnapshotOptions options;
  options.extendable = true;
  auto doc = [](uint32_t docid, std::string id, std::string thread, std::string reply_to, int64_t ts) {
    StoredDoc d;
    d.docid = docid;
    d.id = std::move(id);
    d.thread_id = std::move(thread);
    d.reply_to = std::move(reply_to);
    d.author = absl::StrCat("a", docid);
    d.timestamp = ts;
    d.visibility = "public";
    return d;
  };
  // m2 replies to m9 (not there yet) in thread "t", whose root is the earliest doc m1.
  std::vector<StoredDoc> base = {doc(1, "m1", "t", "", 100), doc(2, "m2", "t", "m9", 200)};
  auto extend = [&](StoredDoc d) {
    absl::StatusOr<std::shared_ptr<const Snapshot>> b = BuildSnapshot(base, {}, options);
    EXPECT_TRUE(b.ok());
    return ExtendSnapshot(**b, std::span<const StoredDoc>(&d, 1), {}, options).status();
  };
  EXPECT_TRUE(extend(doc(3, "m3", "t", "m1", 300)).ok());
  EXPECT_EQ(extend(doc(3, "m9", "u", "", 300)).code(), absl::StatusCode::kFailedPrecondition);  // resolves m2's reply_to
  EXPECT_EQ(extend(doc(3, "t", "t", "", 300)).code(), absl::StatusCode::kFailedPrecondition);   // becomes t's root
  EXPECT_EQ(extend(doc(3, "m3", "t", "", 50)).code(), absl::StatusCode::kFailedPrecondition);   // older than t's root
  // Not extendable, or extended already.
  absl::StatusOr<std::shared_ptr<const Snapshot>> plain = BuildSnapshot(base, {});
  ASSERT_TRUE(plain.ok());
  StoredDoc d = doc(3, "m3", "t", "", 300);
  EXPECT_EQ(ExtendSnapshot(**plain, std::span<const StoredDoc>(&d, 1), {}, options).status().code(),
            absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<std::shared_ptr<const Snapshot>> b = BuildSnapshot(base, {}, options);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(ExtendSnapshot(**b, std::span<const StoredDoc>(&d, 1), {}, options).ok());
  EXPECT_EQ(ExtendSnapshot(**b, std::span<const StoredDoc>(&d, 1), {}, options).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace whoknows::engine
