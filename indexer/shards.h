#ifndef WHOKNOWS_INDEXER_SHARDS_H_
#define WHOKNOWS_INDEXER_SHARDS_H_

// Private to the indexer: opening one shard location (a path or
// tcp://HOST:PORT served by xapian-tcpsrv). May throw Xapian::Error.

#include <xapian.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace whoknows::indexer::internal {

// True for "tcp://HOST:PORT"; sets host and port.
bool ParseTcpLocation(std::string_view location, std::string* host, unsigned* port);
Xapian::Database OpenShardForReading(const std::string& location);
Xapian::WritableDatabase OpenShardForWriting(const std::string& location);
// An Unavailable status (a remote shard failed) becomes one naming the remote
// shards among `locations` that do not answer now (each is probed):
// "shard tcp://H:P unavailable (of N shards; <note>): <message>". Any other
// status, or no shard found down, is returned as it is.
absl::Status NameDownShards(absl::Status s, const std::vector<std::string>& locations, std::string_view note);

}  // namespace whoknows::indexer::internal

#endif  // WHOKNOWS_INDEXER_SHARDS_H_
