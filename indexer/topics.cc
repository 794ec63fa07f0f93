#include "whoknows/indexer/topics.h"

#include <xapian.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

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

struct TopicExtractor::Token {
  std::string word;     // lower case
  double weight = 1;
  bool candidate = false;
  bool joined = false;  // adjacent to the previous token (no punctuation or skipped chunk between)
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

const std::string& TopicExtractor::Stem(const std::string& word) {
  auto it = stems_.find(word);
  if (it != stems_.end()) return it->second;
  if (stems_.size() > 2'000'000) stems_.clear();  // bound memory on endless vocabularies
  std::string s;
  try {
    s = stemmer_->stem(word);
  } catch (...) {  // Xapian::Error has no std base; stemming plain ASCII does not throw in practice
    s = word;
  }
  return stems_.emplace(word, std::move(s)).first->second;
}

std::string TopicExtractor::Key(std::string_view topic) {
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
    // Addresses, URLs and paths are not words; they also end a phrase.
    if (chunk.find('@') != std::string_view::npos || chunk.find("://") != std::string_view::npos ||
        chunk.rfind("www.", 0) == 0 || std::count(chunk.begin(), chunk.end(), '/') >= 2 ||
        chunk.find('=') != std::string_view::npos || chunk.find('_') != std::string_view::npos) {
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
        t.word.reserve(e - k);
        for (size_t x = k; x < e; ++x) t.word.push_back(Lower(chunk[x]));
        t.weight = weight;
        t.candidate = IsCandidate(t.word);
        t.joined = joined;
        out->push_back(std::move(t));
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

void TopicExtractor::Words(std::string_view title, std::string_view text, std::vector<std::string>* out) {
  std::vector<Token> tokens;
  Tokenize(title, 1, &tokens);
  Tokenize(text, 1, &tokens);
  out->clear();
  for (Token& t : tokens) {
    if (t.candidate) out->push_back(std::move(t.word));
  }
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
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

namespace {

struct Candidate {
  std::string key;
  std::string surface;  // the most frequent surface form in this document
  double tf = 0;
  uint32_t surface_count = 0;
  uint64_t df = 0;      // single words: max df of their surface forms
  uint32_t count = 0;   // occurrences (a title occurrence counts once)
  std::string first, second;  // phrases: the two word keys
  std::vector<std::pair<std::string, uint32_t>> surfaces;  // single words: surface form -> count
};

}  // namespace

std::vector<ExtractedTopic> TopicExtractor::Extract(std::string_view title, std::string_view text,
                                                    const DocFreqSource& freqs, const TopicVocabulary* vocabulary,
                                                    const absl::flat_hash_set<std::string>& stop_keys,
                                                    std::vector<std::string>* words,
                                                    std::span<const std::string> extra_stop_keys) {
  std::vector<Token> tokens;
  tokens.reserve(256);
  Tokenize(title, options_.title_weight, &tokens);
  const size_t title_tokens = tokens.size();
  Tokenize(StripGreetingAndSignOff(text, extra_stop_keys), 1, &tokens);
  if (title_tokens < tokens.size()) tokens[title_tokens].joined = false;

  // Single words and adjacent pairs of candidate words, by key. Pairs are
  // many and mostly seen once: only counts, details for the survivors below.
  struct PairCount {
    double tf = 0;
    uint32_t count = 0;
    uint32_t second = 0;  // token index of the pair's second word (first occurrence)
  };
  absl::flat_hash_map<std::string, Candidate> singles;
  absl::flat_hash_map<std::string, PairCount> pair_counts;
  // A copy: the stem cache may rehash on the next Stem() call.
  std::string prev_key_buf;
  const std::string* prev_key = nullptr;
  for (const Token& t : tokens) {
    if (!t.candidate) {
      prev_key = nullptr;
      continue;
    }
    const std::string key = Stem(t.word);
    Candidate& c = singles[key];
    if (c.key.empty()) c.key = key;
    c.tf += t.weight;
    ++c.count;
    // Surface forms of a key are few (plural, -ing): a small vector.
    auto sf = std::find_if(c.surfaces.begin(), c.surfaces.end(), [&](const auto& x) { return x.first == t.word; });
    if (sf == c.surfaces.end()) {
      c.surfaces.emplace_back(t.word, 0);
      sf = c.surfaces.end() - 1;
    }
    const uint32_t sc = ++sf->second;
    if (sc > c.surface_count) {
      c.surface_count = sc;
      c.surface = t.word;
    }
    if (prev_key != nullptr && t.joined && *prev_key != key) {
      std::string pk;
      pk.reserve(prev_key->size() + 1 + key.size());
      pk.append(*prev_key).push_back(' ');
      pk.append(key);
      PairCount& p = pair_counts[pk];
      if (p.count == 0) p.second = static_cast<uint32_t>(&t - tokens.data());
      p.tf += t.weight;
      ++p.count;
    }
    prev_key_buf = key;
    prev_key = &prev_key_buf;
  }
  absl::flat_hash_map<std::string, Candidate> pairs;
  for (auto& [pk, pc] : pair_counts) {
    if (pc.count < options_.min_phrase_tf &&
        (vocabulary == nullptr || vocabulary->Find(pk) == nullptr || !vocabulary->Find(pk)->established())) {
      continue;  // not frequent enough, and not a known topic
    }
    Candidate& p = pairs[pk];
    p.key = pk;
    const size_t sp = pk.find(' ');
    p.first = pk.substr(0, sp);
    p.second = pk.substr(sp + 1);
    p.surface = tokens[pc.second - 1].word + '-' + tokens[pc.second].word;
    p.tf = pc.tf;
    p.count = pc.count;
  }
  if (words != nullptr) {
    words->clear();
    for (const Token& t : tokens) {
      if (t.candidate) words->push_back(t.word);
    }
    std::sort(words->begin(), words->end());
    words->erase(std::unique(words->begin(), words->end()), words->end());
  }

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
  for (auto& [key, c] : singles) {
    for (const auto& [surface, count] : c.surfaces) {
      c.df = std::max<uint64_t>(c.df, (freqs.df ? freqs.df(surface) : 0) + self);
    }
  }
  auto idf = [&](uint64_t df) { return std::log(n_docs / static_cast<double>(std::max<uint64_t>(df, 1))); };
  auto stopped = [&](const std::string& key) {
    return stop_keys.contains(key) || (name_keys_ != nullptr && name_keys_->contains(key)) ||
           std::find(extra_stop_keys.begin(), extra_stop_keys.end(), key) != extra_stop_keys.end();
  };

  std::vector<ExtractedTopic> scored;
  absl::flat_hash_map<std::string, double> single_idf;
  for (const auto& [key, c] : singles) {
    if (c.df < min_df) continue;
    const double w_idf = idf(c.df);
    single_idf[key] = static_cast<double>(c.df) > max_df ? -w_idf : w_idf;  // negative: too frequent alone
    const TopicVocabulary::Entry* known = vocabulary != nullptr ? vocabulary->Find(key) : nullptr;
    const bool established = known != nullptr && known->established();
    // An established topic (a tag) is specific however frequent its word.
    if ((static_cast<double>(c.df) > max_df && !established) || stopped(key)) continue;
    double s = (1 + std::log(c.tf)) * w_idf;
    if (established) s *= known->tag ? options_.known_boost : options_.established_boost;
    scored.push_back({key, known != nullptr ? known->display : c.surface, s});
  }
  for (const auto& [key, p] : pairs) {
    auto a = single_idf.find(p.first), b = single_idf.find(p.second);
    if (a == single_idf.end() || b == single_idf.end()) continue;  // a word below min_df
    if (stopped(key) || stopped(p.first) || stopped(p.second)) continue;
    const TopicVocabulary::Entry* known = vocabulary != nullptr ? vocabulary->Find(key) : nullptr;
    const bool established = known != nullptr && known->established();
    if (a->second < 0 && b->second < 0 && !established) continue;  // both words too frequent
    if (!established) {
      if (p.count < options_.min_phrase_tf) continue;
      const double words = std::max(singles[p.first].count, singles[p.second].count);
      if (p.count < options_.min_phrase_cohesion * words) continue;
    }
    double s = (1 + std::log(p.tf)) * (std::abs(a->second) + std::abs(b->second)) / 2 * options_.phrase_boost;
    if (established) s *= known->tag ? options_.known_boost : options_.established_boost;
    scored.push_back({key, known != nullptr ? known->display : p.surface, s});
  }
  std::sort(scored.begin(), scored.end(), [](const ExtractedTopic& x, const ExtractedTopic& y) {
    return x.score > y.score || (x.score == y.score && x.key < y.key);
  });

  // Greedy, best first: a phrase is taken only while none of its words is
  // (so it must outscore them), and a word of a taken phrase is not taken.
  std::vector<ExtractedTopic> out;
  absl::flat_hash_set<std::string> used_words;
  for (ExtractedTopic& t : scored) {
    if (out.size() >= options_.max_topics || t.score < options_.min_score) break;
    const size_t sp = t.key.find(' ');
    if (sp == std::string::npos) {
      if (used_words.contains(t.key)) continue;
      used_words.insert(t.key);
    } else {
      const std::string w1 = t.key.substr(0, sp), w2 = t.key.substr(sp + 1);
      if (used_words.contains(w1) || used_words.contains(w2)) continue;
      used_words.insert(w1);
      used_words.insert(w2);
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<std::string> TopicExtractor::TfIdfTerms(std::string_view title, std::string_view text,
                                                    const DocFreqSource& freqs, size_t k) {
  std::vector<Token> tokens;
  Tokenize(title, 1, &tokens);
  Tokenize(text, 1, &tokens);
  absl::flat_hash_map<std::string, std::pair<double, uint64_t>> tf;  // key -> (tf, df)
  for (const Token& t : tokens) {
    if (!t.candidate) continue;
    auto& e = tf[Stem(t.word)];
    if (e.first == 0) e.second = freqs.df ? freqs.df(t.word) : 0;
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
