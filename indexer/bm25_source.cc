#include "bm25_source.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"

namespace whoknows::indexer::internal {
namespace {

// Xapian::BM25Weight()'s defaults.
constexpr double kK1 = 1, kB = 0.5, kMinNormLen = 0.5;

// BM25Weight::get_sumpart (the same operations in the same order).
inline double Weight(double termweight, double len_factor, double len, double wdf) {
  const double normlen = std::max(len * len_factor, kMinNormLen);
  return termweight * (wdf / (kK1 * (normlen * kB + (1 - kB)) + wdf));
}

}  // namespace

size_t TermCacheBudgetFromEnv() {
  constexpr size_t kDefaultMb = 256;
  const char* v = std::getenv("WHOKNOWS_TERM_CACHE_MB");
  if (v == nullptr || *v == '\0') return kDefaultMb << 20;
  char* end = nullptr;
  const unsigned long long mb = std::strtoull(v, &end, 10);
  return end != nullptr && *end == '\0' ? static_cast<size_t>(mb) << 20 : kDefaultMb << 20;
}

namespace {

constexpr size_t kPostingBytes = sizeof(Xapian::docid) + sizeof(double);
constexpr size_t kEntryOverhead = 128;  // map slot, key, control blocks

}  // namespace

size_t TermPostings::bytes() const {
  return docid.capacity() * sizeof(Xapian::docid) + weight.capacity() * sizeof(double) + sizeof(*this);
}

TermCache::TermCache() : budget_(TermCacheBudgetFromEnv()) {}

std::shared_ptr<const TermPostings> TermCache::Find(const std::string& term) const {
  if (budget_ == 0) return nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(term);
  return it == map_.end() ? nullptr : it->second;
}

bool TermCache::HasRoom(Xapian::doccount postings) const {
  if (budget_ == 0) return false;
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_ + postings * kPostingBytes + kEntryOverhead <= budget_;
}

std::shared_ptr<const TermPostings> TermCache::Add(const std::string& term, std::shared_ptr<const TermPostings> p) {
  const size_t b = p->bytes() + term.size() + kEntryOverhead;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(term);
  if (it != map_.end()) return it->second;
  if (bytes_ + b > budget_) return p;
  bytes_ += b;
  map_.emplace(term, p);
  return p;
}

size_t TermCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

size_t TermCache::terms() const {
  std::lock_guard<std::mutex> lock(mu_);
  return map_.size();
}

std::shared_ptr<const DocLengths> ReadDocLengths(const Xapian::Database& db, uint64_t revision,
                                                 std::optional<size_t> term_cache_bytes) {
  auto out = std::make_shared<DocLengths>();
  if (term_cache_bytes.has_value()) out->terms.set_budget(*term_cache_bytes);
  out->revision = revision;
  out->length.assign(static_cast<size_t>(db.get_lastdocid()) + 1, 0);
  for (auto it = db.postlist_begin(""); it != db.postlist_end(""); ++it) {
    if (*it < out->length.size()) out->length[*it] = it.get_doclength();
  }
  return out;
}

std::shared_ptr<const DocLengths> SharedDocLengths(const std::string& path, const Xapian::Database& db,
                                                   uint64_t revision, size_t term_cache_bytes) {
  static std::mutex mu;
  static auto* const by_path = new absl::flat_hash_map<std::string, std::shared_ptr<const DocLengths>>();
  const std::string key = path + '\n' + std::to_string(term_cache_bytes);
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = by_path->find(key);
    if (it != by_path->end() && it->second->revision == revision) return it->second;
    if (it != by_path->end() && it->second->revision > revision) return ReadDocLengths(db, revision, term_cache_bytes);
  }
  // Read outside the lock; two readers that race here both read, one is kept.
  std::shared_ptr<const DocLengths> fresh = ReadDocLengths(db, revision, term_cache_bytes);
  std::lock_guard<std::mutex> lock(mu);
  std::shared_ptr<const DocLengths>& slot = (*by_path)[key];
  if (slot == nullptr || slot->revision < revision) slot = fresh;
  return fresh;
}

std::shared_ptr<const TermPostings> CachedPostings(const Xapian::Database& db, const std::string& term,
                                                   const std::shared_ptr<const DocLengths>& lengths) {
  std::shared_ptr<const TermPostings> p = lengths->terms.Find(term);
  if (p == nullptr && lengths->terms.HasRoom(db.get_termfreq(term))) {
    p = lengths->terms.Add(term, Bm25Source(term, lengths).Decode(db));
  }
  return p;
}

void Bm25Source::init(const Xapian::Database& db) {
  started_ = false;
  pos_ = 0;
  cached_ = CachedPostings(db, term_, lengths_);
  if (cached_ != nullptr) {
    termfreq_ = cached_->termfreq;
    set_maxweight(cached_->maxweight);
    return;
  }
  it_ = db.postlist_begin(term_);
  end_ = db.postlist_end(term_);
  termfreq_ = db.get_termfreq(term_);
  // BM25Weight::init without a relevance set, wqf 1, factor 1, k3 1.
  double tw = (static_cast<double>(db.get_doccount()) - termfreq_ + 0.5) / (termfreq_ + 0.5);
  if (tw < 2) tw = tw * 0.5 + 1;
  termweight_ = std::log(tw) * (kK1 + 1);
  const double avlen = db.get_avlength();
  len_factor_ = avlen != 0 ? 1 / avlen : 0;
  // BM25Weight::get_maxpart: the largest wdf over the shortest document.
  const double wdf_max = db.get_wdf_upper_bound(term_);
  const double normlen_lb = std::max(db.get_doclength_lower_bound() * len_factor_, kMinNormLen);
  set_maxweight(termfreq_ == 0 ? 0 : termweight_ * (wdf_max / (kK1 * (normlen_lb * kB + (1 - kB)) + wdf_max)));
}

std::shared_ptr<const TermPostings> Bm25Source::Decode(const Xapian::Database& db) const {
  // The same constants as init() computes for the streaming path.
  auto out = std::make_shared<TermPostings>();
  const Xapian::doccount tf = db.get_termfreq(term_);
  out->termfreq = tf;
  double tw = (static_cast<double>(db.get_doccount()) - tf + 0.5) / (tf + 0.5);
  if (tw < 2) tw = tw * 0.5 + 1;
  const double termweight = std::log(tw) * (kK1 + 1);
  const double avlen = db.get_avlength();
  const double len_factor = avlen != 0 ? 1 / avlen : 0;
  const double wdf_max = db.get_wdf_upper_bound(term_);
  const double normlen_lb = std::max(db.get_doclength_lower_bound() * len_factor, kMinNormLen);
  out->maxweight = tf == 0 ? 0 : termweight * (wdf_max / (kK1 * (normlen_lb * kB + (1 - kB)) + wdf_max));
  out->docid.reserve(tf);
  out->weight.reserve(tf);
  const std::vector<uint32_t>& lengths = lengths_->length;
  for (auto it = db.postlist_begin(term_); it != db.postlist_end(term_); ++it) {
    const Xapian::docid d = *it;
    const double len = d < lengths.size() ? lengths[d] : 0;
    out->docid.push_back(d);
    out->weight.push_back(Weight(termweight, len_factor, len, it.get_wdf()));
    out->top = std::max(out->top, out->weight.back());
  }
  return out;
}

double Bm25Source::get_weight() const {
  if (cached_ != nullptr) return cached_->weight[pos_];
  const Xapian::docid d = *it_;
  const double len = d < lengths_->length.size() ? lengths_->length[d] : 0;
  return Weight(termweight_, len_factor_, len, it_.get_wdf());
}

void Bm25Source::next(double) {
  if (!started_) {
    started_ = true;
  } else if (cached_ != nullptr) {
    ++pos_;
  } else {
    ++it_;
  }
}

void Bm25Source::skip_to(Xapian::docid did, double) {
  started_ = true;
  if (cached_ != nullptr) {
    const std::vector<Xapian::docid>& ids = cached_->docid;
    if (pos_ < ids.size() && ids[pos_] < did) {
      // Gallop from the current position: skips are usually short.
      size_t step = 1, lo = pos_, hi = pos_ + 1;
      while (hi < ids.size() && ids[hi] < did) {
        lo = hi;
        step *= 2;
        hi = std::min(ids.size(), hi + step);
      }
      pos_ = static_cast<size_t>(std::lower_bound(ids.begin() + static_cast<std::ptrdiff_t>(lo),
                                                  ids.begin() + static_cast<std::ptrdiff_t>(hi), did) -
                                 ids.begin());
    }
    return;
  }
  it_.skip_to(did);
}

Xapian::Query WithInMemoryLengths(const Xapian::Query& q, const std::shared_ptr<const DocLengths>& lengths) {
  const Xapian::Query::op type = q.get_type();
  if (type == Xapian::Query::LEAF_TERM) {
    return Xapian::Query((new Bm25Source(*q.get_unique_terms_begin(), lengths))->release());
  }
  const bool all = type == Xapian::Query::OP_OR || type == Xapian::Query::OP_AND || type == Xapian::Query::OP_AND_MAYBE;
  if (!all && type != Xapian::Query::OP_AND_NOT) return q;
  std::vector<Xapian::Query> subs;
  subs.reserve(q.get_num_subqueries());
  for (size_t i = 0; i < q.get_num_subqueries(); ++i) {
    // AND_NOT: only the left side is weighed.
    subs.push_back(all || i == 0 ? WithInMemoryLengths(q.get_subquery(i), lengths) : q.get_subquery(i));
  }
  return Xapian::Query(type, subs.begin(), subs.end());
}

}  // namespace whoknows::indexer::internal
