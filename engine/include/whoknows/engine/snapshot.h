#ifndef WHOKNOWS_ENGINE_SNAPSHOT_H_
#define WHOKNOWS_ENGINE_SNAPSHOT_H_

// An immutable in-memory view of the corpus for ranking: people, documents
// and topics as vertices of one weighted graph (32-bit ids in typed ranges
// [persons | docs | topics]), plus per-person and per-doc tables.
//
// Edges (each stored in both directions, mask = the group bit of the
// document that justifies it):
//   person - doc    authored (accepted answers weigh more)
//   doc - doc       participated-in-thread (a doc and its thread's root)
//   person - person replied-to (weighted by count and recency), one edge per
//                   (pair, group) so a caller's mask sees exactly the weight
//                   its visible documents justify
//   doc - person    mentioned
//   doc - topic     tagged (a doc also carries its thread root's topics)
// An edge between two documents (or a reply edge) whose documents are in
// different groups is dropped: no single mask bit justifies it.
//
// Threads are represented by their root document (the doc whose id is the
// thread id, else the thread's earliest doc).
//
// Thread-safe: immutable after BuildSnapshot; share it as
// std::shared_ptr<const Snapshot>.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "whoknows/engine/graph.h"
#include "whoknows/engine/ppr.h"
#include "whoknows/indexer/index.h"
#include "whoknows/indexer/record.h"

namespace whoknows::engine {

inline constexpr uint8_t kNoGroup = 0xff;
inline constexpr int kMaxGroups = 32;

struct SnapshotOptions {
  float w_authored = 1.0f;
  float w_accepted_author = 2.0f;  // author - accepted answer
  float w_thread = 0.5f;           // doc - thread root
  float w_reply = 1.0f;            // per reply, times recency
  float w_mention = 0.3f;
  float w_tag = 0.5f;
  double reply_half_life_days = 730;  // recency of reply edges, relative to the newest doc
  // Threads with more distinct authors than this add no "shared a thread"
  // contacts (quadratic otherwise); replies still do.
  size_t max_thread_contacts = 50;
  // Topics derived from text (the index's "dtopic:" metadata), any order:
  // when spellings of one topic merge, a source's tag spelling is preferred
  // as the display form over a derived one.
  std::vector<std::string> derived_topics;
  // Keep what ExtendSnapshot needs to add documents to this snapshot without a
  // full rebuild (id tables, reply list, topic spelling counts: ~60 bytes a
  // document). Off for one-off snapshots (CLI commands, tests).
  bool extendable = false;
};

enum class VertexKind { kPerson, kDoc, kTopic };

struct PersonInfo {
  std::string id;
  std::string name;
  bool opted_out = false;
  uint32_t doc_count = 0;   // authored documents
  uint32_t answers = 0;     // authored answers
  uint32_t accepted = 0;    // authored accepted answers
  uint32_t questions = 0;
  int64_t first_active = 0;  // 0 when no document
  int64_t last_active = 0;
  std::vector<std::pair<uint32_t, uint32_t>> topics;  // (topic index, docs), most first
};

struct DocInfo {
  uint32_t docid = 0;
  uint32_t author = kNone;  // person index
  uint32_t thread = 0;      // thread index
  uint32_t parent = kNone;  // doc index of reply_to, when present
  int64_t timestamp = 0;
  indexer::RecordKind kind = indexer::RecordKind::kPost;
  bool accepted = false;
  uint8_t group = kNoGroup;  // visibility bit index; kNoGroup = visible to nobody
  uint32_t community = kNone;
  int32_t score = 0;
};

struct ExtendState;  // snapshot_extend.cc
struct DocReply;     // snapshot_internal.h

class Snapshot {
 public:
  // --- sizes and vertex ranges
  uint32_t num_persons() const { return static_cast<uint32_t>(persons_.size()); }
  uint32_t num_docs() const { return static_cast<uint32_t>(docs_.size()); }
  uint32_t num_topics() const { return static_cast<uint32_t>(topic_names_.size()); }
  uint32_t num_threads() const { return static_cast<uint32_t>(thread_offsets_.size() - 1); }
  VertexId PersonVertex(uint32_t p) const { return p; }
  VertexId DocVertex(uint32_t d) const { return num_persons() + d; }
  VertexId TopicVertex(uint32_t t) const { return num_persons() + num_docs() + t; }
  VertexKind KindOf(VertexId v) const;
  uint32_t IndexOf(VertexId v) const;  // index within its kind's range

  const Graph& graph() const { return graph_; }
  // Per vertex: a doc's timestamp, kTimeless for people and topics (for
  // PprOptions::vertex_time).
  const int64_t* vertex_time() const { return vertex_time_.data(); }
  // Person - person contacts (replied to / replied by / shared a thread):
  // vertex = person index, rows sorted by target, one edge per pair with
  // weight = number of justifying interactions and mask = OR of their groups.
  const Graph& contacts() const { return contacts_; }
  size_t num_edges() const { return graph_.num_edges(); }
  // Memory of the CSR arrays (both graphs).
  size_t bytes() const { return graph_.bytes() + contacts_.bytes(); }

  // --- tables
  const PersonInfo& person(uint32_t p) const { return persons_[p]; }
  const DocInfo& doc(uint32_t d) const { return docs_[d]; }
  // Topics are one per key (indexer::TopicKey): every spelling of a topic in
  // the index ("neural-networks" tag, "neural-network" derived, "Neural
  // Networks") is one topic vertex. topic_name is its display form: the most
  // used spelling, a source's tag spelling before a derived one.
  const std::string& topic_name(uint32_t t) const { return topic_names_[t]; }
  const std::string& topic_key(uint32_t t) const { return topic_keys_[t]; }
  // The spellings of topic t as stored in the index (T terms), sorted: what a
  // search filter on t must match.
  std::span<const std::string> TopicSpellings(uint32_t t) const {
    return std::span<const std::string>(topic_spellings_.data() + topic_spelling_offsets_[t],
                                        topic_spelling_offsets_[t + 1] - topic_spelling_offsets_[t]);
  }
  uint32_t topic_doc_count(uint32_t t) const { return topic_doc_counts_[t]; }
  const std::string& community_name(uint32_t c) const { return community_names_[c]; }
  uint32_t num_communities() const { return static_cast<uint32_t>(community_names_.size()); }
  // Topics of doc d (own plus its thread root's), sorted.
  std::span<const uint32_t> DocTopics(uint32_t d) const { return Row(doc_topic_offsets_, doc_topics_, d); }
  std::span<const uint32_t> DocMentions(uint32_t d) const { return Row(doc_mention_offsets_, doc_mentions_, d); }
  // Docs of a thread, oldest first.
  std::span<const uint32_t> ThreadDocs(uint32_t t) const { return Row(thread_offsets_, thread_docs_, t); }
  uint32_t ThreadRoot(uint32_t t) const { return thread_roots_[t]; }
  // Docs authored by person p, oldest first.
  std::span<const uint32_t> PersonDocs(uint32_t p) const { return Row(person_doc_offsets_, person_docs_, p); }

  // --- lookups (kNone when absent)
  uint32_t FindPerson(std::string_view id) const;
  // Any spelling of a topic (display form, a stored spelling, or what a user
  // types: case, '-'/'_'/' ', plural and other stemmed forms do not matter).
  uint32_t FindTopic(std::string_view name) const;
  uint32_t FindCommunity(std::string_view name) const;
  uint32_t DocIndex(uint32_t docid) const;

  // --- visibility
  // Bits of the named groups; unknown names add nothing. Empty -> 0.
  GroupBits GroupMask(std::span<const std::string> groups) const;
  const std::vector<std::string>& group_names() const { return group_names_; }  // index = bit
  bool DocVisible(uint32_t d, GroupBits caller) const {
    return docs_[d].group != kNoGroup && ((caller >> docs_[d].group) & 1u);
  }
  // Docs whose visibility group did not fit in 32 bits (visible to nobody).
  uint64_t docs_without_group() const { return docs_without_group_; }

  int64_t min_timestamp() const { return min_ts_; }
  int64_t max_timestamp() const { return max_ts_; }  // the newest doc
  // The newest doc of community c (max_timestamp() for kNone or an unknown c).
  int64_t community_max_timestamp(uint32_t c) const {
    return c < community_max_ts_.size() ? community_max_ts_[c] : max_ts_;
  }

  // Build statistics.
  uint64_t duplicate_docids() const { return duplicate_docids_; }
  uint64_t dropped_cross_group_edges() const { return dropped_cross_group_; }

 private:
  friend absl::StatusOr<std::shared_ptr<const Snapshot>> BuildSnapshot(
      std::span<const std::span<const indexer::StoredDoc>>, std::span<const indexer::Person>, const SnapshotOptions&);
  friend absl::StatusOr<std::shared_ptr<const Snapshot>> ExtendSnapshot(const Snapshot&,
                                                                        std::span<const indexer::StoredDoc>,
                                                                        std::span<const indexer::Person>,
                                                                        const SnapshotOptions&);
  // Appends doc d's main-graph edges as both builds emit them (author, thread
  // root, mentions, topics; doc x is vertex doc_base + x, topic t is
  // topic_base + t) and, when d replies to another author in its group, that
  // reply to *replies; counts cross-group links dropped.
  void AppendDocEdges(uint32_t d, const SnapshotOptions& options, uint32_t doc_base, uint32_t topic_base,
                      std::vector<WeightedEdge>* edges, std::vector<DocReply>* replies);
  // Recomputes persons_[p]'s counts, activity span and topic list from its
  // documents (both builds). tcount is all zeros of size num_topics(), and is
  // left so; tlist is scratch.
  void ComputePersonStats(uint32_t p, std::vector<uint32_t>& tcount, std::vector<uint32_t>& tlist);
  static std::span<const uint32_t> Row(const std::vector<uint32_t>& off, const std::vector<uint32_t>& data, uint32_t i) {
    return std::span<const uint32_t>(data.data() + off[i], off[i + 1] - off[i]);
  }

  Graph graph_;
  Graph contacts_;
  std::vector<int64_t> vertex_time_;
  std::vector<PersonInfo> persons_;
  std::vector<uint32_t> person_order_;  // person indices sorted by id
  std::vector<DocInfo> docs_;
  std::vector<std::string> topic_names_;  // sorted; index = topic
  std::vector<uint32_t> topic_doc_counts_;
  std::vector<std::string> topic_keys_;  // index = topic
  std::vector<uint32_t> topic_by_key_;   // topics sorted by key
  std::vector<uint32_t> topic_spelling_offsets_{0};
  std::vector<std::string> topic_spellings_;
  std::vector<std::string> community_names_;  // sorted
  std::vector<std::string> group_names_;
  std::vector<uint32_t> doc_topic_offsets_{0}, doc_topics_;
  std::vector<uint32_t> doc_mention_offsets_{0}, doc_mentions_;
  std::vector<uint32_t> thread_offsets_{0}, thread_docs_, thread_roots_;
  std::vector<uint32_t> person_doc_offsets_{0}, person_docs_;
  std::vector<uint32_t> docid_dense_;                       // docid -> doc index, when dense
  std::vector<std::pair<uint32_t, uint32_t>> docid_sparse_;  // sorted (docid, doc), otherwise
  int64_t min_ts_ = 0, max_ts_ = 0;
  std::vector<int64_t> community_max_ts_;  // by community index
  uint64_t docs_without_group_ = 0;
  uint64_t duplicate_docids_ = 0;
  uint64_t dropped_cross_group_ = 0;
  // Build-time tables for ExtendSnapshot (SnapshotOptions::extendable); not
  // read by queries. Handed on to the extended snapshot (a snapshot is
  // extended at most once), hence mutable.
  mutable std::shared_ptr<ExtendState> extend_;
};

// Builds a snapshot. Document authors and mentions that are missing from
// `persons` become people named by their id. Documents with a repeated docid
// are skipped (counted). O((V + E) log E); about 1M edges in well under a second.
// Returns InvalidArgument for a docid of 0 and ResourceExhausted past 32-bit ids.
absl::StatusOr<std::shared_ptr<const Snapshot>> BuildSnapshot(std::span<const indexer::StoredDoc> docs,
                                                              std::span<const indexer::Person> persons,
                                                              const SnapshotOptions& options = {});
// The same over documents held in several parts, read as one sequence in
// order (a server keeps each ingest's new documents as a part of its own
// instead of copying every document per ingest).
absl::StatusOr<std::shared_ptr<const Snapshot>> BuildSnapshot(std::span<const std::span<const indexer::StoredDoc>> parts,
                                                              std::span<const indexer::Person> persons,
                                                              const SnapshotOptions& options = {});

// The snapshot BuildSnapshot would return for the base's documents followed by
// `docs` (documents added after the base's, in order) and the person table
// `persons` (all of it, as ListPersons returns it: sorted by id), without
// rebuilding: the base's tables and CSR rows are copied with their vertex ids
// shifted and the new documents' rows spliced in (linear in the snapshot's
// size, no sorting or hashing of the whole corpus). The result equals a full
// build field for field (tests/engine/snapshot_extend_test.cc).
// FailedPrecondition (naming the reason) when only a full rebuild is exact:
// the base was not built extendable or was extended already; a document
// changes a base thread's root or resolves a base document's reply_to; the
// order of visibility groups or the display name of a base topic changes; a
// person leaves the table or a document-only person joins it; a thread passes
// max_thread_contacts; the docid table switches between dense and sparse.
// Callers then call BuildSnapshot. Moves the build-time tables from `base`
// into the result (on success only).
absl::StatusOr<std::shared_ptr<const Snapshot>> ExtendSnapshot(const Snapshot& base,
                                                               std::span<const indexer::StoredDoc> docs,
                                                               std::span<const indexer::Person> persons,
                                                               const SnapshotOptions& options = {});

// 2^(-age / half_life) for age = now - t (ages below zero count as 0).
double Decay(int64_t t, int64_t now, double half_life_days);

}  // namespace whoknows::engine

#endif  // WHOKNOWS_ENGINE_SNAPSHOT_H_
