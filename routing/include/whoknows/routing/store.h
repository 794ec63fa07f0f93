#ifndef WHOKNOWS_ROUTING_STORE_H_
#define WHOKNOWS_ROUTING_STORE_H_

// The durable routing log: entries and availability in the index's user
// metadata (one atomic commit per call, erased with the person by
// IndexWriter::ErasePerson), mirrored in a LoadModel for ranking.
//
// Thread-compatible for writes (the caller serialises them with its single
// IndexWriter); model() may be read concurrently with writes.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "whoknows/indexer/index.h"
#include "whoknows/routing/routing.h"

namespace whoknows::routing {

class RoutingStore {
 public:
  // Replaces the model with everything stored in the index. Malformed
  // entries are skipped and counted (bad_entries()), each logged by key.
  absl::Status Load(indexer::IndexReader* reader);

  // Writes one entry per person (same routing id) in one commit, then adds
  // them to the model. `e.person` is ignored; `people` are person ids.
  // Returns the routing id.
  absl::StatusOr<std::string> Record(indexer::IndexWriter* writer, RoutingEntry e,
                                     const std::vector<std::string>& people);
  // NotFound when the person has no such routing.
  absl::Status SetOutcome(indexer::IndexWriter* writer, const std::string& person, const std::string& routing_id,
                          Outcome outcome, int64_t time);
  absl::Status SetAvailability(indexer::IndexWriter* writer, const std::string& person, const Availability& a);
  // After IndexWriter::ErasePerson removed the stored data.
  void ErasePerson(const std::string& person) { model_.ErasePerson(person); }

  const LoadModel& model() const { return model_; }
  uint64_t bad_entries() const { return bad_; }

 private:
  LoadModel model_;
  uint64_t bad_ = 0;
  uint64_t salt_ = 0;
};

}  // namespace whoknows::routing

#endif  // WHOKNOWS_ROUTING_STORE_H_
