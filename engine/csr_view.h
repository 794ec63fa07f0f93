#ifndef WHOKNOWS_ENGINE_CSR_VIEW_H_
#define WHOKNOWS_ENGINE_CSR_VIEW_H_

// Private: the one place that names the Boost CSR type and reads its
// (public but undocumented) arrays m_forward.m_rowstart / m_column /
// m_edge_properties. A Boost upgrade changes only this file.

#include <vector>

#include "boost/graph/compressed_sparse_row_graph.hpp"
#include "whoknows/engine/graph.h"

namespace whoknows::engine {

using Csr = boost::compressed_sparse_row_graph<boost::directedS, boost::no_property, EdgeProps,
                                               boost::no_property, VertexId, EdgeIndex>;

struct Graph::Impl {
  Csr csr;
  std::vector<float> out_weight;

  const EdgeIndex* rowstart() const { return csr.m_forward.m_rowstart.data(); }
  const VertexId* columns() const { return csr.m_forward.m_column.data(); }
  const EdgeProps* props() const { return csr.m_forward.m_edge_properties.data(); }
  size_t rowstart_size() const { return csr.m_forward.m_rowstart.size(); }
  size_t columns_size() const { return csr.m_forward.m_column.size(); }
};

}  // namespace whoknows::engine

#endif  // WHOKNOWS_ENGINE_CSR_VIEW_H_
