// ExtendSnapshot: the snapshot BuildSnapshot would return for the base's
// documents plus a few appended ones, built by copying the base's tables and
// CSR rows (vertex ids shifted) and splicing the new documents' entries in.
//
// Why the splice reproduces a full build exactly: BuildSnapshot numbers
// listed persons in id order, then document-only persons, documents and
// topics in first-seen / sorted-name order, so appended documents only insert
// ids (every id map below is monotone and keeps row orders); main-graph rows
// are in edge input order, which is document order followed by the reply
// edges sorted by (person, person, group), so an old row is its old document
// part, then the new documents' entries, then the (recomputed) reply part;
// contact rows are sorted by target. Reply weights depend on the newest
// timestamp; they are recomputed from the kept reply list, summed in the same
// (doc) order as the full build. What would change an existing row's middle
// (a new thread root, a late reply_to target, a group reorder, a topic
// renamed, a thread passing max_thread_contacts) returns FailedPrecondition.

#include <algorithm>
#include <cmath>
#include <iterator>
#include <numeric>
#include <span>
#include <string_view>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "snapshot_internal.h"
#include "whoknows/engine/snapshot.h"
#include "whoknows/indexer/topics.h"

namespace whoknows::engine {
namespace {

using indexer::RecordKind;

absl::Status NeedsRebuild(const std::string& why) {
  return absl::FailedPreconditionError(absl::StrCat("snapshot: needs a full rebuild: ", why));
}

// One doc-list CSR (thread -> docs, person -> docs) with new docs spliced in:
// row r is base_row(r) (a span, empty for a new row) merged with the docs of
// `added` ((row, doc) pairs sorted by row, then by `before`), each row kept in
// `before` order. Writes *offsets and *docs for `rows` rows.
template <typename BaseRow, typename Before>
void MergeDocRows(uint32_t rows, BaseRow base_row, const std::vector<std::pair<uint32_t, uint32_t>>& added,
                  Before before, size_t base_docs, std::vector<uint32_t>* offsets, std::vector<uint32_t>* docs) {
  offsets->assign(1, 0);
  offsets->reserve(rows + 1);
  docs->reserve(base_docs + added.size());
  size_t j = 0;
  for (uint32_t r = 0; r < rows; ++r) {
    const size_t begin = docs->size();
    const std::span<const uint32_t> row = base_row(r);
    docs->insert(docs->end(), row.begin(), row.end());
    const size_t mid = docs->size();
    while (j < added.size() && added[j].first == r) docs->push_back(added[j++].second);
    if (mid != begin && mid != docs->size()) {
      std::inplace_merge(docs->begin() + static_cast<std::ptrdiff_t>(begin),
                         docs->begin() + static_cast<std::ptrdiff_t>(mid), docs->end(), before);
    }
    offsets->push_back(static_cast<uint32_t>(docs->size()));
  }
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Snapshot>> ExtendSnapshot(const Snapshot& b,
                                                               std::span<const indexer::StoredDoc> docs,
                                                               std::span<const indexer::Person> in_persons,
                                                               const SnapshotOptions& options) {
  ExtendState* ext = b.extend_.get();
  if (ext == nullptr) return NeedsRebuild("the base snapshot keeps no build tables (extended already?)");
  const uint32_t P0 = b.num_persons(), D0 = b.num_docs(), T0 = b.num_topics(), TH0 = b.num_threads();
  const uint32_t L0 = ext->listed_persons;
  if (D0 == 0) return NeedsRebuild("the base snapshot has no documents");

  // --- persons: the table's persons merged with the base's listed ones (both in id order)
  auto snap = std::make_shared<Snapshot>();
  Snapshot& s = *snap;
  std::vector<uint32_t> pmap(P0, kNone);                  // base person -> new index
  std::vector<uint32_t> pbase;                            // new index -> base person (kNone: new)
  absl::flat_hash_map<std::string_view, uint32_t> fresh;  // new persons by id
  {
    std::string_view prev;
    bool have_prev = false;
    uint32_t i = 0;
    auto add_base = [&](uint32_t x) {
      pmap[x] = static_cast<uint32_t>(s.persons_.size());
      pbase.push_back(x);
      s.persons_.push_back(b.persons_[x]);
    };
    for (const indexer::Person& p : in_persons) {
      if (p.id.empty() || (have_prev && p.id == prev)) continue;
      if (have_prev && p.id < prev) return NeedsRebuild("the person table is not in id order");
      prev = p.id;
      have_prev = true;
      if (i < L0 && b.persons_[i].id < p.id) return NeedsRebuild("a person left the person table");
      if (i < L0 && b.persons_[i].id == p.id) {
        add_base(i++);
      } else {
        if (b.FindPerson(p.id) != kNone) return NeedsRebuild("a person known only from documents joined the table");
        fresh.emplace(p.id, static_cast<uint32_t>(s.persons_.size()));
        pbase.push_back(kNone);
        PersonInfo info;
        info.id = p.id;
        s.persons_.push_back(std::move(info));
      }
      PersonInfo& info = s.persons_.back();
      info.name = p.name.empty() ? p.id : p.name;
      info.opted_out = p.opted_out;
    }
    if (i < L0) return NeedsRebuild("a person left the person table");
  }
  const uint32_t L1 = static_cast<uint32_t>(s.persons_.size());
  for (uint32_t x = L0; x < P0; ++x) {
    pmap[x] = static_cast<uint32_t>(s.persons_.size());
    pbase.push_back(x);
    s.persons_.push_back(b.persons_[x]);
  }
  auto ensure_person = [&](const std::string& id) -> uint32_t {
    if (const uint32_t x = b.FindPerson(id); x != kNone) return pmap[x];
    auto [it, inserted] = fresh.try_emplace(id, static_cast<uint32_t>(s.persons_.size()));
    if (inserted) {
      pbase.push_back(kNone);
      PersonInfo info;
      info.id = id;
      info.name = id;
      s.persons_.push_back(std::move(info));
    }
    return it->second;
  };

  // --- documents: drop docid 0 and repeats
  std::vector<uint32_t> kept;  // index into docs, in order
  {
    uint32_t max_docid = 0;
    if (!b.docid_dense_.empty()) max_docid = static_cast<uint32_t>(b.docid_dense_.size() - 1);
    if (!b.docid_sparse_.empty()) max_docid = b.docid_sparse_.back().first;
    for (const indexer::StoredDoc& d : docs) max_docid = std::max(max_docid, d.docid);
    const bool dense = static_cast<uint64_t>(max_docid) <= 8ull * (ext->input_docs + docs.size()) + 1024;
    if (dense != ext->dense) return NeedsRebuild("the docid table switches between dense and sparse");
    if (dense) s.docid_dense_.assign(static_cast<size_t>(max_docid) + 1, kNone);
    absl::flat_hash_set<uint32_t> seen;
    s.duplicate_docids_ = b.duplicate_docids_;
    for (uint32_t i = 0; i < docs.size(); ++i) {
      const uint32_t id = docs[i].docid;
      if (id == 0 || b.DocIndex(id) != kNone || !seen.insert(id).second) {
        ++s.duplicate_docids_;
        continue;
      }
      kept.push_back(i);
    }
  }
  const uint32_t K = static_cast<uint32_t>(kept.size());
  const uint32_t D1 = D0 + K;
  auto in = [&](uint32_t k) -> const indexer::StoredDoc& { return docs[kept[k]]; };

  // --- visibility groups: the base's order must stay a prefix
  absl::flat_hash_map<std::string, uint64_t> group_counts = ext->group_counts;
  for (uint32_t k = 0; k < K; ++k) ++group_counts[in(k).visibility];
  {
    std::vector<std::pair<std::string_view, uint64_t>> v(group_counts.begin(), group_counts.end());
    std::sort(v.begin(), v.end(), [](const auto& x, const auto& y) {
      return x.second > y.second || (x.second == y.second && x.first < y.first);
    });
    for (size_t i = 0; i < v.size() && i < kMaxGroups; ++i) s.group_names_.emplace_back(v[i].first);
    if (s.group_names_.size() < b.group_names_.size() ||
        !std::equal(b.group_names_.begin(), b.group_names_.end(), s.group_names_.begin())) {
      return NeedsRebuild("the order of the visibility groups changed");
    }
  }
  const GroupIndex group_of = MakeGroupIndex(s.group_names_);

  // --- communities (sorted names: a new one shifts the ids after it)
  std::vector<uint32_t> cmap(b.community_names_.size());
  {
    std::vector<std::string_view> added;
    for (uint32_t k = 0; k < K; ++k) {
      const std::string& c = in(k).community;
      if (!c.empty() && b.FindCommunity(c) == kNone) added.push_back(c);
    }
    std::sort(added.begin(), added.end());
    added.erase(std::unique(added.begin(), added.end()), added.end());
    size_t j = 0;
    for (uint32_t c = 0; c < b.community_names_.size(); ++c) {
      while (j < added.size() && added[j] < b.community_names_[c]) s.community_names_.emplace_back(added[j++]);
      cmap[c] = static_cast<uint32_t>(s.community_names_.size());
      s.community_names_.push_back(b.community_names_[c]);
    }
    while (j < added.size()) s.community_names_.emplace_back(added[j++]);
  }

  // --- topics: every spelling merged again (tens of thousands; keys cached)
  absl::flat_hash_map<std::string_view, uint32_t> add_uses;  // new documents' spellings -> uses
  for (uint32_t k = 0; k < K; ++k) {
    for (const std::string& t : in(k).topics) {
      if (!t.empty()) ++add_uses[t];
    }
  }
  std::vector<uint32_t> tmap(T0);
  absl::flat_hash_map<std::string_view, uint32_t> new_spelling_topic;  // new documents' spellings -> topic
  std::vector<std::string> new_keys;  // keys of spellings the base did not have, by add_uses order below
  {
    absl::flat_hash_set<std::string_view> derived(options.derived_topics.begin(), options.derived_topics.end());
    std::vector<TopicSpelling> v;
    v.reserve(ext->spellings.size() + add_uses.size());
    absl::flat_hash_map<std::string_view, uint32_t> id_of;  // new documents' spellings -> spelling id
    for (const auto& [name, sp] : ext->spellings) {
      uint32_t uses = sp.uses;
      const uint32_t id = static_cast<uint32_t>(v.size());
      if (auto it = add_uses.find(name); it != add_uses.end()) {
        uses += it->second;
        id_of[name] = id;
      }
      v.push_back({sp.key, name, id, !derived.contains(name), uses});
    }
    for (const auto& [name, uses] : add_uses) {
      if (ext->spellings.contains(std::string(name))) continue;
      std::string key = indexer::TopicKey(name);
      if (key.empty()) key = std::string(name);
      const uint32_t id = static_cast<uint32_t>(v.size());
      id_of[name] = id;
      v.push_back({std::move(key), name, id, !derived.contains(name), uses});
    }
    std::vector<uint32_t> remap;
    MergeTopicSpellings(v, &s.topic_names_, &s.topic_keys_, &s.topic_spelling_offsets_, &s.topic_spellings_,
                        &remap);
    for (uint32_t t = 0; t < T0; ++t) {
      auto it = std::lower_bound(s.topic_names_.begin(), s.topic_names_.end(), b.topic_names_[t]);
      if (it == s.topic_names_.end() || *it != b.topic_names_[t] ||
          s.topic_keys_[it - s.topic_names_.begin()] != b.topic_keys_[t]) {
        return NeedsRebuild("the display name of topic '" + b.topic_names_[t] + "' changed");
      }
      tmap[t] = static_cast<uint32_t>(it - s.topic_names_.begin());
    }
    for (const auto& [name, id] : id_of) new_spelling_topic[name] = remap[id];
    s.topic_by_key_.resize(s.topic_keys_.size());
    std::iota(s.topic_by_key_.begin(), s.topic_by_key_.end(), 0u);
    std::sort(s.topic_by_key_.begin(), s.topic_by_key_.end(),
              [&](uint32_t x, uint32_t y) { return s.topic_keys_[x] < s.topic_keys_[y]; });
  }
  const uint32_t T1 = static_cast<uint32_t>(s.topic_names_.size());

  // --- new documents: table entries, threads, parents
  absl::flat_hash_map<std::string_view, uint32_t> batch_doc_by_id;  // ids the base does not have
  for (uint32_t k = 0; k < K; ++k) {
    if (!ext->doc_by_id.contains(in(k).id)) batch_doc_by_id.try_emplace(in(k).id, D0 + k);
  }
  for (const auto& [id, d] : batch_doc_by_id) {
    if (ext->unresolved_reply_to.contains(std::string(id))) return NeedsRebuild("a new document is an older one's reply_to");
  }
  auto find_doc = [&](std::string_view id) -> uint32_t {
    if (auto it = ext->doc_by_id.find(std::string(id)); it != ext->doc_by_id.end()) return it->second;
    if (auto it = batch_doc_by_id.find(id); it != batch_doc_by_id.end()) return it->second;
    return kNone;
  };
  s.docs_.resize(D1);
  for (uint32_t d = 0; d < D0; ++d) {
    DocInfo info = b.docs_[d];
    if (info.author != kNone) info.author = pmap[info.author];
    if (info.community != kNone) info.community = cmap[info.community];
    s.docs_[d] = info;
  }
  std::vector<std::string_view> new_thread_keys;
  absl::flat_hash_map<std::string_view, uint32_t> batch_threads;
  absl::flat_hash_map<uint32_t, std::string_view> touched_keys;  // base thread -> key
  std::vector<std::vector<uint32_t>> mentions(K);
  s.docs_without_group_ = b.docs_without_group_;
  s.min_ts_ = b.min_ts_;
  s.max_ts_ = b.max_ts_;
  for (uint32_t k = 0; k < K; ++k) {
    const uint32_t d = D0 + k;
    const indexer::StoredDoc& x = in(k);
    DocInfo& info = s.docs_[d];
    if (!FillDocBasics(x, group_of, &info)) ++s.docs_without_group_;
    if (!x.community.empty()) info.community = s.FindCommunity(x.community);
    if (!x.author.empty()) info.author = ensure_person(x.author);
    if (!x.reply_to.empty()) {
      if (const uint32_t p = find_doc(x.reply_to); p != kNone && p != d) info.parent = p;
    }
    const std::string_view key = x.thread_id.empty() ? std::string_view(x.id) : std::string_view(x.thread_id);
    if (auto it = ext->thread_by_key.find(std::string(key)); it != ext->thread_by_key.end()) {
      info.thread = it->second;
      touched_keys.emplace(it->second, key);
    } else {
      auto [bt, inserted] = batch_threads.try_emplace(key, TH0 + static_cast<uint32_t>(new_thread_keys.size()));
      if (inserted) new_thread_keys.push_back(key);
      info.thread = bt->second;
    }
    for (const std::string& m : x.mentions) {
      if (m.empty() || m == x.author) continue;
      mentions[k].push_back(ensure_person(m));
    }
    std::sort(mentions[k].begin(), mentions[k].end());
    mentions[k].erase(std::unique(mentions[k].begin(), mentions[k].end()), mentions[k].end());
    s.min_ts_ = std::min(s.min_ts_, x.timestamp);
    s.max_ts_ = std::max(s.max_ts_, x.timestamp);
  }
  const uint32_t P1 = static_cast<uint32_t>(s.persons_.size());
  const uint32_t TH1 = TH0 + static_cast<uint32_t>(new_thread_keys.size());
  if (static_cast<uint64_t>(P1) + D1 + T1 >= kNone) return absl::ResourceExhaustedError("snapshot: too many vertices");

  // Base threads keep their roots: the root is the doc named by the key, else
  // the earliest doc (a new doc has a larger index, so it wins only when older).
  for (uint32_t k = 0; k < K; ++k) {
    const DocInfo& info = s.docs_[D0 + k];
    if (info.thread >= TH0) continue;
    const std::string_view key = touched_keys.at(info.thread);
    const uint32_t kd = find_doc(key);
    if (kd != kNone && kd < D0 && b.docs_[kd].thread == info.thread) continue;
    if (kd != kNone && kd >= D0 && s.docs_[kd].thread == info.thread) {
      return NeedsRebuild("a new document is the root of an existing thread");
    }
    if (info.timestamp < b.docs_[b.thread_roots_[info.thread]].timestamp) {
      return NeedsRebuild("a new document is older than its thread's first");
    }
  }

  // Threads: rows sorted by (timestamp, doc).
  auto by_time = [&](uint32_t x, uint32_t y) {
    return std::tie(s.docs_[x].timestamp, x) < std::tie(s.docs_[y].timestamp, y);
  };
  std::vector<std::pair<uint32_t, uint32_t>> new_in_thread;  // (thread, doc)
  for (uint32_t k = 0; k < K; ++k) new_in_thread.emplace_back(s.docs_[D0 + k].thread, D0 + k);
  std::sort(new_in_thread.begin(), new_in_thread.end(), [&](const auto& x, const auto& y) {
    return x.first != y.first ? x.first < y.first : by_time(x.second, y.second);
  });
  {
    MergeDocRows(
        TH1, [&](uint32_t t) { return t < TH0 ? b.ThreadDocs(t) : std::span<const uint32_t>(); }, new_in_thread,
        by_time, b.thread_docs_.size(), &s.thread_offsets_, &s.thread_docs_);
    s.thread_roots_ = b.thread_roots_;
    s.thread_roots_.resize(TH1);
    for (uint32_t t = TH0; t < TH1; ++t) {
      const uint32_t kd = find_doc(new_thread_keys[t - TH0]);
      s.thread_roots_[t] = kd != kNone && s.docs_[kd].thread == t ? kd : s.thread_docs_[s.thread_offsets_[t]];
    }
  }

  // Person -> docs: rows sorted by (timestamp, doc).
  {
    std::vector<std::pair<uint32_t, uint32_t>> authored;  // (person, doc)
    for (uint32_t k = 0; k < K; ++k) {
      if (s.docs_[D0 + k].author != kNone) authored.emplace_back(s.docs_[D0 + k].author, D0 + k);
    }
    std::sort(authored.begin(), authored.end(), [&](const auto& x, const auto& y) {
      return x.first != y.first ? x.first < y.first : by_time(x.second, y.second);
    });
    MergeDocRows(
        P1, [&](uint32_t p) { return pbase[p] != kNone ? b.PersonDocs(pbase[p]) : std::span<const uint32_t>(); },
        authored, by_time, b.person_docs_.size(), &s.person_doc_offsets_, &s.person_docs_);
  }

  // Mentions and topics: base rows with ids mapped (monotone: rows stay sorted), then the new docs'.
  s.doc_mentions_.reserve(b.doc_mentions_.size());
  for (uint32_t m : b.doc_mentions_) s.doc_mentions_.push_back(pmap[m]);
  s.doc_mention_offsets_ = b.doc_mention_offsets_;
  for (uint32_t k = 0; k < K; ++k) {
    s.doc_mentions_.insert(s.doc_mentions_.end(), mentions[k].begin(), mentions[k].end());
    s.doc_mention_offsets_.push_back(static_cast<uint32_t>(s.doc_mentions_.size()));
  }
  {
    std::vector<std::vector<uint32_t>> own(K);
    for (uint32_t k = 0; k < K; ++k) {
      for (const std::string& t : in(k).topics) {
        if (!t.empty()) own[k].push_back(new_spelling_topic.at(t));
      }
      std::sort(own[k].begin(), own[k].end());
      own[k].erase(std::unique(own[k].begin(), own[k].end()), own[k].end());
    }
    s.doc_topics_.reserve(b.doc_topics_.size() + 4 * K);
    for (uint32_t t : b.doc_topics_) s.doc_topics_.push_back(tmap[t]);
    s.doc_topic_offsets_ = b.doc_topic_offsets_;
    std::vector<uint32_t> row;
    for (uint32_t k = 0; k < K; ++k) {
      const uint32_t d = D0 + k;
      row = own[k];
      const uint32_t r = s.thread_roots_[s.docs_[d].thread];
      if (r != d && s.docs_[r].group == s.docs_[d].group) {
        if (r < D0) {
          for (uint32_t t : b.DocTopics(r)) row.push_back(tmap[t]);
        } else {
          row.insert(row.end(), own[r - D0].begin(), own[r - D0].end());
        }
        std::sort(row.begin(), row.end());
        row.erase(std::unique(row.begin(), row.end()), row.end());
      }
      s.doc_topics_.insert(s.doc_topics_.end(), row.begin(), row.end());
      s.doc_topic_offsets_.push_back(static_cast<uint32_t>(s.doc_topics_.size()));
    }
  }
  s.topic_doc_counts_.assign(T1, 0);
  for (uint32_t t = 0; t < T0; ++t) s.topic_doc_counts_[tmap[t]] = b.topic_doc_counts_[t];
  for (uint32_t d = D0; d < D1; ++d) {
    for (uint32_t t : s.DocTopics(d)) ++s.topic_doc_counts_[t];
  }

  // --- person stats: recomputed for authors of new docs and new persons; the rest keep theirs (topics mapped)
  {
    std::vector<bool> redo(P1, false);
    for (uint32_t p = 0; p < P1; ++p) redo[p] = pbase[p] == kNone;
    for (uint32_t d = D0; d < D1; ++d) {
      if (s.docs_[d].author != kNone) redo[s.docs_[d].author] = true;
    }
    std::vector<uint32_t> tcount(T1, 0);
    std::vector<uint32_t> tlist;
    for (uint32_t p = 0; p < P1; ++p) {
      PersonInfo& info = s.persons_[p];
      if (!redo[p]) {
        for (auto& [t, n] : info.topics) t = tmap[t];
        continue;
      }
      s.ComputePersonStats(p, tcount, tlist);
    }
  }
  {
    std::vector<uint32_t> added;
    for (uint32_t p = 0; p < P1; ++p) {
      if (pbase[p] == kNone) added.push_back(p);
    }
    auto by_id = [&](uint32_t x, uint32_t y) { return s.persons_[x].id < s.persons_[y].id; };
    std::sort(added.begin(), added.end(), by_id);
    s.person_order_.reserve(P1);
    for (uint32_t x : b.person_order_) s.person_order_.push_back(pmap[x]);
    const size_t mid = s.person_order_.size();
    s.person_order_.insert(s.person_order_.end(), added.begin(), added.end());
    std::inplace_merge(s.person_order_.begin(), s.person_order_.begin() + static_cast<std::ptrdiff_t>(mid),
                       s.person_order_.end(), by_id);
  }

  s.vertex_time_.assign(static_cast<size_t>(P1) + D1 + T1, kTimeless);
  for (uint32_t d = 0; d < D1; ++d) s.vertex_time_[P1 + d] = s.docs_[d].timestamp;
  s.community_max_ts_.assign(s.community_names_.size(), INT64_MIN);
  for (uint32_t c = 0; c < b.community_max_ts_.size(); ++c) s.community_max_ts_[cmap[c]] = b.community_max_ts_[c];
  for (uint32_t d = D0; d < D1; ++d) {
    const uint32_t c = s.docs_[d].community;
    if (c != kNone) s.community_max_ts_[c] = std::max(s.community_max_ts_[c], s.docs_[d].timestamp);
  }
  if (!s.docid_dense_.empty()) {
    std::copy(b.docid_dense_.begin(), b.docid_dense_.end(), s.docid_dense_.begin());
    for (uint32_t d = D0; d < D1; ++d) s.docid_dense_[s.docs_[d].docid] = d;
  } else {
    s.docid_sparse_ = b.docid_sparse_;
    const size_t mid = s.docid_sparse_.size();
    for (uint32_t d = D0; d < D1; ++d) s.docid_sparse_.emplace_back(s.docs_[d].docid, d);
    std::sort(s.docid_sparse_.begin() + static_cast<std::ptrdiff_t>(mid), s.docid_sparse_.end());
    std::inplace_merge(s.docid_sparse_.begin(), s.docid_sparse_.begin() + static_cast<std::ptrdiff_t>(mid),
                       s.docid_sparse_.end());
  }

  // --- new docs' edges (as BuildSnapshot emits them, in doc order) and replies
  s.dropped_cross_group_ = b.dropped_cross_group_;
  std::vector<WeightedEdge> edges;
  std::vector<ExtendState::Reply> new_replies;
  for (uint32_t d = D0; d < D1; ++d) s.AppendDocEdges(d, options, P1, P1 + D1, &edges, &new_replies);
  auto reply_less = [](const ExtendState::Reply& x, const ExtendState::Reply& y) {
    return std::tie(x.u, x.v, x.g, x.d) < std::tie(y.u, y.v, y.g, y.d);
  };
  auto same_edge = [](const ExtendState::Reply& x, const ExtendState::Reply& y) {
    return x.u == y.u && x.v == y.v && x.g == y.g;
  };
  std::sort(new_replies.begin(), new_replies.end(), reply_less);
  // The base's reply entries per person (the tail of its main-graph row).
  std::vector<uint32_t> old_reply_entries(P0, 0);
  for (size_t i = 0; i < ext->replies.size(); ++i) {
    if (i == 0 || !same_edge(ext->replies[i], ext->replies[i - 1])) {
      ++old_reply_entries[ext->replies[i].u];
      ++old_reply_entries[ext->replies[i].v];
    }
  }
  std::vector<ExtendState::Reply> replies;
  replies.reserve(ext->replies.size() + new_replies.size());
  {
    std::vector<ExtendState::Reply> mapped;
    mapped.reserve(ext->replies.size());
    for (ExtendState::Reply r : ext->replies) {
      r.u = pmap[r.u];
      r.v = pmap[r.v];
      mapped.push_back(r);
    }
    std::merge(mapped.begin(), mapped.end(), new_replies.begin(), new_replies.end(), std::back_inserter(replies),
               reply_less);
  }
  // Reply edges: one per (u, v, group), weights summed in doc order against the newest doc.
  struct ReplyEdge {
    uint32_t u, v;
    float w;
    GroupBits mask;
  };
  std::vector<ReplyEdge> reply_edges;
  for (size_t i = 0; i < replies.size();) {
    size_t j = i;
    float w = 0;
    for (; j < replies.size() && same_edge(replies[j], replies[i]); ++j) {
      w += options.w_reply *
           static_cast<float>(Decay(s.docs_[replies[j].d].timestamp, s.max_ts_, options.reply_half_life_days));
    }
    reply_edges.push_back({replies[i].u, replies[i].v, w, 1u << replies[i].g});
    i = j;
  }

  // --- main graph rows
  {
    const Graph& g0 = b.graph_;
    const uint32_t N1 = P1 + D1 + T1;
    std::vector<uint32_t> vmap(static_cast<size_t>(P0) + D0 + T0);
    for (uint32_t x = 0; x < P0; ++x) vmap[x] = pmap[x];
    for (uint32_t d = 0; d < D0; ++d) vmap[P0 + d] = P1 + d;
    for (uint32_t t = 0; t < T0; ++t) vmap[P0 + D0 + t] = P1 + D1 + tmap[t];
    std::vector<uint32_t> vbase(N1, kNone);  // new vertex -> base vertex
    for (uint32_t x = 0; x < vmap.size(); ++x) vbase[vmap[x]] = x;
    struct Entry {
      uint32_t row, seq, to;
      float w;
      GroupBits mask;
    };
    std::vector<Entry> added;
    added.reserve(edges.size() * 2);
    for (const WeightedEdge& e : edges) {
      added.push_back({e.from, static_cast<uint32_t>(added.size()), e.to, e.weight, e.mask});
      added.push_back({e.to, static_cast<uint32_t>(added.size()), e.from, e.weight, e.mask});
    }
    std::sort(added.begin(), added.end(),
              [](const Entry& x, const Entry& y) { return std::tie(x.row, x.seq) < std::tie(y.row, y.seq); });
    std::vector<uint32_t> reply_off(static_cast<size_t>(P1) + 1, 0);
    for (const ReplyEdge& r : reply_edges) {
      ++reply_off[r.u + 1];
      ++reply_off[r.v + 1];
    }
    for (uint32_t p = 0; p < P1; ++p) reply_off[p + 1] += reply_off[p];
    std::vector<uint32_t> reply_to(reply_off.back());
    std::vector<uint32_t> reply_of(reply_off.back());  // index into reply_edges
    {
      std::vector<uint32_t> pos(reply_off.begin(), reply_off.end() - 1);
      for (uint32_t i = 0; i < reply_edges.size(); ++i) {
        const ReplyEdge& r = reply_edges[i];
        reply_to[pos[r.u]] = r.v;
        reply_of[pos[r.u]++] = i;
        reply_to[pos[r.v]] = r.u;
        reply_of[pos[r.v]++] = i;
      }
    }
    uint64_t old_reply_total = 0;
    for (uint32_t x = 0; x < P0; ++x) old_reply_total += old_reply_entries[x];
    const uint64_t m = g0.num_edges() - old_reply_total + added.size() + reply_to.size();
    if (m >= kNone) return absl::ResourceExhaustedError("snapshot: too many edges");
    std::vector<EdgeIndex> rowstart;
    std::vector<VertexId> columns;
    std::vector<float> weights;
    std::vector<GroupBits> masks;
    rowstart.reserve(static_cast<size_t>(N1) + 1);
    columns.reserve(m);
    weights.reserve(m);
    masks.reserve(m);
    rowstart.push_back(0);
    size_t j = 0;
    const VertexId* col0 = g0.columns();
    const float* w0 = g0.weights();
    for (uint32_t v = 0; v < N1; ++v) {
      if (const uint32_t x = vbase[v]; x != kNone) {
        const EdgeIndex end = g0.row_end(x) - (x < P0 ? old_reply_entries[x] : 0);
        for (EdgeIndex e = g0.row_begin(x); e < end; ++e) {
          columns.push_back(vmap[col0[e]]);
          weights.push_back(w0[e]);
          masks.push_back(g0.mask(e));
        }
      }
      for (; j < added.size() && added[j].row == v; ++j) {
        columns.push_back(added[j].to);
        weights.push_back(added[j].w);
        masks.push_back(added[j].mask);
      }
      if (v < P1) {
        for (uint32_t i = reply_off[v]; i < reply_off[v + 1]; ++i) {
          columns.push_back(reply_to[i]);
          weights.push_back(reply_edges[reply_of[i]].w);
          masks.push_back(reply_edges[reply_of[i]].mask);
        }
      }
      rowstart.push_back(static_cast<EdgeIndex>(columns.size()));
    }
    std::vector<GroupBits> mask_copy = std::move(masks);
    absl::StatusOr<Graph> g =
        Graph::FromRows(std::move(rowstart), std::move(columns), std::move(weights), mask_copy);
    if (!g.ok()) return g.status();
    s.graph_ = *std::move(g);
  }

  // --- contacts: new replies, and new pairs of threads the new docs joined
  {
    struct Inc {
      uint32_t from, to;
      GroupBits bit;
    };
    std::vector<Inc> inc;
    for (const ExtendState::Reply& r : new_replies) {
      inc.push_back({r.u, r.v, 1u << r.g});
      inc.push_back({r.v, r.u, 1u << r.g});
    }
    std::vector<uint32_t> threads;
    for (uint32_t k = 0; k < K; ++k) threads.push_back(s.docs_[D0 + k].thread);
    std::sort(threads.begin(), threads.end());
    threads.erase(std::unique(threads.begin(), threads.end()), threads.end());
    std::vector<std::pair<uint8_t, uint32_t>> before, after;
    for (uint32_t t : threads) {
      before.clear();
      after.clear();
      for (uint32_t d : s.ThreadDocs(t)) {
        const DocInfo& di = s.docs_[d];
        if (di.group == kNoGroup || di.author == kNone) continue;
        after.emplace_back(di.group, di.author);
        if (d < D0) before.emplace_back(di.group, di.author);
      }
      for (auto* v : {&before, &after}) {
        std::sort(v->begin(), v->end());
        v->erase(std::unique(v->begin(), v->end()), v->end());
      }
      for (size_t i = 0; i < after.size();) {
        size_t e = i;
        while (e < after.size() && after[e].first == after[i].first) ++e;
        const uint8_t grp = after[i].first;
        auto lo = std::lower_bound(before.begin(), before.end(), std::make_pair(grp, 0u));
        auto hi = std::lower_bound(before.begin(), before.end(), std::make_pair(static_cast<uint8_t>(grp + 1), 0u));
        const size_t nb = static_cast<size_t>(hi - lo);
        const size_t na = e - i;
        if (na > options.max_thread_contacts) {
          if (nb >= 2 && nb <= options.max_thread_contacts) {
            return NeedsRebuild("a thread passed max_thread_contacts");
          }
        } else {
          auto was = [&](uint32_t p) { return std::binary_search(lo, lo + static_cast<std::ptrdiff_t>(nb), std::make_pair(grp, p)); };
          for (size_t a = i; a < e; ++a) {
            for (size_t c = a + 1; c < e; ++c) {
              if (was(after[a].second) && was(after[c].second)) continue;
              inc.push_back({after[a].second, after[c].second, 1u << grp});
              inc.push_back({after[c].second, after[a].second, 1u << grp});
            }
          }
        }
        i = e;
      }
    }
    std::sort(inc.begin(), inc.end(), [](const Inc& x, const Inc& y) { return std::tie(x.from, x.to) < std::tie(y.from, y.to); });
    const Graph& c0 = b.contacts_;
    std::vector<EdgeIndex> rowstart{0};
    std::vector<VertexId> columns;
    std::vector<float> weights;
    std::vector<GroupBits> masks;
    const size_t m = c0.num_edges() + inc.size();
    rowstart.reserve(static_cast<size_t>(P1) + 1);
    columns.reserve(m);
    weights.reserve(m);
    masks.reserve(m);
    size_t j = 0;
    for (uint32_t p = 0; p < P1; ++p) {
      EdgeIndex e = 0, end = 0;
      if (pbase[p] != kNone) {
        e = c0.row_begin(pbase[p]);
        end = c0.row_end(pbase[p]);
      }
      for (;;) {
        const bool has_old = e < end;
        const bool has_inc = j < inc.size() && inc[j].from == p;
        if (!has_old && !has_inc) break;
        const uint32_t to_old = has_old ? pmap[c0.target(e)] : kNone;
        if (has_old && (!has_inc || to_old < inc[j].to)) {
          columns.push_back(to_old);
          weights.push_back(c0.weight(e));
          masks.push_back(c0.mask(e));
          ++e;
          continue;
        }
        const uint32_t to = inc[j].to;
        float n = 0;
        GroupBits mask = 0;
        if (has_old && to_old == to) {
          n = c0.weight(e);
          mask = c0.mask(e);
          ++e;
        }
        for (; j < inc.size() && inc[j].from == p && inc[j].to == to; ++j) {
          n += 1;
          mask |= inc[j].bit;
        }
        columns.push_back(to);
        weights.push_back(n);
        masks.push_back(mask);
      }
      rowstart.push_back(static_cast<EdgeIndex>(columns.size()));
    }
    std::vector<GroupBits> mask_copy = std::move(masks);
    absl::StatusOr<Graph> g = Graph::FromRows(std::move(rowstart), std::move(columns), std::move(weights), mask_copy);
    if (!g.ok()) return g.status();
    s.contacts_ = *std::move(g);
  }

  // --- hand the build tables on, updated
  for (uint32_t k = 0; k < K; ++k) {
    const indexer::StoredDoc& x = in(k);
    ext->doc_by_id.try_emplace(x.id, D0 + k);
  }
  for (uint32_t k = 0; k < K; ++k) {
    const indexer::StoredDoc& x = in(k);
    if (!x.reply_to.empty() && !ext->doc_by_id.contains(x.reply_to)) ext->unresolved_reply_to.emplace(x.reply_to);
  }
  for (uint32_t t = TH0; t < TH1; ++t) ext->thread_by_key.emplace(std::string(new_thread_keys[t - TH0]), t);
  ext->listed_persons = L1;
  ext->input_docs += docs.size();
  ext->group_counts = std::move(group_counts);
  for (const auto& [name, uses] : add_uses) {
    auto [it, inserted] = ext->spellings.try_emplace(std::string(name));
    if (inserted) {
      it->second.key = indexer::TopicKey(name);
      if (it->second.key.empty()) it->second.key = std::string(name);
    }
    it->second.uses += uses;
  }
  ext->replies = std::move(replies);
  s.extend_ = std::move(b.extend_);
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

}  // namespace whoknows::engine
