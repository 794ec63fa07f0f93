#ifndef WHOKNOWS_ENGINE_SNAPSHOT_INTERNAL_H_
#define WHOKNOWS_ENGINE_SNAPSHOT_INTERNAL_H_

// Private to snapshot.cc and snapshot_extend.cc: the build-time tables an
// extendable snapshot keeps, and the topic-spelling merge both builds share.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "whoknows/engine/snapshot.h"

namespace whoknows::engine {

// A reply between two authors of one visibility group: persons u < v, the replying doc d.
struct DocReply {
  uint32_t u, v, d;
  uint8_t g;
};

struct ExtendState {
  absl::flat_hash_map<std::string, uint32_t> doc_by_id;      // the first doc with each id
  absl::flat_hash_map<std::string, uint32_t> thread_by_key;  // thread key -> thread index
  absl::flat_hash_set<std::string> unresolved_reply_to;      // reply_to values naming no doc
  uint32_t listed_persons = 0;  // persons [0, listed) came from the person table, in its order
  uint64_t input_docs = 0;      // documents given, repeats included (the dense/sparse docid rule)
  bool dense = true;
  absl::flat_hash_map<std::string, uint64_t> group_counts;  // visibility -> kept docs
  struct Spelling {
    uint32_t uses = 0;  // (doc, spelling) pairs
    std::string key;    // indexer::TopicKey, or the spelling when that is empty
  };
  absl::flat_hash_map<std::string, Spelling> spellings;
  using Reply = DocReply;
  std::vector<Reply> replies;  // sorted by (u, v, g, d): the order their weights are summed in
};

// Visibility name -> group index (the bit), over a snapshot's group names.
using GroupIndex = absl::flat_hash_map<std::string_view, uint8_t>;
GroupIndex MakeGroupIndex(const std::vector<std::string>& group_names);

// Copies docid, timestamp, kind, accepted, score and the group from `in` into
// *info; false when `in`'s visibility names none of the groups (group left as is).
bool FillDocBasics(const indexer::StoredDoc& in, const GroupIndex& group_of, DocInfo* info);

struct TopicSpelling {
  std::string key;
  std::string_view name;
  uint32_t id;  // caller's spelling id
  bool tag;     // not a derived topic
  uint32_t uses;
};

// Merges the spellings that have one topic key into one topic. Topics get ids
// in sorted display-name order; remap maps a spelling id to its topic. Display
// form: a tag spelling before a derived one, then the spelling on most
// documents, then the smallest. `v` is reordered.
void MergeTopicSpellings(std::vector<TopicSpelling>& v, std::vector<std::string>* names,
                         std::vector<std::string>* keys, std::vector<uint32_t>* offsets,
                         std::vector<std::string>* stored, std::vector<uint32_t>* remap);

}  // namespace whoknows::engine

#endif  // WHOKNOWS_ENGINE_SNAPSHOT_INTERNAL_H_
