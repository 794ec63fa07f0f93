#include <xapian.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "whoknows/base/status_macros.h"
#include "whoknows/indexer/index.h"
#include "shards.h"
#include "whoknows/indexer/topics.h"
#include "xapian_util.h"

namespace whoknows::indexer {
namespace {

using internal::GuardXapian;
using internal::MakeTerm;
namespace px = internal;


// Set once the "name:" table is complete (see SeedNameTable).
constexpr std::string_view kNameTableKey = "whoknows:name-table";

bool IsMailKey(std::string_view key) { return key.rfind("mail:", 0) == 0 || key.rfind("mailname:", 0) == 0; }

// Records whose topics are derived from their text: mail and chat always
// (a list or channel names no subject), anything else when it has no tags.
bool NeedsDerivedTopics(const Record& r) {
  return r.kind == RecordKind::kMail || r.kind == RecordKind::kChat || r.topics.empty();
}

struct PersonState {
  std::string name;
  std::vector<std::string> keys;
  bool opted_out = false;
  bool aliased = false;  // defined by an aliases-file line
};

class XapianIndexWriter final : public IndexWriter {
 public:
  XapianIndexWriter(std::string dir, const IndexOptions& options)
      : dir_(std::move(dir)), options_(options), extractor_(options.topics) {
    extractor_.set_name_keys(&name_keys_);
  }

  absl::Status Init() {
    std::vector<std::string> locations = options_.shard_locations;
    if (locations.empty() && options_.shards > 1) {
      WK_ASSIGN_OR_RETURN(locations, CreateShardLayout(dir_, options_.shards));
    } else if (locations.empty()) {
      locations = ShardLocations(dir_);
    }
    for (const std::string& loc : locations) {
      // Shard 0 first: it holds the identity table (see index.h).
      WK_RETURN_IF_ERROR(GuardXapian(absl::StrFormat("open %s for writing", loc), [&] {
        shards_.push_back(internal::OpenShardForWriting(loc));
      }));
      WK_RETURN_IF_ERROR(CheckFormat(loc, shards_.back()));
    }
    db_ = shards_.front();
    termgen_.set_stemmer(Xapian::Stem("en"));
    termgen_.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
    WK_RETURN_IF_ERROR(GuardXapian("load identities", [&] { LoadIdentities(); }));
    WK_RETURN_IF_ERROR(GuardXapian("seed the name table", [&] { SeedNameTable(); }));
    return GuardXapian("load topic vocabulary", [&] { LoadVocabulary(); });
  }

  absl::Status CheckFormat(const std::string& where, Xapian::WritableDatabase& db) {
    std::string format;
    WK_RETURN_IF_ERROR(GuardXapian("read format", [&] { format = db.get_metadata(std::string(px::kFormatKey)); }));
    if (format.empty() && db.get_doccount() == 0) {
      WK_RETURN_IF_ERROR(GuardXapian("write format", [&] {
        db.set_metadata(std::string(px::kFormatKey), std::string(px::kFormatVersion));
      }));
      ++pending_;
    } else if (format != px::kFormatVersion) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: index format %s, this build writes format %s; re-index into a new directory", where,
          format.empty() ? "1" : format, px::kFormatVersion));
    }
    return absl::OkStatus();
  }

  ~XapianIndexWriter() override {
    // Uncommitted work is committed by Xapian's destructor only on a clean
    // close; we commit explicitly so a summary is accurate.
    absl::Status s = Commit();
    (void)s;
  }

  absl::Status Add(Record record) override {
    ++summary_.read;
    if (record.id.empty()) {
      CountBad("missing-id");
      return absl::OkStatus();
    }
    const std::string qterm = MakeTerm(px::kPrefixId, record.id);
    Xapian::WritableDatabase& shard = shards_[ShardOf(record.id, static_cast<uint32_t>(shards_.size()))];
    bool exists = false;
    WK_RETURN_IF_ERROR(GuardXapian("lookup", [&] { exists = shard.term_exists(qterm); }));
    SanitizeUtf8(&record.author_name);
    if (exists) {
      ++summary_.duplicates;
      // Re-reading an archive still applies the name rule, so an index
      // written before a merge was possible gets it on the next run.
      if (!record.author_key.empty()) {
        WK_RETURN_IF_ERROR(GuardXapian("resolve identities",
                                       [&] { Resolve(record.author_key, record.author_name, record.source); }));
      }
      return absl::OkStatus();
    }
    SanitizeUtf8(&record.title);
    SanitizeUtf8(&record.text);
    WK_RETURN_IF_ERROR(GuardXapian("resolve identities", [&] {
      if (!record.author_key.empty()) Resolve(record.author_key, record.author_name, record.source);
      for (const std::string& m : record.mentions) Resolve(m, "", record.source);
    }));

    WK_RETURN_IF_ERROR(GuardXapian(absl::StrFormat("index %s", record.id), [&] {
      const size_t source_topics = record.topics.size();
      const bool derive = options_.derive_topics && NeedsDerivedTopics(record);
      if (derive) {
        DeriveTopics(&record, /*indexed=*/false);
      } else {
        for (const std::string& t : record.topics) vocabulary_.Add(t, /*tag=*/true);
      }
      const size_t shard_index = static_cast<size_t>(&shard - shards_.data());
      const Xapian::docid docid = Write(record, qterm, shard);
      // Topics derived while the index is small are derived again at commit,
      // against the statistics the index has by then.
      if (derive && db_.get_doccount() < options_.topics.warmup_docs) {
        warmup_.push_back({shard_index, docid, std::move(record), source_topics});
      }
      // The new document counts in the frequencies of its words from now on.
      for (const std::string& w : words_) {
        if (auto it = df_cache_.find(w); it != df_cache_.end()) ++it->second;
      }
      words_.clear();
    }));
    ++summary_.indexed;
    if (++pending_ >= options_.commit_every) return Commit();
    return absl::OkStatus();
  }

  void CountBad(std::string_view reason) override {
    ++summary_.skipped;
    ++skipped_[std::string(reason)];
  }

  absl::Status ApplyAliases(const std::vector<AliasGroup>& groups) override {
    // person id -> the line (group) that owns it in this file.
    absl::flat_hash_map<std::string, size_t> claimed;
    for (size_t i = 0; i < groups.size(); ++i) {
      const AliasGroup& g = groups[i];
      if (g.keys.empty()) continue;
      // The canonical person: the one holding keys[0], unless another line
      // owns it already (the name rule had joined them): then a new one.
      std::string target;
      if (auto it = key_to_person_.find(g.keys[0]); it != key_to_person_.end() && !claimed.contains(it->second)) {
        target = it->second;
      } else {
        target = FreshPersonId(g.keys[0]);
        if (it != key_to_person_.end()) {
          MoveKey(g.keys[0], it->second, target);
        } else {
          Bind(g.keys[0], target);
        }
      }
      claimed.emplace(target, i);
      for (const std::string& k : g.keys) {
        auto it = key_to_person_.find(k);
        if (it == key_to_person_.end()) {
          Bind(k, target);
        } else if (it->second == target) {
          continue;
        } else if (auto c = claimed.find(it->second); c != claimed.end()) {
          MoveKey(k, it->second, target);  // another line's person: only this key comes over
        } else {
          MergeInto(it->second, target);
        }
      }
      PersonState& st = persons_[target];
      st.aliased = true;
      if (!g.name.empty()) {
        AddNameKeys(g.name);
        st.name = g.name;
        pinned_names_.insert(target);
      }
      dirty_persons_.insert(target);
    }
    return absl::OkStatus();
  }

  absl::Status Commit() override {
    if (pending_ == 0 && dirty_keys_.empty() && dirty_persons_.empty() && removed_persons_.empty() &&
        dirty_names_.empty()) {
      return absl::OkStatus();
    }
    WK_RETURN_IF_ERROR(GuardXapian("commit", [&] {
      RederiveWarmup();
      for (const std::string& k : dirty_keys_) {
        auto it = key_to_person_.find(k);
        db_.set_metadata(MakeTerm(px::kMetaKey, k), it == key_to_person_.end() ? std::string() : it->second);
      }
      for (const std::string& p : removed_persons_) db_.set_metadata(MakeTerm(px::kMetaPerson, p), "");
      for (const std::string& slot : dirty_names_) {
        auto it = name_to_person_.find(slot);
        db_.set_metadata(MakeTerm(px::kMetaName, slot), it == name_to_person_.end() ? std::string() : it->second);
      }
      // Derived topics are remembered as such, so tags stay tags (known_boost) in later runs.
      for (const std::string& t : new_derived_) db_.set_metadata(MakeTerm(px::kMetaDerivedTopic, t), "1");
      for (const std::string& p : dirty_persons_) {
        auto it = persons_.find(p);
        if (it == persons_.end()) continue;
        nlohmann::json j;
        j["name"] = it->second.name;
        j["keys"] = it->second.keys;
        if (it->second.opted_out) j["optout"] = true;
        if (it->second.aliased) j["aliased"] = true;
        if (pinned_names_.contains(p)) j["pinned"] = true;
        db_.set_metadata(MakeTerm(px::kMetaPerson, p), j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      }
      // Shard 0 (identities) first: a crash between the commits then leaves
      // documents to re-add, never documents whose author keys are unbound.
      for (Xapian::WritableDatabase& shard : shards_) shard.commit();
    }));
    // Document frequencies are re-read from the index after each commit.
    df_cache_.clear();
    new_derived_.clear();
    dirty_keys_.clear();
    dirty_names_.clear();
    dirty_persons_.clear();
    removed_persons_.clear();
    pending_ = 0;
    ++summary_.commits;
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> ErasePerson(std::string_view person_id) override {
    auto it = persons_.find(std::string(person_id));
    if (it == persons_.end()) {
      return absl::NotFoundError(absl::StrFormat("unknown person %s", person_id));
    }
    uint64_t removed = 0;
    const std::vector<std::string> keys = it->second.keys;
    WK_RETURN_IF_ERROR(GuardXapian(absl::StrFormat("erase %s", person_id), [&] {
      for (const std::string& k : keys) {
        for (Xapian::WritableDatabase& db : shards_) {  // the person's documents may be in any shard
          const std::string term = MakeTerm(px::kPrefixAuthor, k);
          std::vector<Xapian::docid> ids;
          for (auto p = db.postlist_begin(term); p != db.postlist_end(term); ++p) ids.push_back(*p);
          for (Xapian::docid d : ids) db.delete_document(d);
          removed += ids.size();
          // Mentions of the person elsewhere are personal data too: drop the
          // mention terms and values pointing at this key.
          const std::string mterm = MakeTerm(px::kPrefixMention, k);
          std::vector<Xapian::docid> mids;
          for (auto p = db.postlist_begin(mterm); p != db.postlist_end(mterm); ++p) mids.push_back(*p);
          for (Xapian::docid d : mids) {
            Xapian::Document doc = db.get_document(d);
            doc.remove_term(mterm);
            px::DocMeta m;
            if (px::UnpackMeta(doc.get_value(kSlotMeta), &m)) {
              m.mentions.erase(std::remove(m.mentions.begin(), m.mentions.end(), k), m.mentions.end());
              doc.add_value(kSlotMeta, px::PackMeta(m));
            }
            db.replace_document(d, doc);
          }
        }
        key_to_person_.erase(k);
        dirty_keys_.insert(k);
      }
      // Personal data kept beside the documents (routing log, availability).
      const std::string pd = PersonDataPrefix(person_id);
      std::vector<std::string> meta_keys;
      for (auto m = db_.metadata_keys_begin(pd); m != db_.metadata_keys_end(pd); ++m) meta_keys.push_back(*m);
      for (const std::string& mk : meta_keys) db_.set_metadata(mk, "");
    }));
    persons_.erase(it);
    removed_persons_.insert(std::string(person_id));
    dirty_persons_.erase(std::string(person_id));
    pinned_names_.erase(std::string(person_id));
    // The names the person wrote under are identity data too.
    for (auto n = name_to_person_.begin(); n != name_to_person_.end();) {
      if (n->second == person_id || Live(n->second).empty()) {
        dirty_names_.insert(n->first);
        name_to_person_.erase(n++);
      } else {
        ++n;
      }
    }
    ++pending_;
    WK_RETURN_IF_ERROR(Commit());
    return removed;
  }

  absl::Status SetOptOut(std::string_view person_id, bool opted_out) override {
    auto it = persons_.find(std::string(person_id));
    if (it == persons_.end()) return absl::NotFoundError(absl::StrFormat("unknown person %s", person_id));
    it->second.opted_out = opted_out;
    dirty_persons_.insert(it->first);
    return Commit();
  }

  absl::Status PutMetadata(const std::vector<std::pair<std::string, std::string>>& entries) override {
    for (const auto& [k, v] : entries) {
      if (k.empty() || k.size() > kMaxMetadataKeyBytes) {
        return absl::InvalidArgumentError(absl::StrFormat("metadata key of %d bytes (1..%d)", k.size(),
                                                          kMaxMetadataKeyBytes));
      }
    }
    WK_RETURN_IF_ERROR(GuardXapian("put metadata", [&] {
      for (const auto& [k, v] : entries) db_.set_metadata(k, v);
    }));
    ++pending_;
    return Commit();
  }

  const IndexSummary& summary() const override {
    summary_.skipped_by_reason.assign(skipped_.begin(), skipped_.end());
    return summary_;
  }

  // Anything added or changed since the last commit (lost with the session
  // if a remote shard's connection fails now).
  bool HasUncommitted() const {
    return pending_ != 0 || !new_derived_.empty() || !dirty_keys_.empty() ||
           !dirty_persons_.empty() || !removed_persons_.empty() || !dirty_names_.empty();
  }

 private:
  void LoadIdentities() {
    px::ReadIdentityTable(
        db_, [&](std::string key, std::string person) { key_to_person_[std::move(key)] = std::move(person); },
        [&](Person p, bool pinned) {
          if (pinned) pinned_names_.insert(p.id);
          AddNameKeys(p.name);
          persons_.emplace(p.id, PersonState{std::move(p.name), std::move(p.keys), p.opted_out, p.aliased});
        });
    const std::string np(px::kMetaName);
    for (auto it = db_.metadata_keys_begin(np); it != db_.metadata_keys_end(np); ++it) {
      std::string v = db_.get_metadata(*it);
      if (!v.empty()) name_to_person_[(*it).substr(np.size())] = std::move(v);
    }
  }

  // An index written before the name table existed: fill it once from the
  // documents, in the order they were added (no merges here; the next run
  // over the same archives applies the rule).
  void SeedNameTable() {
    const std::string marker(kNameTableKey);
    if (!db_.get_metadata(marker).empty()) return;
    for (Xapian::WritableDatabase& sdb : shards_) {  // every shard's documents; the table lives in db_
      if (sdb.get_doccount() == 0) continue;
      px::DocMeta m;
      for (auto it = sdb.postlist_begin(""); it != sdb.postlist_end(""); ++it) {
        Xapian::Document doc = sdb.get_document(*it, Xapian::DOC_ASSUME_VALID);
        if (!px::UnpackMeta(doc.get_value(kSlotMeta), &m) || !IsMailKey(m.author_key)) continue;
        std::string nk = MailNameKey(m.author_name);
        if (nk.empty() && m.author_key.rfind("mailname:", 0) == 0) nk = MailNameKey(m.author_key.substr(9));
        auto person = key_to_person_.find(m.author_key);
        if (nk.empty() || person == key_to_person_.end()) continue;
        const std::string slot = absl::StrFormat("%s\x1f%s", m.source, nk);
        if (name_to_person_.emplace(slot, person->second).second) dirty_names_.insert(slot);
      }
    }
    db_.set_metadata(marker, "1");
    ++pending_;
  }

  // People's names are not topics: every word (3+ letters) of every name.
  void AddNameKeys(std::string_view name) {
    // Addresses shown as names ("ripley at stats.ox.ac.uk") name no words.
    if (name.find('@') != std::string_view::npos || name.find(" at ") != std::string_view::npos) return;
    for (absl::string_view w : absl::StrSplit(absl::string_view(name.data(), name.size()),
                                              absl::ByAnyChar(" .,<>\"'()@-_"), absl::SkipEmpty())) {
      if (w.size() >= 3) name_keys_.insert(extractor_.Key(std::string_view(w.data(), w.size())));
    }
  }

  // Every topic the index holds (tags and derived) is in the vocabulary, so a
  // derived phrase takes the spelling of an existing tag with the same key.
  void LoadVocabulary() {
    const std::string prefix(px::kPrefixTopic);
    absl::flat_hash_set<std::string> derived;
    const std::string dp(px::kMetaDerivedTopic);
    for (auto it = db_.metadata_keys_begin(dp); it != db_.metadata_keys_end(dp); ++it) derived.insert((*it).substr(dp.size()));
    for (Xapian::WritableDatabase& sdb : shards_) {
      for (auto it = sdb.allterms_begin(prefix); it != sdb.allterms_end(prefix); ++it) {
        const std::string display = (*it).substr(prefix.size());
        vocabulary_.Add(display, /*tag=*/!derived.contains(display), it.get_termfreq());
      }
    }
  }

  // Re-derives the topics of documents added while the index was small
  // (warmup_), now that it holds more documents; forgets them once the index
  // has options_.topics.warmup_docs documents. May throw Xapian::Error.
  void RederiveWarmup() {
    if (warmup_.empty()) return;
    df_cache_.clear();
    for (WarmupDoc& w : warmup_) {
      std::vector<std::string> old(w.record.topics.begin() + static_cast<std::ptrdiff_t>(w.source_topics),
                                   w.record.topics.end());
      w.record.topics.resize(w.source_topics);
      DeriveTopics(&w.record, /*indexed=*/true);
      std::vector<std::string> now(w.record.topics.begin() + static_cast<std::ptrdiff_t>(w.source_topics),
                                   w.record.topics.end());
      if (now == old) continue;
      Xapian::WritableDatabase& sdb = shards_[w.shard];
      Xapian::Document doc;
      try {
        doc = sdb.get_document(w.docid);
      } catch (const Xapian::DocNotFoundError&) {  // erased since (ErasePerson): nothing to re-derive
        continue;
      }
      for (const std::string& t : old) {
        if (std::find(w.record.topics.begin(), w.record.topics.end(), t) != w.record.topics.end()) continue;
        const std::string term = MakeTerm(px::kPrefixTopic, t);
        try {
          doc.remove_term(term);
        } catch (const Xapian::InvalidArgumentError&) {  // not there (a source topic of the same name)
        }
      }
      for (const std::string& t : now) doc.add_boolean_term(MakeTerm(px::kPrefixTopic, t));
      px::DocMeta m;
      if (px::UnpackMeta(doc.get_value(kSlotMeta), &m)) {
        m.topics = w.record.topics;
        doc.add_value(kSlotMeta, px::PackMeta(m));
      }
      sdb.replace_document(w.docid, doc);
    }
    words_.clear();
    df_cache_.clear();
    if (db_.get_doccount() >= options_.topics.warmup_docs) warmup_.clear();
  }

  // Appends the record's derived topics (display forms, no duplicates).
  // `indexed`: the record is already in the index (counted in frequencies).
  void DeriveTopics(Record* r, bool indexed) {
    auto stop = stop_keys_.find(r->community);
    if (stop == stop_keys_.end()) {
      std::vector<std::string> names = {r->community};
      if (size_t colon = r->source.find(':'); colon != std::string::npos) names.push_back(r->source.substr(colon + 1));
      stop = stop_keys_.emplace(r->community, extractor_.StopKeys(names)).first;
    }
    indexer::DocFreqSource freqs;
    // Shard 0's statistics: records go to shards by a hash of their id, so its
    // document frequencies are a uniform sample of the whole index's.
    freqs.num_docs = db_.get_doccount();
    freqs.includes_document = indexed;
    freqs.df = [this](std::string_view word) -> uint64_t {
      auto it = df_cache_.find(absl::string_view(word.data(), word.size()));
      if (it != df_cache_.end()) return it->second;
      const uint64_t df = db_.get_termfreq(std::string(word));
      df_cache_.emplace(std::string(word), df);
      return df;
    };
    // The author's own name is not a topic of their message.
    author_keys_.clear();
    for (absl::string_view w : absl::StrSplit(r->author_name, absl::ByAnyChar(" .,<>\"'()"), absl::SkipEmpty())) {
      author_keys_.push_back(extractor_.Key(std::string_view(w.data(), w.size())));
    }
    std::vector<ExtractedTopic> topics =
        extractor_.Extract(r->title, r->text, freqs, &vocabulary_, stop->second, &words_, author_keys_);
    for (ExtractedTopic& t : topics) {
      const size_t before = vocabulary_.size();
      const std::string& display = vocabulary_.Add(t.display, /*tag=*/false, indexed ? 0 : 1);
      if (vocabulary_.size() != before) new_derived_.push_back(display);
      if (std::find(r->topics.begin(), r->topics.end(), display) == r->topics.end()) r->topics.push_back(display);
    }
  }

  void Bind(const std::string& key, const std::string& person) {
    key_to_person_[key] = person;
    dirty_keys_.insert(key);
    PersonState& st = persons_[person];
    if (std::find(st.keys.begin(), st.keys.end(), key) == st.keys.end()) st.keys.push_back(key);
    removed_persons_.erase(person);
    dirty_persons_.insert(person);
  }

  // Moves one key from person `from` to `to`; `from` disappears with its last key.
  void MoveKey(const std::string& key, const std::string& from, const std::string& to) {
    if (auto it = persons_.find(from); it != persons_.end()) {
      std::vector<std::string>& keys = it->second.keys;
      keys.erase(std::remove(keys.begin(), keys.end(), key), keys.end());
      if (keys.empty()) {
        persons_.erase(it);
        pinned_names_.erase(from);
        removed_persons_.insert(from);
        dirty_persons_.erase(from);
      } else {
        dirty_persons_.insert(from);
      }
    }
    Bind(key, to);
  }

  // `base` unless a person has that id already, then base~2, base~3, ...
  std::string FreshPersonId(const std::string& base) const {
    if (!persons_.contains(base)) return base;
    for (int n = 2;; ++n) {
      std::string id = absl::StrFormat("%s~%d", base, n);
      if (!persons_.contains(id)) return id;
    }
  }

  void MergeInto(const std::string& from, const std::string& to) {
    if (from == to) return;
    auto it = persons_.find(from);
    if (it == persons_.end()) return;
    PersonState st = std::move(it->second);
    persons_.erase(it);
    removed_persons_.insert(from);
    dirty_persons_.erase(from);
    const bool pinned = pinned_names_.erase(from) > 0;
    for (const std::string& k : st.keys) Bind(k, to);
    PersonState& dst = persons_[to];
    if (dst.name.empty() || (pinned && !pinned_names_.contains(to))) dst.name = st.name;
    if (pinned) pinned_names_.insert(to);
    dst.opted_out = dst.opted_out || st.opted_out;
    dst.aliased = dst.aliased || st.aliased;
  }

  // The live person behind a stored person id (it may have been merged away:
  // an id is one of its keys, which now points at the surviving person).
  std::string Live(const std::string& id) const {
    if (persons_.contains(id)) return id;
    auto it = key_to_person_.find(id);
    return it != key_to_person_.end() && persons_.contains(it->second) ? it->second : std::string();
  }

  bool Aliased(const std::string& p) const {
    auto it = persons_.find(p);
    return it != persons_.end() && it->second.aliased;
  }

  // True when some document authored under one of `authors` mentions one of `mentioned`.
  bool Addressed(const std::vector<std::string>& authors, const std::vector<std::string>& mentioned) {
    for (Xapian::WritableDatabase& sdb : shards_) {  // a sharded index: the document may be in any shard
      std::vector<Xapian::Query> a, m;
      for (const std::string& k : mentioned) {
        std::string t = MakeTerm(px::kPrefixMention, k);
        if (sdb.term_exists(t)) m.emplace_back(t);
      }
      if (m.empty()) continue;
      for (const std::string& k : authors) a.emplace_back(MakeTerm(px::kPrefixAuthor, k));
      Xapian::Enquire enquire(sdb);
      enquire.set_query(Xapian::Query(Xapian::Query::OP_AND, Xapian::Query(Xapian::Query::OP_OR, a.begin(), a.end()),
                                      Xapian::Query(Xapian::Query::OP_OR, m.begin(), m.end())));
      enquire.set_weighting_scheme(Xapian::BoolWeight());
      if (!enquire.get_mset(0, 1).empty()) return true;
    }
    return false;
  }

  // Why `person` (or, when empty, the new identity `key`) must not merge with
  // `owner` although both wrote as `name_key` in one source; "" when nothing
  // contradicts it. Contradictions: the aliases file lists both (on different
  // lines), or pins a different name on either; or one wrote to the other (a
  // document by one mentions the other: nobody addresses themselves).
  std::string Contradiction(const std::string& owner, const std::string& person, const std::string& key,
                            const std::string& name_key) {
    if (!person.empty() && Aliased(owner) && Aliased(person)) return "aliases file lists them apart";
    for (const std::string* p : {&owner, &person}) {
      if (p->empty() || !pinned_names_.contains(*p)) continue;
      if (MailNameKey(persons_[*p].name) != name_key) return "aliases file names them differently";
    }
    const std::vector<std::string> mine = person.empty() ? std::vector<std::string>{key} : persons_[person].keys;
    const std::vector<std::string>& theirs = persons_[owner].keys;
    if (Addressed(mine, theirs) || Addressed(theirs, mine)) return "addressed each other";
    return "";
  }

  // Maps an identity key to its person, creating one (id = the key). A mail
  // identity whose display name (MailNameKey, two words or more) already
  // belongs to another person in the same source joins that person, or
  // brings its person along when the key is known already (an address first
  // seen without a name), unless Contradiction() says otherwise.
  // May throw Xapian::Error.
  void Resolve(const std::string& key, const std::string& name, const std::string& source) {
    std::string person;
    if (auto it = key_to_person_.find(key); it != key_to_person_.end()) person = it->second;
    std::string nk = IsMailKey(key) ? MailNameKey(name) : std::string();
    if (key.rfind("mailname:", 0) == 0 && nk.empty()) nk = MailNameKey(key.substr(9));
    if (!nk.empty()) {
      const std::string slot = absl::StrFormat("%s\x1f%s", source, nk);
      auto slot_it = name_to_person_.find(slot);
      std::string owner = slot_it == name_to_person_.end() ? std::string() : Live(slot_it->second);
      if (!owner.empty() && owner != person && options_.name_merge) {
        std::string why = Contradiction(owner, person, key, nk);
        if (why.empty()) {
          std::string from = person, into = owner;
          if (person.empty()) {
            Bind(key, owner);
            from = key;
          } else {
            if (Aliased(person) && !Aliased(owner)) std::swap(from, into);  // keep the aliases file's person
            MergeInto(from, into);
          }
          summary_.name_merges.push_back({source, name, from, into});
          person = into;
        } else if (!person.empty() && blocked_.insert(absl::StrFormat("%s\x1f%s\x1f%s", slot, owner, person)).second) {
          summary_.name_merges_blocked.push_back({source, name, owner, person, why});
        }
      }
      if (person.empty()) {
        person = key;
        Bind(key, key);
      }
      // The slot names the surviving person (or this one, for a new name).
      const std::string holder = owner.empty() ? person : Live(owner);
      if (slot_it == name_to_person_.end() || slot_it->second != holder) {
        name_to_person_[slot] = holder;
        dirty_names_.insert(slot);
      }
    } else if (person.empty()) {
      person = key;
      Bind(key, key);
    }
    if (!name.empty() && !pinned_names_.contains(person)) {
      PersonState& st = persons_[person];
      if (st.name != name) {
        st.name = name;
        AddNameKeys(name);
        dirty_persons_.insert(person);
      }
    }
  }

  Xapian::docid Write(const Record& r, const std::string& qterm, Xapian::WritableDatabase& shard) {
    Xapian::Document doc;
    termgen_.set_document(doc);
    if (!r.title.empty()) {
      termgen_.index_text(r.title, 2);
      termgen_.increase_termpos();
    }
    termgen_.index_text(r.text);
    doc.add_boolean_term(qterm);
    const char kind = static_cast<char>(r.kind);
    doc.add_boolean_term(MakeTerm(px::kPrefixKind, std::string_view(&kind, 1)));
    doc.add_boolean_term(MakeTerm(px::kPrefixSource, r.source));
    if (!r.author_key.empty()) doc.add_boolean_term(MakeTerm(px::kPrefixAuthor, r.author_key));
    for (const std::string& m : r.mentions) doc.add_boolean_term(MakeTerm(px::kPrefixMention, m));
    for (const std::string& t : r.topics) doc.add_boolean_term(MakeTerm(px::kPrefixTopic, t));
    if (!r.community.empty()) doc.add_boolean_term(MakeTerm(px::kPrefixCommunity, r.community));
    if (!r.visibility.empty()) doc.add_boolean_term(MakeTerm(px::kPrefixVisibility, r.visibility));
    doc.add_boolean_term(MakeTerm(px::kPrefixThread, r.thread_id.empty() ? r.id : r.thread_id));
    if (!r.reply_to.empty()) doc.add_boolean_term(MakeTerm(px::kPrefixReplyTo, r.reply_to));

    doc.add_value(kSlotTimestamp, Xapian::sortable_serialise(static_cast<double>(r.timestamp)));
    px::DocMeta m;
    m.id = r.id;
    m.kind = kind;
    m.source = r.source;
    m.thread_id = r.thread_id.empty() ? r.id : r.thread_id;
    m.reply_to = r.reply_to;
    m.author_key = r.author_key;
    m.author_name = r.author_name;
    m.community = r.community;
    m.visibility = r.visibility;
    m.title = r.title;
    m.accepted_answer_id = r.accepted_answer_id;
    m.score = r.score;
    m.accepted = r.accepted;
    m.mentions = r.mentions;
    m.topics = r.topics;
    doc.add_value(kSlotMeta, px::PackMeta(m));
    doc.set_data(r.text);
    return shard.add_document(doc);
  }

  std::string dir_;
  IndexOptions options_;
  Xapian::WritableDatabase db_;  // shard 0: documents and the identity table
  std::vector<Xapian::WritableDatabase> shards_;  // every shard, db_ first
  Xapian::TermGenerator termgen_;
  TopicExtractor extractor_;
  TopicVocabulary vocabulary_;
  absl::flat_hash_map<std::string, uint64_t> df_cache_;  // word -> document frequency, until the next commit
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> stop_keys_;  // by community
  std::vector<std::string> words_;  // candidate words of the document being added
  std::vector<std::string> author_keys_;
  std::vector<std::string> new_derived_;  // derived topics new to the vocabulary, until the next commit
  absl::flat_hash_set<std::string> name_keys_;  // keys of the words of people's names
  struct WarmupDoc {
    size_t shard;  // index into shards_
    Xapian::docid docid;
    Record record;
    size_t source_topics;  // record.topics[0, source_topics) came from the source
  };
  std::vector<WarmupDoc> warmup_;
  size_t pending_ = 0;
  mutable IndexSummary summary_;
  std::map<std::string, uint64_t> skipped_;
  absl::flat_hash_map<std::string, std::string> key_to_person_;
  absl::flat_hash_map<std::string, std::string> name_to_person_;
  absl::flat_hash_map<std::string, PersonState> persons_;
  absl::flat_hash_set<std::string> pinned_names_;
  absl::flat_hash_set<std::string> dirty_keys_, dirty_persons_, removed_persons_, dirty_names_;
  absl::flat_hash_set<std::string> blocked_;  // "slot \x1f owner \x1f person" reported this run
};

}  // namespace

std::string PersonDataPrefix(std::string_view person_id) {
  constexpr size_t kKeep = 160;
  std::string out = "pd:";
  if (person_id.size() <= kKeep) {
    out.append(person_id);
  } else {
    uint64_t h = 1469598103934665603ull;  // FNV-1a: stable across processes
    for (unsigned char c : person_id) {
      h ^= c;
      h *= 1099511628211ull;
    }
    out.append(person_id.substr(0, kKeep - 17));
    out += absl::StrFormat("#%016x", h);
  }
  out.push_back('\x1f');
  return out;
}

namespace {

// A writer over remote shards (xapian-tcpsrv --writable) that survives a
// shard server dying: a call that fails with Unavailable (the connection is
// gone) names the shards that are down and drops the inner writer, whose
// session is lost with the server; the next call opens a new one from what
// the shards committed (and fails, naming the shard, while it is still down).
// Nothing is acknowledged before every shard committed it (Commit commits
// each shard and waits for each server's reply), so an acknowledged record is
// never lost; records of a call that failed may be partly committed (on the
// shards that stayed up) and are found as duplicates when the caller retries.
class ReconnectingIndexWriter final : public IndexWriter {
 public:
  ReconnectingIndexWriter(std::string dir, const IndexOptions& options, std::vector<std::string> remotes)
      : dir_(std::move(dir)), options_(options), remotes_(std::move(remotes)) {}

  absl::Status Open() {
    if (inner_ != nullptr) return absl::OkStatus();
    auto w = std::make_unique<XapianIndexWriter>(dir_, options_);
    WK_RETURN_IF_ERROR(Check(w->Init()));
    inner_ = std::move(w);
    return absl::OkStatus();
  }

  absl::Status Add(Record record) override {
    return Run([&](XapianIndexWriter& w) { return w.Add(record); });
  }
  void CountBad(std::string_view reason) override {
    if (inner_ != nullptr) {
      inner_->CountBad(reason);
    } else {
      ++base_.skipped;
      ++skipped_[std::string(reason)];
    }
  }
  absl::Status ApplyAliases(const std::vector<AliasGroup>& groups) override {
    return Run([&](XapianIndexWriter& w) { return w.ApplyAliases(groups); });
  }
  absl::Status Commit() override {
    if (inner_ == nullptr) return absl::OkStatus();
    return Check(inner_->Commit());
  }
  absl::StatusOr<uint64_t> ErasePerson(std::string_view person_id) override {
    uint64_t removed = 0;
    WK_RETURN_IF_ERROR(Run([&](XapianIndexWriter& w) {
      absl::StatusOr<uint64_t> n = w.ErasePerson(person_id);
      if (n.ok()) removed += *n;
      return n.status();
    }));
    return removed;
  }
  absl::Status SetOptOut(std::string_view person_id, bool opted_out) override {
    return Run([&](XapianIndexWriter& w) { return w.SetOptOut(person_id, opted_out); });
  }
  absl::Status PutMetadata(const std::vector<std::pair<std::string, std::string>>& entries) override {
    return Run([&](XapianIndexWriter& w) { return w.PutMetadata(entries); });
  }
  const IndexSummary& summary() const override {
    summary_ = base_;
    std::map<std::string, uint64_t> reasons = skipped_;
    if (inner_ != nullptr) {
      Fold(inner_->summary(), &summary_);
      for (const auto& [r, n] : inner_->summary().skipped_by_reason) reasons[r] += n;
    }
    summary_.skipped_by_reason.assign(reasons.begin(), reasons.end());
    return summary_;
  }

 private:
  static void Fold(const IndexSummary& from, IndexSummary* to) {
    to->read += from.read;
    to->indexed += from.indexed;
    to->duplicates += from.duplicates;
    to->skipped += from.skipped;
    to->commits += from.commits;
    to->name_merges.insert(to->name_merges.end(), from.name_merges.begin(), from.name_merges.end());
    to->name_merges_blocked.insert(to->name_merges_blocked.end(), from.name_merges_blocked.begin(),
                                   from.name_merges_blocked.end());
  }

  // Runs `op` on the inner writer (opened first). xapian-tcpsrv closes a
  // connection that was idle longer than its --idle-timeout (60 s by default),
  // so the first call after a quiet spell (after a long ranker training, or a
  // server without ingests for a minute) finds the session gone although
  // every shard is up. When the lost session held nothing uncommitted, nothing
  // can be lost: reconnect once and run `op` again (a shard that is really
  // down fails the reconnect, and the first error is returned). With
  // uncommitted work the error stands: the caller was not acknowledged.
  absl::Status Run(const std::function<absl::Status(XapianIndexWriter&)>& op) {
    WK_RETURN_IF_ERROR(Open());
    const bool clean = !inner_->HasUncommitted();
    absl::Status s = Check(op(*inner_));
    if (s.ok() || !clean || inner_ != nullptr || !Open().ok()) return s;  // inner_ dropped: the session was lost
    return Check(op(*inner_));
  }

  // Unavailable: a shard server is gone, and with it this writer's session.
  absl::Status Check(absl::Status s) {
    if (s.code() != absl::StatusCode::kUnavailable || s.message().find("another writer") != std::string::npos) {
      return s;
    }
    if (inner_ != nullptr) {
      const IndexSummary& gone = inner_->summary();
      Fold(gone, &base_);
      for (const auto& [r, n] : gone.skipped_by_reason) skipped_[r] += n;
      base_.skipped_by_reason.clear();
      inner_.reset();  // its destructor commits what the shards still up hold (never acknowledged)
    }
    return internal::NameDownShards(s, remotes_, "writes resume when it is back");
  }

  std::string dir_;
  IndexOptions options_;
  std::vector<std::string> remotes_;  // every shard location (named in errors)
  std::unique_ptr<XapianIndexWriter> inner_;
  IndexSummary base_;  // counts of the writers dropped so far
  std::map<std::string, uint64_t> skipped_;
  mutable IndexSummary summary_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<IndexWriter>> IndexWriter::Open(const std::string& dir, const IndexOptions& options) {
  const std::vector<std::string>& locs = options.shard_locations;
  if (std::any_of(locs.begin(), locs.end(), [](const std::string& l) { return l.rfind("tcp://", 0) == 0; })) {
    auto w = std::make_unique<ReconnectingIndexWriter>(dir, options, locs);
    WK_RETURN_IF_ERROR(w->Open());
    return std::unique_ptr<IndexWriter>(std::move(w));
  }
  auto w = std::make_unique<XapianIndexWriter>(dir, options);
  WK_RETURN_IF_ERROR(w->Init());
  return std::unique_ptr<IndexWriter>(std::move(w));
}

}  // namespace whoknows::indexer
