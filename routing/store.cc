#include "whoknows/routing/store.h"

#include <chrono>

#include "absl/strings/str_format.h"
#include "whoknows/base/log.h"
#include "whoknows/base/status_macros.h"

namespace whoknows::routing {

absl::Status RoutingStore::Load(indexer::IndexReader* reader) {
  WK_ASSIGN_OR_RETURN(auto entries, reader->ListMetadata("pd:"));
  model_.Clear();
  bad_ = 0;
  for (const auto& [key, value] : entries) {
    RoutingEntry e;
    Availability a;
    absl::StatusOr<std::string_view> kind = DecodeMetadata(key, value, &e, &a);
    if (!kind.ok()) {
      ++bad_;
      LogWarning("routing log: skipped %s", kind.status().message());
      continue;
    }
    if (*kind == "entry") {
      model_.Add(e);
    } else {
      model_.SetAvailability(e.person, a);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RoutingStore::Record(indexer::IndexWriter* writer, RoutingEntry e,
                                                 const std::vector<std::string>& people) {
  const uint64_t salt =
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^ (++salt_ << 48);
  e.routing_id = MakeRoutingId(e.question, e.time, salt);
  std::vector<std::pair<std::string, std::string>> kv;
  std::vector<RoutingEntry> added;
  for (const std::string& p : people) {
    RoutingEntry x = e;
    x.person = p;
    kv.emplace_back(EntryKey(p, x.routing_id), EncodeEntry(x));
    added.push_back(std::move(x));
  }
  WK_RETURN_IF_ERROR(writer->PutMetadata(kv));
  for (const RoutingEntry& x : added) model_.Add(x);
  return e.routing_id;
}

absl::Status RoutingStore::SetOutcome(indexer::IndexWriter* writer, const std::string& person,
                                      const std::string& routing_id, Outcome outcome, int64_t time) {
  WK_ASSIGN_OR_RETURN(RoutingEntry e, model_.Find(person, routing_id));
  e.outcome = outcome;
  e.outcome_time = time;
  WK_RETURN_IF_ERROR(writer->PutMetadata({{EntryKey(person, routing_id), EncodeEntry(e)}}));
  model_.SetOutcome(person, routing_id, outcome, time);
  return absl::OkStatus();
}

absl::Status RoutingStore::SetAvailability(indexer::IndexWriter* writer, const std::string& person,
                                           const Availability& a) {
  WK_RETURN_IF_ERROR(writer->PutMetadata({{AvailabilityKey(person), EncodeAvailability(person, a)}}));
  model_.SetAvailability(person, a);
  return absl::OkStatus();
}

}  // namespace whoknows::routing
