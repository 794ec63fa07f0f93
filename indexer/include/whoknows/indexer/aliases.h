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

// A display name normalised for comparison: accents folded (NFKD with the
// marks dropped, plus a small table for ø ł đ æ œ þ ð ß ı), lower case, any
// run of non-letters/digits one space, "(remarks)" and "[tags]" dropped,
// "Last, First" reordered to "first last" (a trailing ", Jr."-style suffix is
// dropped), leading "Dr"/"Prof" dropped. "" for an address or a list of names.
//   "Murdoch, Duncan" -> "duncan murdoch"; "José  Pérez" -> "jose perez".
std::string NormalizeDisplayName(std::string_view display_name);

// The key that merges identities by name (see README "Persons"):
// NormalizeDisplayName() when it has at least two words, not all of them
// initials; "" otherwise.
std::string MailNameKey(std::string_view display_name);

// Normalises one mail address: trims <>, lower-cases, "x at y" -> "x@y".
std::string NormalizeMailAddress(std::string_view address);

}  // namespace whoknows::indexer

#endif  // WHOKNOWS_INDEXER_ALIASES_H_
