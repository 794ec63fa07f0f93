#include "whoknows/engine/snapshot.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string_view>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_format.h"
#include "snapshot_internal.h"
#include "whoknows/indexer/topics.h"

namespace whoknows::engine {
namespace {

using indexer::RecordKind;

// Fills a CSR (offsets, data) from (row, value) pairs already grouped per row.
void FillRows(uint32_t rows, std::vector<std::pair<uint32_t, uint32_t>>& pairs, std::vector<uint32_t>* offsets,
              std::vector<uint32_t>* data) {
  offsets->assign(rows + 1, 0);
  for (const auto& [r, v] : pairs) ++(*offsets)[r + 1];
  for (uint32_t r = 0; r < rows; ++r) (*offsets)[r + 1] += (*offsets)[r];
  data->resize(pairs.size());
  std::vector<uint32_t> pos(offsets->begin(), offsets->end() - 1);
  for (const auto& [r, v] : pairs) (*data)[pos[r]++] = v;
}

}  // namespace

void MergeTopicSpellings(std::vector<TopicSpelling>& v, std::vector<std::string>* names,
                         std::vector<std::string>* keys, std::vector<uint32_t>* offsets,
                         std::vector<std::string>* stored, std::vector<uint32_t>* remap) {
  // By key, the display spelling first.
  std::sort(v.begin(), v.end(), [](const TopicSpelling& a, const TopicSpelling& b) {
    return std::tie(a.key, b.tag, b.uses, a.name) < std::tie(b.key, a.tag, a.uses, b.name);
  });
  std::vector<std::pair<std::string_view, size_t>> groups;  // (display, first index in v)
  for (size_t i = 0; i < v.size(); ++i) {
    if (i == 0 || v[i].key != v[i - 1].key) groups.emplace_back(v[i].name, i);
  }
  std::sort(groups.begin(), groups.end());
  remap->assign(v.size(), 0);
  names->clear();
  keys->clear();
  offsets->assign(1, 0);
  stored->clear();
  for (size_t g = 0; g < groups.size(); ++g) {
    const size_t first = groups[g].second;
    names->emplace_back(groups[g].first);
    keys->push_back(v[first].key);
    const size_t begin = stored->size();
    for (size_t i = first; i < v.size() && v[i].key == v[first].key; ++i) {
      (*remap)[v[i].id] = static_cast<uint32_t>(g);
      stored->emplace_back(v[i].name);
    }
    std::sort(stored->begin() + static_cast<std::ptrdiff_t>(begin), stored->end());
    offsets->push_back(static_cast<uint32_t>(stored->size()));
  }
}

double Decay(int64_t t, int64_t now, double half_life_days) {
  if (!(half_life_days > 0)) return 1.0;
  const double age = static_cast<double>(std::max<int64_t>(0, now - t));
  return std::exp2(-age / (half_life_days * 86400.0));
}

VertexKind Snapshot::KindOf(VertexId v) const {
  if (v < num_persons()) return VertexKind::kPerson;
  if (v < num_persons() + num_docs()) return VertexKind::kDoc;
  return VertexKind::kTopic;
}

uint32_t Snapshot::IndexOf(VertexId v) const {
  if (v < num_persons()) return v;
  if (v < num_persons() + num_docs()) return v - num_persons();
  return v - num_persons() - num_docs();
}

uint32_t Snapshot::FindPerson(std::string_view id) const {
  auto it = std::lower_bound(person_order_.begin(), person_order_.end(), id,
                             [&](uint32_t p, std::string_view key) { return persons_[p].id < key; });
  return it != person_order_.end() && persons_[*it].id == id ? *it : kNone;
}

uint32_t Snapshot::FindTopic(std::string_view name) const {
  auto it = std::lower_bound(topic_names_.begin(), topic_names_.end(), name);
  if (it != topic_names_.end() && *it == name) return static_cast<uint32_t>(it - topic_names_.begin());
  std::string key = indexer::TopicKey(name);
  if (key.empty()) key = std::string(name);
  auto k = std::lower_bound(topic_by_key_.begin(), topic_by_key_.end(), key,
                            [&](uint32_t t, const std::string& x) { return topic_keys_[t] < x; });
  return k != topic_by_key_.end() && topic_keys_[*k] == key ? *k : kNone;
}

uint32_t Snapshot::FindCommunity(std::string_view name) const {
  auto it = std::lower_bound(community_names_.begin(), community_names_.end(), name);
  return it != community_names_.end() && *it == name ? static_cast<uint32_t>(it - community_names_.begin()) : kNone;
}

uint32_t Snapshot::DocIndex(uint32_t docid) const {
  if (!docid_dense_.empty() || docid_sparse_.empty()) {
    return docid < docid_dense_.size() ? docid_dense_[docid] : kNone;
  }
  auto it = std::lower_bound(docid_sparse_.begin(), docid_sparse_.end(), std::make_pair(docid, 0u));
  return it != docid_sparse_.end() && it->first == docid ? it->second : kNone;
}

GroupBits Snapshot::GroupMask(std::span<const std::string> groups) const {
  GroupBits bits = 0;
  for (const std::string& g : groups) {
    for (size_t i = 0; i < group_names_.size(); ++i) {
      if (group_names_[i] == g) bits |= 1u << i;
    }
  }
  return bits;
}

void Snapshot::AppendDocEdges(uint32_t d, const SnapshotOptions& options, uint32_t doc_base, uint32_t topic_base,
                              std::vector<WeightedEdge>* edges, std::vector<DocReply>* replies) {
  const DocInfo& di = docs_[d];
  if (di.group == kNoGroup) return;
  const GroupBits bit = 1u << di.group;
  const uint32_t dv = doc_base + d;
  if (di.author != kNone) {
    const bool acc = di.accepted && di.kind == RecordKind::kAnswer;
    edges->push_back({di.author, dv, acc ? options.w_accepted_author : options.w_authored, bit});
  }
  const uint32_t r = thread_roots_[di.thread];
  if (r != d) {
    if (docs_[r].group == di.group) {
      edges->push_back({dv, doc_base + r, options.w_thread, bit});
    } else {
      ++dropped_cross_group_;
    }
  }
  for (uint32_t m : DocMentions(d)) edges->push_back({dv, m, options.w_mention, bit});
  for (uint32_t t : DocTopics(d)) edges->push_back({dv, topic_base + t, options.w_tag, bit});
  if (di.parent != kNone && di.author != kNone) {
    const DocInfo& pi = docs_[di.parent];
    if (pi.author != kNone && pi.author != di.author) {
      if (pi.group == di.group) {
        replies->push_back({std::min(di.author, pi.author), std::max(di.author, pi.author), d, di.group});
      } else {
        ++dropped_cross_group_;
      }
    }
  }
}

void Snapshot::ComputePersonStats(uint32_t p, std::vector<uint32_t>& tcount, std::vector<uint32_t>& tlist) {
  PersonInfo& info = persons_[p];
  info.answers = info.accepted = info.questions = 0;
  info.first_active = info.last_active = 0;
  info.topics.clear();
  const auto docs = PersonDocs(p);
  info.doc_count = static_cast<uint32_t>(docs.size());
  if (!docs.empty()) {
    info.first_active = docs_[docs.front()].timestamp;
    info.last_active = docs_[docs.back()].timestamp;
  }
  tlist.clear();
  for (uint32_t d : docs) {
    const DocInfo& di = docs_[d];
    if (di.kind == RecordKind::kAnswer) {
      ++info.answers;
      info.accepted += di.accepted;
    }
    info.questions += di.kind == RecordKind::kQuestion;
    for (uint32_t t : DocTopics(d)) {
      if (tcount[t]++ == 0) tlist.push_back(t);
    }
  }
  for (uint32_t t : tlist) {
    info.topics.emplace_back(t, tcount[t]);
    tcount[t] = 0;
  }
  std::sort(info.topics.begin(), info.topics.end(), [](const auto& a, const auto& b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  });
}

absl::StatusOr<std::shared_ptr<const Snapshot>> BuildSnapshot(std::span<const indexer::StoredDoc> docs,
                                                              std::span<const indexer::Person> persons,
                                                              const SnapshotOptions& options) {
  const std::span<const indexer::StoredDoc> parts[] = {docs};
  return BuildSnapshot(std::span<const std::span<const indexer::StoredDoc>>(parts), persons, options);
}

absl::StatusOr<std::shared_ptr<const Snapshot>> BuildSnapshot(std::span<const std::span<const indexer::StoredDoc>> parts,
                                                              std::span<const indexer::Person> in_persons,
                                                              const SnapshotOptions& options) {
  // One array of pointers (8 bytes a document) instead of a copy of the parts.
  std::vector<const indexer::StoredDoc*> in_docs;
  {
    size_t n = 0;
    for (const auto& part : parts) n += part.size();
    if (n >= kNone) return absl::ResourceExhaustedError("snapshot: too many documents");
    in_docs.reserve(n);
    for (const auto& part : parts) {
      for (const indexer::StoredDoc& d : part) in_docs.push_back(&d);
    }
  }
  auto snap = std::make_shared<Snapshot>();
  Snapshot& s = *snap;
  ExtendState* ext = nullptr;
  if (options.extendable) {
    s.extend_ = std::make_shared<ExtendState>();
    ext = s.extend_.get();
    ext->input_docs = in_docs.size();
  }

  // --- people
  absl::flat_hash_map<std::string, uint32_t> person_by_id;
  auto ensure_person = [&](const std::string& id, const std::string& name) -> uint32_t {
    auto [it, inserted] = person_by_id.try_emplace(id, static_cast<uint32_t>(s.persons_.size()));
    if (inserted) {
      PersonInfo info;
      info.id = id;
      info.name = name.empty() ? id : name;
      s.persons_.push_back(std::move(info));
    }
    return it->second;
  };
  for (const indexer::Person& p : in_persons) {
    if (p.id.empty() || person_by_id.contains(p.id)) continue;
    const uint32_t idx = ensure_person(p.id, p.name);
    s.persons_[idx].opted_out = p.opted_out;
  }
  if (ext != nullptr) ext->listed_persons = static_cast<uint32_t>(s.persons_.size());

  // --- documents: drop docid 0 and repeats
  uint32_t max_docid = 0;
  for (const indexer::StoredDoc* d : in_docs) max_docid = std::max(max_docid, d->docid);
  const bool dense = static_cast<uint64_t>(max_docid) <= 8ull * in_docs.size() + 1024;
  if (ext != nullptr) ext->dense = dense;
  std::vector<uint32_t> src;  // doc index -> input index
  src.reserve(in_docs.size());
  if (dense) {
    s.docid_dense_.assign(static_cast<size_t>(max_docid) + 1, kNone);
    for (uint32_t i = 0; i < in_docs.size(); ++i) {
      const uint32_t id = in_docs[i]->docid;
      if (id == 0 || s.docid_dense_[id] != kNone) {
        ++s.duplicate_docids_;
        continue;
      }
      s.docid_dense_[id] = static_cast<uint32_t>(src.size());
      src.push_back(i);
    }
  } else {
    std::vector<std::pair<uint32_t, uint32_t>> order;
    for (uint32_t i = 0; i < in_docs.size(); ++i) order.emplace_back(in_docs[i]->docid, i);
    std::sort(order.begin(), order.end());
    std::vector<bool> keep(in_docs.size(), false);
    for (size_t j = 0; j < order.size(); ++j) {
      if (order[j].first == 0 || (j > 0 && order[j].first == order[j - 1].first)) {
        ++s.duplicate_docids_;
      } else {
        keep[order[j].second] = true;
      }
    }
    for (uint32_t i = 0; i < in_docs.size(); ++i) {
      if (keep[i]) {
        s.docid_sparse_.emplace_back(in_docs[i]->docid, static_cast<uint32_t>(src.size()));
        src.push_back(i);
      }
    }
    std::sort(s.docid_sparse_.begin(), s.docid_sparse_.end());
  }
  const uint32_t D = static_cast<uint32_t>(src.size());

  // --- visibility groups: the 32 most used get bits
  {
    absl::flat_hash_map<std::string_view, uint64_t> counts;
    for (uint32_t i : src) ++counts[in_docs[i]->visibility];
    if (ext != nullptr) {
      for (const auto& [name, n] : counts) ext->group_counts[std::string(name)] = n;
    }
    std::vector<std::pair<std::string_view, uint64_t>> v(counts.begin(), counts.end());
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
      return a.second > b.second || (a.second == b.second && a.first < b.first);
    });
    for (size_t i = 0; i < v.size() && i < kMaxGroups; ++i) s.group_names_.emplace_back(v[i].first);
  }
  const GroupIndex group_of = MakeGroupIndex(s.group_names_);

  // --- communities and topics: ids in sorted name order
  std::vector<uint32_t> doc_community(D, kNone);
  std::vector<std::pair<uint32_t, uint32_t>> topic_pairs;  // (doc, topic)
  {
    auto intern = [](absl::flat_hash_map<std::string_view, uint32_t>& map, std::string_view name) {
      return map.try_emplace(name, static_cast<uint32_t>(map.size())).first->second;
    };
    auto sorted_names = [](const absl::flat_hash_map<std::string_view, uint32_t>& map,
                           std::vector<std::string>* names, std::vector<uint32_t>* remap) {
      std::vector<std::pair<std::string_view, uint32_t>> v(map.begin(), map.end());
      std::sort(v.begin(), v.end());
      remap->assign(v.size(), 0);
      names->reserve(v.size());
      for (size_t i = 0; i < v.size(); ++i) {
        names->emplace_back(v[i].first);
        (*remap)[v[i].second] = static_cast<uint32_t>(i);
      }
    };
    absl::flat_hash_map<std::string_view, uint32_t> communities, topics;
    for (uint32_t d = 0; d < D; ++d) {
      const indexer::StoredDoc& in = *in_docs[src[d]];
      if (!in.community.empty()) doc_community[d] = intern(communities, in.community);
      for (const auto& topic : in.topics) {
        if (!topic.empty()) topic_pairs.emplace_back(d, intern(topics, topic));
      }
    }
    std::vector<uint32_t> remap;
    sorted_names(communities, &s.community_names_, &remap);
    for (uint32_t& c : doc_community) {
      if (c != kNone) c = remap[c];
    }
    {
      std::vector<uint32_t> uses(topics.size(), 0);
      for (const auto& [d, t] : topic_pairs) ++uses[t];
      absl::flat_hash_set<std::string_view> derived(options.derived_topics.begin(), options.derived_topics.end());
      std::vector<TopicSpelling> v;
      v.reserve(topics.size());
      for (const auto& [name, id] : topics) {
        std::string key = indexer::TopicKey(name);
        if (key.empty()) key = std::string(name);
        if (ext != nullptr) ext->spellings[std::string(name)] = {uses[id], key};
        v.push_back({std::move(key), name, id, !derived.contains(name), uses[id]});
      }
      MergeTopicSpellings(v, &s.topic_names_, &s.topic_keys_, &s.topic_spelling_offsets_, &s.topic_spellings_,
                          &remap);
    }
    for (auto& [d, t] : topic_pairs) t = remap[t];
    s.topic_by_key_.resize(s.topic_keys_.size());
    std::iota(s.topic_by_key_.begin(), s.topic_by_key_.end(), 0u);
    std::sort(s.topic_by_key_.begin(), s.topic_by_key_.end(),
              [&](uint32_t a, uint32_t b) { return s.topic_keys_[a] < s.topic_keys_[b]; });
  }
  const uint32_t T = static_cast<uint32_t>(s.topic_names_.size());

  // --- doc table, threads
  absl::flat_hash_map<std::string_view, uint32_t> doc_by_id;
  absl::flat_hash_map<std::string_view, uint32_t> thread_by_key;
  doc_by_id.reserve(D);
  for (uint32_t d = 0; d < D; ++d) doc_by_id.try_emplace(in_docs[src[d]]->id, d);
  s.docs_.resize(D);
  std::vector<std::pair<uint32_t, uint32_t>> thread_pairs, mention_pairs, person_doc_pairs;
  std::vector<std::string_view> thread_keys;
  for (uint32_t d = 0; d < D; ++d) {
    const indexer::StoredDoc& in = *in_docs[src[d]];
    DocInfo& info = s.docs_[d];
    if (!FillDocBasics(in, group_of, &info)) ++s.docs_without_group_;
    info.community = doc_community[d];
    if (!in.author.empty()) info.author = ensure_person(in.author, in.author);
    if (!in.reply_to.empty()) {
      auto it = doc_by_id.find(in.reply_to);
      if (it != doc_by_id.end() && it->second != d) info.parent = it->second;
      if (it == doc_by_id.end() && ext != nullptr) ext->unresolved_reply_to.emplace(in.reply_to);
    }
    const std::string_view key = in.thread_id.empty() ? std::string_view(in.id) : std::string_view(in.thread_id);
    auto [it, inserted] = thread_by_key.try_emplace(key, static_cast<uint32_t>(thread_keys.size()));
    if (inserted) thread_keys.push_back(key);
    info.thread = it->second;
    for (const std::string& m : in.mentions) {
      if (m.empty() || m == in.author) continue;
      mention_pairs.emplace_back(d, ensure_person(m, m));
    }
    if (info.author != kNone) person_doc_pairs.emplace_back(info.author, d);
    if (D == 1 || d == 0) {
      s.min_ts_ = s.max_ts_ = in.timestamp;
    } else {
      s.min_ts_ = std::min(s.min_ts_, in.timestamp);
      s.max_ts_ = std::max(s.max_ts_, in.timestamp);
    }
  }
  // The newest document per community: the reference time for decay, so an
  // archive that ended years ago is not all "stale" next to a live list.
  s.community_max_ts_.assign(s.community_names_.size(), INT64_MIN);
  for (const DocInfo& info : s.docs_) {
    if (info.community != kNone) {
      s.community_max_ts_[info.community] = std::max(s.community_max_ts_[info.community], info.timestamp);
    }
  }
  const uint32_t P = static_cast<uint32_t>(s.persons_.size());
  const uint32_t TH = static_cast<uint32_t>(thread_keys.size());
  if (static_cast<uint64_t>(P) + D + T >= kNone) return absl::ResourceExhaustedError("snapshot: too many vertices");

  auto by_time = [&](const std::pair<uint32_t, uint32_t>& a, const std::pair<uint32_t, uint32_t>& b) {
    return std::tie(a.first, s.docs_[a.second].timestamp, a.second) <
           std::tie(b.first, s.docs_[b.second].timestamp, b.second);
  };
  thread_pairs.reserve(D);
  for (uint32_t d = 0; d < D; ++d) thread_pairs.emplace_back(s.docs_[d].thread, d);
  std::sort(thread_pairs.begin(), thread_pairs.end(), by_time);
  FillRows(TH, thread_pairs, &s.thread_offsets_, &s.thread_docs_);
  s.thread_roots_.resize(TH);
  for (uint32_t t = 0; t < TH; ++t) {
    auto it = doc_by_id.find(thread_keys[t]);
    s.thread_roots_[t] =
        it != doc_by_id.end() && s.docs_[it->second].thread == t ? it->second : s.thread_docs_[s.thread_offsets_[t]];
  }
  std::sort(person_doc_pairs.begin(), person_doc_pairs.end(), by_time);
  FillRows(P, person_doc_pairs, &s.person_doc_offsets_, &s.person_docs_);
  std::sort(mention_pairs.begin(), mention_pairs.end());
  mention_pairs.erase(std::unique(mention_pairs.begin(), mention_pairs.end()), mention_pairs.end());
  FillRows(D, mention_pairs, &s.doc_mention_offsets_, &s.doc_mentions_);

  // Topics: own, plus the thread root's when in the same group.
  {
    std::sort(topic_pairs.begin(), topic_pairs.end());
    std::vector<uint32_t> off, data;
    FillRows(D, topic_pairs, &off, &data);
    for (uint32_t d = 0; d < D; ++d) {
      const uint32_t r = s.thread_roots_[s.docs_[d].thread];
      if (r == d || s.docs_[r].group != s.docs_[d].group) continue;
      for (uint32_t i = off[r]; i < off[r + 1]; ++i) topic_pairs.emplace_back(d, data[i]);
    }
    std::sort(topic_pairs.begin(), topic_pairs.end());
    topic_pairs.erase(std::unique(topic_pairs.begin(), topic_pairs.end()), topic_pairs.end());
    FillRows(D, topic_pairs, &s.doc_topic_offsets_, &s.doc_topics_);
  }
  s.topic_doc_counts_.assign(T, 0);
  for (uint32_t t : s.doc_topics_) ++s.topic_doc_counts_[t];

  // --- person stats
  {
    std::vector<uint32_t> tcount(T, 0);
    std::vector<uint32_t> tlist;
    for (uint32_t p = 0; p < P; ++p) {
      s.ComputePersonStats(p, tcount, tlist);
    }
  }
  s.person_order_.resize(P);
  std::iota(s.person_order_.begin(), s.person_order_.end(), 0u);
  std::sort(s.person_order_.begin(), s.person_order_.end(),
            [&](uint32_t a, uint32_t b) { return s.persons_[a].id < s.persons_[b].id; });

  s.vertex_time_.assign(static_cast<size_t>(P) + D + T, kTimeless);
  for (uint32_t d = 0; d < D; ++d) s.vertex_time_[P + d] = s.docs_[d].timestamp;

  // --- main graph edges
  std::vector<WeightedEdge> edges;
  edges.reserve(static_cast<size_t>(D) * 3 + s.doc_topics_.size() + s.doc_mentions_.size());
  struct PairEdge {
    uint32_t u, v;
    uint8_t g;
    float w;
    uint32_t d;  // the replying doc (replies only)
  };
  std::vector<PairEdge> replies, contact_pairs;
  std::vector<DocReply> doc_replies;
  for (uint32_t d = 0; d < D; ++d) s.AppendDocEdges(d, options, P, P + D, &edges, &doc_replies);
  replies.reserve(doc_replies.size());
  for (const DocReply& r : doc_replies) {
    const float w =
        options.w_reply * static_cast<float>(Decay(s.docs_[r.d].timestamp, s.max_ts_, options.reply_half_life_days));
    replies.push_back({r.u, r.v, r.g, w, r.d});
  }
  doc_replies.clear();
  doc_replies.shrink_to_fit();
  auto by_pair = [](const PairEdge& a, const PairEdge& b) { return std::tie(a.u, a.v, a.g) < std::tie(b.u, b.v, b.g); };
  // Summed in doc order, so that adding documents (ExtendSnapshot) sums the same way.
  std::sort(replies.begin(), replies.end(),
            [](const PairEdge& a, const PairEdge& b) { return std::tie(a.u, a.v, a.g, a.d) < std::tie(b.u, b.v, b.g, b.d); });
  if (ext != nullptr) {
    ext->replies.reserve(replies.size());
    for (const PairEdge& r : replies) ext->replies.push_back({r.u, r.v, r.d, r.g});
  }
  for (size_t i = 0; i < replies.size();) {
    size_t j = i;
    float w = 0;
    for (; j < replies.size() && replies[j].u == replies[i].u && replies[j].v == replies[i].v &&
           replies[j].g == replies[i].g;
         ++j) {
      w += replies[j].w;
      contact_pairs.push_back(replies[j]);
    }
    edges.push_back({replies[i].u, replies[i].v, w, 1u << replies[i].g});
    i = j;
  }
  {
    absl::StatusOr<Graph> g = Graph::FromUndirectedEdges(P + D + T, edges);
    if (!g.ok()) return g.status();
    s.graph_ = *std::move(g);
  }
  edges.clear();
  edges.shrink_to_fit();

  // --- contacts: replies plus shared threads (per group)
  {
    std::vector<std::pair<uint8_t, uint32_t>> members;
    for (uint32_t t = 0; t < TH; ++t) {
      members.clear();
      for (uint32_t d : s.ThreadDocs(t)) {
        const DocInfo& di = s.docs_[d];
        if (di.group != kNoGroup && di.author != kNone) members.emplace_back(di.group, di.author);
      }
      if (members.size() < 2) continue;
      std::sort(members.begin(), members.end());
      members.erase(std::unique(members.begin(), members.end()), members.end());
      for (size_t i = 0; i < members.size();) {
        size_t j = i;
        while (j < members.size() && members[j].first == members[i].first) ++j;
        if (j - i <= options.max_thread_contacts) {
          for (size_t a = i; a < j; ++a) {
            for (size_t b = a + 1; b < j; ++b) {
              contact_pairs.push_back({members[a].second, members[b].second, members[a].first, 1.0f, 0});
            }
          }
        }
        i = j;
      }
    }
    std::sort(contact_pairs.begin(), contact_pairs.end(), by_pair);
    std::vector<WeightedEdge> cedges;
    for (size_t i = 0; i < contact_pairs.size();) {
      size_t j = i;
      GroupBits mask = 0;
      float n = 0;
      for (; j < contact_pairs.size() && contact_pairs[j].u == contact_pairs[i].u &&
             contact_pairs[j].v == contact_pairs[i].v;
           ++j) {
        mask |= 1u << contact_pairs[j].g;
        n += 1;
      }
      cedges.push_back({contact_pairs[i].u, contact_pairs[i].v, n, mask});
      cedges.push_back({contact_pairs[i].v, contact_pairs[i].u, n, mask});
      i = j;
    }
    std::sort(cedges.begin(), cedges.end(),
              [](const WeightedEdge& a, const WeightedEdge& b) { return std::tie(a.from, a.to) < std::tie(b.from, b.to); });
    absl::StatusOr<Graph> g = Graph::FromEdges(P, cedges);
    if (!g.ok()) return g.status();
    s.contacts_ = *std::move(g);
  }
  if (ext != nullptr) {
    ext->doc_by_id.reserve(doc_by_id.size());
    for (const auto& [id, d] : doc_by_id) ext->doc_by_id.emplace(std::string(id), d);
    ext->thread_by_key.reserve(thread_by_key.size());
    for (const auto& [key, t] : thread_by_key) ext->thread_by_key.emplace(std::string(key), t);
  }
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

GroupIndex MakeGroupIndex(const std::vector<std::string>& group_names) {
  GroupIndex group_of;
  for (size_t i = 0; i < group_names.size(); ++i) group_of[group_names[i]] = static_cast<uint8_t>(i);
  return group_of;
}

bool FillDocBasics(const indexer::StoredDoc& in, const GroupIndex& group_of, DocInfo* info) {
  info->docid = in.docid;
  info->timestamp = in.timestamp;
  info->kind = in.kind;
  info->accepted = in.accepted;
  info->score = in.score;
  auto it = group_of.find(in.visibility);
  if (it == group_of.end()) return false;
  info->group = it->second;
  return true;
}

}  // namespace whoknows::engine
