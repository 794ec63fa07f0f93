#include "whoknows/indexer/aliases.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <glib.h>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "whoknows/indexer/input.h"
#include "whoknows/indexer/record.h"

namespace whoknows::indexer {
namespace {

// Aliases files are small hand-written lists; anything bigger is a mistake.
constexpr size_t kMaxAliasesFileBytes = 64 << 20;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Splits on any of `seps`; with skip_empty, empty pieces are dropped.
std::vector<std::string_view> Split(std::string_view s, std::string_view seps, bool skip_empty) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || seps.find(s[i]) != std::string_view::npos) {
      if (!skip_empty || i > start) out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

bool IsWordAt(std::string_view s) { return s == "at" || s == "AT" || s == "At"; }

// A key without any "prefix:" that names a mail address ("a@b.org" or "a at b.org").
bool LooksLikeBareAddress(std::string_view key) {
  if (key.find(':') != std::string_view::npos) return false;
  if (key.find('@') != std::string_view::npos) return true;
  const std::string lower = AsciiLower(key);
  return lower.find(" at ") != std::string::npos;
}

}  // namespace

std::string NormalizeMailAddress(std::string_view address) {
  std::string_view s = Trim(address);
  // Strip any number of enclosing '<' '>' (and the spaces between them).
  while (!s.empty() && (s.front() == '<' || absl::ascii_isspace(static_cast<unsigned char>(s.front())))) {
    s.remove_prefix(1);
  }
  // ... and a trailing '.' (sentence punctuation copied with the address).
  while (!s.empty() &&
         (s.back() == '>' || s.back() == '.' || absl::ascii_isspace(static_cast<unsigned char>(s.back())))) {
    s.remove_suffix(1);
  }
  std::string out = AsciiLower(s);
  // Pipermail writes "user at host"; only the exact " at " word is undone
  // (no "dot"), so we never guess at an address.
  if (out.find('@') == std::string::npos) {
    out = absl::StrReplaceAll(out, {{" at ", "@"}});
  }
  return out;
}

std::string NormalizeIdentityKey(std::string_view key) {
  std::string_view k = Trim(key);
  if (std::string_view(k).starts_with("mail:")) {
    return absl::StrFormat("mail:%s", NormalizeMailAddress(k.substr(5)));
  }
  if (std::string_view(k).starts_with("mailto:")) {
    return absl::StrFormat("mail:%s", NormalizeMailAddress(k.substr(7)));
  }
  if (std::string_view(k).starts_with("mailname:")) {
    // The mbox reader's display-name keys: ASCII lower-case, single spaces.
    std::string out = "mailname:";
    bool space = false;
    for (char c : Trim(k.substr(9))) {
      if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
        space = true;
        continue;
      }
      if (space) out.push_back(' ');
      space = false;
      out.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
    }
    return out;
  }
  if (LooksLikeBareAddress(k)) {
    return absl::StrFormat("mail:%s", NormalizeMailAddress(k));
  }
  return std::string(k);
}

absl::StatusOr<std::vector<AliasGroup>> ParseAliases(std::string_view content, std::string_view file_name) {
  std::vector<AliasGroup> groups;
  // key -> line it was first seen on (a key may belong to one person only).
  absl::flat_hash_map<std::string, int64_t> seen;
  if (std::string_view(content).starts_with("\xEF\xBB\xBF")) content.remove_prefix(3);  // UTF-8 BOM
  int64_t line_no = 0;
  for (std::string_view raw : Split(content, "\n", false)) {
    ++line_no;
    auto error = [&](const std::string& what) {
      return absl::InvalidArgumentError(absl::StrFormat("%s:%d: %s", file_name, line_no, what));
    };
    std::string_view line = raw;
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = Trim(line);
    if (line.empty()) continue;

    AliasGroup group;
    std::string_view keys_part = line;
    if (size_t eq = line.find('='); eq != std::string_view::npos) {
      group.name = std::string(Trim(line.substr(0, eq)));
      keys_part = line.substr(eq + 1);
      if (group.name.empty()) return error("empty display name before '='");
      if (keys_part.find('=') != std::string_view::npos) return error("more than one '='");
    }
    // With a comma anywhere, keys are comma-separated and may contain spaces
    // ("mailname:John Smith"); otherwise they are whitespace-separated.
    std::vector<std::string> keys;
    if (keys_part.find(',') != std::string_view::npos) {
      for (std::string_view k : Split(keys_part, ",", false)) {
        k = Trim(k);
        if (k.empty()) return error("empty key between commas");
        keys.emplace_back(k);
      }
    } else {
      std::vector<std::string_view> tokens = Split(keys_part, " \t\r", true);
      // Re-join "user at host" (three tokens) into one address.
      for (size_t i = 0; i < tokens.size(); ++i) {
        if (IsWordAt(tokens[i])) {
          return error(absl::StrFormat("'%s' without an address around it", tokens[i]));
        }
        if (i + 2 < tokens.size() && IsWordAt(tokens[i + 1])) {
          keys.push_back(absl::StrFormat("%s at %s", tokens[i], tokens[i + 2]));
          i += 2;
        } else {
          keys.emplace_back(tokens[i]);
        }
      }
    }
    if (keys.empty()) return error("no identity keys");
    for (const std::string& k : keys) {
      std::string key = NormalizeIdentityKey(k);
      size_t colon = key.find(':');
      if (colon == std::string::npos || colon == 0) {
        return error(absl::StrFormat("key \"%s\" is neither an identity key (prefix:value) nor an e-mail address", k));
      }
      if (colon + 1 == key.size() || key == "mail:@" || std::string_view(key).ends_with("@") ||
          (std::string_view(key).starts_with("mail:") && (key.find('@') == std::string::npos || key[5] == '@'))) {
        return error(absl::StrFormat("key \"%s\" is empty or not a complete address", k));
      }
      auto [it, inserted] = seen.emplace(key, line_no);
      if (!inserted) {
        if (it->second == line_no) continue;  // repeated on the same line: harmless
        return error(absl::StrFormat("key \"%s\" already belongs to the person on line %d", key, it->second));
      }
      group.keys.push_back(std::move(key));
    }
    groups.push_back(std::move(group));
  }
  return groups;
}

absl::StatusOr<std::vector<AliasGroup>> LoadAliasesFile(const std::string& path) {
  absl::StatusOr<std::unique_ptr<InputFile>> in = InputFile::Open(path);
  if (!in.ok()) return in.status();
  absl::StatusOr<std::string> content = (*in)->ReadAll(kMaxAliasesFileBytes);
  if (!content.ok()) return content.status();
  return ParseAliases(*content, path);
}

namespace {

// Letters NFKD does not decompose into a base letter plus marks.
bool FoldLetter(gunichar c, std::string* out) {
  switch (c) {
    case 0x00F8: case 0x00D8: *out += "o"; return true;   // ø Ø
    case 0x0142: case 0x0141: *out += "l"; return true;   // ł Ł
    case 0x0111: case 0x0110: *out += "d"; return true;   // đ Đ
    case 0x00E6: case 0x00C6: *out += "ae"; return true;  // æ Æ
    case 0x0153: case 0x0152: *out += "oe"; return true;  // œ Œ
    case 0x00FE: case 0x00DE: *out += "th"; return true;  // þ Þ
    case 0x00F0: case 0x00D0: *out += "d"; return true;   // ð Ð
    case 0x00DF: *out += "ss"; return true;               // ß
    case 0x0131: *out += "i"; return true;                // dotless ı
    default: return false;
  }
}

// Words of one name part: accents folded (NFKD, combining marks dropped),
// lower case, anything but letters and digits separates words.
std::vector<std::string> FoldedWords(std::string_view part) {
  std::vector<std::string> words;
  std::string in(part);
  if (!g_utf8_validate(in.data(), static_cast<gssize>(in.size()), nullptr)) in = AsciiLower(in);
  gchar* nfkd = g_utf8_normalize(in.data(), static_cast<gssize>(in.size()), G_NORMALIZE_NFKD);
  if (nfkd == nullptr) return words;
  std::string word;
  for (const gchar* p = nfkd; *p != '\0'; p = g_utf8_next_char(p)) {
    const gunichar c = g_utf8_get_char(p);
    const GUnicodeType type = g_unichar_type(c);
    if (type == G_UNICODE_NON_SPACING_MARK || type == G_UNICODE_SPACING_MARK || type == G_UNICODE_ENCLOSING_MARK) {
      continue;
    }
    if (FoldLetter(c, &word)) continue;
    if (g_unichar_isalnum(c)) {
      char buf[8];
      word.append(buf, static_cast<size_t>(g_unichar_to_utf8(g_unichar_tolower(c), buf)));
      continue;
    }
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  }
  if (!word.empty()) words.push_back(std::move(word));
  g_free(nfkd);
  return words;
}

bool IsSuffix(const std::vector<std::string>& words) {
  if (words.size() != 1) return false;
  for (std::string_view s : {"jr", "sr", "ii", "iii", "iv", "phd", "md", "esq"}) {
    if (words[0] == s) return true;
  }
  return false;
}

}  // namespace

std::string NormalizeDisplayName(std::string_view name) {
  if (name.find('@') != std::string_view::npos) return "";  // an address, not a name
  // Drop parenthesised or bracketed remarks: "Jane Roe (ACME)", "[External]".
  std::string plain;
  int depth = 0;
  for (char c : name) {
    if (c == '(' || c == '[') ++depth;
    if (depth == 0) plain.push_back(c);
    if ((c == ')' || c == ']') && depth > 0) --depth;
  }
  // "Last, First" (with an optional ", Jr." dropped) becomes "first last".
  std::vector<std::vector<std::string>> parts;
  for (std::string_view part : Split(plain, ",", false)) {
    std::vector<std::string> w = FoldedWords(part);
    if (!w.empty()) parts.push_back(std::move(w));
  }
  while (parts.size() > 1 && IsSuffix(parts.back())) parts.pop_back();
  std::vector<std::string> words;
  if (parts.size() == 1) {
    words = std::move(parts[0]);
  } else if (parts.size() == 2) {
    words = std::move(parts[1]);
    words.insert(words.end(), parts[0].begin(), parts[0].end());
  } else {
    return "";  // no words, or a list of names
  }
  // Leading titles say nothing about who it is.
  while (words.size() > 1 && (words[0] == "dr" || words[0] == "prof" || words[0] == "professor")) {
    words.erase(words.begin());
  }
  std::string out;
  for (const std::string& w : words) {
    if (!out.empty()) out.push_back(' ');
    out += w;
  }
  return out;
}

std::string MailNameKey(std::string_view name) {
  std::string n = NormalizeDisplayName(name);
  size_t words = 0;
  bool beyond_initial = false;
  for (std::string_view w : Split(n, " ", true)) {
    ++words;
    if (g_utf8_strlen(w.data(), static_cast<gssize>(w.size())) > 1) beyond_initial = true;
  }
  return words >= 2 && beyond_initial ? n : std::string();
}

}  // namespace whoknows::indexer
