#include <xapian.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <span>
#include <tuple>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "whoknows/base/status_macros.h"
#include "whoknows/indexer/index.h"
#include "bm25_source.h"
#include "shards.h"
#include "term_match.h"
#include "xapian_util.h"

namespace whoknows::indexer {
namespace {

using internal::GuardXapian;
using internal::MakeTerm;
namespace px = internal;

class XapianIndexReader final : public IndexReader {
 public:
  // `locations`: one database directory, or the shards (paths or tcp://HOST:PORT).
  XapianIndexReader(std::string dir, std::vector<std::string> locations)
      : dir_(std::move(dir)), locations_(std::move(locations)) {
    remote_ = std::any_of(locations_.begin(), locations_.end(), [](const std::string& l) { return IsRemote(l); });
  }

  absl::Status Init() {
    std::string format;
    const std::string what = locations_.size() == 1 ? absl::StrFormat("open %s", dir_)
                                                    : absl::StrFormat("open %d shards", locations_.size());
    absl::Status opened = GuardXapian(what, [&] {
      shards_.clear();
      for (const std::string& loc : locations_) shards_.push_back(internal::OpenShardForReading(loc));
      db_ = shards_.front();
      for (size_t i = 1; i < shards_.size(); ++i) db_.add_database(shards_[i]);
      format = db_.get_metadata(std::string(px::kFormatKey));
    });
    WK_RETURN_IF_ERROR(NameShards(opened));
    broken_ = false;
    if (format != px::kFormatVersion && !(format.empty() && db_.get_doccount() == 0)) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: index format %s, this build reads format %s; re-index into a new directory", dir_,
          format.empty() ? "1" : format, px::kFormatVersion));
    }
    return LoadIdentities();
  }

  absl::Status Reopen() override {
    if (broken_) return Init();  // a shard failed earlier: reconnect
    bool changed = false;
    absl::Status s = GuardXapian("reopen", [&] { changed = db_.reopen(); });
    if (s.code() == absl::StatusCode::kUnavailable && remote_) return Init();  // e.g. an idle timeout: reconnect
    WK_RETURN_IF_ERROR(NameShards(std::move(s)));
    return changed ? LoadIdentities() : absl::OkStatus();
  }

  size_t shard_count() const override { return shards_.size(); }

  uint64_t doc_count() const override { return db_.get_doccount(); }
  uint64_t revision() const override { return revision_; }

  absl::StatusOr<IndexStats> Stats() override {
    IndexStats st;
    if (broken_) WK_RETURN_IF_ERROR(Init());
    WK_RETURN_IF_ERROR(Read("stats", [&] {
      st = IndexStats{};
      st.documents = db_.get_doccount();
      auto count_prefix = [&](std::string_view prefix, std::vector<std::pair<std::string, uint64_t>>* out) {
        uint64_t n = 0;
        const std::string p(prefix);
        for (auto t = db_.allterms_begin(p); t != db_.allterms_end(p); ++t) {
          ++n;
          if (out != nullptr) out->emplace_back((*t).substr(p.size()), t.get_termfreq());
        }
        return n;
      };
      count_prefix(px::kPrefixKind, &st.by_kind);
      for (auto& [k, n] : st.by_kind) {
        if (!k.empty()) k = std::string(KindName(static_cast<RecordKind>(k[0])));
      }
      count_prefix(px::kPrefixSource, &st.by_source);
      st.threads = count_prefix(px::kPrefixThread, nullptr);
      st.topics = count_prefix(px::kPrefixTopic, nullptr);
      count_prefix(px::kPrefixCommunity, &st.communities);
      count_prefix(px::kPrefixVisibility, &st.visibility);
      if (st.documents > 0) {
        st.first_timestamp = static_cast<int64_t>(Xapian::sortable_unserialise(db_.get_value_lower_bound(kSlotTimestamp)));
        st.last_timestamp = static_cast<int64_t>(Xapian::sortable_unserialise(db_.get_value_upper_bound(kSlotTimestamp)));
      }
    }));
    WK_RETURN_IF_ERROR(LoadAllIdentities());
    st.persons = persons_.size();
    return st;
  }

  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ListMetadata(std::string_view prefix) override {
    std::vector<std::pair<std::string, std::string>> out;
    const std::string p(prefix);
    WK_RETURN_IF_ERROR(Read("list metadata", [&] {
      out.clear();
      for (auto m = db_.metadata_keys_begin(p); m != db_.metadata_keys_end(p); ++m) {
        out.emplace_back(*m, db_.get_metadata(*m));
      }
    }));
    return out;
  }

  uint32_t last_docid() const override { return db_.get_lastdocid(); }

  absl::Status ForEachDocument(const std::function<void(const StoredDoc&)>& fn, uint32_t first_docid) override {
    // Every document: one pass over the identity table beats a lookup per key.
    if (first_docid <= 1) WK_RETURN_IF_ERROR(LoadAllIdentities());
    Xapian::docid next = first_docid;  // a retry after a reconnect resumes after the last document passed on
    return Read("scan documents", [&] {
      StoredDoc d;
      px::DocMeta meta;
      auto it = db_.postlist_begin("");
      if (next > 1) it.skip_to(next);
      for (; it != db_.postlist_end(""); ++it) {
        Xapian::Document doc = db_.get_document(*it, Xapian::DOC_ASSUME_VALID);
        FillStored(*it, doc, &d, &meta);
        next = *it + 1;
        fn(d);
      }
    });
  }

  absl::StatusOr<std::vector<Person>> ListPersons() override {
    WK_RETURN_IF_ERROR(LoadAllIdentities());
    std::vector<Person> out;
    out.reserve(persons_.size());
    for (const auto& [id, p] : persons_) out.push_back(p);
    std::sort(out.begin(), out.end(), [](const Person& a, const Person& b) { return a.id < b.id; });
    return out;
  }

  absl::StatusOr<std::vector<AuthorName>> ListAuthorNames() override {
    WK_RETURN_IF_ERROR(LoadAllIdentities());
    std::map<std::tuple<std::string, std::string, std::string>, uint64_t> seen;
    WK_RETURN_IF_ERROR(Read("scan author names", [&] {
      seen.clear();
      px::DocMeta m;
      for (auto it = db_.postlist_begin(""); it != db_.postlist_end(""); ++it) {
        Xapian::Document doc = db_.get_document(*it, Xapian::DOC_ASSUME_VALID);
        if (!px::UnpackMeta(doc.get_value(kSlotMeta), &m) || m.author_key.empty()) continue;
        ++seen[{m.source, m.author_key, m.author_name}];
      }
    }));
    std::vector<AuthorName> out;
    out.reserve(seen.size());
    for (const auto& [k, n] : seen) {
      out.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), PersonOf(std::get<1>(k)), n});
    }
    return out;
  }

  absl::StatusOr<std::string> ResolvePerson(std::string_view key) override {
    const std::string k(key);
    std::optional<std::string> found;
    WK_RETURN_IF_ERROR(NameShards(GuardXapian("resolve person", [&] {
      if (LookupPerson(k) != nullptr) {
        found = k;
      } else if (const std::string* p = LookupKey(k); p != nullptr) {
        found = *p;
      } else if (const std::string* m = LookupKey(absl::StrFormat("mail:%s", key)); m != nullptr) {
        found = *m;
      }
    })));
    if (found.has_value()) return *std::move(found);
    return absl::NotFoundError(absl::StrFormat("unknown person %s", key));
  }

  absl::StatusOr<std::vector<Person>> GetPersons(std::span<const std::string> ids) override {
    std::vector<Person> out;
    WK_RETURN_IF_ERROR(NameShards(GuardXapian("look up persons", [&] {
      for (const std::string& id : ids) {
        if (const Person* p = LookupPerson(id); p != nullptr) out.push_back(*p);
      }
    })));
    return out;
  }

  absl::StatusOr<std::vector<SearchHit>> Search(std::string_view text, const SearchFilter& filter,
                                                size_t n) override {
    bool blank = std::all_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
    if (blank) return absl::InvalidArgumentError("empty query");
    std::vector<SearchHit> hits;
    if (broken_) WK_RETURN_IF_ERROR(Init());
    WK_RETURN_IF_ERROR(Read("search", [&] {
      hits.clear();
      // One local database: BM25 with the document lengths in memory (the
      // same weights, without walking Xapian's length list per query).
      if (shards_.size() == 1 && !IsRemote(locations_.front()) && in_memory_lengths_) {
        if (lengths_ == nullptr || lengths_->revision != revision_) {
          lengths_ = internal::SharedDocLengths(locations_.front(), db_, revision_, term_cache_bytes_);
        }
      } else {
        lengths_ = nullptr;
      }
      // An OR of plain terms without filters (most questions): matched over
      // the decoded postings (term_match.h; the same answer as Xapian's).
      std::vector<std::string> or_terms;
      const bool unfiltered = filter.visibility.empty() && filter.communities.empty() && filter.topics.empty() &&
                              filter.sources.empty() && filter.from == 0 && filter.to == 0;
      Xapian::Query q = ParseQuery(text, lengths_, unfiltered && own_matcher_ ? &or_terms : nullptr);
      if (q.empty()) return;
      if (!or_terms.empty()) {
        if (auto m = internal::MatchOrOfTerms(db_, lengths_, or_terms, n); m.has_value()) {
          hits.reserve(m->size());
          for (const internal::ScoredDoc& d : *m) hits.push_back({d.docid, d.weight});
          return;
        }
        q = internal::WithInMemoryLengths(q, lengths_);  // a term that does not fit the cache: Xapian's matcher
      }
      q = ApplyFilter(q, filter);
      Xapian::Enquire enquire(db_);
      enquire.set_query(q);
      enquire.set_weighting_scheme(Xapian::BM25Weight());
      Xapian::MSet mset = enquire.get_mset(0, static_cast<Xapian::doccount>(n));
      hits.reserve(mset.size());
      for (auto it = mset.begin(); it != mset.end(); ++it) hits.push_back({*it, it.get_weight()});
    }));
    return hits;
  }

  absl::StatusOr<DocText> GetDoc(uint32_t docid) override {
    std::vector<absl::StatusOr<DocText>> one = GetDocs(std::span<const uint32_t>(&docid, 1));
    return std::move(one.front());
  }

  std::vector<absl::StatusOr<DocText>> GetDocs(std::span<const uint32_t> docids) override {
    // In docid order, one field for all documents before the next: glass keeps
    // one cursor per table, so reads of nearby keys share B-tree blocks.
    // DOC_ASSUME_VALID skips the existence check (a read of the length list);
    // a missing document fails on its empty meta value instead (every document
    // the writer adds has one).
    const size_t n = docids.size();
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return docids[a] < docids[b]; });
    std::vector<absl::StatusOr<DocText>> out(n, DocText{});
    std::vector<Xapian::Document> docs(n);
    auto each = [&](auto&& field) {
      for (size_t i : order) {
        if (!out[i].ok()) continue;
        absl::Status st = Read(absl::StrFormat("document %d", docids[i]), [&] { field(i, *out[i]); });
        if (!st.ok()) out[i] = std::move(st);
      }
    };
    each([&](size_t i, DocText&) { docs[i] = db_.get_document(docids[i], Xapian::DOC_ASSUME_VALID); });
    each([&](size_t i, DocText& t) {
      const std::string packed = docs[i].get_value(kSlotMeta);
      if (packed.empty()) throw Xapian::DocNotFoundError(absl::StrFormat("Document %d not found", docids[i]));
      px::DocMeta m;
      px::UnpackMeta(packed, &m);
      t.id = std::move(m.id);
      t.title = std::move(m.title);
      t.source = std::move(m.source);
      t.thread_id = std::move(m.thread_id);
      t.community = std::move(m.community);
      t.visibility = std::move(m.visibility);
      t.author = PersonOf(m.author_key);
      t.kind = static_cast<RecordKind>(m.kind);
    });
    each([&](size_t i, DocText& t) {
      t.timestamp = static_cast<int64_t>(Xapian::sortable_unserialise(docs[i].get_value(kSlotTimestamp)));
    });
    each([&](size_t i, DocText& t) { t.text = docs[i].get_data(); });
    return out;
  }

  std::string Snippet(const DocText& doc, std::string_view query, size_t length) override {
    // Window around the first word of the text that starts with a query word
    // of 3+ letters (case-insensitive). One pass over each: a 64 KiB question
    // costs no more per evidence document than its distinct words.
    const std::string& text = doc.text;
    std::string word;
    if (query != snippet_query_) {  // the evidence of one answer shares its query: split it once
      snippet_query_.assign(query);
      snippet_words_.clear();
      snippet_longest_ = 0;
      auto add = [&] {
        if (word.size() >= 3) {
          snippet_longest_ = std::max(snippet_longest_, word.size());
          snippet_words_.insert(std::move(word));
        }
        word.clear();
      };
      for (char c : query) {
        if (std::isalnum(static_cast<unsigned char>(c))) word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        else add();
      }
      add();
    }
    const absl::flat_hash_set<std::string>& words = snippet_words_;
    const size_t longest = snippet_longest_;
    size_t best = std::string::npos;
    for (size_t i = 0; i < text.size() && best == std::string::npos;) {
      if (!std::isalnum(static_cast<unsigned char>(text[i]))) {
        ++i;
        continue;
      }
      size_t j = i;
      word.clear();
      while (j < text.size() && std::isalnum(static_cast<unsigned char>(text[j]))) {
        word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(text[j]))));
        ++j;
      }
      for (size_t n = 3; n <= std::min(word.size(), longest); ++n) {
        if (words.contains(absl::string_view(word.data(), n))) {
          best = i;
          break;
        }
      }
      i = j;
    }
    size_t start = best == std::string::npos ? 0 : (best > length / 3 ? best - length / 3 : 0);
    while (start > 0 && start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    size_t end = std::min(text.size(), start + length);
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
    std::string out = text.substr(start, end - start);
    for (char& c : out) {
      if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    }
    if (start > 0) out = "…" + out;
    if (end < text.size()) out += "…";
    return out;
  }

 private:
  // A new revision: forget the identities read so far. One local database
  // reads them lazily (a key or person per lookup, or the whole table for a
  // scan of every document or person), so that reopening after a commit costs
  // no pass over ~100k persons; sharded readers load the table at once.
  absl::Status LoadIdentities() {
    key_to_person_.clear();
    persons_.clear();
    missing_keys_.clear();
    missing_persons_.clear();
    all_identities_ = false;
    WK_RETURN_IF_ERROR(GuardXapian("revision", [&] { revision_ = Revision(); }));
    if (shards_.size() > 1 || IsRemote(locations_.front())) return LoadAllIdentities();
    return absl::OkStatus();
  }

  absl::Status LoadAllIdentities() {
    if (all_identities_) return absl::OkStatus();
    return NameShards(GuardXapian("load identities", [&] {
      key_to_person_.clear();
      persons_.clear();
      px::ReadIdentityTable(
          db_, [&](std::string key, std::string person) { key_to_person_[std::move(key)] = std::move(person); },
          [&](Person p, bool) { persons_.emplace(p.id, std::move(p)); });
      missing_keys_.clear();
      missing_persons_.clear();
      all_identities_ = true;
    }));
  }

  // The person id of identity key `key` (null: none). May throw Xapian::Error.
  const std::string* LookupKey(const std::string& key) {
    if (auto it = key_to_person_.find(key); it != key_to_person_.end()) return &it->second;
    if (all_identities_ || missing_keys_.contains(key)) return nullptr;
    std::string v = db_.get_metadata(std::string(px::kMetaKey) + key);
    if (v.empty()) {
      missing_keys_.insert(key);
      return nullptr;
    }
    return &key_to_person_.emplace(key, std::move(v)).first->second;
  }

  // Person `id` of the identity table (null: none). May throw Xapian::Error.
  const Person* LookupPerson(const std::string& id) {
    if (auto it = persons_.find(id); it != persons_.end()) return &it->second;
    if (all_identities_ || missing_persons_.contains(id)) return nullptr;
    Person p;
    bool pinned = false;
    if (!px::ParsePersonEntry(id, db_.get_metadata(std::string(px::kMetaPerson) + id), &p, &pinned)) {
      missing_persons_.insert(id);
      return nullptr;
    }
    return &persons_.emplace(id, std::move(p)).first->second;
  }

  // get_revision() for one local database; a combined or remote one has no
  // revision in Xapian 1.4, so mix each shard's revision, or its document
  // count, last docid and total length (all change with every added document).
  uint64_t Revision() const {
    if (shards_.size() == 1 && !IsRemote(locations_.front())) return db_.get_revision();
    uint64_t h = 1469598103934665603ull;
    auto mix = [&](uint64_t v) { h = (h ^ v) * 1099511628211ull; };
    for (size_t i = 0; i < shards_.size(); ++i) {
      if (!IsRemote(locations_[i])) {
        mix(shards_[i].get_revision());
      } else {
        mix(shards_[i].get_doccount());
        mix(shards_[i].get_lastdocid());
        mix(shards_[i].get_total_length());
      }
    }
    return h;
  }

  static bool IsRemote(const std::string& location) { return location.rfind("tcp://", 0) == 0; }

  // Runs `fn` (Xapian calls; it must reset what it fills, so that it can run
  // twice). xapian-tcpsrv closes a connection that was idle longer than its
  // --idle-timeout (60 s by default), so a remote shard's first call after a
  // quiet spell fails although its server is up: reads are idempotent, so
  // reconnect once and run `fn` again. A shard that is really down fails the
  // reconnect too, and is named; later reads of the same call (a document
  // each in GetDocs) do not try again until the next call reconnects.
  template <typename Fn>
  absl::Status Read(std::string_view what, Fn&& fn) {
    absl::Status s = GuardXapian(what, fn);
    if (s.code() == absl::StatusCode::kUnavailable && remote_ && !broken_ && Init().ok()) s = GuardXapian(what, fn);
    return NameShards(std::move(s));
  }

  // An Unavailable status (a remote shard failed) becomes one naming the
  // shards that do not answer now; the reader reconnects on its next use.
  absl::Status NameShards(absl::Status s) {
    if (s.code() != absl::StatusCode::kUnavailable) return s;
    broken_ = true;
    return internal::NameDownShards(std::move(s), locations_, "no partial answers");
  }

  // May throw Xapian::Error (a lazy lookup).
  std::string PersonOf(const std::string& key) {
    if (key.empty()) return key;
    const std::string* p = LookupKey(key);
    return p == nullptr ? key : *p;
  }

  void FillStored(Xapian::docid id, const Xapian::Document& doc, StoredDoc* d, px::DocMeta* m) {
    d->docid = id;
    if (!px::UnpackMeta(doc.get_value(kSlotMeta), m)) *m = px::DocMeta();
    d->id = std::move(m->id);
    d->kind = static_cast<RecordKind>(m->kind);
    d->source = std::move(m->source);
    d->thread_id = std::move(m->thread_id);
    d->reply_to = std::move(m->reply_to);
    d->author = PersonOf(m->author_key);
    d->mentions.clear();
    for (const std::string& k : m->mentions) d->mentions.push_back(PersonOf(k));
    d->timestamp = static_cast<int64_t>(Xapian::sortable_unserialise(doc.get_value(kSlotTimestamp)));
    d->topics = std::move(m->topics);
    d->community = std::move(m->community);
    d->visibility = std::move(m->visibility);
    d->score = m->score;
    d->accepted = m->accepted;
  }

  // Short queries keep the query language (phrases, +/-). Long ones (a whole
  // question or message used as the query) drop stopwords and keep only the
  // kMaxQueryTerms most informative terms (Xapian's elite set): faster, and
  // less noise from common words.
  // `lengths` (may be null): weigh the terms with Bm25Source over them.
  // `or_terms` (may be null; needs `lengths`): when the query is an OR of
  // plain terms, set to its leaves (internal::OrOfTerms), and the query is
  // returned unweighed (the caller matches the terms itself).
  Xapian::Query ParseQuery(std::string_view text, const std::shared_ptr<const internal::DocLengths>& lengths,
                           std::vector<std::string>* or_terms = nullptr) {
    static const Xapian::SimpleStopper* const stopper = [] {
      static const char* const kWords[] = {
          "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "as", "at",
          "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did",
          "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have",
          "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its",
          "itself", "just", "me", "more", "most", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "only",
          "or", "other", "our", "ours", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than",
          "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too",
          "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who",
          "whom", "why", "will", "with", "would", "you", "your", "yours", "also", "may", "might", "must", "shall",
          "get", "got", "one", "use", "using", "used", "like", "want", "know", "think", "thanks", "hi", "hello"};
      return new Xapian::SimpleStopper(std::begin(kWords), std::end(kWords));
    }();
    Xapian::QueryParser qp;
    qp.set_database(db_);
    qp.set_stemmer(Xapian::Stem("en"));
    qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
    qp.set_stopper(stopper);
    qp.set_default_op(Xapian::Query::OP_OR);
    std::string q(text);
    const bool long_text = text.size() > 200;
    Xapian::Query parsed;
    try {
      parsed = qp.parse_query(q, long_text ? 0 : Xapian::QueryParser::FLAG_PHRASE | Xapian::QueryParser::FLAG_LOVEHATE);
    } catch (const Xapian::QueryParserError&) {
      parsed = qp.parse_query(q, 0);
    }
    const std::vector<std::string> unique(parsed.get_unique_terms_begin(), parsed.get_unique_terms_end());
    if (unique.size() <= kMaxQueryTerms) {
      if (or_terms != nullptr && lengths != nullptr && internal::OrOfTerms(parsed, or_terms)) return parsed;
      if (or_terms != nullptr) or_terms->clear();
      return lengths != nullptr ? internal::WithInMemoryLengths(parsed, lengths) : parsed;
    }
    std::vector<Xapian::Query> terms;
    for (const std::string& t : unique) {
      terms.push_back(lengths != nullptr ? Xapian::Query((new internal::Bm25Source(t, lengths))->release())
                                         : Xapian::Query(t));
    }
    return Xapian::Query(Xapian::Query::OP_ELITE_SET, terms.begin(), terms.end(), kMaxQueryTerms);
  }

  static constexpr Xapian::termcount kMaxQueryTerms = 40;

  static Xapian::Query AnyOf(std::string_view prefix, const std::vector<std::string>& values) {
    std::vector<Xapian::Query> qs;
    qs.reserve(values.size());
    for (const std::string& v : values) qs.emplace_back(MakeTerm(prefix, v));
    return Xapian::Query(Xapian::Query::OP_OR, qs.begin(), qs.end());
  }

  Xapian::Query ApplyFilter(Xapian::Query q, const SearchFilter& f) {
    std::vector<Xapian::Query> filters;
    if (!f.visibility.empty()) filters.push_back(AnyOf(px::kPrefixVisibility, f.visibility));
    if (!f.communities.empty()) filters.push_back(AnyOf(px::kPrefixCommunity, f.communities));
    if (!f.topics.empty()) filters.push_back(AnyOf(px::kPrefixTopic, f.topics));
    if (!f.sources.empty()) filters.push_back(AnyOf(px::kPrefixSource, f.sources));
    if (f.from != 0 || f.to != 0) {
      std::string lo = Xapian::sortable_serialise(static_cast<double>(f.from != 0 ? f.from : INT64_MIN / 2));
      std::string hi = Xapian::sortable_serialise(static_cast<double>(f.to != 0 ? f.to - 1 : INT64_MAX / 2));
      filters.emplace_back(Xapian::Query::OP_VALUE_RANGE, kSlotTimestamp, lo, hi);
    }
    for (Xapian::Query& fq : filters) q = Xapian::Query(Xapian::Query::OP_FILTER, q, fq);
    return q;
  }

  std::string dir_;
  std::vector<std::string> locations_;  // one per shard
  std::vector<Xapian::Database> shards_;
  Xapian::Database db_;  // all shards combined
  bool broken_ = false;  // a shard failed: reconnect before the next use
  bool remote_ = false;  // some shard is tcp://HOST:PORT
  uint64_t revision_ = 0;
  // Search(): document lengths of revision_ for Bm25Source (one local database).
  bool in_memory_lengths_ = std::getenv("WHOKNOWS_XAPIAN_LENGTHS") == nullptr;
  // Budget of the revision's decoded term postings (internal::TermCache; WHOKNOWS_TERM_CACHE_MB).
  size_t term_cache_bytes_ = internal::TermCacheBudgetFromEnv();
  std::shared_ptr<const internal::DocLengths> lengths_;
  // Search(): an OR of plain terms matched by internal::MatchOrOfTerms (WHOKNOWS_XAPIAN_MATCHER=1: Xapian's
  // matcher over Bm25Sources, the A/B switch).
  bool own_matcher_ = std::getenv("WHOKNOWS_XAPIAN_MATCHER") == nullptr;
  // Snippet(): the words of the last query (3+ letters, lower case).
  std::string snippet_query_;
  absl::flat_hash_set<std::string> snippet_words_;
  size_t snippet_longest_ = 0;
  absl::flat_hash_map<std::string, std::string> key_to_person_;
  absl::flat_hash_map<std::string, Person> persons_;
  // Lazy identities (LoadIdentities): what is known to be absent at this
  // revision, and whether the maps above hold the whole table.
  absl::flat_hash_set<std::string> missing_keys_, missing_persons_;
  bool all_identities_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<IndexReader>> IndexReader::Open(const std::string& dir) {
  auto r = std::make_unique<XapianIndexReader>(dir, ShardLocations(dir));
  WK_RETURN_IF_ERROR(r->Init());
  return std::unique_ptr<IndexReader>(std::move(r));
}

absl::StatusOr<std::unique_ptr<IndexReader>> IndexReader::OpenShards(const std::vector<std::string>& locations) {
  if (locations.empty()) return absl::InvalidArgumentError("no shards");
  auto r = std::make_unique<XapianIndexReader>(absl::StrJoin(locations, ","), locations);
  WK_RETURN_IF_ERROR(r->Init());
  return std::unique_ptr<IndexReader>(std::move(r));
}

}  // namespace whoknows::indexer
