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
#include "whoknows/base/status_macros.h"
#include "whoknows/indexer/index.h"
#include "shards.h"
#include "xapian_util.h"

namespace whoknows::indexer {
namespace {

using internal::GuardXapian;
using internal::MakeTerm;
namespace px = internal;


bool IsMailKey(std::string_view key) { return key.rfind("mail:", 0) == 0 || key.rfind("mailname:", 0) == 0; }

struct PersonState {
  std::string name;
  std::vector<std::string> keys;
  bool opted_out = false;
};

class XapianIndexWriter final : public IndexWriter {
 public:
  XapianIndexWriter(std::string dir, const IndexOptions& options) : dir_(std::move(dir)), options_(options) {}

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
    return GuardXapian("load identities", [&] { LoadIdentities(); });
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
    if (exists) {
      ++summary_.duplicates;
      return absl::OkStatus();
    }
    SanitizeUtf8(&record.title);
    SanitizeUtf8(&record.text);
    SanitizeUtf8(&record.author_name);
    if (!record.author_key.empty()) Resolve(record.author_key, record.author_name);
    for (const std::string& m : record.mentions) Resolve(m, "");

    WK_RETURN_IF_ERROR(GuardXapian(absl::StrFormat("index %s", record.id), [&] { Write(record, qterm, shard); }));
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
      for (const std::string& k : dirty_keys_) {
        auto it = key_to_person_.find(k);
        db_.set_metadata(MakeTerm(px::kMetaKey, k), it == key_to_person_.end() ? std::string() : it->second);
      }
      for (const std::string& p : removed_persons_) db_.set_metadata(MakeTerm(px::kMetaPerson, p), "");
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
      // Shard 0 (identities) first: a crash between the commits then leaves
      // documents to re-add, never documents whose author keys are unbound.
      for (Xapian::WritableDatabase& shard : shards_) shard.commit();
    }));
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
          persons_.emplace(p.id, PersonState{std::move(p.name), std::move(p.keys), p.opted_out});
        });
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
        dirty_persons_.insert(person);
      }
    }
  }

  void Write(const Record& r, const std::string& qterm, Xapian::WritableDatabase& shard) {
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
    shard.add_document(doc);
  }

  std::string dir_;
  IndexOptions options_;
  Xapian::WritableDatabase db_;  // shard 0: documents and the identity table
  std::vector<Xapian::WritableDatabase> shards_;  // every shard, db_ first
  Xapian::TermGenerator termgen_;
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

absl::StatusOr<std::unique_ptr<IndexWriter>> IndexWriter::Open(const std::string& dir, const IndexOptions& options) {
  auto w = std::make_unique<XapianIndexWriter>(dir, options);
  WK_RETURN_IF_ERROR(w->Init());
  return std::unique_ptr<IndexWriter>(std::move(w));
}

}  // namespace whoknows::indexer
