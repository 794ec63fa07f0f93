#include "whoknows/engine/snapshot.h"

#include <chrono>
#include <cstdio>
#include <random>

#include "fixtures.h"
#include "gtest/gtest.h"
#include "absl/strings/str_cat.h"
#include "whoknows/base/testing.h"

namespace whoknows::engine {
namespace {

using testing::Corpus;
using testing::kDay;
using testing::kT0;

Corpus SmallQa() {
  Corpus c;
  c.Person("p:alice", "Alice");
  c.Person("p:bob", "Bob");
  c.Person("p:dave", "Dave");
  c.Person("p:ivan", "Ivan");
  c.Question("q1", "p:dave", kT0, {"neural-networks", "training"});
  c.Answer("a1", "q1", "p:alice", kT0 + kDay, /*accepted=*/true);
  c.Answer("a2", "q1", "p:bob", kT0 + 2 * kDay);
  c.Question("q2", "p:alice", kT0 + 3 * kDay, {"secret"}, "internal");
  c.Answer("a3", "q2", "p:ivan", kT0 + 4 * kDay, false, "internal");
  // A public answer to an internal question: cross-group, no thread/reply edge.
  c.Answer("a4", "q2", "p:bob", kT0 + 5 * kDay, false, "public");
  return c;
}

TEST(SnapshotTest, BuildsTablesAndTypedVertexRanges) {
  Corpus c = SmallQa();
  ASSERT_OK_AND_ASSIGN(auto snap, BuildSnapshot(c.docs, c.persons));
  const Snapshot& s = *snap;
  EXPECT_EQ(s.num_persons(), 4u);
  EXPECT_EQ(s.num_docs(), 6u);
  EXPECT_EQ(s.num_topics(), 3u);  // neural-networks, secret, training
  EXPECT_EQ(s.num_threads(), 2u);
  EXPECT_EQ(s.graph().num_vertices(), 4u + 6u + 3u);
  EXPECT_EQ(s.KindOf(s.PersonVertex(3)), VertexKind::kPerson);
  EXPECT_EQ(s.KindOf(s.DocVertex(0)), VertexKind::kDoc);
  EXPECT_EQ(s.KindOf(s.TopicVertex(2)), VertexKind::kTopic);
  EXPECT_EQ(s.IndexOf(s.TopicVertex(2)), 2u);

  const uint32_t alice = s.FindPerson("p:alice");
  ASSERT_NE(alice, kNone);
  EXPECT_EQ(s.person(alice).name, "Alice");
  EXPECT_EQ(s.person(alice).doc_count, 2u);
  EXPECT_EQ(s.person(alice).answers, 1u);
  EXPECT_EQ(s.person(alice).accepted, 1u);
  EXPECT_EQ(s.person(alice).questions, 1u);
  EXPECT_EQ(s.person(alice).first_active, kT0 + kDay);
  EXPECT_EQ(s.person(alice).last_active, kT0 + 3 * kDay);
  EXPECT_EQ(s.FindPerson("p:nobody"), kNone);

  // Answers inherit their question's topics (same group only).
  const uint32_t a1 = s.DocIndex(2);
  ASSERT_NE(a1, kNone);
  EXPECT_EQ(s.DocTopics(a1).size(), 2u);
  const uint32_t a4 = s.DocIndex(6);
  EXPECT_EQ(s.DocTopics(a4).size(), 0u);  // q2 is internal, a4 public
  EXPECT_EQ(s.ThreadRoot(s.doc(a1).thread), s.DocIndex(1));
  EXPECT_EQ(s.doc(a1).parent, s.DocIndex(1));
  EXPECT_EQ(s.ThreadDocs(s.doc(a1).thread).size(), 3u);
  EXPECT_EQ(s.DocIndex(99), kNone);
  EXPECT_EQ(s.DocIndex(0), kNone);

  // Groups: public (4 docs) gets bit 0, internal bit 1.
  ASSERT_EQ(s.group_names().size(), 2u);
  EXPECT_EQ(s.group_names()[0], "public");
  const std::vector<std::string> pub = {"public"};
  const std::vector<std::string> both = {"public", "internal", "unknown"};
  EXPECT_EQ(s.GroupMask(pub), 1u);
  EXPECT_EQ(s.GroupMask(both), 3u);
  EXPECT_TRUE(s.DocVisible(a1, 1u));
  EXPECT_FALSE(s.DocVisible(s.DocIndex(4), 1u));
  EXPECT_EQ(s.dropped_cross_group_edges(), 2u);  // a4-q2 thread edge and a4->q2 reply
  EXPECT_EQ(s.min_timestamp(), kT0);
  EXPECT_EQ(s.max_timestamp(), kT0 + 5 * kDay);
  EXPECT_GT(s.bytes(), 0u);
}

TEST(SnapshotTest, EdgesCarryTheJustifyingGroup) {
  Corpus c = SmallQa();
  ASSERT_OK_AND_ASSIGN(auto snap, BuildSnapshot(c.docs, c.persons));
  const Snapshot& s = *snap;
  const Graph& g = s.graph();
  const uint32_t ivan = s.FindPerson("p:ivan");
  // Every edge at ivan is internal-only.
  ASSERT_GT(g.row_end(ivan), g.row_begin(ivan));
  for (EdgeIndex e = g.row_begin(ivan); e < g.row_end(ivan); ++e) EXPECT_EQ(g.mask(e), 2u);
  // Edges are symmetric: every u->v has a v->u with the same weight and mask.
  for (VertexId u = 0; u < g.num_vertices(); ++u) {
    for (EdgeIndex e = g.row_begin(u); e < g.row_end(u); ++e) {
      const VertexId v = g.target(e);
      bool found = false;
      for (EdgeIndex f = g.row_begin(v); f < g.row_end(v); ++f) {
        found |= g.target(f) == u && g.weight(f) == g.weight(e) && g.mask(f) == g.mask(e);
      }
      EXPECT_TRUE(found) << u << "->" << v;
    }
  }
  // The accepted answer's author edge weighs more.
  const uint32_t alice = s.FindPerson("p:alice");
  const VertexId a1 = s.DocVertex(s.DocIndex(2));
  float w = 0;
  for (EdgeIndex e = g.row_begin(alice); e < g.row_end(alice); ++e) {
    if (g.target(e) == a1) w = g.weight(e);
  }
  EXPECT_FLOAT_EQ(w, SnapshotOptions().w_accepted_author);
  // Contacts: alice replied to dave, bob replied to dave, alice and bob shared q1's thread.
  const Graph& k = s.contacts();
  const uint32_t dave = s.FindPerson("p:dave");
  const uint32_t bob = s.FindPerson("p:bob");
  std::vector<VertexId> alice_contacts;
  for (EdgeIndex e = k.row_begin(alice); e < k.row_end(alice); ++e) alice_contacts.push_back(k.target(e));
  std::vector<VertexId> want = {bob, dave, ivan};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(alice_contacts, want);
  for (EdgeIndex e = k.row_begin(alice); e < k.row_end(alice); ++e) {
    EXPECT_EQ(k.mask(e), k.target(e) == ivan ? 2u : 1u);
  }
}

TEST(SnapshotTest, UnknownAuthorsBecomePeopleAndBadDocidsAreSkipped) {
  Corpus c;
  c.Question("q1", "p:ghost", kT0, {"x"});
  c.Answer("a1", "q1", "", kT0 + 1);  // unknown author
  c.docs.push_back(c.docs[0]);        // repeated docid
  c.docs.back().id = "dup";
  indexer::StoredDoc zero = c.docs[0];
  zero.docid = 0;
  c.docs.push_back(zero);
  ASSERT_OK_AND_ASSIGN(auto snap, BuildSnapshot(c.docs, {}));
  EXPECT_EQ(snap->num_docs(), 2u);
  EXPECT_EQ(snap->duplicate_docids(), 2u);
  ASSERT_NE(snap->FindPerson("p:ghost"), kNone);
  EXPECT_EQ(snap->person(snap->FindPerson("p:ghost")).name, "p:ghost");
  EXPECT_EQ(snap->doc(snap->DocIndex(2)).author, kNone);
}

TEST(SnapshotTest, SparseDocidsUseTheSortedIndex) {
  Corpus c;
  c.Question("q1", "p:a", kT0, {"x"});
  c.Question("q2", "p:b", kT0, {"y"});
  c.docs[1].docid = 4000000000u;
  ASSERT_OK_AND_ASSIGN(auto snap, BuildSnapshot(c.docs, {}));
  EXPECT_EQ(snap->DocIndex(4000000000u), 1u);
  EXPECT_EQ(snap->DocIndex(1), 0u);
  EXPECT_EQ(snap->DocIndex(2), kNone);
}

TEST(SnapshotTest, MoreThan32GroupsFailClosed) {
  Corpus c;
  for (int i = 0; i < 40; ++i) {
    c.Question(absl::StrCat("q", i), "p:a", kT0 + i, {"t"}, absl::StrCat("g", i));
  }
  // g0 has more docs, so it certainly gets a bit.
  c.Question("extra", "p:a", kT0, {"t"}, "g0");
  ASSERT_OK_AND_ASSIGN(auto snap, BuildSnapshot(c.docs, {}));
  EXPECT_EQ(snap->group_names().size(), 32u);
  EXPECT_EQ(snap->docs_without_group(), 8u);
  EXPECT_EQ(snap->group_names()[0], "g0");
  for (uint32_t d = 0; d < snap->num_docs(); ++d) {
    if (snap->doc(d).group == kNoGroup) {
      EXPECT_FALSE(snap->DocVisible(d, kAllGroups));
    }
  }
}

TEST(SnapshotTest, BuildsAMillionEdgesQuickly) {
  // ~100k docs: author, thread, 2 topics, replies -> about 1M directed edges.
  std::mt19937_64 rng(7);
  std::vector<indexer::StoredDoc> docs;
  const int kDocs = 100000;
  docs.reserve(kDocs);
  for (int i = 0; i < kDocs; ++i) {
    indexer::StoredDoc d;
    d.docid = static_cast<uint32_t>(i + 1);
    d.id = absl::StrCat("d", i);
    const bool root = i % 5 == 0;
    const int root_i = i - i % 5;
    d.kind = root ? indexer::RecordKind::kQuestion : indexer::RecordKind::kAnswer;
    d.thread_id = absl::StrCat("d", root_i);
    if (!root) d.reply_to = d.thread_id;
    d.author = absl::StrCat("p", rng() % 20000);
    d.timestamp = kT0 + i * 60;
    d.topics = {absl::StrCat("t", rng() % 500), absl::StrCat("t", rng() % 500)};
    d.visibility = i % 10 == 0 ? "internal" : "public";
    d.community = absl::StrCat("c", i % 4);
    docs.push_back(std::move(d));
  }
  const auto start = std::chrono::steady_clock::now();
  ASSERT_OK_AND_ASSIGN(auto snap, BuildSnapshot(docs, {}));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("built %u vertices, %zu edges (%zu MB CSR) in %.3f s\n", snap->graph().num_vertices(),
              snap->num_edges(), snap->bytes() >> 20, secs);
  EXPECT_GT(snap->num_edges(), 900000u);
#ifdef NDEBUG  // optimised builds only (the asan preset is a Debug build)
  // About 0.5 s on a quiet box, 2.4-2.7 s measured at load ~20 on the shared
  // 2-core box (where 5 s was only a 2x margin): 15 s still catches an
  // order-of-magnitude regression without failing on a loaded CI machine.
  EXPECT_LT(secs, 15.0);
#endif
}

}  // namespace
}  // namespace whoknows::engine
