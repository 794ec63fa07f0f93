#ifndef WHOKNOWS_ENGINE_CSR_VIEW_H_
#define WHOKNOWS_ENGINE_CSR_VIEW_H_

// Private: the one place that names the Boost CSR type and reads its
// (public but undocumented) arrays m_forward.m_rowstart / m_column /
// m_edge_properties. A Boost upgrade changes only this file.
//
// The edge property is one byte: the index of the edge's mask in `palette`
// (a graph rarely has more than a handful of distinct masks: one bit per
// visibility group, ORs of them on contact edges). Weights sit in their own
// array in edge order. Past 256 distinct masks `mask_full` holds every mask.

#include <vector>

#include "boost/graph/compressed_sparse_row_graph.hpp"
#include "whoknows/engine/graph.h"

namespace whoknows::engine {

using Csr = boost::compressed_sparse_row_graph<boost::directedS, boost::no_property, uint8_t, boost::no_property,
                                               VertexId, EdgeIndex>;

struct Graph::Impl {
  Csr csr;
  std::vector<float> weight;          // by edge
  std::vector<GroupBits> palette;     // mask id -> mask
  std::vector<GroupBits> mask_full;   // by edge, only past 256 distinct masks
  std::vector<float> out_weight;      // by vertex

  const EdgeIndex* rowstart() const { return csr.m_forward.m_rowstart.data(); }
  const VertexId* columns() const { return csr.m_forward.m_column.data(); }
  const uint8_t* mask_ids() const { return csr.m_forward.m_edge_properties.data(); }
  size_t rowstart_size() const { return csr.m_forward.m_rowstart.size(); }
  size_t columns_size() const { return csr.m_forward.m_column.size(); }
};

}  // namespace whoknows::engine

#endif  // WHOKNOWS_ENGINE_CSR_VIEW_H_
