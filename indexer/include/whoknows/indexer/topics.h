#ifndef WHOKNOWS_INDEXER_TOPICS_H_
#define WHOKNOWS_INDEXER_TOPICS_H_

// Topics derived from text, for documents whose source gives none (mail,
// chat, untagged posts), in one vocabulary with the sources' tags.
//
// A topic has a canonical key and a display form. The key is the topic's
// words, lower-cased, each stemmed with the English (Snowball) stemmer,
// joined by one space: the tag `neural-networks` and the phrase "neural
// network" both have the key "neural network", so they are one topic. The
// display form is what the index stores as a `T` term and what people see:
// the first form the vocabulary saw for the key (a tag keeps its own
// spelling; a derived phrase is lower-case words joined by '-').
//
// Extraction (TopicExtractor::Extract) scores the single words and adjacent
// word pairs of a document (title words count `title_weight` times) by
// (1 + log tf) * idf against the corpus's document frequencies, drops
// stop-words, greetings/sign-offs and mail boilerplate (the built-in list),
// the caller's stop-topics (list or community names), words in more than
// `max_df_fraction` of the corpus (not specific) and words in fewer than
// `min_df` documents (typos, identifiers, names), boosts keys already in the
// vocabulary, and keeps the best `max_topics`, a word inside a chosen phrase
// not counted again.
//
// Thread-compatible: one TopicExtractor per thread (it caches stems).

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"

namespace whoknows::indexer {

struct TopicOptions {
  size_t max_topics = 5;
  double title_weight = 3;          // a title word counts this many times
  uint64_t min_df = 3;              // words in fewer documents are never topics
  double max_df_fraction = 0.05;    // words in more of the corpus are not specific
  double phrase_boost = 3;          // a two-word phrase's score factor
  uint32_t min_phrase_tf = 2;       // a phrase not in the vocabulary must occur this often
  double known_boost = 8;           // factor for keys that are a source's tags
  // Factor for derived topics established in the vocabulary (not tuned: the
  // evaluation data has tags, not derived topics; kept mild so a few early
  // topics do not take over).
  double established_boost = 1.2;
  // A phrase must make up this share of the occurrences of each of its words
  // (counted once per occurrence, title included)
  // ("neural network" does; "linking lapack" in a thread about LAPACK does not).
  double min_phrase_cohesion = 0.6;
  double min_score = 1.0;           // candidates scoring less are not topics
  // Below this many documents in the corpus, document frequencies mean little:
  // min_df is scaled down (to 1 for an almost empty index).
  uint64_t warmup_docs = 1000;
};

// Document frequencies of lower-case words in the corpus a document is
// scored against. `df` may be called many times per document.
struct DocFreqSource {
  uint64_t num_docs = 0;
  std::function<uint64_t(std::string_view word)> df;
  // Whether the document being scored is already counted in num_docs and df
  // (re-deriving an indexed document); otherwise it is added to both.
  bool includes_document = false;
};

// key -> display form, for every topic the index holds (tags and derived),
// with how established the topic is: a source's tag, or derived for at least
// kEstablishedDocs documents. Tags get TopicOptions::known_boost, other
// established topics established_boost; a topic derived for fewer documents
// gets none, so one lucky phrase does not feed on itself.
class TopicVocabulary {
 public:
  static constexpr uint32_t kEstablishedDocs = 5;
  struct Entry {
    std::string display;
    uint32_t docs = 0;  // documents it was added for
    bool tag = false;   // a source's tag
    bool established() const { return tag || docs >= kEstablishedDocs; }
  };
  // Adds `display` under its key (for `docs` more documents) unless the key
  // already has a display form; returns the display form in use for the key.
  const std::string& Add(std::string_view display, bool tag, uint32_t docs = 1);
  // The entry of `key`, or nullptr.
  const Entry* Find(std::string_view key) const;
  size_t size() const { return by_key_.size(); }

 private:
  absl::flat_hash_map<std::string, Entry> by_key_;
};

struct ExtractedTopic {
  std::string key;
  std::string display;
  double score = 0;
};

class TopicExtractor {
 public:
  explicit TopicExtractor(const TopicOptions& options = {});

  // Canonical key of a tag or phrase: words split on anything but letters,
  // digits, '+' and '#', lower-cased, stemmed, joined by ' '. "" for none.
  std::string Key(std::string_view topic);

  // The best topics of one document (title + text), best first. Keys in
  // `stop_keys` (see StopKeys) or `extra_stop_keys` (the keys of the author's
  // name) are never returned. `vocabulary` may be null. A closing sign-off
  // ("Thanks,\nAnn", or a last line starting with the author's name: "Martin
  // Maechler,\nETH Zurich") and an opening greeting line are not read.
  // When `words` is not null it receives every distinct candidate word
  // (lower case) of the document, for keeping document frequencies current.
  std::vector<ExtractedTopic> Extract(std::string_view title, std::string_view text, const DocFreqSource& freqs,
                                      const TopicVocabulary* vocabulary,
                                      const absl::flat_hash_set<std::string>& stop_keys,
                                      std::vector<std::string>* words = nullptr,
                                      std::span<const std::string> extra_stop_keys = {});

  // Every distinct candidate word (lower case) of title + text: what
  // document frequencies for DocFreqSource are counted over.
  void Words(std::string_view title, std::string_view text, std::vector<std::string>* out);

  // The plain tf-idf baseline: the `k` single words (stop-words dropped)
  // with the highest (1 + log tf) * idf, returned as keys (stems).
  std::vector<std::string> TfIdfTerms(std::string_view title, std::string_view text, const DocFreqSource& freqs,
                                      size_t k);

  // Stop keys for a community / list / channel name: the name's key and the
  // key of each of its words.
  absl::flat_hash_set<std::string> StopKeys(std::span<const std::string> names);

  // Keys never returned by Extract, owned by the caller (e.g. the words of
  // every person's name); must outlive the extractor's use. May be null.
  void set_name_keys(const absl::flat_hash_set<std::string>* keys) { name_keys_ = keys; }

  const TopicOptions& options() const { return options_; }
  void set_options(const TopicOptions& options) { options_ = options; }

 private:
  struct Token {
    uint32_t begin = 0, size = 0;  // the word, lower case: lower_[begin, begin + size)
    double weight = 1;
    bool candidate = false;
    bool joined = false;  // adjacent to the previous token (no punctuation or skipped chunk between)
  };
  // Appends the tokens of `text` to `out` and their lower-case words to lower_.
  void Tokenize(std::string_view text, double weight, std::vector<Token>* out);
  std::string_view Word(const Token& t) const { return std::string_view(lower_).substr(t.begin, t.size); }
  // The stem of a lower-case word, interned: one id (and one string) per distinct stem.
  uint32_t StemId(std::string_view word);
  const std::string& Stem(std::string_view word) { return stem_text_[StemId(word)]; }
  // Bounds the stem cache on endless vocabularies; only between documents (ids stay valid within one).
  void TrimStems();

  TopicOptions options_;
  const absl::flat_hash_set<std::string>* name_keys_ = nullptr;
  absl::flat_hash_map<std::string, uint32_t> stem_of_;   // word -> stem id
  absl::flat_hash_map<std::string, uint32_t> stem_ids_;  // stem -> stem id
  std::deque<std::string> stem_text_;                    // stem id -> stem (stable references)
  // Scratch reused from one document to the next (no allocation per token).
  std::string lower_;
  std::vector<Token> tokens_;
  std::vector<int32_t> single_of_stem_;  // stem id -> index into this document's singles, -1 when none
  class StemmerHolder;
  std::shared_ptr<StemmerHolder> stemmer_;
};

// The canonical key of a topic, tag or user-typed topic name (as
// TopicExtractor::Key): "neural-networks", "Neural Network" and
// "neural_networks" all give "neural network". Every place that compares
// topics compares keys. Thread-safe (one stemmer per thread).
std::string TopicKey(std::string_view topic);

// True for the built-in stop-words (English function words, greetings and
// sign-offs, mail and web boilerplate, very generic verbs and nouns).
bool IsTopicStopWord(std::string_view lower_word);

// `text` without an opening greeting line ("Hi all,"), a closing sign-off
// (a line starting "Thanks", "Regards", "Cheers", "Best", ... or, when
// `author_keys` (TopicKey of each word of the author's name) are given, with
// one of the author's names, as in "Martin Maechler,\nETH Zurich": among the
// last five short lines, that line and what follows) and mail-archive
// attachment stubs ("-------------- next part --------------" and what follows).
std::string_view StripGreetingAndSignOff(std::string_view text, std::span<const std::string> author_keys = {});

}  // namespace whoknows::indexer

#endif  // WHOKNOWS_INDEXER_TOPICS_H_
