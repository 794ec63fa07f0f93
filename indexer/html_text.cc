#include "html_text.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

namespace whoknows::indexer {
namespace {

struct NamedEntity {
  std::string_view name;
  uint32_t cp;
};

// The names that actually occur in Stack Exchange bodies, plus common
// typography and math. Anything else is kept literally.
constexpr NamedEntity kEntities[] = {
    {"amp", '&'},       {"lt", '<'},       {"gt", '>'},        {"quot", '"'},      {"apos", '\''},    {"nbsp", ' '},
    {"hellip", 0x2026}, {"mdash", 0x2014}, {"ndash", 0x2013},  {"lsquo", 0x2018},  {"rsquo", 0x2019}, {"ldquo", 0x201C},
    {"rdquo", 0x201D},  {"laquo", 0xAB},   {"raquo", 0xBB},    {"copy", 0xA9},     {"reg", 0xAE},     {"trade", 0x2122},
    {"times", 0xD7},    {"divide", 0xF7},  {"deg", 0xB0},      {"plusmn", 0xB1},   {"middot", 0xB7},  {"bull", 0x2022},
    {"euro", 0x20AC},   {"pound", 0xA3},   {"cent", 0xA2},     {"yen", 0xA5},      {"sect", 0xA7},    {"para", 0xB6},
    {"larr", 0x2190},   {"rarr", 0x2192},  {"uarr", 0x2191},   {"darr", 0x2193},   {"harr", 0x2194},  {"lArr", 0x21D0},
    {"rArr", 0x21D2},   {"hArr", 0x21D4},  {"le", 0x2264},     {"ge", 0x2265},     {"ne", 0x2260},    {"infin", 0x221E},
    {"sum", 0x2211},    {"prod", 0x220F},  {"forall", 0x2200}, {"exist", 0x2203},  {"isin", 0x2208},  {"notin", 0x2209},
    {"sub", 0x2282},    {"sup", 0x2283},   {"and", 0x2227},    {"or", 0x2228},     {"not", 0xAC},     {"alpha", 0x3B1},
    {"beta", 0x3B2},    {"gamma", 0x3B3},  {"delta", 0x3B4},   {"epsilon", 0x3B5}, {"theta", 0x3B8},  {"lambda", 0x3BB},
    {"mu", 0x3BC},      {"pi", 0x3C0},     {"sigma", 0x3C3},   {"phi", 0x3C6},     {"omega", 0x3C9},  {"Delta", 0x394},
    {"Sigma", 0x3A3},   {"Omega", 0x3A9},  {"eacute", 0xE9},   {"egrave", 0xE8},   {"auml", 0xE4},    {"ouml", 0xF6},
    {"uuml", 0xFC},     {"szlig", 0xDF},   {"ccedil", 0xE7},   {"ntilde", 0xF1},
};

// Code points that decode to nothing (soft hyphen, zero-width joiners).
bool IsInvisible(uint32_t cp) { return cp == 0xAD || cp == 0x200C || cp == 0x200D; }

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Parses the reference starting at s[i] == '&'. On success appends the
// decoded text, sets *end past the ';' and returns true.
bool DecodeOne(std::string_view s, size_t i, std::string* out, size_t* end) {
  constexpr size_t kMaxRef = 32;
  size_t semi = s.find(';', i + 1);
  if (semi == std::string_view::npos || semi - i > kMaxRef || semi == i + 1) return false;
  std::string_view body = s.substr(i + 1, semi - i - 1);
  if (body[0] == '#') {
    bool hex = body.size() > 1 && (body[1] == 'x' || body[1] == 'X');
    std::string_view digits = body.substr(hex ? 2 : 1);
    if (digits.empty()) return false;
    uint64_t cp = 0;
    for (char c : digits) {
      uint32_t d;
      if (c >= '0' && c <= '9') {
        d = static_cast<uint32_t>(c - '0');
      } else if (hex && c >= 'a' && c <= 'f') {
        d = static_cast<uint32_t>(c - 'a' + 10);
      } else if (hex && c >= 'A' && c <= 'F') {
        d = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
      cp = cp * (hex ? 16 : 10) + d;
      if (cp > 0x10FFFF) cp = 0x110000;  // saturate; becomes U+FFFD
    }
    if (!IsInvisible(static_cast<uint32_t>(cp))) AppendUtf8(static_cast<uint32_t>(cp), out);
    *end = semi + 1;
    return true;
  }
  if (body == "shy" || body == "zwj" || body == "zwnj") {
    *end = semi + 1;
    return true;
  }
  for (const NamedEntity& e : kEntities) {
    if (e.name == body) {
      AppendUtf8(e.cp, out);
      *end = semi + 1;
      return true;
    }
  }
  return false;
}

// Accumulates output text with whitespace collapsing and pending line breaks.
class TextBuilder {
 public:
  // Requests `n` (1 or 2) line breaks before the next visible text. Block
  // boundaries overlap (</p><p> is one paragraph break); LineBreak() adds up
  // (<br><br> is a blank line).
  void Break(int n) {
    pending_breaks_ = std::max(pending_breaks_, n);
    pending_space_ = false;
  }
  void LineBreak() {
    pending_breaks_ = std::min(2, pending_breaks_ + 1);
    pending_space_ = false;
  }
  void Space() {
    if (pending_breaks_ == 0) pending_space_ = true;
  }

  // Flowing text: whitespace runs collapse to one space.
  void AddFlow(std::string_view text) {
    for (char c : text) {
      if (IsSpace(c)) {
        Space();
      } else {
        Flush();
        out_.push_back(c);
      }
    }
  }

  // Preformatted text: kept as is, except '\r'.
  void AddPre(std::string_view text) {
    for (char c : text) {
      if (c == '\r') continue;
      Flush();
      out_.push_back(c);
    }
  }

  std::string Finish() {
    while (!out_.empty() && IsSpace(out_.back())) out_.pop_back();
    size_t lead = 0;
    while (lead < out_.size() && IsSpace(out_[lead])) ++lead;
    out_.erase(0, lead);
    return std::move(out_);
  }

 private:
  void Flush() {
    if (out_.empty()) {  // no leading whitespace
      pending_breaks_ = 0;
      pending_space_ = false;
      return;
    }
    if (pending_breaks_ > 0) {
      while (!out_.empty() && (out_.back() == ' ' || out_.back() == '\t')) out_.pop_back();
      int have = 0;
      for (size_t k = out_.size(); k > 0 && out_[k - 1] == '\n' && have < 2; --k) ++have;
      for (int k = have; k < pending_breaks_; ++k) out_.push_back('\n');
    } else if (pending_space_ && out_.back() != '\n' && out_.back() != ' ') {
      out_.push_back(' ');
    }
    pending_breaks_ = 0;
    pending_space_ = false;
  }

  std::string out_;
  int pending_breaks_ = 0;
  bool pending_space_ = false;
};

// Case-insensitive search for `needle` (lower-case) in s from `from`.
size_t FindNoCase(std::string_view s, std::string_view needle, size_t from) {
  if (needle.size() > s.size()) return std::string_view::npos;
  for (size_t i = from; i + needle.size() <= s.size(); ++i) {
    size_t k = 0;
    while (k < needle.size() && Lower(s[i + k]) == needle[k]) ++k;
    if (k == needle.size()) return i;
  }
  return std::string_view::npos;
}

// Index of the '>' closing the tag that starts at s[from] (quote-aware), or npos.
size_t FindTagEnd(std::string_view s, size_t from) {
  char quote = 0;
  for (size_t i = from; i < s.size(); ++i) {
    char c = s[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      return i;
    }
  }
  return std::string_view::npos;
}

int BreaksFor(std::string_view tag) {
  static constexpr std::string_view kParagraph[] = {"p",  "pre", "blockquote", "h1", "h2",    "h3", "h4",
                                                    "h5", "h6",  "ul",         "ol", "table", "hr", "dl"};
  static constexpr std::string_view kLine[] = {"li", "tr", "div", "dd", "dt"};
  for (std::string_view t : kParagraph) {
    if (t == tag) return 2;
  }
  for (std::string_view t : kLine) {
    if (t == tag) return 1;
  }
  return 0;
}

}  // namespace

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string DecodeHtmlEntities(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    size_t amp = s.find('&', i);
    if (amp == std::string_view::npos) {
      out.append(s.substr(i));
      break;
    }
    out.append(s.substr(i, amp - i));
    size_t end;
    if (DecodeOne(s, amp, &out, &end)) {
      i = end;
    } else {
      out.push_back('&');
      i = amp + 1;
    }
  }
  return out;
}

std::string HtmlToText(std::string_view html) {
  TextBuilder text;
  int pre_depth = 0;
  size_t i = 0;
  const size_t n = html.size();
  while (i < n) {
    if (html[i] != '<') {
      size_t next = html.find('<', i);
      if (next == std::string_view::npos) next = n;
      std::string decoded = DecodeHtmlEntities(html.substr(i, next - i));
      if (pre_depth > 0) {
        text.AddPre(decoded);
      } else {
        text.AddFlow(decoded);
      }
      i = next;
      continue;
    }
    // Comment.
    if (html.substr(i, 4) == "<!--") {
      size_t close = html.find("-->", i + 4);
      i = close == std::string_view::npos ? n : close + 3;
      continue;
    }
    size_t j = i + 1;
    bool closing = false;
    if (j < n && html[j] == '/') {
      closing = true;
      ++j;
    }
    size_t name_start = j;
    while (j < n && IsAlnum(html[j])) ++j;
    size_t tag_end = j > name_start ? FindTagEnd(html, j) : std::string_view::npos;
    if (tag_end == std::string_view::npos) {
      // Not a tag ("a < b", "<3", or an unterminated tag): keep the '<' as text.
      if (pre_depth > 0) {
        text.AddPre("<");
      } else {
        text.AddFlow("<");
      }
      ++i;
      continue;
    }
    std::string tag;
    for (size_t k = name_start; k < j; ++k) tag.push_back(Lower(html[k]));
    i = tag_end + 1;
    if (!closing && (tag == "script" || tag == "style")) {
      size_t close = FindNoCase(html, tag == "script" ? "</script" : "</style", i);
      if (close == std::string_view::npos) break;
      size_t close_end = html.find('>', close);
      i = close_end == std::string_view::npos ? n : close_end + 1;
      continue;
    }
    if (tag == "pre") {
      if (closing) {
        pre_depth = std::max(0, pre_depth - 1);
      } else {
        ++pre_depth;
      }
    }
    if (tag == "br") {
      text.LineBreak();
    } else if (int breaks = BreaksFor(tag); breaks > 0) {
      text.Break(breaks);
    } else if (tag == "td" || tag == "th") {
      text.Space();
    }
  }
  return text.Finish();
}

}  // namespace whoknows::indexer
