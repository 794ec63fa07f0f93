#include "term_match.h"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace whoknows::indexer::internal {
namespace {

void Leaves(const Xapian::Query& q, std::vector<std::string>* terms, bool* ok) {
  if (!*ok) return;
  const Xapian::Query::op type = q.get_type();
  if (type == Xapian::Query::LEAF_TERM) {
    terms->push_back(*q.get_unique_terms_begin());
  } else if (type == Xapian::Query::OP_OR) {
    for (size_t i = 0; i < q.get_num_subqueries(); ++i) Leaves(q.get_subquery(i), terms, ok);
  } else {
    *ok = false;
  }
}

// Relative slack on the pruning bounds: a bound summed in another order than
// a document's weight may differ from it in the last bits; this keeps every
// skip provably safe (errors are ~1e-16 relative).
constexpr double kSlack = 1 + 1e-9;

// First position >= pos in `ids` whose docid is >= did (galloping: the skips
// of a non-essential list are usually short).
size_t SkipTo(const std::vector<Xapian::docid>& ids, size_t pos, Xapian::docid did) {
  if (pos >= ids.size() || ids[pos] >= did) return pos;
  size_t step = 1, lo = pos, hi = pos + 1;
  while (hi < ids.size() && ids[hi] < did) {
    lo = hi;
    step *= 2;
    hi = std::min(ids.size(), hi + step);
  }
  return static_cast<size_t>(std::lower_bound(ids.begin() + static_cast<std::ptrdiff_t>(lo),
                                              ids.begin() + static_cast<std::ptrdiff_t>(hi), did) -
                             ids.begin());
}

}  // namespace

bool OrOfTerms(const Xapian::Query& q, std::vector<std::string>* terms) {
  terms->clear();
  bool ok = true;
  Leaves(q, terms, &ok);
  return ok && !terms->empty();
}

std::optional<std::vector<ScoredDoc>> MatchOrOfTerms(const Xapian::Database& db,
                                                     const std::shared_ptr<const DocLengths>& lengths,
                                                     std::span<const std::string> terms, size_t n) {
  const size_t k = terms.size();
  std::vector<std::shared_ptr<const TermPostings>> lists(k);
  for (size_t i = 0; i < k; ++i) {
    lists[i] = CachedPostings(db, terms[i], lengths);
    if (lists[i] == nullptr) return std::nullopt;
  }
  std::vector<ScoredDoc> out;
  if (k == 0 || n == 0) return out;

  // The binary tree of OrPostLists Xapian builds over the leaves (xapian-core
  // 1.4 api/queryinternal.cc, OrContext::postlist): a heap on the frequency
  // estimate, the two smallest combined until one is left; an OrPostList's
  // estimate assumes independence (OrPostList::get_termfreq_est). The same
  // std heap algorithms on the same initial order break ties the same way.
  struct Node {
    int l = -1, r = -1;  // children (internal nodes only)
    Xapian::doccount est = 0;
  };
  std::vector<Node> nodes(k);
  for (size_t i = 0; i < k; ++i) nodes[i].est = lists[i]->termfreq;
  if (k > 1) {
    const Xapian::doccount dbsize = db.get_doccount();
    std::vector<int> heap(k);
    for (size_t i = 0; i < k; ++i) heap[i] = static_cast<int>(i);
    auto larger_est = [&](int a, int b) { return nodes[a].est > nodes[b].est; };
    std::make_heap(heap.begin(), heap.end(), larger_est);
    while (true) {
      const int r = heap.front();
      std::pop_heap(heap.begin(), heap.end(), larger_est);
      heap.pop_back();
      Node node;
      node.l = heap.front();
      node.r = r;
      if (dbsize != 0) {
        const double lest = static_cast<double>(nodes[node.l].est);
        const double rest = static_cast<double>(nodes[node.r].est);
        const double est = lest + rest - (lest * rest / dbsize);
        node.est = static_cast<Xapian::doccount>(est + 0.5);
      }
      nodes.push_back(node);
      if (heap.size() == 1) break;
      std::pop_heap(heap.begin(), heap.end(), larger_est);
      heap.back() = static_cast<int>(nodes.size() - 1);
      std::push_heap(heap.begin(), heap.end(), larger_est);
    }
  }

  // Max-score pruning: leaves ordered by their largest weight; once n
  // documents are held, a prefix of that order whose bounds sum to no more
  // than the n-th weight cannot lift a document in (a later document that
  // only ties loses on docid), so only documents of the other ("essential")
  // leaves are candidates, and the prefix's lists are only probed for them.
  std::vector<size_t> order(k);
  for (size_t i = 0; i < k; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lists[a]->top < lists[b]->top; });
  std::vector<double> prefix(k + 1, 0.0);  // prefix[j]: bound of order[0..j)
  for (size_t j = 0; j < k; ++j) prefix[j + 1] = prefix[j] + lists[order[j]]->top;

  std::vector<size_t> pos(k, 0);
  std::vector<double> value(nodes.size(), 0.0);
  std::vector<uint8_t> has(nodes.size(), 0);
  auto better = [](const ScoredDoc& a, const ScoredDoc& b) {
    return a.weight > b.weight || (a.weight == b.weight && a.docid < b.docid);
  };
  out.reserve(std::min<size_t>(n, 4096));
  bool full = false;
  double theta = 0;  // the n-th weight, once full
  size_t essential = 0;  // order[essential..k) are essential
  constexpr Xapian::docid kEnd = std::numeric_limits<Xapian::docid>::max();
  while (true) {
    Xapian::docid d = kEnd;
    for (size_t j = essential; j < k; ++j) {
      const TermPostings& p = *lists[order[j]];
      const size_t at = pos[order[j]];
      if (at < p.docid.size()) d = std::min(d, p.docid[at]);
    }
    if (d == kEnd) break;
    double bound = 0;
    for (size_t j = essential; j < k; ++j) {
      const size_t leaf = order[j];
      const TermPostings& p = *lists[leaf];
      size_t& at = pos[leaf];
      if (at < p.docid.size() && p.docid[at] == d) {
        value[leaf] = p.weight[at];
        has[leaf] = 1;
        bound += value[leaf];
        ++at;
      }
    }
    if (full && (bound + prefix[essential]) * kSlack <= theta) {
      for (size_t i = 0; i < k; ++i) has[i] = 0;
      continue;
    }
    for (size_t j = 0; j < essential; ++j) {
      const size_t leaf = order[j];
      const TermPostings& p = *lists[leaf];
      size_t& at = pos[leaf];
      at = SkipTo(p.docid, at, d);
      if (at < p.docid.size() && p.docid[at] == d) {
        value[leaf] = p.weight[at];
        has[leaf] = 1;
      }
    }
    // The weight as Xapian's tree sums it: an OrPostList adds its children's
    // weights when both are on the document, else passes the one that is.
    for (size_t i = k; i < nodes.size(); ++i) {
      const Node& node = nodes[i];
      const bool l = has[node.l] != 0, r = has[node.r] != 0;
      has[i] = l || r;
      value[i] = l && r ? value[node.l] + value[node.r] : (l ? value[node.l] : value[node.r]);
    }
    const ScoredDoc doc{d, value[nodes.size() - 1]};
    for (size_t i = 0; i < k; ++i) has[i] = 0;
    if (!full) {
      out.push_back(doc);
      std::push_heap(out.begin(), out.end(), better);  // front: the worst held
      if (out.size() < n) continue;
      full = true;
    } else if (doc.weight > theta) {  // docids ascend: an equal weight loses the tie
      std::pop_heap(out.begin(), out.end(), better);
      out.back() = doc;
      std::push_heap(out.begin(), out.end(), better);
    } else {
      continue;
    }
    theta = out.front().weight;
    while (essential < k && prefix[essential + 1] * kSlack <= theta) ++essential;
  }
  std::sort_heap(out.begin(), out.end(), better);
  return out;
}

}  // namespace whoknows::indexer::internal
