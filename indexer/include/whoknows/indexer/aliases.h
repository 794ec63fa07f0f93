#ifndef WHOKNOWS_INDEXER_ALIASES_H_
#define WHOKNOWS_INDEXER_ALIASES_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace whoknows::indexer {

// One human: the identity keys that are the same person. keys[0] is the
// canonical key (it becomes the person id); `name` is an optional display name.
struct AliasGroup {
  std::string name;
  std::vector<std::string> keys;
};

// Aliases file format (see README): one person per line,
//   [Display Name =] key1 key2 ...     (keys separated by whitespace or commas)
// '#' starts a comment; blank lines are ignored. A bare e-mail address
// "a@b.org" (or "a at b.org") means "mail:a@b.org". Keys are normalised with
// NormalizeIdentityKey. Bad lines are errors naming file:line.
absl::StatusOr<std::vector<AliasGroup>> ParseAliases(std::string_view content, std::string_view file_name);
absl::StatusOr<std::vector<AliasGroup>> LoadAliasesFile(const std::string& path);

// Normalises a key: mail addresses lower-cased with archive obfuscation
// ("user at host") undone, "mail:" prefix added to bare addresses.
std::string NormalizeIdentityKey(std::string_view key);

// The display-name key that merges mail identities across address eras:
// lower-cased words (quotes, dots and commas count as spaces); "" unless the
// name has at least two words.
std::string MailNameKey(std::string_view display_name);

// Normalises one mail address: trims <>, lower-cases, "x at y" -> "x@y".
std::string NormalizeMailAddress(std::string_view address);

}  // namespace whoknows::indexer

#endif  // WHOKNOWS_INDEXER_ALIASES_H_
