// whoknows-gen: a synthetic but realistic corpus in the JSONL schema (README
// "JSONL"), deterministic from --seed.
//
//  - People have power-law activity: person i (0 = most active) starts
//    threads with probability ~ 1/(i+1), and among the members of a topic the
//    more active ones answer more often.
//  - Each person has 1..4 topics (popular topics have more members, Zipf).
//    Every topic has its own vocabulary; a post mixes words of the thread's
//    topic, of another topic of its author, and common English words.
//  - Threads: a root (question / mail / chat message) by a Zipf-drawn asker,
//    then replies by people who share the thread's topic, with exponential
//    time gaps (hours for forum and mail, minutes for chat). Mail replies form
//    a tree, chat replies a chain, forum answers reply to the question (one may
//    be accepted). Some replies mention an earlier participant.
//  - Communities carry the visibility: 16 public, 3 internal, 1 partner-acme,
//    so people (and their threads) split about 80% / 15% / 5%.
// The queries file holds one query text per line (2-4 words of one topic's
// vocabulary, topics drawn by popularity); the persons file one author key
// per line (a Zipf-weighted sample of people with a post) for SuggestConnections.
//
//   whoknows-gen --posts 100000 --people 10000 --seed 1 --out corpus.jsonl
//                --queries-out queries.txt --persons-out persons.txt
//
// The random generator and every distribution are implemented here
// (splitmix64 + own transforms), so the output is identical on every
// platform and standard library for the same flags.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace {

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull + 0x1234567ull) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }
  // Zipf-like rank in [0, n) with P(r) ~ 1/(r+1) (log-uniform inverse CDF).
  uint64_t Zipf(uint64_t n) {
    if (n <= 1) return 0;
    const double x = std::exp(Uniform() * std::log(static_cast<double>(n) + 1.0)) - 1.0;
    return std::min<uint64_t>(n - 1, static_cast<uint64_t>(x));
  }
  double Exponential(double mean) { return -mean * std::log(1.0 - Uniform()); }
  bool Chance(double p) { return Uniform() < p; }

 private:
  uint64_t s_;
};

constexpr const char* kCommon[] = {
    "the",    "a",      "is",    "we",    "i",       "it",    "to",    "and",   "of",    "in",    "for",     "on",
    "with",   "when",   "this",  "that",  "not",     "but",   "can",   "how",   "why",   "does",  "do",      "after",
    "before", "using",  "use",   "get",   "see",     "works", "fails", "error", "issue", "again", "problem", "fix",
    "should", "would",  "could", "there", "some",    "any",   "all",   "new",   "old",   "same",  "other",   "first",
    "last",   "still",  "now",   "only",  "also",    "just",  "like",  "think", "know",  "try",   "tried",   "thanks",
    "help",   "please", "maybe", "seems", "because", "if",    "then",  "what",  "which", "our",   "your",    "my",
    "you",    "they",   "be",    "was",   "are",     "have",  "has",   "from",  "by",    "about", "more",    "less",
    "very",   "much",   "time",  "way",   "case",    "change"};

constexpr const char* kTopicStems[] = {
    "kubernetes", "postgres",    "compiler", "linker",    "gradle",    "kafka",      "terraform", "grpc",
    "protobuf",   "xapian",      "pagerank", "graphql",   "react",     "webpack",    "docker",    "nginx",
    "tls",        "oauth",       "ldap",     "dns",       "bgp",       "raft",       "paxos",     "spark",
    "hadoop",     "pandas",      "numpy",    "pytorch",   "cuda",      "llvm",       "rust",      "golang",
    "haskell",    "ocaml",       "erlang",   "elixir",    "scala",     "kotlin",     "swift",     "android",
    "ios",        "unicode",     "regex",    "sqlite",    "redis",     "memcached",  "elastic",   "lucene",
    "prometheus", "grafana",     "ansible",  "puppet",    "systemd",   "ebpf",       "kernel",    "filesystem",
    "zfs",        "btrfs",       "raid",     "ipv6",      "quic",      "http2",      "websocket", "cors",
    "csrf",       "xss",         "fuzzing",  "sanitizer", "valgrind",  "profiling",  "latency",   "caching",
    "sharding",   "replication", "backup",   "migration", "billing",   "invoices",   "payroll",   "onboarding",
    "hiring",     "budget",      "roadmap",  "pricing",   "contracts", "compliance", "gdpr",      "audit"};

constexpr const char* kCommunities[] = {"eng-platform", "eng-data", "eng-mobile", "eng-web", "eng-infra",
                                        "eng-security", "eng-ml",   "eng-tools",  "ops",     "support",
                                        "product",      "design",   "research",   "qa",      "docs",
                                        "community",    "finance",  "legal",      "people",  "acme-shared"};
constexpr int kNumCommunities = 20;
const char* Visibility(int community) {
  if (community < 16) return "public";
  if (community < 19) return "internal";
  return "partner-acme";
}

constexpr const char* kFirst[] = {
    "Ada",     "Alan",  "Grace",  "Linus",     "Barbara", "Ken",    "Dennis", "Margaret", "Edsger",   "Donald",
    "Frances", "John",  "Radia",  "Leslie",    "Tim",     "Vint",   "Bjarne", "Guido",    "Yukihiro", "James",
    "Anita",   "Shafi", "Silvio", "Whitfield", "Martin",  "Ivan",   "Jean",   "Niklaus",  "Tony",     "Robin",
    "Butler",  "Fran",  "Sophie", "Karen",     "Hedy",    "Joan",   "Mary",   "Adele",    "Carol",    "Evelyn",
    "Rosa",    "Lin",   "Wei",    "Yan",       "Hiro",    "Aiko",   "Sven",   "Ingrid",   "Olga",     "Pavel",
    "Nadia",   "Omar",  "Fatima", "Ravi",      "Priya",   "Arjun",  "Mei",    "Chen",     "Kofi",     "Amara",
    "Diego",   "Lucia", "Mateo",  "Elena",     "Pierre",  "Claire", "Lars",   "Anna"};
constexpr const char* kLast[] = {
    "Lovelace",  "Turing",   "Hopper",   "Torvalds",   "Liskov",    "Thompson", "Ritchie", "Hamilton",   "Dijkstra",
    "Knuth",     "Allen",    "McCarthy", "Perlman",    "Lamport",   "Berners",  "Cerf",    "Stroustrup", "Rossum",
    "Matsumoto", "Gosling",  "Borg",     "Goldwasser", "Micali",    "Diffie",   "Hellman", "Sutherland", "Sammet",
    "Wirth",     "Hoare",    "Milner",   "Lampson",    "Kernighan", "Wilson",   "Jones",   "Lamarr",     "Clarke",
    "Keller",    "Goldberg", "Shaw",     "Berry",      "Peter",     "Okafor",   "Mensah",  "Garcia",     "Rossi",
    "Novak",     "Ivanova",  "Kowalski", "Schmidt",    "Muller",    "Dubois",   "Laurent", "Nilsson",    "Berg",
    "Tanaka",    "Sato",     "Kim",      "Park",       "Nguyen",    "Tran",     "Singh",   "Patel",      "Sharma",
    "Haddad",    "Khalil",   "Silva",    "Santos",     "Costa",     "Moreau",   "Fischer", "Weber",      "Wagner",
    "Becker",    "Hoffmann", "Koch",     "Richter",    "Klein",     "Wolf",     "Neumann", "Schwarz",    "Zimmermann",
    "Braun",     "Hartmann", "Lange",    "Werner",     "Krause",    "Meier",    "Lehmann", "Huber",      "Mayer",
    "Fuchs",     "Vogel",    "Jung",     "Roth",       "Frank",     "Baumann"};
constexpr size_t kNumFirst = sizeof(kFirst) / sizeof(kFirst[0]);
constexpr size_t kNumLast = sizeof(kLast) / sizeof(kLast[0]);

// Pronounceable pseudo-words ("varokel", "tesimun") for topic vocabularies.
std::vector<std::string> MakeVocabulary(size_t n, Rng& rng) {
  static const char* kOnset[] = {"b", "c", "d",  "f",  "g",  "k",  "l",  "m",  "n",  "p",  "r",  "s", "t",
                                 "v", "z", "br", "cr", "dr", "gr", "pl", "st", "tr", "sh", "ch", "th"};
  static const char* kVowel[] = {"a", "e", "i", "o", "u", "ai", "ou", "ea", "io"};
  static const char* kCoda[] = {"", "", "", "n", "r", "l", "s", "x", "m", "t", "nd", "rk"};
  std::set<std::string> seen;
  std::vector<std::string> out;
  while (out.size() < n) {
    std::string w;
    const int syllables = 2 + static_cast<int>(rng.Below(2));
    for (int s = 0; s < syllables; ++s) {
      w += kOnset[rng.Below(std::size(kOnset))];
      w += kVowel[rng.Below(std::size(kVowel))];
    }
    w += kCoda[rng.Below(std::size(kCoda))];
    if (seen.insert(w).second) out.push_back(std::move(w));
  }
  return out;
}

struct Topic {
  std::string name;
  std::vector<std::string> words;  // words[0] is the name; Zipf within
  std::vector<uint32_t> members;   // people with the topic, most active first
};

struct PersonGen {
  std::string key;   // author key (e-mail address)
  std::string name;  // unique display name (mail names merge identities)
  std::vector<uint32_t> topics;
  int community = 0;
};

struct Options {
  uint64_t posts = 1000000;
  uint64_t people = 100000;
  uint64_t seed = 1;
  uint32_t topics = 300;
  uint32_t words_per_topic = 60;
  uint64_t queries = 2000;
  uint64_t persons_sample = 2000;
  int64_t end_time = 1704067200;  // 2024-01-01
  double years = 3;
  std::string out = "corpus.jsonl";
  std::string queries_out;
  std::string persons_out;
};

class Generator {
 public:
  explicit Generator(const Options& o) : o_(o), rng_(o.seed) {}

  void Setup() {
    const std::vector<std::string> vocab = MakeVocabulary(20000, rng_);
    topics_.resize(o_.topics);
    for (uint32_t t = 0; t < o_.topics; ++t) {
      Topic& tp = topics_[t];
      tp.name = kTopicStems[t % std::size(kTopicStems)];
      if (t >= std::size(kTopicStems)) tp.name += "-" + vocab[t];
      tp.words.push_back(tp.name);
      // Overlapping vocabularies: popular pseudo-words appear in many topics.
      std::set<std::string> used{tp.name};
      while (tp.words.size() < o_.words_per_topic) {
        const std::string& w = rng_.Chance(0.2) ? vocab[rng_.Zipf(vocab.size())] : vocab[rng_.Below(vocab.size())];
        if (used.insert(w).second) tp.words.push_back(w);
      }
    }
    people_.resize(o_.people);
    authored_.assign(o_.people, false);
    for (uint64_t i = 0; i < o_.people; ++i) {
      PersonGen& p = people_[i];
      const size_t f = (i * 7919) % kNumFirst, l = (i / kNumFirst) % kNumLast;
      p.name = std::string(kFirst[f]) + " " + kLast[l];
      if (i >= kNumFirst * kNumLast) p.name += " " + std::to_string(i / (kNumFirst * kNumLast) + 1);
      std::string lower = p.name;
      for (char& c : lower) c = c == ' ' ? '.' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      p.key = lower + "." + std::to_string(i) + "@example.org";
      const int n_topics = 1 + static_cast<int>(rng_.Zipf(4));
      for (int k = 0; k < n_topics; ++k) {
        const uint32_t t = static_cast<uint32_t>(rng_.Zipf(o_.topics));
        if (std::find(p.topics.begin(), p.topics.end(), t) == p.topics.end()) p.topics.push_back(t);
      }
      p.community = static_cast<int>(rng_.Below(kNumCommunities));
      for (uint32_t t : p.topics) topics_[t].members.push_back(static_cast<uint32_t>(i));
    }
    for (Topic& tp : topics_) {
      if (tp.members.empty()) tp.members.push_back(static_cast<uint32_t>(rng_.Below(o_.people)));
    }
  }

  // Writes threads until `posts` lines; returns false on I/O error.
  bool WriteCorpus(std::FILE* f) {
    const double span = o_.years * 365.25 * 86400;
    const int64_t start = o_.end_time - static_cast<int64_t>(span);
    uint64_t written = 0, thread = 0;
    std::string line;
    struct Post {
      std::string id;
      uint32_t author;
      int64_t ts;
    };
    std::vector<Post> posts;
    while (written < o_.posts) {
      ++thread;
      const uint32_t asker = static_cast<uint32_t>(rng_.Zipf(o_.people));
      const PersonGen& ap = people_[asker];
      const uint32_t topic = ap.topics[rng_.Below(ap.topics.size())];
      const int community = rng_.Chance(0.85) ? ap.community : static_cast<int>(rng_.Below(kNumCommunities));
      const double u = rng_.Uniform();
      const int style = u < 0.5 ? 0 : u < 0.8 ? 1 : 2;  // forum, mail, chat
      static const char* kSource[] = {"synth-forum", "synth-mail", "synth-chat"};
      // More recent activity than old (a growing organisation).
      int64_t ts = start + static_cast<int64_t>(span * std::sqrt(rng_.Uniform()));
      uint64_t replies = static_cast<uint64_t>(rng_.Exponential(style == 2 ? 4.0 : 2.5));
      replies = std::min<uint64_t>(replies, 60);
      const std::string title = Sentence(topic, asker, 4 + rng_.Below(5), false);
      const std::string root_id = "t" + std::to_string(thread);
      posts.clear();
      const int64_t accepted =
          style == 0 && replies > 0 && rng_.Chance(0.5) ? static_cast<int64_t>(rng_.Below(replies)) : -1;
      for (uint64_t r = 0; r <= replies && written < o_.posts; ++r) {
        Post p;
        p.id = r == 0 ? root_id : root_id + "-" + std::to_string(r);
        std::string reply_to;
        if (r == 0) {
          p.author = asker;
        } else {
          const Topic& tp = topics_[topic];
          // A reply by a member of the topic (active ones more often), sometimes the asker again.
          p.author = rng_.Chance(0.15) ? asker : tp.members[rng_.Zipf(tp.members.size())];
          ts += static_cast<int64_t>(rng_.Exponential(style == 2 ? 600.0 : 4 * 3600.0)) + 1;
          if (style == 0)
            reply_to = root_id;
          else if (style == 1)
            reply_to = posts[rng_.Below(posts.size())].id;
          else
            reply_to = posts.back().id;
        }
        p.ts = ts;
        const PersonGen& author = people_[p.author];
        line.clear();
        line += "{\"id\":\"" + p.id + "\",\"source\":\"" + kSource[style] + "\",\"kind\":\"";
        line += style == 0 ? (r == 0 ? "question" : "answer") : style == 1 ? "mail" : "chat";
        line += "\",\"author\":\"" + author.key + "\",\"author_name\":\"" + author.name + "\",\"timestamp\":";
        line += std::to_string(p.ts);
        if (style == 1 || (style == 0 && r == 0)) {  // answers and chat have no title
          line += ",\"title\":\"";
          if (r > 0) line += "Re: ";
          line += title;
          line += "\"";
        }
        const uint64_t words = r == 0 ? 25 + rng_.Below(55) : 10 + rng_.Below(50);
        line += ",\"text\":\"" + Sentence(topic, p.author, words, true) + "\"";
        line += ",\"thread\":\"" + root_id + "\"";
        if (!reply_to.empty()) line += ",\"reply_to\":\"" + reply_to + "\"";
        if (r > 0 && rng_.Chance(0.12)) {
          const uint32_t m = posts[rng_.Below(posts.size())].author;
          if (m != p.author) line += ",\"mentions\":[\"" + people_[m].key + "\"]";
        }
        if (r == 0 && style != 2) {
          line += ",\"tags\":[\"" + topics_[topic].name + "\"";
          if (ap.topics.size() > 1 && rng_.Chance(0.3)) {
            const uint32_t t2 = ap.topics[rng_.Below(ap.topics.size())];
            if (t2 != topic) line += ",\"" + topics_[t2].name + "\"";
          }
          line += "]";
        }
        line += ",\"community\":\"";
        line += kCommunities[community];
        line += "\",\"visibility\":\"";
        line += Visibility(community);
        line += "\"";
        if (style == 0) {
          line += ",\"score\":" + std::to_string(static_cast<int>(rng_.Exponential(2.0)));
          if (r > 0 && static_cast<int64_t>(r - 1) == accepted) line += ",\"accepted\":true";
        }
        line += "}\n";
        if (std::fwrite(line.data(), 1, line.size(), f) != line.size()) return false;
        authored_[p.author] = true;
        posts.push_back(std::move(p));
        ++written;
      }
    }
    threads_ = thread;
    return true;
  }

  bool WriteQueries(std::FILE* f) {
    static const char* kLead[] = {"how to", "why does", "best way to", "help with", "problem with"};
    for (uint64_t q = 0; q < o_.queries; ++q) {
      const Topic& tp = topics_[rng_.Zipf(o_.topics)];
      std::string s;
      if (rng_.Chance(0.25)) s = std::string(kLead[rng_.Below(std::size(kLead))]) + " ";
      const uint64_t n = 2 + rng_.Below(3);
      for (uint64_t i = 0; i < n; ++i) {
        if (i) s += ' ';
        s += i == 0 && rng_.Chance(0.4) ? tp.name : tp.words[rng_.Zipf(tp.words.size())];
      }
      s += '\n';
      if (std::fwrite(s.data(), 1, s.size(), f) != s.size()) return false;
    }
    return true;
  }

  bool WritePersons(std::FILE* f) {
    if (std::find(authored_.begin(), authored_.end(), true) == authored_.end()) return true;
    for (uint64_t i = 0; i < o_.persons_sample; ++i) {
      // Only people with a post (others are unknown to the index), as the
      // indexer stores their keys ("mail:" + address).
      uint64_t who = rng_.Zipf(o_.people);
      while (!authored_[who]) who = rng_.Zipf(o_.people);
      const std::string s = "mail:" + people_[who].key + "\n";
      if (std::fwrite(s.data(), 1, s.size(), f) != s.size()) return false;
    }
    return true;
  }

  uint64_t threads() const { return threads_; }

 private:
  // `n` words: 55% of the thread topic's vocabulary, 10% of another topic of
  // the author, 35% common words; sentences of ~8-14 words when `prose`.
  std::string Sentence(uint32_t topic, uint32_t author, uint64_t n, bool prose) {
    std::string s;
    const PersonGen& p = people_[author];
    uint64_t next_stop = 8 + rng_.Below(7);
    for (uint64_t i = 0; i < n; ++i) {
      if (i) s += ' ';
      const double u = rng_.Uniform();
      if (u < 0.35) {
        s += kCommon[rng_.Below(std::size(kCommon))];
      } else if (u < 0.9 || p.topics.size() < 2) {
        const Topic& tp = topics_[topic];
        s += tp.words[rng_.Zipf(tp.words.size())];
      } else {
        const Topic& tp = topics_[p.topics[rng_.Below(p.topics.size())]];
        s += tp.words[rng_.Zipf(tp.words.size())];
      }
      if (prose && i + 1 == next_stop) {
        s += '.';
        next_stop += 8 + rng_.Below(7);
      }
    }
    if (prose) s += '.';
    return s;
  }

  Options o_;
  Rng rng_;
  std::vector<Topic> topics_;
  std::vector<PersonGen> people_;
  std::vector<bool> authored_;  // person wrote at least one post
  uint64_t threads_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app("whoknows-gen: deterministic synthetic JSONL corpus + queries for benchmarks");
  app.add_option("--posts", o.posts, "Messages to write")->capture_default_str();
  app.add_option("--people", o.people, "People")->capture_default_str();
  app.add_option("--seed", o.seed, "Random seed (same flags + seed = same bytes)")->capture_default_str();
  app.add_option("--topics", o.topics, "Topics")->capture_default_str();
  app.add_option("--words-per-topic", o.words_per_topic, "Vocabulary per topic")->capture_default_str();
  app.add_option("--end-time", o.end_time, "Newest thread start, epoch seconds")->capture_default_str();
  app.add_option("--years", o.years, "Time span of the corpus")->capture_default_str();
  app.add_option("--out", o.out, "Output JSONL file ('-' = stdout)")->capture_default_str();
  app.add_option("--queries-out", o.queries_out, "Also write query texts, one per line");
  app.add_option("--queries", o.queries, "Number of queries")->capture_default_str();
  app.add_option("--persons-out", o.persons_out, "Also write person keys (for SuggestConnections), one per line");
  app.add_option("--persons", o.persons_sample, "Number of person keys")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (o.people == 0 || o.topics == 0 || o.words_per_topic == 0) {
    std::fprintf(stderr, "whoknows-gen: --people, --topics and --words-per-topic must be > 0\n");
    return 2;
  }
  Generator gen(o);
  gen.Setup();
  auto write = [](const std::string& path, auto&& fn) {
    std::FILE* f = path == "-" ? stdout : std::fopen(path.c_str(), "w");
    if (f == nullptr) {
      std::fprintf(stderr, "whoknows-gen: cannot open %s\n", path.c_str());
      return false;
    }
    const bool ok = fn(f);
    if (f != stdout ? std::fclose(f) != 0 : std::fflush(f) != 0) return false;
    if (!ok) std::fprintf(stderr, "whoknows-gen: write error on %s\n", path.c_str());
    return ok;
  };
  // Corpus first, then queries and persons: each stream of random numbers
  // depends only on the flags, so --queries-out does not change the corpus.
  if (!write(o.out, [&](std::FILE* f) { return gen.WriteCorpus(f); })) return 1;
  if (!o.queries_out.empty() && !write(o.queries_out, [&](std::FILE* f) { return gen.WriteQueries(f); })) return 1;
  if (!o.persons_out.empty() && !write(o.persons_out, [&](std::FILE* f) { return gen.WritePersons(f); })) return 1;
  std::fprintf(stderr, "whoknows-gen: %llu posts in %llu threads by up to %llu people, %u topics -> %s\n",
               static_cast<unsigned long long>(o.posts), static_cast<unsigned long long>(gen.threads()),
               static_cast<unsigned long long>(o.people), o.topics, o.out.c_str());
  return 0;
}
