// mbox reader: splits an mbox archive (mboxo, mboxrd, mboxcl2; LF or CRLF;
// possibly .xz/.zst) into messages itself and hands each message to gmime for
// MIME parsing.
//
// Splitting follows the mbox rules (RFC 4155 appendix A, qmail's mbox(5)):
// a message starts at a `From <sender> <asctime>` envelope line (the sender may
// contain spaces, so the date is matched at the end of the line; an optional
// zone before the year is accepted) that is
//   - the first line of the file, or
//   - preceded by a blank line and followed by a header field (any header:
//     Return-Path, Received, Delivered-To, From, ... in any order), or
//   - followed by a `From: ` header even without a blank line before it (a
//     tolerance for pipermail, which dropped the blank line 125 times in
//     r-devel), or
//   - at the byte where the previous message's Content-Length says its body
//     ends (mboxcl2), directly or after one blank line.
// An envelope-form line followed by body text is body text (pipermail left
// `From ` lines unescaped in bodies). mboxcl2: when a message has a
// Content-Length header and the bytes at its end are EOF or (a blank line and)
// the next envelope line, the body is taken verbatim, so an unescaped `From `
// line inside it splits nothing; an inconsistent Content-Length is ignored and
// the lines it covered are split by the rules above. Otherwise body lines
// `>+From ` lose one '>' (mboxrd unescaping, also right for mboxo's `>From `).
//
// Why not gmime's own mbox mode (GMIME_FORMAT_MBOX with
// g_mime_parser_get_mbox_marker): it ends a message at every line that starts
// with "From ", envelope form or not, and does no `>From ` unescaping, so the
// unescaped body lines of r-devel ("From the docs I read ...") would split
// messages, and it reads a plain stream where these files are .xz/.zst. gmime
// still parses each message (GMIME_FORMAT_MESSAGE).
//
// A split failure must never be silent: a message holding several
// envelope-like lines, or implausibly large for one mail, is indexed and
// reported through RecordSink::OnWarning with the file, line and byte offset.
//
// Identity and thread keys are built from the raw headers (pipermail archives
// rewrite addresses as `user at host`, obfuscate them after 2018, and keep
// truncated or free-text ids), not from gmime's address/id parsers.

#include <gmime/gmime.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "whoknows/base/source_pos.h"
#include "whoknows/base/status_macros.h"
#include "whoknows/base/strings.h"
#include "whoknows/indexer/input.h"
#include "whoknows/indexer/readers.h"
#include "whoknows/indexer/record.h"

namespace whoknows::indexer {
namespace {

constexpr uint64_t kProgressEvery = 4u << 20;

// ---------------------------------------------------------------------------
// gmime setup: initialised once per process; the parser options object is
// shared read-only by every parser afterwards.

GMimeParserOptions* ParserOptions() {
  static std::once_flag once;
  static GMimeParserOptions* options = nullptr;
  std::call_once(once, [] {
    g_mime_init();
    options = g_mime_parser_options_new();
    // Undeclared 8-bit header text: try UTF-8, then windows-1252 (latin-1).
    const char* fallback[] = {"utf-8", "windows-1252", nullptr};
    g_mime_parser_options_set_fallback_charsets(options, fallback);
    g_mime_parser_options_set_rfc2047_compliance_mode(options, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_address_compliance_mode(options, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_parameter_compliance_mode(options, GMIME_RFC_COMPLIANCE_LOOSE);
  });
  return options;
}

// Owns a GObject reference.
struct GObjectUnref {
  void operator()(gpointer p) const {
    if (p != nullptr) g_object_unref(p);
  }
};
template <typename T>
using GPtr = std::unique_ptr<T, GObjectUnref>;

// ---------------------------------------------------------------------------
// Small string helpers (no allocation).

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool IStartsWith(std::string_view s, std::string_view p) {
  if (s.size() < p.size()) return false;
  for (size_t i = 0; i < p.size(); ++i) {
    if (Lower(s[i]) != Lower(p[i])) return false;
  }
  return true;
}

bool IEndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && IStartsWith(s.substr(s.size() - p.size()), p);
}

bool IContains(std::string_view s, std::string_view p) {
  if (p.empty()) return true;
  for (size_t i = 0; i + p.size() <= s.size(); ++i) {
    if (IStartsWith(s.substr(i), p)) return true;
  }
  return false;
}

// Unfolds header whitespace (CR/LF/TAB runs) into single spaces and trims.
std::string CollapseSpaces(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool space = false;
  for (char c : s) {
    if (IsSpace(c)) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Encoding repair: keeps valid UTF-8 sequences and reads every other byte as
// windows-1252 (a superset of latin-1's printable range).

size_t Utf8SeqLen(const unsigned char* p, size_t n) {
  unsigned char c = p[0];
  if (c < 0x80) return 1;
  size_t len;
  uint32_t min;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (len > n) return 0;
  uint32_t cp = c & (0x7Fu >> len);
  for (size_t k = 1; k < len; ++k) {
    if ((p[k] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[k] & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

void AppendCodepoint(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

constexpr uint16_t kCp1252High[32] = {0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                      0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
                                      0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                      0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};

// Returns true when `s` was already valid UTF-8 (then it is left untouched).
bool RepairUtf8(std::string* s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s->data());
  const size_t n = s->size();
  size_t i = 0;
  while (i < n) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    size_t l = Utf8SeqLen(p + i, n - i);
    if (l == 0) break;
    i += l;
  }
  if (i == n) return true;
  std::string out;
  out.reserve(n + n / 8 + 16);
  out.append(s->data(), i);
  while (i < n) {
    size_t l = p[i] < 0x80 ? 1 : Utf8SeqLen(p + i, n - i);
    if (l == 0) {
      unsigned char c = p[i];
      AppendCodepoint(c >= 0x80 && c < 0xA0 ? kCp1252High[c - 0x80] : c, &out);
      ++i;
    } else {
      out.append(s->data() + i, l);
      i += l;
    }
  }
  s->swap(out);
  return false;
}

// ---------------------------------------------------------------------------
// Dates.

int MonthIndex(std::string_view m) {
  static constexpr const char* kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                            "jul", "aug", "sep", "oct", "nov", "dec"};
  if (m.size() < 3) return 0;
  for (int i = 0; i < 12; ++i) {
    if (IStartsWith(m, kMonths[i])) return i + 1;
  }
  return 0;
}

bool IsWeekday(std::string_view w) {
  if (w.size() != 3) return false;
  for (const char* d : {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}) {
    if (IStartsWith(w, d)) return true;
  }
  return false;
}

bool ParseInt(std::string_view s, int* out) {
  if (s.empty() || s.size() > 9) return false;
  int v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// "hh:mm[:ss]"
bool ParseClock(std::string_view s, int* h, int* m, int* sec) {
  size_t c1 = s.find(':');
  if (c1 == std::string_view::npos) return false;
  size_t c2 = s.find(':', c1 + 1);
  *sec = 0;
  if (!ParseInt(s.substr(0, c1), h)) return false;
  if (c2 == std::string_view::npos) return ParseInt(s.substr(c1 + 1), m);
  return ParseInt(s.substr(c1 + 1, c2 - c1 - 1), m) && ParseInt(s.substr(c2 + 1), sec);
}

int FixYear(int y) {
  if (y < 50) return y + 2000;
  if (y < 100) return y + 1900;
  return y;
}

bool CivilToUnix(int y, int mon, int d, int h, int mi, int s, int64_t* out) {
  if (mon < 1 || mon > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return false;
  absl::CivilSecond cs(y, mon, d, h, mi, s);
  *out = absl::ToUnixSeconds(absl::FromCivil(cs, absl::UTCTimeZone()));
  return true;
}

// Matches an asctime date at the END of `s`:
//   Www Mmm dd hh:mm:ss [zone] yyyy
// Tokens are separated by runs of spaces/tabs. On success returns the UTC
// timestamp (a zone token, if any, is ignored: pipermail writes UTC) and sets
// *date_start to where the weekday begins.
bool ParseAsctimeTail(std::string_view s, int64_t* ts, size_t* date_start) {
  std::string_view tok[6];
  size_t start[6] = {0, 0, 0, 0, 0, 0};
  int n = 0;
  size_t end = s.size();
  while (n < 6) {
    while (end > 0 && IsSpace(s[end - 1])) --end;
    if (end == 0) break;
    size_t b = end;
    while (b > 0 && !IsSpace(s[b - 1])) --b;
    tok[n] = s.substr(b, end - b);
    start[n] = b;
    ++n;
    end = b;
  }
  int i = 0;
  if (n < 5) return false;
  int year;
  if (!ParseInt(tok[i], &year) || (tok[i].size() != 4 && tok[i].size() != 2)) return false;
  year = FixYear(year);
  ++i;
  if (tok[i].find(':') == std::string_view::npos) ++i;  // optional zone
  if (i + 3 >= n) return false;
  int h, mi, sec, day;
  if (!ParseClock(tok[i], &h, &mi, &sec)) return false;
  ++i;
  if (!ParseInt(tok[i], &day) || tok[i].size() > 2) return false;
  ++i;
  int mon = MonthIndex(tok[i]);
  if (mon == 0 || tok[i].size() != 3) return false;
  ++i;
  if (!IsWeekday(tok[i])) return false;
  *date_start = start[i];
  return CivilToUnix(year, mon, day, h, mi, sec, ts);
}

// A separator candidate: "From " + sender + asctime date.
bool ParseSeparator(std::string_view line, int64_t* ts) {
  if (!StartsWith(line, "From ")) return false;
  size_t date_start = 0;
  return ParseAsctimeTail(line.substr(5), ts, &date_start);
}

// "" or "\r" (CRLF files).
bool IsBlankLine(std::string_view l) { return l.empty() || (l.size() == 1 && l[0] == '\r'); }

// An RFC 5322 header field line: a name of printable ASCII other than ':'
// followed by ':' ("Received:", "X-Mailer:"; also "From:").
bool IsHeaderField(std::string_view l) {
  size_t i = 0;
  while (i < l.size() && l[i] > ' ' && l[i] < 127 && l[i] != ':') ++i;
  return i > 0 && i < l.size() && l[i] == ':';
}

// Looser than ParseSeparator, for warnings only: "From <word> ..." holding a
// clock (h:mm) and a year 19xx/20xx, e.g. envelope lines with dates in other
// layouts ("From x Mon, 1 Jan 2024 10:00:00 +0000").
bool LooksLikeEnvelope(std::string_view l) {
  if (!StartsWith(l, "From ") || l.size() < 12) return false;
  int64_t ts;
  if (ParseSeparator(l, &ts)) return true;
  bool clock = false, year = false;
  for (size_t i = 5; i + 3 < l.size(); ++i) {
    if (IsDigit(l[i]) && l[i + 1] == ':' && IsDigit(l[i + 2]) && IsDigit(l[i + 3])) clock = true;
    if ((l[i] == '1' && l[i + 1] == '9') || (l[i] == '2' && l[i + 1] == '0')) {
      if (IsDigit(l[i + 2]) && IsDigit(l[i + 3]) && IsSpace(l[i - 1]) &&
          (i + 4 == l.size() || !IsDigit(l[i + 4]))) {
        year = true;
      }
    }
  }
  return clock && year;
}

// Lines of `msg` that begin with "From " and look like envelope lines.
int CountEnvelopeLike(std::string_view msg) {
  int n = 0;
  size_t pos = 0;
  while (pos < msg.size()) {
    size_t nl = msg.find('\n', pos);
    std::string_view l = msg.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    if (l.size() > 5 && l[0] == 'F' && LooksLikeEnvelope(l)) ++n;
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return n;
}

// mboxrd: every line `>+From ` loses one '>', in place.
void UnescapeFromLines(std::string* msg) {
  std::string& s = *msg;
  size_t out = 0;
  size_t pos = 0;
  bool changed = false;
  while (pos < s.size()) {
    size_t nl = s.find('\n', pos);
    size_t end = nl == std::string::npos ? s.size() : nl + 1;
    size_t skip = 0;
    if (s[pos] == '>') {
      size_t i = pos;
      while (i < end && s[i] == '>') ++i;
      if (s.compare(i, 5, "From ") == 0) skip = 1;
    }
    if (skip != 0 || changed) {
      changed = true;
      std::memmove(&s[out], &s[pos + skip], end - pos - skip);
    }
    out += end - pos - skip;
    pos = end;
  }
  s.resize(out);
}

// The value of a "Content-Length: N" header line, or -1.
int64_t ContentLength(std::string_view l) {
  if (!IStartsWith(l, "content-length:")) return -1;
  std::string_view v = Trim(l.substr(15));
  if (v.empty() || v.size() > 15) return -1;
  int64_t n = 0;
  for (char c : v) {
    if (!IsDigit(c)) return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

// One input line and where it is.
struct Line {
  std::string text;    // without the '\n' (a trailing '\r' is kept)
  uint64_t start = 0;  // byte offset of its first byte in the decompressed stream
  uint64_t end = 0;    // byte offset after its '\n'
  int64_t no = 0;      // 1-based line number
  bool too_long = false;
};

// Lines of an InputFile with a lookahead of a few lines.
class LineQueue {
 public:
  LineQueue(InputFile* in, size_t cap) : in_(in), cap_(cap) {}

  // The k-th line ahead (0 = the next one to Pop), nullptr past the end.
  const Line* Peek(size_t k) {
    while (size_ <= k) {
      if (eof_ || size_ == kSlots) return nullptr;
      Line& l = slots_[(head_ + size_) % kSlots];
      l.start = in_->offset();
      if (!in_->ReadLine(&l.text, cap_, &l.too_long)) {
        eof_ = true;
        return nullptr;
      }
      l.end = in_->offset();
      l.no = ++lineno_;
      ++size_;
    }
    return &slots_[(head_ + k) % kSlots];
  }

  bool Pop(Line* out) {
    if (Peek(0) == nullptr) return false;
    Line& l = slots_[head_];
    out->text.swap(l.text);
    out->start = l.start;
    out->end = l.end;
    out->no = l.no;
    out->too_long = l.too_long;
    head_ = (head_ + 1) % kSlots;
    --size_;
    return true;
  }

 private:
  static constexpr size_t kSlots = 3;
  InputFile* in_;
  size_t cap_;
  Line slots_[kSlots];
  size_t head_ = 0, size_ = 0;
  int64_t lineno_ = 0;
  bool eof_ = false;
};

// A Date header value gmime could not parse: try asctime anywhere-ish
// ("Tue Feb 16 14:48:40 1999", possibly followed by a zone).
bool ParseLooseDate(std::string_view s, int64_t* ts) {
  s = Trim(s);
  size_t date_start = 0;
  if (ParseAsctimeTail(s, ts, &date_start)) return true;
  // "Www Mmm dd hh:mm:ss yyyy zone": drop the last token and retry.
  size_t sp = s.find_last_of(" \t");
  if (sp == std::string_view::npos) return false;
  return ParseAsctimeTail(s.substr(0, sp), ts, &date_start);
}

// ---------------------------------------------------------------------------
// Message ids.

// Appends every "<id>" in `s` to *ids. Whitespace inside the brackets comes
// from header folding in the middle of an id (`<x@mail.uni-bayreuth.\n de>`)
// and is removed; such ids must contain '@' (pipermail's " at " is undone),
// so free text in angle brackets is not taken for an id.
void ExtractIds(std::string_view s, std::vector<std::string>* ids) {
  size_t i = 0;
  while (i < s.size()) {
    size_t lt = s.find('<', i);
    if (lt == std::string_view::npos) return;
    size_t gt = s.find('>', lt + 1);
    if (gt == std::string_view::npos) return;
    std::string_view id = s.substr(lt + 1, gt - lt - 1);
    if (id.find('<') != std::string_view::npos) {  // "<<id>" or "<text <id>"
      i = lt + 1;
      continue;
    }
    bool has_space = false;
    for (char c : id) has_space |= IsSpace(c);
    if (!has_space) {
      if (!id.empty()) ids->emplace_back(id);
    } else {
      std::string joined = CollapseSpaces(id);
      if (joined.find('@') == std::string::npos) {
        size_t at = joined.find(" at ");
        if (at != std::string::npos) joined.replace(at, 4, "@");
      }
      std::string clean;
      for (char c : joined) {
        if (c != ' ') clean.push_back(c);
      }
      if (clean.find('@') != std::string::npos && clean.size() <= 250) ids->push_back(std::move(clean));
    }
    i = gt + 1;
  }
}

// The Message-ID: its first <id>, else the whole (collapsed) value, e.g. the
// bare `PM20007:12:28 PM` seen in 2002.
std::string MessageId(std::string_view raw) {
  std::vector<std::string> ids;
  ExtractIds(raw, &ids);
  if (!ids.empty()) return std::move(ids.front());
  return CollapseSpaces(raw);
}

// ---------------------------------------------------------------------------
// Senders.

struct Sender {
  std::string key;        // "mail:a@b", "mailname:first last" or empty
  std::string name;       // display name
  std::string address;    // normalised address when decodable
  bool via_list = false;  // "Name via List" rewriting
};

std::string DecodePhrase(std::string_view s) {
  std::string in(s);
  char* dec = g_mime_utils_header_decode_phrase(ParserOptions(), in.c_str());
  std::string out = dec != nullptr ? std::string(dec) : in;
  g_free(dec);
  RepairUtf8(&out);
  // Strip quotes/backslashes that survive in broken forms (`Name" <addr`).
  std::string clean;
  clean.reserve(out.size());
  for (char c : out) {
    if (c != '"' && c != '\\') clean.push_back(c);
  }
  std::string name = CollapseSpaces(clean);
  while (!name.empty() && (name.back() == ',' || name.back() == ';' || name.back() == ' ')) name.pop_back();
  return name;
}

bool IsObfuscated(std::string_view lower_addr) {
  for (std::string_view marker : {" @ending from ", " @end|ng |rom ", " m@ili@g off ", " m@iii@g oii "}) {
    if (lower_addr.find(marker) != std::string_view::npos) return true;
  }
  return false;
}

// Lower-cases, strips <>, undoes "user at host" and removes whitespace.
std::string NormalizeAddress(std::string_view a) {
  a = Trim(a);
  while (!a.empty() && (a.front() == '<' || a.front() == '"')) a.remove_prefix(1);
  while (!a.empty() && (a.back() == '>' || a.back() == '"')) a.remove_suffix(1);
  a = Trim(a);
  std::string lower = AsciiLower(a);
  if (lower.find('@') == std::string::npos) {
    size_t at = lower.find(" at ");
    if (at != std::string::npos) lower.replace(at, 4, "@");
  }
  std::string out;
  out.reserve(lower.size());
  for (char c : lower) {
    if (!IsSpace(c)) out.push_back(c);
  }
  return out;
}

Sender ParseSender(std::string_view raw_value) {
  Sender s;
  std::string value = CollapseSpaces(raw_value);
  std::string_view rest = value;
  std::string_view comment;
  // Trailing "(Comment)" holds the display name in pipermail archives.
  if (!rest.empty() && rest.back() == ')') {
    int depth = 0;
    for (size_t i = rest.size(); i-- > 0;) {
      if (rest[i] == ')') ++depth;
      if (rest[i] == '(' && --depth == 0) {
        comment = Trim(rest.substr(i + 1, rest.size() - i - 2));
        rest = Trim(rest.substr(0, i));
        break;
      }
    }
  }
  std::string_view addr = rest;
  std::string_view phrase;
  size_t lt = rest.rfind('<');
  if (lt != std::string_view::npos) {
    size_t gt = rest.find('>', lt);
    addr = gt == std::string_view::npos ? rest.substr(lt + 1) : rest.substr(lt + 1, gt - lt - 1);
    phrase = Trim(rest.substr(0, lt));
  }
  if (lt == std::string_view::npos && comment.empty()) {
    size_t open = rest.find('(');  // unterminated comment: "a at b (Name,"
    if (open != std::string_view::npos) {
      comment = Trim(rest.substr(open + 1));
      addr = rest.substr(0, open);
    }
  }
  addr = Trim(addr);
  std::string name = !phrase.empty() ? DecodePhrase(phrase) : (!comment.empty() ? DecodePhrase(comment) : "");
  std::string lower_addr = CollapseSpaces(AsciiLower(addr));
  const bool obfuscated = IsObfuscated(" " + lower_addr + " ");
  if (size_t cut = name.find('<'); cut != std::string::npos) name = std::string(Trim(name.substr(0, cut)));
  // The display name repeats the address: "x m@iii@g oii y (x m@iii@g oii y)",
  // "a at b.org (a@b.org)". Not a name.
  if (!name.empty() && (AsciiLower(name) == lower_addr || NormalizeAddress(name) == NormalizeAddress(addr))) {
    name.clear();
  }
  if (!obfuscated && lt == std::string_view::npos && addr.find('@') == std::string_view::npos &&
      addr.find(" at ") == std::string_view::npos && addr.find("=?") != std::string_view::npos) {
    // Broken: an encoded name and no address.
    if (name.empty()) name = DecodePhrase(addr);
    addr = {};
    lower_addr.clear();
  }
  if (IContains(name, " via ")) {
    s.via_list = true;
    name = name.substr(0, AsciiLower(name).rfind(" via "));
  }
  s.name = name;
  if (obfuscated) {
    s.key = !name.empty() ? "mailname:" + CollapseSpaces(AsciiLower(name)) : "mail:" + lower_addr;
    if (s.name.empty()) s.name = std::string(lower_addr.substr(0, lower_addr.find(' ')));
    return s;
  }
  std::string norm = NormalizeAddress(addr);
  size_t at = norm.find('@');
  if (at != std::string::npos && at > 0) {
    s.address = norm;
    s.key = "mail:" + norm;
    if (s.name.empty()) s.name = norm.substr(0, at);
  } else if (!name.empty()) {
    s.key = "mailname:" + CollapseSpaces(AsciiLower(name));
  } else if (!norm.empty()) {
    s.key = "mail:" + norm;
    s.name = norm;
  }
  return s;
}

// ---------------------------------------------------------------------------
// Subject and body.

std::string StripSubjectTags(std::string_view s) {
  for (;;) {
    s = Trim(s);
    if (!s.empty() && s.front() == '[') {
      size_t close = s.find(']');
      if (close != std::string_view::npos && close <= 40) {
        s.remove_prefix(close + 1);
        continue;
      }
      break;
    }
    bool stripped = false;
    // "R-alpha:" is the 1997 subject tag of r-devel's predecessor list.
    for (std::string_view p : {"re", "fwd", "fw", "aw", "sv", "antw", "r-alpha"}) {
      if (!IStartsWith(s, p)) continue;
      size_t i = p.size();
      if (i < s.size() && (s[i] == '[' || s[i] == '(')) {  // "Re[2]:"
        size_t j = i + 1;
        while (j < s.size() && IsDigit(s[j])) ++j;
        if (j < s.size() && (s[j] == ']' || s[j] == ')')) i = j + 1;
      }
      while (i < s.size() && s[i] == ' ') ++i;
      if (i < s.size() && s[i] == ':') {
        s.remove_prefix(i + 1);
        stripped = true;
        break;
      }
    }
    if (!stripped) break;
  }
  return std::string(s);
}

bool IsBannerRule(std::string_view l) {
  l = Trim(l);
  if (l.size() < 20) return false;
  for (char c : l) {
    if (c != '_' && c != '=' && c != '-') return false;
  }
  return true;
}

bool IsAttribution(std::string_view l) {
  l = Trim(l);
  return IEndsWith(l, "wrote:") || IEndsWith(l, "writes:") || IEndsWith(l, "schrieb:") || IEndsWith(l, "crit :") ||
         IEndsWith(l, "crit:");
}

// "> text", also indented by up to two spaces (" > text", Emacs style).
bool IsQuoteLine(std::string_view l) {
  size_t i = 0;
  while (i < 2 && i < l.size() && l[i] == ' ') ++i;
  return i < l.size() && l[i] == '>';
}

// "An embedded and charset-unspecified text was scrubbed...", "An HTML attachment was
// scrubbed...", "A non-text attachment was scrubbed...": pipermail's stub for a removed part.
bool IsScrubbedStub(std::string_view l) {
  l = Trim(l);
  return (StartsWith(l, "An ") || StartsWith(l, "A ")) && IEndsWith(l, " was scrubbed...");
}

// Appends the author's own words of `text` to *out: drops quoted lines, the
// attribution before a quote block, the signature, pipermail attachment
// stubs and list footers.
void AppendOwnWords(std::string_view text, std::string* out) {
  // Start offsets in *out of the last two emitted non-blank lines.
  size_t last = std::string::npos, prev = std::string::npos;
  bool in_quote = false;
  bool in_stub = false;
  size_t pos = 0;
  auto next_line = [&](size_t* p) -> std::string_view {
    size_t nl = text.find('\n', *p);
    std::string_view l = text.substr(*p, nl == std::string_view::npos ? std::string_view::npos : nl - *p);
    *p = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    return l;
  };
  if (!out->empty()) out->append("\n\n");
  const size_t base = out->size();
  while (pos <= text.size()) {
    std::string_view l = next_line(&pos);
    if (pos > text.size() && l.empty()) break;
    if (l == "-- " || l == "--") break;
    if (StartsWith(Trim(l), "-------------- next part --------------")) break;
    // A part the archive scrubbed, without a "next part" line before it (a mail whose only
    // part was HTML): the stub and its Name/Type/Size/Desc/URL lines are not the author's words.
    if (IsScrubbedStub(l)) {
      in_stub = true;
      continue;
    }
    if (in_stub) {
      std::string_view t = Trim(l);
      if (t.empty() || StartsWith(t, "Name:") || StartsWith(t, "Type:") || StartsWith(t, "Size:") ||
          StartsWith(t, "Desc:") || StartsWith(t, "URL:") || StartsWith(t, "Url:")) {
        continue;
      }
      in_stub = false;
    }
    if (IsBannerRule(l)) {
      size_t p2 = pos;
      std::string_view n2;
      while (p2 <= text.size()) {
        n2 = next_line(&p2);
        if (!Trim(n2).empty()) break;
      }
      if (IContains(n2, "mailing list")) break;
    }
    if (IsQuoteLine(l)) {
      if (!in_quote && last != std::string::npos) {
        std::string_view last_line = std::string_view(*out).substr(last);
        if (IsAttribution(last_line)) {
          size_t cut = last;
          // A wrapped attribution: "On <date>, Name <addr" / "> wrote:".
          if (!IStartsWith(Trim(last_line), "on ") && prev != std::string::npos &&
              IStartsWith(std::string_view(*out).substr(prev), "on ")) {
            cut = prev;
          }
          out->resize(cut);
          last = prev = std::string::npos;
        }
      }
      in_quote = true;
      continue;
    }
    in_quote = false;
    if (Trim(l).empty()) {
      if (out->size() > base && !(out->size() >= base + 2 && out->compare(out->size() - 2, 2, "\n\n") == 0)) {
        out->push_back('\n');
      }
      continue;
    }
    prev = last;
    last = out->size();
    out->append(l);
    out->push_back('\n');
  }
  while (out->size() > base && IsSpace(out->back())) out->pop_back();
  if (out->size() == base && base >= 2) out->resize(base - 2);
}

bool IsUtf8Charset(const char* cs) {
  if (cs == nullptr) return true;
  std::string l = AsciiLower(cs);
  return l == "utf-8" || l == "utf8" || l == "us-ascii" || l == "ascii";
}

// Decoded (transfer encoding and charset) text of a text/plain part, UTF-8.
std::string PartText(GMimePart* part) {
  std::string out;
  GMimeContentType* ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
  const char* charset = ct != nullptr ? g_mime_content_type_get_parameter(ct, "charset") : nullptr;
  if (GMIME_IS_TEXT_PART(part) && !IsUtf8Charset(charset)) {
    char* t = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
    if (t != nullptr) out = t;
    g_free(t);
  } else {
    GMimeDataWrapper* content = g_mime_part_get_content(part);
    if (content == nullptr) return out;
    GPtr<GMimeStream> mem(g_mime_stream_mem_new());
    if (g_mime_data_wrapper_write_to_stream(content, mem.get()) < 0) return out;
    GByteArray* arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
    if (arr != nullptr) out.assign(reinterpret_cast<const char*>(arr->data), arr->len);
  }
  RepairUtf8(&out);
  return out;
}

void CollectText(GMimeObject* obj, std::string* out, int depth) {
  if (obj == nullptr || depth > 32) return;
  if (GMIME_IS_MULTIPART(obj)) {
    GMimeMultipart* mp = GMIME_MULTIPART(obj);
    GMimeContentType* ct = g_mime_object_get_content_type(obj);
    const bool alternative = ct != nullptr && g_mime_content_type_is_type(ct, "multipart", "alternative");
    int n = g_mime_multipart_get_count(mp);
    for (int i = 0; i < n; ++i) {
      size_t before = out->size();
      CollectText(g_mime_multipart_get_part(mp, i), out, depth + 1);
      if (alternative && out->size() != before) break;  // first plain-text alternative only
    }
    return;
  }
  if (!GMIME_IS_PART(obj)) return;  // message/rfc822 etc.: not the author's words
  GMimePart* part = GMIME_PART(obj);
  GMimeContentType* ct = g_mime_object_get_content_type(obj);
  if (ct != nullptr && !g_mime_content_type_is_type(ct, "text", "plain")) return;
  if (g_mime_part_is_attachment(part)) return;
  std::string text = PartText(part);
  AppendOwnWords(text, out);
}

// ---------------------------------------------------------------------------
// The reader.

std::string ListName(const std::string& path) {
  std::filesystem::path p(path);
  std::string dir = p.parent_path().filename().string();
  if (dir.empty() || dir == "." || dir == "..") {
    std::error_code ec;
    std::filesystem::path abs = std::filesystem::absolute(p, ec);
    if (!ec) dir = abs.parent_path().filename().string();
  }
  if (dir.empty()) dir = std::filesystem::path(StripCompressionSuffix(p.filename().string())).stem().string();
  return dir;
}

// Warnings for messages that may hold several mails (a split failure).
constexpr int kSuspectEnvelopeLines = 3;               // envelope-like lines inside one message
constexpr size_t kImplausibleMailBytes = size_t{8} << 20;  // one mail this large is rare; a split failure is not

class MboxReader {
 public:
  MboxReader(const std::string& path, const ReadOptions& options, RecordSink* sink)
      : path_(path), options_(options), sink_(sink) {
    list_ = ListName(path);
    source_ = options.source.empty() ? "mbox:" + list_ : options.source;
    community_ = options.community.empty() ? list_ : options.community;
    visibility_ = options.visibility.empty() ? "public" : options.visibility;
  }

  absl::Status Run() {
    absl::StatusOr<std::unique_ptr<InputFile>> in_or = InputFile::Open(path_);
    if (!in_or.ok()) return in_or.status();
    std::unique_ptr<InputFile> in = *std::move(in_or);
    ParserOptions();
    const size_t line_cap =
        options_.max_record_bytes < SIZE_MAX ? options_.max_record_bytes + 1 : options_.max_record_bytes;
    LineQueue lines(in.get(), line_cap);
    Line line;
    bool prev_blank = true;    // the start of the file counts as after a blank line
    bool force_sep = false;    // the line is where a consistent Content-Length ended the last message
    uint64_t last_progress = 0;
    while (lines.Pop(&line)) {
      const Line* next = lines.Peek(0);
      int64_t ts = 0;
      const bool envelope = !line.too_long && line.text.size() > 5 && line.text[0] == 'F' && ParseSeparator(line.text, &ts);
      if (cl_active_) {
        if (line.start < cl_end_) {  // inside the body Content-Length announced
          if (envelope && StandardSeparator(prev_blank, next)) {
            cl_cuts_.push_back({buf_.size(), line.text.size() + 1, line.no, line.start, ts});
          }
          prev_blank = IsBlankLine(line.text);
          Append(line);
          continue;
        }
        cl_active_ = false;
        if (line.start == cl_end_ && (envelope || (IsBlankLine(line.text) && (next == nullptr || IsEnvelope(*next))))) {
          WK_RETURN_IF_ERROR(Finish(/*unescape=*/false));
          if (!envelope) {  // the blank line that separates mboxcl2 messages
            prev_blank = true;
            force_sep = true;
            continue;
          }
          force_sep = true;
        } else {
          WK_RETURN_IF_ERROR(SplitAtCuts());
        }
      }
      // The first line of a file starts a message even when its date is in
      // another layout: reading nothing at all would be silent.
      const bool sep = (envelope && (line.no == 1 || force_sep || StandardSeparator(prev_blank, next))) ||
                       (line.no == 1 && !line.too_long && LooksLikeEnvelope(line.text));
      force_sep = false;
      prev_blank = IsBlankLine(line.text);
      if (sep) {
        WK_RETURN_IF_ERROR(Finish(/*unescape=*/true));
        Begin(line, ts);
        ++messages_;
        if (in->compressed_done() - last_progress >= kProgressEvery) {
          last_progress = in->compressed_done();
          sink_->OnProgress(path_, in->compressed_done(), in->compressed_size());
        }
        continue;
      }
      if (!active_) continue;
      Append(line);
      if (in_headers_) {
        if (IsBlankLine(line.text)) {
          in_headers_ = false;
          if (content_length_ >= 0 && !too_large_ &&
              static_cast<uint64_t>(content_length_) <= options_.max_record_bytes) {
            cl_active_ = true;
            cl_end_ = line.end + static_cast<uint64_t>(content_length_);
            cl_cuts_.clear();
          }
        } else if (int64_t n = ContentLength(line.text); n >= 0) {
          content_length_ = n;
        }
      }
    }
    if (cl_active_) {
      cl_active_ = false;
      // Consistent when the file ends where the body does.
      if (in->offset() == cl_end_) {
        WK_RETURN_IF_ERROR(Finish(/*unescape=*/false));
      } else {
        WK_RETURN_IF_ERROR(SplitAtCuts());
      }
    }
    // A damaged compressed stream: the partial last message is still indexed.
    WK_RETURN_IF_ERROR(Finish(/*unescape=*/true));
    if (!in->status().ok()) return in->status();
    if (messages_ == 0 && in->offset() > 0) {
      SourcePos pos;
      pos.file = path_;
      pos.offset = 0;
      sink_->OnWarning(pos, "no-messages",
                       absl::DataLossError(absl::StrFormat(
                           "%s: no `From <sender> <date>` envelope line starts a message: nothing read", path_)));
    }
    sink_->OnProgress(path_, in->compressed_done(), in->compressed_size());
    return absl::OkStatus();
  }

 private:
  // Where a message would start inside a Content-Length body by the other
  // rules: used when the Content-Length turns out wrong.
  struct Cut {
    size_t buf_at;    // where the envelope line starts in buf_
    size_t line_len;  // its length with the '\n'
    int64_t lineno;
    uint64_t offset;
    int64_t env_ts;
  };

  static bool IsEnvelope(const Line& l) {
    int64_t ts;
    return !l.too_long && ParseSeparator(l.text, &ts);
  }

  // An envelope line after a blank line and before a header field, or right
  // before a `From: ` header (pipermail).
  static bool StandardSeparator(bool prev_blank, const Line* next) {
    if (next == nullptr || next->too_long || !IsHeaderField(next->text)) return false;
    return prev_blank || StartsWith(next->text, "From: ");
  }

  void Begin(const Line& line, int64_t env_ts) {
    active_ = true;
    too_large_ = false;
    in_headers_ = true;
    content_length_ = -1;
    msg_lineno_ = line.no;
    msg_offset_ = line.start;
    env_ts_ = env_ts;
    buf_.clear();
  }

  void Append(const Line& line) {
    if (too_large_) return;
    if (line.too_long || buf_.size() + line.text.size() + 1 > options_.max_record_bytes) {
      too_large_ = true;
      buf_.clear();
      cl_active_ = false;  // nothing left to split
      cl_cuts_.clear();
      return;
    }
    buf_.append(line.text);
    buf_.push_back('\n');
  }

  // The Content-Length was wrong: the lines it covered are split by the other
  // rules (at the recorded cuts); the last piece stays the current message.
  absl::Status SplitAtCuts() {
    std::vector<Cut> cuts;
    cuts.swap(cl_cuts_);
    if (cuts.empty()) return absl::OkStatus();
    std::string all;
    all.swap(buf_);
    size_t from = 0;
    for (const Cut& c : cuts) {
      buf_.assign(all, from, c.buf_at - from);
      WK_RETURN_IF_ERROR(Finish(/*unescape=*/true));
      active_ = true;
      too_large_ = false;
      msg_lineno_ = c.lineno;
      msg_offset_ = c.offset;
      env_ts_ = c.env_ts;
      from = c.buf_at + c.line_len;
    }
    buf_.assign(all, from, std::string::npos);
    in_headers_ = false;
    return absl::OkStatus();
  }

  SourcePos Pos() const {
    SourcePos pos;
    pos.file = path_;
    pos.line = msg_lineno_;
    pos.offset = static_cast<int64_t>(msg_offset_);
    return pos;
  }

  absl::Status Finish(bool unescape) {
    if (!active_) return absl::OkStatus();
    active_ = false;
    if (too_large_) {
      sink_->OnBadRecord(Pos(), "too-large",
                         absl::ResourceExhaustedError(absl::StrFormat(
                             "%s (byte offset %d): message larger than %d bytes", Pos().ToString(), msg_offset_,
                             options_.max_record_bytes)));
      return absl::OkStatus();
    }
    const int envelopes = CountEnvelopeLike(buf_);
    if (envelopes >= kSuspectEnvelopeLines) {
      sink_->OnWarning(Pos(), "suspect-split",
                       absl::DataLossError(absl::StrFormat(
                           "%s (byte offset %d): message holds %d envelope-like `From ` lines; "
                           "the mbox may not have been split into all its messages",
                           Pos().ToString(), msg_offset_, envelopes)));
    }
    if (buf_.size() > kImplausibleMailBytes) {
      sink_->OnWarning(Pos(), "large-message",
                       absl::DataLossError(absl::StrFormat(
                           "%s (byte offset %d): message is %d bytes, implausibly large for one mail; "
                           "the mbox may not have been split into all its messages",
                           Pos().ToString(), msg_offset_, buf_.size())));
    }
    if (unescape) UnescapeFromLines(&buf_);
    return ParseMessage();
  }

  absl::Status ParseMessage() {
    GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(buf_.data(), buf_.size()));
    GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
    g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
    GPtr<GMimeMessage> msg(g_mime_parser_construct_message(parser.get(), ParserOptions()));
    if (msg == nullptr) {
      sink_->OnBadRecord(
          Pos(), "malformed-mime",
          absl::InvalidArgumentError(absl::StrFormat("%s: gmime cannot parse the message", Pos().ToString())));
      return absl::OkStatus();
    }
    // Raw headers (first occurrence of each).
    std::string_view from, date, subject_raw, mid, in_reply_to, references, reply_to, x_orig_from;
    GMimeHeaderList* headers = g_mime_object_get_header_list(GMIME_OBJECT(msg.get()));
    const int nh = headers != nullptr ? g_mime_header_list_get_count(headers) : 0;
    for (int i = 0; i < nh; ++i) {
      GMimeHeader* h = g_mime_header_list_get_header_at(headers, i);
      const char* name = g_mime_header_get_name(h);
      const char* raw = g_mime_header_get_raw_value(h);
      if (name == nullptr || raw == nullptr) continue;
      std::string_view n(name);
      std::string_view* slot = nullptr;
      if (n.size() == 4 && IStartsWith(n, "from"))
        slot = &from;
      else if (n.size() == 4 && IStartsWith(n, "date"))
        slot = &date;
      else if (n.size() == 7 && IStartsWith(n, "subject"))
        slot = &subject_raw;
      else if (n.size() == 10 && IStartsWith(n, "message-id"))
        slot = &mid;
      else if (n.size() == 11 && IStartsWith(n, "in-reply-to"))
        slot = &in_reply_to;
      else if (n.size() == 10 && IStartsWith(n, "references"))
        slot = &references;
      else if (n.size() == 8 && IStartsWith(n, "reply-to"))
        slot = &reply_to;
      else if (n.size() == 15 && IStartsWith(n, "x-original-from"))
        slot = &x_orig_from;
      if (slot != nullptr && slot->data() == nullptr) *slot = raw;
    }
    if (Trim(from).empty()) {
      sink_->OnBadRecord(
          Pos(), "no-from",
          absl::InvalidArgumentError(absl::StrFormat("%s: message has no From header", Pos().ToString())));
      return absl::OkStatus();
    }
    Sender sender = ParseSender(from);
    if (sender.via_list) {
      for (std::string_view alt : {x_orig_from, reply_to}) {
        if (Trim(alt).empty()) continue;
        Sender real = ParseSender(alt);
        if (!real.address.empty() && real.address != sender.address) {
          if (real.name.empty() || real.name == real.address.substr(0, real.address.find('@'))) {
            real.name = sender.name;
          }
          sender = std::move(real);
          break;
        }
      }
      if (sender.via_list && !sender.name.empty()) {
        // Still the list address: the name is the only identity we have.
        sender.key = "mailname:" + CollapseSpaces(AsciiLower(sender.name));
      }
    }
    if (sender.key.empty()) {
      sink_->OnBadRecord(Pos(), "no-from",
                         absl::InvalidArgumentError(absl::StrFormat("%s: no address or name in From: %s",
                                                                    Pos().ToString(), CollapseSpaces(from))));
      return absl::OkStatus();
    }

    Record r;
    r.kind = RecordKind::kMail;
    r.source = source_;
    r.community = community_;
    r.visibility = visibility_;
    // No list-name topic: the list is the community; topics come from the
    // text (IndexWriter derives them).
    r.author_key = std::move(sender.key);
    r.author_name = std::move(sender.name);

    const std::string prefix = source_ + ":";
    const std::string id = MessageId(mid);
    if (!id.empty()) {
      r.id = prefix + id;
    } else {
      uint64_t h = Fnv1a(Trim(from));
      h = Fnv1a("\n", h);
      h = Fnv1a(Trim(date), h);
      h = Fnv1a("\n", h);
      h = Fnv1a(Trim(subject_raw), h);
      r.id = absl::StrFormat("%snomid:%016x", prefix, h);
    }
    SanitizeUtf8(&r.id);

    std::vector<std::string>& ids = ids_scratch_;
    ids.clear();
    ExtractIds(in_reply_to, &ids);
    if (!ids.empty()) r.reply_to = prefix + ids.front();
    ids.clear();
    ExtractIds(references, &ids);
    if (r.reply_to.empty() && !ids.empty()) r.reply_to = prefix + ids.back();
    if (!ids.empty()) {
      r.thread_id = prefix + ids.front();
    } else if (!r.reply_to.empty()) {
      r.thread_id = r.reply_to;
    } else {
      r.thread_id = r.id;
    }
    SanitizeUtf8(&r.reply_to);
    SanitizeUtf8(&r.thread_id);

    // Date: gmime (RFC 2822, 2-digit years), then asctime, then the envelope.
    GDateTime* dt = g_mime_message_get_date(msg.get());
    int64_t ts = 0;
    if (dt != nullptr) {
      ts = g_date_time_to_unix(dt);
    } else if (!ParseLooseDate(date, &ts)) {
      ts = env_ts_;
    }
    r.timestamp = ts;

    const char* subject = g_mime_message_get_subject(msg.get());
    if (subject != nullptr) {
      std::string t = CollapseSpaces(subject);
      RepairUtf8(&t);
      r.title = StripSubjectTags(t);
    }
    CollectText(g_mime_message_get_mime_part(msg.get()), &r.text, 0);
    // r.text is valid UTF-8 already (RepairUtf8 per part).
    SanitizeUtf8(&r.title);
    SanitizeUtf8(&r.author_name);
    SanitizeUtf8(&r.author_key);
    return sink_->OnRecord(std::move(r));
  }

  const std::string path_;
  const ReadOptions& options_;
  RecordSink* const sink_;
  std::string list_, source_, community_, visibility_;

  bool active_ = false;
  bool too_large_ = false;
  bool in_headers_ = false;
  int64_t content_length_ = -1;  // of the current message, -1 when absent
  bool cl_active_ = false;       // inside a body whose Content-Length is being checked
  uint64_t cl_end_ = 0;          // where that body ends by its Content-Length
  std::vector<Cut> cl_cuts_;
  int64_t messages_ = 0;
  int64_t msg_lineno_ = 0;
  uint64_t msg_offset_ = 0;
  int64_t env_ts_ = 0;
  std::string buf_;
  std::vector<std::string> ids_scratch_;
};

}  // namespace

absl::Status ReadMbox(const std::string& path, const ReadOptions& options, RecordSink* sink) {
  MboxReader reader(path, options, sink);
  return reader.Run();
}

}  // namespace whoknows::indexer
