#include "whoknows/indexer/topics.h"

#include <xapian.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/str_split.h"

namespace whoknows::indexer {
namespace {

// English function words, greetings and sign-offs, mail/web boilerplate and
// words too generic to name a subject. Lower case.
constexpr std::string_view kStopWords =
    // function words
    "a about above after again against all almost along already also although always am among an and another any "
    "anybody anyhow anyone anything anyway anywhere are aren around as at be became because become becomes been "
    "before being below between both but by can cannot could couldn did didn do does doesn doing don done down "
    "during each either else elsewhere enough etc even ever every everybody everyone everything everywhere few "
    "for from further had hadn has hasn have haven having he her here hers herself him himself his how however i "
    "if in into is isn it its itself just least less let lets ll many may maybe me might mine more most mostly "
    "much must my myself neither never nevertheless no nobody none nor not nothing now nowhere of off often on once "
    "one only onto or other others otherwise our ours ourselves out over own per perhaps quite rather re really s "
    "same several shall she should shouldn since so some somebody somehow someone something sometime sometimes "
    "somewhat somewhere still such than that the their theirs them themselves then there thereby therefore these "
    "they this those though through throughout thus to together too toward towards under unless until up upon us "
    "very via was wasn we well were weren what whatever when whenever where whereas wherever whether which while "
    "who whoever whole whom whose why will with within without won would wouldn yet you your yours yourself "
    "yourselves ve "
    // greetings, thanks, sign-offs
    "hi hello hey dear thanks thank thx cheers regards best kind sincerely wishes greetings folks guys everybody "
    "please pls appreciate appreciated advance apologies sorry hope hoping glad happy welcome bye "
    // chat fillers and chat-client boilerplate ("uploaded a file")
    "yeah yep yup nope nah lol haha hehe cool awesome nice gonna wanna gotta uploaded "
    // mail, list and web boilerplate
    "wrote writes writing said says sent subject fwd reply replied replies message messages mail email emails "
    "mailing list lists post posted posting posts thread threads digest unsubscribe subscribe archive archives "
    "http https www com org net edu html htm php pdf url link links page pages web site website "
    "attached attachment original forwarded quote quoted "
    // generic verbs and nouns
    "able add added also use used uses using get gets got getting go goes going gone make makes made making "
    "like likes want wants wanted need needs needed know knows known think thinks thought see seen seems seem "
    "seemed look looks looking looked try tried trying tries work works worked working way ways thing things "
    "lot lots bit time times day days year years new old good great better bad sure right wrong true false "
    "first second last next yes ok okay fine actually probably possible possibly currently recently simply "
    "just instead rather anyway indeed certainly course fact point case cases example examples question "
    "questions answer answers problem problems issue issues help idea ideas people person someone thing "
    "different same similar various following follow followed find found give gives given take takes taken "
    "put puts come comes came call calls called tell told ask asked asking mean means meant say saying "
    "change changes changed show shows shown run runs ran running keep keeps kept set sets part parts "
    "number numbers small large big little long short high low end ends start started starts back able "
    "available current default specific general based instead without within without around etc via per "
    "note notes info information thanks regards today tomorrow yesterday week weeks month months hour hours "
    "minute minutes morning evening use usual usually still already else however although therefore "
    "fail fails failed failing failure works worked wrong trouble solution solutions solve solved "
    "fix fixed fixes fixing pass passes passed passing "
    // number words ("one" is a function word above)
    "two three four five six seven eight nine ten eleven twelve twenty hundred hundreds thousand thousands "
    "dozen half once twice ";

const absl::flat_hash_set<std::string_view>& StopWords() {
  static const auto* set = [] {
    auto* s = new absl::flat_hash_set<std::string_view>();
    for (absl::string_view w : absl::StrSplit(absl::string_view(kStopWords.data(), kStopWords.size()), ' ',
                                              absl::SkipEmpty())) {
      s->insert(std::string_view(w.data(), w.size()));
    }
    return s;
  }();
  return *set;
}

bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// A candidate word: 3..30 bytes of [a-z0-9], starting with a letter, not a stop-word.
bool IsCandidate(std::string_view w) {
  if (w.size() < 3 || w.size() > 30 || !IsAsciiAlpha(w[0])) return false;
  for (char c : w) {
    if (!(IsAsciiAlpha(c) || IsAsciiDigit(c))) return false;
  }
  return !StopWords().contains(w);
}

std::string_view FirstWordLower(std::string_view line, std::string* buf) {
  size_t i = 0;
  while (i < line.size() && IsSpace(line[i])) ++i;
  buf->clear();
  while (i < line.size() && IsAsciiAlpha(line[i])) buf->push_back(Lower(line[i++]));
  return *buf;
}

bool IsSignOffWord(std::string_view w) {
  static constexpr std::string_view kWords[] = {"thanks", "thank", "thx", "regards", "best", "cheers", "sincerely",
                                                "kind", "many", "greetings", "ciao", "hth", "yours", "all",
                                                "warm", "cordially", "bye", "cu"};
  for (std::string_view k : kWords) {
    if (w == k) return true;
  }
  return false;
}

}  // namespace

std::string_view StripGreetingAndSignOff(std::string_view text, std::span<const std::string> author_keys) {
  // Archive attachment stubs (pipermail): "-------------- next part ------"
  // then "An embedded and charset-unspecified text was scrubbed...".
  for (std::string_view marker : {std::string_view("-------------- next part --------------"),
                                  std::string_view("An embedded and charset-unspecified text was scrubbed"),
                                  std::string_view("A non-text attachment was scrubbed")}) {
    if (size_t at = text.find(marker); at != std::string_view::npos) text = text.substr(0, at);
  }
  std::string buf;
  // Opening greeting: a first non-empty line of at most 40 bytes starting with hi/hello/dear/hey.
  {
    size_t i = 0;
    while (i < text.size() && IsSpace(text[i])) ++i;
    const size_t eol = text.find('\n', i);
    const std::string_view line = text.substr(i, eol == std::string_view::npos ? text.size() - i : eol - i);
    const std::string_view w = FirstWordLower(line, &buf);
    if (line.size() <= 40 && (w == "hi" || w == "hello" || w == "dear" || w == "hey" || w == "greetings")) {
      text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    }
  }
  // Closing sign-off: scan the last lines backwards.
  size_t end = text.size();
  while (end > 0 && IsSpace(text[end - 1])) --end;
  size_t pos = end;
  int short_lines = 0;
  while (pos > 0 && short_lines <= 4) {
    size_t start = text.rfind('\n', pos - 1);
    start = start == std::string_view::npos ? 0 : start + 1;
    const std::string_view line = text.substr(start, pos - start);
    if (line.size() > 60) break;
    const std::string_view first = FirstWordLower(line, &buf);
    if (IsSignOffWord(first)) return text.substr(0, start);
    if (first.size() >= 2 && !author_keys.empty() &&
        std::find(author_keys.begin(), author_keys.end(), TopicKey(first)) != author_keys.end()) {
      return text.substr(0, start);
    }
    ++short_lines;
    if (start == 0) break;
    pos = start - 1;
  }
  return text;
}

bool IsTopicStopWord(std::string_view lower_word) { return StopWords().contains(lower_word); }

class TopicExtractor::StemmerHolder {
 public:
  Xapian::Stem stem{"en"};
};

std::string TopicKey(std::string_view topic) {
  // Keys need a stemmer: one extractor per thread serves every caller.
  thread_local TopicExtractor keyer;
  return keyer.Key(topic);
}

const std::string& TopicVocabulary::Add(std::string_view display, bool tag, uint32_t docs) {
  std::string key = TopicKey(display);
  auto [it, inserted] = by_key_.try_emplace(std::move(key));
  if (inserted) it->second.display = std::string(display);
  it->second.docs += docs;
  it->second.tag = it->second.tag || tag;
  return it->second.display;
}

const TopicVocabulary::Entry* TopicVocabulary::Find(std::string_view key) const {
  auto it = by_key_.find(absl::string_view(key.data(), key.size()));
  return it == by_key_.end() ? nullptr : &it->second;
}

TopicExtractor::TopicExtractor(const TopicOptions& options)
    : options_(options), stemmer_(std::make_shared<StemmerHolder>()) {}

uint32_t TopicExtractor::StemId(std::string_view word) {
  const absl::string_view w(word.data(), word.size());
  if (auto it = stem_of_.find(w); it != stem_of_.end()) return it->second;
  std::string s;
  try {
    s = stemmer_->stem(std::string(word));
  } catch (...) {  // Xapian::Error has no std base; stemming plain ASCII does not throw in practice
    s = std::string(word);
  }
  auto [id, added] = stem_ids_.try_emplace(s, static_cast<uint32_t>(stem_text_.size()));
  if (added) stem_text_.push_back(std::move(s));
  stem_of_.emplace(w, id->second);
  return id->second;
}

void TopicExtractor::TrimStems() {
  if (stem_of_.size() <= 2'000'000) return;
  stem_of_.clear();
  stem_ids_.clear();
  stem_text_.clear();
  single_of_stem_.clear();
}

std::string TopicExtractor::Key(std::string_view topic) {
  TrimStems();
  std::string key, word;
  auto flush = [&] {
    if (word.empty()) return;
    if (!key.empty()) key.push_back(' ');
    key += Stem(word);
    word.clear();
  };
  for (char c : topic) {
    if (IsAsciiAlpha(c) || IsAsciiDigit(c) || c == '+' || c == '#' || static_cast<unsigned char>(c) >= 0x80) {
      word.push_back(Lower(c));
    } else {
      flush();
    }
  }
  flush();
  return key;
}

void TopicExtractor::Tokenize(std::string_view text, double weight, std::vector<Token>* out) {
  bool joined = false;
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    if (IsSpace(text[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < n && !IsSpace(text[j])) ++j;
    std::string_view chunk = text.substr(i, j - i);
    i = j;
    // Addresses, URLs and paths are not words; they also end a phrase: a
    // chunk with '@', '=' or '_', two slashes (so any "://") or "www." first.
    bool skip = chunk.rfind("www.", 0) == 0;
    for (size_t x = 0, slashes = 0; x < chunk.size() && !skip; ++x) {
      const char c = chunk[x];
      skip = c == '@' || c == '=' || c == '_' || (c == '/' && ++slashes >= 2);
    }
    if (skip) {
      joined = false;
      continue;
    }
    size_t k = 0;
    while (k < chunk.size()) {
      const char c = chunk[k];
      if (IsAsciiAlpha(c) || IsAsciiDigit(c) || c == '\'' || static_cast<unsigned char>(c) >= 0x80) {
        size_t e = k;
        while (e < chunk.size() && (IsAsciiAlpha(chunk[e]) || IsAsciiDigit(chunk[e]) || chunk[e] == '\'' ||
                                    static_cast<unsigned char>(chunk[e]) >= 0x80)) {
          ++e;
        }
        Token t;
        t.begin = static_cast<uint32_t>(lower_.size());
        t.size = static_cast<uint32_t>(e - k);
        for (size_t x = k; x < e; ++x) lower_.push_back(Lower(chunk[x]));
        t.weight = weight;
        t.candidate = IsCandidate(Word(t));
        t.joined = joined;
        out->push_back(t);
        joined = true;
        k = e;
      } else {
        // '-' and '/' join words of one phrase ("neural-network"); other
        // punctuation ends it.
        if (c != '-' && c != '/') joined = false;
        ++k;
      }
    }
  }
}

namespace {

// Distinct candidate words of `tokens`, sorted, into `out` (its strings reused).
template <typename WordOf, typename Tokens>
void DistinctWords(const Tokens& tokens, WordOf word_of, std::vector<std::string>* out) {
  std::vector<std::string_view> w;
  w.reserve(tokens.size());
  for (const auto& t : tokens) {
    if (t.candidate) w.push_back(word_of(t));
  }
  std::sort(w.begin(), w.end());
  w.erase(std::unique(w.begin(), w.end()), w.end());
  out->resize(w.size());
  for (size_t i = 0; i < w.size(); ++i) (*out)[i].assign(w[i]);
}

}  // namespace

void TopicExtractor::Words(std::string_view title, std::string_view text, std::vector<std::string>* out) {
  lower_.clear();
  tokens_.clear();
  Tokenize(title, 1, &tokens_);
  Tokenize(text, 1, &tokens_);
  DistinctWords(tokens_, [&](const Token& t) { return Word(t); }, out);
}

absl::flat_hash_set<std::string> TopicExtractor::StopKeys(std::span<const std::string> names) {
  absl::flat_hash_set<std::string> keys;
  for (const std::string& name : names) {
    std::string k = Key(name);
    if (k.empty()) continue;
    for (absl::string_view w : absl::StrSplit(k, ' ')) keys.insert(std::string(w));
    keys.insert(std::move(k));
  }
  return keys;
}

std::vector<ExtractedTopic> TopicExtractor::Extract(std::string_view title, std::string_view text,
                                                    const DocFreqSource& freqs, const TopicVocabulary* vocabulary,
                                                    const absl::flat_hash_set<std::string>& stop_keys,
                                                    std::vector<std::string>* words,
                                                    std::span<const std::string> extra_stop_keys) {
  TrimStems();
  lower_.clear();
  std::vector<Token>& tokens = tokens_;
  tokens.clear();
  Tokenize(title, options_.title_weight, &tokens);
  const size_t title_tokens = tokens.size();
  Tokenize(StripGreetingAndSignOff(text, extra_stop_keys), 1, &tokens);
  if (title_tokens < tokens.size()) tokens[title_tokens].joined = false;

  // Single words (by stem) and adjacent pairs of candidate words (by their
  // two stems). Stems are interned, so a key compares as its id. Pairs are
  // many and mostly seen once: only counts, details for the survivors below.
  struct Single {
    uint32_t stem = 0;
    double tf = 0;
    uint32_t count = 0;  // occurrences (a title occurrence counts once)
    uint32_t surface = 0;  // token of the most frequent surface form in this document (first to get there)
    uint32_t surface_count = 0;
    uint64_t df = 0;     // max df of the surface forms
    double idf = 0;      // negative: too frequent alone
    bool has_idf = false;  // false: below min_df
    absl::InlinedVector<std::pair<uint32_t, uint32_t>, 2> surfaces;  // (first token, count) per surface form
  };
  struct PairCount {
    double tf = 0;
    uint32_t count = 0;
    uint32_t second = 0;  // token index of the pair's second word (first occurrence)
  };
  std::vector<Single> singles;
  // single_of_stem_ is all -1 between documents (also when a df lookup throws).
  absl::Cleanup reset = [&] {
    for (const Single& c : singles) single_of_stem_[c.stem] = -1;
  };
  absl::flat_hash_map<uint64_t, PairCount> pair_counts;
  int64_t prev = -1;  // stem of the previous token when it was a candidate
  for (size_t ti = 0; ti < tokens.size(); ++ti) {
    const Token& t = tokens[ti];
    if (!t.candidate) {
      prev = -1;
      continue;
    }
    const std::string_view word = Word(t);
    const uint32_t stem = StemId(word);
    if (single_of_stem_.size() <= stem) single_of_stem_.resize(stem_text_.size() + 1024, -1);
    int32_t& slot = single_of_stem_[stem];
    if (slot < 0) {
      slot = static_cast<int32_t>(singles.size());
      singles.emplace_back().stem = stem;
    }
    Single& c = singles[static_cast<size_t>(slot)];
    c.tf += t.weight;
    ++c.count;
    // Surface forms of a key are few (plural, -ing): a small vector.
    auto sf = std::find_if(c.surfaces.begin(), c.surfaces.end(),
                           [&](const auto& x) { return Word(tokens[x.first]) == word; });
    if (sf == c.surfaces.end()) {
      c.surfaces.emplace_back(static_cast<uint32_t>(ti), 0);
      sf = c.surfaces.end() - 1;
    }
    const uint32_t sc = ++sf->second;
    if (sc > c.surface_count) {
      c.surface_count = sc;
      c.surface = static_cast<uint32_t>(ti);
    }
    if (prev >= 0 && t.joined && static_cast<uint32_t>(prev) != stem) {
      PairCount& p = pair_counts[(static_cast<uint64_t>(prev) << 32) | stem];
      if (p.count == 0) p.second = static_cast<uint32_t>(ti);
      p.tf += t.weight;
      ++p.count;
    }
    prev = stem;
  }
  auto single = [&](uint32_t stem) -> Single& { return singles[static_cast<size_t>(single_of_stem_[stem])]; };

  struct Pair {
    std::string key;  // "stem1 stem2"
    uint32_t first = 0, second = 0;  // stems
    uint32_t token = 0;  // token index of the second word (first occurrence)
    double tf = 0;
    uint32_t count = 0;
  };
  std::vector<Pair> pairs;
  std::string pk;
  for (const auto& [ids, pc] : pair_counts) {
    const uint32_t a = static_cast<uint32_t>(ids >> 32), b = static_cast<uint32_t>(ids);
    pk.assign(stem_text_[a]).push_back(' ');
    pk.append(stem_text_[b]);
    if (pc.count < options_.min_phrase_tf) {
      const TopicVocabulary::Entry* known = vocabulary != nullptr ? vocabulary->Find(pk) : nullptr;
      if (known == nullptr || !known->established()) continue;  // not frequent enough, and not a known topic
    }
    pairs.push_back({pk, a, b, pc.second, pc.tf, pc.count});
  }
  if (words != nullptr) DistinctWords(tokens, [&](const Token& t) { return Word(t); }, words);

  // Frequencies count the document itself.
  const uint64_t self = freqs.includes_document ? 0 : 1;
  const double n_docs = static_cast<double>(std::max<uint64_t>(freqs.num_docs + self, 1));
  // Few documents: frequencies say little, so ask less of them.
  uint64_t min_df = options_.min_df;
  if (freqs.num_docs < options_.warmup_docs) {
    min_df = std::max<uint64_t>(
        1, static_cast<uint64_t>(std::llround(static_cast<double>(options_.min_df) * n_docs /
                                              static_cast<double>(std::max<uint64_t>(options_.warmup_docs, 1)))));
  }
  const double max_df = std::max(options_.max_df_fraction * n_docs, 10.0);
  for (Single& c : singles) {
    for (const auto& [token, count] : c.surfaces) {
      c.df = std::max<uint64_t>(c.df, (freqs.df ? freqs.df(Word(tokens[token])) : 0) + self);
    }
  }
  auto idf = [&](uint64_t df) { return std::log(n_docs / static_cast<double>(std::max<uint64_t>(df, 1))); };
  auto stopped = [&](const std::string& key) {
    return stop_keys.contains(key) || (name_keys_ != nullptr && name_keys_->contains(key)) ||
           std::find(extra_stop_keys.begin(), extra_stop_keys.end(), key) != extra_stop_keys.end();
  };

  // Candidates with their scores; strings are made only for the ones taken.
  struct Scored {
    double score;
    std::string_view key;
    const TopicVocabulary::Entry* known;
    uint32_t index;  // into singles or pairs
    bool pair;
  };
  std::vector<Scored> scored;
  for (uint32_t i = 0; i < singles.size(); ++i) {
    Single& c = singles[i];
    if (c.df < min_df) continue;
    const double w_idf = idf(c.df);
    c.idf = static_cast<double>(c.df) > max_df ? -w_idf : w_idf;
    c.has_idf = true;
    const std::string& key = stem_text_[c.stem];
    const TopicVocabulary::Entry* known = vocabulary != nullptr ? vocabulary->Find(key) : nullptr;
    const bool established = known != nullptr && known->established();
    // An established topic (a tag) is specific however frequent its word.
    if ((static_cast<double>(c.df) > max_df && !established) || stopped(key)) continue;
    double s = (1 + std::log(c.tf)) * w_idf;
    if (established) s *= known->tag ? options_.known_boost : options_.established_boost;
    scored.push_back({s, key, known, i, false});
  }
  for (uint32_t i = 0; i < pairs.size(); ++i) {
    const Pair& p = pairs[i];
    const Single& a = single(p.first);
    const Single& b = single(p.second);
    if (!a.has_idf || !b.has_idf) continue;  // a word below min_df
    if (stopped(p.key) || stopped(stem_text_[p.first]) || stopped(stem_text_[p.second])) continue;
    const TopicVocabulary::Entry* known = vocabulary != nullptr ? vocabulary->Find(p.key) : nullptr;
    const bool established = known != nullptr && known->established();
    if (a.idf < 0 && b.idf < 0 && !established) continue;  // both words too frequent
    if (!established) {
      if (p.count < options_.min_phrase_tf) continue;
      const double words = std::max(a.count, b.count);
      if (p.count < options_.min_phrase_cohesion * words) continue;
    }
    double s = (1 + std::log(p.tf)) * (std::abs(a.idf) + std::abs(b.idf)) / 2 * options_.phrase_boost;
    if (established) s *= known->tag ? options_.known_boost : options_.established_boost;
    scored.push_back({s, p.key, known, i, true});
  }
  std::sort(scored.begin(), scored.end(), [](const Scored& x, const Scored& y) {
    return x.score > y.score || (x.score == y.score && x.key < y.key);
  });

  // Greedy, best first: a phrase is taken only while none of its words is
  // (so it must outscore them), and a word of a taken phrase is not taken.
  std::vector<ExtractedTopic> out;
  absl::InlinedVector<uint32_t, 16> used_words;  // stems
  auto used = [&](uint32_t stem) { return std::find(used_words.begin(), used_words.end(), stem) != used_words.end(); };
  for (const Scored& t : scored) {
    if (out.size() >= options_.max_topics || t.score < options_.min_score) break;
    std::string display;
    if (!t.pair) {
      const Single& c = singles[t.index];
      if (used(c.stem)) continue;
      used_words.push_back(c.stem);
      display = t.known != nullptr ? t.known->display : std::string(Word(tokens[c.surface]));
    } else {
      const Pair& p = pairs[t.index];
      if (used(p.first) || used(p.second)) continue;
      used_words.push_back(p.first);
      used_words.push_back(p.second);
      if (t.known != nullptr) {
        display = t.known->display;
      } else {
        display.assign(Word(tokens[p.token - 1])).push_back('-');
        display.append(Word(tokens[p.token]));
      }
    }
    out.push_back({std::string(t.key), std::move(display), t.score});
  }
  return out;
}

std::vector<std::string> TopicExtractor::TfIdfTerms(std::string_view title, std::string_view text,
                                                    const DocFreqSource& freqs, size_t k) {
  TrimStems();
  lower_.clear();
  std::vector<Token>& tokens = tokens_;
  tokens.clear();
  Tokenize(title, 1, &tokens);
  Tokenize(text, 1, &tokens);
  absl::flat_hash_map<std::string, std::pair<double, uint64_t>> tf;  // key -> (tf, df)
  for (const Token& t : tokens) {
    if (!t.candidate) continue;
    auto& e = tf[Stem(Word(t))];
    if (e.first == 0) e.second = freqs.df ? freqs.df(Word(t)) : 0;
    e.first += 1;
  }
  const uint64_t self = freqs.includes_document ? 0 : 1;
  const double n_docs = static_cast<double>(std::max<uint64_t>(freqs.num_docs + self, 1));
  std::vector<std::pair<double, std::string>> scored;
  for (const auto& [key, e] : tf) {
    const double df = static_cast<double>(std::max<uint64_t>(e.second + self, 1));
    scored.emplace_back((1 + std::log(e.first)) * std::log(n_docs / df), key);
  }
  std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  std::vector<std::string> out;
  for (size_t i = 0; i < scored.size() && i < k; ++i) out.push_back(scored[i].second);
  return out;
}

}  // namespace whoknows::indexer
