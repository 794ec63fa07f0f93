#ifndef WHOKNOWS_INDEXER_XAPIAN_UTIL_H_
#define WHOKNOWS_INDEXER_XAPIAN_UTIL_H_

// Private to the indexer: the one place Xapian exceptions become absl::Status,
// and the term/value encoding shared by the writer and the reader.

#include <xapian.h>

#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "whoknows/indexer/index.h"

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
  } catch (const Xapian::NetworkError& e) {  // a remote shard is down or unreachable
    return absl::UnavailableError(absl::StrFormat("%s: %s", what, e.get_description()));
  } catch (const Xapian::InvalidArgumentError& e) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: %s", what, e.get_description()));
  } catch (const Xapian::DatabaseModifiedError& e) {  // a commit discarded the revision read: Reopen() and retry
    return absl::AbortedError(absl::StrFormat("%s: %s", what, e.get_description()));
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

// The record fields kept in the kSlotMeta value: length-prefixed strings.
struct DocMeta {
  std::string id, source, thread_id, reply_to, author_key, author_name, community, visibility, title,
      accepted_answer_id;
  char kind = 'p';
  int32_t score = 0;
  bool accepted = false;
  std::vector<std::string> mentions, topics;
};

inline void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
inline bool GetVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const auto b = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}
inline void PutString(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s);
}
inline bool GetString(std::string_view* in, std::string* s) {
  uint64_t n;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  s->assign(in->data(), n);
  in->remove_prefix(n);
  return true;
}

inline std::string PackMeta(const DocMeta& m) {
  std::string out;
  out.reserve(128 + m.title.size());
  out.push_back(1);  // format version
  out.push_back(m.kind);
  out.push_back(m.accepted ? 1 : 0);
  PutVarint(&out, (static_cast<uint64_t>(m.score) << 1) ^ static_cast<uint64_t>(m.score >> 31));  // zigzag
  for (const std::string* f : {&m.id, &m.source, &m.thread_id, &m.reply_to, &m.author_key, &m.author_name,
                               &m.community, &m.visibility, &m.title, &m.accepted_answer_id}) {
    PutString(&out, *f);
  }
  for (const std::vector<std::string>* v : {&m.mentions, &m.topics}) {
    PutVarint(&out, v->size());
    for (const std::string& x : *v) PutString(&out, x);
  }
  return out;
}

// Returns false for a blob this version cannot read.
inline bool UnpackMeta(std::string_view in, DocMeta* m) {
  if (in.size() < 3 || in[0] != 1) return false;
  m->kind = in[1];
  m->accepted = in[2] != 0;
  in.remove_prefix(3);
  uint64_t z;
  if (!GetVarint(&in, &z)) return false;
  m->score = static_cast<int32_t>((z >> 1) ^ (~(z & 1) + 1));
  for (std::string* f : {&m->id, &m->source, &m->thread_id, &m->reply_to, &m->author_key, &m->author_name,
                         &m->community, &m->visibility, &m->title, &m->accepted_answer_id}) {
    if (!GetString(&in, f)) return false;
  }
  for (std::vector<std::string>* v : {&m->mentions, &m->topics}) {
    uint64_t n;
    if (!GetVarint(&in, &n) || n > in.size()) return false;
    v->resize(n);
    for (std::string& x : *v) {
      if (!GetString(&in, &x)) return false;
    }
  }
  return true;
}

// User metadata key holding the on-disk format version; readers refuse others.
inline constexpr std::string_view kFormatKey = "whoknows:format";
inline constexpr std::string_view kFormatVersion = "2";

inline constexpr std::string_view kMetaKey = "key:";        // identity key -> person id
inline constexpr std::string_view kMetaPerson = "person:";  // person id -> JSON
inline constexpr std::string_view kMetaName = "name:";      // source \x1f name key -> person id

inline constexpr std::string_view kMetaDerivedTopic = "dtopic:";  // derived (not tag) topic -> "1"

// Parses one identity-table person entry (kMetaPerson + id -> JSON); false
// when it does not parse.
inline bool ParsePersonEntry(std::string id, const std::string& v, Person* p, bool* pinned) {
  if (v.empty()) return false;
  nlohmann::json j = nlohmann::json::parse(v, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return false;
  *p = Person();
  p->id = std::move(id);
  if (j.contains("name") && j["name"].is_string()) p->name = j["name"].get<std::string>();
  if (j.contains("keys") && j["keys"].is_array()) {
    for (const auto& k : j["keys"]) {
      if (k.is_string()) p->keys.push_back(k.get<std::string>());
    }
  }
  p->opted_out = j.contains("optout") && j["optout"].is_boolean() && j["optout"].get<bool>();
  p->aliased = j.contains("aliased") && j["aliased"].is_boolean() && j["aliased"].get<bool>();
  *pinned = j.contains("pinned") && j["pinned"].is_boolean() && j["pinned"].get<bool>();
  return true;
}

// Reads the identity table from user metadata: on_key(key, person_id) for
// every identity key, on_person(Person, pinned) for every person. Entries
// that do not parse are skipped. May throw Xapian::Error (use GuardXapian).
template <typename OnKey, typename OnPerson>
void ReadIdentityTable(const Xapian::Database& db, OnKey&& on_key, OnPerson&& on_person) {
  const std::string kp(kMetaKey), pp(kMetaPerson);
  for (auto it = db.metadata_keys_begin(kp); it != db.metadata_keys_end(kp); ++it) {
    std::string v = db.get_metadata(*it);
    if (!v.empty()) on_key((*it).substr(kp.size()), std::move(v));
  }
  for (auto it = db.metadata_keys_begin(pp); it != db.metadata_keys_end(pp); ++it) {
    Person p;
    bool pinned = false;
    if (!ParsePersonEntry((*it).substr(pp.size()), db.get_metadata(*it), &p, &pinned)) continue;
    on_person(std::move(p), pinned);
  }
}

}  // namespace whoknows::indexer::internal

#endif  // WHOKNOWS_INDEXER_XAPIAN_UTIL_H_
