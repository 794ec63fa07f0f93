#include "whoknows/indexer/merge_suggestions.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "whoknows/indexer/aliases.h"

namespace whoknows::indexer {
namespace {

bool IsMailKey(const std::string& key) { return key.starts_with("mail:") || key.starts_with("mailname:"); }

struct Use {
  std::set<std::string> sources;
  std::map<std::string, uint64_t> names;  // as written -> documents
  uint64_t documents = 0;
};

// name key -> person -> how the person used it.
using Groups = std::map<std::string, std::map<std::string, Use>>;

void Add(Groups* g, const std::string& nk, const AuthorName& a) {
  Use& u = (*g)[nk][a.person];
  u.sources.insert(a.source);
  u.names[a.name] += a.documents;
  u.documents += a.documents;
}

std::string MostWritten(const std::map<std::string, uint64_t>& names) {
  std::string best;
  uint64_t n = 0;
  for (const auto& [name, c] : names) {
    if (c > n) best = name, n = c;
  }
  return best;
}

// A name usable before '=' in an aliases line ('#' starts a comment there, a second '=' is an error).
std::string AliasesName(std::string name) {
  name.erase(std::remove_if(name.begin(), name.end(), [](char c) { return c == '#' || c == '=' || c == '\n'; }),
             name.end());
  return name;
}

}  // namespace

absl::StatusOr<std::vector<MergeCandidate>> SuggestMerges(IndexReader* reader) {
  absl::StatusOr<std::vector<AuthorName>> names = reader->ListAuthorNames();
  if (!names.ok()) return names.status();
  absl::StatusOr<std::vector<Person>> persons = reader->ListPersons();
  if (!persons.ok()) return persons.status();
  absl::flat_hash_map<std::string, const Person*> by_id;
  for (const Person& p : *persons) by_id[p.id] = &p;

  Groups full, one_word;
  for (const AuthorName& a : *names) {
    if (a.person.empty()) continue;
    // A Stack Exchange dump without Users.xml names an account "user <id>": not a name.
    if (size_t u = a.key.rfind(":user:"); u != std::string::npos &&
        NormalizeDisplayName(a.name) == "user " + NormalizeDisplayName(a.key.substr(u + 6))) {
      continue;
    }
    std::string nk = MailNameKey(a.name);
    if (nk.empty() && a.key.starts_with("mailname:")) nk = MailNameKey(a.key.substr(9));
    if (!nk.empty()) {
      Add(&full, nk, a);  // any source: a Stack Exchange or Slack account may be a list's author
      continue;
    }
    if (!IsMailKey(a.key)) continue;  // one-word account names of a site are too weak a hint
    const std::string norm = NormalizeDisplayName(a.name);
    if (norm.empty() || norm.find(' ') != std::string::npos || norm.size() < 2) continue;
    // The mbox reader names an address without a display name by its local part: not a name.
    const size_t at = a.key.find('@');
    if (a.key.starts_with("mail:") && at != std::string::npos &&
        NormalizeDisplayName(a.key.substr(5, at - 5)) == norm) {
      continue;
    }
    Add(&one_word, norm, a);
  }

  std::vector<MergeCandidate> out;
  auto emit = [&](const Groups& groups, bool is_full) {
    for (const auto& [nk, users] : groups) {
      if (users.size() < 2) continue;
      MergeCandidate c;
      std::map<std::string, uint64_t> written;
      std::map<std::string, int> persons_per_source;
      for (const auto& [person, use] : users) {
        MergeCandidate::Member m;
        m.person = person;
        m.name = MostWritten(use.names);
        if (auto it = by_id.find(person); it != by_id.end()) m.keys = it->second->keys;
        m.sources.assign(use.sources.begin(), use.sources.end());
        m.documents = use.documents;
        for (const auto& [n, d] : use.names) written[n] += d;
        for (const std::string& s : use.sources) ++persons_per_source[s];
        c.persons.push_back(std::move(m));
      }
      std::sort(c.persons.begin(), c.persons.end(), [](const auto& a, const auto& b) {
        return a.documents != b.documents ? a.documents > b.documents : a.person < b.person;
      });
      c.name = MostWritten(written);
      const bool same_source =
          std::any_of(persons_per_source.begin(), persons_per_source.end(), [](const auto& p) { return p.second > 1; });
      if (!is_full) {
        c.kind = "one-word";
        c.reason = absl::StrFormat("one-word name \"%s\": too common to merge without a person deciding", nk);
      } else if (same_source) {
        c.kind = "same-source";
        c.reason = "same name in one source, kept apart (not mail identities, index --no-name-merge, the aliases "
                   "file, or they wrote to each other)";
      } else {
        c.kind = "across-sources";
        c.reason = "same name in different sources (the name rule merges within one source only)";
      }
      std::string keys;
      for (const MergeCandidate::Member& m : c.persons) {
        for (const std::string& k : m.keys) keys += (keys.empty() ? "" : ", ") + k;
      }
      c.aliases_line = absl::StrFormat("%s = %s", AliasesName(c.name), keys);
      out.push_back(std::move(c));
    }
  };
  emit(full, true);
  emit(one_word, false);
  auto docs = [](const MergeCandidate& c) {
    uint64_t n = 0;
    for (const auto& m : c.persons) n += m.documents;
    return n;
  };
  std::stable_sort(out.begin(), out.end(), [&](const MergeCandidate& a, const MergeCandidate& b) {
    return docs(a) > docs(b);
  });
  return out;
}

}  // namespace whoknows::indexer
