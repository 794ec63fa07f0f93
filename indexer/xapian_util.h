#ifndef WHOKNOWS_INDEXER_XAPIAN_UTIL_H_
#define WHOKNOWS_INDEXER_XAPIAN_UTIL_H_

// Private to the indexer: the one place Xapian exceptions become absl::Status,
// and the term/value encoding shared by the writer and the reader.

#include <xapian.h>

#include <exception>
#include <string>
#include <string_view>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace whoknows::indexer::internal {

template <typename Fn>
absl::Status GuardXapian(std::string_view what, Fn&& fn) {
  try {
    fn();
    return absl::OkStatus();
  } catch (const Xapian::DatabaseLockError& e) {
    return absl::UnavailableError(absl::StrFormat("%s: %s (another writer holds the lock)", what, e.get_description()));
  } catch (const Xapian::DatabaseNotFoundError& e) {
    return absl::NotFoundError(absl::StrFormat("%s: %s", what, e.get_description()));
  } catch (const Xapian::DatabaseOpeningError& e) {
    return absl::NotFoundError(absl::StrFormat("%s: %s", what, e.get_description()));
  } catch (const Xapian::InvalidArgumentError& e) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: %s", what, e.get_description()));
  } catch (const Xapian::Error& e) {  // no std:: base
    return absl::InternalError(absl::StrFormat("%s: %s", what, e.get_description()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrFormat("%s: %s", what, e.what()));
  }
}

// Xapian terms are limited to 245 bytes; keep a readable head and a hash.
inline std::string MakeTerm(std::string_view prefix, std::string_view value) {
  constexpr size_t kMax = 240;
  std::string t;
  t.reserve(prefix.size() + value.size());
  t.append(prefix);
  if (prefix.size() + value.size() <= kMax) {
    t.append(value);
    return t;
  }
  size_t keep = kMax - prefix.size() - 17;
  t.append(value.substr(0, keep));
  t += absl::StrFormat("#%016x", absl::HashOf(value));
  return t;
}

inline constexpr std::string_view kPrefixId = "Q";
inline constexpr std::string_view kPrefixKind = "K";
inline constexpr std::string_view kPrefixSource = "XS";
inline constexpr std::string_view kPrefixAuthor = "A";
inline constexpr std::string_view kPrefixMention = "M";
inline constexpr std::string_view kPrefixTopic = "T";
inline constexpr std::string_view kPrefixCommunity = "C";
inline constexpr std::string_view kPrefixVisibility = "V";
inline constexpr std::string_view kPrefixThread = "H";
inline constexpr std::string_view kPrefixReplyTo = "R";

inline constexpr std::string_view kMetaKey = "key:";        // identity key -> person id
inline constexpr std::string_view kMetaPerson = "person:";  // person id -> JSON

}  // namespace whoknows::indexer::internal

#endif  // WHOKNOWS_INDEXER_XAPIAN_UTIL_H_
