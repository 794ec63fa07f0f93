#ifndef WHOKNOWS_BASE_STRINGS_H_
#define WHOKNOWS_BASE_STRINGS_H_

// Small string helpers shared by the indexer, engine, ranker, routing and eval.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace whoknows {

// 64-bit FNV-1a of `s`, continuing from `h` (chain calls to hash several
// pieces). Stable across runs and machines: used for sampling and ids.
inline uint64_t Fnv1a(std::string_view s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// Cuts `s` to at most `n` bytes, at a UTF-8 character boundary.
inline std::string TruncateUtf8(std::string s, size_t n) {
  if (s.size() <= n) return s;
  size_t cut = n;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s;
}

}  // namespace whoknows

#endif  // WHOKNOWS_BASE_STRINGS_H_
