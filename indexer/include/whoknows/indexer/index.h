#ifndef WHOKNOWS_INDEXER_INDEX_H_
#define WHOKNOWS_INDEXER_INDEX_H_

// The durable store: a Xapian database. This header exposes plain structs
// only; no Xapian types cross it.
//
// Document schema (one Xapian document per Record):
//   terms:  Q<record id>  unique id (idempotent re-ingest)
//           K<kind letter> kind, XS<source>, A<author key>, M<mentioned key>,
//           T<topic>, C<community>, V<visibility>, H<thread id>, R<reply-to id>
//           (any term over 240 bytes is replaced by its prefix + a hash),
//           free text of title (weight 2) and text, stemmed (english), with positions.
//   values: the timestamp (sortable) and one packed blob of the record's other
//   fields (one value stream per document instead of fifteen).  data: the plain text.
// Identity table (Xapian user metadata, committed atomically with documents):
//   "key:<identity key>" -> person id; "person:<person id>" -> JSON {name, keys,
//   optout?, pinned?, aliased?}; "name:<source>\x1f<MailNameKey>" -> the person
//   that name belongs to in that source (for merges by name).
// Topics: T terms hold a source's tags and topics derived from text
// (indexer/topics.h), in one vocabulary; "dtopic:<topic>" -> "1" marks the
// derived ones. Each spelling is stored as given; readers merge spellings
// with one TopicKey into one topic (engine::Snapshot), so no re-index is
// needed when spellings differ.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "whoknows/indexer/aliases.h"
#include "whoknows/indexer/record.h"
#include "whoknows/indexer/topics.h"

namespace whoknows::indexer {

enum ValueSlot : unsigned {
  kSlotTimestamp = 0,  // sortable_serialise(seconds): time-window filters
  kSlotMeta = 1,       // every other field of the record, packed (indexer-private format)
};

struct IndexOptions {
  size_t commit_every = 5000;  // documents per commit (a durability point)
  // Sharding (see "Shards" below). `shards` > 1 with a directory: create or
  // use DIR/shard-00 .. shard-<N-1> and the stub DIR/XAPIANDB listing them.
  // `shard_locations` (paths or tcp://HOST:PORT of `xapian-tcpsrv --writable`)
  // instead of the directory. 0 / empty: one database, or the shards of an
  // existing stub.
  uint32_t shards = 0;
  std::vector<std::string> shard_locations;

  // Merge mail identities with the same normalised full name (MailNameKey)
  // within one source, unless evidence contradicts it (see IndexWriter).
  bool name_merge = true;
  // Derive topics from the text of mail, chat and untagged records
  // (indexer/topics.h), against the index's document frequencies as of the
  // document being added, and store them as T terms like tags.
  bool derive_topics = true;
  TopicOptions topics;
};

// One identity joined to a person because of its display name.
struct NameMerge {
  std::string source;  // where the name was seen
  std::string name;    // the display name as written
  std::string merged;  // the identity key (a new one) or person id (an existing one) that joined
  std::string into;    // the person id kept
};

// Two persons with the same name in one source that were not merged, and why.
struct NameMergeBlocked {
  std::string source, name, person, other;
  std::string reason;  // "aliases file", "name pinned by aliases file", "addressed each other"
};

// Shards. A sharded index is N ordinary whoknows databases; each record goes
// to ShardOf(record id, N) (FNV-1a, stable across processes and builds), so
// re-indexing finds its duplicates. The identity table lives in shard 0 only:
// Xapian reads user metadata of a combined database from its first
// sub-database, and persons span shards, so one copy is both what a combined
// reader sees and the single place identities are merged. Readers combine
// the shards with Xapian::Database::add_database (BM25 statistics are then
// computed over all of them) or open the stub directory, which Xapian
// resolves itself.
uint32_t ShardOf(std::string_view record_id, uint32_t shards);
// The shard locations of `dir`: those listed in DIR/XAPIANDB ("auto PATH"
// lines, relative to DIR) when there are several, else {dir}.
std::vector<std::string> ShardLocations(const std::string& dir);
// "shard-00" ... under dir, with the stub; FailedPrecondition when dir
// already holds a different layout.
absl::StatusOr<std::vector<std::string>> CreateShardLayout(const std::string& dir, uint32_t shards);

// Counts of one index run, per reason for skips.
struct IndexSummary {
  uint64_t read = 0;        // records delivered by readers
  uint64_t indexed = 0;     // new documents written
  uint64_t duplicates = 0;  // already in the index (or repeated in the input)
  uint64_t skipped = 0;     // bad records
  std::vector<std::pair<std::string, uint64_t>> skipped_by_reason;
  uint64_t commits = 0;
  std::vector<NameMerge> name_merges;               // this run's merges by display name
  std::vector<NameMergeBlocked> name_merges_blocked;  // distinct pairs
};

// Single writer over a database directory (created when missing). Not
// thread-safe. A second writer on the same directory gets Unavailable.
class IndexWriter {
 public:
  static absl::StatusOr<std::unique_ptr<IndexWriter>> Open(const std::string& dir, const IndexOptions& options);
  virtual ~IndexWriter() = default;

  // Adds `record` unless a document with the same id exists (then counts a
  // duplicate). Resolves the author and mention keys to persons. Commits
  // every options.commit_every new documents.
  virtual absl::Status Add(Record record) = 0;
  virtual void CountBad(std::string_view reason) = 0;
  // Merges identities; persisted with the next commit. The file wins over
  // merges by name: keys on different lines end up in different persons (a
  // key merged by name into another line's person moves back), and persons
  // from different lines, or with a pinned name that differs, never merge by name.
  virtual absl::Status ApplyAliases(const std::vector<AliasGroup>& groups) = 0;
  // Commits pending changes (a durability point).
  virtual absl::Status Commit() = 0;
  // Removes every document authored by `person_id` and its identity data;
  // returns the number of documents removed. Commits.
  virtual absl::StatusOr<uint64_t> ErasePerson(std::string_view person_id) = 0;
  // Marks a person as opted out (or back in). Commits.
  virtual absl::Status SetOptOut(std::string_view person_id, bool opted_out) = 0;
  virtual const IndexSummary& summary() const = 0;
  // Writes user metadata entries (an empty value deletes the key) and commits
  // them together with any pending documents: one atomic durability point.
  // Keys under PersonDataPrefix(p) are personal data of p: ErasePerson(p)
  // deletes them in the same commit. InvalidArgument for an empty key or
  // one over kMaxMetadataKeyBytes.
  virtual absl::Status PutMetadata(const std::vector<std::pair<std::string, std::string>>& entries) = 0;
};

// User metadata "dtopic:<topic>" -> "1" marks a T-term spelling as derived
// from text (not a source's tag); see IndexReader::ListMetadata.
inline constexpr std::string_view kDerivedTopicMetaPrefix = "dtopic:";

// User metadata keys are limited by Xapian's B-tree; longer keys are refused.
inline constexpr size_t kMaxMetadataKeyBytes = 240;
// The prefix of every user metadata key holding personal data of `person_id`
// (removed by IndexWriter::ErasePerson): "pd:" + the id (a long id is cut and
// given a stable FNV-1a hash) + '\x1f'.
std::string PersonDataPrefix(std::string_view person_id);

// What the engine needs about a document, with identities resolved.
struct StoredDoc {
  uint32_t docid = 0;  // Xapian docid (dense-ish, >= 1)
  std::string id;
  RecordKind kind = RecordKind::kPost;
  std::string source;
  std::string thread_id;
  std::string reply_to;
  std::string author;                 // person id ("" when unknown)
  std::vector<std::string> mentions;  // person ids
  int64_t timestamp = 0;
  std::vector<std::string> topics;
  std::string community;
  std::string visibility;
  int32_t score = 0;
  bool accepted = false;
};

struct Person {
  std::string id;
  std::string name;
  std::vector<std::string> keys;
  bool opted_out = false;
  bool aliased = false;  // defined by a line of an aliases file
};

// A display name an identity key wrote under in one source, with how often.
struct AuthorName {
  std::string source, key, name;
  std::string person;  // person id of the key
  uint64_t documents = 0;
};

struct SearchFilter {
  std::vector<std::string> visibility;   // allowed visibility groups; empty = all
  std::vector<std::string> communities;  // empty = all
  std::vector<std::string> topics;       // any of; empty = all
  std::vector<std::string> sources;      // empty = all
  int64_t from = 0;                      // timestamp >= from (0 = unbounded)
  int64_t to = 0;                        // timestamp < to (0 = unbounded)
};

struct SearchHit {
  uint32_t docid = 0;
  double score = 0;  // BM25
};

struct DocText {
  std::string id, title, text, source, thread_id, community, visibility;
  std::string author;  // person id
  RecordKind kind = RecordKind::kPost;
  int64_t timestamp = 0;
};

struct IndexStats {
  uint64_t documents = 0;
  std::vector<std::pair<std::string, uint64_t>> by_kind;    // kind name -> count
  std::vector<std::pair<std::string, uint64_t>> by_source;  // source -> count
  uint64_t persons = 0;
  uint64_t threads = 0;
  uint64_t topics = 0;
  std::vector<std::pair<std::string, uint64_t>> communities;  // community -> docs
  std::vector<std::pair<std::string, uint64_t>> visibility;   // group -> docs
  int64_t first_timestamp = 0;
  int64_t last_timestamp = 0;
  // Filled by the service backend (not the reader): how current the served
  // snapshot is. A replica whose index copy has a newer revision than its
  // snapshot reports for how long (lag_seconds > 0) until it catches up.
  uint32_t shards = 1;
  uint64_t snapshot_revision = 0;  // revision token the served snapshot was built from
  uint64_t index_revision = 0;     // revision token of the index now
  int64_t snapshot_time = 0;       // when that snapshot was swapped in (epoch seconds)
  double lag_seconds = 0;          // how long the index has been ahead of the snapshot
  std::string ranker;              // the ranker FindExperts uses (ranker::Ranker::Describe())
};

// Read access to one consistent snapshot of the database. Not thread-safe:
// use one per thread (Reopen() moves to the newest commit).
class IndexReader {
 public:
  static absl::StatusOr<std::unique_ptr<IndexReader>> Open(const std::string& dir);
  // One combined view of several shards: paths or tcp://HOST:PORT (a running
  // `xapian-tcpsrv`). A shard that cannot be reached gives Unavailable naming
  // it, here and from any later call: never a partial answer.
  static absl::StatusOr<std::unique_ptr<IndexReader>> OpenShards(const std::vector<std::string>& locations);
  virtual ~IndexReader() = default;

  virtual absl::Status Reopen() = 0;
  // Databases combined in this reader (1 unless sharded). With more than one,
  // docids interleave (Xapian: (shard docid - 1) x N + shard + 1), so documents
  // added later do not all come after the last docid seen.
  virtual size_t shard_count() const { return 1; }
  virtual uint64_t doc_count() const = 0;
  // A token that changes with every commit (revision).
  virtual uint64_t revision() const = 0;
  virtual absl::StatusOr<IndexStats> Stats() = 0;
  // Visits every document with docid >= first_docid, in docid order.
  virtual absl::Status ForEachDocument(const std::function<void(const StoredDoc&)>& fn, uint32_t first_docid = 1) = 0;
  // The highest docid in use (0 when empty).
  virtual uint32_t last_docid() const = 0;
  // Every person in the identity table.
  virtual absl::StatusOr<std::vector<Person>> ListPersons() = 0;
  // Every distinct (source, author key, display name) of the documents.
  virtual absl::StatusOr<std::vector<AuthorName>> ListAuthorNames() = 0;
  // Maps an identity key (or person id) to its person id; NotFound otherwise.
  virtual absl::StatusOr<std::string> ResolvePerson(std::string_view key) = 0;
  // The persons of the identity table with these ids, in that order (unknown
  // ids left out): a few look-ups instead of ListPersons' whole table.
  virtual absl::StatusOr<std::vector<Person>> GetPersons(std::span<const std::string> ids) = 0;
  // BM25 top-n for free text. An empty query is InvalidArgument. A query
  // matching nothing returns an empty vector.
  virtual absl::StatusOr<std::vector<SearchHit>> Search(std::string_view text, const SearchFilter& filter,
                                                        size_t n) = 0;
  virtual absl::StatusOr<DocText> GetDoc(uint32_t docid) = 0;
  // A short snippet of the doc's text around the query terms.
  virtual std::string Snippet(const DocText& doc, std::string_view query, size_t length) = 0;
  // Every user metadata (key, value) whose key starts with `prefix`, in key order.
  virtual absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ListMetadata(std::string_view prefix) = 0;
  // GetDoc of each of `docids`, in that order (a document that cannot be read
  // is an error in its slot). The Xapian reader reads them in docid order,
  // one field for all documents before the next: fewer B-tree block reads
  // than one GetDoc after another (the evidence of an answer).
  virtual std::vector<absl::StatusOr<DocText>> GetDocs(std::span<const uint32_t> docids) {
    std::vector<absl::StatusOr<DocText>> out;
    out.reserve(docids.size());
    for (uint32_t d : docids) out.push_back(GetDoc(d));
    return out;
  }
};

}  // namespace whoknows::indexer

#endif  // WHOKNOWS_INDEXER_INDEX_H_
