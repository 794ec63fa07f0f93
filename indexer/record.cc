#include "whoknows/indexer/record.h"

#include <cstdint>

namespace whoknows::indexer {

std::string_view KindName(RecordKind kind) {
  switch (kind) {
    case RecordKind::kQuestion: return "question";
    case RecordKind::kAnswer: return "answer";
    case RecordKind::kComment: return "comment";
    case RecordKind::kMail: return "mail";
    case RecordKind::kChat: return "chat";
    case RecordKind::kPost: return "post";
  }
  return "post";
}

bool ParseKindName(std::string_view name, RecordKind* kind) {
  for (RecordKind k : {RecordKind::kQuestion, RecordKind::kAnswer, RecordKind::kComment, RecordKind::kMail,
                       RecordKind::kChat, RecordKind::kPost}) {
    if (name == KindName(k)) {
      *kind = k;
      return true;
    }
  }
  return false;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool SanitizeUtf8(std::string* s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s->data());
  const size_t n = s->size();
  // Fast path: validate.
  size_t i = 0;
  auto seq_len = [&](size_t at) -> size_t {
    unsigned char c = p[at];
    if (c < 0x80) return 1;
    size_t len;
    uint32_t min;
    if ((c & 0xE0) == 0xC0) { len = 2; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { len = 3; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { len = 4; min = 0x10000; }
    else return 0;
    if (at + len > n) return 0;
    uint32_t cp = c & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
      if ((p[at + k] & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (p[at + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
  };
  while (i < n) {
    size_t l = seq_len(i);
    if (l == 0) break;
    i += l;
  }
  if (i == n) return true;
  std::string out;
  out.reserve(n + 16);
  out.append(s->data(), i);
  while (i < n) {
    size_t l = seq_len(i);
    if (l == 0) {
      out.append("\xEF\xBF\xBD");
      ++i;
    } else {
      out.append(s->data() + i, l);
      i += l;
    }
  }
  s->swap(out);
  return false;
}

}  // namespace whoknows::indexer
