#ifndef WHOKNOWS_INDEXER_MERGE_SUGGESTIONS_H_
#define WHOKNOWS_INDEXER_MERGE_SUGGESTIONS_H_

// Identities that may be one human but that the indexer did not merge, for an
// admin to confirm with a line in the aliases file (`whoknows people
// --suggest-merges`). The name rule (IndexOptions::name_merge) merges only
// mail identities with the same full name in the same source; this lists
// what it leaves alone:
//   - the same full name (MailNameKey) in different sources, for any kind of
//     identity (a list's author may have a Stack Exchange or Slack account);
//   - the same one-word display name of mail identities (a name that is only
//     the address's local part does not count);
//   - the same full name in the same source, kept apart (not mail identities:
//     accounts of one site; name merge off; the aliases file; or the two
//     wrote to each other).

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "whoknows/indexer/index.h"

namespace whoknows::indexer {

struct MergeCandidate {
  struct Member {
    std::string person;        // person id
    std::string name;          // display name most written by the person under this name
    std::vector<std::string> keys;     // all identity keys of the person
    std::vector<std::string> sources;  // sources where the person wrote under this name
    uint64_t documents = 0;            // documents written under this name
  };
  std::string name;    // the shared name, as most written
  std::string kind;    // "across-sources", "one-word" or "same-source"
  std::string reason;  // one readable line
  std::vector<Member> persons;  // two or more, most documents first
  std::string aliases_line;     // "Name = key, key, ..." to paste into the aliases file
};

// Reads the documents' author names and the identity table of `reader`.
// Candidates are ordered by documents, most first. Cost: one scan of the
// documents' stored fields.
absl::StatusOr<std::vector<MergeCandidate>> SuggestMerges(IndexReader* reader);

}  // namespace whoknows::indexer

#endif  // WHOKNOWS_INDEXER_MERGE_SUGGESTIONS_H_
