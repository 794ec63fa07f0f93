#ifndef WHOKNOWS_INDEXER_SHARDS_H_
#define WHOKNOWS_INDEXER_SHARDS_H_

// Private to the indexer: opening one shard location (a path or
// tcp://HOST:PORT served by xapian-tcpsrv). May throw Xapian::Error.

#include <xapian.h>

#include <string>
#include <string_view>

namespace whoknows::indexer::internal {

// True for "tcp://HOST:PORT"; sets host and port.
bool ParseTcpLocation(std::string_view location, std::string* host, unsigned* port);
Xapian::Database OpenShardForReading(const std::string& location);
Xapian::WritableDatabase OpenShardForWriting(const std::string& location);

}  // namespace whoknows::indexer::internal

#endif  // WHOKNOWS_INDEXER_SHARDS_H_
