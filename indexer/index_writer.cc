#include <xapian.h>

#include <algorithm>
#include <filesystem>
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
#include "whoknows/indexer/topics.h"
#include "xapian_util.h"

namespace whoknows::indexer {
namespace {

using internal::GuardXapian;
using internal::MakeTerm;
namespace px = internal;


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
};

class XapianIndexWriter final : public IndexWriter {
 public:
  XapianIndexWriter(std::string dir, const IndexOptions& options)
      : dir_(std::move(dir)), options_(options), extractor_(options.topics) {
    extractor_.set_name_keys(&name_keys_);
  }

  absl::Status Init() {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);  // "created when missing", parents included
    WK_RETURN_IF_ERROR(GuardXapian(absl::StrFormat("open %s for writing", dir_), [&] {
      db_ = Xapian::WritableDatabase(dir_, Xapian::DB_CREATE_OR_OPEN);
    }));
    std::string format;
    WK_RETURN_IF_ERROR(GuardXapian("read format", [&] { format = db_.get_metadata(std::string(px::kFormatKey)); }));
    if (format.empty() && db_.get_doccount() == 0) {
      WK_RETURN_IF_ERROR(GuardXapian("write format", [&] {
        db_.set_metadata(std::string(px::kFormatKey), std::string(px::kFormatVersion));
      }));
      ++pending_;
    } else if (format != px::kFormatVersion) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: index format %s, this build writes format %s; re-index into a new directory", dir_,
          format.empty() ? "1" : format, px::kFormatVersion));
    }
    termgen_.set_stemmer(Xapian::Stem("en"));
    termgen_.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
    WK_RETURN_IF_ERROR(GuardXapian("load identities", [&] { LoadIdentities(); }));
    return GuardXapian("load topic vocabulary", [&] { LoadVocabulary(); });
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
    bool exists = false;
    WK_RETURN_IF_ERROR(GuardXapian("lookup", [&] { exists = db_.term_exists(qterm); }));
    if (exists) {
      ++summary_.duplicates;
      return absl::OkStatus();
    }
    SanitizeUtf8(&record.title);
    SanitizeUtf8(&record.text);
    SanitizeUtf8(&record.author_name);
    if (!record.author_key.empty()) Resolve(record.author_key, record.author_name);
    for (const std::string& m : record.mentions) Resolve(m, "");

    WK_RETURN_IF_ERROR(GuardXapian(absl::StrFormat("index %s", record.id), [&] {
      const size_t source_topics = record.topics.size();
      const bool derive = options_.derive_topics && NeedsDerivedTopics(record);
      if (derive) {
        DeriveTopics(&record, /*indexed=*/false);
      } else {
        for (const std::string& t : record.topics) vocabulary_.Add(t, /*tag=*/true);
      }
      const Xapian::docid docid = Write(record, qterm);
      // Topics derived while the index is small are derived again at commit,
      // against the statistics the index has by then.
      if (derive && db_.get_doccount() < options_.topics.warmup_docs) {
        warmup_.push_back({docid, std::move(record), source_topics});
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
    for (const AliasGroup& g : groups) {
      if (g.keys.empty()) continue;
      // The canonical person: the one already holding keys[0], else keys[0].
      std::string target;
      if (auto it = key_to_person_.find(g.keys[0]); it != key_to_person_.end()) {
        target = it->second;
      } else {
        target = g.keys[0];
        Bind(g.keys[0], target);
      }
      for (const std::string& k : g.keys) {
        auto it = key_to_person_.find(k);
        if (it == key_to_person_.end()) {
          Bind(k, target);
        } else if (it->second != target) {
          MergeInto(it->second, target);
        }
      }
      if (!g.name.empty()) {
        AddNameKeys(g.name);
        persons_[target].name = g.name;
        pinned_names_.insert(target);
        dirty_persons_.insert(target);
      }
    }
    return absl::OkStatus();
  }

  absl::Status Commit() override {
    if (pending_ == 0 && dirty_keys_.empty() && dirty_persons_.empty() && removed_persons_.empty()) {
      return absl::OkStatus();
    }
    WK_RETURN_IF_ERROR(GuardXapian("commit", [&] {
      RederiveWarmup();
      for (const std::string& k : dirty_keys_) {
        auto it = key_to_person_.find(k);
        db_.set_metadata(MakeTerm(px::kMetaKey, k), it == key_to_person_.end() ? std::string() : it->second);
      }
      for (const std::string& p : removed_persons_) db_.set_metadata(MakeTerm(px::kMetaPerson, p), "");
      // Derived topics are remembered as such, so tags stay tags (known_boost) in later runs.
      for (const std::string& t : new_derived_) db_.set_metadata(MakeTerm(px::kMetaDerivedTopic, t), "1");
      for (const std::string& p : dirty_persons_) {
        auto it = persons_.find(p);
        if (it == persons_.end()) continue;
        nlohmann::json j;
        j["name"] = it->second.name;
        j["keys"] = it->second.keys;
        if (it->second.opted_out) j["optout"] = true;
        if (pinned_names_.contains(p)) j["pinned"] = true;
        db_.set_metadata(MakeTerm(px::kMetaPerson, p), j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      }
      db_.commit();
    }));
    // Document frequencies are re-read from the index after each commit.
    df_cache_.clear();
    new_derived_.clear();
    dirty_keys_.clear();
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
        const std::string term = MakeTerm(px::kPrefixAuthor, k);
        std::vector<Xapian::docid> ids;
        for (auto p = db_.postlist_begin(term); p != db_.postlist_end(term); ++p) ids.push_back(*p);
        for (Xapian::docid d : ids) db_.delete_document(d);
        removed += ids.size();
        // Mentions of the person elsewhere are personal data too: drop the
        // mention terms and values pointing at this key.
        const std::string mterm = MakeTerm(px::kPrefixMention, k);
        std::vector<Xapian::docid> mids;
        for (auto p = db_.postlist_begin(mterm); p != db_.postlist_end(mterm); ++p) mids.push_back(*p);
        for (Xapian::docid d : mids) {
          Xapian::Document doc = db_.get_document(d);
          doc.remove_term(mterm);
          px::DocMeta m;
          if (px::UnpackMeta(doc.get_value(kSlotMeta), &m)) {
            m.mentions.erase(std::remove(m.mentions.begin(), m.mentions.end(), k), m.mentions.end());
            doc.add_value(kSlotMeta, px::PackMeta(m));
          }
          db_.replace_document(d, doc);
        }
        key_to_person_.erase(k);
        dirty_keys_.insert(k);
      }
    }));
    persons_.erase(it);
    removed_persons_.insert(std::string(person_id));
    dirty_persons_.erase(std::string(person_id));
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

  const IndexSummary& summary() const override {
    summary_.skipped_by_reason.assign(skipped_.begin(), skipped_.end());
    return summary_;
  }

 private:
  void LoadIdentities() {
    px::ReadIdentityTable(
        db_, [&](std::string key, std::string person) { key_to_person_[std::move(key)] = std::move(person); },
        [&](Person p, bool pinned) {
          if (pinned) pinned_names_.insert(p.id);
          for (const std::string& k : p.keys) {
            if (k.rfind("mail", 0) == 0 && !p.name.empty()) {
              std::string nk = MailNameKey(p.name);
              if (!nk.empty()) name_to_person_.emplace(nk, p.id);
            }
          }
          AddNameKeys(p.name);
          persons_.emplace(p.id, PersonState{std::move(p.name), std::move(p.keys), p.opted_out});
        });
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
    for (auto it = db_.allterms_begin(prefix); it != db_.allterms_end(prefix); ++it) {
      const std::string display = (*it).substr(prefix.size());
      vocabulary_.Add(display, /*tag=*/!derived.contains(display), it.get_termfreq());
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
      Xapian::Document doc = db_.get_document(w.docid);
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
      db_.replace_document(w.docid, doc);
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
    dirty_persons_.insert(person);
  }

  void MergeInto(const std::string& from, const std::string& to) {
    if (from == to) return;
    auto it = persons_.find(from);
    if (it == persons_.end()) return;
    PersonState st = std::move(it->second);
    persons_.erase(it);
    removed_persons_.insert(from);
    dirty_persons_.erase(from);
    for (const std::string& k : st.keys) Bind(k, to);
    PersonState& dst = persons_[to];
    if (dst.name.empty()) dst.name = st.name;
    dst.opted_out = dst.opted_out || st.opted_out;
  }

  // Maps an identity key to its person, creating one (id = the key) or
  // merging a mail identity into the person with the same display name.
  void Resolve(const std::string& key, const std::string& name) {
    auto it = key_to_person_.find(key);
    std::string person;
    if (it != key_to_person_.end()) {
      person = it->second;
    } else {
      std::string nk = IsMailKey(key) ? MailNameKey(name) : std::string();
      if (key.rfind("mailname:", 0) == 0 && nk.empty()) nk = MailNameKey(key.substr(9));
      auto by_name = nk.empty() ? name_to_person_.end() : name_to_person_.find(nk);
      person = by_name != name_to_person_.end() ? by_name->second : key;
      Bind(key, person);
      if (!nk.empty()) name_to_person_.emplace(nk, person);
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

  Xapian::docid Write(const Record& r, const std::string& qterm) {
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
    return db_.add_document(doc);
  }

  std::string dir_;
  IndexOptions options_;
  Xapian::WritableDatabase db_;
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
  absl::flat_hash_set<std::string> dirty_keys_, dirty_persons_, removed_persons_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<IndexWriter>> IndexWriter::Open(const std::string& dir, const IndexOptions& options) {
  auto w = std::make_unique<XapianIndexWriter>(dir, options);
  WK_RETURN_IF_ERROR(w->Init());
  return std::unique_ptr<IndexWriter>(std::move(w));
}

}  // namespace whoknows::indexer
