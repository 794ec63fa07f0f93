#include "bm25_source.h"

#include <algorithm>
#include <cmath>
#include <mutex>

#include "absl/container/flat_hash_map.h"

namespace whoknows::indexer::internal {
namespace {

// Xapian::BM25Weight()'s defaults.
constexpr double kK1 = 1, kB = 0.5, kMinNormLen = 0.5;

}  // namespace

std::shared_ptr<const DocLengths> ReadDocLengths(const Xapian::Database& db, uint64_t revision) {
  auto out = std::make_shared<DocLengths>();
  out->revision = revision;
  out->length.assign(static_cast<size_t>(db.get_lastdocid()) + 1, 0);
  for (auto it = db.postlist_begin(""); it != db.postlist_end(""); ++it) {
    if (*it < out->length.size()) out->length[*it] = it.get_doclength();
  }
  return out;
}

std::shared_ptr<const DocLengths> SharedDocLengths(const std::string& path, const Xapian::Database& db,
                                                   uint64_t revision) {
  static std::mutex mu;
  static auto* const by_path = new absl::flat_hash_map<std::string, std::shared_ptr<const DocLengths>>();
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = by_path->find(path);
    if (it != by_path->end() && it->second->revision == revision) return it->second;
    if (it != by_path->end() && it->second->revision > revision) return ReadDocLengths(db, revision);
  }
  // Read outside the lock; two readers that race here both read, one is kept.
  std::shared_ptr<const DocLengths> fresh = ReadDocLengths(db, revision);
  std::lock_guard<std::mutex> lock(mu);
  std::shared_ptr<const DocLengths>& slot = (*by_path)[path];
  if (slot == nullptr || slot->revision < revision) slot = fresh;
  return fresh;
}

void Bm25Source::init(const Xapian::Database& db) {
  it_ = db.postlist_begin(term_);
  end_ = db.postlist_end(term_);
  started_ = false;
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

double Bm25Source::get_weight() const {
  const Xapian::docid d = *it_;
  const double len = d < lengths_->length.size() ? lengths_->length[d] : 0;
  const double normlen = std::max(len * len_factor_, kMinNormLen);
  const double wdf = it_.get_wdf();
  return termweight_ * (wdf / (kK1 * (normlen * kB + (1 - kB)) + wdf));
}

void Bm25Source::next(double) {
  if (started_) {
    ++it_;
  } else {
    started_ = true;
  }
}

void Bm25Source::skip_to(Xapian::docid did, double) {
  started_ = true;
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
